"""How well a model reads the stored corrections: each drawing re-read, as the user wrote it."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mdr.corrections.store import Correction
from mdr.errors import MdrError


@dataclass(frozen=True)
class CorrectionScore:
    model: str
    drawings: int
    exact: float
    """Share of drawings read as the true number."""
    digits: float | None
    """Per-digit accuracy over readings with the right digit count (None: none had it)."""


def decode_png(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise MdrError("A stored drawing is not a readable PNG.")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return image


def score_model(model: str, corrections: list[Correction]) -> CorrectionScore:
    """Re-read every drawing with ``model`` (int8) and compare with what was written."""
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(model=model)
    exact = right = counted = 0
    for c in corrections:
        try:
            read = recognizer.recognize(decode_png(c.image_png)).number
        except MdrError:
            read = ""
        exact += read == c.true_number
        truth, got = c.true_number.replace("\n", ""), read.replace("\n", "")
        if len(truth) == len(got):
            right += sum(a == b for a, b in zip(truth, got))
            counted += len(truth)
    n = len(corrections)
    return CorrectionScore(model, n, exact / n if n else 0.0, right / counted if counted else None)
