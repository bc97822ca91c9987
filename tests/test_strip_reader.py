"""The strip reader: its input and decoding, its training strips, its export, the recognizer
reading touching digits with it, and a model that gets one from `python -m mdr train-strip`."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mdr.errors import ModelError
from mdr.recognition.strip import (BLANK, CLASSES, STRIP_HEIGHT, STRIP_PAD, StripReader, greedy_decode,
                                   strip_input)
from test_reject import PAIRS, _pen_number

ROOT = Path(__file__).resolve().parent.parent
STRIP_MODEL = "mnist-pen-strips"
needs_strip_model = pytest.mark.skipif(not (ROOT / "models" / STRIP_MODEL / "strip.int8.onnx").is_file(),
                                       reason=f"models/{STRIP_MODEL} is not registered")


def _frames(classes: list[int], sure: float = 0.9) -> np.ndarray:
    frames = np.full((len(classes), CLASSES), (1 - sure) / (CLASSES - 1), np.float32)
    frames[np.arange(len(classes)), classes] = sure
    return frames


def test_greedy_decoding_merges_repeats_and_a_blank_separates_equal_digits():
    b = BLANK
    reading = greedy_decode(_frames([b, 7, 7, b, 2, b, b, 2, 2, b]))
    assert reading.text == "722"
    assert [d.frames for d in reading.digits] == [(1, 2), (4, 4), (7, 8)]
    assert reading.digits[0].probabilities.shape == (10,) and reading.digits[0].probabilities.argmax() == 7
    assert reading.confidence == pytest.approx(0.9 ** 3)
    assert greedy_decode(_frames([b, b, b])).text == "" and greedy_decode(_frames([b])).confidence == 0.0


def test_strip_input_is_32_rows_with_the_aspect_kept_and_an_empty_border():
    mask = np.zeros((100, 250), np.uint8)
    mask[10:90, 20:230] = 255
    strip = strip_input(mask)
    assert strip.shape == (STRIP_HEIGHT, round(250 * 28 / 100) + 2 * STRIP_PAD)
    assert strip.dtype == np.float32 and 0.0 <= strip.min() and strip.max() <= 1.0
    assert not strip[:STRIP_PAD].any() and not strip[-STRIP_PAD:].any() and not strip[:, :STRIP_PAD].any()


def test_a_thick_brush_is_thinned_towards_the_trained_width():
    mask = np.zeros((100, 100), np.uint8)
    mask[:, 30:70] = 255  # a 40 px stroke: 11 px in the strip
    assert strip_input(mask, 40.0).sum() < strip_input(mask, 0.0).sum()


def test_a_digit_classifier_file_is_refused_as_a_strip_reader_in_words():
    with pytest.raises(ModelError, match="strip reader"):
        StripReader(ROOT / "models" / "mnist-cnn" / "model.int8.onnx")
    with pytest.raises(ModelError, match="missing"):
        StripReader(ROOT / "models" / "mnist-cnn" / "strip.int8.onnx")


def test_training_strips_are_labelled_with_the_digits_inside_each_part():
    from mdr.training.strips import MIN_ASPECT, StripMix, make_strips

    strips, texts, summary = make_strips(StripMix(numbers=60, seed=3))
    assert len(strips) == len(texts) > 30
    assert all(s.dtype == np.uint8 and s.shape[0] == STRIP_HEIGHT for s in strips)
    assert all(t.isdigit() and 1 <= len(t) <= 6 for t in texts)
    assert any(len(t) >= 3 for t in texts) and any(len(t) == 1 for t in texts)
    # Only the training writers: the split is recorded and the strips are the same for the same seed.
    assert summary["writer_split"]["eval_writers"] and summary["mix"]["seed"] == 3
    again, texts_again, _ = make_strips(StripMix(numbers=60, seed=3))
    assert texts_again == texts and all(np.array_equal(a, b) for a, b in zip(strips, again))
    # A single digit narrower than MIN_ASPECT x its height is never asked about: never trained on.
    assert all(len(t) > 1 or s.shape[1] - 2 * STRIP_PAD >= MIN_ASPECT * (STRIP_HEIGHT - 2 * STRIP_PAD) - 1
               for s, t in zip(strips, texts))


def test_training_strips_with_validation_writers_never_draw_them(monkeypatch):
    from mdr.data import pen
    from mdr.training import strips as strips_module

    banks = []
    real = strips_module.PenBank

    def spy(digits, **options):
        banks.append({d.writer for d in digits})
        return real(digits, **options)

    monkeypatch.setattr(strips_module, "PenBank", spy)
    _, _, summary = strips_module.make_strips(strips_module.StripMix(numbers=20, seed=3, pen_validation=0.2))
    split = pen.split_writers(pen.cached_pen().writers, validation_fraction=0.2)
    assert banks == [set(split.train)]
    assert summary["writer_split"]["validation_writers"] == list(split.validation)


def test_a_short_training_run_learns_and_its_onnx_export_matches_torch(tmp_path):
    import torch

    from mdr.training.strip_reader import StripTrainConfig, export_strip_reader, quantize_strip_reader, \
        train_strip_reader
    from mdr.training.strips import StripMix, make_strips

    config = StripTrainConfig(mix=StripMix(numbers=600, seed=5), epochs=3, threads=1)
    result = train_strip_reader(config)
    assert result.epochs_done == 3 and not result.stopped
    assert np.mean(result.losses[-10:]) < 0.6 * np.mean(result.losses[:10]), result.losses
    check, _, _ = make_strips(StripMix(numbers=20, seed=6))
    diff = export_strip_reader(result.model, tmp_path / "strip.onnx", check)
    assert diff < 1e-3
    quantize_strip_reader(tmp_path / "strip.onnx", tmp_path / "strip.int8.onnx", check)
    reader = StripReader(tmp_path / "strip.int8.onnx")
    x = check[0].astype(np.float32) / 255
    with torch.no_grad():
        expected = torch.softmax(result.model(torch.from_numpy(x)[None, None]), -1)[0].numpy()
    got = reader.frame_probabilities([x])[0]
    assert got.shape == expected.shape and np.abs(got - expected).max() < 0.1


def test_a_reader_with_two_frames_per_four_columns_trains_exports_and_is_read_at_its_own_stride(tmp_path):
    import torch

    from mdr.training.strip_reader import StripNet, StripTrainConfig, export_strip_reader, train_strip_reader
    from mdr.training.strips import StripMix, make_strips

    assert StripNet(frame_stride=2)(torch.zeros(1, 1, STRIP_HEIGHT, 64)).shape == (1, 32, CLASSES)
    assert StripNet()(torch.zeros(1, 1, STRIP_HEIGHT, 64)).shape == (1, 16, CLASSES)
    config = StripTrainConfig(mix=StripMix(numbers=300, seed=5), epochs=2, threads=1, frame_stride=2)
    result = train_strip_reader(config)
    assert np.mean(result.losses[-10:]) < np.mean(result.losses[:10]), result.losses
    check, _, _ = make_strips(StripMix(numbers=20, seed=6))
    assert export_strip_reader(result.model, tmp_path / "strip.onnx", check) < 1e-3
    reader = StripReader(tmp_path / "strip.onnx")
    assert reader.stride == 2
    widths = [s.shape[1] for s in check[:3]]
    frames = reader.frame_probabilities_batched([s.astype(np.float32) / 255 for s in check[:3]])
    assert [len(f) for f in frames] == [w // 2 for w in widths]
    # Frame k covers strip columns around (k + 0.5) * 2: the last frame lies near the strip's right end.
    reading = reader.read(np.full((28, widths[0] - 2 * STRIP_PAD), 255, np.uint8))
    assert reading.stride == 2
    assert abs(reading.part_x(len(reading.frame_probabilities) - 1) - (widths[0] - 2 * STRIP_PAD)) <= 2


def test_a_reader_of_another_frame_rate_is_refused_in_words(tmp_path):
    import torch
    from torch import nn

    class EveryEighthColumn(nn.Module):
        def forward(self, x):
            return torch.zeros(x.shape[0], x.shape[3] // 8, CLASSES) + x.mean()

    path = tmp_path / "strip.onnx"
    torch.onnx.export(EveryEighthColumn(), (torch.zeros(1, 1, STRIP_HEIGHT, 64),), str(path), dynamo=False,
                      input_names=["strip"], output_names=["frames"],
                      dynamic_axes={"strip": {0: "batch", 3: "width"}, "frames": {0: "batch", 1: "frames"}})
    with pytest.raises(ModelError, match="8 frames for 64 columns"):
        StripReader(path)


# --- the registered model with a strip reader ----------------------------------------


@needs_strip_model
def test_the_strip_readers_last_columns_are_read_as_in_training_not_cut_off():
    reader = StripReader(ROOT / "models" / STRIP_MODEL / "strip.int8.onnx")
    blank = np.zeros((STRIP_HEIGHT, 63), np.float32)          # 63 columns: 3 past the last whole band of 4
    inked = blank.copy()
    inked[STRIP_PAD:-STRIP_PAD, 60:63] = 1.0                  # ink only in those 3 columns
    seen, nothing = reader.frame_probabilities([inked])[0], reader.frame_probabilities([blank])[0]
    assert seen.shape == nothing.shape == (15, CLASSES)
    assert np.abs(seen - nothing).max() > 0.05, "the ink in the last columns never reached the reader"
    # ...read as a training strip is: padded with blank columns to the next whole band, not cut there.
    band = reader.frame_probabilities([np.pad(inked, ((0, 0), (0, 1)))])[0]
    assert np.abs(seen - band[:len(seen)]).max() < 1e-5


@needs_strip_model
def test_touching_pen_digits_read_as_two_digits_with_the_strip_reader():
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(STRIP_MODEL)
    readings = [recognizer.recognize(_pen_number([[a, k], [b, k]], touching=True)) for k, (a, b) in enumerate(PAIRS)]
    assert sum(len(r.number) == 2 for r in readings) >= 9, [r.number for r in readings]
    assert sum(r.number == f"{a}{b}" for r, (a, b) in zip(readings, PAIRS)) >= 8
    cut = [d for r in readings for d in r.splits if d.chosen]
    assert cut and all(d.strip is not None and len(d.strip.text) == len(d.chosen) + 1 for d in cut)


@needs_strip_model
@pytest.mark.parametrize("label", [0, 4])
def test_a_wide_single_digit_stays_one_digit_with_the_strip_reader(label):
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(STRIP_MODEL)
    readings = [recognizer.recognize(_pen_number([[label, k]], touching=False, widen=widen)).number
                for k in range(6) for widen in (1.3, 1.6)]
    assert all(len(r) == 1 for r in readings), readings
    assert sum(r == str(label) for r in readings) >= 11


@needs_strip_model
def test_switching_the_strip_reader_off_gives_back_the_cut_search():
    from dataclasses import replace

    from mdr.recognition.config import DEFAULT_CONFIG
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(STRIP_MODEL)
    image = _pen_number([[2, 1], [3, 1], [8, 1]], touching=True)
    with_reader = recognizer.recognize(image)
    without = recognizer.recognize(image, replace(DEFAULT_CONFIG, use_strip_reader=False))
    assert with_reader.splits[0].strip is not None and "strip" in with_reader.timings_ms
    assert all(d.strip is None for d in without.splits) and "strip" not in without.timings_ms


@needs_strip_model
def test_a_broken_strip_file_is_reported_and_the_cut_search_reads_instead(tmp_path):
    from mdr.recognition.recognizer import Recognizer

    folder = tmp_path / "broken"
    shutil.copytree(ROOT / "models" / STRIP_MODEL, folder)
    (folder / "strip.int8.onnx").write_bytes(b"not a model")
    recognizer = Recognizer(folder / "model.int8.onnx")
    result = recognizer.recognize(_pen_number([[4, 2], [5, 2]], touching=True))
    assert result.number.isdigit() and all(d.strip is None for d in result.splits)
    assert "strip reader" in recognizer.warning and "searching" in recognizer.warning


@needs_strip_model
def test_the_pipeline_page_shows_the_strip_readers_evidence():
    from mdr.app import pipeline_view as pv
    from mdr.recognition.recognizer import Recognizer

    result = Recognizer(STRIP_MODEL).recognize(_pen_number([[6, 3], [7, 3], [1, 3]], touching=True))
    decision = next(d for d in result.splits if d.strip is not None and d.chosen)
    text = pv.describe_strip(decision)
    assert f"**{decision.strip.text}**" in text
    figure = pv.strip_figure(decision)
    names = [trace.name for trace in figure.data]
    assert "no new digit" in names and all(f"digit {c}" in names for c in set(decision.strip.text))
    assert [a.text for a in figure.layout.annotations] == [f"<b>{c}</b>" for c in decision.strip.text]
    table = pv.split_table(decision)
    assert (table["suggested by"] == "strip reader").sum() == len(decision.chosen)


def test_train_strip_registers_a_new_model_and_leaves_the_active_one_serving(tmp_path):
    env = {**__import__("os").environ, "MDR_MODELS_DIR": str(tmp_path / "models")}
    shutil.copytree(ROOT / "models" / "mnist-cnn", tmp_path / "models" / "mnist-cnn")
    (tmp_path / "models" / "active.json").write_text(json.dumps({"name": "mnist-cnn"}))
    run = subprocess.run([sys.executable, "-m", "mdr", "train-strip", "--name", "cnn-strips", "--numbers", "150",
                          "--epochs", "1", "--pen-check", "5", "--threads", "1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    folder = tmp_path / "models" / "cnn-strips"
    assert {"model.int8.onnx", "model.onnx", "strip.onnx", "strip.int8.onnx", "strip.pt"} <= {p.name for p in folder.iterdir()}
    card = json.loads((folder / "card.json").read_text())
    reader = card["strip_reader"]
    assert card["derived_from"] == "mnist-cnn" and card["name"] == "cnn-strips"
    assert "--name cnn-strips --from-model mnist-cnn --numbers 150" in reader["command"]
    assert reader["config"]["seed"] == 1 and reader["data"]["writer_split"]["eval_writers"]
    assert reader["onnx"]["max_abs_diff"] < 1e-3 and 0.0 <= reader["val_string_accuracy"] <= 1.0
    assert set(reader["pen_check"]["after"]) == {"spaced", "touching"}
    assert json.loads((tmp_path / "models" / "active.json").read_text())["name"] == "mnist-cnn"
    assert "python -m mdr activate cnn-strips" in run.stdout


def test_a_model_trained_from_one_with_a_strip_reader_keeps_it(tmp_path, monkeypatch):
    from mdr.models import registry
    from mdr.models.publish import carry_strip_reader

    monkeypatch.setenv("MDR_MODELS_DIR", str(tmp_path / "models"))
    base = tmp_path / "models" / "base"
    base.mkdir(parents=True)
    for k, filename in enumerate([registry.STRIP_CHECKPOINT, *registry.STRIP_FILES.values()]):
        (base / filename).write_bytes(b"x" * (k + 1))
    (base / "card.json").write_text(json.dumps({"name": "base", "strip_reader": {"val_string_accuracy": 0.9}}))
    build = tmp_path / "build"
    build.mkdir()
    card = {"name": "tuned", "files": {"bytes": {}}}
    carry_strip_reader("base", build, card)
    assert (build / "strip.int8.onnx").read_bytes() == (base / "strip.int8.onnx").read_bytes()
    assert card["strip_reader"] == {"val_string_accuracy": 0.9, "carried_from": "base"}
    assert card["files"]["strip"] == registry.STRIP_FILES
    assert card["files"]["bytes"]["strip.onnx"] == (base / "strip.onnx").stat().st_size
    plain = {"name": "other"}
    carry_strip_reader("mnist-cnn-not-there", build, plain)
    assert "strip_reader" not in plain


def test_stop_is_heard_while_the_strips_are_still_being_composed():
    from mdr.training.strip_reader import StripTrainConfig, train_strip_reader
    from mdr.training.strips import StripMix

    asked = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) >= 2  # the second time it is asked: after 100 numbers

    result = train_strip_reader(StripTrainConfig(mix=StripMix(numbers=100_000), epochs=1), should_stop=should_stop)
    assert result.stopped and result.epochs_done == 0 and result.data["stopped"]
    assert result.data["numbers"] == 100 and result.seconds < 60


@needs_strip_model
def test_the_strip_reader_gives_a_second_opinion_on_single_digits_and_can_be_switched_off():
    from dataclasses import replace

    from mdr.app import pipeline_view as pv
    from mdr.recognition.config import DEFAULT_CONFIG
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(STRIP_MODEL)
    image = _pen_number([[0, 2], [4, 2], [8, 2]], touching=False)
    both = recognizer.recognize(image)
    alone = recognizer.recognize(image, replace(DEFAULT_CONFIG, strip_second_opinion=0.0))
    asked = [d for d in both.digits if d.second_opinion is not None]
    assert asked and all(d.second_opinion is None for d in alone.digits)
    for d, plain in zip(both.digits, alone.digits):
        if d.second_opinion is None:
            assert np.allclose(d.probabilities, plain.probabilities)
        else:  # the product of the two readings, renormalized to the classifier's digit mass
            assert not np.allclose(d.probabilities, plain.probabilities)
            assert d.probabilities.sum() == pytest.approx(plain.probabilities.sum(), abs=1e-4)
    table = pv.digits_table(both)
    assert "strip reader alone" in table.columns
    assert (table["strip reader alone"] != "").sum() == len(asked)


@needs_strip_model
def test_narrow_digits_get_a_second_opinion_too_unless_a_minimum_aspect_is_set():
    from dataclasses import replace

    from mdr.recognition.config import DEFAULT_CONFIG
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(STRIP_MODEL)
    image = _pen_number([[1, 0], [7, 0], [1, 1]], touching=False)
    narrow = [d for d in recognizer.recognize(image).digits if d.box[2] < 0.6 * d.box[3]]
    assert narrow and all(d.second_opinion is not None for d in narrow)
    strict = recognizer.recognize(image, replace(DEFAULT_CONFIG, second_opinion_min_aspect=0.6))
    assert all(d.second_opinion is None for d in strict.digits if d.box[2] < 0.6 * d.box[3])


@needs_strip_model
def test_digits_cut_by_the_strip_reader_show_the_confidence_of_the_combined_reading():
    from mdr.recognition.imageio import read_image_file
    from mdr.recognition.recognizer import Recognizer

    recognition = Recognizer(STRIP_MODEL).recognize(read_image_file(ROOT / "mdr" / "app" / "gallery" / "touching.png"))
    assert recognition.number == "386" and any(d.chosen for d in recognition.splits)
    for digit in recognition.digits:  # every digit of this blob was cut by the reader
        assert digit.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        assert digit.confidence == pytest.approx(float(digit.probabilities.max()))
    assert min(d.confidence for d in recognition.digits) > 0.5


def test_the_cards_command_makes_the_same_strip_config_again_validation_writers_and_variation_included():
    import shlex
    from dataclasses import replace

    from mdr.cli import build_parser
    from mdr.commands.train_strip import config_from_args
    from mdr.models.strip_publish import strip_command
    from mdr.training.strip_config import StripTrainConfig

    config = StripTrainConfig()
    config = replace(config, epochs=3, frame_stride=2,
                     mix=replace(config.mix, numbers=500, pen_validation=0.2, pen_variation=0.5, pen_styles=0.3))
    words = shlex.split(strip_command("again", "mnist-cnn", config, activate=False))
    assert "--pen-validation" in words and "--pen-variation" in words and "--frame-stride" in words
    assert "--pen-styles" in words
    assert config_from_args(build_parser().parse_args(words[3:])) == config
