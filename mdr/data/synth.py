"""Canvas-like multi-digit test images, made from MNIST *test* digits.

MNIST digits are small, grey and pen-like; numbers drawn with a mouse on an
HTML canvas are large, solid strokes of one brush width with anti-aliased
edges. To measure the recognizer on what users actually give it, each MNIST
digit is reduced to its skeleton and re-stroked with a round brush at canvas
scale, then digits are laid out left to right under a named *condition*
(thin or thick brush, polarity, transparency, touching digits, digits drawn
in two strokes, two rows, specks).

Only the test split is read, so a model is never scored on digits it was
trained on. Everything is driven by a seeded ``numpy.random.Generator``:
the same seed gives the same images.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from pathlib import Path

import cv2
import numpy as np

from mdr.data.mnist import load_split
from mdr.recognition.results import Box

Background = Literal["light", "dark", "transparent"]
RGB = tuple[int, int, int]


# --------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ConditionSpec:
    """How the images of one condition are drawn."""

    name: str
    description: str
    brush: tuple[int, int] = (10, 18)
    """Brush diameter range in canvas pixels (inclusive)."""
    digit_height: tuple[int, int] = (60, 200)
    """Typical digit height range in canvas pixels, before per-digit variation."""
    digit_count: tuple[int, int] = (2, 8)
    background: Background = "light"
    touching: bool = False
    """Adjacent digits overlap by a few pixels and form one connected blob."""
    split_fraction: float = 0.0
    """Fraction of digits drawn in two strokes with a visible gap (at least one
    per image when above zero)."""
    rows: int = 1
    specks: tuple[int, int] = (0, 0)
    """Range of the number of small specks scattered away from the digits."""
    max_brush_ratio: float = 0.3
    """Brush diameter is at most this fraction of the smallest digit height."""


CONDITIONS: dict[str, ConditionSpec] = {
    spec.name: spec
    for spec in [
        ConditionSpec("spaced-thin", "Separate digits, thin brush (6-10 px), dark on light.",
                      brush=(6, 10)),
        ConditionSpec("spaced-thick", "Separate digits, thick brush (18-30 px), also on small digits.",
                      brush=(18, 30), max_brush_ratio=0.34),
        ConditionSpec("dark-on-light", "Black ink on an opaque white RGB canvas.", background="light"),
        ConditionSpec("light-on-dark", "White ink on an opaque black RGB canvas.", background="dark"),
        ConditionSpec("transparent", "RGBA canvas export: ink with alpha, background (0,0,0,0).",
                      background="transparent"),
        ConditionSpec("touching", "Adjacent digits overlap by a few pixels: one connected blob.",
                      touching=True),
        ConditionSpec("multi-stroke", "Some digits drawn in two strokes with a visible gap.",
                      split_fraction=0.5, max_brush_ratio=0.2),
        ConditionSpec("two-rows", "Two lines of digits; the number joins them with a newline.",
                      rows=2),
        ConditionSpec("noisy", "Separate digits with small specks scattered around them.",
                      specks=(4, 12)),
    ]
}

TRANSPARENT_INK_COLOURS: tuple[RGB, ...] = ((0, 0, 0), (255, 255, 255), (30, 60, 200))
"""Stroke colours a canvas user might pick; black is the hardest for a reader
that ignores alpha, white the hardest for one that composites onto white."""


@dataclass(frozen=True)
class LayoutSettings:
    """Canvas geometry shared by all conditions."""

    canvas_width: tuple[int, int] = (600, 1000)
    canvas_height: tuple[int, int] = (250, 400)
    margin: tuple[float, float] = (0.03, 0.08)
    """Empty border, as a fraction of the canvas side."""
    size_variation: tuple[float, float] = (0.85, 1.15)
    """Per-digit height factor around the image's typical digit height."""
    vertical_jitter: float = 0.08
    """Per-digit vertical offset, up to this fraction of the digit height."""
    spaced_gap: tuple[float, float] = (0.15, 0.5)
    """Horizontal gap between separate digits, as a fraction of digit height."""
    touch_overlap: tuple[int, int] = (3, 7)
    """Ink overlap in pixels of touching neighbours."""
    touch_max_box_overlap: float = 0.3
    """Touching digits' boxes overlap at most this fraction of the narrower
    one; closer than that they are joined by a short stroke instead."""
    row_gap: tuple[float, float] = (0.25, 0.5)
    """Vertical gap between rows, as a fraction of digit height."""
    row_indent: float = 0.5
    """A later row starts up to this fraction of digit height right of the first."""
    split_gap: tuple[int, int] = (4, 9)
    """Visible gap in pixels between the two strokes of a split digit."""


