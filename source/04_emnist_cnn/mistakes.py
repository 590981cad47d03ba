"""Typical wrong answers for 04_emnist_cnn; each must lose its exercise's points and only those.

Each entry: a name, the solution cell (`cell`) it replaces, the code a student
might type, and optionally `loses` (test cells that must score zero; by
default `test_<cell>`). `demo: True` puts it in carol's demo submission.
"""
from pathlib import Path

from course.grading.semester.submissions import edited, solution_answers

SOLUTIONS = solution_answers(Path(__file__).resolve().parent / "04_emnist_cnn.ipynb")


def _net(init: str, forward: str) -> str:
    """An EMNIST_Net cell with the given `__init__` and `forward` bodies (8-space indented lines)."""
    return ("class EMNIST_Net(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            f"{init}\n"
            "    def forward(self, x):\n"
            f"{forward}")


def _counts(name: str, conv1: str, conv2: str, fc1: str, fc2: str) -> dict:
    """Wrong parameter counts, one expression per layer."""
    return {"name": f"parameter counts: {name}", "cell": "layer_parameters",
            "code": f"layer_parameters = {{'conv1': {conv1}, 'conv2': {conv2}, 'fc1': {fc1}, 'fc2': {fc2}}}"}


_LAYERS = ("        self.conv1 = nn.Conv2d(1, 32, 3)\n"
           "        self.conv2 = nn.Conv2d(32, 64, 3)\n"
           "        self.pool = nn.MaxPool2d(2)\n"
           "        self.fc1 = nn.Linear(9216, 128)\n"
           "        self.fc2 = nn.Linear(128, 2)")


WRONG = [
    _counts("biases forgotten", "32 * 3 * 3", "64 * 32 * 3 * 3", "128 * 9216", "2 * 128"),
    _counts("first linear layer fed the unpooled maps", "320", "18496", "128 * 64 * 24 * 24 + 128", "258"),
    _counts("input channels of conv2 ignored", "320", "64 * 3 * 3 + 64", "1179776", "258"),
    {"name": "EMNIST_Net: ReLU after the first conv missing", "cell": "EMNIST_Net", "demo": True,
     "code": _net(_LAYERS,
                  "        x = torch.relu(self.conv2(self.conv1(x)))\n"
                  "        x = torch.flatten(self.pool(x), 1)\n"
                  "        return self.fc2(torch.relu(self.fc1(x)))")},
    {"name": "EMNIST_Net: wrong input size of the first linear layer", "cell": "EMNIST_Net",
     "code": _net(_LAYERS.replace("nn.Linear(9216, 128)", "nn.Linear(64 * 13 * 13, 128)"),
                  "        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))\n"
                  "        x = torch.flatten(self.pool(x), 1)\n"
                  "        return self.fc2(torch.relu(self.fc1(x)))")},
    {"name": "EMNIST_Net: max pool after the first conv instead of the second", "cell": "EMNIST_Net",
     "code": _net(_LAYERS.replace("nn.Linear(9216, 128)", "nn.Linear(64 * 11 * 11, 128)"),
                  "        x = self.pool(torch.relu(self.conv1(x)))\n"
                  "        x = torch.flatten(torch.relu(self.conv2(x)), 1)\n"
                  "        return self.fc2(torch.relu(self.fc1(x)))")},
    {"name": "EMNIST_Net: softmax on the output", "cell": "EMNIST_Net",
     "code": _net(_LAYERS,
                  "        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))\n"
                  "        x = torch.flatten(self.pool(x), 1)\n"
                  "        return torch.softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)")},
    {"name": "predict_proba: softmax over the batch dimension", "cell": "predict_proba", "demo": True,
     "code": "def predict_proba(model, images):\n"
             "    model.eval()\n"
             "    with torch.no_grad():\n"
             "        return torch.softmax(model(images), dim=0)"},
    {"name": "predict_proba: raw scores returned", "cell": "predict_proba",
     "code": "def predict_proba(model, images):\n"
             "    model.eval()\n"
             "    with torch.no_grad():\n"
             "        return model(images)"},
    {"name": "predict_proba: model left in training mode", "cell": "predict_proba",
     "code": "def predict_proba(model, images):\n"
             "    with torch.no_grad():\n"
             "        return torch.softmax(model(images), dim=1)"},

    # Exercise 4: layer_costs.
    {"name": "layer costs: conv multiply-adds at the input's size, not the output's", "cell": "layer_costs", "demo": True,
     "code": edited(SOLUTIONS["layer_costs"], ("out_h * out_w * c_out * c_in * k * k", "height * width * c_out * c_in * k * k"))},
    {"name": "layer costs: pooling divides the size by the stride, whatever the window", "cell": "layer_costs",
     "code": edited(SOLUTIONS["layer_costs"], ("(height - k) // stride + 1, (width - k) // stride + 1",
                                               "height // stride, width // stride"))},
    {"name": "layer costs: a linear layer fed only the channels", "cell": "layer_costs",
     "code": edited(SOLUTIONS["layer_costs"], ("int(np.prod(shape))", "shape[0]"))},
    {"name": "layer costs: biases counted as multiply-adds", "cell": "layer_costs",
     "code": edited(SOLUTIONS["layer_costs"], ("out_h * out_w * c_out * c_in * k * k)", "out_h * out_w * c_out * (c_in * k * k + 1))"),
                    ("n_in * n_out))", "n_in * n_out + n_out))"))},
    {"name": "layer costs: global average pooling keeps the maps' size", "cell": "layer_costs",
     "code": edited(SOLUTIONS["layer_costs"], ("            shape = (shape[0], 1, 1)\n", ""))},
    {"name": "layer costs: conv parameters counted on a PyTorch copy of the layer", "cell": "layer_costs",
     "code": edited(SOLUTIONS["layer_costs"],
                    ("            result.append((c_in * c_out * k * k + c_out, ",
                     "            params = sum(p.numel() for p in torch.nn.Conv2d(c_in, c_out, k).parameters())\n"
                     "            result.append((params, "))},
]
