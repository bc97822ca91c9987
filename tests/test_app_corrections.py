"""Under a result on the Recognize page: a correction (or "it was right") is saved to the store,
a bad number is refused in words, and a broken store leaves recognition working."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mdr.corrections.store import CorrectionStore
from number_images import compose_number, layout, library_reading

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "1_Recognize.py")


@pytest.fixture
def store_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path))
    return tmp_path


def read_upload(number_png, text: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.file_uploader[0].set_value(("number.png", number_png(text), "image/png"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def submit(at: AppTest, label: str, typed: str | None = None) -> AppTest:
    if typed is not None:
        at.text_input(key="correction_number").set_value(typed)
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_typed_correction_is_saved_with_the_number_read_and_its_digits(store_home, number_png):
    at = submit(read_upload(number_png, "4071"), "Save", "4077")
    assert any("Saved as correction #" in s.value for s in at.success)
    (saved,) = CorrectionStore().list()
    assert (saved.true_number, saved.read_number, saved.misread) == ("4077", "4071", True)
    assert [d.label for d in saved.digits] == [4, 0, 7, 7]
    assert saved.image_png.startswith(b"\x89PNG")


def test_it_was_right_saves_a_positive_example(store_home, number_png):
    at = submit(read_upload(number_png, "38\n619"), "It was right")
    assert any("Saved as correction #" in s.value for s in at.success)
    (saved,) = CorrectionStore().list()
    # "It was right": the number read is saved as the true one (the 9: see library_reading)
    read = library_reading(compose_number("38\n619"))
    assert layout(read) == [2, 3]
    assert saved.true_number == saved.read_number == read and not saved.misread and len(saved.digits) == 5


def test_a_number_with_letters_is_refused_and_nothing_is_saved(store_home, number_png):
    at = submit(read_upload(number_png, "4071"), "Save", "40a1")
    assert any("digits 0-9 only" in e.value for e in at.error)
    assert CorrectionStore().count() == 0


def test_a_corrupted_store_is_reported_and_the_page_still_reads(store_home, number_png):
    (store_home / "corrections.sqlite").write_bytes(b"this is not a database" * 100)
    at = read_upload(number_png, "4071")
    assert at.session_state["last_recognition"].number == "4071"
    at = submit(at, "Save", "4071")
    assert any("could not be saved" in e.value for e in at.error)
    assert at.session_state["last_recognition"].number == "4071"


def test_a_corrected_drawing_is_saved_with_the_strokes_the_canvas_reported(store_home, monkeypatch):
    import numpy as np

    import fake_canvas
    from number_images import compose_number

    browser = fake_canvas.install(monkeypatch)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    grey = compose_number("52")
    fake_canvas.browser_draws(browser, 3, np.dstack([grey, grey, grey, np.full_like(grey, 255)]))
    at.run()
    assert at.session_state["last_recognition"].number == "52"
    at = submit(at, "Save", "57")
    (saved,) = CorrectionStore().list()
    assert saved.true_number == "57" and saved.read_number == "52"
    assert saved.strokes == fake_canvas.drawing(3)


def test_a_likely_other_reading_is_saved_as_the_correction_in_one_click(store_home, number_png):
    at = read_upload(number_png, "4071")
    recognition = at.session_state["last_recognition"]
    first = recognition.alternatives(3)[0]
    shown = [b.label for b in at.button if b.key and b.key.startswith("alternative_")]
    assert shown == [a.number.replace("\n", "/") for a in recognition.alternatives(3)] and len(shown) == 3
    at = submit(at, first.number)
    assert any("Saved as correction #" in s.value for s in at.success)
    (saved,) = CorrectionStore().list()
    assert (saved.true_number, saved.read_number, saved.misread) == (first.number, "4071", True)
