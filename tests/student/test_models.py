"""The shared networks: shapes, parameter counts, and that they train."""

import pytest
import torch
from torch import nn

from course import models


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("options,parameters", [
    ({}, 224_002),                                      # 32*9+32 + 64*32*9+64 + 1600*128+128 + 128*2+2
    ({"padding": 1}, 420_610),                          # the flattened maps grow from 64*5*5 to 64*7*7
    ({"batch_norm": True}, 224_194),                    # + 2*(32+64) batch-norm scales and shifts
    ({"padding": 1, "batch_norm": True}, 420_802),
])
def test_fmnist_net_parameter_counts(options, parameters):
    assert _count(models.FMNIST_Net(2, **options)) == parameters


@pytest.mark.parametrize("num_classes", [2, 3, 10])
@pytest.mark.parametrize("options", [{}, {"padding": 1, "batch_norm": True}])
def test_fmnist_net_output_shape(num_classes, options):
    model = models.FMNIST_Net(num_classes, **options)
    assert model(torch.randn(5, 1, 28, 28)).shape == (5, num_classes)


@pytest.mark.parametrize("padding,maps", [(0, (64, 5, 5)), (1, (64, 7, 7))])
def test_fmnist_net_feature_maps(padding, maps):
    model = models.FMNIST_Net(2, padding=padding)
    assert isinstance(model.features, nn.Sequential) and isinstance(model.classifier, nn.Sequential)
    assert model.features(torch.randn(2, 1, 28, 28)).shape == (2, *maps)


def test_fmnist_net_default_is_the_plain_network_06_builds_on():
    """06's FMNIST_Net2 copies this exact layer list; the switches must not change the default."""
    kinds = [type(m) for m in models.FMNIST_Net(10).modules() if not list(m.children())]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d,
                     nn.Flatten, nn.Linear, nn.ReLU, nn.Linear]
    assert models.FMNIST_Net(10).classifier[1].in_features == 64 * 5 * 5


def test_batch_norm_variant_has_one_norm_per_convolution():
    model = models.FMNIST_Net(2, batch_norm=True)
    norms = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    assert [n.num_features for n in norms] == [32, 64]


@pytest.mark.parametrize("make", [
    lambda: models.FMNIST_Net(3),
    lambda: models.FMNIST_Net(3, padding=1, batch_norm=True),
], ids=["fmnist", "fmnist-padded-bn"])
def test_forward_backward_reaches_every_parameter_and_learns(make):
    torch.manual_seed(0)
    model = make()
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(24, 1, 28, 28, generator=generator)
    labels = torch.arange(24) % 3
    images[labels == 1, :, :14] += 1.5          # something to learn: where the bright half is
    images[labels == 2, :, 14:] += 1.5
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(8):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_same_seed_same_weights():
    torch.manual_seed(5)
    first = models.FMNIST_Net(2, padding=1, batch_norm=True).state_dict()
    torch.manual_seed(5)
    second = models.FMNIST_Net(2, padding=1, batch_norm=True).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize("widths,parameters", [
    # convolutions 1*16*9 + 16*16*9 + 16*32*9 + 32*32*9 + 32*64*9 + 64*64*9 (no biases) = 71,568,
    # six norms 2*2*(16+32+64) = 448, linear 64*3*3*10 + 10 = 5,770
    ((16, 32, 64), 77_786),
    ((8, 16, 32), 21_042),    # a quarter of the convolution weights, half of the norms and the linear layer
])
def test_fashion_net_parameter_counts_and_output_shape(widths, parameters):
    model = models.FashionNet(num_classes=10, widths=widths)
    assert _count(model) == parameters
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 6
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 3

