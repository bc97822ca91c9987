"""The original app's pipeline, reproduced for comparison: its behaviour, flaws included."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from mdr.recognition.baseline import BASELINE, BaselineRecognizer, digit_boxes, grey_as_drawn, ink_mask, stretch_to_input

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("MDR_DATA_DIR") or PROJECT_ROOT.parent / "shared/data/mnist")
MODEL = PROJECT_ROOT / "models" / "mnist-cnn" / "model.int8.onnx"


def test_stretches_a_wide_box_to_fill_the_whole_input():
    mask = np.zeros((100, 300), np.uint8)
    mask[40:60, 20:220] = 255  # a 200x20 bar, ten times wider than tall
    (box,) = digit_boxes(mask)
    digit = stretch_to_input(mask, box)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() == pytest.approx(1.0), "no aspect ratio kept: the bar fills the 28x28 edge to edge"


def test_drops_contours_outside_ten_to_four_hundred_pixels():
    mask = np.zeros((600, 900), np.uint8)
    mask[10:15, 10:15] = 255  # 5x5 speck
    mask[50:60, 50:80] = 255  # exactly 10 tall: not strictly above the limit
    mask[100:550, 100:130] = 255  # 450 tall
    mask[100:160, 300:350] = 255  # a plausible digit
    mask[100:160, 200:240] = 255  # another, left of it
    assert digit_boxes(mask) == [(200, 100, 40, 60), (300, 100, 50, 60)]
    assert BASELINE.min_side == 10 and BASELINE.max_side == 400


def test_assumes_dark_ink_on_light_background():
    light = np.full((50, 50), 255, np.uint8)
    light[10:40, 20:30] = 0
    assert ink_mask(light)[25, 25] == 255 and ink_mask(light)[0, 0] == 0
    # white ink on black comes out inverted: the background becomes "ink"
    assert ink_mask(255 - light)[0, 0] == 255


def test_rgba_canvas_is_composited_onto_white():
    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent
    rgba[5:15, 5:15] = (0, 0, 0, 255)  # opaque black ink
    grey = grey_as_drawn(rgba)
    assert grey[0, 0] == 255 and grey[10, 10] == 0


@pytest.mark.skipif(not MODEL.is_file(), reason="no trained model in models/mnist-cnn")
@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"MNIST not found at {DATA_DIR}")
def test_reads_clean_spaced_synthetic_numbers_with_the_real_model():
    from mdr.data.synth import make_set

    baseline = BaselineRecognizer(MODEL)
    samples = make_set("spaced-thin", 10, seed=0, data_dir=DATA_DIR)
    readings = [baseline.recognize(s.image) for s in samples]
    exact = sum(r == s.number for r, s in zip(readings, samples))
    compared = [(r, s.number) for r, s in zip(readings, samples) if len(r) == len(s.number)]
    right = sum(a == b for r, t in compared for a, b in zip(r, t))
    assert exact >= 4, list(zip(readings, [s.number for s in samples]))
    assert len(compared) >= 8 and right / sum(len(t) for _, t in compared) >= 0.8


@pytest.mark.skipif(not MODEL.is_file(), reason="no trained model in models/mnist-cnn")
def test_calls_the_model_once_per_digit():
    baseline = BaselineRecognizer(MODEL)
    calls = []
    real_run = baseline.session.run

    class CountingSession:
        def run(self, outputs, feeds):
            calls.append(next(iter(feeds.values())).shape)
            return real_run(outputs, feeds)

    baseline.session = CountingSession()
    image = np.full((200, 400, 3), 255, np.uint8)
    for x in (50, 150, 250):
        cv2.circle(image, (x, 100), 30, (0, 0, 0), 8)
    assert len(baseline.recognize(image)) == 3
    assert len(calls) == 3 and all(shape[0] == 1 for shape in calls)
