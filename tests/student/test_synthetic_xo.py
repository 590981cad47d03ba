"""The offline X/O stand-in: seeded, balanced, EMNIST-shaped, and not trivially separable."""
import numpy as np
import torch

from course import data, synthetic_xo


def test_same_seed_same_pixels_and_balanced_classes():
    first, labels = synthetic_xo.make_xo(True, per_class=20)
    again, _ = synthetic_xo.make_xo(True, per_class=20)
    other, _ = synthetic_xo.make_xo(False, per_class=20)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert first.shape == (40, 28, 28) and first.dtype == np.uint8
    assert (labels == synthetic_xo.LABEL_X).sum() == (labels == synthetic_xo.LABEL_O).sum() == 20


def test_letters_have_ink_near_the_middle_and_a_dark_background():
    images, _ = synthetic_xo.make_xo(True, per_class=30)
    assert images.max() > 200
    border = np.concatenate([images[:, :2].ravel(), images[:, -2:].ravel()])
    assert np.median(border) < 20 and images[:, 10:18, 10:18].mean() > border.mean()


def test_an_o_has_a_hole_and_an_x_has_a_centre_in_upright_orientation():
    images, labels = synthetic_xo.make_xo(True, per_class=100)
    upright = images.transpose(0, 2, 1).astype(float)
    centre = upright[:, 12:16, 12:16].mean(axis=(1, 2))
    assert centre[labels == synthetic_xo.LABEL_X].mean() > 2 * centre[labels == synthetic_xo.LABEL_O].mean()


def test_full_set_sizes_match_the_spec():
    assert synthetic_xo.TRAIN_PER_CLASS == 4800 and synthetic_xo.TEST_PER_CLASS == 800


def test_a_linear_model_does_not_reach_100_percent():
    torch.manual_seed(0)
    train, test = data.emnist_xo(True), data.emnist_xo(False)
    x, y = train.tensors[0].flatten(1), train.tensors[1]
    model = torch.nn.Linear(784, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(15):
        for start in range(0, len(x), 256):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[start:start + 256]), y[start:start + 256]).backward()
            optimizer.step()
    with torch.no_grad():
        accuracy = (model(test.tensors[0].flatten(1)).argmax(1) == test.tensors[1]).float().mean().item()
    assert 0.85 < accuracy < 1.0
