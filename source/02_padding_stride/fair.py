"""Correct but unusual answers for 02_padding_stride; each must keep full marks.

Written as small edits of the solution cell (`cell`), like the mistakes in mistakes.py, so they follow
the solution when it changes. The pipeline tests grade the first answer of every exercise as one
student, the second as another, and so on.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, fair = solution_edits(__file__)


FAIR = [
    fair("integers", "horizontal_edges", ("np.zeros((5, 7))", "np.zeros((5, 7), dtype=int)")),
    fair("a list of lists", "horizontal_edges", ("np.zeros((5, 7))", "[[0] * 7 for _ in range(5)]")),
    fair("computed with a loop, in float32", "horizontal_edges",
         ("horizontal_edges = np.zeros((5, 7))",
          "_image = np.ones((6, 8), dtype=np.float32)\n_image[:, 2:6] = 0\n"
          "_kernel = np.array([[1, 1], [-1, -1]], dtype=np.float32)\n"
          "horizontal_edges = np.zeros((5, 7), dtype=np.float32)\n"
          "for _r in range(5):\n    for _c in range(7):\n"
          "        horizontal_edges[_r, _c] = (_image[_r:_r + 2, _c:_c + 2] * _kernel).sum()\n"
          "print(horizontal_edges)")),

    fair("math.floor of a true division", "conv_output_shape",
         ("def conv_output_shape(", "import math\n\n\ndef conv_output_shape("),
         ("(height + 2 * padding - kernel_h) // stride + 1", "math.floor((height + 2 * padding - kernel_h) / stride) + 1"),
         ("(width + 2 * padding - kernel_w) // stride + 1", "math.floor((width + 2 * padding - kernel_w) / stride) + 1")),
    fair("checks the padded size first, warns about a big stride", "conv_output_shape",
         ("    out_h =", "    import warnings\n    if kernel_h > height + 2 * padding or kernel_w > width + 2 * padding:\n"
                       "        raise ValueError(\"kernel larger than the padded input\")\n"
                       "    if stride > max(kernel_h, kernel_w):\n"
                       "        warnings.warn(\"the stride skips input pixels\")\n    out_h =")),
    fair("a helper per side, numpy integers, stderr print", "conv_output_shape",
         ("def conv_output_shape(", "import sys\n\n\ndef _side(n, k, s, p):\n"
                                    "    return np.int64((n + 2 * p - k) // s + 1)\n\n\ndef conv_output_shape("),
         ("    out_h = (height + 2 * padding - kernel_h) // stride + 1\n"
          "    out_w = (width + 2 * padding - kernel_w) // stride + 1\n",
          "    out_h, out_w = _side(height, kernel_h, stride, padding), _side(width, kernel_w, stride, padding)\n"
          "    print(\"output\", out_h, out_w, file=sys.stderr)\n")),

    fair("worked out step by step", "flattened_size",
         ("flattened_size = 10 * 12 * 12", "_side = (28 - 5 + 1) // 2\nflattened_size = 10 * _side * _side")),
    fair("a float", "flattened_size", ("10 * 12 * 12", "1440.0")),
    fair("a numpy integer, printed", "flattened_size",
         ("flattened_size = 10 * 12 * 12", "flattened_size = np.prod([10, 12, 12])\nprint(flattened_size)")),

    fair("numpy products", "parameter_counts",
         ("return n_in * n_out + n_out", "return int(np.prod([n_in, n_out])) + n_out"),
         ("return c_in * c_out * k * k + c_out", "return int(np.prod([c_in, c_out, k, k]) + c_out)")),
    fair("one helper for both, totals on stderr", "parameter_counts",
         ("def linear_params(", "import sys\n\n\ndef _weights_and_biases(weights, biases):\n"
                                "    return weights + biases\n\n\ndef linear_params("),
         ("return n_in * n_out + n_out", "return _weights_and_biases(n_in * n_out, n_out)"),
         ('print(f"dense network', 'print(dense_total, conv_total, file=sys.stderr)\nprint(f"dense network')),
    fair("totals summed over layer lists, with a warning", "parameter_counts",
         ("dense_total = linear_params(3 * 32 * 32, 256) + linear_params(256, 10)\n"
          "conv_total = conv_params(3, 16, 3) + conv_params(16, 32, 3) + linear_params(32 * 8 * 8, 10)\n",
          "import warnings\n"
          "dense_total = sum(linear_params(a, b) for a, b in [(3 * 32 * 32, 256), (256, 10)])\n"
          "conv_total = sum(conv_params(a, b, 3) for a, b in [(3, 16), (16, 32)]) + linear_params(2048, 10)\n"
          "warnings.warn(\"the conv network's first linear layer sees 8x8 maps\")\n")),

    fair("loops over filters and kernel offsets", "conv2d_forward",
         ("    for i in range(out_h):\n        for j in range(out_w):\n"
          "            patch = padded[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]\n"
          "            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b\n",
          "    for k in range(f):\n        out[:, k] = b[k]\n"
          "        for di in range(kh):\n            for dj in range(kw):\n"
          "                window = padded[:, :, di:di + stride * (out_h - 1) + 1:stride,"
          " dj:dj + stride * (out_w - 1) + 1:stride]\n"
          "                out[:, k] += np.einsum(\"nchw,c->nhw\", window, w[k, :, di, dj])\n")),
    fair("float32 arithmetic", "conv2d_forward",
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"),
         ("w = np.asarray(w, dtype=float)", "w = np.asarray(w, dtype=np.float32)"),
         ("b = np.asarray(b, dtype=float)", "b = np.asarray(b, dtype=np.float32)"),
         ("np.zeros((n, f, out_h, out_w))", "np.zeros((n, f, out_h, out_w), dtype=np.float32)")),
    fair("einsum per position, a tqdm bar on stderr, a warning", "conv2d_forward",
         ("def conv2d_forward(", "import sys\nimport warnings\n\nfrom tqdm import tqdm\n\n\ndef conv2d_forward("),
         ("    for i in range(out_h):", "    if stride > kh:\n        warnings.warn(\"the stride skips pixels\")\n"
                                      "    for i in tqdm(range(out_h), file=sys.stderr):"),
         ("np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b", "np.einsum(\"nchw,fchw->nf\", patch, w) + b")),

    fair("from the output back to the input", "receptive_field",
         ("    size, jump = 1, 1\n    for kernel, stride in layers:\n        size += (kernel - 1) * jump\n"
          "        jump *= stride\n",
          "    size = 1\n    for kernel, stride in reversed(layers):\n        size = size * stride + kernel - stride\n")),
    fair("recursive helper", "receptive_field",
         ("def receptive_field(", "def _field(layers, jump):\n    if not layers:\n        return 1\n"
                                  "    (kernel, stride), rest = layers[0], layers[1:]\n"
                                  "    return (kernel - 1) * jump + _field(rest, jump * stride)\n\n\n"
                                  "def receptive_field("),
         ("    size, jump = 1, 1\n    for kernel, stride in layers:\n        size += (kernel - 1) * jump\n"
          "        jump *= stride\n    return size", "    return _field(list(layers), 1)")),
    fair("numpy cumulative product, warns on no layers, prints on stderr", "receptive_field",
         ("def receptive_field(", "import sys\nimport warnings\n\n\ndef receptive_field("),
         ("    size, jump = 1, 1\n    for kernel, stride in layers:\n        size += (kernel - 1) * jump\n"
          "        jump *= stride\n    return size",
          "    if not layers:\n        warnings.warn(\"no layers: a unit sees one pixel\")\n        return 1\n"
          "    kernels = np.array([k for k, _ in layers])\n"
          "    jumps = np.cumprod([1] + [s for _, s in layers][:-1])\n"
          "    print(\"jumps\", jumps, file=sys.stderr)\n"
          "    return 1 + int(np.sum((kernels - 1) * jumps))")),
]
