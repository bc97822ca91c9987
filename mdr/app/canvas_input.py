"""The drawing canvas: a wide black canvas drawn on in white, and Clear.

The canvas is the app's own small component (``drawing_canvas.js``): it sends the drawing the
moment a stroke ends, as the strokes' points and a PNG, with the number of Clears it has seen.
"""
from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from mdr.app.reading import clear_results

CANVAS_CLEARS = "canvas_clears"
"""How often Clear was pressed in this session; the canvas empties itself when the count changes."""

CANVAS_WIDTH = 900
CANVAS_HEIGHT = 300
EMPTY_CANVAS_MESSAGE = "The canvas is empty: draw a number on it first, then press **Recognize**."

_HTML = (
    '<div class="mdr-canvas-root">'
    '<canvas class="mdr-canvas" aria-label="Drawing canvas: draw a number with the mouse"></canvas>'
    '<div class="mdr-canvas-tools">'
    '<button type="button" class="mdr-undo" title="Take back the last stroke">Undo</button>'
    '<button type="button" class="mdr-erase" title="Erase the whole drawing here in the browser">Erase all</button>'
    "</div></div>"
)
_CSS = """
.mdr-canvas-root { position: relative; display: inline-block; line-height: 0; }
.mdr-canvas { display: block; max-width: 100%; touch-action: none; cursor: crosshair;
              border-radius: 0.5rem; }
.mdr-canvas-tools { position: absolute; top: 0.4rem; right: 0.4rem; display: flex; gap: 0.3rem;
                    line-height: normal; }
.mdr-canvas-tools button { font: inherit; font-size: 0.8rem; padding: 0.15rem 0.55rem; cursor: pointer;
    color: var(--st-text-color, #31333f); background: var(--st-background-color, #fff);
    border: 1px solid rgba(128, 128, 128, 0.5); border-radius: 0.4rem; opacity: 0.85; }
.mdr-canvas-tools button:hover { opacity: 1; border-color: var(--st-primary-color, #e4572e); }
"""


@functools.cache
def _component():
    """Registered once per process (a name registered twice would log a warning)."""
    script = (Path(__file__).with_name("drawing_canvas.js")).read_text()
    return st.components.v2.component("mdr.drawing_canvas", html=_HTML, css=_CSS, js=script,
                                      isolate_styles=True)


def _mount(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """Show the canvas; the drawing the browser last sent, or None before the first stroke."""
    result = _component()(data=data, key=key, default={"drawing": None},
                          on_drawing_change=lambda: None, width="content", height="content")
    return result.get("drawing")


@dataclass
class CanvasDrawing:
    """What the canvas holds: ``json_data`` {"objects": one per stroke}, and its picture."""

    json_data: dict[str, Any]
    png_data_url: str | None = None
    _image: np.ndarray | None = field(default=None, repr=False)

    @property
    def image_data(self) -> np.ndarray | None:
        """The canvas as an RGBA array (decoded once), or None when nothing is drawn."""
        if self._image is None and self.png_data_url:
            from PIL import Image

            encoded = self.png_data_url.split(",", 1)[-1]
            self._image = np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGBA"))
        return self._image


EMPTY_CANVAS = CanvasDrawing(json_data={"objects": []})
"""A canvas with nothing on it: before the first stroke, and after Clear until the browser has
emptied the canvas (a drawing sent before it saw the Clear still shows the old strokes)."""


def drawing_canvas(stroke_width: int, key: str = "canvas") -> CanvasDrawing:
    """A wide black canvas drawn on in white; returns what it holds."""
    clears = st.session_state.setdefault(CANVAS_CLEARS, 0)
    data = {"width": CANVAS_WIDTH, "height": CANVAS_HEIGHT, "strokeWidth": stroke_width,
            "strokeColour": "#FFFFFF", "background": "#000000", "clears": clears}
    sent = _mount(data, key)
    if not isinstance(sent, dict) or sent.get("clears") != clears:
        return EMPTY_CANVAS  # nothing yet, or strokes from before the last Clear
    objects = sent.get("objects") if isinstance(sent.get("objects"), list) else []
    png = sent.get("png") if isinstance(sent.get("png"), str) else None
    return CanvasDrawing(json_data={"objects": objects}, png_data_url=png if objects else None)


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
    return canvas_stroke_count(result) == 0 or result.png_data_url is None  # no PNG decoded to say so


def clear_canvas(forget_result: bool = True) -> None:
    """Button callback: empty the canvas (in the browser, on this rerun) and forget the result.

    ``forget_result=False`` keeps the last result: on the Pipeline page it is another source
    than the canvas, and the page reads the canvas afresh on every run anyway.
    """
    st.session_state[CANVAS_CLEARS] = st.session_state.get(CANVAS_CLEARS, 0) + 1
    if forget_result:
        clear_results()
