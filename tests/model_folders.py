"""A models folder of a test's own, so activation and training never touch the real models/."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def private_models(tmp_path: Path, monkeypatch, *copies: str) -> Path:
    """A models folder of this test alone, with the shipped model active and ``copies`` of it."""
    from mdr.models import registry

    folder = tmp_path / "models"
    shipped = PROJECT_ROOT / "models" / registry.SHIPPED_MODEL
    shutil.copytree(shipped, folder / registry.SHIPPED_MODEL)
    for name in copies:
        shutil.copytree(shipped, folder / name)
    (folder / "active.json").write_text(json.dumps({"name": registry.SHIPPED_MODEL}))
    monkeypatch.setenv("MDR_MODELS_DIR", str(folder))
    return folder
