"""The original app's pipeline, kept only to measure what the new one improves.

It is reproduced as it was, flaws included: polarity is assumed (dark ink on
a light background), every external contour of a plausible size is a digit,
each box is stretched to 28x28 without keeping its aspect ratio, and the
model is called once per digit. It reads a single line. Do not use it to
recognize anything; use :class:`mdr.Recognizer`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from mdr.errors import InvalidImageError, ModelError
from mdr.recognition.results import Box


@dataclass(frozen=True)
class BaselineSettings:
    """The old app's constants."""

    min_side: int = 10
    """Contours whose box is not wider and taller than this are dropped."""
    max_side: int = 400
    """Contours whose box is not narrower and shorter than this are dropped."""
    input_size: int = 28


BASELINE = BaselineSettings()


def grey_as_drawn(image: np.ndarray) -> np.ndarray:
    """Greyscale of the image as it looks; an RGBA canvas is composited onto white."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InvalidImageError("The baseline reads uint8 images only.")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        rgb = image[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return cv2.cvtColor(np.round(rgb).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    raise InvalidImageError(f"The baseline cannot read an image of shape {image.shape}.")


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Otsu threshold, inverted: assumes dark ink on a light background."""
    _, mask = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask


def digit_boxes(mask: np.ndarray, settings: BaselineSettings = BASELINE) -> list[Box]:
    """Boxes of external contours within the size limits, left to right."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [cv2.boundingRect(c) for c in contours]
    kept = [b for b in boxes
            if settings.min_side < b[2] < settings.max_side and settings.min_side < b[3] < settings.max_side]
    return sorted(kept, key=lambda b: b[0])


def stretch_to_input(mask: np.ndarray, box: Box, settings: BaselineSettings = BASELINE) -> np.ndarray:
    """Crop ``box`` and resize it to 28x28 regardless of its shape, as 0..1 floats."""
    x, y, w, h = box
    crop = mask[y:y + h, x:x + w]
    size = settings.input_size
    return cv2.resize(crop, (size, size)).astype(np.float32) / 255.0


class BaselineRecognizer:
    """Reads a number the way the original app did, with any ONNX digit model."""

    def __init__(self, model_path: str | os.PathLike, settings: BaselineSettings = BASELINE):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises several unrelated types
            raise ModelError(f"The model {model_path} could not be loaded: {e}") from e
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.input_rank = len(model_input.shape)
        self.settings = settings

    def classify_one(self, digit: np.ndarray) -> int:
        """One model call for one 28x28 digit (the old app did not batch)."""
        size = self.settings.input_size
        batch = digit.reshape((1, 1, size, size) if self.input_rank == 4 else (1, size, size))
        (scores,) = self.session.run(None, {self.input_name: batch.astype(np.float32)})[:1]
        return int(np.argmax(scores[0][:10]))  # a reject class (11th output) is never a digit

    def recognize(self, image: np.ndarray) -> str:
        mask = ink_mask(grey_as_drawn(image))
        return "".join(str(self.classify_one(stretch_to_input(mask, box, self.settings)))
                       for box in digit_boxes(mask, self.settings))
