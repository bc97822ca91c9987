"""The digit classifier: one ONNX Runtime session per model file, reused."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort

from mdr.errors import ModelError

_SESSIONS: dict[tuple[str, int, int], "OnnxClassifier"] = {}
_LOCK = threading.Lock()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


DIGITS = 10
REJECT_CLASS = 10
"""An 11-output model's last class: "not a single digit" (touching digits, part of one)."""


class OnnxClassifier:
    """Probabilities of the ten digits for a batch of 28x28 inputs, and with an
    11-output model of "not a single digit" too (column :data:`REJECT_CLASS`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.session = open_session(self.path, "model file")
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(f"The model {self.path.name} must have one input and one output.")
        shape = inputs[0].shape
        if len(shape) != 4 or list(shape[1:]) != [1, 28, 28]:
            raise ModelError(
                f"The model {self.path.name} expects input of shape {shape}; a digit model takes [N, 1, 28, 28]."
            )
        self.input_name = inputs[0].name
        try:
            probe = self.session.run(None, {self.input_name: np.zeros((1, 1, 28, 28), np.float32)})[0]
        except Exception as e:  # noqa: BLE001
            raise ModelError(f"The model {self.path.name} failed on a test input ({type(e).__name__}).") from None
        if probe.ndim != 2 or probe.shape[1] not in (DIGITS, DIGITS + 1):
            raise ModelError(f"The model {self.path.name} gives {probe.shape[1:]} outputs; a digit model gives 10 "
                             "(or 11 with a reject class).")
        self.classes = int(probe.shape[1])

    @property
    def has_reject(self) -> bool:
        """True for a model with the "not a single digit" class."""
        return self.classes > DIGITS

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """Softmax over all the model's classes: ``[N, 10]`` or ``[N, 11]``."""
        batch = np.asarray(batch, np.float32)
        if batch.shape[0] == 0:
            return np.zeros((0, self.classes), np.float32)
        logits = self.session.run(None, {self.input_name: batch.reshape(-1, 1, 28, 28)})[0]
        return softmax(logits.astype(np.float32))


def open_session(path: Path, what: str) -> ort.InferenceSession:
    """A one-thread CPU session of an ONNX file (the app reads many requests side by side);
    a missing or broken file raises ModelError naming ``what`` it should have been."""
    if not path.is_file():
        raise ModelError(f"The {what} {path} is missing.")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - ORT raises many types for bad files
        raise ModelError(f"The {what} {path.name} is not a valid ONNX model ({type(e).__name__}).") from None


def load_versioned(path: str | Path, make, what: str, cache: dict):
    """``make(path)``, shared per file version in ``cache``: created once, reused by every caller.

    A version is the file's path, modification time (ns) and size, so a file written again
    (re-exported, re-quantized, retrained) gets a new object on the next call; callers that
    hold the old one keep reading with it. Older versions of that path leave the cache.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise ModelError(f"The {what} {path} is missing.") from None
    resolved = str(path.resolve())
    key = (resolved, stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        if key not in cache:
            cache[key] = make(path)
            for old in [k for k in cache if k[0] == resolved and k != key]:
                del cache[old]
        return cache[key]


def load_classifier(path: str | Path) -> OnnxClassifier:
    """The shared classifier of a file version (:func:`load_versioned`)."""
    return load_versioned(path, OnnxClassifier, "model file", _SESSIONS)
