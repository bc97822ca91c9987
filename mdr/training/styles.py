"""Ways people write digits that neither MNIST nor every pen writer shows: added strokes.

A slashed zero (a diagonal or upright bar through the ring), a crossed seven
(a bar across the stem), and a one with a flag at the top and a foot at the
bottom are made from a pen digit's own trajectory by adding one or two
pen strokes, in its millimetre coordinates, before it is stroked onto a
canvas. The label stays: these are the same digits, written another way.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from mdr.data.pen import PenDigit

STYLED_LABELS = (0, 1, 7)


def _line(a: tuple[float, float], b: tuple[float, float], points: int = 8) -> np.ndarray:
    t = np.linspace(0.0, 1.0, points, dtype=np.float32)[:, None]
    return (np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t).astype(np.float32)


def slashed_zero(digit: PenDigit, rng: np.random.Generator) -> PenDigit:
    """A bar through the ring, reaching a little past it: "/" as often as upright."""
    x0, y0, w, h = digit.extent
    over = float(rng.uniform(0.05, 0.25)) * h
    if rng.random() < 0.5:  # diagonal, bottom-left to top-right
        bar = _line((x0 - 0.1 * w, y0 + h + over * 0.6), (x0 + 1.1 * w, y0 - over * 0.6))
    else:  # upright, slightly leaning
        cx = x0 + w * float(rng.uniform(0.4, 0.6))
        lean = float(rng.uniform(-0.15, 0.15)) * w
        bar = _line((cx - lean, y0 + h + over), (cx + lean, y0 - over))
    return replace(digit, strokes=digit.strokes + (bar,))


def crossed_seven(digit: PenDigit, rng: np.random.Generator) -> PenDigit:
    """A short bar across the middle of the stem."""
    x0, y0, w, h = digit.extent
    points = np.concatenate(digit.strokes)
    y = y0 + h * float(rng.uniform(0.45, 0.6))
    near = points[np.abs(points[:, 1] - y) < 0.12 * h]
    cx = float(near[:, 0].mean()) if len(near) else x0 + 0.5 * w
    half = max(0.2 * h, 0.3 * w) * float(rng.uniform(0.8, 1.2))
    tilt = float(rng.uniform(-0.05, 0.05)) * h
    return replace(digit, strokes=digit.strokes + (_line((cx - half, y + tilt), (cx + half, y - tilt)),))


def flagged_one(digit: PenDigit, rng: np.random.Generator) -> PenDigit:
    """A flag from the top down to the left, and (mostly) a foot across the bottom."""
    _, _, w, h = digit.extent
    points = np.concatenate(digit.strokes)
    top = points[points[:, 1].argmin()]
    bottom = points[points[:, 1].argmax()]
    flag = float(rng.uniform(0.2, 0.4)) * h
    strokes = digit.strokes + (_line((top[0] - flag * 0.9, top[1] + flag * float(rng.uniform(0.5, 0.9))),
                                     (top[0], top[1])),)
    if rng.random() < 0.7:
        foot = float(rng.uniform(0.2, 0.35)) * h
        strokes += (_line((bottom[0] - foot, bottom[1]), (bottom[0] + foot, bottom[1])),)
    return replace(digit, strokes=strokes)


STYLES = {0: slashed_zero, 1: flagged_one, 7: crossed_seven}


def restyle(digit: PenDigit, p: float, rng: np.random.Generator) -> PenDigit:
    """With probability ``p``, the digit written in its other style (0, 1 and 7 only)."""
    style = STYLES.get(digit.label)
    if style is None or p <= 0 or rng.random() >= p:
        return digit
    return style(digit, rng)


def check_styles(p: float) -> None:
    """Raise ValueError, in words, on a restyling chance that is not a probability."""
    if not 0 <= p <= 1:
        raise ValueError("pen_styles is a probability: between 0 and 1.")
