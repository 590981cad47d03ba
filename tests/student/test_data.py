"""The loaders, including torchvision's real EMNIST path, on small IDX files written here."""
import gzip
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import datasets

from course import data
from course.errors import DataUnavailableError

DEBIAN = data.DEBIAN_FASHION_DIR
needs_debian = pytest.mark.skipif(not (DEBIAN / "train-images-idx3-ubyte.gz").is_file(),
                                  reason="Debian's dataset-fashion-mnist is not installed (`.ci/run` installs it)")


def _no_download(monkeypatch):
    calls = []
    monkeypatch.setattr(data, "_download_fashion", lambda root: calls.append(root) or False)
    return calls


def test_missing_fashion_mnist_names_all_three_ways(tmp_path, monkeypatch):
    calls = _no_download(monkeypatch)
    with pytest.raises(DataUnavailableError) as error:
        data.ensure_fashion_mnist(tmp_path, debian_dir=tmp_path / "nowhere")
    message = str(error.value)
    assert "FashionMNIST" in message and "apt-get install dataset-fashion-mnist" in message
    assert "COURSE_DATA" in message and "internet" in message
    assert calls == [tmp_path], "the download is tried last, once"


@needs_debian
def test_debian_files_are_unpacked_and_verified(tmp_path, monkeypatch):
    calls = _no_download(monkeypatch)
    root = data.ensure_fashion_mnist(tmp_path)
    raw = root / "FashionMNIST" / "raw"
    for name, md5 in data.FASHION_MD5.items():
        assert hashlib.md5((raw / name).read_bytes()).hexdigest() == md5
    assert calls == []
    train = datasets.FashionMNIST(str(root), train=True, download=False)
    assert tuple(train.data.shape) == (60000, 28, 28)


@needs_debian
def test_a_corrupted_cache_is_repaired_from_debian(tmp_path, monkeypatch):
    _no_download(monkeypatch)
    raw = data.ensure_fashion_mnist(tmp_path) / "FashionMNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"not the labels")
    data.ensure_fashion_mnist(tmp_path)
    assert hashlib.md5((raw / "t10k-labels-idx1-ubyte").read_bytes()).hexdigest() == data.FASHION_MD5[
        "t10k-labels-idx1-ubyte"]


def test_wrong_checksum_without_other_sources_is_an_error_not_silent_use(tmp_path, monkeypatch):
    _no_download(monkeypatch)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.FASHION_MD5:
        (raw / name).write_bytes(b"junk")
    with pytest.raises(DataUnavailableError):
        data.ensure_fashion_mnist(tmp_path, debian_dir=tmp_path / "nowhere")


@needs_debian
def test_tshirt_vs_shirt_is_binary_normalised_and_split_with_a_fixed_seed(tmp_path, monkeypatch):
    _no_download(monkeypatch)
    splits = data.tshirt_vs_shirt(root=tmp_path)
    assert [len(splits[k]) for k in ("train", "validation", "test")] == [12000, 1600, 400]
    images, labels = splits["train"].tensors
    assert tuple(images.shape[1:]) == (1, 28, 28) and set(labels.tolist()) == {0, 1}
    assert abs(images.mean().item()) < 0.3 and 0.7 < images.std().item() < 1.3
    again = data.tshirt_vs_shirt(root=tmp_path)
    assert torch.equal(again["test"].tensors[1], splits["test"].tensors[1])
    full = data.fashion_tensors(False, root=tmp_path)
    assert len(full) == 10000 and set(full.tensors[1].tolist()) == set(range(10))


def _letters(count: int, seed: int):
    """Images with a bright marker at row 2, column 5 of the stored (transposed) array."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (count, 28, 28)).astype(np.uint8)
    images[:, 2, 5] = 255
    labels = np.array([24, 15, 3, 24, 26, 15, 1, 24][:count] * (count // 8 + 1))[:count].astype(np.uint8)
    return images, labels


def _write_emnist(raw: Path, compress: bool = False):
    raw.mkdir(parents=True, exist_ok=True)
    written = []
    for part, count in (("train", 16), ("test", 8)):
        images, labels = _letters(count, 1 if part == "train" else 2)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = raw / f"emnist-letters-{part}-{kind}-ubyte"
            data.write_idx(path, array)
            if compress:
                with open(path, "rb") as src, gzip.open(f"{path}.gz", "wb") as dst:
                    dst.write(src.read())
                path.unlink()
                path = Path(f"{path}.gz")
            written.append(path)
    return written


def test_real_emnist_files_go_through_torchvision(tmp_path, capsys):
    _write_emnist(tmp_path / "EMNIST" / "raw")
    assert data.emnist_available(tmp_path)
    train = data.emnist_xo(True, root=tmp_path)
    assert train.source == "EMNIST"
    images, labels = train.tensors
    _, raw_labels = _letters(16, 1)
    keep = (raw_labels == 24) | (raw_labels == 15)
    assert labels.tolist() == (raw_labels[keep] == 24).astype(int).tolist()
    brightest = images[0, 0].flatten().argmax().item()
    assert divmod(brightest, 28) == (5, 2), "EMNIST's transposed images must be turned upright"
    assert "synthetic" not in capsys.readouterr().out
    assert len(data.emnist_xo(False, root=tmp_path)) == 5


def test_official_zip_dropped_into_raw_is_extracted_by_torchvision(tmp_path, monkeypatch):
    staging = tmp_path / "staging"
    files = _write_emnist(staging / "gzip", compress=True)
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    archive = raw / "gzip.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in files:
            bundle.write(path, f"gzip/{path.name}")
    monkeypatch.setattr(datasets.EMNIST, "md5", hashlib.md5(archive.read_bytes()).hexdigest())
    assert data.emnist_available(tmp_path)
    train = data.emnist_xo(True, root=tmp_path)
    assert train.source == "EMNIST" and len(train) == 10
    assert (raw / "emnist-letters-test-labels-idx1-ubyte").is_file()


def test_without_emnist_the_synthetic_set_is_used_with_one_notice(tmp_path, monkeypatch, capsys):
    small = {True: _letters(8, 3), False: _letters(8, 4)}
    monkeypatch.setattr(data.synthetic_xo, "make_xo", lambda train: small[train])
    monkeypatch.setattr(data, "_notice_shown", False)
    first = data.emnist_xo(True, root=tmp_path)
    data.emnist_xo(False, root=tmp_path)
    out = capsys.readouterr().out
    assert first.source == "synthetic" and out.count("synthetic") == 1 and "gzip.zip" in out
    assert (tmp_path / "synthetic_xo" / "train-v1.npz").is_file(), "drawn once, then cached"


def test_write_idx_round_trips_through_torchvision_reader(tmp_path):
    from torchvision.datasets.mnist import read_image_file

    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    data.write_idx(tmp_path / "x-idx3-ubyte", array)
    assert np.array_equal(read_image_file(str(tmp_path / "x-idx3-ubyte")).numpy(), array)
