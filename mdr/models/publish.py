"""Turn a training run into a registered model folder: files, checks, card.

The folder is built under a hidden temporary name inside ``models/`` and
renamed into place only when everything in it is written and measured, so a
run that fails or is stopped registers nothing, and readers never see a
half-built model. An older model of the same name is renamed away, replaced,
then deleted.

The card (``card.json``) holds: ``name``, ``created``, ``command`` (the
command line that reproduces the model), ``config`` (every TrainConfig
field), ``seed``, ``data`` (MNIST checksums and split sizes; with the
``mnist+pen`` mix the pen-digits file's checksum, writer split and renderings;
with ``reject_fraction`` the "not a single digit" images' kinds and seed),
``architecture`` (name, description, parameters), ``metrics`` (MNIST test
accuracy per precision (argmax over the ten digits), per-class accuracy and confusion of int8, validation
accuracy), ``files`` (bytes per file), ``onnx`` (opset, export difference,
calibration) and ``training`` (seconds, device, versions).
"""
from __future__ import annotations

import errno
import os
import platform
import shutil
import tempfile
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mdr.models import registry
from mdr.errors import ModelError, RunStopped, stop_point
from mdr.evaluation.digits import evaluate_onnx
from mdr.data.mnist import checksums, load_split
from mdr.paths import models_dir, write_json_atomic

CALIBRATION_SIZE = 500
CALIBRATION_METHOD = "minmax"


def _say(on_status: Callable[[str], None] | None, message: str) -> None:
    if on_status:
        on_status(message)


def calibration_images(config, size: int = CALIBRATION_SIZE) -> np.ndarray:
    """A seeded sample of TRAINING digits for int8 calibration (never test digits)."""
    images, _ = load_split("train", config.data_dir)
    pick = np.random.default_rng(config.seed + 1).choice(len(images), size=min(size, len(images)), replace=False)
    return images[np.sort(pick)]


def build_files(result, folder: Path, opset: int = 17, calibration_size: int = CALIBRATION_SIZE,
                calibration_method: str = CALIBRATION_METHOD,
                on_status: Callable[[str], None] | None = None, should_stop=None) -> dict[str, Any]:
    """Write model.pt and the three ONNX files into ``folder``; return measurements.

    ``should_stop()`` is asked between the steps (:class:`~mdr.errors.RunStopped` ends them)."""
    import torch

    from mdr.training.export import export_onnx, quantize_dynamic, quantize_static

    config = result.config
    test_images, test_labels = load_split("test", config.data_dir)
    checkpoint = folder / registry.CHECKPOINT
    tmp = folder / f".{registry.CHECKPOINT}.tmp"
    torch.save({"arch": config.arch, "state_dict": result.model.state_dict(), "config": asdict(config)}, tmp)
    os.replace(tmp, checkpoint)

    _say(on_status, "Exporting to ONNX...")
    fp32 = folder / registry.ONNX_FILES["fp32"]
    diff = export_onnx(result.model, fp32, opset=opset, check_images=test_images[:500])
    stop_point(should_stop)
    _say(on_status, f"Quantizing (static int8, {calibration_size} training digits; dynamic int8)...")
    quantize_static(fp32, folder / registry.ONNX_FILES["int8"], calibration_images(config, calibration_size),
                    method=calibration_method)
    quantize_dynamic(fp32, folder / registry.ONNX_FILES["int8-dynamic"])
    stop_point(should_stop)

    accuracy, evaluations = {}, {}
    for precision, filename in registry.ONNX_FILES.items():
        _say(on_status, f"Evaluating {precision} on {len(test_images):,} MNIST test digits...")
        evaluations[precision] = evaluate_onnx(folder / filename, test_images, test_labels)
        accuracy[precision] = evaluations[precision]["accuracy"]
        stop_point(should_stop)
    return {
        "export_max_abs_diff": diff,
        "accuracy": accuracy,
        "evaluations": evaluations,
        "test_images": len(test_images),
        "sizes": {f: (folder / f).stat().st_size for f in [*registry.ONNX_FILES.values(), registry.CHECKPOINT]},
    }


