"""The classifier's input for an image that holds one digit, made the recognizer's way.

Training on digits that went through the same grey conversion, working
scale, polarity decision, binarization, speck removal and normalization as a
drawing does at recognition time makes train-time inputs look like what the
classifier is given later; this runs exactly those steps, without a model.
"""
from __future__ import annotations

import numpy as np

from mdr.recognition.config import DEFAULT_CONFIG, RecognizerConfig
from mdr.recognition.normalize import normalize_digit
from mdr.recognition.preprocess import ink_mask
from mdr.recognition.segment import estimate_stroke_width, find_components, remove_specks


def digit_input(image: np.ndarray, config: RecognizerConfig = DEFAULT_CONFIG) -> np.ndarray | None:
    """28x28 float32 (0..1, ink bright) of the one digit in ``image``; None when only specks are found.

    All kept marks are read as one digit (its strokes, as the recognizer's
    merge step joins them), the crop holding only their ink.
    """
    mask = ink_mask(image, config)
    labels, components = find_components(mask)
    stroke = estimate_stroke_width(mask)
    kept, _ = remove_specks(components, stroke, config)
    if not kept:
        return None
    x0 = min(c.box[0] for c in kept)
    y0 = min(c.box[1] for c in kept)
    x1 = max(c.box[0] + c.box[2] for c in kept)
    y1 = max(c.box[1] + c.box[3] for c in kept)
    inside = np.isin(labels[y0:y1, x0:x1], [c.label for c in kept])
    crop = np.where(inside, mask[y0:y1, x0:x1], 0).astype(np.uint8)
    return normalize_digit(crop, config, stroke).final
