"""The Pipeline page's controls: the knobs in the sidebar and the image to explain.

Knob values are kept in session state under a key of their own as well as in the widgets,
so that they survive a visit to another page (Streamlit forgets the state of widgets that
were not drawn on a run).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from mdr.app import canvas_input, gallery, reading
from mdr.app.pipeline_steps import KNOBS, knob_defaults
from mdr.recognition import imageio
from mdr.recognition.config import DEFAULT_CONFIG

SOURCE_GALLERY = "Gallery example"
SOURCE_RECOGNIZE = "Last image from Recognize"
SOURCE_DRAW = "Draw here"
SOURCE_UPLOAD = "Upload an image"
SOURCES = [SOURCE_GALLERY, SOURCE_RECOGNIZE, SOURCE_DRAW, SOURCE_UPLOAD]
SOURCE_KEY = "pipeline_source"
GALLERY_KEY = "pipeline_gallery"
CLEAR_KEY = "pipeline_clear"
SAVED_KNOBS = "pipeline_knob_values"  # survives visits to other pages, unlike widget state

Chosen = tuple[Any, str, str | None]
"""What :func:`choose_image` returns: the image (None when there is none yet), where it came
from in words, and the number that was drawn when it is known."""
NOTHING: Chosen = (None, "", None)


def knob_key(name: str) -> str:
    return f"pipeline_knob_{name}"


def reset_knobs() -> None:
    """Button callback: every knob back to the recognizer's default."""
    for name, value in knob_defaults(DEFAULT_CONFIG).items():
        st.session_state[knob_key(name)] = value
    st.session_state[SAVED_KNOBS] = knob_defaults(DEFAULT_CONFIG)


def knob_widgets() -> dict[str, Any]:
    """The sidebar controls, one per RecognizerConfig field in ``KNOBS``; their values by name."""
    defaults = knob_defaults(DEFAULT_CONFIG)
    saved = st.session_state.get(SAVED_KNOBS, {})
    for name, default in defaults.items():
        st.session_state.setdefault(knob_key(name), saved.get(name, default))
    values: dict[str, Any] = {}
    for knob in KNOBS:
        key = knob_key(knob.name)
        label = knob.label
        if knob.kind == "select":
            values[knob.name] = st.selectbox(label, knob.options, key=key, help=knob.help)
        elif knob.kind == "radio":
            values[knob.name] = st.radio(label, knob.options, key=key, help=knob.help, horizontal=True)
        elif knob.kind == "toggle":
            values[knob.name] = st.toggle(label, key=key, help=knob.help)
        else:
            disabled = knob.needs is not None and values.get(knob.needs[0]) != knob.needs[1]
            number = int if isinstance(defaults[knob.name], int) else float
            values[knob.name] = st.slider(label, min_value=number(knob.low), max_value=number(knob.high),
                                          step=number(knob.step), key=key, help=knob.help,
                                          disabled=disabled)
    st.session_state[SAVED_KNOBS] = dict(values)
    return values


def _gallery_example() -> Chosen:
    items = {item.name: item for item in gallery.load_gallery()}
    name = st.selectbox("Example", list(items), key=GALLERY_KEY,
                        format_func=lambda n: f"{items[n].title} ({items[n].number.replace(chr(10), ' / ')})")
    item = items[name]
    st.caption(f"{item.description} Drawn: **{item.number.replace(chr(10), ' / ')}**.")
    return gallery.read_example(item), f"gallery: {item.title}", item.number


def _last_recognized() -> Chosen:
    image = st.session_state.get(reading.LAST_IMAGE)
    if image is not None:
        where = st.session_state.get(reading.LAST_SOURCE) or "the Recognize page"
        st.caption(f"The last image read on the Recognize page ({where}).")
        return image, where, None
    error = st.session_state.get(reading.LAST_ERROR)
    if error is not None:
        st.caption("The last attempt on the Recognize page had no usable image:")
        reading.show_error(error)
    else:
        st.info("Nothing has been read on the Recognize page yet: draw or upload a number "
                "there, or pick another source here.", icon=":material/draw:")
    try:
        st.page_link("pages/1_Recognize.py", label="Go to Recognize", icon=":material/draw:")
    except StreamlitAPIException:  # this page run on its own, without the app around it
        st.markdown("Open **Recognize** in the sidebar.")
    return NOTHING


def _drawing() -> Chosen:
    """The page's own canvas, read on every stroke; Clear empties it as on Recognize, but leaves
    what Recognize read alone (it is another source here)."""
    brush = st.slider("Brush width", min_value=6, max_value=40, value=18, step=1, key="pipeline_brush")
    canvas = canvas_input.drawing_canvas(brush)
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Clear", icon=":material/ink_eraser:", on_click=canvas_input.clear_canvas,
                  kwargs={"forget_result": False}, key=CLEAR_KEY)
        st.caption(canvas_input.canvas_status(canvas))
    st.caption("Every change of the drawing runs the pipeline again; undo a stroke with the canvas toolbar.")
    if canvas_input.canvas_is_empty(canvas):
        st.info("Draw a number on the canvas to see how it is read.", icon=":material/draw:")
        return NOTHING
    return canvas.image_data, "the drawing", None


def _upload() -> Chosen:
    upload = st.file_uploader("Upload an image (PNG or JPEG) of a handwritten number",
                              type=["png", "jpg", "jpeg"], key="pipeline_upload")
    if upload is None:
        st.info("Upload an image to see how it is read.", icon=":material/upload_file:")
        return NOTHING
    return imageio.decode_image(upload.getvalue()), f"upload: {upload.name}", None


READERS: dict[str, Callable[[], Chosen]] = {
    SOURCE_GALLERY: _gallery_example,
    SOURCE_RECOGNIZE: _last_recognized,
    SOURCE_DRAW: _drawing,
    SOURCE_UPLOAD: _upload,
}


def choose_image() -> Chosen:
    """The image to explain, where it came from, and the number drawn (when known).

    Raises MdrError for an upload that cannot be read (corrupt, too large).
    """
    has_last = st.session_state.get(reading.LAST_IMAGE) is not None
    st.session_state.setdefault(SOURCE_KEY, SOURCE_RECOGNIZE if has_last else SOURCE_GALLERY)
    source = st.radio("Image to explain", SOURCES, key=SOURCE_KEY, horizontal=True,
                      label_visibility="collapsed")
    image, where, expected = READERS[source]()
    return (None if image is None else np.asarray(image)), where, expected
