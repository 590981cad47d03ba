"""Typical wrong answers for 07_conv_backprop; each must lose its exercise's points and only those.

Each entry: a name, the solution cell (`cell`) it replaces, the code a student
might type, and optionally `loses` (test cells that must score zero; by
default `test_<cell>`). `demo: True` puts it in carol's demo submission.
learn_kernel calls the student's own conv2d_backward, so a wrong `dw` loses both exercises.
"""

from pathlib import Path

from course.grading.semester.submissions import edited, solution_answers

SOLUTIONS = solution_answers(Path(__file__).resolve().parent / "07_conv_backprop.ipynb")
BACKWARD, MAX_POOL, AVG_POOL = SOLUTIONS["conv2d_backward"], SOLUTIONS["max_pool2d_backward"], SOLUTIONS["avg_pool2d_backward"]
CHECK, LEARN, IM2COL = SOLUTIONS["gradient_check"], SOLUTIONS["learn_kernel"], SOLUTIONS["im2col"]
SOFTMAX, TWO_LAYER = SOLUTIONS["softmax_cross_entropy_backward"], SOLUTIONS["two_layer_backward"]
# two_layer_backward calls the student's own softmax_cross_entropy_backward, so a wrong dlogits loses both.
BOTH_WARM_UPS = ["test_softmax_cross_entropy_backward", "test_two_layer_backward"]

