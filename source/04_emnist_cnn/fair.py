"""Correct but unusual answers for 04_emnist_cnn; each must keep full marks.

Written as small edits of the solution cell (`cell`), like the mistakes in mistakes.py, so they follow
the solution when it changes. The pipeline tests grade the first answer of every exercise as one
student, the second as another, and so on.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, fair = solution_edits(__file__)


FAIR = [
    fair("a helper function per layer kind", "layer_parameters",
         ("layer_parameters = {", "def _conv(c_in, c_out, k):\n    return c_in * c_out * k * k + c_out\n\n\n"
                                  "def _linear(n_in, n_out):\n    return n_in * n_out + n_out\n\n\n"
                                  "layer_parameters = {"),
         ('"conv1": 32 * 1 * 3 * 3 + 32', '"conv1": _conv(1, 32, 3)'),
         ('"conv2": 64 * 32 * 3 * 3 + 64', '"conv2": _conv(32, 64, 3)'),
         ('"fc1": 128 * 9216 + 128', '"fc1": _linear(64 * 12 * 12, 128)'),
         ('"fc2": 2 * 128 + 2', '"fc2": _linear(128, 2)')),
    fair("numpy integers, printed", "layer_parameters",
         ('"fc1": 128 * 9216 + 128', '"fc1": np.int64(128) * 9216 + 128'),
         ("}\n", "}\nprint(layer_parameters)\n")),
    fair("floats, built with dict()", "layer_parameters",
         ("layer_parameters = {\n", "layer_parameters = dict(**{\n"),
         ('"fc2": 2 * 128 + 2,\n}', '"fc2": 258.0,\n})')),

    fair("an nn.Sequential body with nn.Flatten", "EMNIST_Net",
         ("        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)\n"
          "        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)\n"
          "        self.pool = nn.MaxPool2d(2)\n"
          "        self.fc1 = nn.Linear(64 * 12 * 12, 128)\n"
          "        self.fc2 = nn.Linear(128, 2)\n",
          "        self.body = nn.Sequential(\n"
          "            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),\n"
          "            nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 2))\n"),
         ("        x = torch.relu(self.conv1(x))\n        x = torch.relu(self.conv2(x))\n        x = self.pool(x)\n"
          "        x = torch.flatten(x, 1)\n        x = torch.relu(self.fc1(x))\n        return self.fc2(x)",
          "        return self.body(x)")),
    fair("functional pooling, view, layers made in another order", "EMNIST_Net",
         ("        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)\n"
          "        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)\n"
          "        self.pool = nn.MaxPool2d(2)\n"
          "        self.fc1 = nn.Linear(64 * 12 * 12, 128)\n"
          "        self.fc2 = nn.Linear(128, 2)\n",
          "        self.output = nn.Linear(128, 2)\n"
          "        self.hidden = nn.Linear(9216, 128)\n"
          "        self.second = nn.Conv2d(32, 64, 3)\n"
          "        self.first = nn.Conv2d(1, 32, 3)\n"),
         ("        x = torch.relu(self.conv1(x))\n        x = torch.relu(self.conv2(x))\n        x = self.pool(x)\n"
          "        x = torch.flatten(x, 1)\n        x = torch.relu(self.fc1(x))\n        return self.fc2(x)",
          "        x = nn.functional.relu(self.second(nn.functional.relu(self.first(x))))\n"
          "        x = nn.functional.max_pool2d(x, kernel_size=2, stride=2)\n"
          "        return self.output(nn.functional.relu(self.hidden(x.view(x.size(0), -1))))")),
    fair("a warning and a shape print on stderr", "EMNIST_Net",
         ("class EMNIST_Net(", "import sys\nimport warnings\n\n\nclass EMNIST_Net("),
         ("        self.fc2 = nn.Linear(128, 2)\n",
          "        self.fc2 = nn.Linear(128, 2)\n        warnings.warn(\"EMNIST_Net expects 28x28 images\")\n"),
         ("        x = torch.flatten(x, 1)\n",
          "        x = torch.flatten(x, 1)\n        print(\"flattened\", tuple(x.shape), file=sys.stderr)\n")),

    fair("nn.functional.softmax", "predict_proba",
         ("torch.softmax(scores, dim=1)", "nn.functional.softmax(scores, dim=-1)")),
    fair("exp over sum, in float64, under inference_mode", "predict_proba",
         ("    with torch.no_grad():\n        scores = model(images)\n    return torch.softmax(scores, dim=1)",
          "    with torch.inference_mode():\n        scores = model(images).double()\n"
          "        scores = scores - scores.max(dim=1, keepdim=True).values\n"
          "        return scores.exp() / scores.exp().sum(dim=1, keepdim=True)")),
    fair("a warning for training mode, a print on stderr", "predict_proba",
         ("def predict_proba(", "import sys\nimport warnings\n\n\ndef predict_proba("),
         ("    model.eval()\n", "    if model.training:\n        warnings.warn(\"switching the model to eval mode\")\n"
                             "    model.eval()\n    print(f\"{len(images)} images\", file=sys.stderr)\n")),

    fair("one small function per kind of layer, lists for pairs", "layer_costs",
         ("def layer_costs(", "def _conv(shape, c_out, k, stride, padding):\n"
                              "    c_in, h, w = shape\n"
                              "    out = [c_out, (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1]\n"
                              "    return out, [c_in * c_out * k * k + c_out, out[0] * out[1] * out[2] * c_in * k * k]\n\n\n"
                              "def _pool(shape, k, stride):\n"
                              "    return [shape[0]] + [(n - k) // stride + 1 for n in shape[1:]], [0, 0]\n\n\n"
                              "def _gap(shape):\n"
                              "    return [shape[0], 1, 1], [0, 0]\n\n\n"
                              "def _linear(shape, n_out):\n"
                              "    n_in = 1\n"
                              "    for n in shape:\n"
                              "        n_in *= n\n"
                              "    return [n_out], [n_in * n_out + n_out, n_in * n_out]\n\n\n"
                              "_KINDS = {\"conv\": _conv, \"maxpool\": _pool, \"gap\": _gap, \"linear\": _linear}\n\n\n"
                              "def layer_costs("),
         (SOLUTIONS["layer_costs"][SOLUTIONS["layer_costs"].index("    shape = tuple(input_chw)"):],
          "    shape, result = list(input_chw), []\n"
          "    for kind, *arguments in layers:\n"
          "        shape, pair = _KINDS[kind](shape, *arguments)\n"
          "        result.append(pair)\n"
          "    return result")),
    fair("a pattern match on the tuples, numpy integers, a warning on stderr", "layer_costs",
         (SOLUTIONS["layer_costs"][SOLUTIONS["layer_costs"].index("    shape = tuple(input_chw)"):],
          "    import warnings\n"
          "    c, h, w = input_chw\n"
          "    result = []\n"
          "    if not layers:\n"
          "        warnings.warn(\"no layers: nothing to count\")\n"
          "    for layer in layers:\n"
          "        match layer:\n"
          "            case (\"conv\", c_out, k, stride, padding):\n"
          "                h, w = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1\n"
          "                result.append(np.array([c * c_out * k * k + c_out, h * w * c_out * c * k * k], dtype=np.int64))\n"
          "                c = c_out\n"
          "            case (\"maxpool\", k, stride):\n"
          "                h, w = (h - k) // stride + 1, (w - k) // stride + 1\n"
          "                result.append(np.zeros(2, dtype=np.int64))\n"
          "            case (\"gap\",):\n"
          "                h = w = 1\n"
          "                result.append(np.zeros(2, dtype=np.int64))\n"
          "            case (\"linear\", n_out):\n"
          "                n_in = c * h * w\n"
          "                result.append(np.array([n_in * n_out + n_out, n_in * n_out], dtype=np.int64))\n"
          "                c, h, w = n_out, 1, 1\n"
          "    return result")),
    fair("floats from math.floor of a true division, each layer printed", "layer_costs",
         ("def layer_costs(", "import math\n\n\ndef layer_costs("),
         ("out_h = (height + 2 * padding - k) // stride + 1", "out_h = math.floor((height + 2 * padding - k) / stride) + 1.0"),
         ("out_w = (width + 2 * padding - k) // stride + 1", "out_w = math.floor((width + 2 * padding - k) / stride) + 1.0"),
         ("    return result", "    for layer, pair in zip(layers, result):\n"
                             "        print(f\"{str(layer):<28} {pair}\")\n    return result")),
]
