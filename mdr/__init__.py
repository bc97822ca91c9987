"""mdr, the Multi-Digit Recognizer: read whole handwritten numbers.

    from mdr import Recognizer
    result = Recognizer().recognize(image)   # numpy array
    result.number, [d.confidence for d in result.digits]

The recognition path uses ONNX Runtime only; torch is imported by training
and export alone.
"""
from __future__ import annotations

from mdr.recognition.config import RecognizerConfig
from mdr.errors import (DataError, ImageTooLargeError, InvalidImageError, MdrError, ModelError,
                     NothingToReadError)

__all__ = [
    "Recognizer", "Recognition", "Digit", "RecognizerConfig",
    "MdrError", "InvalidImageError", "ImageTooLargeError", "NothingToReadError", "ModelError", "DataError",
]


def __getattr__(name: str):
    # Lazy, so ``import mdr.data.mnist`` or ``mdr.training`` does not load ONNX Runtime.
    if name == "Recognizer":
        from mdr.recognition.recognizer import Recognizer
        return Recognizer
    if name in ("Recognition", "Digit"):
        from mdr.recognition import results
        return getattr(results, name)
    raise AttributeError(name)
