"""Clear empties the canvas in place: the same canvas component is told of one more Clear, and
until the browser sends a drawing made after it, the page treats the canvas as empty.

The canvas component is replaced by a stand-in (tests/fake_canvas.py).
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import fake_canvas


def _canvas_page() -> None:
    import streamlit as st

    from mdr.app import canvas_input

    canvas = canvas_input.drawing_canvas(18)
    st.button("Clear", on_click=canvas_input.clear_canvas)
    st.caption(canvas_input.canvas_status(canvas))
    st.text(f"empty={canvas_input.canvas_is_empty(canvas)}")


@pytest.fixture
def browser(monkeypatch):
    """What the browser last sent, and every set of arguments the page gave the canvas."""
    return fake_canvas.install(monkeypatch)


def _status(at: AppTest) -> tuple[str, str]:
    return at.caption[0].value, at.text[0].value


def _browser_sends(at: AppTest, browser: dict, strokes: int) -> tuple[str, str]:
    """The browser sends a drawing of ``strokes`` strokes; the page's status after its rerun."""
    fake_canvas.browser_draws(browser, strokes)
    at.run()
    return _status(at)


def test_clear_reads_as_empty_at_once_and_the_next_drawing_counts(browser):
    at = AppTest.from_function(_canvas_page)
    at.run()
    assert _status(at) == ("Nothing drawn yet.", "empty=True")

    assert _browser_sends(at, browser, 3) == ("3 strokes drawn.", "empty=False")
    key, initial = browser["calls"][-1]["key"], browser["calls"][-1]["data"]["clears"]

    # Clear: the browser still holds (and reports) the old drawing on this rerun
    at.button[0].click().run()
    assert not at.exception
    assert _status(at) == ("Nothing drawn yet.", "empty=True")
    after = browser["calls"][-1]
    assert after["key"] == key  # the same canvas, not a new one
    assert after["data"]["clears"] != initial  # the canvas empties itself when this changes

    at.run()  # any other rerun before the browser has emptied it: still empty
    assert _status(at) == ("Nothing drawn yet.", "empty=True")

    # the browser has emptied the canvas and says so
    assert _browser_sends(at, browser, 0) == ("Nothing drawn yet.", "empty=True")
    assert _browser_sends(at, browser, 2) == ("2 strokes drawn.", "empty=False")


def test_strokes_sent_before_the_canvas_was_emptied_are_counted(browser):
    at = AppTest.from_function(_canvas_page)
    assert _browser_sends(at, browser, 3) == ("3 strokes drawn.", "empty=False")
    at.button[0].click().run()
    # a drawing that differs from the cleared one is news from the browser, not the old drawing
    assert _browser_sends(at, browser, 4) == ("4 strokes drawn.", "empty=False")
    # the same drawing again later is not mistaken for the cleared one
    assert _browser_sends(at, browser, 3) == ("3 strokes drawn.", "empty=False")


def test_each_clear_tells_the_canvas_something_new(browser):
    at = AppTest.from_function(_canvas_page)
    at.run()
    seen = [browser["calls"][-1]["data"]["clears"]]
    for _ in range(3):
        at.button[0].click().run()
        seen.append(browser["calls"][-1]["data"]["clears"])
    assert len(set(seen)) == 4
