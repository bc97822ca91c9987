"""The Pipeline page's pictures, tables and figures, the gallery, and the intermediates zip."""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import fields, replace

import numpy as np
import pytest
from PIL import Image

from mdr.app import export_intermediates as export
from mdr.app import gallery
from mdr.app import pipeline_pictures as pp
from mdr.app import pipeline_steps as ps
from mdr.app import pipeline_view as pv
from mdr.recognition.config import DEFAULT_CONFIG, RecognizerConfig
from mdr.errors import NothingToReadError
from mdr.recognition.results import SplitCandidate, SplitDecision
from number_images import specks_only


@pytest.fixture(scope="module")
def recognizer():
    from mdr.recognition.recognizer import Recognizer

    return Recognizer()


@pytest.fixture(scope="module")
def readings(recognizer):
    """Every gallery example and what the recognizer made of it."""
    return {item.name: (gallery.read_example(item), recognizer.recognize(gallery.read_example(item)))
            for item in gallery.load_gallery()}


@pytest.fixture(scope="module")
def blank(recognizer):
    with pytest.raises(NothingToReadError) as raised:
        recognizer.recognize(np.full((120, 240), 255, np.uint8))
    return raised.value


@pytest.fixture(scope="module")
def specks(recognizer):
    dots = specks_only((200, 400), [(50, 50), (200, 120), (350, 80)])
    with pytest.raises(NothingToReadError) as raised:
        recognizer.recognize(dots)
    return raised.value


def colours_in(picture: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in c) for c in np.unique(picture.reshape(-1, 3), axis=0)}


# --------------------------------------------------------------------------
# Gallery
# --------------------------------------------------------------------------
def test_gallery_has_the_promised_examples():
    items = gallery.load_gallery()
    names = {item.name for item in items}
    assert {"clean", "touching", "multi-stroke", "two-rows", "thick-small", "light-on-dark",
            "dark-on-light", "noisy"} <= names
    assert len(names) == len(items)
    for item in items:
        assert item.path.is_file(), item.file
        assert item.path.stat().st_size < 100_000, f"{item.file} is too big to ship"
        assert item.title and item.description
        assert all(line.isdigit() for line in item.number.split("\n")), item.number
    assert "\n" in gallery.gallery_item("two-rows").number
    assert len(gallery.gallery_item("clean").number) == 4
    with pytest.raises(KeyError):
        gallery.gallery_item("no-such-example")


def test_gallery_images_decode_like_uploads():
    light = gallery.read_example("light-on-dark")
    dark = gallery.read_example("dark-on-light")
    assert light.dtype == np.uint8 and light.ndim == 3
    assert np.median(light) < 60 < 200 < np.median(dark)
    transparent = gallery.read_example("transparent")
    assert transparent.shape[2] == 4 and transparent[..., 3].min() == 0


def marks(image: np.ndarray) -> int:
    """Connected ink marks in a gallery image (ink = far from the background)."""
    import cv2

    if image.shape[2] == 4:
        ink = image[..., 3]
    else:
        ink = 255 - image[..., 0] if image[0, 0, 0] > 127 else image[..., 0]
    count, _ = cv2.connectedComponents((ink > 127).astype(np.uint8), connectivity=8)
    return count - 1


def test_gallery_images_show_what_they_promise():
    def shown(name: str) -> int:
        return marks(gallery.read_example(name))

    assert shown("clean") == 4
    assert shown("touching") == 1, "the three digits are one blob"
    assert shown("multi-stroke") == 6, "4, 5 and 7 each in two strokes"
    assert shown("noisy") > 8, "four digits and specks"
    assert shown("two-rows") == 5


def test_gallery_script_still_draws_its_examples():
    """The PNGs are kept in the repo; this checks that the script that made them still runs."""
    from mdr.data import synth
    from mdr.app.gallery.make_gallery import EXAMPLES, render

    bank = synth.default_bank()
    recipes = {e.name: e for e in EXAMPLES}
    assert marks(render(recipes["clean"], bank)) == 4
    assert marks(render(recipes["multi-stroke"], bank)) == 6


def test_gallery_recipe_matches_the_index():
    from mdr.app.gallery.make_gallery import EXAMPLES

    assert [e.name for e in EXAMPLES] == [i.name for i in gallery.load_gallery()]
    assert [e.number for e in EXAMPLES] == [i.number for i in gallery.load_gallery()]
    assert set(gallery.gallery_item("multi-stroke").number) == {"4", "5", "7"}
    multi = next(e for e in EXAMPLES if e.name == "multi-stroke")
    assert multi.two_strokes == (0, 1, 2)


