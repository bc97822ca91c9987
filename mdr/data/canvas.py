"""Ink coverage on a canvas: pasting patches, specks, joining strokes, colours, PNG.

Digits are drawn as uint8 *coverage* (255 = full ink) and only turned into
the image a canvas would export at the end, so one layout can be shown
dark on light, light on dark or as a transparent RGBA export.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

Background = Literal["light", "dark", "transparent"]
RGB = tuple[int, int, int]
Segment = tuple[tuple[float, float], tuple[float, float]]

TRANSPARENT_INK_COLOURS: tuple[RGB, ...] = ((0, 0, 0), (255, 255, 255), (30, 60, 200))
"""Stroke colours a canvas user might pick; black is the hardest for a reader
that ignores alpha, white the hardest for one that composites onto white."""

INK_LEVEL = 128
"""Coverage from which a pixel counts as ink (the middle of the anti-aliased edge)."""


@dataclass
class DrawnDigit:
    """One digit stroked on its own patch, before the layout places it."""

    coverage: np.ndarray  # uint8 ink coverage of the patch, 255 = full ink
    label: int
    source: int
    height: float  # ink height in canvas pixels


def ink_box(coverage: np.ndarray) -> tuple[int, int, int, int]:
    """left, right, top, bottom (inclusive) of the ink in a patch."""
    cols = np.flatnonzero(coverage.max(axis=0) >= INK_LEVEL)
    rows = np.flatnonzero(coverage.max(axis=1) >= INK_LEVEL)
    return int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1])


def ink_rows(coverage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leftmost and rightmost ink column of each row (-1 where no ink)."""
    ink = coverage >= INK_LEVEL
    has = ink.any(axis=1)
    left = np.where(has, ink.argmax(axis=1), -1)
    right = np.where(has, ink.shape[1] - 1 - ink[:, ::-1].argmax(axis=1), -1)
    return left, right


def paste(canvas: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Lay ``patch`` onto ``canvas`` at (x, y): overlapping ink keeps the darker stroke."""
    h, w = patch.shape
    y0, x0 = max(y, 0), max(x, 0)
    y1, x1 = min(y + h, canvas.shape[0]), min(x + w, canvas.shape[1])
    if y1 <= y0 or x1 <= x0:
        return
    region = canvas[y0:y1, x0:x1]
    np.maximum(region, patch[y0 - y:y1 - y, x0 - x:x1 - x], out=region)


def patches_touch(a: np.ndarray, a_xy: tuple[int, int], b: np.ndarray, b_xy: tuple[int, int]) -> bool:
    """Whether two patches' inks, placed at their canvas positions, touch or overlap
    (8-connected: one pixel apart diagonally already makes one blob)."""
    (ax, ay), (bx, by) = a_xy, b_xy
    x0, y0 = max(ax, bx) - 1, max(ay, by) - 1
    x1, y1 = min(ax + a.shape[1], bx + b.shape[1]) + 1, min(ay + a.shape[0], by + b.shape[0]) + 1
    if x1 <= x0 or y1 <= y0:
        return False
    first = np.zeros((y1 - y0, x1 - x0), np.uint8)
    second = np.zeros_like(first)
    paste(first, a, ax - x0, ay - y0)
    paste(second, b, bx - x0, by - y0)
    grown = cv2.dilate((first >= INK_LEVEL).astype(np.uint8), np.ones((3, 3), np.uint8))
    return bool((grown.astype(bool) & (second >= INK_LEVEL)).any())


def draw_bridge(coverage: np.ndarray, bridge: Segment, x: int, y: int, brush: int) -> None:
    """A short stroke (given in a patch's coordinates, the patch at x, y) joining two digits."""
    (x0, y0), (x1, y1) = bridge
    ends = [(int(round((x + px) * 16)), int(round((y + py) * 16))) for px, py in ((x0, y0), (x1, y1))]
    cv2.line(coverage, ends[0], ends[1], 255, int(brush), cv2.LINE_AA, shift=4)


def add_specks(coverage: np.ndarray, count: int, brush: int, height: float,
               rng: np.random.Generator) -> None:
    """Dots well away from the ink, smaller than the brush: stray clicks, dust."""
    distance = cv2.distanceTransform((coverage < INK_LEVEL).astype(np.uint8), cv2.DIST_L2, 3)
    h, w = coverage.shape
    placed = 0
    for _ in range(count * 20):
        if placed == count:
            break
        radius = float(rng.uniform(1.0, max(1.5, min(0.35 * brush, 0.04 * height, 4.0))))
        x, y = float(rng.uniform(3, w - 3)), float(rng.uniform(3, h - 3))
        if distance[int(y), int(x)] < radius + brush:
            continue
        centre = (int(round(x * 16)), int(round(y * 16)))
        cv2.circle(coverage, centre, int(round(radius * 16)), 255, -1, cv2.LINE_AA, shift=4)
        placed += 1


def colourize(coverage: np.ndarray, background: Background, rng: np.random.Generator) -> np.ndarray:
    """The image a canvas exports: RGB dark on light / light on dark, or RGBA with ink alpha."""
    if background == "light":
        grey = 255 - coverage
        return np.repeat(grey[:, :, None], 3, axis=2)
    if background == "dark":
        return np.repeat(coverage[:, :, None], 3, axis=2)
    if background == "transparent":
        colour = TRANSPARENT_INK_COLOURS[int(rng.integers(len(TRANSPARENT_INK_COLOURS)))]
        rgba = np.zeros(coverage.shape + (4,), np.uint8)
        inked = coverage > 0
        rgba[inked, :3] = colour
        rgba[:, :, 3] = coverage
        return rgba
    raise ValueError(f"Unknown background '{background}'.")


def write_png(path: Path, image: np.ndarray) -> None:
    """Save an RGB or RGBA sample as PNG (OpenCV wants BGR order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    if not cv2.imwrite(str(path), cv2.cvtColor(image, code)):
        raise OSError(f"Could not write {path}.")
