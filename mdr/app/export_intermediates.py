"""Everything one recognition produced, as a zip: a PNG per intermediate and one JSON.

The zip holds the same pictures the Pipeline page shows, numbered by step,
and ``recognition.json`` with the boxes, every decision and its reason, the
probabilities and the time each stage took, so a reading can be examined (or
reported) away from the app.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict
from typing import Any

import numpy as np
from PIL import Image

from mdr.app import pipeline_pictures as pp
from mdr.app.pipeline_steps import last_step_reached
from mdr.recognition.config import RecognizerConfig
from mdr.recognition.results import Recognition

JSON_NAME = "recognition.json"


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 (or 0..1 float) grey/RGB/RGBA array as PNG bytes."""
    image = pp.to_uint8(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 2:
        image = pp.to_rgb(image)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def intermediate_pictures(recognition: Recognition, image: np.ndarray | None = None,
                          stopped: bool = False) -> dict[str, np.ndarray]:
    """File name -> picture, for every step the recognition reached."""
    reached = last_step_reached(recognition, stopped)
    pictures: dict[str, np.ndarray] = {}
    if image is not None:
        pictures["01_original.png"] = np.asarray(image)
    if reached >= 1:
        pictures["01_greyscale.png"] = recognition.grey
    if reached >= 2:
        pictures["02_polarity_ink.png"] = recognition.ink
    if reached >= 3:
        pictures["03_binarization_mask.png"] = recognition.mask
        pictures["04_components.png"] = pp.components_picture(recognition)
        pictures["05_specks.png"] = pp.specks_picture(recognition)
    if reached >= 6:
        pictures["06_merges.png"] = pp.merges_picture(recognition)
        for n, decision in enumerate(recognition.splits, start=1):
            pictures[f"07_split_{n:02d}.png"] = pp.split_picture(recognition, decision)
        pictures["08_reading_order.png"] = pp.reading_order_picture(recognition)
        for n, digit in enumerate(recognition.digits, start=1):
            steps = digit.steps
            pictures[f"09_digit_{n:02d}_1_crop.png"] = steps.crop
            pictures[f"09_digit_{n:02d}_2_stroke_adjusted.png"] = steps.stroke_adjusted
            pictures[f"09_digit_{n:02d}_3_resized.png"] = steps.resized
            pictures[f"09_digit_{n:02d}_4_final_28x28.png"] = steps.final
            pictures[f"09_digit_{n:02d}_5_final_grid.png"] = pp.final_grid_picture(
                steps.final, steps.center_of_mass_shift)
    return pictures


def _number(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return round(value, 6) if np.isfinite(value) else None  # JSON has no infinity
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def recognition_record(recognition: Recognition, config: RecognizerConfig | None = None,
                       error: str | None = None, stopped: bool = False) -> dict[str, Any]:
    """Everything about the recognition that is not a picture, as JSON-ready data."""
    reached = last_step_reached(recognition, stopped)
    record: dict[str, Any] = {
        "number": recognition.number,
        "error": error,
        "steps_reached": reached,
        "model": recognition.model_name,
        "precision": recognition.precision,
        "config": {k: _number(v) for k, v in asdict(config).items()} if config is not None else None,
        "original_shape": [int(v) for v in recognition.original_shape],
        "scale": _number(recognition.scale),
        "working_shape": [int(v) for v in np.asarray(recognition.grey).shape],
        "polarity": None,
        "binarization": None,
        "stroke_width": _number(recognition.stroke_width),
        "digit_height": _number(recognition.digit_height),
        "components": [],
        "merges": [],
        "splits": [],
        "lines": [[int(i) for i in line] for line in recognition.lines],
        "digits": [],
        "timings_ms": {k: _number(v) for k, v in recognition.timings_ms.items()},
        "total_ms": _number(recognition.total_ms),
        "boxes_are_in": "components, merges and splits: working-image pixels; digits: original pixels",
    }
    if recognition.polarity is not None:
        p = recognition.polarity
        record["polarity"] = {"inverted": bool(p.inverted), "border_median": _number(p.border_median),
                              "image_median": _number(p.image_median), "reason": p.reason}
    if recognition.binarization is not None:
        b = recognition.binarization
        record["binarization"] = {"method": b.method, "threshold": _number(b.threshold),
                                  "ink_fraction": _number(b.ink_fraction)}
    record["components"] = [{"label": int(c.label), "box": [int(v) for v in c.box], "area": int(c.area),
                             "kept": bool(c.kept), "reason": c.reason} for c in recognition.components]
    record["merges"] = [{"parts": [int(v) for v in m.parts], "overlap": _number(m.overlap),
                         "height_ratio": _number(m.height_ratio), "joined": bool(m.joined),
                         "read_together": None if m.read_together is None else _number(m.read_together),
                         "reason": m.reason} for m in recognition.merges]
    record["splits"] = [{
        "box": [int(v) for v in s.box], "whole_score": _number(s.whole_score),
        "chosen": pp.chosen_cuts(s), "score": _number(getattr(s, "score", None)), "reason": s.reason,
        "candidates": [{"cut_x": int(c.cut_x), "source": c.source, "score": _number(c.score),
                        "pieces": [int(v) for v in c.pieces], "reject": [_number(r) for r in c.reject]}
                       for c in s.candidates],
        "whole_reject": _number(s.whole_reject),
    } for s in recognition.splits]
    for digit in recognition.digits:
        steps = digit.steps
        record["digits"].append({
            "digit": int(digit.digit), "confidence": _number(digit.confidence),
            "box": [int(v) for v in digit.box], "line": int(digit.line),
            "top3": [[int(d), _number(p)] for d, p in digit.top3],
            "probabilities": [_number(p) for p in np.asarray(digit.probabilities, float)],
            "low_confidence": bool(digit.low_confidence), "reject": _number(digit.reject),
            "stroke_width": _number(steps.stroke_width),
            "stroke_adjusted": pp.stroke_adjusted_changed(digit),
            "center_of_mass_shift": [_number(v) for v in steps.center_of_mass_shift],
        })
    return record


def export_zip(recognition: Recognition, image: np.ndarray | None = None,
               config: RecognizerConfig | None = None, error: str | None = None,
               stopped: bool = False) -> bytes:
    """The zip's bytes: ``NN_*.png`` per intermediate and :data:`JSON_NAME`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, picture in intermediate_pictures(recognition, image, stopped).items():
            archive.writestr(name, png_bytes(picture))
        record = recognition_record(recognition, config, error, stopped)
        archive.writestr(JSON_NAME, json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False))
    return buffer.getvalue()
