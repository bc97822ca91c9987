"""Real handwriting: the pen-digits reader, the writer split, canvas strokes and pen-eval."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mdr.data import pen
from mdr.data.canvas import ink_box
from mdr.errors import DataError
from mdr.recognition.segment import estimate_stroke_width

ROOT = Path(__file__).resolve().parent.parent


def write_pen_file(path: Path, writers: list[int]) -> Path:
    """A pen-digits file holding the committed copy's samples of ``writers`` only."""
    raw = json.loads(gzip.open(pen.PEN_FILE, "rt").read())
    raw["samples"] = [s for s in raw["samples"] if s["writer"] in writers]
    raw["n_writers"] = len(writers)
    with gzip.open(path, "wt") as handle:
        json.dump(raw, handle)
    return path


def ink_of(sample) -> np.ndarray:
    image = sample.image
    if image.shape[2] == 4:
        return image[:, :, 3]
    grey = image[:, :, 0]
    return grey if pen.PEN_CONDITIONS[sample.condition].background == "dark" else 255 - grey


def writers_of(sample) -> set[int]:
    by_index = {d.index: d for d in pen.cached_pen().digits}
    return {by_index[i].writer for i in sample.sources}


# --- reading and splitting -----------------------------------------------------------

def test_committed_copy_is_read_with_its_writers_and_attribution():
    data = pen.cached_pen()
    assert len(data.digits) + data.skipped == 8002
    assert len(data.writers) == 134
    readme = (pen.PEN_FILE.parent / "README.md").read_text()
    assert "Creative Commons Attribution 4.0" in readme and "doi:10.5281/zenodo.1195803" in readme


def test_writer_split_never_shares_a_writer_and_is_reproducible():
    writers = pen.cached_pen().writers
    split = pen.split_writers(writers, seed=0)
    assert not set(split.train) & set(split.eval)
    assert sorted(split.train + split.eval) == sorted(writers)
    assert len(split.eval) == round(0.2 * len(writers))
    assert pen.split_writers(list(reversed(writers)), seed=0) == split
    assert pen.split_writers(writers, seed=1).eval != split.eval


def test_validation_writers_come_out_of_the_training_writers_and_leave_the_evaluation_writers_alone():
    writers = pen.cached_pen().writers
    plain = pen.split_writers(writers, seed=0)
    split = pen.split_writers(writers, seed=0, validation_fraction=0.2)
    assert split.eval == plain.eval
    assert len(split.validation) == round(0.2 * len(writers))
    assert not set(split.validation) & set(split.train)
    assert sorted(split.train + split.validation) == sorted(plain.train)
    assert split.to_dict()["validation_writers"] == list(split.validation)
    assert "validation_writers" not in plain.to_dict(), "cards of runs without validation writers stay as they were"
    assert pen.split_writers(writers, seed=0, validation_fraction=0.2) == split
    assert set(pen.pen_bank(writers="validation", validation_fraction=0.2).writers) == set(split.validation)
    with pytest.raises(ValueError, match="validation writers' share"):
        pen.split_writers(writers, seed=0, validation_fraction=0.9)


def test_eval_bank_holds_only_evaluation_writers_digits():
    split = pen.split_writers(pen.cached_pen().writers)
    assert set(pen.pen_bank(writers="eval").writers) == set(split.eval)
    assert set(pen.pen_bank(writers="train").writers) == set(split.train)
    assert len(pen.pen_bank(writers="all").writers) == 134


def test_a_folder_with_one_file_is_read_and_other_files_are_refused(tmp_path):
    write_pen_file(tmp_path / "other.json.gz", [1, 2])
    assert pen.load_pen(tmp_path).writers == (1, 2)
    (tmp_path / "second.json").write_text("{}")
    with pytest.raises(DataError, match="one pen-digits file"):
        pen.load_pen(tmp_path)
    with pytest.raises(DataError, match="not a pen-digits/1 file"):
        pen.load_pen(tmp_path / "second.json")


# --- strokes on a canvas -----------------------------------------------------------

