"""What the Train page and the model commands do with a registered model.

Evaluation (test accuracy, per-class accuracy, confusion, the misclassified
test digits, accuracy on canvas-like numbers), the comparison of the torch
and ONNX variants, re-export and re-quantization from ``model.pt``, and a
checked activation. Only :func:`compare`, :func:`reexport` and
:func:`requantize` import torch; the rest runs with onnxruntime and numpy.

A model's measurements that take a while are kept next to it, in
``models/<name>/comparison.json``, ``models/<name>/canvas.json`` and
``models/<name>/pen.json``, so the page and the command line show them
without recomputing.
"""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from mdr.models import registry
from mdr.errors import MdrError, ModelError
from mdr.paths import write_json_atomic

COMPARISON = "comparison.json"
CANVAS = "canvas.json"
PEN = "pen.json"
VARIANTS = {
    "torch fp32": registry.CHECKPOINT,
    "ONNX fp32": registry.ONNX_FILES["fp32"],
    "ONNX int8 static": registry.ONNX_FILES["int8"],
    "ONNX int8 dynamic": registry.ONNX_FILES["int8-dynamic"],
}
CANVAS_N = 30
PEN_N = 100
"""Pen numbers per condition the Train page reads: 600 in all, as `make bench` does (seconds)."""


# --------------------------------------------------------------------------
# Reading what is registered
# --------------------------------------------------------------------------
def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def model_rows() -> list[dict[str, Any]]:
    """One row per registered model: its figures, whether it is the active one, and whether it
    reads touching digits with a strip reader."""
    active = registry.active_model_name()
    rows = []
    for name in registry.list_models():
        row: dict[str, Any] = {"name": name, "active": name == active, "problem": None}
        try:
            card = registry.read_card(name)
        except MdrError as e:
            card, row["problem"] = {}, str(e)
        accuracy = (card.get("metrics") or {}).get("test_accuracy") or {}
        sizes = (card.get("files") or {}).get("bytes") or {}
        row.update({
            "arch": (card.get("architecture") or {}).get("name"),
            "acc_int8": accuracy.get("int8"),
            "acc_fp32": accuracy.get("fp32"),
            "int8_bytes": sizes.get(registry.ONNX_FILES["int8"]),
            "created": card.get("created"),
            "strip": registry.strip_path(name, "int8").is_file(),
            "pen_exact": _pen_exact(name),
        })
        if row["problem"] is None and not registry.onnx_path(name, "int8").is_file():
            row["problem"] = f"{registry.ONNX_FILES['int8']} is missing"
        rows.append(row)
    return rows


def _pen_exact(name: str) -> float | None:
    """The share of real-handwriting numbers read exactly in the model's saved pen-eval, if measured."""
    report = saved_pen_accuracy(name) or {}
    exact = ((report.get("overall") or {}).get("recognizer") or {}).get("exact_rate")
    return exact if isinstance(exact, (int, float)) else None


def activate(name: str) -> None:
    """Make ``name`` the active model, after checking that its int8 file loads and reads a digit.

    Raises :class:`ModelError` with the reason; ``active.json`` is then unchanged.
    """
    from mdr.recognition.classifier import OnnxClassifier

    registry.validate_name(name)
    if name not in registry.list_models():
        known = ", ".join(registry.list_models()) or "none"
        raise ModelError(f"There is no registered model '{name}' (registered: {known}).")
    path = registry.onnx_path(name, "int8")
    if not path.is_file():
        raise ModelError(f"Model '{name}' cannot be activated: {path.name} is missing.")
    try:
        OnnxClassifier(path)
    except ModelError as e:
        raise ModelError(f"Model '{name}' cannot be activated: {e}") from None
    registry.set_active(name)


# --------------------------------------------------------------------------
# Evaluation on MNIST's test set
# --------------------------------------------------------------------------
def mnist_predictions(name: str, precision: str = "int8", data_dir: str | None = None) -> dict[str, Any]:
    """Probabilities of every MNIST test digit: ``images``, ``labels``, ``predicted``, ``confidence``."""
    from mdr.recognition.classifier import softmax
    from mdr.evaluation.digits import load_session, predict_logits
    from mdr.data.mnist import load_split

    images, labels = load_split("test", data_dir)
    probabilities = softmax(predict_logits(load_session(registry.onnx_path(name, precision)), images))[:, :10]
    return {"images": images, "labels": labels.astype(np.int64), "predicted": probabilities.argmax(1),
            "confidence": probabilities.max(1)}


def evaluation(name: str, precision: str = "int8", data_dir: str | None = None) -> dict[str, Any]:
    """Accuracy, per-class accuracy, confusion matrix, and the misclassified digits (most confident first)."""
    p = mnist_predictions(name, precision, data_dir)
    labels, predicted = p["labels"], p["predicted"]
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-p["confidence"][wrong], kind="stable")]
    return {
        "accuracy": float((predicted == labels).mean()),
        "per_class": (confusion.diagonal() / np.maximum(confusion.sum(1), 1)).tolist(),
        "confusion": confusion.tolist(),
        "n": int(len(labels)),
        "misclassified": [{"index": int(i), "image": p["images"][i], "true": int(labels[i]),
                           "predicted": int(predicted[i]), "confidence": float(p["confidence"][i])}
                          for i in wrong],
    }


