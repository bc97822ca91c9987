"""Training digits from real handwriting: the pen digits of the *training* writers.

Each digit is stroked like a canvas drawing (random brush and height, random
canvas colours) and then passed through the recognizer's own preprocessing
and normalization (:func:`mdr.recognition.single.digit_input`), so the 28x28
images the model trains on look like those it is given when a user draws.
Evaluation writers (:func:`mdr.data.pen.split_writers`) are never read.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np

from mdr.data.canvas import colourize, paste
from mdr.data.pen import (PEN_BRUSH, PEN_HEIGHT, cached_pen, digits_of, draw_pen_digit, random_hand, split_writers,
                          vary_digit)
from mdr.recognition.single import digit_input
from mdr.training.styles import restyle

CANVAS = (300, 900)
"""Height and width of the canvas each digit is drawn on: the app's."""


@dataclass(frozen=True)
class PenMix:
    """How the pen digits are rendered for training."""

    renders: int = 3
    """Renderings of every training writer's digit, each at its own brush and height."""
    split_seed: int = 0
    seed: int = 0
    brush: tuple[int, int] = PEN_BRUSH
    height: tuple[int, int] = PEN_HEIGHT
    max_brush_ratio: float = 0.34
    """A brush is at most this fraction of the digit's height (as in the pen-eval sets)."""
    styles: float = 0.0
    """Chance that a 0, 1 or 7 is re-written as a slashed zero, a flagged one or a crossed seven
    (:mod:`mdr.training.styles`)."""
    validation: float = 0.0
    """Share of all writers held out as validation writers (not drawn from; 0: none)."""
    variation: float = 0.0
    """Strength of each rendering's random re-slant, turn and widening (:func:`mdr.data.pen.random_hand`)."""


def _file_sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pen_training_images(mix: PenMix, data=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """uint8 ``[N, 28, 28]`` images, int64 labels and a record of what was used (for the card)."""
    pen = cached_pen(data)
    split = split_writers(pen.writers, mix.split_seed, validation_fraction=mix.validation)
    digits = digits_of(pen, split.train)
    rng = np.random.default_rng([mix.seed, 20])
    images, labels = [], []
    style_rng = np.random.default_rng([mix.seed, 21])
    hand_rng = np.random.default_rng([mix.seed, 22])
    for _ in range(mix.renders):
        for digit in digits:
            written = restyle(digit, mix.styles, style_rng)
            if mix.variation > 0:
                written = vary_digit(written, *random_hand(mix.variation, hand_rng))
            image = render_for_training(written, mix, rng)
            x = digit_input(image)
            if x is None:
                continue
            images.append(np.round(x * 255).astype(np.uint8))
            labels.append(digit.label)
    record = {
        "file": pen.path.name,
        "sha256": _file_sha256(pen.path),
        "writer_split": split.to_dict(),
        "train_digits": len(digits),
        "images": len(images),
        "mix": asdict(mix),
    }
    return np.stack(images), np.asarray(labels, np.int64), record


def render_for_training(digit, mix: PenMix, rng: np.random.Generator) -> np.ndarray:
    """The digit alone on a canvas, at a random brush, height, place and colour scheme."""
    height = float(rng.uniform(*mix.height))
    brush = int(rng.integers(mix.brush[0], mix.brush[1] + 1))
    brush = max(2, min(brush, int(mix.max_brush_ratio * height)))
    patch = draw_pen_digit(digit, height, brush).coverage
    canvas_h, canvas_w = max(CANVAS[0], patch.shape[0] + 8), max(CANVAS[1], patch.shape[1] + 8)
    coverage = np.zeros((canvas_h, canvas_w), np.uint8)
    x = int(rng.integers(4, canvas_w - patch.shape[1] - 3))
    y = int(rng.integers(4, canvas_h - patch.shape[0] - 3))
    paste(coverage, patch, x, y)
    background = ("light", "dark", "transparent")[int(rng.integers(3))]
    return colourize(coverage, background, rng)
