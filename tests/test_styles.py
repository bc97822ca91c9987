"""Styles added to pen digits: the extra strokes are there, reach past the digit, keep the label."""
from __future__ import annotations

import numpy as np

from mdr.data.pen import cached_pen
from mdr.training.styles import crossed_seven, flagged_one, restyle, serif_seven, slashed_zero


def first(label: int, where=lambda digit: True):
    return next(d for d in cached_pen().digits if d.label == label and where(d))


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


def test_some_upright_bars_through_a_zero_are_as_long_as_a_phis():
    zero = first(0)
    height = zero.extent[3]
    rng = np.random.default_rng(3)
    grown = [slashed_zero(zero, rng).extent[3] / height for _ in range(200)]
    assert max(grown) > 1.8 and min(grown) < 1.3  # a bar reaching 40%+ past both ends, and short ones


def _starts_at_its_top(digit) -> bool:
    _, y0, _, h = digit.extent
    return digit.strokes[0][0][1] - y0 < 0.05 * h


def test_a_serif_seven_begins_with_a_tick_down_from_its_top_bar():
    seven = first(7, _starts_at_its_top)
    styled = serif_seven(seven, np.random.default_rng(4))
    assert len(styled.strokes) == len(seven.strokes) + 1 and styled.label == 7
    tick = styled.strokes[0]
    assert np.allclose(tick[-1], seven.strokes[0][0])  # the tick ends where the bar starts
    assert tick[0][1] - tick[-1][1] > 0.15 * seven.extent[3]  # and begins well below it


def test_a_seven_that_already_begins_below_its_bar_keeps_its_strokes():
    seven = first(7, lambda d: not _starts_at_its_top(d) and d.strokes[0][0][1] - d.extent[1] > 0.2 * d.extent[3])
    assert serif_seven(seven, np.random.default_rng(5)) is seven


def test_restyle_writes_a_seven_in_either_of_its_styles():
    seven = first(7, _starts_at_its_top)
    rng = np.random.default_rng(7)
    added = {len(restyle(seven, 1.0, rng).strokes[0]) == len(seven.strokes[0]) for _ in range(40)}
    assert added == {True, False}  # crossed (first stroke kept) and serif (a tick put first)
