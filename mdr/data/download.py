"""Fetch MNIST once into ``data/MNIST/raw`` (or a named folder), checked and atomic.

Each file is tried at a list of mirrors, its decompressed bytes are checked
against the canonical md5 before it is kept, and it is written to a temporary
name and renamed: a download stopped halfway leaves nothing that looks whole.
Files already there with the right content are not fetched again.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from mdr.data.mnist import FILES
from mdr.errors import DataError
from mdr.paths import data_dir, write_bytes_atomic

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
"""Where the four .gz files are published; ``MDR_MNIST_MIRROR`` puts another first."""

CANONICAL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
"""md5 of each file's decompressed bytes: a recompressed .gz is still the same data."""

Progress = Callable[[str, int, int | None], None]
"""Called with (file name, bytes so far, total bytes or None) while fetching."""


@dataclass(frozen=True)
class DownloadResult:
    folder: Path
    fetched: tuple[str, ...]
    already_there: tuple[str, ...]


def missing_message(folder: str | os.PathLike | None = None) -> str | None:
    """Why training would not find MNIST in ``folder`` (default: where it looks), or None when it would."""
    from mdr.data.mnist import _find

    root = data_dir(folder)
    try:
        for stem in FILES.values():
            _find(root, stem)
    except DataError as e:
        return str(e)
    return None


def should_download(folder: str | os.PathLike | None = None) -> bool:
    """Only the default folder is filled on its own: a folder the user named is theirs to fill."""
    return folder is None and not os.environ.get("MDR_DATA_DIR") and missing_message() is not None


def mirrors() -> list[str]:
    extra = os.environ.get("MDR_MNIST_MIRROR")
    return ([extra.rstrip("/") + "/"] if extra else []) + list(MIRRORS)


def _decompressed_md5(data: bytes) -> str:
    try:
        return hashlib.md5(gzip.decompress(data)).hexdigest()
    except (OSError, EOFError):
        return "not a gzip file"


def _present(folder: Path, stem: str) -> bool:
    """True when the folder already holds this file, gzipped or not, with the canonical content."""
    for name, unpack in ((stem + ".gz", gzip.decompress), (stem, lambda b: b)):
        path = folder / name
        if path.is_file():
            try:
                if hashlib.md5(unpack(path.read_bytes())).hexdigest() == CANONICAL_MD5[stem]:
                    return True
            except (OSError, EOFError):
                pass
    return False


def _fetch(url: str, name: str, progress: Progress | None, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = response.headers.get("Content-Length")
        total = int(total) if total and total.isdigit() else None
        chunks, done = [], 0
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            if progress:
                progress(name, done, total)
    return b"".join(chunks)


def download_mnist(folder: str | os.PathLike | None = None, progress: Progress | None = None,
                   timeout: float = 30.0, sources: list[str] | None = None) -> DownloadResult:
    """Make ``folder`` (default: where training looks) hold the four MNIST files."""
    root = data_dir(folder)
    fetched, there = [], []
    for stem in FILES.values():
        if _present(root, stem):
            there.append(stem)
            continue
        problems = []
        for base in sources or mirrors():
            url = base + stem + ".gz"
            try:
                data = _fetch(url, stem + ".gz", progress, timeout)
            except (urllib.error.URLError, OSError, ValueError) as e:
                problems.append(f"{url}: {getattr(e, 'reason', e)}")
                continue
            if _decompressed_md5(data) != CANONICAL_MD5[stem]:
                problems.append(f"{url}: the file's content is not MNIST's (checksum differs)")
                continue
            write_bytes_atomic(root / (stem + ".gz"), data)
            fetched.append(stem)
            break
        else:
            raise DataError(f"Could not download {stem}.gz into {root}. Tried: " + "; ".join(problems)
                            + ". Without internet access, copy the four IDX files there by hand, "
                              "or name their folder with --data or MDR_DATA_DIR.")
    return DownloadResult(root, tuple(fetched), tuple(there))
