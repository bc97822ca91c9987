"""Request and response models of the HTTP API; their descriptions are the OpenAPI docs at /docs.

The knobs mirror :class:`mdr.RecognizerConfig` field for field (a test checks that none is
missing), with the bounds a request may choose within; they are listed in knobs.json.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from mdr.recognition.config import DEFAULT_CONFIG as D


KNOB_FILE = Path(__file__).with_name("knobs.json")
_TYPES = {"int": int, "float": float, "bool": bool}


def _default_words(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"'{value}'" if isinstance(value, str) else str(value)


def _knob_fields() -> dict[str, Any]:
    """Each knob from knobs.json: its type, bounds and description, and the default it keeps."""
    fields = {}
    for name, spec in json.loads(KNOB_FILE.read_text()).items():
        kind = Literal[tuple(spec["choices"])] if spec["type"] == "choice" else _TYPES[spec["type"]]
        bounds = {k: spec[k] for k in ("ge", "gt", "le", "lt") if k in spec}
        after = spec.get("after_default", "")
        description = (f"{spec['description']} Default {_default_words(getattr(D, name))}"
                       f"{after if after.startswith(';') else ''}.")
        fields[name] = (Optional[kind], Field(None, description=description, **bounds))
    return fields


Knobs = create_model("Knobs", __config__=ConfigDict(extra="forbid"), **_knob_fields())
Knobs.__doc__ = "Optional settings of the recognizer for one request; an omitted knob keeps its default."


class RecognizeRequest(Knobs):
    """A JSON request: the image as base64, and any knobs next to it."""

    image: str = Field(..., description="The image as base64 (PNG, JPEG or any format Pillow reads), "
                       "with or without a 'data:image/png;base64,' prefix.")


class DigitOut(BaseModel):
    digit: int = Field(..., ge=0, le=9, description="The digit read.")
    confidence: float = Field(..., description="The model's probability of that digit, 0..1.")
    box: list[int] = Field(..., min_length=4, max_length=4,
                           description="Where the digit is: x, y, width, height in pixels of the image sent.")
    line: int = Field(..., description="Which line of the drawing the digit is on, from 0 at the top.")
    top3: list[tuple[int, float]] = Field(
        ..., description="The three most probable digits with their probabilities, best first.")
    low_confidence: bool = Field(..., description="True when the confidence is below the low_confidence knob.")


class AlternativeOut(BaseModel):
    number: str = Field(..., description="Another reading of the whole number, lines joined by a newline.")
    positions: list[int] = Field(..., description="Indices into digits of the digits this reading replaces.")
    digits: str = Field(..., description="What replaces them (empty: they are dropped).")
    odds: float = Field(..., description="How likely this reading is against the one given: near 1, nearly "
                        "as likely.")
    kind: str = Field(..., description="'second choice' (one digit read as the model's second choice), "
                      "'one more digit' or 'one digit fewer' (touching digits read again by the strip "
                      "reader), 'not a digit' (a mark the model takes for no digit, dropped).")
    why: str = Field(..., description="The change in a sentence, for a person.")


class AdviceOut(BaseModel):
    kind: str = Field(..., description="'touching' (digits cut apart without much certainty: leave space "
                                       "between them) or 'thick brush' (a brush thick for the digits' size).")
    message: str = Field(..., description="What to do for a better reading, as a sentence for a person.")


class RecognizeResponse(BaseModel):
    number: str = Field(..., description="The digits in reading order; several lines are joined by a newline.")
    digits: list[DigitOut] = Field(..., description="Each digit in reading order.")
    alternatives: list[AlternativeOut] = Field(
        ..., description="Up to three other likely readings, most likely first: offer them as one-click "
        "corrections ('did you mean').")
    advice: list[AdviceOut] = Field(
        default_factory=list, description="What the person drawing can do for a better reading, when the "
        "drawing calls for it (most readings: none).")
    ms: float = Field(..., description="Milliseconds the server spent decoding and reading the image.")
    model: str = Field(..., description="The registered model that read it.")
    precision: str = Field(..., description="The model file used: int8 or fp32.")


class ErrorResponse(BaseModel):
    error: str = Field(..., description="What went wrong, as a sentence for a person.")
    code: str = Field(..., description="The kind of problem, for programs: empty_body, body_too_large, "
                      "bad_json, bad_base64, invalid_image, image_too_large, invalid_field, "
                      "unsupported_media_type, missing_file, nothing_to_read, not_found, "
                      "method_not_allowed, model_unavailable, internal_error.")


class HealthResponse(BaseModel):
    status: Literal["ok"] = Field(..., description="Always 'ok' when the service answers.")
    model: str = Field(..., description="The model that reads requests now.")
    active: str = Field(..., description="The model named in the registry's active.json.")
    warning: Optional[str] = Field(None, description="Why the serving model differs from the active one, if it does.")
    loads: int = Field(..., description="How often this process loaded a model (1 at start-up, "
                       "one more for each activation or rewritten model file noticed).")
    pid: int = Field(..., description="The worker process that answered.")
    uptime_s: float = Field(..., description="Seconds since the worker started.")


class ModelRow(BaseModel):
    name: str = Field(..., description="The model's registered name.")
    active: bool = Field(..., description="True for the model named in active.json.")
    serving: bool = Field(..., description="True for the model this process reads requests with.")
    arch: Optional[str] = Field(None, description="Network architecture from the model card.")
    acc_int8: Optional[float] = Field(None, description="int8 accuracy on the 10,000 MNIST test digits, 0..1.")
    acc_fp32: Optional[float] = Field(None, description="fp32 accuracy on the 10,000 MNIST test digits, 0..1.")
    int8_bytes: Optional[int] = Field(None, description="Size of the int8 model file in bytes.")
    created: Optional[str] = Field(None, description="When the model was trained (from its card).")
    problem: Optional[str] = Field(None, description="Why the model cannot be used, if it cannot.")


class ModelsResponse(BaseModel):
    active: str = Field(..., description="The model named in active.json.")
    serving: str = Field(..., description="The model this process reads requests with.")
    models: list[ModelRow] = Field(..., description="Every registered model with its figures.")