def canvas_accuracy(name: str, n: int = CANVAS_N, seed: int = 0, data_dir: str | None = None,
                    save: bool = True) -> dict[str, Any]:
    """Exact-number accuracy of the recognizer with model ``name`` on ``n`` canvas-like numbers per condition."""
    from mdr.evaluation.numbers import ReaderScore
    from mdr.recognition.config import RecognizerConfig
    from mdr.recognition.recognizer import Recognizer
    from mdr.data.synth import CONDITIONS, make_set

    recognizer = Recognizer(model=name, config=RecognizerConfig(precision="int8"))
    conditions = {}
    for condition in CONDITIONS:
        score = ReaderScore()
        for sample in make_set(condition, n, seed=seed, data_dir=data_dir):
            start = time.perf_counter()
            try:
                read, error = recognizer.recognize(sample.image).number, None
            except Exception as e:  # counted as a wrong reading
                read, error = None, e
            score.add(sample.number, read, time.perf_counter() - start, error)
        conditions[condition] = {"exact_rate": score.exact_rate, "digit_rate": score.digit_rate, "n": score.total}
    report = {"model": name, "n": n, "seed": seed, "conditions": conditions,
              "overall": float(np.mean([c["exact_rate"] for c in conditions.values()]))}
    if save:
        write_json_atomic(registry.model_dir(name) / CANVAS, report)
    return report


def saved_canvas_accuracy(name: str) -> dict[str, Any] | None:
    return _read_json(registry.model_dir(name) / CANVAS)


def pen_accuracy(name: str, n: int | None = None, seed: int = 0, save: bool = True,
                 progress=None) -> dict[str, Any]:
    """pen-eval of model ``name`` (int8) on the evaluation writers: real handwriting no shipped model trained
    on, read by the recognizer and the original pipeline; the JSON report of ``python -m mdr pen-eval --json``."""
    from mdr.evaluation.pen_eval import PenEvalSettings, report_dict, run_pen_eval

    registry.read_card(name)  # a model that is not registered is refused before anything is drawn
    report = report_dict(run_pen_eval(PenEvalSettings(n=n or PEN_N, seed=seed, model=name), progress=progress))
    if save:
        save_pen_report(name, report)
    return report


def save_pen_report(name: str, report: dict[str, Any]) -> Path:
    """Keep a pen-eval report (``report_dict``) of the evaluation writers beside model ``name``."""
    path = registry.model_dir(name) / PEN
    write_json_atomic(path, report)
    return path


def saved_pen_accuracy(name: str) -> dict[str, Any] | None:
    return _read_json(registry.model_dir(name) / PEN)


# --------------------------------------------------------------------------
# torch fp32 / ONNX fp32 / int8 static / int8 dynamic
# --------------------------------------------------------------------------
def load_checkpoint(name: str):
    """The torch model saved in ``models/<name>/model.pt`` (eval mode) and its TrainConfig."""
    import torch

    from mdr.training.nets import build_model, classes_in
    from mdr.training.config import TrainConfig

    path = registry.model_dir(name) / registry.CHECKPOINT
    if not path.is_file():
        raise ModelError(f"Model '{name}' has no {registry.CHECKPOINT} to start from.")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(saved["arch"], classes_in(saved["state_dict"]))
        model.load_state_dict(saved["state_dict"])
    except Exception as e:  # a truncated or foreign file
        raise ModelError(f"{path.name} of '{name}' could not be loaded ({type(e).__name__}: {e}).") from None
    known = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in (saved.get("config") or {}).items() if k in known})
    config.data_dir = None  # the folder of the machine that trained it may not exist here
    return model.eval(), config


