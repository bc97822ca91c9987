"""Advice for a better reading: touching digits cut without much certainty, a brush thick for the
digits' size; the same sentences on the page, in the HTTP answer and in ``recognize --json``."""
from __future__ import annotations

import numpy as np

from mdr.recognition.advice import THICK_BRUSH, TOUCHING_DOUBT, advice_for
from mdr.recognition.results import Digit, Recognition, SplitDecision, StripEvidence


def _recognition(stroke_width: float, doubts: list[float]) -> Recognition:
    """Four digits side by side, 10 px each; a touching pair cut by the strip reader per entry of
    ``doubts`` (its least sure digit), the first over digits 1-2, the next over 3-4."""
    digits = [Digit(digit=k, confidence=0.99, box=(10 * k, 0, 10, 10), line=0, top3=[(k, 0.99)],
                    probabilities=np.zeros(10, np.float32), steps=None) for k in range(4)]
    splits = [SplitDecision(box=(20 * k, 0, 20, 10), whole_score=0.0, candidates=[], chosen=[0], score=0.0,
                            reason="", strip=StripEvidence("", [0.99, sure], [], [], np.zeros((3, 11))))
              for k, sure in enumerate(doubts)]
    return Recognition(number="0123", digits=digits, lines=[[0, 1, 2, 3]], original_shape=(10, 40), scale=1.0,
                       grey=None, ink=None, polarity=None, binarization=None, mask=None, label_image=None,
                       components=[], stroke_width=stroke_width, digit_height=10.0, merges=[], splits=splits,
                       timings_ms={})


def test_a_sure_reading_with_a_thin_brush_gets_no_advice():
    assert advice_for(_recognition(1.0, [TOUCHING_DOUBT, 0.99])) == []


def test_touching_digits_cut_unsurely_are_named_with_the_least_sure_figure():
    (advice,) = advice_for(_recognition(1.0, [0.62, TOUCHING_DOUBT - 0.01]))
    assert advice.kind == "touching"
    assert advice.message.startswith("Digits 1-2, 3-4 touch, and the reader was only 62% sure")
    assert "leave a little space" in advice.message


def test_a_thick_brush_is_advised_after_touching_digits():
    kinds = [a.kind for a in advice_for(_recognition(THICK_BRUSH * 10, [0.5]))]
    assert kinds == ["touching", "thick brush"]
    (thick,) = advice_for(_recognition(THICK_BRUSH * 10 + 0.5, []))
    assert "about 35% of their height" in thick.message and "thinner brush" in thick.message
    assert advice_for(_recognition(THICK_BRUSH * 10 - 0.1, [])) == []


def test_the_reading_as_json_carries_the_advice():
    recognition = _recognition(4.0, [0.5])
    assert recognition.to_dict()["advice"] == [a.to_dict() for a in advice_for(recognition)]
    assert [a["kind"] for a in recognition.to_dict()["advice"]] == ["touching", "thick brush"]
