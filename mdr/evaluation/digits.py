"""Accuracy of an ONNX model on labelled digits, with onnxruntime and numpy only.

No torch here: measuring a model must work wherever recognition does.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mdr.errors import ModelError


def load_session(path: str | os.PathLike, threads: int = 2):
    """An onnxruntime CPU session for ``path``; ModelError when missing or broken."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    # Waiting threads sleep instead of spinning: on a busy machine spinning only steals time.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise ModelError(f"Model file {path} could not be loaded: {e}") from e


def predict_logits(session, images_uint8: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Logits ``[N, 10]`` (``[N, 11]`` with a reject class) for uint8 ``[N, 28, 28]`` digits (bright ink on black)."""
    input_name = session.get_inputs()[0].name
    out = []
    for start in range(0, len(images_uint8), batch_size):
        batch = images_uint8[start:start + batch_size].astype(np.float32)[:, None] / 255.0
        out.append(session.run(None, {input_name: batch})[0])
    return np.concatenate(out) if out else np.zeros((0, 10), np.float32)


def digit_argmax(logits: np.ndarray) -> np.ndarray:
    """The most likely of the ten digits; a reject-trained model's class 10 is never a digit's answer."""
    return np.asarray(logits)[:, :10].argmax(1)


def evaluate_onnx(path: str | os.PathLike, images_uint8: np.ndarray, labels: np.ndarray,
                  batch_size: int = 1000) -> dict[str, Any]:
    """Accuracy, per-class accuracy and the 10x10 confusion matrix (rows: true digit)."""
    labels = np.asarray(labels).astype(np.int64)
    if len(images_uint8) != len(labels):
        raise ValueError("images and labels differ in length.")
    predicted = digit_argmax(predict_logits(load_session(path), images_uint8, batch_size))
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
    return {
        "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
        "per_class": [round(float(a), 6) for a in per_class],
        "confusion": confusion.tolist(),
        "n": int(len(labels)),
    }