@pytest.mark.parametrize("height,brush", [(60, 8), (110, 16), (160, 24)])
def test_rendered_digit_has_the_requested_height_and_brush(height, brush):
    digits = [d for d in pen.cached_pen().digits if d.label in (0, 3, 8)][:20]
    for digit in digits:
        coverage = pen.draw_pen_digit(digit, height, brush).coverage
        _, _, top, bottom = ink_box(coverage)
        assert abs((bottom - top + 1) - height) <= 2
        width = estimate_stroke_width(((coverage >= 128) * 255).astype(np.uint8))
        assert 0.75 * brush <= width <= 1.3 * brush, (digit.index, width)


def test_rendering_keeps_the_aspect_of_the_millimetre_coordinates():
    for digit in pen.cached_pen().digits[:50]:
        drawn = pen.draw_pen_digit(digit, 140, 8).coverage
        left, right, top, bottom = ink_box(drawn)
        ink_aspect = (right - left + 1 - 8) / (bottom - top + 1 - 8)
        assert abs(ink_aspect - digit.aspect) <= 0.05 + 0.05 * digit.aspect


def test_writer_variation_leans_turns_and_widens_a_digit_about_its_centre():
    digit = next(d for d in pen.cached_pen().digits if d.label == 1)
    x0, y0, width, height = digit.extent
    points = np.concatenate(digit.strokes)
    top = points[:, 1] < y0 + height / 2
    leaned = np.concatenate(pen.vary_digit(digit, 0.3, 0.0, 1.0).strokes)
    # y grows downwards: a positive slant moves the top half right and the bottom half left.
    assert (leaned[top, 0] - points[top, 0]).mean() > 0.05 * height
    assert (leaned[~top, 0] - points[~top, 0]).mean() < -0.05 * height
    np.testing.assert_allclose(leaned[:, 1], points[:, 1], atol=1e-4)
    widened = pen.vary_digit(digit, 0.0, 0.0, 1.2)
    assert widened.extent[2] == pytest.approx(1.2 * width, rel=1e-4)
    assert widened.extent[3] == pytest.approx(height, rel=1e-4)
    turned = np.concatenate(pen.vary_digit(digit, 0.0, np.radians(6), 1.0).strokes)
    np.testing.assert_allclose(turned.mean(axis=0), points.mean(axis=0), atol=0.05 * height)
    assert not np.allclose(turned, points, atol=1e-3)
    assert (widened.label, widened.writer, widened.index) == (digit.label, digit.writer, digit.index)


def test_a_varied_bank_writes_the_same_labels_by_the_same_writer_in_other_shapes():
    digits = pen.digits_of(pen.cached_pen(), pen.split_writers(pen.cached_pen().writers).train)
    plain, varied = pen.PenBank(digits), pen.PenBank(digits, variation=1.0)
    labels = [[4, 0, 7, 1]]
    changed = 0
    for seed in range(20):
        a = plain.pick_number(labels, np.random.default_rng(seed))[0]
        b = varied.pick_number(labels, np.random.default_rng(seed))[0]
        assert [d.index for d in a] == [d.index for d in b], "the same digits are picked"
        assert len({d.writer for d in b}) == 1
        limit = pen.WRITER_VARIATION
        lean = limit.slant + np.sin(np.radians(limit.rotate_deg))
        for before, after in zip(a, b):
            (_, _, w0, h0), (_, _, w1, h1) = before.extent, after.extent
            assert abs(h1 - h0) <= 0.15 * max(w0, h0), "heights barely change"
            assert w1 <= (1 + limit.width) * (w0 + lean * h0) + 1e-3, "no wider than the limits allow"
        changed += any(not np.allclose(np.concatenate(x.strokes), np.concatenate(y.strokes)) for x, y in zip(a, b))
    assert changed == 20
    with pytest.raises(ValueError, match="strength"):
        pen.PenBank(digits, variation=-1)


def test_each_number_is_written_by_one_evaluation_writer():
    eval_writers = set(pen.split_writers(pen.cached_pen().writers).eval)
    for condition in ("spaced", "two-rows"):
        for sample in pen.make_pen_set(condition, 10, seed=2):
            assert len(writers_of(sample)) == 1 and writers_of(sample) <= eval_writers
            assert len(sample.sources) == len(sample.number.replace("\n", ""))


def test_same_seed_gives_the_same_numbers_and_images():
    first, again = pen.make_pen_set("spaced", 5, seed=4), pen.make_pen_set("spaced", 5, seed=4)
    assert [s.number for s in first] == [s.number for s in again]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again))


