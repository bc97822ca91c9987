"""What the bench sections share: the project root, the fast recipe, table and timing helpers."""
from __future__ import annotations

from pathlib import Path

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
