"""The MNIST reader: shapes, canonical checksums, and clear errors on bad files."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from mdr.errors import DataError
from mdr.data.mnist import checksums, load_split, parse_idx

DATA = Path(os.environ.get("MDR_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared/data/mnist")

CANONICAL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_split(folder: Path, images: bytes, labels: bytes, gz: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, data in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


@pytest.mark.parametrize("split, n", [("train", 60_000), ("test", 10_000)])
def test_splits_have_mnist_shapes(split, n):
    images, labels = load_split(split, DATA)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    # Ink is bright: the border of a digit image is background (0).
    assert images[:, 0, :].mean() < 1


def test_checksums_are_the_canonical_md5s():
    assert checksums(DATA) == CANONICAL_MD5


def test_synthetic_idx_round_trips(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    write_split(tmp_path, idx_bytes(images), idx_bytes(labels), gz=True)
    got_images, got_labels = load_split("test", tmp_path)
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)


def test_truncated_idx_raises_data_error(tmp_path):
    images = np.zeros((5, 28, 28), np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    write_split(tmp_path, idx_bytes(images)[:-100], idx_bytes(labels))
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_split("test", tmp_path)


def test_truncated_real_file_raises_data_error(tmp_path):
    raw = gzip.decompress((DATA / "t10k-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(DataError):
        parse_idx(raw[:-1], "t10k-labels-idx1-ubyte")


def test_wrong_magic_raises_data_error(tmp_path):
    labels = bytearray(idx_bytes(np.arange(5, dtype=np.uint8)))
    labels[2] = 0x0D  # float32 IDX, not unsigned bytes
    write_split(tmp_path, idx_bytes(np.zeros((5, 28, 28), np.uint8)), bytes(labels))
    with pytest.raises(DataError, match="not an unsigned-byte IDX"):
        load_split("test", tmp_path)


def test_corrupt_gzip_raises_data_error(tmp_path):
    write_split(tmp_path, idx_bytes(np.zeros((5, 28, 28), np.uint8)), idx_bytes(np.arange(5, dtype=np.uint8)), gz=True)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataError):
        load_split("test", tmp_path)


def test_mismatched_images_and_labels_raise_data_error(tmp_path):
    write_split(tmp_path, idx_bytes(np.zeros((5, 28, 28), np.uint8)), idx_bytes(np.arange(4, dtype=np.uint8)))
    with pytest.raises(DataError, match="do not match"):
        load_split("test", tmp_path)


def test_missing_folder_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="MNIST was not found"):
        load_split("test", tmp_path / "nowhere")
