"""What the bench sections share: the project root, the fast recipe, table and timing helpers."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

FAST_RECIPE = dict(arch="cnn-small", batch_size=128, lr=5e-3, optimizer="adamw", schedule="onecycle",
                   augment=False, val_size=0, seed=1, threads=1)
"""The fast training recipe: the small net, no augmentation, one-cycle schedule."""
TARGET_ACCURACY = 0.99


def stats(seconds: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    values = np.asarray(seconds) * 1000.0
    return float(np.median(values)), float(np.percentile(values, 95))


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def model_name() -> str:
    from mdr.models.registry import active_model_name
    return active_model_name()


@contextmanager
def models_of_its_own(base_dir: Path, prefix: str) -> Iterator[Path]:
    """A temporary models folder holding a copy of ``base_dir`` (active) and a corrections home of
    its own, in use (``MDR_MODELS_DIR``, ``MDR_DATA_HOME``) until the block ends: a benchmark
    that saves corrections and registers models never touches the real ones."""
    from mdr.models import registry

    saved = {k: os.environ.get(k) for k in ("MDR_DATA_HOME", "MDR_MODELS_DIR")}
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        models = Path(folder) / "models"
        shutil.copytree(base_dir, models / base_dir.name)
        (models / registry.ACTIVE).write_text(json.dumps({"name": base_dir.name}))
        os.environ["MDR_DATA_HOME"], os.environ["MDR_MODELS_DIR"] = str(Path(folder) / "home"), str(models)
        try:
            yield models
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