def test_touching_neighbours_really_touch_and_the_share_is_recorded():
    samples = pen.make_pen_set("touching", 20, seed=0)
    pairs = [t for s in samples for t in s.touching]
    assert len(pairs) == sum(len(s.number) - 1 for s in samples)
    assert np.mean(pairs) >= 0.9
    for sample in samples:
        n, _ = cv2.connectedComponents((ink_of(sample) >= 128).astype(np.uint8), connectivity=8)
        assert n - 1 < len(sample.number)


def test_spaced_digits_do_not_touch_and_are_canvas_sized():
    for sample in pen.make_pen_set("dark-on-light", 10, seed=1):
        assert sample.image.shape == (300, 900, 3)
        assert sample.touching == ()
        heights = [h for _, _, _, h in sample.boxes]
        assert 0.8 * pen.PEN_HEIGHT[0] <= np.median(heights) <= 1.2 * pen.PEN_HEIGHT[1]


def test_transparent_export_has_alpha_ink_on_a_zero_background():
    for sample in pen.make_pen_set("transparent", 5):
        alpha = sample.image[:, :, 3]
        assert sample.image.shape[2] == 4 and alpha.max() == 255
        assert (sample.image[alpha == 0] == 0).all()


# --- pen-eval ---------------------------------------------------------------------

def run_pen_eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mdr", "pen-eval", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


def test_pen_eval_prints_the_per_condition_table_and_confusions():
    done = run_pen_eval("--n", "2", "--json")
    assert done.returncode == 0, done.stderr
    for condition in pen.PEN_CONDITIONS:
        assert f"| {condition} | 2 |" in done.stdout
    assert "really touch" in done.stdout
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["writers"] == 27 and figures["settings"]["writers"] == "eval"
    assert set(figures["conditions"]) == set(pen.PEN_CONDITIONS)
    for reader in ("recognizer", "baseline"):
        assert {"exact_rate", "length_rate", "digit_rate", "confusions"} <= set(figures["overall"][reader])
    recognizer = figures["overall"]["recognizer"]
    assert recognizer["exact_rate"] <= recognizer["one_click_rate"] and "| one click (new) |" in done.stdout

    bands = figures["by_brush"]
    assert sum(b["numbers"] for b in bands) == 2 * len(pen.PEN_CONDITIONS)
    assert sum(b["exact"] for b in bands) == figures["overall"]["recognizer"]["exact"]
    assert "| brush / height | numbers | exact |" in done.stdout
    given = figures["by_advice"]
    assert given and sum(row["numbers"] for row in given if row["advice"] == "no advice") <= 2 * len(pen.PEN_CONDITIONS)

    intervals = figures["intervals"]
    assert set(intervals) == set(pen.PEN_CONDITIONS)
    for condition, interval in intervals.items():
        assert interval["low"] <= figures["conditions"][condition]["recognizer"]["exact_rate"] <= interval["high"]
        assert 1 <= interval["writers"] <= 2
    assert "| condition | exact | writers | interval |" in done.stdout

    by_writer = figures["by_writer"]
    assert sum(w["numbers"] for w in by_writer) == 2 * len(pen.PEN_CONDITIONS)
    assert sum(w["exact"] for w in by_writer) == figures["overall"]["recognizer"]["exact"]
    assert [w["exact_rate"] for w in by_writer] == sorted(w["exact_rate"] for w in by_writer)
    assert "per writer, the" in done.stdout

    wrong_digits = figures["overall"]["recognizer"]["confusions"]
    assert figures["digit_errors"] == sum(wrong_digits.values())
    assert sum(d["misread"] for d in figures["misread"]) <= figures["digit_errors"]
    for digit in figures["misread"]:
        assert f"{digit['written']}->{digit['read_as']}" in wrong_digits and digit["misread"] <= digit["drawn"]
    assert bool(figures["misread"]) == ("| pen digit | writer | written | read as | misread | drawn |" in done.stdout)


def test_a_pen_digit_is_pictured_dark_on_white_and_an_unknown_one_is_refused_in_words():
    digit = pen.cached_pen().digits[3]
    picture = pen.pen_digit_picture(digit.index, height=64, brush=6)
    left, _, top, bottom = ink_box(255 - picture)
    assert picture.dtype == np.uint8 and picture[0, 0] == 255 and picture.min() == 0
    assert abs(bottom - top + 1 - 64) <= 2 and left > 0 and top > 0
    with pytest.raises(DataError, match="no usable digit number"):
        pen.pen_digit_picture(10**7)