def make_card(name: str, result, measured: dict[str, Any], command: str, command_explicit: str,
              opset: int, calibration_size: int, calibration_method: str) -> dict[str, Any]:
    import onnxruntime
    import torch

    from mdr.training.nets import count_parameters

    config = result.config
    int8 = measured["evaluations"]["int8"]
    return {
        "name": name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "command_explicit": command_explicit,
        "seed": config.seed,
        "config": asdict(config),
        "data": _data_record(config, result, measured),
        "architecture": {
            "name": config.arch,
            "description": result.model.description,
            "parameters": count_parameters(result.model),
        },
        "input": {"name": "image", "shape": ["batch", 1, 28, 28], "dtype": "float32",
                  "range": "0..1, bright ink on black, MNIST normalization inside the model"},
        "output": {"name": "logits", "shape": ["batch", config.classes],
                   **({"class_10": "not a single digit (touching digits, part of a digit, a fragment)"}
                      if config.classes > 10 else {})},
        "metrics": {
            "test_accuracy": measured["accuracy"],
            "val_accuracy": result.best_val_acc,
            "int8_per_class": int8["per_class"],
            "int8_confusion": int8["confusion"],
            "fp32_per_class": measured["evaluations"]["fp32"]["per_class"],
        },
        "files": {"bytes": measured["sizes"], "onnx": registry.ONNX_FILES, "checkpoint": registry.CHECKPOINT},
        "onnx": {
            "opset": opset,
            "export_max_abs_diff": measured["export_max_abs_diff"],
            "int8_format": "QDQ, uint8 activations, per-channel int8 weights",
            "calibration": {"images": calibration_size, "source": "MNIST training set", "method": calibration_method},
        },
        "training": {
            "seconds": round(result.seconds, 1),
            "cpu_seconds": round(result.cpu_seconds, 1),
            "threads": config.threads,
            "epochs_done": result.epochs_done,
            "steps": result.steps,
            "device": result.device,
            "torch_version": torch.__version__,
            "onnxruntime_version": onnxruntime.__version__,
            "python_version": platform.python_version(),
            "final_loss": result.history.epoch_loss[-1] if result.history.epoch_loss else None,
        },
    }


def _data_record(config, result, measured: dict[str, Any]) -> dict[str, Any]:
    """What the model learned from: MNIST's checksums and split sizes, and with
    ``mnist+pen`` the pen-digits file, its writer split and how its digits were rendered."""
    record = {
        "dataset": "MNIST" if config.data_mix == "mnist" else "MNIST + pen-digits (training writers)",
        "mix": config.data_mix,
        "checksums": checksums(config.data_dir),
        "train_images": result.train_images,
        "val_images": result.val_images,
        "test_images": measured["test_images"],
    }
    pen = getattr(result, "pen", None)
    if pen is not None:
        record["pen"] = pen
        record["mnist_train_images"] = result.train_images - pen["images"]
    reject = getattr(result, "reject", None)
    if reject is not None:
        record["reject"] = reject
        record["mnist_train_images"] = record.get("mnist_train_images", result.train_images) - reject["images"]
    corrections = getattr(result, "corrections", None)
    if corrections is not None:
        record["dataset"] += " + the user's corrections"
        record["corrections"] = corrections
        record["mnist_train_images"] = (record.get("mnist_train_images", result.train_images)
                                        - corrections["images"])
    return record


def carry_strip_reader(source: str | None, build: Path, card: dict[str, Any]) -> None:
    """A model trained from one with a strip reader keeps that reader (it reads strips, not
    the digit classifier's outputs): its files are copied and its card section kept, marked."""
    if not source:
        return
    try:
        source_dir = registry.model_dir(source)
        section = registry.read_card(source).get("strip_reader")
    except (ModelError, OSError):
        return
    files = [registry.STRIP_CHECKPOINT, *registry.STRIP_FILES.values()]
    if section is None or not all((source_dir / f).is_file() for f in files):
        return
    for filename in files:
        shutil.copy2(source_dir / filename, build / filename)
    card["strip_reader"] = {**section, "carried_from": source}
    card.setdefault("files", {})["strip"] = registry.STRIP_FILES
    card["files"].setdefault("bytes", {}).update({f: (build / f).stat().st_size for f in files})


def _make_readable(folder: Path) -> None:
    """Temporary files and folders are private (0600/0700); a model is for everyone to read."""
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)


