"""A request's knobs, checked, turned into the :class:`RecognizerConfig` it is read with.

JSON bodies are checked strictly (``"split_enabled": "yes"`` is refused); query parameters
arrive as text and are converted (``?split_enabled=false&split_sensitivity=1.5``). Every
refusal is an :class:`ApiError` whose message names the knob and says what it accepts.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from mdr.recognition.config import DEFAULT_CONFIG, RecognizerConfig
from mdr.serve.errors import ApiError
from mdr.serve.schemas import Knobs, RecognizeRequest
from mdr.serve.settings import ServeSettings

KNOB_NAMES = list(Knobs.model_fields)


def _sentence(error: ValidationError, what: str) -> str:
    """The first problem pydantic found, as a sentence that names the field."""
    problem = error.errors(include_url=False)[0]
    name = ".".join(str(part) for part in problem.get("loc", ())) or what
    kind = problem.get("type", "")
    if kind == "extra_forbidden":
        return f"Unknown {what} '{name}': the knobs are {', '.join(KNOB_NAMES)}."
    if kind == "missing":
        return f"The field '{name}' is missing: send the image as base64 in '{name}'."
    message = str(problem.get("msg", "is invalid"))
    message = message[0].lower() + message[1:] if message else "is invalid"
    shown = repr(problem.get("input"))
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"The {what} '{name}' is invalid: {message} (got {shown})."


def parse_json_request(data: Any) -> RecognizeRequest:
    """The JSON body's image and knobs, or an ApiError saying what is wrong with them."""
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "The JSON body must be an object such as {\"image\": \"<base64 PNG>\"}.")
    try:
        return RecognizeRequest.model_validate(data, strict=True)
    except ValidationError as error:
        what = "knob" if error.errors()[0].get("loc", ("",))[0] != "image" else "field"
        raise ApiError(422, "invalid_field", _sentence(error, what)) from None


def parse_query_knobs(items: Iterable[tuple[str, str]]) -> Knobs:
    """Knobs given as query parameters; each may be given once."""
    values: dict[str, str] = {}
    for key, value in items:
        if key in values:
            raise ApiError(422, "invalid_field", f"The knob '{key}' is given more than once.")
        values[key] = value
    try:
        return Knobs.model_validate(values)
    except ValidationError as error:
        raise ApiError(422, "invalid_field", _sentence(error, "knob")) from None


def merge(*sources: BaseModel) -> dict[str, Any]:
    """The knobs set in any of ``sources``; a knob set in two of them is refused."""
    chosen: dict[str, Any] = {}
    for source in sources:
        for name in KNOB_NAMES:
            value = getattr(source, name, None)
            if value is None:
                continue
            if name in chosen:
                raise ApiError(422, "invalid_field",
                               f"The knob '{name}' is given both in the query and in the body: give it once.")
            chosen[name] = value
    return chosen


def to_config(knobs: dict[str, Any], settings: ServeSettings) -> RecognizerConfig:
    """The recognizer's config for a request: the server's limit, then the request's knobs."""
    limit = settings.max_pixels
    asked = knobs.get("max_input_pixels")
    if asked is not None and asked > limit:
        raise ApiError(422, "invalid_field",
                       f"The knob 'max_input_pixels' cannot be raised above the server's limit of {limit} "
                       f"pixels (got {asked}).")
    base = replace(DEFAULT_CONFIG, max_input_pixels=limit)
    return replace(base, **knobs) if knobs else base


def config_fields_without_knob() -> list[str]:
    """RecognizerConfig fields that a request cannot set (expected: none)."""
    return [name for name in RecognizerConfig.knob_names() if name not in KNOB_NAMES]
