"""Typical wrong answers for 01_convolution; each must lose its exercise's points and only those.

Each entry: a name, the solution cell (`cell`) it replaces, the code a student
might type, and optionally `loses` (test cells that must score zero; by
default `test_<cell>`). `demo: True` puts it in carol's demo submission.
"""
from pathlib import Path

from course.grading.semester.submissions import edited, solution_answers

SOLUTIONS = solution_answers(Path(__file__).resolve().parent / "01_convolution.ipynb")

WRONG = [
    {"name": "by hand: summed instead of averaged", "cell": "by_hand", "code": "by_hand = np.array([[200.0, 600.0], [0.0, 200.0]])"},
    {"name": "by hand: transposed result", "cell": "by_hand", "code": "by_hand = np.array([[50.0, 0.0], [150.0, 50.0]])"},
    {"name": "output shape: off by one", "cell": "calculate_output_shape", "demo": True,
     "code": edited(SOLUTIONS["calculate_output_shape"], (" + 1", ""), (" + 1", ""))},
    {"name": "output shape: rows and columns mixed up", "cell": "calculate_output_shape",
     "code": edited(SOLUTIONS["calculate_output_shape"], ("image_shape[1] - kernel_shape[1]", "image_shape[0] - kernel_shape[1]"))},
    {"name": "convolution: kernel flipped (true convolution)", "cell": "convolution2d", "demo": True,
     "code": edited(SOLUTIONS["convolution2d"], ("dtype=float)\n    kh", "dtype=float)[::-1, ::-1]\n    kh"))},
    {"name": "convolution: loop stops one short", "cell": "convolution2d",
     "code": edited(SOLUTIONS["convolution2d"], ("- kh + 1, image.shape[1] - kw + 1", "- kh, image.shape[1] - kw"))},
    {"name": "convolution: calls scipy instead of looping", "cell": "convolution2d",
     "code": "from scipy.signal import correlate2d\n"
             "def convolution2d(image, kernel):\n"
             "    return correlate2d(np.asarray(image, dtype=float), np.asarray(kernel, dtype=float), 'valid')"},
    {"name": "convolution: scipy under another name, called from a helper", "cell": "convolution2d",
     "code": edited(SOLUTIONS["convolution2d"],
                    ("    output = np.zeros((rows, cols))\n", "    return _slide(image, kernel)\n    output = np.zeros((rows, cols))\n"))
     + "\n\ndef _slide(image, kernel):\n    from scipy.signal import correlate2d as _c\n    return _c(image, kernel, 'valid')\n"},
]
