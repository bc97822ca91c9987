"""Training images of "not a single digit" (class 10), made the way the split search sees them.

The split search reads runs of pieces of a wide part and asks the classifier
how sure it is that each is one digit. An MNIST classifier is sure of far too
much: two touching digits, the left half of a 0, a 7 with a neighbour's stroke
on it all get a confident digit. These images teach an eleventh answer:
touching or overlapping pairs (also of different sizes), left, right and top
parts of a digit, a digit with a chunk of its neighbour, and small fragments.

Digits come from MNIST's *training* split (re-stroked as pen paths) and from
the pen digits of the *training writers* only (:func:`mdr.data.pen.split_writers`);
each image is drawn on a canvas and passed through the recognizer's own steps
(:func:`mdr.recognition.single.digit_input`), so it looks like the pieces the
split search classifies. The same seed gives the same images.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from mdr.data.canvas import INK_LEVEL, colourize, ink_rows, paste
from mdr.data.mnist import load_split
from mdr.data.pen import PEN_BRUSH, PEN_HEIGHT, cached_pen, digits_of, draw_pen_digit, split_writers
from mdr.data.strokes import draw_digit, stroke_digit
from mdr.errors import MdrError
from mdr.recognition.single import digit_input

KINDS = ("pair", "part", "neighbour", "fragment")
NARROW_LABELS = (1,)
"""Digits a crop of which still looks like the digit itself: never cut into parts."""


@dataclass(frozen=True)
class RejectMix:
    """How many reject images, of which kinds, from which digits."""

    count: int
    seed: int = 0
    split_seed: int = 0
    """Seed of the pen writer split; only its training writers are drawn from."""
    pen_share: float = 0.5
    """Share of the images made of pen digits (the rest: MNIST training digits)."""
    weights: tuple[float, float, float, float] = (0.4, 0.3, 0.2, 0.1)
    """Shares of the kinds, in the order of :data:`KINDS`."""
    brush: tuple[int, int] = PEN_BRUSH
    height: tuple[int, int] = PEN_HEIGHT
    max_brush_ratio: float = 0.34
    validation: float = 0.0
    """Share of all writers held out as validation writers (not drawn from; 0: none)."""
    ones: float = 0.0
    """Chance that one of the two digits of a pair or neighbour image is a 1 (either side):
    a 1 leaning on its neighbour reads as that neighbour alone unless it is taught as not one digit.
    0 draws both digits at random (and the same images as before this knob)."""


@dataclass(frozen=True)
class RejectSample:
    """One reject image and what it was made of (for tests and the card)."""

    image: np.ndarray  # uint8 28x28, ink bright
    kind: str
    source: str  # "mnist" or "pen"
    parts: tuple[int, ...]  # MNIST training indices, or pen-digit file indices
    writers: tuple[int, ...]  # pen writers used (empty for MNIST)


class _Digits:
    """Draws a random digit of one source as canvas coverage."""

    def __init__(self, mix: RejectMix, data_dir: str | None, pen_data=None):
        self.mix = mix
        pen = cached_pen(pen_data)
        self.split = split_writers(pen.writers, mix.split_seed, validation_fraction=mix.validation)
        self.pen = digits_of(pen, self.split.train)
        self.mnist_images, self.mnist_labels = load_split("train", data_dir)
        self._strokes: dict[int, object] = {}
        self._pen_of: dict[int, list] = {}
        self._mnist_of: dict[int, np.ndarray] = {}

    def draw(self, source: str, height: float, brush: int, rng: np.random.Generator,
             label: int | None = None):
        """(coverage, label, index, writer or None) of a random digit of ``source``
        (of ``label`` when given)."""
        if source == "pen":
            pool = self.pen if label is None else self._pen_of.setdefault(
                label, [d for d in self.pen if d.label == label])
            digit = pool[int(rng.integers(len(pool)))]
            return draw_pen_digit(digit, height, brush).coverage, digit.label, digit.index, digit.writer
        if label is not None and label not in self._mnist_of:
            self._mnist_of[label] = np.flatnonzero(self.mnist_labels == label)
        for _ in range(20):
            if label is None:
                index = int(rng.integers(len(self.mnist_images)))
            else:
                index = int(self._mnist_of[label][int(rng.integers(len(self._mnist_of[label])))])
            if index not in self._strokes:
                self._strokes[index] = stroke_digit(self.mnist_images[index], int(self.mnist_labels[index]), index)
            digit = self._strokes[index]
            if digit is not None:
                return draw_digit(digit, height, brush).coverage, digit.label, index, None
        raise RuntimeError("No usable MNIST training digit found.")


def _brush_and_height(mix: RejectMix, rng: np.random.Generator) -> tuple[float, int]:
    height = float(rng.uniform(*mix.height))
    brush = int(rng.integers(mix.brush[0], mix.brush[1] + 1))
    return height, max(2, min(brush, int(mix.max_brush_ratio * height)))


def touching_pair(a: np.ndarray, b: np.ndarray, overlap: int, dy: int) -> tuple[np.ndarray, int]:
    """``b`` placed right of ``a`` (``dy`` lower) so their inks overlap by ``overlap`` px
    where they come closest; returns the coverage and the x where ``b``'s patch starts."""
    _, a_right = ink_rows(a)
    b_left, _ = ink_rows(b)
    rows = [r for r in range(len(a_right)) if a_right[r] >= 0 and 0 <= r - dy < len(b_left) and b_left[r - dy] >= 0]
    if rows:
        x = max(a_right[r] - b_left[r - dy] for r in rows) + 1 - overlap
    else:  # no shared rows: side by side, box edges overlapping
        x = int(np.flatnonzero(a.max(axis=0) >= INK_LEVEL)[-1]) - int(np.flatnonzero(b.max(axis=0) >= INK_LEVEL)[0]) - overlap
    x = max(0, int(x))
    top = min(0, dy)
    height = max(a.shape[0], dy + b.shape[0]) - top
    coverage = np.zeros((height, max(a.shape[1], x + b.shape[1])), np.uint8)
    paste(coverage, a, 0, -top)
    paste(coverage, b, x, dy - top)
    return coverage, x


