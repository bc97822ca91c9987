"""Styles added to pen digits: the extra strokes are there, reach past the digit, keep the label."""
from __future__ import annotations

import numpy as np

from mdr.data.pen import cached_pen
from mdr.training.styles import crossed_seven, flagged_one, restyle, slashed_zero


def first(label: int):
    return next(d for d in cached_pen().digits if d.label == label)


def test_a_slashed_zero_gets_a_bar_reaching_past_the_ring():
    zero = first(0)
    styled = slashed_zero(zero, np.random.default_rng(0))
    assert len(styled.strokes) == len(zero.strokes) + 1 and styled.label == 0
    assert styled.extent[3] > zero.extent[3]  # the bar sticks out above and below


def test_a_crossed_seven_and_a_flagged_one_get_their_strokes():
    rng = np.random.default_rng(1)
    assert len(crossed_seven(first(7), rng).strokes) == len(first(7).strokes) + 1
    one = flagged_one(first(1), rng)
    assert len(one.strokes) > len(first(1).strokes) and one.extent[2] > first(1).extent[2]


def test_restyle_leaves_other_digits_and_probability_zero_alone():
    rng = np.random.default_rng(2)
    assert restyle(first(0), 0.0, rng) is first(0)
    assert restyle(first(3), 1.0, rng) is first(3)
    assert restyle(first(0), 1.0, rng) is not first(0)
