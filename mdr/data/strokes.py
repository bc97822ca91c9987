"""MNIST digits as pen paths, re-stroked with a round brush at canvas scale.

MNIST digits are small, grey and pen-like; numbers drawn with a mouse on an
HTML canvas are large, solid strokes of one brush width with anti-aliased
edges. Each MNIST digit is reduced to its skeleton, the skeleton's pixels
become a smoothed path, and the path is stroked again at any height and
brush width; a path can also be cut into two strokes (a lifted pen).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mdr.data.canvas import DrawnDigit

SKELETON_UPSCALE = 4
"""MNIST digits are skeletonized at this multiple of 28 px, for smooth paths."""


@dataclass(frozen=True)
class StrokeDigit:
    """One MNIST digit as a pen path: skeleton points and the links between them."""

    label: int
    source: int  # index in the MNIST test split
    grid: np.ndarray  # bool skeleton image, upscaled grid
    points: np.ndarray  # float32 (K, 2) x, y in the upscaled grid, smoothed
    pixels: np.ndarray  # int (K, 2) row, col of each point in ``grid``
    links: np.ndarray  # int (E, 2) indices into ``points``

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """x0, y0, width, height of the path."""
        x0, y0 = self.points.min(axis=0)
        x1, y1 = self.points.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)

    @property
    def aspect(self) -> float:
        """Width over height of the path (the layout sizes rows by it)."""
        _, _, width, height = self.extent
        return width / height


_NEIGHBOUR_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _skeleton_links(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of an 8-connected skeleton and each neighbouring pair once."""
    pixels = np.argwhere(grid)
    index = -np.ones(grid.shape, np.int64)
    index[pixels[:, 0], pixels[:, 1]] = np.arange(len(pixels))
    padded = np.pad(index, 1, constant_values=-1)
    links = []
    for dy, dx in _NEIGHBOUR_STEPS:
        other = padded[pixels[:, 0] + 1 + dy, pixels[:, 1] + 1 + dx]
        keep = other >= 0
        links.append(np.stack([np.nonzero(keep)[0], other[keep]], axis=1))
    return pixels, np.concatenate(links) if links else np.zeros((0, 2), np.int64)


