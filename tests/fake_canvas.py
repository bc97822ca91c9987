"""A stand-in for the drawing canvas under AppTest, which cannot run the browser's component.

It answers as the browser would: the drawing a test says was drawn, with the Clear count the
browser had received on the previous run (the browser hears of a Clear only when the run that
handled it ends), and records the data the page gave the canvas.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from mdr.app import canvas_input


def drawing(strokes: int) -> list[dict]:
    """``strokes`` strokes as the canvas reports them (their shapes do not matter to the page)."""
    return [{"type": "path", "width": 18, "points": [[i, 0], [i, 9]]} for i in range(strokes)]


def png_data_url(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def install(monkeypatch) -> dict:
    """Put the stand-in in place; a test sets "drawing" (strokes) and "image"; "calls" records
    (data, key) of each run."""
    sent = {"drawing": None, "drawn_with": 0, "image": np.zeros((4, 4, 4), np.uint8), "calls": [],
            "clears_seen": 0}

    def mount(data, key):
        sent["calls"].append({"data": dict(data), "key": key})
        sent["clears_seen"] = data["clears"]  # what the browser knows once this run ends
        if sent["drawing"] is None:
            return None
        objects = sent["drawing"]
        return {"objects": objects, "clears": sent["drawn_with"],
                "png": png_data_url(sent["image"]) if objects else None}

    monkeypatch.setattr(canvas_input, "_mount", mount)
    return sent


def browser_draws(sent: dict, strokes: int, image: np.ndarray | None = None) -> None:
    """The browser sends a drawing of ``strokes`` strokes, made after every Clear it has seen."""
    sent["drawing"] = drawing(strokes)
    sent["drawn_with"] = sent["clears_seen"]
    if image is not None:
        sent["image"] = image
