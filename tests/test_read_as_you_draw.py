"""Read as I draw: the Recognize page reads the drawing whenever the canvas sends a new one, and
with the toggle off waits for Recognize. The canvas is a stand-in (tests/fake_canvas.py) that
sends real pictures of numbers, as the browser's canvas would (white ink on black, RGBA)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import fake_canvas
from number_images import compose_number, layout, library_reading
from test_app_recognize import shown_number
from mdr.app import reading, recognize_view

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "1_Recognize.py")


def canvas_picture(text: str) -> np.ndarray:
    """What the canvas reports: RGBA, white strokes on an opaque black background."""
    grey = compose_number(text)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


@pytest.fixture
def browser(monkeypatch):
    return fake_canvas.install(monkeypatch)


@pytest.fixture
def page(browser) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def send(at: AppTest, browser: dict, text: str, strokes: int) -> AppTest:
    """The browser sends a drawing of ``text`` made of ``strokes`` strokes; the page reruns."""
    fake_canvas.browser_draws(browser, strokes, canvas_picture(text))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def read_as_i_draw(at: AppTest):
    return next(t for t in at.toggle if t.label == "Read as I draw")


def test_read_as_i_draw_is_on_by_default(page):
    assert read_as_i_draw(page).value is True
    assert [b.label for b in page.button] == ["Recognize", "Clear"]


def test_a_new_drawing_is_read_without_pressing_recognize(page, browser):
    at = send(page, browser, "4071", 5)
    assert shown_number(at) == "4071"
    assert at.session_state[reading.LAST_SOURCE] == recognize_view.DRAWING_SOURCE
    # each stroke that ends sends the drawing again: the next one is read as well
    at = send(at, browser, "40712", 6)
    assert shown_number(at) == "40712"


def test_with_the_toggle_off_the_drawing_waits_for_recognize(page, browser):
    read_as_i_draw(page).set_value(False).run()
    at = send(page, browser, "2057", 4)
    assert shown_number(at) is None
    at.button[0].click().run()  # Recognize
    assert shown_number(at) == "2057"


def test_a_rerun_without_a_new_drawing_reads_nothing_again(page, browser):
    at = send(page, browser, "36", 2)
    first = at.session_state[reading.LAST_RECOGNITION]
    at.selectbox[0].select_index(1).run()  # look at the second digit's probabilities
    assert at.session_state[reading.LAST_RECOGNITION] is first
    assert shown_number(at) == "36"


def test_an_emptied_canvas_forgets_the_reading_of_the_drawing(page, browser):
    at = send(page, browser, "58", 2)
    assert shown_number(at) == "58"
    fake_canvas.browser_draws(browser, 0)  # everything undone in the canvas toolbar
    at.run()
    assert shown_number(at) is None
    assert not at.info, "no 'canvas is empty' hint unless Recognize was pressed"


def test_clear_then_a_new_drawing_is_read(page, browser):
    at = send(page, browser, "71", 2)
    at.button[1].click().run()  # Clear: the browser still reports the old drawing
    assert shown_number(at) is None
    at = send(at, browser, "9", 1)
    assert shown_number(at) == library_reading(canvas_picture("9"))  # the new drawing, not 71
    assert layout(shown_number(at)) == [1]


def test_an_upload_is_not_replaced_by_an_unchanged_drawing(page, browser, number_png):
    at = send(page, browser, "12", 2)
    at.file_uploader[0].set_value(("number.png", number_png("345"), "image/png"))
    at.run()
    assert shown_number(at) == "345"
    at.run()  # the canvas still sends the same drawing
    assert shown_number(at) == "345"
