"""Loading Fashion-MNIST and EMNIST's X/O letters, decoded once to tensors.

Fashion-MNIST comes from, in order: the project's data cache, Debian's
`dataset-fashion-mnist` package, torchvision's download. EMNIST comes from
torchvision's real loader when its files are in `data/EMNIST/raw/`, and
from the seeded synthetic stand-in in `synthetic_xo` otherwise.

Run `python -m course.data` (or `make data`) to prepare everything once.
"""
import gzip
import hashlib
import shutil
import socket
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset
from torchvision import datasets

from . import synthetic_xo
from .errors import DataUnavailableError
from .paths import data_root

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

# md5 of the *unpacked* IDX files; Debian's .gz differ from torchvision's
# archives byte for byte, but unpack to these same images and labels.
FASHION_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MEAN, FASHION_STD = 0.2860, 0.3530
EMNIST_MEAN, EMNIST_STD = 0.1722, 0.3309
EMNIST_X, EMNIST_O = 24, 15
EMNIST_ZIP_URL = datasets.EMNIST.url


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fashion_raw(root: Path) -> Path:
    return root / "FashionMNIST" / "raw"


def _fashion_ok(raw: Path) -> bool:
    return all((raw / name).is_file() and _md5(raw / name) == md5 for name, md5 in FASHION_MD5.items())


def _unpack_debian(raw: Path, source: Path) -> bool:
    if not all((source / f"{name}.gz").is_file() for name in FASHION_MD5):
        return False
    raw.mkdir(parents=True, exist_ok=True)
    for name in FASHION_MD5:
        partial = raw / f"{name}.partial"
        with gzip.open(source / f"{name}.gz", "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        partial.replace(raw / name)
    return True


def _download_fashion(root: Path) -> bool:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(15)
    try:
        datasets.FashionMNIST(str(root), train=True, download=True)
        return True
    except Exception:  # any network or mirror failure becomes one clear message below
        return False
    finally:
        socket.setdefaulttimeout(previous)


def ensure_fashion_mnist(root: Path | None = None, debian_dir: Path = DEBIAN_FASHION_DIR,
                         download: bool = True) -> Path:
    """Make sure the four unpacked Fashion-MNIST files are under `root` and checksum-correct."""
    root = Path(root) if root else data_root()
    raw = _fashion_raw(root)
    if _fashion_ok(raw):
        return root
    if _unpack_debian(raw, Path(debian_dir)) and _fashion_ok(raw):
        return root
    if download and _download_fashion(root) and _fashion_ok(raw):
        return root
    raise DataUnavailableError(
        f"Fashion-MNIST is not available under {raw}.\n"
        "Get it one of three ways, then run `make data` again:\n"
        f"  1. copy the four unpacked files ({', '.join(FASHION_MD5)}) into {raw}\n"
        "     (or point the COURSE_DATA environment variable at a folder that has FashionMNIST/raw/);\n"
        "  2. on Debian or Ubuntu: `sudo apt-get install dataset-fashion-mnist`;\n"
        "  3. connect to the internet so torchvision can download it."
    )


def _normalise(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return ((images.float() / 255.0 - mean) / std).unsqueeze(1)


def fashion_mnist(train: bool = True, root: Path | None = None, transform=None) -> datasets.FashionMNIST:
    """torchvision's dataset object, for code that needs PIL images and per-image transforms."""
    root = ensure_fashion_mnist(root)
    return datasets.FashionMNIST(str(root), train=train, download=False, transform=transform)


def fashion_tensors(train: bool = True, classes=None, root: Path | None = None,
                    limit: int | None = None) -> TensorDataset:
    """Normalised (N, 1, 28, 28) images and labels; `classes` keeps and renumbers some classes."""
    dataset = fashion_mnist(train, root)
    images, labels = dataset.data, dataset.targets
    if classes is not None:
        keep = torch.isin(labels, torch.tensor(list(classes)))
        images, labels = images[keep], labels[keep]
        remap = torch.full((10,), -1, dtype=torch.long)
        remap[torch.tensor(list(classes))] = torch.arange(len(classes))
        labels = remap[labels]
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return TensorDataset(_normalise(images, FASHION_MEAN, FASHION_STD), labels.long())


def split_dataset(dataset: TensorDataset, fraction: float = 0.8, seed: int = 0):
    """Split with a fixed seed, so every student gets the same validation and test sets."""
    first = int(round(len(dataset) * fraction))
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(dataset), generator=generator)
    tensors = dataset.tensors
    return (TensorDataset(*(t[order[:first]] for t in tensors)),
            TensorDataset(*(t[order[first:]] for t in tensors)))


def tshirt_vs_shirt(root: Path | None = None, seed: int = 0) -> dict:
    """T-shirt/top (0) -> 0 and Shirt (6) -> 1; the test set split 80/20 into validation and test."""
    train = fashion_tensors(True, classes=(0, 6), root=root)
    validation, test = split_dataset(fashion_tensors(False, classes=(0, 6), root=root), 0.8, seed)
    return {"train": train, "validation": validation, "test": test}


def _emnist_zip(root: Path) -> Path:
    return root / "EMNIST" / "raw" / Path(EMNIST_ZIP_URL).name


def emnist_available(root: Path | None = None) -> bool:
    """True when the real EMNIST letters files, or the official zip, are in the data folder."""
    root = Path(root) if root else data_root()
    raw = root / "EMNIST" / "raw"
    files = [raw / f"emnist-letters-{part}-{kind}-idx{dim}-ubyte"
             for part in ("train", "test") for kind, dim in (("images", 3), ("labels", 1))]
    return all(f.is_file() for f in files) or _emnist_zip(root).is_file()


_notice_shown = False


def _synthetic_notice(root: Path) -> None:
    global _notice_shown
    if not _notice_shown:
        print(
            "Note: real EMNIST was not found, so this notebook uses the course's synthetic X/O letters "
            f"(seeded, drawn offline). For the real data, put EMNIST's gzip.zip ({EMNIST_ZIP_URL}) "
            f"into {root / 'EMNIST' / 'raw'} and run `make data`."
        )
        _notice_shown = True


def emnist_letters_raw(train: bool = True, root: Path | None = None):
    """EMNIST letters as stored: (images in EMNIST's transposed orientation, labels 1..26, source name)."""
    root = Path(root) if root else data_root()
    if emnist_available(root):
        dataset = datasets.EMNIST(str(root), split="letters", train=train,
                                  download=_emnist_zip(root).is_file())
        return dataset.data, dataset.targets, "EMNIST"
    _synthetic_notice(root)
    images, labels = _synthetic_cached(train, root)
    return torch.from_numpy(images), torch.from_numpy(labels), "synthetic"


def _synthetic_cached(train: bool, root: Path):
    """Drawing 11,200 letters takes seconds, so `make data` keeps them in the data folder."""
    cache = root / "synthetic_xo" / f"{'train' if train else 'test'}-v1.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            return stored["images"], stored["labels"]
    images, labels = synthetic_xo.make_xo(train)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, images=images, labels=labels)
    except OSError:
        pass  # a read-only data folder (the grading sandbox) just redraws them
    return images, labels


