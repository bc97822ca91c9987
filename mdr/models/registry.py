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
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from mdr.errors import ModelError
from mdr.paths import models_dir, write_json_atomic

SHIPPED_MODEL = "mnist-cnn"
CARD = "card.json"
ONNX_FILES = {
    "fp32": "model.onnx",
    "int8": "model.int8.onnx",
    "int8-dynamic": "model.int8-dynamic.onnx",
}
CHECKPOINT = "model.pt"
STRIP_FILES = {"fp32": "strip.onnx", "int8": "strip.int8.onnx"}
"""A model's strip reader (touching digits read as a string), when it has one."""
STRIP_CHECKPOINT = "strip.pt"
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


ACTIVE = "active.json"


def read_active() -> tuple[str, str | None]:
    """``(name, problem)``: the model named in ``active.json`` and ``None``, or the shipped
    model and what is wrong with ``active.json`` (absent is not a problem)."""
    path = models_dir() / ACTIVE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return SHIPPED_MODEL, None
    except (OSError, ValueError) as e:
        return SHIPPED_MODEL, f"{ACTIVE} is unreadable ({type(e).__name__})"
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str):
        return SHIPPED_MODEL, f"{ACTIVE} names no model"
    try:
        validate_name(name)
    except ModelError:
        return SHIPPED_MODEL, f"{ACTIVE} names '{name[:80]}', which is not a valid model name"
    return name, None


def active_model_name() -> str:
    """The model named in ``active.json``; the shipped model when absent or broken."""
    return read_active()[0]


def repair() -> str | None:
    """Rewrite a broken ``active.json`` to name the shipped model; say what was wrong, or None.

    Broken: unreadable, not naming a valid model name, or naming a model without its int8
    file. Cheap (no model is loaded): run once when the app or a training run starts.
    """
    name, problem = read_active()
    if problem is None and not onnx_path(name, "int8").is_file():
        problem = f"{ACTIVE} names '{name}', which has no {ONNX_FILES['int8']}"
    if problem is None:
        return None
    if not onnx_path(SHIPPED_MODEL, "int8").is_file():
        return (f"The active model setting is broken ({problem}), and the shipped model "
                f"'{SHIPPED_MODEL}' is missing too, so it was left as it is.")
    write_json_atomic(models_dir() / ACTIVE, {"name": SHIPPED_MODEL})
    return (f"The active model setting was broken ({problem}); it now names the shipped model "
            f"'{SHIPPED_MODEL}'.")


# Temporary names inside models/: ``.NAME.building-PID-XXXX`` (a model being built),
# ``.NAME.old-PID-XXXX`` (a replaced model about to be deleted) and ``.FILE.XXXX.tmp``
# (an atomic write). The process id tells a leftover of a killed process from a live one.
_LEFTOVER_DIR = re.compile(r"^\.(?P<name>.+)\.(?P<kind>building|old)-(?P<pid>\d+)-")
STALE_TMP_SECONDS = 600


def temp_prefix(name: str, kind: str) -> str:
    """The ``tempfile.mkdtemp`` prefix for a ``building`` or ``old`` folder of model ``name``."""
    return f".{name}.{kind}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_leftovers() -> list[str]:
    """Remove what killed runs left in ``models/``; return the names removed.

    Folders of processes that no longer run are deleted, except that a replaced model whose
    replacement never arrived is put back. Temporary files older than ten minutes go too.
    """
    root = models_dir()
    if not root.is_dir():
        return []
    removed = []
    for path in root.iterdir():
        match = _LEFTOVER_DIR.match(path.name)
        try:
            if match and path.is_dir():
                if _alive(int(match["pid"])):
                    continue
                kept = path / match["name"]
                final = root / match["name"]
                if match["kind"] == "old" and kept.is_dir() and not final.exists() and _NAME.match(final.name):
                    os.replace(kept, final)  # the swap was cut short: the old model is all there is
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
            elif path.is_file() and path.name.startswith(".") and path.name.endswith(".tmp"):
                if time.time() - path.stat().st_mtime > STALE_TMP_SECONDS:
                    path.unlink()
                    removed.append(path.name)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def set_active(name: str) -> None:
    path = onnx_path(name, "int8")
    if not path.is_file():
        raise ModelError(f"Model '{name}' cannot be activated: {path.name} is missing.")
    write_json_atomic(models_dir() / ACTIVE, {"name": name})


def onnx_path(name_or_path: str | Path, precision: str = "int8") -> Path:
    """Resolve a model name or an explicit ``.onnx`` path to a file path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".onnx":
        return candidate
    if precision not in ONNX_FILES:
        raise ModelError(f"Unknown precision '{precision}': choose one of {', '.join(ONNX_FILES)}.")
    return model_dir(str(name_or_path)) / ONNX_FILES[precision]


def strip_path(name_or_path: str | Path, precision: str = "int8") -> Path:
    """Where the strip reader of a model (a name, or the path of one of its .onnx files) lies;
    int8-dynamic models use the int8 reader."""
    folder = onnx_path(name_or_path, "fp32").parent
    return folder / STRIP_FILES.get(precision, STRIP_FILES["int8"])


def files_stamp(name: str) -> tuple:
    """(modification time in ns, size) of each ONNX file of ``name``, cheap to take on every request.

    A file written again (retrained, re-exported, re-quantized) changes the stamp, so whoever keeps
    a recognizer per stamp picks up the new files. A missing file is None; the recognizer itself
    reports it in words.
    """
    stamps: list[tuple[int, int] | None] = []
    files = [lambda p=p: onnx_path(name, p) for p in ONNX_FILES] + [lambda p=p: strip_path(name, p) for p in STRIP_FILES]
    for where in files:
        try:
            stat = where().stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except (OSError, ModelError):
            stamps.append(None)
    return tuple(stamps)
