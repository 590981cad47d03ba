"""Augmented training data and a rotated test set, for assignment 06.

Fashion-MNIST stays in memory as uint8 tensors. Random transforms run on one
image at a time, before normalisation, so that rotating or shifting fills the
corners with the black background rather than with some normalised value.
Transforms work on tensors (every `transforms.v2` one, and the geometric ones of
the older `transforms`), which is several times faster than a PIL round trip.
"""
import contextlib

import torch
from PIL import Image
from torch.utils.data import Dataset, TensorDataset
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from . import data
from .data import FASHION_MEAN, FASHION_STD


@contextlib.contextmanager
def one_thread():
    """Run per-image transforms on a single thread, then restore the old setting.

    Splitting the work on one 28x28 image between threads costs more than it
    saves; on a busy 2-core machine a random affine ran 70 times slower on two
    threads than on one.
    """
    previous = torch.get_num_threads()
    if previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def fashion_uint8(train: bool = True, limit: int | None = None, root=None) -> TensorDataset:
    """Fashion-MNIST as stored: (N, 1, 28, 28) uint8 images and their labels 0..9."""
    dataset = data.fashion_mnist(train, root)
    images, labels = dataset.data, dataset.targets
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return TensorDataset(images.unsqueeze(1).clone(), labels.long().clone())


def take(dataset: TensorDataset, count: int) -> TensorDataset:
    """The first `count` examples; Fashion-MNIST's files are already shuffled, so each class keeps its share."""
    return TensorDataset(*(tensor[:count] for tensor in dataset.tensors))


def to_float(image: torch.Tensor, mean: float = FASHION_MEAN, std: float = FASHION_STD) -> torch.Tensor:
    """uint8 pixels (or floats already in [0, 1]) to the normalised floats the networks expect."""
    if isinstance(image, Image.Image):
        image = TF.pil_to_tensor(image)
    image = image.float() / 255.0 if image.dtype == torch.uint8 else image.float()
    return (image - mean) / std


def normalised(dataset: TensorDataset, mean: float = FASHION_MEAN, std: float = FASHION_STD) -> TensorDataset:
    """The same images, normalised once, for training and evaluation without augmentation."""
    images, labels = dataset.tensors
    return TensorDataset(to_float(images, mean, std), labels)


class AugmentedImages(Dataset):
    """uint8 images that pass through `transforms` afresh every time they are read.

    Each epoch therefore sees a new random variant of every training image;
    with no transforms it serves the clean, normalised images.
    """

    def __init__(self, dataset: TensorDataset, transforms=(), mean: float = FASHION_MEAN,
                 std: float = FASHION_STD):
        self.images, self.labels = dataset.tensors
        self.transforms = list(transforms)
        self.mean, self.std = mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def _item(self, index):
        image = self.images[index]
        for transform in self.transforms:
            image = transform(image)
        return to_float(image, self.mean, self.std), self.labels[index]

    def __getitem__(self, index):
        with one_thread():
            return self._item(index)

    def __getitems__(self, indices):
        """A whole batch at once (the DataLoader calls this), so the thread setting changes once a batch."""
        with one_thread():
            return [self._item(index) for index in indices]


def random_angles(count: int, max_degrees: float = 25.0, seed: int = 0) -> torch.Tensor:
    """`count` angles drawn uniformly from [-max_degrees, max_degrees], the same for every seed."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(count, generator=generator, dtype=torch.float64) * 2 - 1) * max_degrees


def rotate_images(images: torch.Tensor, angles) -> torch.Tensor:
    """Rotate each (C, H, W) image by its own angle (degrees, counter-clockwise) about its centre."""
    rotated = torch.empty_like(images)
    with one_thread():
        for index, angle in enumerate(angles):
            rotated[index] = TF.rotate(images[index], float(angle), interpolation=InterpolationMode.BILINEAR)
    return rotated


def rotated_test_set(dataset: TensorDataset, max_degrees: float = 25.0, seed: int = 0,
                     mean: float = FASHION_MEAN, std: float = FASHION_STD) -> TensorDataset:
    """A normalised copy of uint8 `dataset` with every image turned by a random angle up to `max_degrees`.

    The seed fixes the angles, so every student measures robustness on the same images.
    """
    images, labels = dataset.tensors
    angles = random_angles(len(images), max_degrees, seed)
    return TensorDataset(to_float(rotate_images(images, angles), mean, std), labels)