WRONG = [
    # Exercise 2: softmax_cross_entropy_backward.
    {"name": "softmax cross-entropy backward: not divided by the batch size", "cell": "softmax_cross_entropy_backward",
     "demo": True, "loses": BOTH_WARM_UPS, "code": edited(SOFTMAX, ("    return grad / n\n", "    return grad\n"))},
    {"name": "softmax cross-entropy backward: y - p instead of p - y", "cell": "softmax_cross_entropy_backward",
     "loses": BOTH_WARM_UPS, "code": edited(SOFTMAX, ("    return grad / n\n", "    return -grad / n\n"))},
    {"name": "softmax cross-entropy backward: the logits instead of the probabilities", "cell": "softmax_cross_entropy_backward",
     "loses": BOTH_WARM_UPS, "code": edited(SOFTMAX, ("grad = softmax(logits)", "grad = logits.copy()"))},

    # Exercise 3: two_layer_backward.
    {"name": "two-layer backward: the gradient passes the ReLU ungated", "cell": "two_layer_backward", "demo": True,
     "code": edited(TWO_LAYER, ("dz = dh * (z > 0)", "dz = dh"))},
    {"name": "two-layer backward: bias gradients averaged over the batch", "cell": "two_layer_backward",
     "code": edited(TWO_LAYER, ("db2 = dlogits.sum(axis=0)", "db2 = dlogits.mean(axis=0)"),
                    ("db1 = dz.sum(axis=0)", "db1 = dz.mean(axis=0)"))},
    {"name": "two-layer backward: dW2 from the hidden layer before its ReLU", "cell": "two_layer_backward",
     "code": edited(TWO_LAYER, ("dW2 = h.T @ dlogits", "dW2 = z.T @ dlogits"))},

    # Exercise 4: conv2d_backward.
    {"name": "conv2d_backward: db of the first image only", "cell": "conv2d_backward", "demo": True,
     "code": edited(BACKWARD, ("db = dout.sum(axis=(0, 2, 3))", "db = dout[0].sum(axis=(1, 2))"))},
    {"name": "conv2d_backward: dx keeps the padding border", "cell": "conv2d_backward",
     "code": edited(BACKWARD, ("dx = dpadded[:, :, padding:padding + h, padding:padding + wd]", "dx = dpadded"))},
    {"name": "conv2d_backward: stride ignored when sending the gradient back to the input", "cell": "conv2d_backward",
     "code": edited(BACKWARD, ("dpadded[:, :, rows, cols] +=", "dpadded[:, :, i:i + kh, j:j + kw] +="))},
    {"name": "conv2d_backward: dw overwritten at every position instead of added up", "cell": "conv2d_backward",
     "loses": ["test_conv2d_backward", "test_learn_kernel"],
     "code": edited(BACKWARD, ("dw += np.tensordot", "dw = np.tensordot"))},
    {"name": "conv2d_backward: PyTorch's autograd does the work", "cell": "conv2d_backward",
     "loses": ["test_conv2d_backward", "test_learn_kernel"],
     "code": "def conv2d_backward(dout, x, w, b, stride=1, padding=0):\n"
             "    x, w, b = (torch.tensor(np.asarray(a, dtype=float), requires_grad=True) for a in (x, w, b))\n"
             "    F.conv2d(x, w, b, stride=stride, padding=padding).backward(torch.as_tensor(np.asarray(dout, dtype=float)))\n"
             "    return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()\n"},

    # Exercise 5a: max_pool2d_backward.
    {"name": "max pool backward: every tied maximum gets the gradient", "cell": "max_pool2d_backward", "demo": True,
     "code": edited(MAX_POOL, ("            i, j = np.unravel_index(np.argmax(window), window.shape)\n"
                               "            dx[top + i, left + j] += dout[r, c]\n",
                               "            tied = window == window.max()\n"
                               "            dx[top:top + kernel_size, left:left + kernel_size] += dout[r, c] * tied\n"))},
    {"name": "max pool backward: overlapping windows overwrite each other's gradient", "cell": "max_pool2d_backward",
     "code": edited(MAX_POOL, ("dx[top + i, left + j] += dout[r, c]", "dx[top + i, left + j] = dout[r, c]"))},
    {"name": "max pool backward: the last maximum of a tie, not the first", "cell": "max_pool2d_backward",
     "code": edited(MAX_POOL, ("np.unravel_index(np.argmax(window), window.shape)",
                               "np.unravel_index(window.size - 1 - np.argmax(window.reshape(-1)[::-1]), window.shape)"))},

    # Exercise 5b: avg_pool2d_backward.
    {"name": "avg pool backward: not divided by the window size", "cell": "avg_pool2d_backward",
     "code": edited(AVG_POOL, (" / kernel_size ** 2", ""))},
    {"name": "avg pool backward: divided by kernel_size, not its square", "cell": "avg_pool2d_backward",
     "code": edited(AVG_POOL, ("kernel_size ** 2", "kernel_size"))},
    {"name": "avg pool backward: overlapping windows overwrite each other's gradient", "cell": "avg_pool2d_backward",
     "code": edited(AVG_POOL, ("] += dout[r, c]", "] = dout[r, c]"))},

    # Exercise 1: numerical_gradient and relative_error.
    {"name": "gradient check: one-sided difference", "cell": "gradient_check", "demo": True,
     "code": edited(CHECK, ("x[index] = old - h\n", "x[index] = old\n"), ("/ (2 * h)", "/ h"))},
    {"name": "gradient check: the nudged entry is not put back", "cell": "gradient_check",
     "code": edited(CHECK, ("        x[index] = old\n        grad[index]", "        grad[index]"))},
    {"name": "gradient check: divided by h instead of 2h", "cell": "gradient_check",
     "code": edited(CHECK, ("/ (2 * h)", "/ h"))},
    {"name": "gradient check: |a + b| in the relative error's denominator", "cell": "gradient_check",
     "code": edited(CHECK, ("np.abs(a) + np.abs(b)", "np.abs(a + b)"))},

    # Exercise 6: learn_kernel.
    {"name": "learn kernel: climbs the gradient instead of descending", "cell": "learn_kernel", "demo": True,
     "code": edited(LEARN, ("kernel - learning_rate * dw", "kernel + learning_rate * dw"))},
    {"name": "learn kernel: records the summed squared error, not the mean", "cell": "learn_kernel",
     "code": edited(LEARN, ("np.mean(difference ** 2)", "np.sum(difference ** 2)"))},
    {"name": "learn kernel: takes dx for the kernel's gradient", "cell": "learn_kernel",
     "code": edited(LEARN, ("_, dw, _ = conv2d_backward", "dw, _, _ = conv2d_backward"))},

    # Exercise 7: im2col and conv2d_im2col.
    {"name": "im2col: stride ignored in the slices", "cell": "im2col", "demo": True,
     "code": edited(IM2COL, ("u:u + stride * (out_h - 1) + 1:stride", "u:u + out_h"),
                    ("v:v + stride * (out_w - 1) + 1:stride", "v:v + out_w"))},
    {"name": "im2col: window values ordered by kernel offset, then channel", "cell": "im2col",
     "code": edited(IM2COL, ("    return columns.reshape(n, c * kernel_h * kernel_w, out_h * out_w)",
                             "    return columns.transpose(0, 2, 3, 1, 4, 5).reshape(n, c * kernel_h * kernel_w, out_h * out_w)"))},
    {"name": "im2col: bias left out of conv2d_im2col", "cell": "im2col",
     "code": edited(IM2COL, ("@ columns + b[:, None]", "@ columns"))},
    {"name": "im2col: conv2d_im2col falls back on the loop conv2d_forward", "cell": "im2col",
     "code": edited(IM2COL, ("    columns = im2col(x, kh, kw, stride, padding)\n",
                             "    return conv2d_forward(x, w, b, stride, padding)\n"))},
    {"name": "im2col: PyTorch's unfold makes the columns", "cell": "im2col",
     "code": edited(IM2COL, ("    n, c, h, wd = x.shape\n",
                             "    return F.unfold(torch.from_numpy(x), (kernel_h, kernel_w), padding=padding, stride=stride).numpy()\n"
                             "    n, c, h, wd = x.shape\n"))},
]
