"""Correct but unusual answers for 01_convolution; each must keep full marks.

Written as small edits of the solution cell (`cell`), like the mistakes in mistakes.py, so they follow
the solution when it changes. The pipeline tests grade the first answer of every exercise as one
student, the second as another, and so on.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, fair = solution_edits(__file__)


FAIR = [
    fair("integers", "by_hand", ("np.array([[50.0, 150.0],\n                    [0.0, 50.0]])",
                                 "np.array([[50, 150], [0, 50]])")),
    fair("a plain list, float32", "by_hand", ("np.array([[50.0, 150.0],\n                    [0.0, 50.0]])",
                                              "[[np.float32(50), np.float32(150)], [0.0, 50.0]]")),
    fair("computed with a loop, printing it", "by_hand",
         ("by_hand = np.array([[50.0, 150.0],\n                    [0.0, 50.0]])",
          "_img = np.array([[0, 200, 200], [0, 0, 200], [0, 0, 0]])\n"
          "by_hand = np.zeros((2, 2))\n"
          "for r in range(2):\n"
          "    for c in range(2):\n"
          "        by_hand[r, c] = _img[r:r + 2, c:c + 2].mean()\n"
          "print(by_hand)")),

    fair("numpy arithmetic on the shapes", "calculate_output_shape",
         ("return (image_shape[0] - kernel_shape[0] + 1, image_shape[1] - kernel_shape[1] + 1)",
          "return tuple(np.subtract(image_shape, kernel_shape) + 1)")),
    fair("a list, and a warning for a kernel as big as the image", "calculate_output_shape",
         ("    return (", "    import warnings\n    if tuple(kernel_shape) == tuple(image_shape):\n"
                        "        warnings.warn(\"the kernel covers the whole image: one output pixel\")\n"
                        "    return ["),
         ("+ 1)", "+ 1]")),
    fair("a helper per side, printing on stderr", "calculate_output_shape",
         ("def calculate_output_shape(", "import sys\n\n\ndef _side(n, k):\n    return n - k + 1\n\n\n"
                                         "def calculate_output_shape("),
         ("    return (image_shape[0] - kernel_shape[0] + 1, image_shape[1] - kernel_shape[1] + 1)",
          "    print(\"shape of\", image_shape, \"with\", kernel_shape, file=sys.stderr)\n"
          "    return tuple(_side(n, k) for n, k in zip(image_shape, kernel_shape))")),

    fair("float32 arithmetic", "convolution2d", ("dtype=float)\n    kernel", "dtype=np.float32)\n    kernel"),
         ("kernel, dtype=float)", "kernel, dtype=np.float32)"), ("np.zeros((rows, cols))",
                                                                  "np.zeros((rows, cols), dtype=np.float32)")),
    fair("loops over the kernel, not the output; prints on stderr", "convolution2d",
         ("def convolution2d(", "import sys\n\n\ndef convolution2d("),
         ("    for r in range(rows):\n        for c in range(cols):\n"
          "            output[r, c] = np.sum(image[r:r + kh, c:c + kw] * kernel)\n",
          "    for i in range(kh):\n        for j in range(kw):\n"
          "            output += kernel[i, j] * image[i:i + rows, j:j + cols]\n"
          "    print(f\"convolved a {image.shape} image\", file=sys.stderr)\n")),
    fair("columns first, a tqdm bar on stderr, a warning", "convolution2d",
         ("def convolution2d(", "import sys\nimport warnings\n\nfrom tqdm import tqdm\n\n\ndef convolution2d("),
         ("    for r in range(rows):\n        for c in range(cols):\n"
          "            output[r, c] = np.sum(image[r:r + kh, c:c + kw] * kernel)\n",
          "    if kh == kw == 1:\n        warnings.warn(\"a 1x1 kernel only scales the image\")\n"
          "    for c in tqdm(range(cols), file=sys.stderr):\n        for r in range(rows):\n"
          "            output[r, c] = (image[r:r + kh, c:c + kw] * kernel).sum()\n")),
]
