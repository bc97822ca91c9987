"""Other readings of a number, one digit changed to its second choice, most likely first: the
"did you mean" under a result."""
from __future__ import annotations

import numpy as np

from mdr.recognition.results import Digit, Recognition


def _digit(top3: list[tuple[int, float]], line: int = 0) -> Digit:
    return Digit(digit=top3[0][0], confidence=top3[0][1], box=(0, 0, 1, 1), line=line, top3=top3,
                 probabilities=np.zeros(10, np.float32), steps=None)


def _recognition(digits: list[Digit], lines: list[list[int]]) -> Recognition:
    number = "\n".join("".join(str(digits[i].digit) for i in line) for line in lines)
    return Recognition(number=number, digits=digits, lines=lines, original_shape=(1, 1), scale=1.0,
                       grey=None, ink=None, polarity=None, binarization=None, mask=None, label_image=None,
                       components=[], stroke_width=1.0, digit_height=1.0, merges=[], splits=[], timings_ms={})


def test_the_digit_whose_second_choice_is_closest_to_its_first_changes_first():
    digits = [_digit([(4, 0.98), (9, 0.01), (1, 0.01)]),
              _digit([(7, 0.55), (1, 0.40), (2, 0.05)]),
              _digit([(0, 0.80), (6, 0.15), (8, 0.05)])]
    found = _recognition(digits, [[0, 1, 2]]).alternatives(3)
    assert [a.number for a in found] == ["410", "476", "970"]
    assert [a.position for a in found] == [1, 2, 0] and found[0].digit == 1
    assert abs(found[0].odds - 0.40 / 0.55) < 1e-6


def test_other_readings_keep_the_rows_and_stop_at_k():
    digits = [_digit([(2, 0.6), (7, 0.4), (1, 0.0)]), _digit([(5, 0.9), (6, 0.1), (3, 0.0)], line=1),
              _digit([(3, 0.7), (8, 0.3), (9, 0.0)], line=1)]
    found = _recognition(digits, [[0], [1, 2]]).alternatives(2)
    assert [a.number for a in found] == ["7\n53", "2\n58"]


def test_no_digits_no_other_readings():
    assert _recognition([], []).alternatives(3) == []