def replace_folder(build: Path, final: Path) -> None:
    """Rename ``build`` to ``final``; an existing ``final`` is moved away first and deleted after."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=registry.temp_prefix(final.name, "old"), dir=final.parent))
        os.replace(final, old / final.name)
    try:
        os.replace(build, final)
    except BaseException:
        if old is not None:
            os.replace(old / final.name, final)
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def publish(result, name: str, command: str, command_explicit: str = "", activate: bool = True,
            opset: int = 17, calibration_size: int = CALIBRATION_SIZE,
            calibration_method: str = CALIBRATION_METHOD,
            on_status: Callable[[str], None] | None = None, should_stop=None) -> dict[str, Any]:
    """Export, quantize, evaluate and register ``result`` as ``models/<name>/``; return its card.

    ``should_stop()`` is asked until the folder is renamed into place: a yes raises
    :class:`~mdr.errors.RunStopped` and registers nothing."""
    final = registry.model_dir(name)
    root = models_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=registry.temp_prefix(name, "building"), dir=root))
    except OSError as e:
        raise _write_error(e, root, "nothing was registered") from None
    try:
        measured = build_files(result, build, opset, calibration_size, calibration_method, on_status, should_stop)
        card = make_card(name, result, measured, command, command_explicit or command,
                         opset, calibration_size, calibration_method)
        carry_strip_reader(getattr(result.config, "init_from", None), build, card)
        if (getattr(result, "corrections", None) is not None and "strip_reader" in card
                and getattr(result.config, "corrections_strip_steps", 0) > 0):
            from mdr.models.finetune import teach_strip_reader

            teach_strip_reader(result.config, result.corrections, build, card, on_status, should_stop)
        write_json_atomic(build / registry.CARD, card)
        stop_point(should_stop)
        _make_readable(build)
        replace_folder(build, final)
    except OSError as e:
        raise _write_error(e, root, "nothing was registered") from None
    finally:
        shutil.rmtree(build, ignore_errors=True)
    if activate:
        try:
            registry.set_active(name)
        except OSError as e:
            raise _write_error(e, root, f"'{name}' is registered but not active") from None
    return card


def _write_error(error: OSError, root: Path, outcome: str) -> ModelError:
    """A failed write (a full disk, a read-only folder) in words."""
    if error.errno == errno.ENOSPC:
        why = "the disk is full"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder cannot be written to"
    else:
        why = error.strerror or str(error)
    return ModelError(f"The model could not be written to {root} ({why}): {outcome}, and the active model "
                      "is unchanged. Free some space or fix the folder, then train again.")


def train_and_publish(config, name: str, command: str, command_explicit: str = "", activate: bool = True,
                      on_progress=None, should_stop=None, on_status: Callable[[str], None] | None = None,
                      pen_check_n: int | None = None, on_registered: Callable[[], None] | None = None,
                      **publish_options) -> tuple[Any, dict[str, Any] | None]:
    """Train, then publish unless the run was stopped: ``(result, card or None)``.

    A run stopped while it trains or before its folder is in place (export, quantization, the
    strip reader's teaching) registers nothing; its trained model stays in the result, marked
    stopped. Once registered (``on_registered()``), a fine-tune on corrections measures its
    starting model and itself side by side (held-out corrections, MNIST test, ``pen_check_n``
    pen numbers per condition) into the card.
    """
    from mdr.training.loop import train

    registry.validate_name(name)
    registry.clean_leftovers()  # what killed runs left behind
    result = train(config, on_progress=on_progress, should_stop=should_stop)
    if result.stopped:
        return result, None
    if result.epochs_done == 0:
        raise ModelError("Training finished no epoch; nothing was registered.")
    try:
        card = publish(result, name, command, command_explicit, activate, on_status=on_status,
                       should_stop=should_stop, **publish_options)
    except RunStopped:
        return replace(result, stopped=True), None
    if on_registered:
        on_registered()
    if result.corrections is not None and config.init_from:
        from mdr.models.finetune import PEN_CHECK_N, add_report, before_after

        _say(on_status, "Measuring the model before and after the fine-tune…")
        report = before_after(config.init_from, name, result.corrections,
                              PEN_CHECK_N if pen_check_n is None else pen_check_n, on_status)
        card = add_report(name, report)
    return result, card
