"""Lay digits out as a canvas drawing: conditions, rows, gaps, touching neighbours.

The layout does not care where the digits come from: a :class:`DigitSource`
picks the digits of one number and strokes each one onto its own patch (MNIST
digits re-stroked, :mod:`mdr.data.synth`; real pen trajectories,
:mod:`mdr.data.pen`). Digits are placed left to right under a named
*condition* (brush range, polarity, transparency, touching digits, digits
drawn in two strokes, two rows, specks, baseline slope), then the ink
coverage is coloured like a canvas export. Everything is driven by a seeded
``numpy.random.Generator``: the same seed gives the same images.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from mdr.data.canvas import (Background, DrawnDigit, Segment, add_specks, colourize, draw_bridge, ink_box,
                             ink_rows, paste, patches_touch)
from mdr.recognition.results import Box


@dataclass(frozen=True)
class LayoutSettings:
    """Canvas geometry shared by the conditions of one set."""

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
    baseline_slope: float = 0.0
    """Rows rise or fall by up to this much per pixel to the right (0: level)."""
    layout: LayoutSettings = field(default=LAYOUT)


@dataclass
class Sample:
    image: np.ndarray
    """uint8 HxWx3 (RGB) or HxWx4 (RGBA, transparent condition)."""
    number: str
    """The digits drawn, in reading order; rows joined by '\\n'."""
    condition: str
    sources: tuple[int, ...] = ()
    """Where each digit came from (an index into its source's digits), in reading order."""
    brush: int = 0
    boxes: tuple[Box, ...] = ()
    """Ink box (x, y, w, h) of each digit on the canvas, in reading order."""
    touching: tuple[bool, ...] = ()
    """Touching conditions only: for each pair of neighbours in a row, whether their inks touch."""


class DigitSource(Protocol):
    """Where a layout's digits come from, and how one is stroked."""

    def pick_number(self, labels: list[list[int]], rng: np.random.Generator) -> list[list[Any]]:
        """One digit per label, rows kept; a digit's own label may differ from the one asked for
        (the number is read from the digits drawn)."""

    def aspect(self, digit: Any) -> float:
        """Width over height of the digit's path."""

    def draw(self, digit: Any, height: float, brush: int, split: bool,
             rng: np.random.Generator) -> DrawnDigit:
        """The digit stroked ``height`` px tall; in two strokes when ``split`` and the source can."""


def condition_rng(condition: str, seed: int) -> np.random.Generator:
    """A generator per (condition, seed): conditions do not share numbers."""
    return np.random.default_rng([seed, zlib.crc32(condition.encode())])


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


def _split_rows(count: int, rows: int, rng: np.random.Generator) -> list[int]:
    if rows == 1:
        return [count]
    first = int(rng.integers(1, count))
    return [first, count - first]


def _fit_height(aspects: list[list[float]], factors: list[list[float]], gaps: list[list[float]],
                brush: int, canvas_h: int, canvas_w: int, margin_x: int, margin_y: int,
                row_gap: float, layout: LayoutSettings) -> float:
    """Largest typical digit height that fits every row and all rows on the canvas."""
    fits = []
    for aspect, row_factors, row_gaps in zip(aspects, factors, gaps):
        # ink width of digit i: (f_i*H - brush)*aspect_i + brush, plus gaps g_j*H
        per_height = sum(f * a for f, a in zip(row_factors, aspect)) + sum(row_gaps)
        fixed = brush * sum(1 - a for a in aspect) + 4
        fits.append((canvas_w - 2 * margin_x - fixed) / max(per_height, 1e-6))
    biggest = max(max(f) for f in factors)
    rows = len(aspects)
    per_height = rows * biggest * (1 + 2 * layout.vertical_jitter) + (rows - 1) * row_gap
    fits.append((canvas_h - 2 * margin_y) / per_height)
    return min(fits)


def compose_sample(spec: ConditionSpec, source: DigitSource, rng: np.random.Generator) -> Sample:
    """Draw one number under ``spec`` with digits from ``source``."""
    layout = spec.layout
    count = int(rng.integers(spec.digit_count[0], spec.digit_count[1] + 1))
    row_sizes = _split_rows(count, spec.rows, rng)
    labels = [[int(v) for v in rng.integers(0, 10, size)] for size in row_sizes]
    split_plan = _choose_splits(spec, labels, rng)
    digits = source.pick_number(labels, rng)
    factors = [[float(rng.uniform(*layout.size_variation)) for _ in row] for row in labels]
    gap_range = (0.0, 0.0) if spec.touching else layout.spaced_gap
    gaps = [[float(rng.uniform(*gap_range)) for _ in row[1:]] for row in labels]
    row_gap = float(rng.uniform(*layout.row_gap))
    brush = int(rng.integers(spec.brush[0], spec.brush[1] + 1))

    canvas_w = int(rng.integers(layout.canvas_width[0], layout.canvas_width[1] + 1))
    canvas_h = int(np.clip(canvas_w * rng.uniform(0.33, 0.45), *layout.canvas_height))
    wanted = float(rng.uniform(*spec.digit_height))
    margin = float(rng.uniform(*layout.margin))
    slope = float(rng.uniform(-spec.baseline_slope, spec.baseline_slope)) if spec.baseline_slope > 0 else 0.0
    aspects = [[source.aspect(d) for d in row] for row in digits]

    def fit(h: int, w: int) -> float:
        return _fit_height(aspects, factors, gaps, brush, h, w, int(margin * w), int(margin * h), row_gap, layout)

    if fit(canvas_h, canvas_w) < min(wanted, spec.digit_height[0]):
        canvas_w, canvas_h = layout.canvas_width[1], layout.canvas_height[1]
    height = min(wanted, fit(canvas_h, canvas_w))
    smallest = height * min(min(f) for f in factors)
    brush = max(2, min(brush, int(spec.max_brush_ratio * smallest)))

    coverage = np.zeros((canvas_h, canvas_w), np.uint8)
    margin_x, margin_y = int(margin * canvas_w), int(margin * canvas_h)
    rows_drawn = [_draw_row(spec, row, row_factors, row_gaps, row_splits, height, brush, slope, source, rng)
                  for row, row_factors, row_gaps, row_splits in zip(digits, factors, gaps, split_plan)]
    boxes, touching = _paste_rows(coverage, rows_drawn, height, row_gap, margin_x, margin_y, brush,
                                  layout, spec.touching, rng)

    if spec.specks[1] > 0:
        add_specks(coverage, int(rng.integers(spec.specks[0], spec.specks[1] + 1)), brush, height, rng)

    number = "\n".join("".join(str(p.drawn.label) for p in row) for row in rows_drawn)
    sources = tuple(p.drawn.source for row in rows_drawn for p in row)
    return Sample(colourize(coverage, spec.background, rng), number, spec.name, sources, brush, tuple(boxes),
                  tuple(touching))


@dataclass
class _Placed:
    drawn: DrawnDigit
    x: float  # patch left, relative to the row start
    dy: float  # patch centre, relative to the row centre
    bridge: Segment | None = None
    """A joining stroke to the previous digit, in this patch's coordinates."""


def _draw_row(spec: ConditionSpec, row: list[Any], factors: list[float], gaps: list[float],
              splits: list[bool], height: float, brush: int, slope: float, source: DigitSource,
              rng: np.random.Generator) -> list[_Placed]:
    """Draw a row's digits and place them left to right with a little vertical jitter
    (and the row's slope: a digit further right sits higher or lower)."""
    layout = spec.layout
    placed: list[_Placed] = []
    for i, (digit, factor, split) in enumerate(zip(row, factors, splits)):
        item = source.draw(digit, factor * height, brush, split, rng)
        dy = float(rng.uniform(-1, 1)) * layout.vertical_jitter * item.height
        if not placed:
            placed.append(_Placed(item, 0.0, dy))
            continue
        prev = placed[-1]
        if slope:
            dy += slope * (prev.x + prev.drawn.coverage.shape[1])
        if spec.touching:
            overlap = int(rng.integers(*layout.touch_overlap, endpoint=True))
            offset, bridge = _touching_offset(prev.drawn, item, dy - prev.dy, overlap, layout)
            placed.append(_Placed(item, prev.x + offset, dy, bridge))
        else:
            prev_right = ink_box(prev.drawn.coverage)[1]
            left = ink_box(item.coverage)[0]
            placed.append(_Placed(item, prev.x + prev_right - left + gaps[i - 1] * height, dy))
    return placed


def _touching_offset(prev: DrawnDigit, item: DrawnDigit, dy: float, overlap: int,
                     layout: LayoutSettings) -> tuple[float, Segment | None]:
    """x offset of ``item``'s patch from ``prev``'s so that their inks touch.

    ``dy`` is how much lower ``item``'s centre sits than ``prev``'s. The
    closest approach over the rows both digits have ink in decides the offset,
    so the inks overlap by ``overlap`` px there. When that would push the
    digits far into each other (a 5's bar over the next digit's loop), they
    are kept side by side instead and joined by a short stroke, as when the
    pen runs on from one digit into the next.
    """
    _, prev_right = ink_rows(prev.coverage)
    left, _ = ink_rows(item.coverage)
    prev_box, item_box = ink_box(prev.coverage), ink_box(item.coverage)
    narrower = min(prev_box[1] - prev_box[0], item_box[1] - item_box[0]) + 1
    side_by_side = prev_box[1] - item_box[0] + 1 - layout.touch_max_box_overlap * narrower
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
    first_left = row[0].x + ink_box(row[0].drawn.coverage)[0]
    return max(p.x + ink_box(p.drawn.coverage)[1] for p in row) - first_left


def _paste_rows(coverage: np.ndarray, rows: list[list[_Placed]], height: float, row_gap: float,
                margin_x: int, margin_y: int, brush: int, layout: LayoutSettings, check_touching: bool,
                rng: np.random.Generator) -> tuple[list[Box], list[bool]]:
    """Put the rows on the canvas, the block at a random place inside the margins.

    Returns each digit's ink box on the canvas, in reading order, and (when
    ``check_touching``) whether each pair of neighbours ended up touching.
    """
    canvas_h, canvas_w = coverage.shape
    tallest = max(p.drawn.height for row in rows for p in row) * (1 + 2 * layout.vertical_jitter)
    row_pitch = tallest + row_gap * height
    block_h = row_pitch * (len(rows) - 1) + tallest
    top = margin_y + rng.uniform(0, max(0.0, canvas_h - 2 * margin_y - block_h))
    widest = max(_row_width(row) for row in rows)
    block_left = margin_x + rng.uniform(0, max(0.0, canvas_w - 2 * margin_x - widest))
    boxes: list[Box] = []
    touching: list[bool] = []
    for r, row in enumerate(rows):
        centre_y = top + r * row_pitch + tallest / 2
        # Rows start roughly under each other, as when writing lines.
        indent = rng.uniform(0, layout.row_indent) * height if r else 0.0
        left = min(block_left + indent, canvas_w - margin_x - _row_width(row))
        start = left - (row[0].x + ink_box(row[0].drawn.coverage)[0])
        previous = None
        for p in row:
            h, _ = p.drawn.coverage.shape
            x, y = int(round(start + p.x)), int(round(centre_y - h / 2 + p.dy))
            paste(coverage, p.drawn.coverage, x, y)
            if p.bridge is not None:
                draw_bridge(coverage, p.bridge, x, y, brush)
            if check_touching and previous is not None:
                touching.append(p.bridge is not None or
                                patches_touch(previous[0], previous[1], p.drawn.coverage, (x, y)))
            previous = (p.drawn.coverage, (x, y))
            left, right, upper, lower = ink_box(p.drawn.coverage)
            boxes.append((x + left, y + upper, right - left + 1, lower - upper + 1))
    return boxes, touching
