"""Shortcuts that keep recognition fast: shrinking big drawings, skipping hopeless split searches."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench.images import canvas
from mdr import Recognizer
from mdr.recognition.config import DEFAULT_CONFIG
from mdr.recognition.preprocess import WORK_MIN_SIDE, tallest_mark, to_grey, work_scale


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer()


def test_tallest_mark_measures_the_ink_on_a_coarse_copy():
    image, _ = canvas(1600, 1200, 4, brush=30)
    grey = to_grey(image, DEFAULT_CONFIG)
    rows = np.flatnonzero((grey < 128).any(axis=1))
    assert tallest_mark(grey) == pytest.approx(rows[-1] - rows[0] + 1, rel=0.1)
    assert tallest_mark(np.full((300, 300), 255, np.uint8)) is None


def test_big_drawings_are_read_at_a_smaller_scale(recognizer):
    image, truth = canvas(1600, 1200, 4, brush=30)
    grey = to_grey(image, DEFAULT_CONFIG)
    scale = work_scale(grey, DEFAULT_CONFIG)
    assert scale < 0.5 and max(grey.shape) * scale >= WORK_MIN_SIDE
    fast = recognizer.recognize(image)
    full = recognizer.recognize(image, replace(DEFAULT_CONFIG, work_digit_height=0))
    assert fast.number == full.number == truth
    assert fast.scale == pytest.approx(scale) and full.scale == pytest.approx(1200 / 1600)
    # Boxes are reported in the original image's pixels either way.
    for a, b in zip(fast.digits, full.digits):
        assert np.allclose(a.box, b.box, atol=6)


def test_small_drawings_keep_their_size():
    image, _ = canvas(600, 250, 8)
    assert work_scale(to_grey(image, DEFAULT_CONFIG), DEFAULT_CONFIG) == 1.0


def test_a_confident_wide_digit_skips_the_cut_search(recognizer):
    image, truth = canvas(600, 250, 1)  # one big digit, wider than tall
    read_by_strip = recognizer.recognize(image)
    assert read_by_strip.number == truth
    assert all(d.strip is not None and d.strip.text == truth and not d.chosen for d in read_by_strip.splits)
    result = recognizer.recognize(image, replace(DEFAULT_CONFIG, use_strip_reader=False))  # the cut search
    assert result.number == truth
    skipped = [d for d in result.splits if not d.candidates]
    assert skipped
    for decision in skipped:
        assert decision.chosen == [] and "no cut was tried" in decision.reason
        assert decision.whole_score > -1.0
