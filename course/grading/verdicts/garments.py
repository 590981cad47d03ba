"""A fixed garment classifier for judging augmentations by what they do to the label.

06 asks for transforms that keep a garment what it is. Whether a transform does
is judged by behaviour: a small CNN the grader trains once (seeded, on clean and
mildly shifted, rotated and mirrored Fashion-MNIST images) must recognise the
augmented images about as well as the originals. An upside-down boot, a coat
turned by 90 degrees, an inverted or mostly erased shirt is no longer recognised;
a small rotation, shift or a left-right mirror is.

The weights are cached beside the data (`<data>/grader-cache/`), so a grading
process trains at most once (about 15 s on one core) and later ones load them.
"""
from __future__ import annotations

import hashlib
import os
import tempfile

import numpy as np

from ...paths import data_root

VERSION = "garments-v1: seed 0, 20000 images, 2 epochs"
TRAIN_IMAGES, EPOCHS, SEED = 20000, 2, 0
_MODEL = None


def _network():
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def _train():
    import torch
    from torch import nn
    from torchvision.transforms import v2

    from ... import data

    train = data.fashion_mnist(train=True)
    generator = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    images = train.data[:TRAIN_IMAGES].float().div(255).unsqueeze(1)
    labels = train.targets[:TRAIN_IMAGES]
    model = _network()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    mild = v2.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1))
    for _ in range(EPOCHS):
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), 128):
            batch = order[start:start + 128]
            x = torch.stack([mild(image) for image in images[batch]])
            x = torch.where(torch.rand(len(x), 1, 1, 1, generator=generator) < 0.5, x.flip(-1), x)
            loss = nn.functional.cross_entropy(model(x), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def classifier():
    """The fixed classifier (trained once, then loaded from the cache)."""
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    import torch

    cache = data_root() / "grader-cache" / f"{hashlib.sha256(VERSION.encode()).hexdigest()[:16]}.pt"
    model = _network()
    if cache.is_file():
        model.load_state_dict(torch.load(cache, weights_only=True))
    else:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.enable_grad():  # a judge may be called with gradients off: training needs them
                model = _train()
        finally:
            torch.set_num_threads(threads)
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=cache.parent, suffix=".partial")
        os.close(handle)
        torch.save(model.state_dict(), partial)
        os.replace(partial, cache)  # two processes training at once: the last one wins, both are the same
    _MODEL = model.eval()
    return _MODEL


def accuracy(images, labels) -> float:
    """Fraction of `images` (N x 28 x 28 floats in [0, 1]) the classifier labels as `labels`."""
    import torch

    model = classifier()
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).reshape(-1, 1, 28, 28)
    with torch.no_grad():
        predicted = model(x).argmax(1).numpy()
    return float(np.mean(predicted == np.asarray(labels)))
