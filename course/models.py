"""Networks that more than one notebook uses.

`FMNIST_Net` is the network of assignment 05 (students write its training
loop); assignment 06 adds dropout to it. Its two switches, `padding` and
`batch_norm`, are off by default: that plain network is the one 06 builds on,
while 05 trains it with both on, which gains about a point and a half on the
hard T-shirt-vs-shirt task for little extra time. LeNet-5 is not here: students
write it in assignment 05, and its reference lives with the grader (source/05_training_loop/probes.py).
"""
from torch import nn


class FMNIST_Net(nn.Module):
    """Two 3x3 conv blocks (32 and 64 filters) and two linear layers, for 28x28 grey images.

    `padding=1` keeps each convolution's border pixels (28 -> 14 -> 7 after the two poolings,
    instead of 26 -> 13 -> 11 -> 5); `batch_norm=True` adds a BatchNorm2d after each convolution.
    """

    def __init__(self, num_classes: int = 2, padding: int = 0, batch_norm: bool = False):
        super().__init__()

        def block(channels_in, channels_out):
            conv = nn.Conv2d(channels_in, channels_out, 3, padding=padding)
            norm = [nn.BatchNorm2d(channels_out)] if batch_norm else []
            return [conv, *norm, nn.ReLU(), nn.MaxPool2d(2)]

        side = ((28 + 2 * padding - 2) // 2 + 2 * padding - 2) // 2
        self.features = nn.Sequential(*block(1, 32), *block(32, 64))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class FashionNet(nn.Module):
    """06's best small network: three blocks of two 3x3 convolutions (each with batch norm and ReLU), each
    block ending in max pooling (28 -> 14 -> 7 -> 3), then one linear layer.

    Two convolutions per block see 5x5 neighbourhoods before each pooling for less than the cost of one
    wider layer: in a fixed two minutes this deeper, narrower network (16, 32, 64 filters) trained better
    than one convolution per block at 32, 64, 128 (see docs/figures.md). Convolutions followed by batch norm
    need no bias, since the norm's shift replaces it.
    """

    def __init__(self, num_classes: int = 10, widths: tuple = (16, 32, 64), dropout: float = 0.0):
        super().__init__()

        def convolution(channels_in, channels_out):
            return [nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False), nn.BatchNorm2d(channels_out),
                    nn.ReLU(inplace=True)]

        layers, channels = [], 1
        for width in widths:
            layers += [*convolution(channels, width), *convolution(width, width), nn.MaxPool2d(2)]
            channels = width
        side = 28 // 2 ** len(widths)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels * side * side, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
