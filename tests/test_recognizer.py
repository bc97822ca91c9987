"""The recognizer end to end, with the shipped model."""
from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from mdr import Recognizer
from mdr.errors import ImageTooLargeError, InvalidImageError, NothingToReadError
from mdr.data.synth import make_set
from tests.drawing import draw_digit, draw_number


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


# 100 numbers per condition, so that one number moves the rate by a point,
# not four. The shipped models read 90-94 of each; thick brushes (up to a
# third of the digit height) fill loops in, yet read as well by now.
@pytest.mark.parametrize("condition", ["spaced-thin", "spaced-thick", "transparent", "light-on-dark"])
def test_reads_canvas_like_numbers_from_mnist_test_digits(recognizer, condition):
    samples = make_set(condition, 100, seed=123)
    correct = sum(recognizer.recognize(s.image).number == s.number for s in samples)
    assert correct >= 85, f"{condition}: {correct}/100 read exactly"


def test_two_rows_are_read_as_two_lines(recognizer):
    samples = make_set("two-rows", 20, seed=7)
    results = [recognizer.recognize(s.image) for s in samples]
    assert sum(r.number == s.number for r, s in zip(results, samples)) >= 16
    assert all(r.number.count("\n") == 1 for r in results[:10])


def test_two_touching_zeros_are_two_digits(recognizer):
    image = np.zeros((300, 600), np.uint8)
    draw_digit(image, "0", 100, 60, 160, 14, width_ratio=0.7)
    draw_digit(image, "0", 100 + 104, 60, 160, 14, width_ratio=0.7)
    mask = image > 127
    assert cv2.connectedComponents(mask.astype(np.uint8))[0] == 2  # background + one blob
    result = recognizer.recognize(image)
    assert result.number == "00"
    assert any(s.chosen for s in result.splits)


def test_digits_carry_boxes_in_original_pixels_and_probabilities(recognizer):
    image = draw_number(["1", "7", "4", "0"], height=150, brush=14, size=(2000, 3000), origin=(200, 300))
    result = recognizer.recognize(image)
    assert result.scale < 1.0
    first = result.digits[0]
    x, y, w, h = first.box
    assert 150 <= x <= 260 and 250 <= y <= 330 and 120 <= h <= 190
    # the ten digits' share, and with a "not a single digit" model that class's
    assert np.isclose(first.probabilities.sum() + (first.reject or 0.0), 1.0, atol=1e-4)
    assert first.top3[0][0] == first.digit and len(first.top3) == 3
    assert first.steps.final.shape == (28, 28)
    assert set(result.timings_ms) >= {"input", "binarize", "components", "classify"}


@pytest.mark.parametrize("image, error, words", [
    (np.zeros((250, 600, 4), np.uint8), NothingToReadError, "blank"),
    (np.zeros((1, 1), np.uint8), InvalidImageError, "too small"),
    (np.full((250, 600), 255, np.uint8), NothingToReadError, "blank"),
])
def test_unreadable_images_raise_clear_errors(recognizer, image, error, words):
    with pytest.raises(error, match=words):
        recognizer.recognize(image)


def test_a_single_dot_is_nothing_to_read_with_intermediates(recognizer):
    image = np.zeros((250, 600, 4), np.uint8)
    cv2.circle(image, (300, 120), 9, (0, 0, 0, 255), -1)
    with pytest.raises(NothingToReadError, match="small mark") as info:
        recognizer.recognize(image)
    assert info.value.recognition is not None and info.value.recognition.mask.shape == (250, 600)


def test_a_small_zero_filled_in_by_a_wide_brush_is_read_not_refused_as_a_dot(recognizer):
    image = np.zeros((300, 900, 4), np.uint8)
    cv2.circle(image, (250, 170), 34, (0, 0, 0, 255), -1)  # a 0 whose hole the brush closed
    result = recognizer.recognize(image)
    assert len(result.digits) == 1
    assert any("largest mark" in c.reason for c in result.components)


def test_a_canvas_full_of_ink_is_refused(recognizer):
    image = np.zeros((250, 600, 4), np.uint8)
    image[:, :, 3] = 255  # the whole canvas painted black
    image[5:245, 5:595, 3] = 200
    with pytest.raises(NothingToReadError):
        recognizer.recognize(image)


def test_huge_arrays_are_refused_by_size(recognizer):
    huge = np.broadcast_to(np.zeros(1, np.uint8), (20000, 20000))
    with pytest.raises(ImageTooLargeError, match="20000x20000"):
        recognizer.recognize(huge)


def test_recognition_path_does_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "from tests.drawing import draw_number\n"
        "from mdr import Recognizer\n"
        "Recognizer().recognize(draw_number(['1', '7']))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_rewritten_model_file_gets_a_new_session(tmp_path, monkeypatch):
    """Sessions are shared per file version (path, mtime, size): re-quantizing the active model is picked up."""
    import os
    import shutil
    from pathlib import Path

    from mdr.recognition import classifier
    from mdr.models import registry

    shipped = Path(__file__).resolve().parents[1] / "models" / registry.SHIPPED_MODEL
    folder = tmp_path / "models" / "m"
    folder.mkdir(parents=True)
    path = folder / registry.ONNX_FILES["int8"]
    shutil.copy(shipped / registry.ONNX_FILES["int8"], path)
    monkeypatch.setenv("MDR_MODELS_DIR", str(tmp_path / "models"))

    first = classifier.load_classifier(path)
    assert classifier.load_classifier(path) is first
    stamp = registry.files_stamp("m")

    # written again with the same bytes: only the time differs
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = classifier.load_classifier(path)
    assert second is not first and registry.files_stamp("m") != stamp

    # swapped for another model the way quantizing writes it (temporary name, then renamed over it)
    tmp = folder / ".model.int8.onnx.tmp"
    shutil.copy(shipped / registry.ONNX_FILES["int8-dynamic"], tmp)
    os.replace(tmp, path)
    third = classifier.load_classifier(path)
    assert third is not second and third.session.get_inputs()[0].name == second.session.get_inputs()[0].name
    # older versions leave the cache; whoever still holds them keeps reading
    assert [k for k in classifier._SESSIONS if k[0] == str(path.resolve())] == [
        (str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size)]
    batch = np.zeros((1, 1, 28, 28), np.float32)
    assert first.predict_proba(batch).shape == third.predict_proba(batch).shape == (1, 10)


def test_a_setting_given_as_text_takes_the_type_of_its_knob_within_the_apis_bounds():
    import argparse

    from mdr.commands.options import recognizer_setting
    from mdr.recognition.config import RecognizerConfig

    assert recognizer_setting("work_max_side=800") == ("work_max_side", 800)
    assert recognizer_setting(" strip_agreement = 2 ") == ("strip_agreement", 2.0)
    assert recognizer_setting("normalize_stroke=ON") == ("normalize_stroke", True)
    assert recognizer_setting("use_reject=0") == ("use_reject", False)
    assert recognizer_setting("binarization=adaptive") == ("binarization", "adaptive")
    assert RecognizerConfig(**dict([recognizer_setting("strip_agreement=2")])).strip_agreement == 2.0
    for bad in ("work_max_side=8.5", "strip_agreement=inf", "strip_agreement=50", "=1", "nothing=1"):
        with pytest.raises(argparse.ArgumentTypeError):
            recognizer_setting(bad)