LAYOUT = LayoutSettings()


@dataclass
class Sample:
    image: np.ndarray
    """uint8 HxWx3 (RGB) or HxWx4 (RGBA, transparent condition)."""
    number: str
    """The digits drawn, in reading order; rows joined by '\\n'."""
    condition: str
    sources: tuple[int, ...] = ()
    """Indices into the MNIST test split of the digits, in reading order."""
    brush: int = 0
    boxes: tuple[Box, ...] = ()
    """Ink box (x, y, w, h) of each digit on the canvas, in reading order."""


# --------------------------------------------------------------------------
# Digit skeletons
# --------------------------------------------------------------------------

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


class DigitBank:
    """MNIST test digits by label, turned into pen paths on first use."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images = images
        self.labels = labels
        self.by_label = [np.flatnonzero(labels == d) for d in range(10)]
        self._cache: dict[int, StrokeDigit | None] = {}

    @classmethod
    def from_folder(cls, data_dir: str | os.PathLike | None = None) -> "DigitBank":
        images, labels = load_split("test", data_dir)
        return cls(images, labels)

    def get(self, source: int) -> StrokeDigit | None:
        if source not in self._cache:
            self._cache[source] = stroke_digit(self.images[source], int(self.labels[source]), source)
        return self._cache[source]

    def pick(self, label: int, rng: np.random.Generator) -> StrokeDigit:
        for _ in range(50):
            digit = self.get(int(rng.choice(self.by_label[label])))
            if digit is not None:
                return digit
        raise RuntimeError(f"No usable MNIST test digit {label} found.")


@lru_cache(maxsize=4)
def _bank_for(folder: str) -> DigitBank:
    return DigitBank.from_folder(folder or None)


def default_bank(data_dir: str | os.PathLike | None = None) -> DigitBank:
    """A bank shared by all callers with the same data folder (loads once)."""
    return _bank_for(str(data_dir) if data_dir else "")


# --------------------------------------------------------------------------
# Splitting a digit into two strokes
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

_SUBPIXEL_BITS = 4


@dataclass
class DrawnDigit:
    coverage: np.ndarray  # uint8 ink coverage of the patch, 255 = full ink
    label: int
    source: int
    height: float  # ink height in canvas pixels


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
    fixed = np.round(segments * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    coverage = np.zeros((patch_h, patch_w), np.uint8)
    cv2.polylines(coverage, list(fixed), False, 255, thickness=int(brush),
                  lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    return DrawnDigit(coverage, digit.label, digit.source, path_height * scale + brush)


def path_height_scale(digit: StrokeDigit, height: float, brush: int) -> float:
    """Grid-to-canvas scale that makes the stroked digit ``height`` px tall."""
    return max(height - brush, 0.5 * height) / digit.extent[3]


def _ink_rows(coverage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leftmost and rightmost ink column of each row (-1 where no ink)."""
    ink = coverage >= 128
    has = ink.any(axis=1)
    left = np.where(has, ink.argmax(axis=1), -1)
    right = np.where(has, ink.shape[1] - 1 - ink[:, ::-1].argmax(axis=1), -1)
    return left, right


# --------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------

def _split_rows(count: int, rows: int, rng: np.random.Generator) -> list[int]:
    if rows == 1:
        return [count]
    first = int(rng.integers(1, count))
    return [first, count - first]


def _fit_height(digits: list[list[StrokeDigit]], factors: list[list[float]],
                gaps: list[list[float]], brush: int, canvas_h: int, canvas_w: int,
                margin_x: int, margin_y: int, row_gap: float) -> float:
    """Largest typical digit height that fits every row and all rows on the canvas."""
    fits = []
    for row, row_factors, row_gaps in zip(digits, factors, gaps):
        aspect = [d.extent[2] / d.extent[3] for d in row]
        # ink width of digit i: (f_i*H - brush)*aspect_i + brush, plus gaps g_j*H
        per_height = sum(f * a for f, a in zip(row_factors, aspect)) + sum(row_gaps)
        fixed = brush * sum(1 - a for a in aspect) + 4
        fits.append((canvas_w - 2 * margin_x - fixed) / per_height)
    biggest = max(max(f) for f in factors)
    rows = len(digits)
    per_height = rows * biggest * (1 + 2 * LAYOUT.vertical_jitter) + (rows - 1) * row_gap
    fits.append((canvas_h - 2 * margin_y) / per_height)
    return min(fits)