def _smooth(points: np.ndarray, links: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Average each point with its neighbours: removes the pixel staircase."""
    for _ in range(rounds):
        total = points.copy()
        count = np.ones(len(points), np.float32)
        np.add.at(total, links[:, 0], points[links[:, 1]])
        np.add.at(total, links[:, 1], points[links[:, 0]])
        np.add.at(count, links[:, 0], 1)
        np.add.at(count, links[:, 1], 1)
        points = total / count[:, None]
    return points


def stroke_digit(image28: np.ndarray, label: int, source: int) -> StrokeDigit | None:
    """The pen path of an MNIST digit; None when its skeleton is not one piece.

    Broken MNIST digits are skipped so that every drawn digit is one stroke
    unless a condition splits it on purpose.
    """
    from skimage.morphology import skeletonize  # here, so listing conditions stays light

    size = 28 * SKELETON_UPSCALE
    big = cv2.resize(image28, (size, size), interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), SKELETON_UPSCALE * 0.4)
    grid = skeletonize(big > 110)
    n_parts, _ = cv2.connectedComponents(grid.astype(np.uint8), connectivity=8)
    if n_parts != 2 or grid.sum() < 12:
        return None
    pixels, links = _skeleton_links(grid)
    points = _smooth(pixels[:, ::-1].astype(np.float32), links)
    digit = StrokeDigit(label, source, grid, points, pixels, links)
    too_flat = digit.extent[3] < 0.35 * size  # a scribble, not a digit on a canvas
    return None if too_flat else digit


def _junctions(digit: StrokeDigit) -> np.ndarray:
    degree = np.bincount(digit.links.ravel(), minlength=len(digit.points))
    return np.flatnonzero(degree >= 3)


SPLIT_MAX_REMOVED = 0.08
"""A cut erases at most this fraction of a digit's path: the digit must still
look like itself, only drawn in two strokes."""
SPLIT_MAX_SHIFT = 0.35
"""The detached stroke moves at most this fraction of the digit's height."""
SPLIT_MIN_X_OVERLAP = 0.3
"""The two strokes' horizontal extents overlap by at least this fraction of
the narrower one, so they read as one digit."""


def split_path(digit: StrokeDigit, scale: float, brush: int, gap: int,
               rng: np.random.Generator) -> StrokeDigit | None:
    """The digit drawn in two strokes that are ``gap`` px apart once stroked.

    The path is cut at a junction (a 4's crossing) or in the top part of the
    digit (a 5's bar, a 7's corner), and the smaller stroke is moved just far
    enough from the larger one, as when the pen is lifted and put down a
    little off. Both strokes must be substantial so neither looks like a
    speck. Returns None when no cut works.
    """
    points = digit.points
    _, y0, _, height = digit.extent
    top = np.flatnonzero(points[:, 1] < y0 + 0.4 * height)
    candidates = np.concatenate([rng.permutation(_junctions(digit))[:4], rng.permutation(top)[:8]])
    needed = (brush + gap) / scale  # distance between the strokes' paths, in grid units
    min_piece = max(8, int(0.12 * len(points)))
    for centre in candidates:
        distance = np.linalg.norm(points - points[centre], axis=1)
        # The widest cut that erases little: less to move the stroke afterwards.
        for radius in (needed * 0.6, 3.5, 2.0):
            keep = distance > radius
            if keep.mean() < 1 - SPLIT_MAX_REMOVED:
                continue
            big = [p for p in _pieces(digit, keep) if len(p) >= min_piece]
            if len(big) == 2:  # two strokes, not a crossing cut into three
                break
        else:
            continue
        small_piece, large_piece = sorted(big, key=len)
        if not _one_glyph(points[small_piece], points[large_piece]):
            continue
        moved = _move_apart(points, small_piece, large_piece, points[centre], needed,
                            max_shift=SPLIT_MAX_SHIFT * height)
        if moved is None or not _one_glyph(moved[small_piece], moved[large_piece]):
            continue
        keep = np.zeros(len(points), bool)
        keep[small_piece] = keep[large_piece] = True  # crumbs left by the cut go
        return _subset(digit, keep, moved)
    return None


def _move_apart(points: np.ndarray, small: np.ndarray, large: np.ndarray, cut: np.ndarray,
                needed: float, max_shift: float) -> np.ndarray | None:
    """Points with ``small`` shifted away from the cut until ``needed`` from ``large``."""
    direction = points[small].mean(axis=0) - cut
    norm = float(np.linalg.norm(direction))
    if norm < 1e-6:
        return None
    direction /= norm
    distance_to_large = _distance_map(points[large], margin=int(np.ceil(max_shift + needed)) + 2)
    for shift in np.linspace(0.0, max_shift, 12):
        moved_small = points[small] + direction * shift
        if distance_to_large(moved_small) >= needed + 0.75:  # cells are rounded
            moved = points.copy()
            moved[small] = moved_small
            return moved
    return None


def _distance_map(stroke: np.ndarray, margin: int):
    """A function giving the smallest distance from any of some points to ``stroke``."""
    origin = np.floor(stroke.min(axis=0)) - margin
    size = (np.ceil(stroke.max(axis=0)) - origin + margin + 1).astype(int)
    free = np.ones((size[1], size[0]), np.uint8)
    cells = np.round(stroke - origin).astype(int)
    free[cells[:, 1], cells[:, 0]] = 0
    distance = cv2.distanceTransform(free, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)

    def nearest(points: np.ndarray) -> float:
        cells = np.round(points - origin).astype(int)
        inside = (cells[:, 0] >= 0) & (cells[:, 1] >= 0) & (cells[:, 0] < size[0]) & (cells[:, 1] < size[1])
        if not inside.any():
            return float(margin)
        return float(distance[cells[inside, 1], cells[inside, 0]].min())

    return nearest


def _one_glyph(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two strokes overlap horizontally enough to read as one digit,
    not as two digits side by side."""
    overlap = min(a[:, 0].max(), b[:, 0].max()) - max(a[:, 0].min(), b[:, 0].min())
    narrower = min(np.ptp(a[:, 0]), np.ptp(b[:, 0]))
    return overlap >= SPLIT_MIN_X_OVERLAP * max(narrower, 1.0)


def _subset(digit: StrokeDigit, keep: np.ndarray, points: np.ndarray) -> StrokeDigit:
    """The digit with only the kept points (at their new positions) and their links."""
    new_index = np.cumsum(keep) - 1
    links = digit.links[keep[digit.links[:, 0]] & keep[digit.links[:, 1]]]
    return StrokeDigit(digit.label, digit.source, digit.grid, points[keep], digit.pixels[keep],
                       new_index[links])


def _pieces(digit: StrokeDigit, keep: np.ndarray) -> list[np.ndarray]:
    grid = np.zeros(digit.grid.shape, np.uint8)
    rows, cols = digit.pixels[keep].T
    grid[rows, cols] = 1
    n, labels = cv2.connectedComponents(grid, connectivity=8)
    point_labels = np.zeros(len(keep), np.int64)
    point_labels[keep] = labels[rows, cols]
    return [np.flatnonzero(point_labels == k) for k in range(1, n)]


SUBPIXEL_BITS = 4
"""Stroke coordinates go to OpenCV in fixed point with this many fraction bits."""


def draw_digit(digit: StrokeDigit, height: float, brush: int, scale: float | None = None) -> DrawnDigit:
    """Stroke the path with a round anti-aliased brush so the ink is ``height`` tall."""
    x0, y0, width, path_height = digit.extent
    if scale is None:
        scale = path_height_scale(digit, height, brush)
    pad = brush / 2 + 2
    patch_w = int(np.ceil(width * scale + 2 * pad)) + 1
    patch_h = int(np.ceil(path_height * scale + 2 * pad)) + 1
    canvas_xy = (digit.points - [x0, y0]) * scale + pad
    links = digit.links
    lonely = np.setdiff1d(np.arange(len(canvas_xy)), links.ravel())
    segments = np.concatenate([canvas_xy[links], canvas_xy[lonely][:, None, :].repeat(2, axis=1)])
    fixed = np.round(segments * (1 << SUBPIXEL_BITS)).astype(np.int32)
    coverage = np.zeros((patch_h, patch_w), np.uint8)
    cv2.polylines(coverage, list(fixed), False, 255, thickness=int(brush),
                  lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    return DrawnDigit(coverage, digit.label, digit.source, path_height * scale + brush)


def path_height_scale(digit: StrokeDigit, height: float, brush: int) -> float:
    """Grid-to-canvas scale that makes the stroked digit ``height`` px tall."""
    return max(height - brush, 0.5 * height) / digit.extent[3]

