"""An evaluation counts a number as right in one click when it was read exactly, or when the true
number was among the other readings offered under the result."""
from __future__ import annotations

import numpy as np

from mdr.data.synth import Sample
from mdr.evaluation.numbers import _overall, compare_on_sets


def _sample(number: str) -> Sample:
    return Sample(image=np.zeros((4, 4), np.uint8), number=number, condition="test")


def test_a_number_read_wrong_counts_as_one_click_only_when_its_truth_was_offered():
    readings = {"41": ("41", ["47"]), "52": ("53", ["52", "58"]), "60": ("66", ["68"]), "7": ("1", [])}
    order = iter(["41", "52", "60", "7"])

    def recognizer(image):
        return readings[next(order)]

    (result,) = compare_on_sets(recognizer, lambda image: "0", [("test", [_sample(n) for n in readings])])
    assert (result.recognizer.exact, result.recognizer.one_click) == (1, 2)
    assert result.recognizer.one_click_rate == 0.5 and result.recognizer.to_dict()["one_click_rate"] == 0.5
    assert result.recognizer_read == ["41", "53", "66", "1"]
    assert (result.baseline.exact, result.baseline.one_click) == (0, 0)  # offers nothing
    assert _overall([result, result], "recognizer").one_click == 4


def test_a_reader_that_raises_is_not_right_in_one_click():
    def recognizer(image):
        raise ValueError("unreadable")

    (result,) = compare_on_sets(recognizer, lambda image: "5", [("test", [_sample("5")])])
    assert result.recognizer.one_click == 0 and result.recognizer.errors["ValueError"] == 1
    assert result.baseline.one_click == 1
