"""The models under ``models/``: their files, cards, and which one is active.

Layout::

    models/active.json          {"name": "<model>"}
    models/<name>/card.json     model card (config, seed, checksums, metrics)
    models/<name>/model.onnx    fp32
    models/<name>/model.int8.onnx          int8, static (QDQ), the default
    models/<name>/model.int8-dynamic.onnx  int8, dynamic, for comparison
    models/<name>/model.pt      torch state dict (to re-export or fine-tune)
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .errors import ModelError
from .paths import models_dir, write_json_atomic

SHIPPED_MODEL = "mnist-cnn"
CARD = "card.json"
ONNX_FILES = {
    "fp32": "model.onnx",
    "int8": "model.int8.onnx",
    "int8-dynamic": "model.int8-dynamic.onnx",
}
CHECKPOINT = "model.pt"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_name(name: str) -> str:
    """Model names become folder names: letters, digits, '.', '_', '-' only."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ModelError(
            f"'{name}' is not a valid model name: use up to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def model_dir(name: str) -> Path:
    return models_dir() / validate_name(name)


def list_models() -> list[str]:
    root = models_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / CARD).is_file() and _NAME.match(p.name))


def read_card(name: str) -> dict[str, Any]:
    path = model_dir(name) / CARD
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError(f"Model '{name}' has no model card at {path}.") from None
    except (OSError, ValueError) as e:
        raise ModelError(f"The model card of '{name}' is unreadable: {e}") from e


def active_model_name() -> str:
    """The model named in ``active.json``; the shipped model when absent or broken."""
    try:
        name = json.loads((models_dir() / "active.json").read_text())["name"]
        validate_name(name)
        return name
    except (OSError, ValueError, KeyError, TypeError, ModelError):
        return SHIPPED_MODEL


def set_active(name: str) -> None:
    path = onnx_path(name, "int8")
    if not path.is_file():
        raise ModelError(f"Model '{name}' cannot be activated: {path.name} is missing.")
    write_json_atomic(models_dir() / "active.json", {"name": name})


def onnx_path(name_or_path: str | Path, precision: str = "int8") -> Path:
    """Resolve a model name or an explicit ``.onnx`` path to a file path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".onnx":
        return candidate
    if precision not in ONNX_FILES:
        raise ModelError(f"Unknown precision '{precision}': choose one of {', '.join(ONNX_FILES)}.")
    return model_dir(str(name_or_path)) / ONNX_FILES[precision]
