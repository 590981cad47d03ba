"""Typical wrong answers for 01_convolution; each must lose its exercise's points and only those.

Each entry: a name, the solution cell (`cell`) it replaces, the code a student
might type, and optionally `loses` (test cells that must score zero; by
default `test_<cell>`). `demo: True` puts it in carol's demo submission.
"""

WRONG = [
    {"name": "by hand: summed instead of averaged", "cell": "by_hand",
     "code": "by_hand = np.array([[200.0, 600.0], [0.0, 200.0]])"},
    {"name": "by hand: transposed result", "cell": "by_hand",
     "code": "by_hand = np.array([[50.0, 0.0], [150.0, 50.0]])"},
    {"name": "output shape: off by one", "cell": "calculate_output_shape", "demo": True,
     "code": "def calculate_output_shape(image_shape, kernel_shape):\n"
             "    return (image_shape[0] - kernel_shape[0], image_shape[1] - kernel_shape[1])"},
    {"name": "output shape: rows and columns mixed up", "cell": "calculate_output_shape",
     "code": "def calculate_output_shape(image_shape, kernel_shape):\n"
             "    return (image_shape[0] - kernel_shape[0] + 1, image_shape[0] - kernel_shape[1] + 1)"},
    {"name": "convolution: kernel flipped (true convolution)", "cell": "convolution2d", "demo": True,
     "code": "def convolution2d(image, kernel):\n"
             "    image = np.asarray(image, dtype=float)\n"
             "    kernel = np.asarray(kernel, dtype=float)[::-1, ::-1]\n"
             "    rows, cols = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1\n"
             "    out = np.zeros((rows, cols))\n"
             "    for r in range(rows):\n"
             "        for c in range(cols):\n"
             "            out[r, c] = np.sum(image[r:r + kernel.shape[0], c:c + kernel.shape[1]] * kernel)\n"
             "    return out"},
    {"name": "convolution: loop stops one short", "cell": "convolution2d",
     "code": "def convolution2d(image, kernel):\n"
             "    image = np.asarray(image, dtype=float)\n"
             "    kernel = np.asarray(kernel, dtype=float)\n"
             "    kh, kw = kernel.shape\n"
             "    out = np.zeros((image.shape[0] - kh, image.shape[1] - kw))\n"
             "    for r in range(image.shape[0] - kh):\n"
             "        for c in range(image.shape[1] - kw):\n"
             "            out[r, c] = np.sum(image[r:r + kh, c:c + kw] * kernel)\n"
             "    return out"},
    {"name": "convolution: calls scipy instead of looping", "cell": "convolution2d",
     "code": "from scipy.signal import correlate2d\n"
             "def convolution2d(image, kernel):\n"
             "    return correlate2d(np.asarray(image, dtype=float), np.asarray(kernel, dtype=float), 'valid')"},
]
