"""The Recognize page: draw (read as you draw, or on Recognize) or upload, and the result.

Canvas, upload and result live in one fragment: a stroke, a Clear or an upload reruns only this
part of the page, and the number is written before the pictures and charts that explain it.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import streamlit as st

from mdr.app import canvas_input, reading, result_view
from mdr.recognition import imageio

READ_AS_YOU_DRAW = "read_as_you_draw"
"""The toggle's key: read the drawing whenever a stroke ends (on by default)."""
READ_DRAWING = "recognize_read_drawing"
"""The signature of the drawing last read (or emptied) on this page, so that a rerun that did not
change the drawing (another widget, a second look) reads nothing again."""
DRAWING_SOURCE = "the drawing"


def drawing_signature(canvas: Any) -> str:
    """A short fingerprint of what the canvas holds: equal drawings give equal signatures."""
    if canvas_input.canvas_is_empty(canvas):
        return "empty"
    objects = json.dumps(canvas.json_data.get("objects"), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(objects.encode(), digest_size=12).hexdigest()


def _read_drawing(canvas: Any, pressed: bool) -> None:
    """Read the drawing if it changed (read as you draw) or Recognize was pressed."""
    state = st.session_state
    signature = drawing_signature(canvas)
    changed = state.get(READ_DRAWING, "empty") != signature
    state[READ_DRAWING] = signature
    automatic = state.get(READ_AS_YOU_DRAW, True) and changed
    if not (pressed or automatic):
        return
    if signature == "empty":
        if pressed or state.get(reading.LAST_SOURCE) == DRAWING_SOURCE:
            reading.clear_results()
        if pressed:
            st.info(canvas_input.EMPTY_CANVAS_MESSAGE, icon=":material/draw:")
        return
    reading.recognize_into_state(lambda: canvas.image_data, source=DRAWING_SOURCE,
                                 strokes=canvas.json_data.get("objects"))


def _draw_tab() -> None:
    hint, toggle, brush_column = st.columns([5, 2, 2], vertical_alignment="bottom")
    hint.markdown("Draw a number with the mouse, digits side by side. "
                  "A second row of digits is read as a second line.")
    automatic = toggle.toggle("Read as I draw", value=True, key=READ_AS_YOU_DRAW,
                              help="Read the number each time a stroke ends. Off: draw, then press "
                                   "**Recognize**.")
    brush = brush_column.slider("Brush width", min_value=6, max_value=40, value=18)
    canvas = canvas_input.drawing_canvas(brush)
    with st.container(horizontal=True):
        pressed = st.button("Recognize", type="secondary" if automatic else "primary",
                            icon=":material/search:")
        st.button("Clear", icon=":material/ink_eraser:", on_click=canvas_input.clear_canvas)
        st.caption(canvas_input.canvas_status(canvas))
    _read_drawing(canvas, pressed)


def _upload_tab() -> None:
    upload = st.file_uploader("Upload an image (PNG or JPEG) of a handwritten number",
                              type=["png", "jpg", "jpeg"])
    if upload is not None and upload.file_id != st.session_state.get(reading.LAST_UPLOAD_ID):
        st.session_state[reading.LAST_UPLOAD_ID] = upload.file_id
        reading.recognize_into_state(lambda: imageio.decode_image(upload.getvalue()),
                                     source=f"upload: {upload.name}")


@st.fragment
def recognize_panel() -> None:
    """Both inputs and the result; reruns on its own when any of them changes."""
    draw_tab, upload_tab = st.tabs(["Draw", "Upload an image"])
    with draw_tab:
        _draw_tab()
    with upload_tab:
        _upload_tab()
    result_view.show_last_result()
