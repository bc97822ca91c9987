"""Canvas-like multi-digit test images, made from MNIST *test* digits.

MNIST digits are re-stroked with a round brush at canvas scale
(:mod:`mdr.data.strokes`) and laid out under a named condition
(:mod:`mdr.data.compose`): thin or thick brush, polarity, transparency,
touching digits, digits drawn in two strokes, two rows, specks. This module
holds the MNIST conditions, the bank of MNIST test digits and the set
builders; the names the rest of the project imports from here stay here.

Only the test split is read, so a model is never scored on digits it was
trained on. The same seed gives the same images.
"""
from __future__ import annotations

import os
from functools import lru_cache

import cv2
import numpy as np

from mdr.data.canvas import (INK_LEVEL, TRANSPARENT_INK_COLOURS, Background, DrawnDigit, colourize as _colourize,
                             ink_box as _ink_box, ink_rows as _ink_rows, paste as _paste, write_png)
from mdr.data.compose import (LAYOUT, TWO_STROKE_FALLBACK, TWO_STROKE_LABELS, ConditionSpec, LayoutSettings,
                              Sample, compose_sample, condition_rng)
from mdr.data.mnist import load_split
from mdr.data.strokes import SKELETON_UPSCALE, StrokeDigit, draw_digit, path_height_scale, split_path, stroke_digit

__all__ = ["CONDITIONS", "ConditionSpec", "DigitBank", "DrawnDigit", "LAYOUT", "LayoutSettings", "Sample",
           "SKELETON_UPSCALE", "StrokeDigit", "TRANSPARENT_INK_COLOURS", "Background", "condition_rng",
           "default_bank", "draw_digit", "make_sample", "make_set", "path_height_scale", "split_path",
           "stroke_digit", "write_png", "_colourize", "_ink_box", "_ink_rows", "_paste"]


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

    def pick_number(self, labels: list[list[int]], rng: np.random.Generator) -> list[list[StrokeDigit]]:
        """Any test digit of each label: MNIST does not say who wrote what."""
        return [[self.pick(label, rng) for label in row] for row in labels]

    def aspect(self, digit: StrokeDigit) -> float:
        return digit.aspect

    def draw(self, digit: StrokeDigit, height: float, brush: int, split: bool,
             rng: np.random.Generator) -> DrawnDigit:
        return _draw_one(digit, height, brush, split, self, rng)


@lru_cache(maxsize=4)
def _bank_for(folder: str) -> DigitBank:
    return DigitBank.from_folder(folder or None)


def default_bank(data_dir: str | os.PathLike | None = None) -> DigitBank:
    """A bank shared by all callers with the same data folder (loads once)."""
    return _bank_for(str(data_dir) if data_dir else "")


def _draw_one(digit: StrokeDigit, height: float, brush: int, split: bool,
              bank: DigitBank, rng: np.random.Generator) -> DrawnDigit:
    """The digit stroked; when ``split``, cut into two strokes with a visible gap
    (another digit of the label, or a 4, 5 or 7, when this one cannot be cut)."""
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
        n_parts, _ = cv2.connectedComponents((drawn.coverage >= INK_LEVEL).astype(np.uint8), connectivity=8)
        if n_parts - 1 >= 2:
            return drawn
    return draw_digit(digit, height, brush)


def make_sample(condition: str, rng: np.random.Generator, bank: DigitBank | None = None) -> Sample:
    """Draw one number under ``condition`` (a key of :data:`CONDITIONS`)."""
    return compose_sample(CONDITIONS[condition], bank or default_bank(), rng)


def make_set(condition: str, n: int, seed: int = 0,
             data_dir: str | os.PathLike | None = None) -> list[Sample]:
    """``n`` samples of ``condition``; the same arguments give the same images."""
    if condition not in CONDITIONS:
        raise KeyError(f"Unknown condition '{condition}': choose from {', '.join(CONDITIONS)}.")
    bank = default_bank(data_dir)
    rng = condition_rng(condition, seed)
    return [make_sample(condition, rng, bank) for _ in range(n)]
