"""Typical wrong answers for 06_regularization; each must lose its exercise's points and only those.

Each entry: a name, the solution cell (`cell`) it replaces, the code a student
might type, and optionally `loses` (test cells that must score zero; by
default `test_<cell>`). `demo: True` puts it in carol's demo submission.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, _batchnorm = solution_edits(__file__)

_HEAD = (
    "class FMNIST_Net2(nn.Module):\n"
    "    def __init__(self, num_classes=2, p_conv=0.25, p_fc=0.5):\n"
    "        super().__init__()\n"
)
_FORWARD = (
    "\n"
    "    def forward(self, x):\n"
    "        return self.classifier(self.features(x))\n"
)
_CONV = (
    "        self.features = nn.Sequential(\n"
    "            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),\n"
    "            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2){extra})\n"
)


def _net(features_extra: str, classifier: str, forward: str = _FORWARD) -> str:
    return _HEAD + _CONV.format(extra=features_extra) + classifier + forward


_CLASSIFIER_PLAIN = "        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, num_classes))\n"
_CLASSIFIER_DROPOUT = ("        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(),\n"
                       "                                        nn.Dropout(p_fc), nn.Linear(128, num_classes))\n")


def _augmentation(name: str, listing: str, **extra) -> dict:
    """A wrong get_augmentation_transforms that returns `listing`."""
    return {"name": f"augmentation: {name}", "cell": "get_augmentation_transforms",
            "code": f"def get_augmentation_transforms():\n    return {listing}", **extra}


WRONG = [
    {"name": "dropout net: no dropout at all (the 05 network)", "cell": "FMNIST_Net2", "demo": True, "code": _net("", _CLASSIFIER_PLAIN)},
    {"name": "dropout net: functional dropout that stays on in eval mode", "cell": "FMNIST_Net2",
     "code": "import torch.nn.functional as F\n" + _net("", _CLASSIFIER_PLAIN,
             "\n    def forward(self, x):\n"
             "        x = F.dropout(self.features(x), 0.25)\n"
             "        return self.classifier(x)\n")},
    {"name": "dropout net: dropout only in the classifier", "cell": "FMNIST_Net2", "code": _net("", _CLASSIFIER_DROPOUT)},
    {"name": "dropout net: the two probabilities swapped", "cell": "FMNIST_Net2",
     "code": _net(", nn.Dropout(p_fc)", _CLASSIFIER_DROPOUT.replace("Dropout(p_fc)", "Dropout(p_conv)"))},
    {"name": "dropout net: hidden layer of 64 instead of 128", "cell": "FMNIST_Net2",
     "code": _net(", nn.Dropout(p_conv)", _CLASSIFIER_DROPOUT.replace("128", "64"))},
    _augmentation("nothing random", "[v2.Pad(2), v2.CenterCrop(28)]"),
    _augmentation("random crop that shrinks the image", "[v2.RandomHorizontalFlip(), v2.RandomCrop(24)]", demo=True),
    _augmentation("rotation with expand=True grows the image", "[v2.RandomRotation(20, expand=True)]"),
    _augmentation("converts to a tensor itself", "[v2.RandomRotation(20), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]"),
    _augmentation("a Compose instead of a list", "v2.Compose([v2.RandomHorizontalFlip(), v2.RandomRotation(20)])"),
    _augmentation("upside-down flips (not a garment's label any more)", "[v2.RandomHorizontalFlip(), v2.RandomVerticalFlip()]"),
    _augmentation("rotations up to 180 degrees", "[v2.RandomRotation(180)]"),
    _batchnorm("unbiased variance for normalising too", "batchnorm2d_forward",
               ("var = x.var(dim=(0, 2, 3), correction=0)", "var = x.var(dim=(0, 2, 3))"),
               ("var * n / (n - 1)", "var")),
    _batchnorm("biased variance in the running estimate", "batchnorm2d_forward", ("var * n / (n - 1)", "var")),
    _batchnorm("forgets eps", "batchnorm2d_forward", ("torch.sqrt(var[None, :, None, None] + eps)",
                                                       "torch.sqrt(var[None, :, None, None])")),
    _batchnorm("batch statistics in evaluation mode too", "batchnorm2d_forward",
               ("    if training:\n", "    if True:\n")),
    _batchnorm("statistics per position over the batch only (axis 0)", "batchnorm2d_forward",
               ("mean = x.mean(dim=(0, 2, 3))", "mean = x.mean(dim=0)"),
               ("var = x.var(dim=(0, 2, 3), correction=0)", "var = x.var(dim=0, correction=0)"),
               ("mean[None, :, None, None]", "mean"), ("var[None, :, None, None]", "var"),
               ("n = x.numel() // x.shape[1]", "n = x.shape[0]")),
    _batchnorm("momentum weighs the old estimate", "batchnorm2d_forward",
               ("(1 - momentum) * running_mean + momentum * mean", "momentum * running_mean + (1 - momentum) * mean"),
               ("(1 - momentum) * running_var + momentum * var", "momentum * running_var + (1 - momentum) * var")),
]