def test_misread_pen_digits_are_counted_per_digit_and_ranked_by_how_often():
    from mdr.data.compose import Sample
    from mdr.evaluation.pen_eval import misread_digits

    def number(digits: str, sources: tuple[int, ...]) -> Sample:
        return Sample(np.zeros((1, 1, 3), np.uint8), digits, "spaced", sources)

    samples = [number("71", (5, 8)), number("17", (8, 5)), number("70", (5, 9)), number("7\n0", (5, 9)),
               number("0", (9,)), number("70", (5, 9))]
    readings = ["41", "14", "40", "4\n8", "0", "4"]  # the last is too short: not counted
    digits = misread_digits(samples, readings, {5: 1, 8: 1, 9: 2})
    assert sum(d.misread for d in digits) == 5
    assert [(d.source, d.writer, d.written, d.read_as, d.misread, d.drawn) for d in digits] == [
        (5, 1, "7", "4", 4, 4), (9, 2, "0", "8", 1, 3)]
    assert misread_digits(samples, [s.number for s in samples], {}) == []


def test_the_writer_interval_is_wide_when_one_writer_fails_and_nil_when_all_fail_alike():
    from mdr.evaluation.pen_eval import writer_interval

    writers = [w for w in range(10) for _ in range(10)]
    alike = [k % 10 != 0 for k in range(100)]  # every writer: 9 of 10 right
    assert writer_interval(alike, writers) == (0.9, 0.9)
    one_fails = [w != 3 for w in writers]  # 90% right too, all errors by writer 3
    low, high = writer_interval(one_fails, writers)
    assert low < 0.9 - 0.05 and high == 1.0
    assert writer_interval([True] * 5, [1, 1, 2, 2, 3]) == (1.0, 1.0)
    with pytest.raises(ValueError):
        writer_interval([True, False], [1])


def test_writers_are_scored_on_their_own_numbers_worst_first():
    from mdr.evaluation.pen_eval import writer_scores

    scores = writer_scores([True, False, True, True, False, True], [4, 4, 9, 9, 2, 7])
    assert [(s.writer, s.numbers, s.exact) for s in scores] == [(2, 1, 0), (4, 2, 1), (9, 2, 2), (7, 1, 1)]
    assert scores[1].exact_rate == 0.5 and writer_scores([], []) == []


def test_exact_numbers_are_broken_down_by_brush_width_over_digit_height():
    from mdr.evaluation.pen_eval import brush_bands, brush_ratio

    samples = pen.make_pen_set("spaced", 12, seed=4)
    ratios = [brush_ratio(s) for s in samples]
    for sample, ratio in zip(samples, ratios):
        heights = sorted(box[3] for box in sample.boxes)
        assert heights[0] * ratio <= sample.brush <= heights[-1] * ratio
    bands = brush_bands([0.05, 0.12, 0.12, 0.3, 0.26], [True, True, False, False, True])
    assert [(b.label, b.numbers, b.exact) for b in bands] == [("0.00-0.10", 1, 1), ("0.10-0.15", 2, 1),
                                                               (">= 0.25", 2, 1)]
    assert bands[1].exact_rate == 0.5


def test_exact_numbers_are_broken_down_by_the_advice_given_for_them():
    from mdr.evaluation.numbers import model_readers
    from mdr.evaluation.pen_eval import PenEvalSettings, advice_rows, run_pen_eval
    from mdr.recognition.advice import advice_for
    from mdr.recognition.recognizer import Recognizer

    rows = advice_rows([(), ("touching",), ("touching", "thick brush"), (), ()], [True, False, True, True, False])
    assert [(r.advice, r.numbers, r.exact) for r in rows] == [("no advice", 3, 2), ("touching: leave space", 2, 1),
                                                              ("thick brush", 1, 1)]
    report = run_pen_eval(PenEvalSettings(n=25, seed=2, conditions=("touching",)), readers=model_readers(offers=True))
    samples = pen.make_pen_set("touching", 25, seed=2, bank=pen.pen_bank())
    recognizer = Recognizer()
    given = [tuple(a.kind for a in advice_for(recognizer.recognize(s.image))) for s in samples]
    assert report.results[0].recognizer_advice == given
    assert report.by_advice == advice_rows(given, report.results[0].recognizer_right)


