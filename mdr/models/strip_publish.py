"""Give a registered model a strip reader: train it, export and quantize it, register the pair.

The new model is the starting model's digit classifier (its files copied unchanged) plus
the strip reader, registered under a new name; the starting model keeps serving until
the new one is activated. The card keeps the digit model's record and adds
``strip_reader``: the command that made it, its configuration and data (the writer
split, the seed), its network, its held-out string accuracy, and pen numbers of the
evaluation writers read before and after.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from mdr.errors import ModelError
from mdr.models import registry
from mdr.models.publish import _make_readable, _say, _write_error, replace_folder
from mdr.paths import models_dir, write_json_atomic

PEN_CHECK_N = 100
"""Pen numbers per condition (spaced, touching) of the evaluation writers read before and after."""
CALIBRATION_NUMBERS = 150
"""Numbers composed for int8 calibration strips (training writers, a seed of their own)."""
COPIED = [registry.CHECKPOINT, *registry.ONNX_FILES.values()]


def strip_command(name: str, base: str, config, activate: bool) -> str:
    """The command line that makes this model again: every option spelled out."""
    from mdr.recognition.strip import STRIP_STRIDE

    mix = config.mix
    parts = ["python -m mdr train-strip", f"--name {name}", f"--from-model {base}",
             f"--numbers {mix.numbers}", f"--touching-share {mix.touching_share}",
             f"--mnist-share {mix.mnist_share}", f"--min-single-aspect {mix.min_single_aspect}", f"--epochs {config.epochs}", f"--batch-size {config.batch_size}",
             f"--lr {config.lr}", f"--width-jitter {config.width_jitter}", f"--seed {config.seed}",
             f"--data-seed {mix.seed}", f"--pen-split-seed {mix.pen_split_seed}"]
    if config.frame_stride != STRIP_STRIDE:
        parts.append(f"--frame-stride {config.frame_stride}")
    if mix.pen_validation:
        parts.append(f"--pen-validation {mix.pen_validation}")
    if mix.pen_variation:
        parts.append(f"--pen-variation {mix.pen_variation}")
    if mix.pen_styles:
        parts.append(f"--pen-styles {mix.pen_styles}")
    if mix.data_dir:
        parts.append(f"--data-dir {mix.data_dir}")
    if mix.pen_data:
        parts.append(f"--pen-data {mix.pen_data}")
    parts.append("--activate" if activate else "--no-activate")
    return " ".join(parts)


def pen_check(model: str, n: int) -> dict[str, dict[str, float]]:
    """Exact and length rates of ``n`` pen numbers per condition (evaluation writers, seed 0)."""
    from mdr.data.pen import make_pen_set, pen_bank
    from mdr.errors import MdrError
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(model)
    bank = pen_bank(writers="eval")
    out = {}
    for condition in ("spaced", "touching"):
        samples = make_pen_set(condition, n, 0, bank)
        exact = length = 0
        for sample in samples:
            try:
                read = recognizer.recognize(sample.image).number
            except MdrError:
                read = ""
            exact += read == sample.number
            length += len(read.replace("\n", "")) == len(sample.number.replace("\n", ""))
        out[condition] = {"n": n, "exact": exact / n, "length": length / n}
    return out


def train_strip_and_publish(config, name: str, base: str | None = None, activate: bool = False,
                            on_progress=None, should_stop: Callable[[], bool] | None = None,
                            on_status: Callable[[str], None] | None = None,
                            pen_check_n: int = PEN_CHECK_N) -> tuple[Any, dict[str, Any] | None]:
    """Train a strip reader and register ``name`` = ``base``'s digit model + the reader.
    ``(result, card)``; a stopped run registers nothing (card None)."""
    import torch

    from mdr.training.strip_reader import (export_strip_reader, quantize_strip_reader,
                                           train_strip_reader)
    from mdr.training.strips import StripMix, make_strips

    registry.validate_name(name)
    base = base or registry.active_model_name()
    base_dir = registry.model_dir(base)
    missing = [f for f in COPIED if not (base_dir / f).is_file()]
    if missing:
        raise ModelError(f"The model '{base}' cannot be given a strip reader: it lacks {', '.join(missing)}.")
    base_card = registry.read_card(base)
    registry.clean_leftovers()
    result = train_strip_reader(config, on_progress=on_progress, should_stop=should_stop)
    if result.stopped:
        return result, None
    root = models_dir()
    try:
        build = Path(tempfile.mkdtemp(prefix=registry.temp_prefix(name, "building"), dir=root))
    except OSError as e:
        raise _write_error(e, root, "nothing was registered") from None
    try:
        for filename in COPIED:
            shutil.copy2(base_dir / filename, build / filename)
        torch.save({"state_dict": result.model.state_dict(), "config": config.to_dict()},
                   build / registry.STRIP_CHECKPOINT)
        _say(on_status, "Exporting the strip reader to ONNX and quantizing it…")
        calibration, _, _ = make_strips(replace(config.mix, numbers=CALIBRATION_NUMBERS, seed=config.mix.seed + 1))
        fp32 = build / registry.STRIP_FILES["fp32"]
        diff = export_strip_reader(result.model, fp32, calibration[:64])
        quantize_strip_reader(fp32, build / registry.STRIP_FILES["int8"], calibration)
        card = dict(base_card)
        card["name"] = name
        card["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        card["derived_from"] = base
        card["files"] = {**(base_card.get("files") or {}), "strip": registry.STRIP_FILES,
                         "bytes": {p.name: p.stat().st_size for p in sorted(build.iterdir()) if p.is_file()}}
        card["strip_reader"] = {
            "command": strip_command(name, base, config, activate),
            "config": config.to_dict(),
            "data": result.data,
            "architecture": {"name": "strip-cnn", "description": result.model.description,
                             "parameters": sum(p.numel() for p in result.model.parameters())},
            "val_string_accuracy": result.val_accuracy,
            "val_strips": result.val_size,
            "onnx": {"opset": 17, "max_abs_diff": diff, "int8": "static QDQ, per-channel weights",
                     "calibration_strips": len(calibration)},
            "training": {"seconds": round(result.seconds, 1), "device": result.device,
                         "epochs_done": result.epochs_done, "torch_version": torch.__version__},
        }
        write_json_atomic(build / registry.CARD, card)
        _make_readable(build)
        replace_folder(build, registry.model_dir(name))
    except OSError as e:
        raise _write_error(e, root, "nothing was registered") from None
    finally:
        shutil.rmtree(build, ignore_errors=True)
    if pen_check_n:
        _say(on_status, f"Reading {pen_check_n} spaced and {pen_check_n} touching pen numbers with "
                        f"'{base}' and '{name}'…")
        card["strip_reader"]["pen_check"] = {"before": pen_check(base, pen_check_n),
                                             "after": pen_check(name, pen_check_n), "model_before": base}
        write_json_atomic(registry.model_dir(name) / registry.CARD, card)
    if activate:
        try:
            registry.set_active(name)
        except OSError as e:
            raise _write_error(e, root, f"'{name}' is registered but not active") from None
    return result, card
