"""Typical wrong answers for 03_pooling; each must lose its exercise's points and only those.

Each entry: a name, the solution cell (`cell`) it replaces, the code a student
might type, and optionally `loses` (test cells that must score zero; by
default `test_<cell>`). `demo: True` puts it in carol's demo submission.
"""

from pathlib import Path

from course.grading.semester.submissions import edited, solution_answers

SOLUTIONS = solution_answers(Path(__file__).resolve().parent / "03_pooling.ipynb")


def _by_hand(name: str, conv: str, pooled: str) -> dict:
    """Wrong numbers for the by-hand exercise."""
    return {"name": f"by hand: {name}", "cell": "by_hand",
            "code": f"conv_by_hand = np.array({conv})\npooled_by_hand = np.array({pooled})"}


def _pool(name: str, rows: str, cols: str, loop_rows: str, loop_cols: str, step: str, reduce: str) -> str:
    """A pooling function as a student writes it, with the parts that go wrong as parameters."""
    return (f"def {name}(x, kernel_size, stride=None):\n"
            "    x = np.asarray(x, dtype=float)\n"
            "    if stride is None:\n"
            "        stride = kernel_size\n"
            f"    rows = {rows}\n"
            f"    cols = {cols}\n"
            "    out = np.zeros((rows, cols))\n"
            f"    for r in range({loop_rows}):\n"
            f"        for c in range({loop_cols}):\n"
            f"            top, left = r * {step}, c * {step}\n"
            f"            out[r, c] = {reduce}(x[top:top + kernel_size, left:left + kernel_size])\n"
            "    return out")


_FLOOR = ("(x.shape[0] - kernel_size) // stride + 1", "(x.shape[1] - kernel_size) // stride + 1")
_CEIL = ("int(np.ceil((x.shape[0] - kernel_size) / stride)) + 1",
         "int(np.ceil((x.shape[1] - kernel_size) / stride)) + 1")
_BY_STRIDE = ("x.shape[0] // stride", "x.shape[1] // stride")


def _net4(conv: str = "nn.Conv2d(1, 3, kernel_size=5)", load: bool = True, bias: bool = True,
          pool: str = "nn.MaxPool2d(kernel_size=2, stride=2)",
          forward: str = "self.pool(self.relu(self.conv1(x)))") -> str:
    """Net4 as a student writes it, with one part changed."""
    lines = ["class Net4(nn.Module):",
             "    def __init__(self):",
             "        super().__init__()",
             f"        self.conv1 = {conv}"]
    if load:
        lines += ["        with torch.no_grad():",
                  "            self.conv1.weight.copy_(torch.tensor(FILTERS).unsqueeze(1))"]
        lines.append("            self.conv1.bias.copy_(torch.tensor(BIASES))" if bias
                     else "            self.conv1.bias.zero_()")
    lines += ["        self.relu = nn.ReLU()",
              f"        self.pool = {pool}",
              "",
              "    def forward(self, x):",
              f"        return {forward}"]
    return "\n".join(lines)


WRONG = [
    _by_hand("kernel flipped (true convolution)", "[[0, 1], [0, 6]]", "[[6]]"),
    _by_hand("average pooling instead of max", "[[8, 20], [14, 25]]", "[[16.75]]"),
    _by_hand("pooled the image, not the feature map", "[[8, 20], [14, 25]]", "[[0, 2], [1, 3]]"),

    {"name": "max pool: stride ignored (window always moves by its size)", "cell": "max_pool2d", "demo": True,
     "code": _pool("max_pool2d", "(x.shape[0] - kernel_size) // kernel_size + 1",
                   "(x.shape[1] - kernel_size) // kernel_size + 1", "rows", "cols", "kernel_size", "np.max")},
    {"name": "max pool: ceil instead of floor (partial windows kept)", "cell": "max_pool2d",
     "code": _pool("max_pool2d", *_CEIL, "rows", "cols", "stride", "np.max")},
    {"name": "max pool: output size n // stride", "cell": "max_pool2d",
     "code": _pool("max_pool2d", *_BY_STRIDE, "rows", "cols", "stride", "np.max")},

    {"name": "avg pool: sum instead of mean", "cell": "avg_pool2d",
     "code": _pool("avg_pool2d", *_FLOOR, "rows", "cols", "stride", "np.sum")},
    {"name": "avg pool: ceil instead of floor (partial windows averaged)", "cell": "avg_pool2d",
     "code": _pool("avg_pool2d", *_CEIL, "rows", "cols", "stride", "np.mean")},
    {"name": "avg pool: takes the maximum", "cell": "avg_pool2d", "code": _pool("avg_pool2d", *_FLOOR, "rows", "cols", "stride", "np.max")},

    {"name": "Net4: ReLU forgotten", "cell": "Net4", "demo": True, "code": _net4(forward="self.pool(self.conv1(x))")},
    {"name": "Net4: pooling with stride 1", "cell": "Net4", "code": _net4(pool="nn.MaxPool2d(kernel_size=2, stride=1)")},
    {"name": "Net4: average pooling instead of max", "cell": "Net4", "code": _net4(pool="nn.AvgPool2d(kernel_size=2, stride=2)")},
    {"name": "Net4: filters never loaded (random weights)", "cell": "Net4", "code": _net4(load=False)},
    {"name": "Net4: biases left at zero", "cell": "Net4", "code": _net4(bias=False)},
    {"name": "Net4: pooling before the convolution", "cell": "Net4", "code": _net4(forward="self.relu(self.conv1(self.pool(x)))")},
    {"name": "max pool: the course's own pooling (course.explorers.pool)", "cell": "max_pool2d",
     "code": edited(SOLUTIONS["max_pool2d"], ("    out = np.zeros((rows, cols))\n",
                                             "    from course.explorers import pool\n"
                                             "    return pool(x, kernel_size, stride, 'max')\n"
                                             "    out = np.zeros((rows, cols))\n"))},
    {"name": "avg pool: torch's avg_pool2d under another name", "cell": "avg_pool2d",
     "code": edited(SOLUTIONS["avg_pool2d"], ("    out = np.zeros((rows, cols))\n",
                                             "    from torch.nn.functional import avg_pool2d as smooth\n"
                                             "    from torch import from_numpy\n"
                                             "    return smooth(from_numpy(x)[None, None], kernel_size, stride)[0, 0].numpy()\n"
                                             "    out = np.zeros((rows, cols))\n"))},
]
