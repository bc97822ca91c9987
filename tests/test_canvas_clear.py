"""Clear empties the canvas in place: the same canvas component is given a new empty initial
drawing, and until the browser sends the emptied canvas back the page treats it as empty.

The canvas component is replaced by a stand-in (:mod:`canvas_standin`).
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import canvas_standin


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
    return canvas_standin.install(monkeypatch)


def _status(at: AppTest) -> tuple[str, str]:
    return at.caption[0].value, at.text[0].value


def _browser_sends(at: AppTest, browser: dict, strokes: int) -> tuple[str, str]:
    """The browser sends a drawing of ``strokes`` strokes; the page's status after its rerun."""
    browser["drawing"] = canvas_standin.drawing(strokes)
    at.run()
    return _status(at)


def test_clear_reads_as_empty_at_once_and_the_next_drawing_counts(browser):
    at = AppTest.from_function(_canvas_page)
    at.run()
    assert _status(at) == ("Nothing drawn yet.", "empty=True")

    assert _browser_sends(at, browser, 3) == ("3 strokes drawn.", "empty=False")
    key, initial = browser["calls"][-1]["key"], browser["calls"][-1]["initial_drawing"]

    # Clear: the browser still holds (and reports) the old drawing on this rerun
    at.button[0].click().run()
    assert not at.exception
    assert _status(at) == ("Nothing drawn yet.", "empty=True")
    after = browser["calls"][-1]
    assert after["key"] == key  # the same canvas, not a new one
    assert after["initial_drawing"] != initial and after["initial_drawing"]["objects"] == []

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


def test_each_clear_gives_a_new_initial_drawing(browser):
    at = AppTest.from_function(_canvas_page)
    at.run()
    seen = [str(browser["calls"][-1]["initial_drawing"])]
    for _ in range(3):
        at.button[0].click().run()
        seen.append(str(browser["calls"][-1]["initial_drawing"]))
    assert len(set(seen)) == 4
