"""The drawing canvas: a wide black canvas drawn on in white, and Clear."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import streamlit as st

from mdr.app.reading import clear_results

CANVAS_CLEARS = "canvas_clears"
"""How often Clear was pressed in this session; the canvas's empty initial drawing carries it."""
CANVAS_SHOWN = "canvas_shown_drawing"
"""Per canvas key: {"last": the drawing the canvas last sent, "cleared": the one Clear emptied,
until the browser reports the canvas emptied}."""

CANVAS_WIDTH = 900
CANVAS_HEIGHT = 300
EMPTY_CANVAS_MESSAGE = "The canvas is empty: draw a number on it first, then press **Recognize**."


def drawing_canvas(stroke_width: int, key: str = "canvas") -> Any:
    """A wide black canvas drawn on in white; returns the canvas result.

    ``clear_canvas`` empties the canvas in place: the same component is given a new empty
    initial drawing, which it loads at once. (A new component key would mount a new canvas, and
    strokes drawn while the old one was being replaced would be lost.)
    """
    from streamlit_drawable_canvas import st_canvas  # works only inside a running app

    clears = st.session_state.setdefault(CANVAS_CLEARS, 0)
    result = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=CANVAS_WIDTH,
        height=CANVAS_HEIGHT,
        drawing_mode="freedraw",
        initial_drawing={"objects": [], "clears": clears},
        return_image_data=True,
        update_streamlit=True,
        key=key,
    )
    shown = st.session_state.setdefault(CANVAS_SHOWN, {}).setdefault(key, {})
    if shown.get("cleared") is not None and result.json_data == shown["cleared"]:
        return EMPTY_CANVAS  # Clear was pressed; the browser has not yet said the canvas is empty
    shown.update(last=result.json_data, cleared=None)
    return result


EMPTY_CANVAS = SimpleNamespace(json_data={"objects": []}, image_data=None)
"""Stands for a canvas that Clear has emptied, until the canvas itself sends its new state."""


def canvas_stroke_count(result: Any) -> int:
    """How many strokes (drawn objects) the canvas holds."""
    if result is None or not isinstance(result.json_data, dict):
        return 0
    return len(result.json_data.get("objects") or [])


def canvas_status(result: Any) -> str:
    strokes = canvas_stroke_count(result)
    if not strokes:
        return "Nothing drawn yet."
    return f"{strokes} stroke{'s' if strokes != 1 else ''} drawn."


def canvas_is_empty(result: Any) -> bool:
    """True before the first stroke and after everything was undone or cleared."""
    return canvas_stroke_count(result) == 0 or result.image_data is None


def clear_canvas(key: str = "canvas", forget_result: bool = True) -> None:
    """Button callback: empty the canvas (in the browser, on this rerun) and forget the result.

    ``forget_result=False`` keeps the last result: on the Pipeline page it is another source
    than the canvas, and the page reads the canvas afresh on every run anyway.
    """
    st.session_state[CANVAS_CLEARS] = st.session_state.get(CANVAS_CLEARS, 0) + 1
    shown = st.session_state.setdefault(CANVAS_SHOWN, {}).setdefault(key, {})
    shown["cleared"] = shown.get("last")
    if forget_result:
        clear_results()
