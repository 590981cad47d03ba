"""course.augment: augmented datasets and the rotated test set, on small made-up images."""
import pytest
import torch
from PIL import Image
from torch.utils.data import TensorDataset
from torchvision.transforms import v2

from course import augment
from course.data import FASHION_MEAN, FASHION_STD
from course.errors import DataUnavailableError


def _images(count=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(count, 1, 28, 28, dtype=torch.uint8)
    images[:, :, 8:20, 10:18] = torch.randint(100, 256, (count, 1, 12, 8), generator=generator, dtype=torch.uint8)
    return TensorDataset(images, torch.arange(count) % 10)


def test_to_float_normalises_uint8_floats_and_pil_alike():
    pixels = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    want = (torch.tensor([[[0.0, 1.0]]]) - FASHION_MEAN) / FASHION_STD
    assert torch.allclose(augment.to_float(pixels), want)
    assert torch.allclose(augment.to_float(pixels.float() / 255), want)
    assert torch.allclose(augment.to_float(Image.fromarray(pixels[0].numpy())), want)


def test_normalised_keeps_labels_and_shape():
    dataset = _images()
    clean = augment.normalised(dataset)
    images, labels = clean.tensors
    assert images.dtype == torch.float32 and images.shape == (6, 1, 28, 28)
    assert torch.equal(labels, dataset.tensors[1])
    assert torch.allclose(images[:, :, 0, 0], torch.tensor(-FASHION_MEAN / FASHION_STD))


def test_take_keeps_the_first_examples():
    part = augment.take(_images(), 4)
    assert len(part) == 4 and torch.equal(part.tensors[1], torch.arange(4))


def test_augmented_images_without_transforms_equal_the_clean_data():
    dataset = _images()
    augmented = augment.AugmentedImages(dataset)
    clean = augment.normalised(dataset)
    assert len(augmented) == len(dataset)
    for index in range(len(dataset)):
        image, label = augmented[index]
        assert torch.equal(image, clean[index][0]) and int(label) == int(clean[index][1])


def test_augmented_images_draw_a_new_variant_on_every_read():
    dataset = _images()
    augmented = augment.AugmentedImages(dataset, [v2.RandomRotation(30)])
    torch.manual_seed(0)
    first = torch.stack([augmented[i][0] for i in range(len(dataset))])
    second = torch.stack([augmented[i][0] for i in range(len(dataset))])
    assert first.shape == (6, 1, 28, 28) and first.dtype == torch.float32
    assert not torch.equal(first, second)
    torch.manual_seed(0)
    again = torch.stack([augmented[i][0] for i in range(len(dataset))])
    assert torch.equal(first, again), "the same seed must give the same augmentation"


def test_rotation_fills_corners_with_background():
    dataset = _images()
    image, _ = augment.AugmentedImages(dataset, [v2.RandomRotation((45, 45))])[0]
    background = -FASHION_MEAN / FASHION_STD
    assert torch.allclose(image[0, 0, 0], torch.tensor(background))


def test_random_angles_are_uniform_within_the_limit_and_seeded():
    angles = augment.random_angles(5000, max_degrees=25, seed=3)
    assert angles.abs().max() <= 25 and angles.min() < -24 and angles.max() > 24
    assert abs(float(angles.mean())) < 1.0
    assert torch.equal(angles, augment.random_angles(5000, max_degrees=25, seed=3))
    assert not torch.equal(angles, augment.random_angles(5000, max_degrees=25, seed=4))


def test_rotate_images_matches_torchvision_and_a_quarter_turn():
    dataset = _images(3)
    images = dataset.tensors[0]
    turned = augment.rotate_images(images, [90, 0, -90])
    assert turned.dtype == torch.uint8 and turned.shape == images.shape
    assert torch.equal(turned[1], images[1])
    assert torch.equal(turned[0], torch.rot90(images[0], 1, dims=(1, 2)))
    assert torch.equal(turned[2], torch.rot90(images[2], -1, dims=(1, 2)))


def test_rotated_test_set_is_fixed_by_its_seed():
    dataset = _images()
    first = augment.rotated_test_set(dataset, max_degrees=25, seed=0)
    again = augment.rotated_test_set(dataset, max_degrees=25, seed=0)
    other = augment.rotated_test_set(dataset, max_degrees=25, seed=1)
    assert torch.equal(first.tensors[0], again.tensors[0])
    assert not torch.equal(first.tensors[0], other.tensors[0])
    assert torch.equal(first.tensors[1], dataset.tensors[1])
    assert not torch.equal(first.tensors[0], augment.normalised(dataset).tensors[0])
    unturned = augment.rotated_test_set(dataset, max_degrees=0, seed=0)
    assert torch.allclose(unturned.tensors[0], augment.normalised(dataset).tensors[0])


@pytest.mark.parametrize("train", [True, False])
def test_fashion_uint8_has_the_stored_pixels(train):
    try:
        dataset = augment.fashion_uint8(train=train, limit=5)
    except DataUnavailableError as error:  # `make data` has not run on this machine
        pytest.skip(f"Fashion-MNIST unavailable: {error}")
    images, labels = dataset.tensors
    assert images.shape == (5, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.long and int(labels.max()) < 10


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with augment.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with augment.one_thread():
            raise RuntimeError("a failing transform")
    assert torch.get_num_threads() == before


def test_a_dataloader_batch_matches_single_reads():
    from course.training import loader

    dataset = augment.AugmentedImages(_images(), [v2.RandomHorizontalFlip(p=1.0)])
    images, labels = next(iter(loader(dataset, batch_size=4)))
    assert images.shape == (4, 1, 28, 28) and torch.equal(labels, torch.arange(4))
    assert torch.equal(images, torch.stack([dataset[i][0] for i in range(4)]))
    assert torch.equal(images, augment.normalised(_images()).tensors[0][:4].flip(-1))
