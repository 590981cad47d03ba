"""Correct but unusual answers for 07_conv_backprop; each must keep full marks.

Written as small edits of the solution cell (`cell`), like the mistakes in mistakes.py, so they follow
the solution when it changes. The pipeline tests grade the first answer of every exercise as one
student, the second as another, and so on.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, fair = solution_edits(__file__)

BACKWARD_LOOP = (
    "    for i in range(out_h):\n        for j in range(out_w):\n"
    "            rows = slice(i * stride, i * stride + kh)\n            cols = slice(j * stride, j * stride + kw)\n"
    "            upstream = dout[:, :, i, j]\n"
    "            dw += np.tensordot(upstream, padded[:, :, rows, cols], axes=([0], [0]))\n"
    "            dpadded[:, :, rows, cols] += np.tensordot(upstream, w, axes=([1], [0]))\n")
POOL_LOOP = ("    for r in range(rows):\n        for c in range(cols):\n            top, left = r * stride, c * stride\n")

FAIR = [
    fair("the one-hot labels from np.eye", "softmax_cross_entropy_backward",
         ("    n = logits.shape[0]\n    grad = softmax(logits)\n    grad[np.arange(n), labels] -= 1\n    return grad / n\n",
          "    return (softmax(logits) - np.eye(logits.shape[1])[labels]) / len(logits)\n")),
    fair("a loop over the rows with a softmax of its own", "softmax_cross_entropy_backward",
         ("    grad = softmax(logits)\n    grad[np.arange(n), labels] -= 1\n",
          "    grad = np.empty_like(logits)\n    for row in range(n):\n"
          "        e = np.exp(logits[row] - np.max(logits[row]))\n        grad[row] = e / np.sum(e)\n"
          "        grad[row, labels[row]] -= 1.0\n")),
    fair("float32, a print on stderr, a warning", "softmax_cross_entropy_backward",
         ("def softmax_cross_entropy_backward(", "import sys\nimport warnings\n\n\ndef softmax_cross_entropy_backward("),
         ("logits = np.asarray(logits, dtype=float)", "logits = np.asarray(logits, dtype=np.float32)\n"
                                                     "    print(\"dlogits for\", logits.shape, file=sys.stderr)\n"
                                                     "    warnings.warn(\"float32 gradients\")")),

    fair("the ReLU gate with np.where, einsum for the products", "two_layer_backward",
         ("dW2 = h.T @ dlogits", "dW2 = np.einsum(\"nh,nc->hc\", h, dlogits)"),
         ("dz = dh * (z > 0)", "dz = np.where(z > 0, dh, 0.0)"),
         ("dW1 = x.T @ dz", "dW1 = np.einsum(\"nd,nh->dh\", x, dz)")),
    fair("the forward pass written out again, the gate on h", "two_layer_backward",
         ("    logits, z, h = two_layer_forward(x, W1, b1, W2, b2)\n",
          "    z = x @ W1 + b1\n    h = np.maximum(z, 0)\n    logits = h @ W2 + b2\n"),
         ("dz = dh * (z > 0)", "dz = dh * (h > 0)")),
    fair("float32, a print on stderr, a warning", "two_layer_backward",
         ("def two_layer_backward(", "import sys\nimport warnings\n\n\ndef two_layer_backward("),
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)\n"
                                           "    print(\"backward through\", W1.shape, W2.shape, file=sys.stderr)\n"
                                           "    warnings.warn(\"float32 inputs\")")),

    fair("einsum at each position", "conv2d_backward",
         ("np.tensordot(upstream, padded[:, :, rows, cols], axes=([0], [0]))",
          "np.einsum(\"nf,nchw->fchw\", upstream, padded[:, :, rows, cols])"),
         ("np.tensordot(upstream, w, axes=([1], [0]))", "np.einsum(\"nf,fchw->nchw\", upstream, w)")),
    fair("loops over the kernel offsets instead of the positions", "conv2d_backward",
         (BACKWARD_LOOP,
          "    for u in range(kh):\n        for v in range(kw):\n"
          "            rows = slice(u, u + stride * (out_h - 1) + 1, stride)\n"
          "            cols = slice(v, v + stride * (out_w - 1) + 1, stride)\n"
          "            dw[:, :, u, v] = np.einsum(\"nfij,ncij->fc\", dout, padded[:, :, rows, cols])\n"
          "            dpadded[:, :, rows, cols] += np.einsum(\"nfij,fc->ncij\", dout, w[:, :, u, v])\n")),
    fair("float32 arithmetic, a tqdm bar on stderr, a warning", "conv2d_backward",
         ("def conv2d_backward(", "import sys\nimport warnings\n\nfrom tqdm import tqdm\n\n\ndef conv2d_backward("),
         ("dout = np.asarray(dout, dtype=float)", "dout = np.asarray(dout, dtype=np.float32)"),
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"),
         ("w = np.asarray(w, dtype=float)", "w = np.asarray(w, dtype=np.float32)\n"
                                           "    if stride > 1:\n        warnings.warn(\"strided backward pass\")"),
         ("    for i in range(out_h):", "    for i in tqdm(range(out_h), file=sys.stderr):")),

    fair("columns first, the output size worked out from x", "max_pool2d_backward",
         ("    rows, cols = dout.shape\n" + POOL_LOOP,
          "    rows = (x.shape[0] - kernel_size) // stride + 1\n    cols = (x.shape[1] - kernel_size) // stride + 1\n"
          "    for c in range(cols):\n        for r in range(rows):\n            top, left = r * stride, c * stride\n")),
    fair("divmod of the flat argmax, a one-hot mask", "max_pool2d_backward",
         ("            i, j = np.unravel_index(np.argmax(window), window.shape)\n"
          "            dx[top + i, left + j] += dout[r, c]\n",
          "            i, j = divmod(int(window.argmax()), window.shape[1])\n"
          "            mask = np.zeros(window.shape)\n            mask[i, j] = 1.0\n"
          "            dx[top:top + kernel_size, left:left + kernel_size] += mask * dout[r, c]\n")),
    fair("float32, a print on stderr, a warning", "max_pool2d_backward",
         ("def max_pool2d_backward(", "import sys\nimport warnings\n\n\ndef max_pool2d_backward("),
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"),
         ("    dx = np.zeros_like(x)\n", "    dx = np.zeros_like(x)\n"
                                       "    print(\"routing\", dout.shape, \"to\", x.shape, file=sys.stderr)\n"
                                       "    if stride < kernel_size:\n        warnings.warn(\"overlapping windows\")\n")),

    fair("a window of the gradient made with np.full", "avg_pool2d_backward",
         ("+= dout[r, c] / kernel_size ** 2", "+= np.full((kernel_size, kernel_size), dout[r, c] / (kernel_size * kernel_size))")),
    fair("loops over the window offsets", "avg_pool2d_backward",
         (POOL_LOOP + "            dx[top:top + kernel_size, left:left + kernel_size] += dout[r, c] / kernel_size ** 2\n",
          "    share = dout / kernel_size ** 2\n"
          "    for i in range(kernel_size):\n        for j in range(kernel_size):\n"
          "            dx[i:i + stride * (rows - 1) + 1:stride, j:j + stride * (cols - 1) + 1:stride] += share\n")),
    fair("float32, a warning", "avg_pool2d_backward",
         ("def avg_pool2d_backward(", "import warnings\n\n\ndef avg_pool2d_backward("),
         ("dout = np.asarray(dout, dtype=float)", "dout = np.asarray(dout, dtype=np.float32)\n"
                                                 "    warnings.warn(\"average pooling spreads the gradient\")"),
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)")),

    fair("a fresh copy for every nudge", "gradient_check",
         ("        old = x[index]\n        x[index] = old + h\n        plus = f(x)\n        x[index] = old - h\n"
          "        minus = f(x)\n        x[index] = old\n",
          "        step = np.zeros(x.shape)\n        step[index] = h\n        plus, minus = f(x + step), f(x - step)\n")),
    fair("np.nditer with a multi-index, a tqdm bar on stderr", "gradient_check",
         ("def numerical_gradient(", "import sys\n\nfrom tqdm import tqdm\n\n\ndef numerical_gradient("),
         ("    for index in np.ndindex(x.shape):\n",
          "    it = np.nditer(x, flags=[\"multi_index\"])\n"
          "    for _ in tqdm(it, total=x.size, file=sys.stderr):\n        index = it.multi_index\n")),
    fair("relative error entry by entry, printed on stderr, with a warning", "gradient_check",
         ("def numerical_gradient(", "import sys\nimport warnings\n\n\ndef numerical_gradient("),
         ("    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))",
          "    worst = 0.0\n    for p, q in zip(a.reshape(-1), b.reshape(-1)):\n"
          "        worst = max(worst, abs(p - q) / max(abs(p) + abs(q), 1e-8))\n"
          "    print(\"relative error\", worst, file=sys.stderr)\n"
          "    if worst > 1e-4:\n        warnings.warn(\"large relative error\")\n    return worst")),

    fair("an in-place update, the mean written out", "learn_kernel",
         ("float(np.mean(difference ** 2))", "float((difference ** 2).sum() / difference.size)"),
         ("        kernel = kernel - learning_rate * dw\n", "        kernel -= learning_rate * dw\n")),
    fair("a while loop, the losses as a NumPy array", "learn_kernel",
         ("    for _ in range(steps):\n", "    step = 0\n    while step < steps:\n        step += 1\n"),
         ("    return kernel[0, 0], losses", "    return kernel.reshape(kernel_shape), np.array(losses)")),
    fair("progress on stderr, a warning when the loss rises", "learn_kernel",
         ("def learn_kernel(", "import sys\nimport warnings\n\n\ndef learn_kernel("),
         ("        kernel = kernel - learning_rate * dw\n",
          "        kernel = kernel - learning_rate * dw\n"
          "        if len(losses) > 1 and losses[-1] > losses[-2]:\n            warnings.warn(\"the loss went up\")\n"
          "        if len(losses) % 100 == 0:\n            print(\"step\", len(losses), losses[-1], file=sys.stderr)\n")),

    fair("NumPy's sliding_window_view", "im2col",
         ("    columns = np.zeros((n, c, kernel_h, kernel_w, out_h, out_w))\n"
          "    for u in range(kernel_h):\n        for v in range(kernel_w):\n"
          "            columns[:, :, u, v] = padded[:, :, u:u + stride * (out_h - 1) + 1:stride,\n"
          "                                         v:v + stride * (out_w - 1) + 1:stride]\n",
          "    windows = np.lib.stride_tricks.sliding_window_view(padded, (kernel_h, kernel_w), axis=(2, 3))\n"
          "    columns = windows[:, :, ::stride, ::stride].transpose(0, 1, 4, 5, 2, 3)\n")),
    fair("one column per output position, with loops", "im2col",
         ("    columns = np.zeros((n, c, kernel_h, kernel_w, out_h, out_w))\n"
          "    for u in range(kernel_h):\n        for v in range(kernel_w):\n"
          "            columns[:, :, u, v] = padded[:, :, u:u + stride * (out_h - 1) + 1:stride,\n"
          "                                         v:v + stride * (out_w - 1) + 1:stride]\n"
          "    return columns.reshape(n, c * kernel_h * kernel_w, out_h * out_w)",
          "    columns = np.zeros((n, c * kernel_h * kernel_w, out_h * out_w))\n"
          "    for i in range(out_h):\n        for j in range(out_w):\n"
          "            window = padded[:, :, i * stride:i * stride + kernel_h, j * stride:j * stride + kernel_w]\n"
          "            columns[:, :, i * out_w + j] = window.reshape(n, -1)\n"
          "    return columns")),
    fair("einsum for the product, float32, a tqdm bar on stderr", "im2col",
         ("def im2col(", "import sys\n\nfrom tqdm import tqdm\n\n\ndef im2col("),
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"),
         ("    for u in range(kernel_h):", "    for u in tqdm(range(kernel_h), file=sys.stderr):"),
         ("np.zeros((n, c, kernel_h, kernel_w, out_h, out_w))", "np.zeros((n, c, kernel_h, kernel_w, out_h, out_w), dtype=np.float32)"),
         ("w.reshape(f, -1) @ columns + b[:, None]", "np.einsum(\"fk,nkl->nfl\", w.reshape(f, -1), columns) + b[:, None]")),
]