def make_sample(condition: str, rng: np.random.Generator, bank: DigitBank | None = None) -> Sample:
    """Draw one number under ``condition`` (a key of :data:`CONDITIONS`)."""
    spec = CONDITIONS[condition]
    bank = bank or default_bank()
    count = int(rng.integers(spec.digit_count[0], spec.digit_count[1] + 1))
    row_sizes = _split_rows(count, spec.rows, rng)
    labels = [[int(v) for v in rng.integers(0, 10, size)] for size in row_sizes]
    split_plan = _choose_splits(spec, labels, rng)
    digits = [[bank.pick(label, rng) for label in row] for row in labels]
    factors = [[float(rng.uniform(*LAYOUT.size_variation)) for _ in row] for row in labels]
    gap_range = (0.0, 0.0) if spec.touching else LAYOUT.spaced_gap
    gaps = [[float(rng.uniform(*gap_range)) for _ in row[1:]] for row in labels]
    row_gap = float(rng.uniform(*LAYOUT.row_gap))
    brush = int(rng.integers(spec.brush[0], spec.brush[1] + 1))

    canvas_w = int(rng.integers(LAYOUT.canvas_width[0], LAYOUT.canvas_width[1] + 1))
    canvas_h = int(np.clip(canvas_w * rng.uniform(0.33, 0.45), *LAYOUT.canvas_height))
    wanted = float(rng.uniform(*spec.digit_height))
    margin = float(rng.uniform(*LAYOUT.margin))

    def fit(h: int, w: int) -> float:
        return _fit_height(digits, factors, gaps, brush, h, w,
                           int(margin * w), int(margin * h), row_gap)

    if fit(canvas_h, canvas_w) < min(wanted, spec.digit_height[0]):
        canvas_w, canvas_h = LAYOUT.canvas_width[1], LAYOUT.canvas_height[1]
    height = min(wanted, fit(canvas_h, canvas_w))
    smallest = height * min(min(f) for f in factors)
    brush = max(2, min(brush, int(spec.max_brush_ratio * smallest)))

    coverage = np.zeros((canvas_h, canvas_w), np.uint8)
    margin_x, margin_y = int(margin * canvas_w), int(margin * canvas_h)
    rows_drawn = [_draw_row(spec, row, row_factors, row_gaps, row_splits, height, brush, bank, rng)
                  for row, row_factors, row_gaps, row_splits in zip(digits, factors, gaps, split_plan)]
    boxes = _paste_rows(coverage, rows_drawn, height, row_gap, margin_x, margin_y, brush, rng)

    if spec.specks[1] > 0:
        _add_specks(coverage, int(rng.integers(spec.specks[0], spec.specks[1] + 1)), brush, height, rng)

    number = "\n".join("".join(str(p.drawn.label) for p in row) for row in rows_drawn)
    sources = tuple(p.drawn.source for row in rows_drawn for p in row)
    return Sample(_colourize(coverage, spec.background, rng), number, condition, sources, brush, tuple(boxes))


TWO_STROKE_LABELS = (3, 4, 5, 6, 7, 8, 9)
"""Digits people sometimes draw in two strokes (a 4's or 7's bar, a 5's flag,
an 8 as two loops); nobody lifts the pen in the middle of a 0, 1 or 2."""
TWO_STROKE_FALLBACK = (4, 5, 7)
"""Labels whose path is cut most easily: used when a digit chosen for
splitting cannot be cut, so that a multi-stroke image always has one."""


def _choose_splits(spec: ConditionSpec, labels: list[list[int]], rng: np.random.Generator) -> list[list[bool]]:
    """Which digits to draw in two strokes; at least one when the condition splits.

    When no digit of the number can be split, one label is replaced by a
    digit that can (the number is built from the labels, so it stays true).
    """
    plan = [[label in TWO_STROKE_LABELS and bool(rng.random() < spec.split_fraction) for label in row]
            for row in labels]
    if spec.split_fraction <= 0 or any(any(row) for row in plan):
        return plan
    splittable = [(r, i) for r, row in enumerate(labels) for i, label in enumerate(row)
                  if label in TWO_STROKE_LABELS]
    if splittable:
        r, i = splittable[int(rng.integers(len(splittable)))]
    else:
        r = int(rng.integers(len(labels)))
        i = int(rng.integers(len(labels[r])))
        labels[r][i] = int(rng.choice(TWO_STROKE_FALLBACK))
    plan[r][i] = True
    return plan


