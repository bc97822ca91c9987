"""The canvas-like test images: reproducible, truthful, and each condition as named."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mdr.data import synth
from mdr.data.mnist import load_split

DATA_DIR = Path(os.environ.get("MDR_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared/data/mnist")
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"MNIST not found at {DATA_DIR}")

N = 12


def samples(condition: str, n: int = N, seed: int = 0) -> list[synth.Sample]:
    return synth.make_set(condition, n, seed=seed, data_dir=DATA_DIR)


def ink(sample: synth.Sample) -> np.ndarray:
    """Ink coverage 0..255 whatever the condition's colours."""
    image = sample.image
    if image.shape[2] == 4:
        return image[:, :, 3]
    grey = image[:, :, 0]
    return grey if synth.CONDITIONS[sample.condition].background == "dark" else 255 - grey


def component_count(sample: synth.Sample) -> int:
    n, _ = cv2.connectedComponents((ink(sample) >= 128).astype(np.uint8), connectivity=8)
    return n - 1


def digit_count(sample: synth.Sample) -> int:
    return len(sample.number.replace("\n", ""))


@pytest.mark.parametrize("condition", list(synth.CONDITIONS))
def test_same_seed_gives_same_images_and_numbers(condition):
    first, again, other = samples(condition, 4), samples(condition, 4), samples(condition, 4, seed=1)
    assert [s.number for s in first] == [s.number for s in again]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again))
    assert [s.number for s in first] != [s.number for s in other]


@pytest.mark.parametrize("condition", list(synth.CONDITIONS))
def test_number_is_the_labels_of_the_digits_drawn(condition):
    _, labels = load_split("test", DATA_DIR)
    for sample in samples(condition):
        assert len(sample.sources) == digit_count(sample)
        assert "".join(str(labels[i]) for i in sample.sources) == sample.number.replace("\n", "")
        assert 2 <= digit_count(sample) <= 8


def test_only_the_test_split_is_read(monkeypatch):
    splits = []

    def spy(split="train", folder=None):
        splits.append(split)
        return load_split(split, folder)

    monkeypatch.setattr(synth, "load_split", spy)
    synth._bank_for.cache_clear()
    try:
        bank = synth.default_bank(DATA_DIR)
        for condition in synth.CONDITIONS:
            synth.make_set(condition, 2, seed=3, data_dir=DATA_DIR)
    finally:
        synth._bank_for.cache_clear()
    assert splits == ["test"]
    test_images, _ = load_split("test", DATA_DIR)
    assert np.array_equal(bank.images, test_images)


@pytest.mark.parametrize("condition", list(synth.CONDITIONS))
def test_canvas_size_is_like_a_browser_canvas(condition):
    for sample in samples(condition, 6):
        height, width = sample.image.shape[:2]
        assert 250 <= height <= 400 and 600 <= width <= 1000
        assert sample.image.dtype == np.uint8


def test_dark_on_light_is_opaque_rgb_with_a_white_border():
    for sample in samples("dark-on-light"):
        image = sample.image
        assert image.shape[2] == 3
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert (border == 255).all()
        assert image.min() == 0


def test_light_on_dark_is_white_ink_on_black():
    for sample in samples("light-on-dark"):
        image = sample.image
        assert image.shape[2] == 3
        assert (np.concatenate([image[0], image[-1]]) == 0).all()
        assert image.max() == 255


def test_transparent_has_alpha_ink_and_a_fully_transparent_background():
    for sample in samples("transparent"):
        image = sample.image
        assert image.shape[2] == 4
        alpha = image[:, :, 3]
        assert alpha.max() == 255
        background = image[alpha == 0]
        assert len(background) > 0.5 * alpha.size
        assert (background == 0).all()
        ink_colours = {tuple(px) for px in image[alpha == 255][:, :3]}
        assert len(ink_colours) == 1


def test_thick_brush_is_much_thicker_than_thin():
    thin = [s.brush for s in samples("spaced-thin")]
    thick = [s.brush for s in samples("spaced-thick")]
    assert max(thin) <= 10 and np.mean(thick) > 2 * np.mean(thin)


@pytest.mark.parametrize("condition", ["spaced-thin", "spaced-thick", "dark-on-light", "light-on-dark",
                                       "transparent", "two-rows"])
def test_separate_digits_are_one_component_each(condition):
    for sample in samples(condition):
        assert component_count(sample) == digit_count(sample), sample.number


def test_boxes_are_where_each_digit_was_drawn():
    for sample in samples("dark-on-light"):
        mask = (ink(sample) >= 128).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        drawn = sorted(tuple(int(v) for v in stat[:4]) for stat in stats[1:])
        assert len(sample.boxes) == digit_count(sample)
        for box, found in zip(sorted(sample.boxes), drawn):
            assert np.abs(np.subtract(box, found)).max() <= 1


def test_touching_digits_form_fewer_components_than_digits():
    for sample in samples("touching"):
        assert component_count(sample) < digit_count(sample), sample.number


def test_multi_stroke_images_have_more_components_than_digits():
    for sample in samples("multi-stroke"):
        assert component_count(sample) > digit_count(sample), sample.number


def test_noisy_images_have_specks_besides_the_digits():
    for sample in samples("noisy"):
        assert component_count(sample) > digit_count(sample), sample.number


def test_two_rows_number_has_one_line_break_between_two_rows_of_ink():
    for sample in samples("two-rows"):
        top, bottom = sample.number.split("\n")
        assert top and bottom
        rows_with_ink = np.flatnonzero(ink(sample).max(axis=1) >= 128)
        gaps = np.diff(rows_with_ink)
        assert gaps.max() > 1, "the two rows should be separated by empty canvas rows"


def test_digit_heights_are_canvas_sized():
    for sample in samples("dark-on-light"):
        mask = (ink(sample) >= 128).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        heights = stats[1:, cv2.CC_STAT_HEIGHT]
        assert np.median(heights) >= 40 and heights.max() <= 240


def test_unknown_condition_is_refused_with_the_known_names():
    with pytest.raises(KeyError, match="spaced-thin"):
        synth.make_set("blurry", 1, data_dir=DATA_DIR)


def test_canvas_eval_reads_with_recognizer_settings_and_records_them():
    done = subprocess.run([sys.executable, "-m", "mdr", "canvas-eval", "--n", "2", "--conditions", "touching",
                           "--set", "split_enabled=false", "--set", "use_strip_reader=false", "--json"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["settings"]["knobs"] == {"split_enabled": False, "use_strip_reader": False}
    assert summary["overall"]["recognizer"]["length_rate"] == 0.0  # touching pairs are never cut
