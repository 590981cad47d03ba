"""The fixed X/O data of assignment 03 is consistent: the hidden Net4 test grades against it."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course import xo_reference as ref


def _pooled(image) -> np.ndarray:
    """conv with the stored filters, ReLU, 2x2 max pooling: what Net4 must compute."""
    weight = torch.from_numpy(ref.FILTERS).unsqueeze(1)
    bias = torch.from_numpy(ref.BIASES)
    return F.max_pool2d(F.relu(F.conv2d(ref.to_input(image), weight, bias)), 2, 2)[0].numpy()


def test_images_are_28x28_uint8_with_ink_on_a_dark_background():
    for image in (ref.X_IMAGE, ref.O_IMAGE):
        assert image.shape == (28, 28) and image.dtype == np.uint8
        assert image.max() > 200 and np.median(image) < 20
    assert not np.array_equal(ref.X_IMAGE, ref.O_IMAGE)


def test_filters_and_biases():
    assert ref.FILTERS.shape == (3, 5, 5) and ref.FILTERS.dtype == np.float32
    assert set(np.unique(ref.FILTERS)) == {-1.0, 1.0}
    diagonal, anti, cross = ref.FILTERS
    assert np.array_equal(diagonal, diagonal.T) and np.all(np.diag(diagonal) == 1)
    assert np.array_equal(anti, diagonal[:, ::-1])
    assert np.array_equal(cross, cross[::-1]) and np.array_equal(cross, cross[:, ::-1])
    assert np.array_equal(cross, cross.T)
    assert ref.BIASES.dtype == np.float32 and ref.BIASES.tolist() == [-4.0, -4.0, -12.0]
    assert len(ref.FILTER_NAMES) == 3


def test_to_input_scales_pixels_to_the_unit_interval():
    x = ref.to_input(ref.X_IMAGE)
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert torch.allclose(x[0, 0], torch.from_numpy(ref.X_IMAGE.astype(np.float32)) / 255)


@pytest.mark.parametrize("name", ["X", "O"])
def test_stored_pooled_output_is_reproduced_element_by_element(name):
    stored = getattr(ref, f"{name}_POOLED")
    assert stored.shape == (3, 12, 12) and stored.dtype == np.float32
    assert stored.min() >= 0.0
    computed = _pooled(getattr(ref, f"{name}_IMAGE"))
    assert np.abs(computed - stored).max() <= 0.001  # rounding to 3 decimals, float32
    assert np.abs(computed - stored).max() < ref.TOLERANCE


def test_an_nn_module_built_like_net4_reproduces_the_stored_x():
    conv = nn.Conv2d(1, 3, kernel_size=5)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(ref.FILTERS).unsqueeze(1))
        conv.bias.copy_(torch.tensor(ref.BIASES))
    net = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
    with torch.no_grad():
        out = net(ref.to_input(ref.X_IMAGE))[0].numpy()
    assert np.allclose(out, ref.X_POOLED, atol=ref.TOLERANCE, rtol=0)


def test_x_and_o_give_different_pooled_outputs():
    assert not np.allclose(ref.X_POOLED, ref.O_POOLED, atol=ref.TOLERANCE)
    # the cross filter fires on the X's crossing and nowhere on the O
    assert ref.X_POOLED[2].max() > 1.0 and ref.O_POOLED[2].max() == 0.0


def test_the_stored_x_separates_the_typical_net4_mistakes():
    """Each wrong network differs from the stored X somewhere, so an element-wise check catches it."""
    x = ref.to_input(ref.X_IMAGE)
    weight, bias = torch.from_numpy(ref.FILTERS).unsqueeze(1), torch.from_numpy(ref.BIASES)
    conv = F.conv2d(x, weight, bias)
    wrong = {
        "no ReLU": F.max_pool2d(conv, 2, 2),
        "average pooling": F.avg_pool2d(F.relu(conv), 2, 2),
        "no bias": F.max_pool2d(F.relu(F.conv2d(x, weight)), 2, 2),
    }
    for name, out in wrong.items():
        out = out[0].numpy()
        assert out.shape == ref.X_POOLED.shape
        assert not np.allclose(out, ref.X_POOLED, atol=ref.TOLERANCE, rtol=0), name
    assert F.max_pool2d(F.relu(conv), 2, 1).shape[-1] != 12
