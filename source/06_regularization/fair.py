"""Correct but unusual answers for 06_regularization; each must keep full marks.

Written as small edits of the solution cell (`cell`), like the mistakes in mistakes.py, so they follow
the solution when it changes. The pipeline tests grade the first answer of every exercise as one
student, the second as another, and so on. The augmentations are other valid choices: any random,
label-preserving change that keeps a 28x28 image works.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, fair = solution_edits(__file__)


AUGMENTATIONS = "    return [\n        v2.RandomHorizontalFlip(),\n        v2.RandomRotation(20),\n    ]"

FAIR = [
    fair("keyword arguments, probabilities kept as attributes", "FMNIST_Net2",
         ("        super().__init__()\n", "        super().__init__()\n        self.p_conv, self.p_fc = p_conv, p_fc\n"),
         ("nn.Dropout(p_conv)", "nn.Dropout(p=self.p_conv)"),
         ("nn.Dropout(p_fc)", "nn.Dropout(p=self.p_fc, inplace=False)"),
         ("nn.Conv2d(1, 32, 3)", "nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3)")),
    fair("layers built from lists, forward in two steps", "FMNIST_Net2",
         ("        self.features = nn.Sequential(\n"
          "            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),\n"
          "            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),\n"
          "            nn.Dropout(p_conv),\n        )\n",
          "        layers = []\n        for c_in, c_out in [(1, 32), (32, 64)]:\n"
          "            layers += [nn.Conv2d(c_in, c_out, 3), nn.ReLU(), nn.MaxPool2d(kernel_size=2)]\n"
          "        self.features = nn.Sequential(*layers, nn.Dropout(p_conv))\n"),
         ("        return self.classifier(self.features(x))",
          "        x = self.features(x)\n        return self.classifier(x)")),
    fair("a warning for odd probabilities, a print on stderr", "FMNIST_Net2",
         ("class FMNIST_Net2(", "import sys\nimport warnings\n\n\nclass FMNIST_Net2("),
         ("        super().__init__()\n", "        super().__init__()\n        if p_fc > 0.8 or p_conv > 0.8:\n"
                                        "            warnings.warn(\"very strong dropout\")\n"
                                        "        print(f\"dropout {p_conv} and {p_fc}\", file=sys.stderr)\n")),

    fair("small shifts and rotations (RandomAffine) and a flip", "get_augmentation_transforms",
         (AUGMENTATIONS, "    return [v2.RandomAffine(degrees=10, translate=(0.1, 0.1)), v2.RandomHorizontalFlip(p=0.5)]")),
    fair("padded random crops and a flip, the older transforms API", "get_augmentation_transforms",
         ("def get_augmentation_transforms(", "from torchvision import transforms as T\n\n\n"
                                              "def get_augmentation_transforms("),
         (AUGMENTATIONS, "    return [T.RandomCrop(28, padding=2), T.RandomHorizontalFlip()]")),
    fair("a list built step by step, a warning, a print on stderr", "get_augmentation_transforms",
         ("def get_augmentation_transforms(", "import sys\nimport warnings\n\n\ndef get_augmentation_transforms("),
         (AUGMENTATIONS, "    transforms = [v2.RandomRotation(degrees=(-15, 15))]\n"
                         "    transforms.append(v2.RandomHorizontalFlip())\n"
                         "    transforms.append(v2.RandomApply([v2.ColorJitter(brightness=0.2)], p=0.3))\n"
                         "    warnings.warn(\"no vertical flips: upside-down clothes are not in the test set\")\n"
                         "    print(len(transforms), \"transforms\", file=sys.stderr)\n    return transforms")),

    fair("flattened channels, sums by hand, in-place running updates", "batchnorm2d_forward",
         ("        mean = x.mean(dim=(0, 2, 3))\n"
          "        var = x.var(dim=(0, 2, 3), correction=0)\n"
          "        n = x.numel() // x.shape[1]\n"
          "        running_mean = (1 - momentum) * running_mean + momentum * mean\n"
          "        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)\n",
          "        values = x.transpose(0, 1).reshape(x.shape[1], -1)\n"
          "        n = values.shape[1]\n"
          "        mean = values.sum(dim=1) / n\n"
          "        squares = ((values - mean[:, None]) ** 2).sum(dim=1)\n"
          "        var = squares / n\n"
          "        running_mean.mul_(1 - momentum).add_(momentum * mean)\n"
          "        running_var.mul_(1 - momentum).add_(momentum * squares / (n - 1))\n")),
    fair("torch.var_mean, view and rsqrt", "batchnorm2d_forward",
         ("        mean = x.mean(dim=(0, 2, 3))\n        var = x.var(dim=(0, 2, 3), correction=0)\n",
          "        var, mean = torch.var_mean(x, dim=[0, 2, 3], unbiased=False)\n"),
         ("    x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + eps)\n"
          "    out = gamma[None, :, None, None] * x_hat + beta[None, :, None, None]\n",
          "    shape = (1, -1, 1, 1)\n"
          "    scale = gamma.view(shape) * torch.rsqrt(var.view(shape) + eps)\n"
          "    out = (x - mean.view(shape)) * scale + beta.view(shape)\n")),
    fair("numpy inside, a warning, a print on stderr", "batchnorm2d_forward",
         ("def batchnorm2d_forward(", "import sys\nimport warnings\n\n\ndef batchnorm2d_forward("),
         ("    if training:\n", "    if x.shape[0] == 1:\n"
                               "        warnings.warn(\"a batch of one image: the statistics are noisy\")\n"
                               "    print(\"batch norm on\", tuple(x.shape), file=sys.stderr)\n"
                               "    if training:\n"),
         ("        var = x.var(dim=(0, 2, 3), correction=0)\n",
          "        var = torch.from_numpy(np.var(x.numpy(), axis=(0, 2, 3), dtype=np.float64)).float()\n")),
]
