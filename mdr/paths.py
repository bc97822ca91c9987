"""Where the project keeps its models and data; overridable by environment."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    return Path(os.environ.get("MDR_MODELS_DIR", PROJECT_ROOT / "models"))


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """MNIST folder: ``--data`` beats ``MDR_DATA_DIR`` beats ``data/MNIST/raw``."""
    if explicit:
        return Path(explicit)
    if os.environ.get("MDR_DATA_DIR"):
        return Path(os.environ["MDR_DATA_DIR"])
    return PROJECT_ROOT / "data" / "MNIST" / "raw"


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename over ``path``.

    A reader sees the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())
