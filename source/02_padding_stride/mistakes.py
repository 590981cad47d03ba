"""Typical wrong answers for 02_padding_stride; each must lose its exercise's points and only those.

Each entry: a name, the solution cell (`cell`) it replaces, the code a student
might type, and optionally `loses` (test cells that must score zero; by
default `test_<cell>`). `demo: True` puts it in carol's demo submission.
"""

from pathlib import Path

from course.grading.semester.submissions import edited, solution_answers

SOLUTIONS = solution_answers(Path(__file__).resolve().parent / "02_padding_stride.ipynb")

_SHAPE = ("def conv_output_shape(input_chw, n_filters, filter_chw, stride, padding):\n"
          "    channels, height, width = input_chw\n"
          "    filter_channels, kernel_h, kernel_w = filter_chw\n"
          "{check}"
          "    out_h = {h}\n"
          "    out_w = {w}\n"
          "{empty}"
          "    return ({c}, out_h, out_w)\n")
_CHANNEL_CHECK = ("    if filter_channels != channels:\n"
                  "        raise ValueError('channel mismatch')\n")
_EMPTY_CHECK = ("    if out_h < 1 or out_w < 1:\n"
                "        raise ValueError('empty output')\n")


def _shape(h="(height + 2 * padding - kernel_h) // stride + 1", w="(width + 2 * padding - kernel_w) // stride + 1",
           c="n_filters", check=_CHANNEL_CHECK, empty=_EMPTY_CHECK):
    return _SHAPE.format(h=h, w=w, c=c, check=check, empty=empty)


_CONV = ("def conv2d_forward(x, w, b, stride=1, padding=0):\n"
         "    x = np.asarray(x, dtype=float)\n"
         "    w = np.asarray(w, dtype=float)\n"
         "    b = np.asarray(b, dtype=float)\n"
         "    n, c, h, wd = x.shape\n"
         "    f, _, kh, kw = w.shape\n"
         "    padded = {pad}\n"
         "    out_h = (h + 2 * padding - kh) // stride + 1\n"
         "    out_w = (wd + 2 * padding - kw) // stride + 1\n"
         "    out = np.zeros((n, f, out_h, out_w))\n"
         "    for i in range(out_h):\n"
         "        for j in range(out_w):\n"
         "            patch = padded[:, :, {rows}, {cols}]\n"
         "            out[:, :, i, j] = {value}\n"
         "    return out\n")


def _conv(pad="np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
          rows="i * stride:i * stride + kh", cols="j * stride:j * stride + kw",
          value="np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b"):
    return _CONV.format(pad=pad, rows=rows, cols=cols, value=value)


_PARAMS = ("def linear_params(n_in, n_out):\n"
           "    return {linear}\n"
           "\n"
           "def conv_params(c_in, c_out, k):\n"
           "    return {conv}\n"
           "\n"
           "dense_total = linear_params(3 * 32 * 32, 256) + linear_params(256, 10)\n"
           "conv_total = conv_params(3, 16, 3) + conv_params(16, 32, 3) + linear_params({flat}, 10)\n")


def _params(linear="n_in * n_out + n_out", conv="c_in * c_out * k * k + c_out", flat="32 * 8 * 8"):
    return _PARAMS.format(linear=linear, conv=conv, flat=flat)


_FIELD = ("def receptive_field(layers):\n"
          "    size, jump = 1, 1\n"
          "    for kernel, stride in layers:\n"
          "{body}"
          "    return size\n")

