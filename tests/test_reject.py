"""The "not a single digit" class: its training images, an 11-output model end to end,
and the split search reading touching pen digits with it (10-class models unchanged)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from mdr.data import pen
from mdr.data.canvas import INK_LEVEL, colourize, paste
from mdr.training import reject
from mdr.training.config import TrainConfig

ROOT_MODELS = Path(__file__).resolve().parent.parent / "models"
REJECT_MODEL = "mnist-pen-reject"
needs_reject_model = pytest.mark.skipif(not (ROOT_MODELS / REJECT_MODEL / "model.int8.onnx").is_file(),
                                        reason=f"models/{REJECT_MODEL} is not registered")


def test_reject_samples_are_of_the_intended_kinds_and_never_from_evaluation_writers():
    split = pen.split_writers(pen.cached_pen().writers)
    samples = reject.reject_samples(reject.RejectMix(count=80, seed=3))
    assert len(samples) == 80
    assert {s.kind for s in samples} == set(reject.KINDS)
    assert {s.source for s in samples} == {"mnist", "pen"}
    used = {w for s in samples for w in s.writers}
    assert used and used <= set(split.train) and not used & set(split.eval)
    for s in samples:
        assert s.image.shape == (28, 28) and s.image.dtype == np.uint8 and s.image.max() > 128
        assert len(s.parts) == (2 if s.kind in ("pair", "neighbour") else 1)
        assert s.source == "mnist" or len(s.writers) == len(s.parts)


def test_reject_samples_never_come_from_validation_writers():
    split = pen.split_writers(pen.cached_pen().writers, validation_fraction=0.3)
    samples = reject.reject_samples(reject.RejectMix(count=60, seed=3, pen_share=1.0, validation=0.3))
    used = {w for s in samples for w in s.writers}
    assert used and used <= set(split.train) and not used & set(split.validation)


def test_reject_samples_are_the_same_for_the_same_seed():
    first = reject.reject_samples(reject.RejectMix(count=12, seed=5))
    again = reject.reject_samples(reject.RejectMix(count=12, seed=5))
    other = reject.reject_samples(reject.RejectMix(count=12, seed=6))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again))
    assert not all(np.array_equal(a.image, b.image) for a, b in zip(first, other))


def test_reject_ones_puts_a_1_in_every_pair_and_zero_changes_nothing():
    from mdr.data.mnist import load_split

    _, mnist_labels = load_split("train")
    pen_labels = {d.index: d.label for d in pen.cached_pen().digits}
    samples = reject.reject_samples(reject.RejectMix(count=40, seed=4, ones=1.0))
    pairs = [s for s in samples if s.kind in ("pair", "neighbour")]
    assert pairs
    for s in pairs:
        labels = [pen_labels[i] if s.source == "pen" else int(mnist_labels[i]) for i in s.parts]
        assert 1 in labels, (s.kind, s.source, labels)
    plain = reject.reject_samples(reject.RejectMix(count=12, seed=5))
    zero = reject.reject_samples(reject.RejectMix(count=12, seed=5, ones=0.0))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(plain, zero))
    with pytest.raises(ValueError, match="reject_ones"):
        TrainConfig(reject_fraction=0.2, reject_ones=1.5).check()


def test_touching_pair_is_one_connected_blob():
    digits = pen.digits_of(pen.cached_pen(), pen.split_writers(pen.cached_pen().writers).train)
    a = pen.draw_pen_digit(digits[0], 100, 12).coverage
    b = pen.draw_pen_digit(digits[1], 80, 12).coverage
    coverage, _ = reject.touching_pair(a, b, overlap=2, dy=10)
    count, _ = cv2.connectedComponents((coverage >= INK_LEVEL).astype(np.uint8), connectivity=8)
    assert count - 1 == 1


def test_reject_fraction_sets_the_number_of_outputs_and_is_checked():
    assert TrainConfig().classes == 10
    assert TrainConfig(reject_fraction=0.15).classes == 11
    with pytest.raises(ValueError, match="reject_fraction"):
        TrainConfig(reject_fraction=0.6).check()


def test_a_ten_class_model_starts_an_eleven_class_one_with_its_digit_rows():
    import torch

    from mdr.training.loop import starting_weights
    from mdr.training.nets import build_model, classes_in, load_matching

    start = starting_weights("mnist-cnn", "cnn")
    model = build_model("cnn", classes=11)
    partly = load_matching(model, start)
    state = model.state_dict()
    assert classes_in(state) == 11 and classes_in(start) == 10
    assert partly == ["classifier.6.weight", "classifier.6.bias"]
    assert torch.equal(state["classifier.6.weight"][:10], start["classifier.6.weight"])
    assert torch.equal(state["features.1.0.weight"], start["features.1.0.weight"])


def test_eleven_class_onnx_export_matches_torch_and_the_recognizer_loads_it(tmp_path):
    import torch

    from mdr.data.mnist import load_split
    from mdr.recognition.classifier import OnnxClassifier, softmax
    from mdr.training.export import as_model_input, export_onnx
    from mdr.training.nets import build_model

    torch.manual_seed(0)
    model = build_model("cnn-small", classes=11).eval()
    images, _ = load_split("test")
    export_onnx(model, tmp_path / "model.onnx", check_images=images[:64])
    classifier = OnnxClassifier(tmp_path / "model.onnx")
    assert classifier.classes == 11 and classifier.has_reject
    x = as_model_input(images[:64])
    got = classifier.predict_proba(x)
    with torch.no_grad():
        expected = softmax(model(torch.from_numpy(x)).numpy())
    assert got.shape == (64, 11)
    assert np.array_equal(got.argmax(1), expected.argmax(1))
    assert np.abs(got - expected).max() < 1e-4


def test_mnist_accuracy_of_an_eleven_class_model_reads_the_ten_digits_only():
    from mdr.evaluation.digits import digit_argmax

    logits = np.array([[0.0, 3.0] + [0.0] * 8 + [9.0], [5.0] + [0.0] * 10])
    assert digit_argmax(logits).tolist() == [1, 0]


def test_a_ten_class_model_still_reads_and_reports_no_reject():
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer("mnist-cnn")
    assert recognizer.classifier().classes == 10
    result = recognizer.recognize(_pen_number([[0, 4], [1, 7]], touching=False))
    assert len(result.number) == 2
    assert all(d.reject is None and d.probabilities.shape == (10,) for d in result.digits)
    assert all(decision.whole_reject is None for decision in result.splits)


# --- with the registered reject model ---------------------------------------------


def _train_digits() -> list[pen.PenDigit]:
    data = pen.cached_pen()
    return pen.digits_of(data, pen.split_writers(data.writers).train)


def _pen_number(picks: list[list[int]], touching: bool, height: int = 110, brush: int = 12,
                widen: float = 1.0) -> np.ndarray:
    """Training writers' digits ``[label, n-th of that label]`` side by side (touching or spaced),
    drawn ``widen`` times wider than written, on a light canvas."""
    digits = _train_digits()
    patches = []
    for label, nth in picks:
        digit = [d for d in digits if d.label == label][nth]
        if widen != 1.0:
            digit = replace(digit, strokes=tuple(s * np.float32([widen, 1.0]) for s in digit.strokes))
        patches.append(pen.draw_pen_digit(digit, height, brush).coverage)
    coverage = patches[0]
    for patch in patches[1:]:
        if touching:
            coverage, _ = reject.touching_pair(coverage, patch, overlap=3, dy=(coverage.shape[0] - patch.shape[0]) // 2)
        else:
            gap = np.zeros((max(coverage.shape[0], patch.shape[0]), coverage.shape[1] + 40 + patch.shape[1]), np.uint8)
            paste(gap, coverage, 0, 0)
            paste(gap, patch, coverage.shape[1] + 40, 0)
            coverage = gap
    canvas = np.zeros((300, max(900, coverage.shape[1] + 40)), np.uint8)
    paste(canvas, coverage, 20, (300 - coverage.shape[0]) // 2)
    return colourize(canvas, "light", np.random.default_rng(0))


class _DoubtingClassifier:
    """Wraps a 10-class classifier as an 11-class one that calls everything 60% "not a single digit"."""

    classes, has_reject = 11, True

    def __init__(self, real):
        self.real = real

    def predict_proba(self, batch):
        digits = self.real.predict_proba(batch) * 0.4
        return np.hstack([digits, np.full((len(digits), 1), 0.6, np.float32)])


def test_a_part_called_not_a_single_digit_is_searched_even_when_its_digit_is_confident():
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer("mnist-cnn")
    images = [_pen_number([[0, k]], touching=False, widen=1.3) for k in range(10)]
    # A wide 0 read confidently whole: the search was skipped.
    image = next(i for i in images if (p := recognizer.recognize(i)).splits and not p.splits[0].candidates)
    recognizer._classifiers["int8"] = _DoubtingClassifier(recognizer.classifier())
    doubted = recognizer.recognize(image)
    assert doubted.splits[0].candidates and doubted.splits[0].whole_reject == pytest.approx(0.6)
    assert all(d.reject == pytest.approx(0.6) and d.digit != 10 for d in doubted.digits)


def test_a_narrow_part_is_searched_only_when_the_model_rejects_it():
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer("mnist-cnn")
    image = _pen_number([[8, 1]], touching=False)  # an ordinary 8: never a wide part
    assert not recognizer.recognize(image).splits
    recognizer._classifiers["int8"] = _DoubtingClassifier(recognizer.classifier())
    assert recognizer.recognize(image).splits


PAIRS = [(0, 0), (1, 0), (2, 3), (4, 5), (6, 7), (8, 9), (3, 8), (5, 2), (7, 1), (9, 4)]


@needs_reject_model
def test_touching_pen_digits_read_as_two_digits_with_the_reject_model():
    from mdr.recognition.recognizer import Recognizer

    def two_digit_readings(model: str) -> int:
        recognizer = Recognizer(model)
        readings = [recognizer.recognize(_pen_number([[a, k], [b, k]], touching=True)).number
                    for k, (a, b) in enumerate(PAIRS)]
        return sum(len(r) == 2 for r in readings)

    with_reject = two_digit_readings(REJECT_MODEL)
    assert with_reject >= 8
    assert with_reject > two_digit_readings("mnist-cnn")


@needs_reject_model
@pytest.mark.parametrize("label", [0, 4])
def test_a_wide_single_digit_stays_one_digit_with_the_reject_model(label):
    from mdr.recognition.recognizer import Recognizer

    recognizer = Recognizer(REJECT_MODEL)
    readings = [recognizer.recognize(_pen_number([[label, k]], touching=False, widen=widen)).number
                for k in range(6) for widen in (1.3, 1.6)]
    assert all(len(r) == 1 for r in readings), readings
    assert sum(r == str(label) for r in readings) >= 11


@needs_reject_model
def test_split_table_shows_the_reject_probability():
    from mdr.app.pipeline_view import split_table
    from mdr.recognition.recognizer import Recognizer

    result = Recognizer(REJECT_MODEL).recognize(_pen_number([[2, 0], [3, 0]], touching=True))
    searched = [d for d in result.splits if d.candidates]
    assert searched and "not one digit" in split_table(searched[0]).columns


@needs_reject_model
def test_model_output_chart_and_export_carry_the_reject_probability():
    from mdr.app.export_intermediates import recognition_record
    from mdr.app.pipeline_view import probabilities_figure
    from mdr.recognition.recognizer import Recognizer

    result = Recognizer(REJECT_MODEL).recognize(_pen_number([[5, 0]], touching=False))
    bars = probabilities_figure(result).data[0]
    assert list(bars.x)[-1] == "not one" and len(bars.x) == 11
    assert recognition_record(result)["digits"][0]["reject"] == pytest.approx(result.digits[0].reject, abs=1e-5)