def test_pen_eval_reads_another_file_of_unseen_writers(tmp_path):
    other = write_pen_file(tmp_path / "unseen.json.gz", [3, 7, 9])
    done = run_pen_eval("--data", str(other), "--writers", "all", "--n", "1", "--conditions", "spaced",
                        "touching", "--json", "--out", str(tmp_path / "report.md"))
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["writers"] == 3 and figures["source"].endswith("unseen.json.gz")
    assert "| touching | 1 |" in (tmp_path / "report.md").read_text()


def test_pen_eval_reads_the_validation_writers_of_the_split():
    done = run_pen_eval("--writers", "validation", "--validation-fraction", "0.1", "--n", "1",
                        "--conditions", "spaced", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["writers"] == round(0.1 * 134) and figures["settings"]["writers"] == "validation"
    assert "validation writers (share 0.1)" in done.stdout


def test_pen_eval_save_keeps_the_figures_where_the_model_list_shows_them(tmp_path, monkeypatch):
    from mdr.models import registry

    folder = tmp_path / "models"
    shutil.copytree(ROOT / "models" / registry.SHIPPED_MODEL, folder / registry.SHIPPED_MODEL)
    monkeypatch.setenv("MDR_MODELS_DIR", str(folder))
    saved = folder / registry.SHIPPED_MODEL / "pen.json"

    refused = run_pen_eval("--model", registry.SHIPPED_MODEL, "--n", "1", "--writers", "validation", "--save")
    assert refused.returncode != 0 and "evaluation writers" in refused.stderr
    assert not saved.exists()

    done = run_pen_eval("--model", registry.SHIPPED_MODEL, "--n", "2", "--save", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert json.loads(saved.read_text()) == figures
    listed = subprocess.run([sys.executable, "-m", "mdr", "models"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=dict(os.environ))
    row = next(line for line in listed.stdout.splitlines() if registry.SHIPPED_MODEL in line)
    assert f"{figures['overall']['recognizer']['exact_rate']:.2%}" in row


def test_pen_eval_refuses_a_file_of_another_format(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"format": "something-else", "samples": []}))
    done = run_pen_eval("--data", str(tmp_path / "bad.json"), "--n", "1")
    assert done.returncode == 2 and "not a pen-digits/1 file" in done.stderr


def test_pen_eval_reads_with_recognizer_settings_and_records_them():
    both = ("--n", "3", "--conditions", "touching", "--json")
    default = json.loads(run_pen_eval(*both).stdout.strip().splitlines()[-1])
    done = run_pen_eval(*both, "--set", "use_strip_reader=false", "--set", "split_enabled=off")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["settings"]["knobs"] == [["use_strip_reader", False], ["split_enabled", False]]
    assert "use_strip_reader=False; split_enabled=False" in done.stdout
    # Nothing cuts a touching pair any more: every reading is too short, where the defaults read some.
    assert figures["overall"]["recognizer"]["length_rate"] == 0.0
    assert default["overall"]["recognizer"]["length_rate"] > 0.5
    untimed = ("exact_rate", "length_rate", "digit_rate")  # the original pipeline has no settings
    assert [figures["overall"]["baseline"][k] for k in untimed] == [default["overall"]["baseline"][k] for k in untimed]


@pytest.mark.parametrize("setting, message", [
    ("colour=red", "Unknown knob 'colour'"),
    ("split_sensitivity", "is not KNOB=VALUE"),
    ("split_sensitivity=high", "The knob 'split_sensitivity' is invalid: input should be a valid number"),
    ("use_reject=maybe", "The knob 'use_reject' is invalid: input should be a valid boolean"),
    ("binarization=magic", "The knob 'binarization' is invalid: input should be 'otsu', 'fixed' or 'adaptive'"),
    ("strip_agreement=50", "The knob 'strip_agreement' is invalid: input should be less than or equal to 10"),
    ("precision=fp32", "with --precision"),
])
def test_pen_eval_refuses_a_setting_it_cannot_apply(setting, message):
    done = run_pen_eval("--n", "1", "--set", setting)
    assert done.returncode == 2 and message in done.stderr
