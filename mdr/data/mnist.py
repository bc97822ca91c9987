"""Read MNIST from a folder of IDX files (gzipped or not), without torch."""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from mdr.errors import DataError
from mdr.paths import data_dir as default_data_dir

FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}

MISSING_HELP = (
    "MNIST was not found in {folder}. Put the four IDX files there (.gz or not), "
    "name another folder with --data or MDR_DATA_DIR, or run "
    "`python -m mdr download` on a machine with internet access."
)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DataError(MISSING_HELP.format(folder=folder))


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as e:
        raise DataError(f"Could not read {path.name}: {e}") from e


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode one IDX file (magic, dims, big-endian uint8 payload)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{name} is not an unsigned-byte IDX file.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - header != expected:
        raise DataError(f"{name} is truncated or corrupt: {len(raw) - header} bytes for shape {dims}.")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def load_split(split: str = "train", folder: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images uint8 [N,28,28], labels uint8 [N])`` of ``train`` or ``test``."""
    root = default_data_dir(folder)
    images = parse_idx(_read_bytes(_find(root, FILES[(split, "images")])), FILES[(split, "images")])
    labels = parse_idx(_read_bytes(_find(root, FILES[(split, "labels")])), FILES[(split, "labels")])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"MNIST {split} images and labels do not match in {root}.")
    return images, labels


def checksums(folder: str | os.PathLike | None = None) -> dict[str, str]:
    """md5 of each decompressed IDX file: identifies the data a model saw."""
    root = default_data_dir(folder)
    return {
        stem: hashlib.md5(_read_bytes(_find(root, stem))).hexdigest()
        for stem in FILES.values()
    }