# --------------------------------------------------------------------------
# Steps and knobs
# --------------------------------------------------------------------------
def test_steps_are_numbered_in_order():
    assert [s.number for s in ps.STEPS] == list(range(1, 12))
    assert len({s.key for s in ps.STEPS}) == len(ps.STEPS)
    assert ps.STEPS[0].heading == "1 · Original → greyscale"
    assert all(s.explanation.endswith(".") for s in ps.STEPS)


def test_knobs_are_recognizer_config_fields_with_its_defaults():
    names = {f.name for f in fields(RecognizerConfig)}
    assert {k.name for k in ps.KNOBS} <= names
    assert {"binarization", "fixed_threshold", "min_speck_size", "merge_overlap", "merge_by_reading", "split_enabled",
            "split_sensitivity", "normalize_stroke", "use_strip_reader", "strip_agreement",
            "strip_second_opinion", "precision"} == {k.name for k in ps.KNOBS}
    defaults = ps.knob_defaults()
    assert defaults == {k.name: getattr(RecognizerConfig(), k.name) for k in ps.KNOBS}
    assert set(next(k for k in ps.KNOBS if k.name == "binarization").options) == {"otsu", "fixed", "adaptive"}
    assert set(next(k for k in ps.KNOBS if k.name == "precision").options) == {"int8", "fp32"}
    for knob in ps.KNOBS:
        if knob.kind == "slider":
            assert knob.low <= defaults[knob.name] <= knob.high, knob.name
        if knob.options:
            assert defaults[knob.name] in knob.options


def test_config_from_knobs_changes_only_the_knobs():
    config = ps.config_from_knobs({"min_speck_size": 1, "fixed_threshold": 99.6, "split_enabled": 0,
                                   "precision": "fp32", "not_a_knob": 3})
    assert config.min_speck_size == 1.0 and isinstance(config.min_speck_size, float)
    assert config.fixed_threshold == 100 and isinstance(config.fixed_threshold, int)
    assert config.split_enabled is False
    assert config.precision == "fp32"
    assert config.max_input_pixels == DEFAULT_CONFIG.max_input_pixels
    assert ps.config_from_knobs(ps.knob_defaults()) == DEFAULT_CONFIG
    assert ps.changed_knobs(config) == {"min_speck_size": (0.2, 1.0), "fixed_threshold": (128, 100),
                                        "split_enabled": (True, False), "precision": ("int8", "fp32")}
    assert ps.changed_knobs(DEFAULT_CONFIG) == {}


def test_last_step_reached(readings, blank, specks):
    _, recognition = readings["clean"]
    assert ps.last_step_reached(recognition, stopped=False) == 11
    assert ps.last_step_reached(blank.recognition, stopped=True) == 2
    assert ps.last_step_reached(specks.recognition, stopped=True) == 5
    assert ps.last_step_reached(None, stopped=True) == 0