def _median_ms(run, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def compare(name: str, repeats: int = 30, data_dir: str | None = None, save: bool = True) -> dict[str, Any]:
    """Accuracy, file size and batch-1 / batch-256 latency (median of ``repeats``) of each variant.

    Everything runs on one CPU thread so the variants are compared fairly.
    """
    import torch

    from mdr.evaluation.digits import digit_argmax, load_session, predict_logits
    from mdr.data.mnist import load_split

    images, labels = load_split("test", data_dir)
    folder = registry.model_dir(name)
    x = images.astype(np.float32)[:, None] / 255.0
    one, batch = x[:1], x[:256]
    rows = []
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, _ = load_checkpoint(name)
        with torch.no_grad():
            predicted = np.concatenate([model(torch.from_numpy(x[i:i + 1000]))[:, :10].argmax(1).numpy()
                                        for i in range(0, len(x), 1000)])
            rows.append(_row("torch fp32", folder / registry.CHECKPOINT, float((predicted == labels).mean()),
                             _median_ms(lambda: model(torch.from_numpy(one)), repeats),
                             _median_ms(lambda: model(torch.from_numpy(batch)), max(3, repeats // 3))))
    finally:
        torch.set_num_threads(previous_threads)
    for variant, filename in list(VARIANTS.items())[1:]:
        session = load_session(folder / filename, threads=1)
        predicted = digit_argmax(predict_logits(session, images))
        input_name = session.get_inputs()[0].name
        rows.append(_row(variant, folder / filename, float((predicted == labels).mean()),
                         _median_ms(lambda: session.run(None, {input_name: one}), repeats),
                         _median_ms(lambda: session.run(None, {input_name: batch}), max(3, repeats // 3))))
    report = {"model": name, "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "test_images": int(len(labels)),
              "repeats": repeats, "threads": 1, "rows": rows}
    if save:
        write_json_atomic(folder / COMPARISON, report)
    return report


def _row(variant: str, path: Path, accuracy: float, ms1: float, ms256: float) -> dict[str, Any]:
    return {"variant": variant, "file": path.name, "accuracy": accuracy, "bytes": path.stat().st_size,
            "batch1_ms": round(ms1, 4), "batch256_ms": round(ms256, 3)}


def saved_comparison(name: str) -> dict[str, Any] | None:
    return _read_json(registry.model_dir(name) / COMPARISON)


def comparison_markdown(report: dict[str, Any]) -> str:
    lines = ["| variant | accuracy | size | batch 1 (ms) | batch 256 (ms) |", "|---|---:|---:|---:|---:|"]
    for r in report["rows"]:
        lines.append(f"| {r['variant']} | {r['accuracy']:.2%} | {r['bytes'] / 1000:.0f} KB | "
                     f"{r['batch1_ms']:.3f} | {r['batch256_ms']:.2f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Re-export and re-quantize from model.pt, then update the card
# --------------------------------------------------------------------------
def reexport(name: str, opset: int | None = None, data_dir: str | None = None) -> dict[str, Any]:
    """Write ``model.onnx`` again from ``model.pt`` (atomically); returns the updated card."""
    from mdr.training.export import export_onnx
    from mdr.data.mnist import load_split

    card = registry.read_card(name)
    opset = opset or (card.get("onnx") or {}).get("opset") or 17
    model, _ = load_checkpoint(name)
    images, _ = load_split("test", data_dir)
    diff = export_onnx(model, registry.onnx_path(name, "fp32"), opset=opset, check_images=images[:500])
    card.setdefault("onnx", {}).update({"opset": opset, "export_max_abs_diff": diff})
    return _refresh_card(name, card, ["fp32"], data_dir)


def requantize(name: str, calibration_size: int | None = None, method: str | None = None,
               data_dir: str | None = None) -> dict[str, Any]:
    """Write both int8 files again from ``model.onnx`` (atomically); returns the updated card."""
    from mdr.training.export import quantize_dynamic, quantize_static
    from mdr.models.publish import calibration_images

    card = registry.read_card(name)
    calibration = (card.get("onnx") or {}).get("calibration") or {}
    size = calibration_size or calibration.get("images") or 500
    method = method or calibration.get("method") or "minmax"
    fp32 = registry.onnx_path(name, "fp32")
    if not fp32.is_file():
        raise ModelError(f"Model '{name}' has no {fp32.name}: run `python -m mdr export --model {name}` first.")
    _, config = load_checkpoint(name)
    config.data_dir = data_dir
    quantize_static(fp32, registry.onnx_path(name, "int8"), calibration_images(config, size), method=method)
    quantize_dynamic(fp32, registry.onnx_path(name, "int8-dynamic"))
    card.setdefault("onnx", {})["calibration"] = {"images": size, "source": "MNIST training set", "method": method}
    return _refresh_card(name, card, ["int8", "int8-dynamic"], data_dir)


def _refresh_card(name: str, card: dict[str, Any], precisions: list[str], data_dir: str | None) -> dict[str, Any]:
    from mdr.evaluation.digits import evaluate_onnx
    from mdr.data.mnist import load_split

    images, labels = load_split("test", data_dir)
    metrics = card.setdefault("metrics", {})
    for precision in precisions:
        result = evaluate_onnx(registry.onnx_path(name, precision), images, labels)
        metrics.setdefault("test_accuracy", {})[precision] = result["accuracy"]
        if precision in ("int8", "fp32"):
            metrics[f"{precision}_per_class"] = result["per_class"]
        if precision == "int8":
            metrics["int8_confusion"] = result["confusion"]
    folder = registry.model_dir(name)
    card.setdefault("files", {})["bytes"] = {
        f: (folder / f).stat().st_size for f in [*registry.ONNX_FILES.values(), registry.CHECKPOINT]
        if (folder / f).is_file()}
    write_json_atomic(folder / registry.CARD, card)
    (folder / COMPARISON).unlink(missing_ok=True)  # measured on the old files
    return card
