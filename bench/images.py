"""Fixed-size canvases for latency runs, drawn from MNIST test digits, and a touching
number written by a real person (pen-digits)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from mdr.data.synth import _paste, default_bank, draw_digit


def canvas(width: int, height: int, count: int, seed: int = 0, brush: int = 12,
           data_dir=None) -> tuple[np.ndarray, str]:
    """RGB ``height x width`` canvas, dark ink on white, ``count`` digits spaced on one line."""
    rng = np.random.default_rng([seed, count, width, height])
    bank = default_bank(data_dir)
    labels = [int(v) for v in rng.integers(0, 10, count)]
    margin = int(0.05 * min(width, height))
    # Digits about 0.75 as wide as tall, gaps of 0.3 digit heights.
    digit_h = min(0.7 * height, (width - 2 * margin) / (count * 0.75 + (count - 1) * 0.3 + 0.5))
    digit_h = max(24.0, digit_h)
    brush = max(2, min(brush, int(0.2 * digit_h)))
    coverage = np.zeros((height, width), np.uint8)
    x = margin
    for label in labels:
        drawn = draw_digit(bank.pick(label, rng), digit_h, brush)
        patch = drawn.coverage
        y = (height - patch.shape[0]) // 2 + int(rng.integers(-3, 4))
        _paste(coverage, patch, x, y)
        x += patch.shape[1] + int(0.3 * digit_h * rng.uniform(0.5, 1.0))
    grey = 255 - coverage
    return np.repeat(grey[:, :, None], 3, axis=2), "".join(map(str, labels))


def latency_cases(data_dir=None) -> list[tuple[str, np.ndarray, str]]:
    """(name, image, truth) of the canvases timed by the latency section."""
    cases = []
    for count in (1, 4, 8):
        image, truth = canvas(600, 250, count, data_dir=data_dir)
        cases.append((f"600x250, {count} digit{'s' if count > 1 else ''}", image, truth))
    image, truth = canvas(1600, 1200, 4, brush=30, data_dir=data_dir)
    cases.append(("1600x1200 upload, 4 digits", image, truth))
    image, truth = touching_number()
    cases.append(("900x300 pen, 4 touching digits", image, truth))
    return cases


TOUCHING_SEED = 0
TOUCHING_INDEX = 6
"""Which number of the touching series is timed: the 7th, one that every
digit of is read right, so its time is that of a successful split search."""


def touching_number() -> tuple[np.ndarray, str]:
    """A 4-digit number by one evaluation writer of pen-digits, its neighbours slid
    together until their inks touch, on the app's 900x300 canvas (``mdr.data.pen``)."""
    from mdr.data.compose import compose_sample, condition_rng
    from mdr.data.pen import PEN_CONDITIONS, pen_bank

    spec = replace(PEN_CONDITIONS["touching"], digit_count=(4, 4))
    bank, rng = pen_bank(), condition_rng("latency-touching", TOUCHING_SEED)
    for _ in range(TOUCHING_INDEX):
        compose_sample(spec, bank, rng)
    sample = compose_sample(spec, bank, rng)
    return sample.image, sample.number
