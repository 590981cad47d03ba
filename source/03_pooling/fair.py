"""Correct but unusual answers for 03_pooling; each must keep full marks.

Written as small edits of the solution cell (`cell`), like the mistakes in mistakes.py, so they follow
the solution when it changes. The pipeline tests grade the first answer of every exercise as one
student, the second as another, and so on.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, fair = solution_edits(__file__)


LOOP = ("    for r in range(rows):\n        for c in range(cols):\n            top, left = r * stride, c * stride\n")

FAIR = [
    fair("floats, and the pooled value as a plain number", "by_hand",
         ("[[8, 20],\n                         [14, 25]]", "[[8.0, 20.0], [14.0, 25.0]]"),
         ("np.array([[25]])", "25")),
    fair("float32 arrays, the pooled value as a 1-element vector", "by_hand",
         ("[[8, 20],\n                         [14, 25]])", "[[8, 20], [14, 25]], dtype=np.float32)"),
         ("np.array([[25]])", "np.array([25], dtype=np.float32)")),
    fair("computed with loops, printed", "by_hand",
         ("conv_by_hand = np.array([[8, 20],\n                         [14, 25]])\n"
          "pooled_by_hand = np.array([[25]])",
          "_image = np.array([[0, 0, 0, 1], [0, 0, 1, 2], [0, 0, 2, 3], [0, 1, 2, 3]])\n"
          "_kernel = np.array([[0, 0, 2], [0, 1, 2], [0, 2, 3]])\n"
          "conv_by_hand = np.array([[(_image[r:r + 3, c:c + 3] * _kernel).sum() for c in range(2)] for r in range(2)])\n"
          "pooled_by_hand = conv_by_hand.max()\nprint(conv_by_hand, pooled_by_hand)")),

    fair("keeps the input's dtype (integers stay integers)", "max_pool2d",
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x)"),
         ("np.zeros((rows, cols))", "np.zeros((rows, cols), dtype=x.dtype)")),
    fair("loops over the window offsets, float32", "max_pool2d",
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"),
         ("    out = np.zeros((rows, cols))\n" + LOOP +
          "            out[r, c] = np.max(x[top:top + kernel_size, left:left + kernel_size])\n",
          "    out = np.full((rows, cols), -np.inf, dtype=np.float32)\n"
          "    for i in range(kernel_size):\n        for j in range(kernel_size):\n"
          "            out = np.maximum(out, x[i:i + stride * (rows - 1) + 1:stride, j:j + stride * (cols - 1) + 1:stride])\n")),
    fair("a helper, a tqdm bar on stderr, a warning", "max_pool2d",
         ("def max_pool2d(", "import sys\nimport warnings\n\nfrom tqdm import tqdm\n\n\n"
                             "def _window(x, top, left, k):\n    return x[top:top + k, left:left + k]\n\n\n"
                             "def max_pool2d("),
         ("    for r in range(rows):", "    if stride < kernel_size:\n"
                                     "        warnings.warn(\"overlapping windows\")\n"
                                     "    for r in tqdm(range(rows), file=sys.stderr):"),
         ("np.max(x[top:top + kernel_size, left:left + kernel_size])", "_window(x, top, left, kernel_size).max()")),

    fair("sum over the window offsets, divided once", "avg_pool2d",
         ("    out = np.zeros((rows, cols))\n" + LOOP +
          "            out[r, c] = np.mean(x[top:top + kernel_size, left:left + kernel_size])\n",
          "    out = np.zeros((rows, cols))\n"
          "    for i in range(kernel_size):\n        for j in range(kernel_size):\n"
          "            out += x[i:i + stride * (rows - 1) + 1:stride, j:j + stride * (cols - 1) + 1:stride]\n"
          "    out /= kernel_size * kernel_size\n")),
    fair("float32", "avg_pool2d", ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"),
         ("np.zeros((rows, cols))", "np.zeros((rows, cols), dtype=np.float32)")),
    fair("columns first, sum / count, prints on stderr", "avg_pool2d",
         ("def avg_pool2d(", "import sys\n\n\ndef avg_pool2d("),
         (LOOP, "    print(f\"pooling {x.shape} with k={kernel_size}, s={stride}\", file=sys.stderr)\n"
                "    for c in range(cols):\n        for r in range(rows):\n"
                "            top, left = r * stride, c * stride\n"),
         ("np.mean(x[top:top + kernel_size, left:left + kernel_size])",
          "x[top:top + kernel_size, left:left + kernel_size].sum() / kernel_size ** 2")),

    fair("functional ReLU and pooling in forward", "Net4",
         ("    def forward(self, x):\n        return self.pool(self.relu(self.conv1(x)))",
          "    def forward(self, x):\n        return F.max_pool2d(torch.relu(self.conv1(x)), 2)")),
    fair("an nn.Sequential, weights set through .data", "Net4",
         ("        self.conv1 = nn.Conv2d(1, 3, kernel_size=5)\n"
          "        with torch.no_grad():\n"
          "            self.conv1.weight.copy_(torch.tensor(FILTERS).unsqueeze(1))\n"
          "            self.conv1.bias.copy_(torch.tensor(BIASES))\n"
          "        self.relu = nn.ReLU()\n"
          "        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)\n",
          "        conv = nn.Conv2d(1, 3, 5)\n"
          "        conv.weight.data = torch.as_tensor(FILTERS, dtype=torch.float32)[:, None].clone()\n"
          "        conv.bias.data = torch.as_tensor(BIASES, dtype=torch.float32).clone()\n"
          "        self.layers = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))\n"),
         ("return self.pool(self.relu(self.conv1(x)))", "return self.layers(x)")),
    fair("frozen weights, a warning and a print on stderr", "Net4",
         ("class Net4(", "import sys\nimport warnings\n\n\nclass Net4("),
         ("        self.relu = nn.ReLU()\n",
          "        self.conv1.requires_grad_(False)\n"
          "        warnings.warn(\"Net4's filters are fixed, not learned\")\n        self.relu = nn.ReLU()\n"),
         ("        return self.pool(self.relu(self.conv1(x)))",
          "        print(\"Net4 input\", tuple(x.shape), file=sys.stderr)\n"
          "        return self.pool(self.relu(self.conv1(x)))")),
]