def emnist_xo(train: bool = True, root: Path | None = None, limit: int | None = None) -> TensorDataset:
    """X (-> 1) and O (-> 0) from EMNIST letters, upright and normalised, as (N, 1, 28, 28) tensors.

    The dataset carries a `source` attribute: "EMNIST" or "synthetic".
    """
    images, labels, source = emnist_letters_raw(train, root)
    keep = (labels == EMNIST_X) | (labels == EMNIST_O)
    images = images[keep].transpose(1, 2)
    targets = (labels[keep] == EMNIST_X).long()
    if limit is not None:
        images, targets = images[:limit], targets[:limit]
    dataset = TensorDataset(_normalise(images, EMNIST_MEAN, EMNIST_STD), targets)
    dataset.source = source
    return dataset


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format that MNIST-style files use."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    Path(path).write_bytes(header + array.tobytes())


def main() -> int:
    """Prepare the data once and say where everything came from."""
    root = data_root()
    try:
        ensure_fashion_mnist(root)
    except DataUnavailableError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Fashion-MNIST: ready in {_fashion_raw(root)} (checksums verified)")
    if emnist_available(root):
        for train in (True, False):
            emnist_letters_raw(train, root)
        print(f"EMNIST letters: real files in {root / 'EMNIST' / 'raw'}")
    else:
        for train in (True, False):
            _synthetic_cached(train, root)
        print("EMNIST letters: not found; the X/O notebook will use the synthetic stand-in "
              f"(to use the real data, put gzip.zip into {root / 'EMNIST' / 'raw'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