Segment = tuple[tuple[float, float], tuple[float, float]]


@dataclass
class _Placed:
    drawn: DrawnDigit
    x: float  # patch left, relative to the row start
    dy: float  # patch centre, relative to the row centre
    bridge: Segment | None = None
    """A joining stroke to the previous digit, in this patch's coordinates."""


def _draw_row(spec: ConditionSpec, row: list[StrokeDigit], factors: list[float], gaps: list[float],
              splits: list[bool], height: float, brush: int, bank: DigitBank,
              rng: np.random.Generator) -> list[_Placed]:
    """Draw a row's digits and place them left to right with a little vertical jitter."""
    placed: list[_Placed] = []
    for i, (digit, factor, split) in enumerate(zip(row, factors, splits)):
        item = _draw_one(digit, factor * height, brush, split, bank, rng)
        dy = float(rng.uniform(-1, 1)) * LAYOUT.vertical_jitter * item.height
        if not placed:
            placed.append(_Placed(item, 0.0, dy))
            continue
        prev = placed[-1]
        if spec.touching:
            overlap = int(rng.integers(*LAYOUT.touch_overlap, endpoint=True))
            offset, bridge = _touching_offset(prev.drawn, item, dy - prev.dy, overlap)
            placed.append(_Placed(item, prev.x + offset, dy, bridge))
        else:
            prev_right = _ink_box(prev.drawn.coverage)[1]
            left = _ink_box(item.coverage)[0]
            placed.append(_Placed(item, prev.x + prev_right - left + gaps[i - 1] * height, dy))
    return placed


def _draw_one(digit: StrokeDigit, height: float, brush: int, split: bool,
              bank: DigitBank, rng: np.random.Generator) -> DrawnDigit:
    if not split:
        return draw_digit(digit, height, brush)
    gap = int(rng.integers(*LAYOUT.split_gap, endpoint=True))
    tries = [digit] + [bank.pick(digit.label, rng) for _ in range(3)]
    tries += [bank.pick(int(rng.choice(TWO_STROKE_FALLBACK)), rng) for _ in range(3)]
    for candidate in tries:
        scale = path_height_scale(candidate, height, brush)
        two_strokes = split_path(candidate, scale, brush, gap, rng)
        if two_strokes is None:
            continue
        drawn = draw_digit(two_strokes, height, brush, scale=scale)
        n_parts, _ = cv2.connectedComponents((drawn.coverage >= 128).astype(np.uint8), connectivity=8)
        if n_parts - 1 >= 2:
            return drawn
    return draw_digit(digit, height, brush)


def _ink_box(coverage: np.ndarray) -> tuple[int, int, int, int]:
    """left, right, top, bottom (inclusive) of the ink in a patch."""
    cols = np.flatnonzero(coverage.max(axis=0) >= 128)
    rows = np.flatnonzero(coverage.max(axis=1) >= 128)
    return int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1])


def _touching_offset(prev: DrawnDigit, item: DrawnDigit, dy: float,
                     overlap: int) -> tuple[float, Segment | None]:
    """x offset of ``item``'s patch from ``prev``'s so that their inks touch.

    ``dy`` is how much lower ``item``'s centre sits than ``prev``'s. The
    closest approach over the rows both digits have ink in decides the offset,
    so the inks overlap by ``overlap`` px there. When that would push the
    digits far into each other (a 5's bar over the next digit's loop), they
    are kept side by side instead and joined by a short stroke, as when the
    pen runs on from one digit into the next.
    """
    _, prev_right = _ink_rows(prev.coverage)
    left, _ = _ink_rows(item.coverage)
    prev_box, item_box = _ink_box(prev.coverage), _ink_box(item.coverage)
    narrower = min(prev_box[1] - prev_box[0], item_box[1] - item_box[0]) + 1
    side_by_side = prev_box[1] - item_box[0] + 1 - LAYOUT.touch_max_box_overlap * narrower
    shift = int(round((len(left) - len(prev_right)) / 2 - dy))  # prev row r is item row r + shift
    rows = [r for r, right_x in enumerate(prev_right)
            if right_x >= 0 and 0 <= r + shift < len(left) and left[r + shift] >= 0]
    if not rows:
        return float(prev_box[1] - item_box[0] + 1 - overlap), None
    closest = max(prev_right[r] - left[r + shift] for r in rows) + 1 - overlap
    if closest >= side_by_side:
        return float(closest), None
    nearest = min(rows, key=lambda r: left[r + shift] + side_by_side - prev_right[r])
    row = float(nearest + shift)
    start = float(prev_right[nearest] - side_by_side)
    return float(side_by_side), ((start, row), (float(left[nearest + shift]), row))


