"""Networks that more than one notebook uses.

`FMNIST_Net` is the network of assignment 05 (students write its training
loop); assignment 06 adds dropout to it. `LeNet5` is the classic shape:
6@5x5, pool, 16@5x5, pool, 120, 84, 10.
"""
from torch import nn


class FMNIST_Net(nn.Module):
    """Two 3x3 conv blocks and two linear layers, for 28x28 grey images."""

    def __init__(self, num_classes: int = 2):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class LeNet5(nn.Module):
    """LeNet-5 with ReLU and max pooling; padding 2 keeps 28x28 inputs at LeNet's 32x32 geometry."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
