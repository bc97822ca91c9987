"""Thousands of generated bad, odd and hostile inputs: only the library's own errors come out.

``pytest -s tests/test_fuzz.py`` prints how many inputs ended in each outcome.
"""
from __future__ import annotations

import collections
import re
import warnings

import numpy as np
import pytest

from mdr import Recognizer
from mdr.errors import InvalidImageError, MdrError
from mdr.recognition.imageio import decode_image
from tests.fuzzing import arrays, exif_rotated_jpeg, files

SEED = 20240601
N_ARRAYS = 1000
N_FILES = 1000
SENTENCE = re.compile(r"^[A-Z].*[.!?]$", re.DOTALL)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


def _outcome(call, label: str, counts: collections.Counter, problems: list[str]):
    """Run ``call``; count its outcome by type; note anything but a result or an MdrError in words."""
    try:
        result = call()
    except MdrError as error:
        counts[type(error).__name__] += 1
        message = str(error)
        if not SENTENCE.match(message) or "Traceback" in message:
            problems.append(f"{label}: {type(error).__name__} message is not a sentence: {message!r}")
        return None
    except Exception as error:  # noqa: BLE001 - exactly what this test hunts for
        counts[f"unhandled {type(error).__name__}"] += 1
        problems.append(f"{label}: unhandled {type(error).__name__}: {error}")
        return None
    counts["read"] += 1
    return result


def _report(title: str, counts: collections.Counter) -> None:
    print(f"\n{title}: " + ", ".join(f"{name} {count}" for name, count in counts.most_common()))


def test_generated_arrays_give_a_reading_or_a_library_error(recognizer):
    counts, problems = collections.Counter(), []
    for label, image in arrays(SEED, N_ARRAYS):
        _outcome(lambda: recognizer.recognize(image), label, counts, problems)
    _report(f"Recognizer.recognize on {N_ARRAYS} generated arrays", counts)
    assert not problems, "\n".join(problems[:20])
    assert sum(counts.values()) == N_ARRAYS
    # Every kind of outcome is exercised, not just one.
    assert {"read", "InvalidImageError", "ImageTooLargeError", "NothingToReadError"} <= set(counts)
    assert counts["ImageTooLargeError"] >= 4  # the huge broadcast arrays


def test_generated_files_decode_and_read_or_give_a_library_error(recognizer):
    decoded, read, problems = collections.Counter(), collections.Counter(), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the damaged files it is given
        for label, data in files(SEED, N_FILES):
            image = _outcome(lambda: decode_image(data), label, decoded, problems)
            if image is None:
                continue
            if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
                problems.append(f"{label}: decoded to {image.dtype} {image.shape}")
            _outcome(lambda: recognizer.recognize(image), f"{label} (decoded)", read, problems)
    _report(f"decode_image on {N_FILES} generated files", decoded)
    _report(f"Recognizer.recognize on the {decoded['read']} decoded images", read)
    assert not problems, "\n".join(problems[:20])
    assert sum(decoded.values()) == N_FILES
    assert sum(read.values()) == decoded["read"]
    assert {"read", "InvalidImageError", "ImageTooLargeError"} <= set(decoded)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    data, expected = exif_rotated_jpeg(orientation, (60, 30))
    image = decode_image(data)
    assert image.shape[:2] == expected.shape
    assert np.abs(image.astype(int) - expected.astype(int)).mean() < 8  # JPEG is lossy


def test_high_bit_depth_files_are_scaled_not_clipped():
    from PIL import Image

    from tests.fuzzing import encode

    ramp = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)  # 0..65520
    image = decode_image(encode(Image.fromarray(ramp), "PNG"))
    assert image.dtype == np.uint8 and image.min() == 0 and image.max() == 255
    floats = decode_image(encode(Image.fromarray(np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)), "TIFF"))
    assert floats.min() == 0 and floats.max() == 255


def test_views_read_like_their_copies(recognizer, number_png):
    image = decode_image(number_png("4071"))
    flipped = image[:, ::-1]  # negative strides
    assert recognizer.recognize(flipped).number == recognizer.recognize(np.ascontiguousarray(flipped)).number
    assert recognizer.recognize(np.asfortranarray(image)).number == "4071"
    masked = np.ma.masked_array(image, mask=np.zeros_like(image, bool))
    assert recognizer.recognize(masked).number == "4071"


@pytest.mark.parametrize("value", [None, "4071", b"\x89PNG", {"image": 1}, 7])
def test_non_arrays_are_refused_in_words(recognizer, value):
    with pytest.raises(InvalidImageError, match="not an image array"):
        recognizer.recognize(value)
