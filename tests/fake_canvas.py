"""A stand-in for the drawing canvas under AppTest, which cannot run the real component.

It returns what a test says the browser sent (a drawing, and optionally the canvas picture) and
records the arguments the page gave the canvas.
"""
from __future__ import annotations

import sys
import types

import numpy as np


def drawing(strokes: int) -> dict:
    """The canvas's JSON for ``strokes`` strokes (their shapes do not matter to the page)."""
    return {"version": "6", "background": "#000000",
            "objects": [{"type": "Path", "path": [["M", i, 0], ["L", i, 9]]} for i in range(strokes)]}


class FakeResult:
    def __init__(self, json_data, image):
        self.json_data = json_data
        self.image_data = None if json_data is None else image


def install(monkeypatch) -> dict:
    """Put the stand-in in place; returns what the browser sends ("drawing", "image") and "calls"."""
    sent = {"drawing": None, "image": np.zeros((4, 4, 4), np.uint8), "calls": []}

    def st_canvas(**kwargs):
        sent["calls"].append(kwargs)
        shown = sent["drawing"] if sent["drawing"] is not None else kwargs["initial_drawing"]
        return FakeResult(shown, sent["image"])

    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = st_canvas
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return sent