def _row_width(row: list[_Placed]) -> float:
    first_left = row[0].x + _ink_box(row[0].drawn.coverage)[0]
    return max(p.x + _ink_box(p.drawn.coverage)[1] for p in row) - first_left


def _paste_rows(coverage: np.ndarray, rows: list[list[_Placed]], height: float,
                row_gap: float, margin_x: int, margin_y: int, brush: int,
                rng: np.random.Generator) -> list[Box]:
    """Put the rows on the canvas, the block at a random place inside the margins.

    Returns each digit's ink box on the canvas, in reading order.
    """
    canvas_h, canvas_w = coverage.shape
    tallest = max(p.drawn.height for row in rows for p in row) * (1 + 2 * LAYOUT.vertical_jitter)
    row_pitch = tallest + row_gap * height
    block_h = row_pitch * (len(rows) - 1) + tallest
    top = margin_y + rng.uniform(0, max(0.0, canvas_h - 2 * margin_y - block_h))
    widest = max(_row_width(row) for row in rows)
    block_left = margin_x + rng.uniform(0, max(0.0, canvas_w - 2 * margin_x - widest))
    boxes: list[Box] = []
    for r, row in enumerate(rows):
        centre_y = top + r * row_pitch + tallest / 2
        # Rows start roughly under each other, as when writing lines.
        indent = rng.uniform(0, LAYOUT.row_indent) * height if r else 0.0
        left = min(block_left + indent, canvas_w - margin_x - _row_width(row))
        start = left - (row[0].x + _ink_box(row[0].drawn.coverage)[0])
        for p in row:
            h, _ = p.drawn.coverage.shape
            x, y = int(round(start + p.x)), int(round(centre_y - h / 2 + p.dy))
            _paste(coverage, p.drawn.coverage, x, y)
            if p.bridge is not None:
                _draw_bridge(coverage, p.bridge, x, y, brush)
            left, right, upper, lower = _ink_box(p.drawn.coverage)
            boxes.append((x + left, y + upper, right - left + 1, lower - upper + 1))
    return boxes


def _draw_bridge(coverage: np.ndarray, bridge: Segment, x: int, y: int, brush: int) -> None:
    (x0, y0), (x1, y1) = bridge
    ends = [(int(round((x + px) * 16)), int(round((y + py) * 16))) for px, py in ((x0, y0), (x1, y1))]
    cv2.line(coverage, ends[0], ends[1], 255, int(brush), cv2.LINE_AA, shift=4)


def _paste(canvas: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape
    y0, x0 = max(y, 0), max(x, 0)
    y1, x1 = min(y + h, canvas.shape[0]), min(x + w, canvas.shape[1])
    if y1 <= y0 or x1 <= x0:
        return
    region = canvas[y0:y1, x0:x1]
    np.maximum(region, patch[y0 - y:y1 - y, x0 - x:x1 - x], out=region)


def _add_specks(coverage: np.ndarray, count: int, brush: int, height: float,
                rng: np.random.Generator) -> None:
    """Dots well away from the ink, smaller than the brush: stray clicks, dust."""
    distance = cv2.distanceTransform((coverage < 128).astype(np.uint8), cv2.DIST_L2, 3)
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


def _colourize(coverage: np.ndarray, background: Background, rng: np.random.Generator) -> np.ndarray:
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


# --------------------------------------------------------------------------
# Sets
# --------------------------------------------------------------------------

def condition_rng(condition: str, seed: int) -> np.random.Generator:
    """A generator per (condition, seed): conditions do not share numbers."""
    return np.random.default_rng([seed, zlib.crc32(condition.encode())])


def make_set(condition: str, n: int, seed: int = 0,
             data_dir: str | os.PathLike | None = None) -> list[Sample]:
    """``n`` samples of ``condition``; the same arguments give the same images."""
    if condition not in CONDITIONS:
        raise KeyError(f"Unknown condition '{condition}': choose from {', '.join(CONDITIONS)}.")
    bank = default_bank(data_dir)
    rng = condition_rng(condition, seed)
    return [make_sample(condition, rng, bank) for _ in range(n)]


def write_png(path: Path, image: np.ndarray) -> None:
    """Save an RGB or RGBA sample as PNG (OpenCV wants BGR order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    if not cv2.imwrite(str(path), cv2.cvtColor(image, code)):
        raise OSError(f"Could not write {path}.")