# --------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------
def test_picture_helpers():
    assert pp.to_uint8(np.array([[0.0, 0.5, 1.0000001]], np.float32)).tolist() == [[0, 128, 255]]
    assert pp.to_uint8(np.array([[True, False]])).tolist() == [[255, 0]]
    rgba = np.zeros((4, 4, 4), np.uint8)
    assert (pp.to_rgb(rgba) == 255).all(), "transparent shows as white"
    assert pp.to_rgb(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert pp.enlarge(np.eye(2, dtype=np.uint8) * 255, 3).shape == (6, 6)
    assert pp.fit_height(np.ones((20, 10), np.uint8), 160).shape == (160, 80)
    assert pp.fit_height(np.ones((400, 100), np.uint8), 160).shape == (160, 40)
    assert pp.preview(np.zeros((3000, 1500, 3), np.uint8), 1200).shape == (1200, 600, 3)
    assert pp.preview(np.zeros((30, 20, 2), np.uint8)).shape == (30, 20, 3)
    assert pp.preview(np.zeros((30, 20), np.float32)).dtype == np.uint8
    colours = pp.label_colours(30)
    assert len({tuple(c) for c in colours}) == 30


def test_greyscale_polarity_and_binarization_descriptions(readings):
    _, recognition = readings["dark-on-light"]
    assert "RGB" in pv.describe_input(recognition)
    assert "inverted" in pv.describe_polarity(recognition)
    assert f"{recognition.polarity.border_median:.0f}" in pv.describe_polarity(recognition)
    assert "otsu" in pv.describe_binarization(recognition)
    figure = pv.threshold_histogram(recognition)
    assert sum(figure.data[0].y) == recognition.ink.size
    _, light = readings["light-on-dark"]
    assert "kept" in pv.describe_polarity(light)
    _, transparent = readings["transparent"]
    assert "RGBA" in pv.describe_input(transparent)


def test_components_picture_colours_each_label(readings):
    _, recognition = readings["multi-stroke"]
    picture = pp.components_picture(recognition)
    assert picture.shape == recognition.labels.shape + (3,)
    assert picture.dtype == np.uint8
    background = picture[recognition.labels == 0]
    assert (background.max(axis=1) == 0).mean() > 0.98, "black apart from the label numbers"
    inside = [tuple(picture[recognition.labels == c.label][0]) for c in recognition.components]
    assert len(set(inside)) == len(recognition.components)
    table = pv.components_table(recognition)
    assert list(table["label"]) == [c.label for c in recognition.components]
    assert list(table["area (px)"]) == [c.area for c in recognition.components]
    assert f"**{len(recognition.components)}** marks" in pv.describe_components(recognition)


def test_specks_are_shown_in_red_with_their_reason(readings):
    _, recognition = readings["noisy"]
    dropped = [c for c in recognition.components if not c.kept]
    assert dropped
    picture = pp.specks_picture(recognition)
    assert tuple(picture[recognition.labels == dropped[0].label][0]) == pp.DROPPED
    kept = next(c for c in recognition.components if c.kept)
    assert tuple(picture[recognition.labels == kept.label][0]) == (255, 255, 255)
    table = pv.specks_table(recognition)
    assert len(table) == len(dropped)
    assert all(reason.startswith("speck") for reason in table["reason"])
    assert f"**{len(dropped)}** dropped" in pv.describe_specks(recognition)


def test_merges_show_the_joined_groups(readings):
    _, recognition = readings["multi-stroke"]
    joined = [m for m in recognition.merges if m.joined]
    assert joined, "the 4 and the 5 were drawn in two strokes each"
    groups = pp.merge_groups(recognition)
    assert sum(len(members) > 1 for members in groups.values()) == len(joined)
    assert sorted(label for members in groups.values() for label in members) == \
        sorted(c.label for c in recognition.components if c.kept)
    picture = pp.merges_picture(recognition)
    assert picture.shape == recognition.mask.shape + (3,)
    assert pp.KEPT in colours_in(picture)
    table = pv.merges_table(recognition)
    assert len(table) == len(recognition.merges)
    assert list(table["joined"]) == [m.joined for m in recognition.merges]


def test_split_picture_draws_every_cut_and_marks_the_ones_made(readings):
    _, recognition = readings["touching"]
    assert recognition.splits
    decision = recognition.splits[0]
    picture = pp.split_picture(recognition, decision)
    assert picture.ndim == 3 and picture.shape[0] >= decision.box[3]
    colours = colours_in(picture)
    tried_not_made = set(range(len(decision.candidates))) - set(pp.chosen_cuts(decision))
    assert (pp.CUT in colours) == bool(tried_not_made)  # a strip reader's cuts are all made
    assert (pp.ACCENT in colours) == bool(pp.chosen_cuts(decision))
    table = pv.split_table(decision)
    assert len(table) == len(decision.candidates) + 1
    assert table["cut made"].sum() == max(1, len(pp.chosen_cuts(decision)))
    scores = [f"{c.score:.3f}" if np.isfinite(c.score) else "no reading" for c in decision.candidates]
    assert list(table["score"][:-1]) == scores


def test_chosen_cuts_reads_every_form_of_the_decision():
    candidates = [SplitCandidate(10, "profile", 0.9, [1, 2]), SplitCandidate(20, "profile", 0.4, [1, 2])]
    decision = SplitDecision((0, 0, 30, 20), 0.5, candidates, [1], 0.9, "cut")
    assert pp.chosen_cuts(decision) == [1]
    assert pp.chosen_cuts(replace(decision, chosen=[])) == []
    assert pp.chosen_cuts(replace(decision, chosen=None)) == []
    assert pp.chosen_cuts(replace(decision, chosen=0)) == [0]


def test_split_description_follows_the_knobs(readings):
    _, recognition = readings["clean"]
    off = replace(DEFAULT_CONFIG, split_enabled=False)
    assert "switched off" in pv.describe_splits(recognition, off)
    if not recognition.splits:
        assert "nothing to split" in pv.describe_splits(recognition, DEFAULT_CONFIG)


def test_reading_order_picture_numbers_each_digit_per_line(readings):
    _, recognition = readings["two-rows"]
    assert len(recognition.lines) == 2
    picture = pp.reading_order_picture(recognition)
    assert picture.shape == recognition.grey.shape[:2] + (3,)
    colours = colours_in(picture)
    assert pp.LINE_COLOURS[0] in colours and pp.LINE_COLOURS[1] in colours
    table = pv.reading_order_table(recognition)
    assert list(table["#"]) == list(range(1, len(recognition.digits) + 1))
    assert sorted(set(table["line"])) == [1, 2]
    assert "**2** lines" in pv.describe_lines(recognition)


def test_digit_pictures_show_each_normalization_step(readings):
    _, recognition = readings["thick-small"]
    digit = recognition.digits[0]
    pictures = pp.digit_pictures(digit)
    assert set(pictures) == {"crop", "stroke_adjusted", "resized", "final"}
    assert pictures["final"].shape == (28 * pp.GRID_CELL, 28 * pp.GRID_CELL, 3)
    assert pictures["resized"].shape[:2] == tuple(np.array(digit.steps.resized.shape) * pp.GRID_CELL)
    assert pictures["crop"].shape[0] >= pp.DISPLAY_HEIGHT // 2
    assert pictures["resized"].max() == 255
    captions = pv.describe_digit(digit)
    assert "redrawn at MNIST's stroke width" in captions["stroke_adjusted"], "a thick brush is thinned"
    dx, dy = digit.steps.center_of_mass_shift
    assert f"({dx:+.1f}, {dy:+.1f})" in captions["final"]


def test_final_grid_has_a_grid_and_the_shift_arrow():
    final = np.zeros((28, 28), np.float32)
    final[10:18, 12:16] = 1.0
    plain = pp.final_grid_picture(final)
    assert plain.shape == (224, 224, 3)
    assert tuple(plain[pp.GRID_CELL, 3]) == (70, 70, 70) and tuple(plain[4, 4]) == (0, 0, 0)
    assert tuple(plain[7 * pp.GRID_CELL, 3]) == (110, 110, 110), "every 7th line is brighter"
    arrow = pp.final_grid_picture(final, (3.0, -2.0))
    assert pp.CUT in colours_in(arrow) and pp.CUT not in colours_in(plain)


def test_probabilities_figure_has_one_chart_per_digit(readings):
    _, recognition = readings["clean"]
    figure = pv.probabilities_figure(recognition)
    assert len(figure.data) == len(recognition.digits)
    for trace, digit in zip(figure.data, recognition.digits):
        # ten digit bars, and with a "not a single digit" model an eleventh for that class
        expected = list(np.asarray(digit.probabilities) * 100) + ([] if digit.reject is None else [100 * digit.reject])
        assert np.allclose(trace.y, expected)
        assert trace.marker.color[digit.digit] == "#e4572e"
    table = pv.digits_table(recognition)
    assert list(table["read as"]) == [d.digit for d in recognition.digits]
    assert "".join(str(d) for d in table["read as"]) == recognition.number
    assert recognition.model_name in pv.describe_model(recognition)


def test_timings_table(readings):
    _, recognition = readings["clean"]
    table = pv.timings_table(recognition)
    assert list(table["stage"]) == list(recognition.timings_ms)
    assert table["ms"].sum() == pytest.approx(recognition.total_ms, abs=0.05)


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------
def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_export_zip_holds_every_picture_and_the_json(readings):
    image, recognition = readings["touching"]
    files = unzip(export.export_zip(recognition, image, DEFAULT_CONFIG))
    names = set(files)
    for name in ("01_original.png", "01_greyscale.png", "02_polarity_ink.png", "03_binarization_mask.png",
                 "04_components.png", "05_specks.png", "06_merges.png", "08_reading_order.png",
                 export.JSON_NAME):
        assert name in names, name
    assert sum(n.startswith("07_split_") for n in names) == len(recognition.splits)
    for n in range(1, len(recognition.digits) + 1):
        for step in ("1_crop", "2_stroke_adjusted", "3_resized", "4_final_28x28", "5_final_grid"):
            assert f"09_digit_{n:02d}_{step}.png" in names
    final = Image.open(io.BytesIO(files["09_digit_01_4_final_28x28.png"]))
    assert final.size == (28, 28)
    grey = np.asarray(Image.open(io.BytesIO(files["01_greyscale.png"])))
    assert np.array_equal(grey, recognition.grey)
    original = np.asarray(Image.open(io.BytesIO(files["01_original.png"])))
    assert np.array_equal(original, image)


def test_export_json_has_boxes_decisions_probabilities_and_timings(readings):
    image, recognition = readings["multi-stroke"]
    record = json.loads(unzip(export.export_zip(recognition, image, DEFAULT_CONFIG))[export.JSON_NAME])
    assert {"number", "error", "steps_reached", "model", "precision", "config", "polarity",
            "binarization", "components", "merges", "splits", "lines", "digits", "timings_ms",
            "total_ms", "stroke_width", "digit_height", "scale"} <= set(record)
    assert record["number"] == recognition.number
    assert record["error"] is None and record["steps_reached"] == 11
    assert record["config"] == {f.name: getattr(DEFAULT_CONFIG, f.name) for f in fields(RecognizerConfig)}
    assert record["polarity"]["reason"] == recognition.polarity.reason
    assert record["binarization"]["method"] == "otsu"
    assert [c["box"] for c in record["components"]] == [list(c.box) for c in recognition.components]
    assert [m["joined"] for m in record["merges"]] == [m.joined for m in recognition.merges]
    assert [m["reason"] for m in record["merges"]] == [m.reason for m in recognition.merges]
    assert record["lines"] == recognition.lines
    assert len(record["digits"]) == len(recognition.digits)
    for saved, digit in zip(record["digits"], recognition.digits):
        assert saved["box"] == list(digit.box)
        assert saved["digit"] == digit.digit
        assert len(saved["probabilities"]) == 10
        assert sum(saved["probabilities"]) + (saved["reject"] or 0) == pytest.approx(1.0, abs=1e-3)
        assert saved["top3"][0][0] == digit.digit
        assert len(saved["center_of_mass_shift"]) == 2
    assert record["timings_ms"].keys() == recognition.timings_ms.keys()


def test_export_json_of_splits(readings):
    image, recognition = readings["touching"]
    record = json.loads(unzip(export.export_zip(recognition, image))[export.JSON_NAME])
    assert record["config"] is None
    assert len(record["splits"]) == len(recognition.splits)
    first, decision = record["splits"][0], recognition.splits[0]
    assert first["chosen"] == pp.chosen_cuts(decision)
    assert [c["cut_x"] for c in first["candidates"]] == [c.cut_x for c in decision.candidates]
    assert {"box", "whole_score", "candidates", "chosen", "reason"} <= set(first)


def test_export_of_a_refused_image_keeps_what_was_seen(specks, blank):
    files = unzip(export.export_zip(specks.recognition, None, DEFAULT_CONFIG, error=str(specks), stopped=True))
    assert "05_specks.png" in files and "06_merges.png" not in files
    assert not any(name.startswith("09_") for name in files)
    record = json.loads(files[export.JSON_NAME])
    assert record["error"] == str(specks)
    assert record["steps_reached"] == 5
    assert record["digits"] == [] and record["number"] == ""
    assert all(not c["kept"] for c in record["components"])

    files = unzip(export.export_zip(blank.recognition, None, stopped=True, error=str(blank)))
    assert set(files) == {"01_greyscale.png", "02_polarity_ink.png", export.JSON_NAME}
    record = json.loads(files[export.JSON_NAME])
    assert record["binarization"] is None and record["polarity"]["inverted"] is True


def test_every_step_has_a_section_on_the_page():
    from mdr.app.pipeline_sections import SECTIONS

    assert list(SECTIONS) == [step.key for step in ps.STEPS]
    assert all(1 <= step.needs <= step.number for step in ps.STEPS)


def test_labels_written_at_one_place_are_stacked_not_written_over_one_another():
    # Two joins by reading that share a mark (a 5's bar asked with its body and with the next digit)
    # put their labels at nearly the same point.
    picture = np.zeros((300, 900, 3), np.uint8)
    placed: list[tuple[int, int, int, int]] = []
    pp._text(picture, "as one: 98%", (400, 100), (0, 255, 0), placed=placed)
    pp._text(picture, "as one: 96%", (410, 104), (0, 255, 0), placed=placed)
    first, second = placed
    assert not pp._boxes_meet(first, second)
    rows_with_ink = np.flatnonzero(picture[..., 1].max(axis=1) > 0)
    assert rows_with_ink.max() - rows_with_ink.min() > first[3] + second[3]
