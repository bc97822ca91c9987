"""Make one digit look the way MNIST digits look to the model.

MNIST digits were fitted into a 20x20 box keeping their aspect ratio,
anti-aliased, and centred by centre of mass in 28x28; their strokes are
about 2-3 px wide. A canvas digit can be drawn with any brush at any size,
so the stroke is brought to that width too: re-drawn along its skeleton
when too thick (a 30 px brush on a small digit), widened when too thin.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from skimage.morphology import skeletonize

from mdr.recognition.config import RecognizerConfig
from mdr.recognition.results import NormalizationSteps
from mdr.recognition.segment import estimate_stroke_width

BOX = 20
SIZE = 28
CANONICAL = 80
"""Stroke changes happen with the digit's longer side at this many pixels."""
STROKE_TOLERANCE = (0.65, 1.5)
"""Stroke widths within these factors of the target are left as drawn."""
SKELETON_LEVEL = 64
"""Grey level (of 255) at which a half-resolution pixel counts as ink for thinning: a stroke one
pixel wide at full resolution still covers half of it."""


def _disk(diameter: float) -> np.ndarray:
    return _disk_of(max(1, int(round(diameter))))


@lru_cache(maxsize=64)
def _disk_of(d: int) -> np.ndarray:
    """A round brush ``d`` pixels across (made once per size: every piece of a split search asks)."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))


def _to_canonical(mask: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = mask.shape
    scale = CANONICAL / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = cv2.resize(mask, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return cv2.threshold(resized, 127, 255, cv2.THRESH_BINARY)[1], scale


def _coarse_skeleton(canonical: np.ndarray) -> np.ndarray:
    """The mask's skeleton (0/255, the mask's size), thinned at half the resolution: thinning
    costs in proportion to the pixels, and the skeleton is re-drawn with a brush several pixels
    wide, so a two-pixel step in where it runs does not show in the 28x28 input."""
    h, w = canonical.shape
    half = cv2.resize(canonical, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    thin = skeletonize(half >= SKELETON_LEVEL).astype(np.uint8) * 255
    return cv2.resize(thin, (w, h), interpolation=cv2.INTER_NEAREST)


def adjust_stroke(mask: np.ndarray, stroke_width: float, config: RecognizerConfig) -> np.ndarray:
    """Return the digit's mask with a stroke width the model knows."""
    if not config.normalize_stroke:
        return mask
    h, w = mask.shape
    width_in_box = stroke_width * BOX / max(h, w)
    low, high = STROKE_TOLERANCE
    if low * config.target_stroke <= width_in_box <= high * config.target_stroke:
        return mask
    canonical, _ = _to_canonical(mask)
    target = config.target_stroke * CANONICAL / BOX
    if width_in_box > high * config.target_stroke:
        # Erode to the target width (holes that survived the thick brush grow
        # back to their shape), and keep the skeleton re-drawn at that width
        # so parts thinner than the average stroke do not vanish.
        current = stroke_width * CANONICAL / max(h, w)
        padded = cv2.copyMakeBorder(canonical, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        dist = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
        core = ((dist > (current - target) / 2) * 255).astype(np.uint8)
        return cv2.max(core, cv2.dilate(_coarse_skeleton(canonical), _disk(target)))
    current = stroke_width * CANONICAL / max(h, w)
    return cv2.dilate(canonical, _disk(max(1.0, target - current)))


def fit_and_center(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Longer side to 20 px (aspect kept), then centre of mass to the centre."""
    h, w = mask.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = cv2.resize(np.divide(mask, np.float32(255.0), dtype=np.float32), size, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((SIZE, SIZE), np.float32)
    top, left = (SIZE - size[1]) // 2, (SIZE - size[0]) // 2
    canvas[top:top + size[1], left:left + size[0]] = resized
    moments = cv2.moments(canvas)
    total = float(moments["m00"])
    if total <= 0:
        return resized, canvas, (0.0, 0.0)
    cy, cx = moments["m01"] / total, moments["m10"] / total
    dx, dy = (SIZE - 1) / 2 - cx, (SIZE - 1) / 2 - cy
    # Never shift ink out of the frame.
    dx = float(min(max(dx, -left), SIZE - left - size[0]))
    dy = float(min(max(dy, -top), SIZE - top - size[1]))
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    final = cv2.warpAffine(canvas, shift, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderValue=0)
    return resized, np.clip(final, 0.0, 1.0, out=final), (dx, dy)


def normalize_digit(mask: np.ndarray, config: RecognizerConfig,
                    stroke_width: float | None = None) -> NormalizationSteps:
    """The 28x28 float input for one digit given its tight 0/255 ink crop."""
    if stroke_width is None:
        stroke_width = estimate_stroke_width(mask)
    adjusted = adjust_stroke(mask, stroke_width, config)
    resized, final, shift = fit_and_center(adjusted)
    return NormalizationSteps(mask, stroke_width, adjusted, resized, shift, np.asarray(final, np.float32))
