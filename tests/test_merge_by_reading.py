"""Strokes of one digit that never met (an open 4 drawn as an L and a bar) are joined when they read
as one digit together and not apart; separate digits side by side stay apart."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from drawing import STROKES, draw_digit
from mdr import Recognizer
from mdr.recognition import segment
from mdr.recognition.config import RecognizerConfig

OPEN_FOUR = [[(0.1, 0.0), (0.05, 0.6), (0.55, 0.6)], [(0.85, 0.05), (0.85, 1.0)]]
"""An L and a bar to its right with a gap between them: how some people write a 4."""


def drawing(keys: list[str], gap: int = 30) -> np.ndarray:
    canvas = np.zeros((300, 900), np.uint8)
    x = 60
    for key in keys:
        draw_digit(canvas, key, x, 80, 120, 12)
        x += 72 + gap
    return canvas


FIVE_BAR_OFF_RIGHT = [STROKES["5_lifted_bar"][0], [(0.65, -0.1), (1.6, -0.1)]]
"""A 5 whose bar was lifted and drawn above and well to the right of its body: the two share
under half their columns, too few for geometry alone to join them."""

FIVE_BAR_BESIDE = [STROKES["5_lifted_bar"][0], [(1.05, 0.14), (2.1, 0.12)]]
"""A 5 whose bar was lifted and drawn beside the top of its body, to its right, as long as the body
is wide: the two are side by side on the line and together wider than a digit of this height."""


FIVE_BAR_LIFTED_HIGH = [STROKES["5_lifted_bar"][0], [(0.3, -0.3), (1.1, -0.38)]]
"""A 5 whose bar was lifted well above its body."""

FIVE_BAR_LIFTED_HIGH_RIGHT = [STROKES["5_lifted_bar"][0], [(0.8, -0.05), (2.2, -0.3)]]
"""A 5 whose bar was lifted and drawn above and far to the right of its body, rising."""


@pytest.fixture(autouse=True)
def open_four(monkeypatch):
    monkeypatch.setitem(STROKES, "4_open", OPEN_FOUR)
    monkeypatch.setitem(STROKES, "5_bar_off_right", FIVE_BAR_OFF_RIGHT)
    monkeypatch.setitem(STROKES, "5_bar_beside", FIVE_BAR_BESIDE)
    monkeypatch.setitem(STROKES, "5_bar_high", FIVE_BAR_LIFTED_HIGH)
    monkeypatch.setitem(STROKES, "5_bar_high_right", FIVE_BAR_LIFTED_HIGH_RIGHT)


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer()


def joins(recognition) -> list[tuple[bool, str]]:
    return [(m.joined, m.reason) for m in recognition.merges if m.reason.startswith("close neighbours")]


@pytest.mark.parametrize("gap", [20, 40])
def test_an_open_four_whose_strokes_never_met_reads_as_one_four(recognizer, gap):
    image = drawing(["7", "4_open", "1"], gap)
    assert recognizer.recognize(image, replace(recognizer.config, merge_by_reading=0)).number == "7411"
    result = recognizer.recognize(image)
    assert result.number == "741"
    assert (True, ) == tuple(j for j, why in joins(result) if "together a 4" in why)


def test_a_five_whose_bar_floats_off_to_the_right_reads_as_one_five(recognizer):
    image = drawing(["1", "5_bar_off_right", "7"], 70)
    assert recognizer.recognize(image, replace(recognizer.config, merge_by_reading=0)).number != "157"
    result = recognizer.recognize(image)
    assert result.number == "157"
    assert (True, ) == tuple(j for j, why in joins(result) if "together a 5" in why)


def test_a_five_whose_bar_was_drawn_beside_its_top_reads_as_one_five(recognizer, monkeypatch):
    image = drawing(["1", "5_bar_beside", "7"], 120)
    result = recognizer.recognize(image)
    assert result.number == "157"
    assert (True, ) == tuple(j for j, why in joins(result) if "together a 5" in why)
    # Without the wider allowances for a short fragment, the pair is never asked and the bar is
    # read as a digit of its own.
    monkeypatch.setattr(segment, "MERGE_FRAGMENT", (0.0, segment.MERGE_FRAGMENT[1]))
    monkeypatch.setattr(segment, "MERGE_LIFTED", (0.0, ) + segment.MERGE_LIFTED[1:])
    assert recognizer.recognize(image).number != "157"


@pytest.mark.parametrize("key, brush", [("5_bar_high", 10), ("5_bar_high_right", 12)])
def test_a_lone_five_whose_bar_was_lifted_above_its_body_reads_as_one_five(recognizer, monkeypatch, key, brush):
    # The only digit: the digit height is measured on the body, and the bar above puts the two
    # past one digit's height; the short bar may still be asked with its nearest neighbour.
    canvas = np.zeros((300, 900), np.uint8)
    draw_digit(canvas, key, 400, 100, 120, brush)
    result = recognizer.recognize(canvas)
    assert result.number == "5"
    assert (True, ) == tuple(j for j, why in joins(result) if "together a 5" in why)
    monkeypatch.setattr(segment, "MERGE_LIFTED", (0.0, ) + segment.MERGE_LIFTED[1:])
    assert recognizer.recognize(canvas).number != "5"


def test_a_five_joined_by_reading_is_not_cut_apart_again(recognizer):
    # A training writer's 5 (pen-digits sample 5163) whose bar runs far to the right above the body:
    # together wider than a digit, so the strip reader would be asked and read it "55".
    from mdr.data.pen import cached_pen, draw_pen_digit, split_writers

    pen = cached_pen()
    digit = next(d for d in pen.digits if d.index == 5163)
    assert digit.label == 5 and digit.writer in split_writers(pen.writers).train
    coverage = draw_pen_digit(digit, 110, 14).coverage
    canvas = np.zeros((300, 900), np.uint8)
    canvas[100:100 + coverage.shape[0], 400:400 + coverage.shape[1]] = coverage
    result = recognizer.recognize(canvas)
    assert (True, ) == tuple(j for j, why in joins(result) if "together a 5" in why)
    assert result.number == "5" and result.splits == []


def test_a_doubtful_stroke_beside_a_separate_digit_stays_apart(recognizer):
    # The 7 and the open 4's L are neighbours too: together they read as "not a single digit".
    result = recognizer.recognize(drawing(["7", "4_open", "1"], 20))
    kept_apart = [why for joined, why in joins(result) if not joined]
    assert kept_apart and all("kept apart" in why and "not a single digit" in why for why in kept_apart)


@pytest.mark.parametrize("keys", [["4", "1"], ["1", "1"], ["7", "1"], ["1", "7", "4"]])
def test_separate_digits_close_together_stay_separate(recognizer, keys):
    assert recognizer.recognize(drawing(keys, 12)).number == "".join(keys)


def test_a_model_without_the_not_a_single_digit_class_never_joins_by_reading():
    plain = Recognizer(model="mnist-cnn")
    result = plain.recognize(drawing(["7", "4_open", "1"]))
    assert joins(result) == []


def test_the_pipeline_page_shows_each_join_by_reading_with_how_sure_the_model_was(recognizer):
    from mdr.app import pipeline_view as pv
    from mdr.app.pipeline_pictures import merges_picture

    result = recognizer.recognize(drawing(["7", "4_open", "1"], 40))
    text = pv.describe_merges(result)
    assert "close neighbours, one of them doubtful, read together; **1** joined as one digit" in text
    table = pv.merges_table(result)
    joined = table[table["joined"] & table["read as one digit"].notna()]
    assert len(joined) == 1 and joined["read as one digit"].iloc[0] >= 0.5
    assert joined["overlap"].isna().all()
    assert merges_picture(result).shape[:2] == result.mask.shape[:2]
