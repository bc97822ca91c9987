"""Digits as mouse strokes: polylines in a unit box, smoothed like a pen would draw them.

Each digit is a list of strokes; each stroke a list of (x, y) points in a box one unit
high and ``ASPECT`` wide (y grows downwards). A point given twice in a row is a corner.
"""
from __future__ import annotations

import math

ASPECT = 0.62


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 26, start: float = -100.0):
    # counter-clockwise from near the top, slightly overlapping its start like a pen does
    return [(cx + rx * math.cos(math.radians(start - 375 * i / n)),
             cy + ry * math.sin(math.radians(start - 375 * i / n))) for i in range(n + 1)]


DIGITS: dict[str, list[list[tuple[float, float]]]] = {
    "0": [_ellipse(0.5, 0.5, 0.4, 0.5)],
    "1": [[(0.55, 0.0), (0.52, 0.5), (0.5, 1.0)]],
    "2": [[(0.12, 0.28), (0.22, 0.08), (0.45, 0.0), (0.68, 0.04), (0.83, 0.2), (0.8, 0.42),
           (0.55, 0.68), (0.1, 1.0), (0.1, 1.0), (0.5, 0.98), (0.92, 0.97)]],
    "3": [[(0.15, 0.1), (0.4, 0.0), (0.7, 0.04), (0.82, 0.2), (0.7, 0.38), (0.42, 0.47),
           (0.42, 0.47), (0.74, 0.56), (0.88, 0.74), (0.78, 0.92), (0.5, 1.0), (0.15, 0.92)]],
    "4": [[(0.55, 0.0), (0.1, 0.66), (0.1, 0.66), (0.92, 0.66)], [(0.68, 0.2), (0.68, 1.0)]],
    "5": [[(0.85, 0.0), (0.85, 0.0), (0.28, 0.02), (0.28, 0.02), (0.2, 0.46), (0.2, 0.46), (0.48, 0.38),
           (0.75, 0.46), (0.87, 0.68), (0.78, 0.9), (0.5, 1.0), (0.15, 0.92)]],
    "6": [[(0.72, 0.0), (0.45, 0.16), (0.24, 0.45), (0.18, 0.75), (0.32, 0.96), (0.6, 0.99),
           (0.8, 0.82), (0.76, 0.6), (0.52, 0.5), (0.26, 0.62)]],
    "7": [[(0.08, 0.03), (0.9, 0.03), (0.9, 0.03), (0.66, 0.42), (0.44, 1.0)]],
    "8": [[(0.76, 0.12), (0.5, 0.0), (0.24, 0.1), (0.25, 0.3), (0.5, 0.47), (0.78, 0.64),
           (0.78, 0.88), (0.5, 1.0), (0.22, 0.88), (0.22, 0.64), (0.5, 0.47), (0.74, 0.3), (0.76, 0.12)]],
    "9": [[(0.8, 0.16), (0.55, 0.0), (0.26, 0.07), (0.2, 0.3), (0.42, 0.45), (0.7, 0.38),
           (0.8, 0.16), (0.8, 0.16), (0.77, 0.55), (0.7, 1.0)]],
}


# Digits people often draw with two pen strokes: the bar of a 5 and of a 7 added separately
# (the 4 above is already two strokes: the open angle, then the upright).
TWO_STROKE: dict[str, list[list[tuple[float, float]]]] = {
    "4": DIGITS["4"],
    "5": [[(0.3, 0.02), (0.3, 0.02), (0.22, 0.46), (0.22, 0.46), (0.48, 0.38), (0.75, 0.46), (0.87, 0.68),
           (0.78, 0.9), (0.5, 1.0), (0.15, 0.92)],
          [(0.28, 0.03), (0.88, 0.0)]],
    "7": [[(0.08, 0.04), (0.92, 0.02)],
          [(0.9, 0.05), (0.9, 0.05), (0.66, 0.44), (0.46, 1.0)]],
}


def _catmull_rom(points: list[tuple[float, float]], samples: int = 4) -> list[tuple[float, float]]:
    """A smooth curve through ``points``; repeated points make corners."""
    if len(points) < 3:
        (x0, y0), (x1, y1) = points[0], points[-1]
        return [(x0 + (x1 - x0) * t / 16, y0 + (y1 - y0) * t / 16) for t in range(17)]
    padded = [points[0], *points, points[-1]]
    curve = [points[0]]
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        if p1 == p2:
            continue
        for s in range(1, samples + 1):
            t = s / samples
            t2, t3 = t * t, t * t * t
            curve.append(tuple(
                0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2
                       + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t3)
                for k in range(2)))
    return curve


def number_strokes(text: str, left: float, top: float, height: float, gap: float,
                   line_gap: float | None = None,
                   style: dict[str, list[list[tuple[float, float]]]] | None = None) -> list[list[tuple[float, float]]]:
    """Strokes, in page pixels, writing ``text`` (lines split by '\\n') from (left, top).

    ``style`` replaces the strokes of some digits (e.g. ``TWO_STROKE``).
    """
    shapes = {**DIGITS, **(style or {})}
    width = ASPECT * height
    line_gap = gap if line_gap is None else line_gap
    strokes = []
    for row, line in enumerate(text.split("\n")):
        y0 = top + row * (height + line_gap)
        for col, char in enumerate(line):
            x0 = left + col * (width + gap)
            for stroke in shapes[char]:
                strokes.append([(x0 + x * width, y0 + y * height) for x, y in _catmull_rom(stroke)])
    return strokes


# A two written like a Z with a bar across its middle, as many people in Europe write it. MNIST
# has next to none, and the shipped models read it as a 1 or a 7: the style the corrections
# tests teach a model.
CROSSED_Z_TWO: dict[str, list[list[tuple[float, float]]]] = {
    "2": [[(0.1, 0.02), (0.9, 0.02), (0.9, 0.02), (0.1, 0.98), (0.1, 0.98), (0.9, 0.98)],
          [(0.25, 0.5), (0.75, 0.5)]],
}


def varied(style: dict[str, list[list[tuple[float, float]]]], rng, amount: float = 0.04
           ) -> dict[str, list[list[tuple[float, float]]]]:
    """``style`` with every point moved a little (``rng``: a random.Random): no two drawings alike."""
    return {digit: [[(x + rng.uniform(-amount, amount), y + rng.uniform(-amount, amount)) for x, y in stroke]
                    for stroke in strokes] for digit, strokes in style.items()}
