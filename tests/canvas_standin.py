"""A stand-in for the drawing canvas component, which AppTest cannot run.

It returns what a test says the browser sent, and records the arguments the page gave it.
"""
from __future__ import annotations

import sys
import types
from typing import Any

import pytest


def drawing(strokes: int) -> dict:
    """The canvas's JSON for ``strokes`` drawn strokes."""
    return {"version": "6", "background": "#000000",
            "objects": [{"type": "Path", "path": [["M", i, 0], ["L", i, 9]]} for i in range(strokes)]}


class StandInResult:
    """What st_canvas returns: the drawing's JSON and its pixels (None before anything was sent)."""

    def __init__(self, json_data: dict | None, image_data: Any):
        self.json_data = json_data
        self.image_data = None if json_data is None else image_data


def install(monkeypatch: pytest.MonkeyPatch, image: Any = None) -> dict:
    """Put the stand-in in place of ``streamlit_drawable_canvas``.

    Returns ``{"drawing": ..., "calls": [...]}``: set ``drawing`` to what the browser sends next
    (None: the canvas's initial drawing); ``calls`` collects the keyword arguments of every call.
    The canvas's pixels are ``image`` (any object when the test does not read them).
    """
    sent: dict[str, Any] = {"drawing": None, "calls": []}
    pixels = object() if image is None else image

    def st_canvas(**kwargs):
        sent["calls"].append(kwargs)
        shown = sent["drawing"] if sent["drawing"] is not None else kwargs["initial_drawing"]
        return StandInResult(shown, pixels)

    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = st_canvas
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return sent