def _ink_span(coverage: np.ndarray, axis: int) -> tuple[int, int]:
    """First and last ink index along ``axis`` (0: columns, 1: rows)."""
    where = np.flatnonzero(coverage.max(axis=axis) >= INK_LEVEL)
    return int(where[0]), int(where[-1]) + 1


def _crop_part(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A left, right or top 30-70% of the digit's ink."""
    side = ("left", "right", "top")[int(rng.choice(3, p=[0.4, 0.4, 0.2]))]
    share = float(rng.uniform(0.3, 0.7))
    if side == "top":
        y0, y1 = _ink_span(coverage, 1)
        return coverage[:y0 + max(1, int(share * (y1 - y0)))]
    x0, x1 = _ink_span(coverage, 0)
    cut = max(1, int(share * (x1 - x0)))
    return coverage[:, :x0 + cut] if side == "left" else coverage[:, x1 - cut:]


def _crop_fragment(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small window (15-40% wide, 25-55% tall) of the digit's ink box."""
    x0, x1 = _ink_span(coverage, 0)
    y0, y1 = _ink_span(coverage, 1)
    w = max(2, int(rng.uniform(0.15, 0.4) * (x1 - x0)))
    h = max(2, int(rng.uniform(0.25, 0.55) * (y1 - y0)))
    x = int(rng.integers(x0, max(x0 + 1, x1 - w + 1)))
    y = int(rng.integers(y0, max(y0 + 1, y1 - h + 1)))
    return coverage[y:y + h, x:x + w]


def make_reject(kind: str, source: str, digits: _Digits, mix: RejectMix,
                rng: np.random.Generator) -> RejectSample | None:
    """One reject image of ``kind`` from ``source`` digits; None when nothing readable is left."""
    height, brush = _brush_and_height(mix, rng)
    one = None  # which of the two digits of a pair is a 1 (0: first drawn, 1: second)
    if kind in ("pair", "neighbour") and mix.ones > 0 and rng.random() < mix.ones:
        one = int(rng.integers(2))
    a, label, index, writer = digits.draw(source, height, brush, rng, 1 if one == 0 else None)
    parts, writers = [index], [writer]
    if kind == "part" or kind == "fragment":
        for _ in range(5):
            if label not in NARROW_LABELS:
                break
            a, label, index, writer = digits.draw(source, height, brush, rng)
            parts, writers = [index], [writer]
        coverage = _crop_part(a, rng) if kind == "part" else _crop_fragment(a, rng)
    else:
        factor = float(rng.uniform(0.65, 1.35)) if rng.random() < 0.5 else 1.0
        b, _, b_index, b_writer = digits.draw(source, height * factor, brush, rng, 1 if one == 1 else None)
        parts.append(b_index)
        writers.append(b_writer)
        deep = rng.random() < 0.25
        overlap = int(rng.integers(1, max(2, int(0.25 * min(a.shape[1], b.shape[1]))) if deep else brush // 2 + 2))
        dy = int(rng.integers(-int(0.1 * height), int(0.1 * height) + 1)) + (a.shape[0] - b.shape[0]) // 2
        if rng.random() < 0.5:
            a, b = b, a
            dy = -dy
        coverage, x = touching_pair(a, b, overlap, dy)
        if kind == "neighbour":
            share = float(rng.uniform(0.15, 0.45))
            if rng.random() < 0.5:  # the left digit and a chunk of the right one
                b0, b1 = _ink_span(b, 0)
                coverage = coverage[:, :x + b0 + max(1, int(share * (b1 - b0)))]
            else:  # a chunk of the left digit and the right one
                a0, a1 = _ink_span(a, 0)
                coverage = coverage[:, a1 - max(1, int(share * (a1 - a0))):]
    if coverage.size == 0 or coverage.max() < INK_LEVEL:
        return None
    canvas = np.zeros((coverage.shape[0] + 16, coverage.shape[1] + 16), np.uint8)
    paste(canvas, coverage, 8, 8)
    background = ("light", "dark", "transparent")[int(rng.integers(3))]
    try:
        x28 = digit_input(colourize(canvas, background, rng))
    except MdrError:  # a sliver the recognizer would refuse too (too faint, all ink)
        return None
    if x28 is None:
        return None
    return RejectSample(np.round(x28 * 255).astype(np.uint8), kind, source, tuple(parts),
                        tuple(w for w in writers if w is not None))


def reject_samples(mix: RejectMix, data_dir: str | None = None, pen_data=None) -> list[RejectSample]:
    """``mix.count`` reject samples, kinds and sources drawn by ``mix``'s shares; seeded."""
    digits = _Digits(mix, data_dir, pen_data)
    rng = np.random.default_rng([mix.seed, 30])
    weights = np.asarray(mix.weights, float) / sum(mix.weights)
    samples: list[RejectSample] = []
    while len(samples) < mix.count:
        kind = KINDS[int(rng.choice(len(KINDS), p=weights))]
        source = "pen" if rng.random() < mix.pen_share else "mnist"
        sample = make_reject(kind, source, digits, mix, rng)
        if sample is not None:
            samples.append(sample)
    return samples


def reject_training_images(mix: RejectMix, data_dir: str | None = None) -> tuple[np.ndarray, dict]:
    """uint8 ``[N, 28, 28]`` images of class 10 and a record of what they are (for the card)."""
    samples = reject_samples(mix, data_dir)
    kinds = {kind: sum(s.kind == kind for s in samples) for kind in KINDS}
    record = {"images": len(samples), "kinds": kinds,
              "pen_images": sum(s.source == "pen" for s in samples),
              "mix": asdict(mix), "digits_from": "MNIST training split; pen-digits training writers"}
    images = np.stack([s.image for s in samples]) if samples else np.zeros((0, 28, 28), np.uint8)
    return images, record