WRONG = [
    # Exercise 1: the transposed kernel on the vertical band.
    {"name": "horizontal edges: copied the vertical-edge output", "cell": "horizontal_edges",
     "code": "horizontal_edges = np.zeros((5, 7))\nhorizontal_edges[:, 1] = 2\nhorizontal_edges[:, 5] = -2"},
    {"name": "horizontal edges: transposed the output shape too", "cell": "horizontal_edges", "demo": True,
     "code": "horizontal_edges = np.zeros((7, 5))"},
    {"name": "horizontal edges: the vertical answer turned on its side", "cell": "horizontal_edges",
     "code": "horizontal_edges = np.zeros((5, 7))\nhorizontal_edges[1, :] = 2\nhorizontal_edges[4, :] = -2"},

    # Exercise 2: conv_output_shape.
    {"name": "output shape: padding ignored", "cell": "conv_output_shape", "demo": True,
     "code": _shape(h="(height - kernel_h) // stride + 1", w="(width - kernel_w) // stride + 1")},
    {"name": "output shape: input channels instead of the number of filters", "cell": "conv_output_shape", "code": _shape(c="channels")},
    {"name": "output shape: padding added once, not on both sides", "cell": "conv_output_shape",
     "code": _shape(h="(height + padding - kernel_h) // stride + 1", w="(width + padding - kernel_w) // stride + 1")},
    {"name": "output shape: no ValueError for mismatched channels", "cell": "conv_output_shape", "code": _shape(check="")},
    {"name": "output shape: int() truncates towards zero, empty outputs slip through",
     "cell": "conv_output_shape",
     "code": _shape(h="int((height + 2 * padding - kernel_h) / stride) + 1",
                    w="int((width + 2 * padding - kernel_w) / stride) + 1")},

    # Exercise 3: flattened size.
    {"name": "flattened size: forgot the pooling", "cell": "flattened_size", "code": "flattened_size = 10 * 24 * 24"},
    {"name": "flattened size: forgot the channels", "cell": "flattened_size", "code": "flattened_size = 12 * 12"},
    {"name": "flattened size: pooled the 28x28 image, not the conv output", "cell": "flattened_size",
     "code": "flattened_size = 10 * 14 * 14"},

    # Exercise 4: parameter counts.
    {"name": "parameters: biases forgotten", "cell": "parameter_counts",
     "code": _params(linear="n_in * n_out", conv="c_in * c_out * k * k")},
    {"name": "parameters: conv filters without input channels", "cell": "parameter_counts", "demo": True,
     "code": _params(conv="c_out * k * k + c_out")},
    {"name": "parameters: flattened size without the pooling", "cell": "parameter_counts", "code": _params(flat="32 * 32 * 32")},

    # Exercise 5: conv2d_forward.
    {"name": "conv2d_forward: bias left out", "cell": "conv2d_forward",
     "code": _conv(value="np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))")},
    {"name": "conv2d_forward: stride ignored when slicing", "cell": "conv2d_forward", "code": _conv(rows="i:i + kh", cols="j:j + kw")},
    {"name": "conv2d_forward: padding only at the top and left", "cell": "conv2d_forward",
     "code": _conv(pad="np.pad(x, ((0, 0), (0, 0), (padding, 0), (padding, 0)))")},
    {"name": "conv2d_forward: kernel flipped", "cell": "conv2d_forward",
     "code": _conv(value="np.tensordot(patch, w[:, :, ::-1, ::-1], axes=([1, 2, 3], [1, 2, 3])) + b")},
    {"name": "conv2d_forward: only the first input channel", "cell": "conv2d_forward",
     "code": _conv(value="np.tensordot(patch[:, 0], w[:, 0], axes=([1, 2], [1, 2])) + b")},
    {"name": "conv2d_forward: delegates to PyTorch", "cell": "conv2d_forward",
     "code": "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
             "    return F.conv2d(torch.as_tensor(np.asarray(x, dtype=float)), torch.as_tensor(np.asarray(w, dtype=float)),\n"
             "                    torch.as_tensor(np.asarray(b, dtype=float)), stride=stride, padding=padding).numpy()"},

    # Exercise 6: receptive field.
    {"name": "receptive field: strides ignored", "cell": "receptive_field", "code": _FIELD.format(body="        size += kernel - 1\n")},
    {"name": "receptive field: jump updated before it is used", "cell": "receptive_field", "demo": True,
     "code": _FIELD.format(body="        jump *= stride\n        size += (kernel - 1) * jump\n")},
    {"name": "receptive field: kernels multiplied", "cell": "receptive_field", "code": _FIELD.format(body="        size *= kernel\n")},
    {"name": "output shape: the course's own output_size", "cell": "conv_output_shape",
     "code": edited(SOLUTIONS["conv_output_shape"],
                    ("    out_h = (height + 2 * padding - kernel_h) // stride + 1\n"
                     "    out_w = (width + 2 * padding - kernel_w) // stride + 1\n",
                     "    from course.explorers import output_size\n"
                     "    out_h = output_size(height, kernel_h, stride, padding)\n"
                     "    out_w = output_size(width, kernel_w, stride, padding)\n"))},
    {"name": "conv2d_forward: torch's conv2d reached with getattr and a string", "cell": "conv2d_forward",
     "code": edited(SOLUTIONS["conv2d_forward"],
                    ("    n, c, h, wd = x.shape\n",
                     "    import importlib\n"
                     "    library = importlib.import_module('torch')\n"
                     "    slide = getattr(library.nn.functional, 'conv' + '2d')\n"
                     "    t = library.from_numpy\n"
                     "    return slide(t(x), t(w), t(b), stride=stride, padding=padding).numpy()\n"
                     "    n, c, h, wd = x.shape\n"))},
]
