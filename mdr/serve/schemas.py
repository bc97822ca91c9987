"""Request and response models of the HTTP API; their descriptions are the OpenAPI docs at /docs.

The knobs mirror :class:`mdr.RecognizerConfig` field for field (a test checks that none is
missing), with the bounds a request may choose within.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from mdr.recognition.config import DEFAULT_CONFIG as D


class Knobs(BaseModel):
    """Optional settings of the recognizer for one request; an omitted knob keeps its default."""

    model_config = ConfigDict(extra="forbid")

    max_input_pixels: Optional[int] = Field(
        None, ge=1, description="Refuse images with more pixels than this (read from the header). "
        f"Default {D.max_input_pixels}; it cannot be raised above the server's limit.")
    work_max_side: Optional[int] = Field(
        None, ge=64, le=10_000, description="Larger images are downscaled so that their longer side "
        f"is this long before reading. Default {D.work_max_side}.")
    work_digit_height: Optional[int] = Field(
        None, ge=0, le=4096, description="Drawings whose tallest mark is taller than this are "
        f"downscaled until it is this tall; 0 switches it off. Default {D.work_digit_height}.")
    binarization: Optional[Literal["otsu", "fixed", "adaptive"]] = Field(
        None, description=f"How ink is told from background. Default '{D.binarization}'.")
    fixed_threshold: Optional[int] = Field(
        None, ge=0, le=255, description="Threshold on the 0..255 ink image when binarization is "
        f"'fixed'. Default {D.fixed_threshold}.")
    min_contrast: Optional[int] = Field(
        None, ge=0, le=255, description="Below this grey-level spread the image counts as blank. "
        f"Default {D.min_contrast}.")
    min_speck_size: Optional[float] = Field(
        None, ge=0, le=1, description="A mark smaller than this fraction of the typical digit "
        f"height is a speck and is dropped. Default {D.min_speck_size}.")
    merge_overlap: Optional[float] = Field(
        None, ge=0, le=1, description="Horizontal overlap (fraction of the narrower part) above "
        f"which a partial stroke joins the digit it overlaps. Default {D.merge_overlap}.")
    split_enabled: Optional[bool] = Field(
        None, description=f"Cut marks that hold several touching digits. Default {str(D.split_enabled).lower()}.")
    split_sensitivity: Optional[float] = Field(
        None, gt=0, le=10, description="Higher splits more eagerly: a part is a split candidate "
        f"when its width/height exceeds 1.15 / split_sensitivity. Default {D.split_sensitivity}.")
    max_ink_fraction: Optional[float] = Field(
        None, gt=0, le=1, description="An image whose ink covers more than this fraction is "
        f"refused as all ink. Default {D.max_ink_fraction}.")
    normalize_stroke: Optional[bool] = Field(
        None, description="Thin or thicken each digit's strokes to MNIST's width before reading. "
        f"Default {str(D.normalize_stroke).lower()}.")
    target_stroke: Optional[float] = Field(
        None, gt=0, le=10, description="Stroke width, in pixels of the 28x28 model input, that "
        f"strokes are normalized to. Default {D.target_stroke}.")
    precision: Optional[Literal["int8", "fp32"]] = Field(
        None, description=f"Which model file reads the digits. Default '{D.precision}'.")
    low_confidence: Optional[float] = Field(
        None, ge=0, le=1, description="Digits below this confidence are flagged as uncertain. "
        f"Default {D.low_confidence}.")


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


class RecognizeResponse(BaseModel):
    number: str = Field(..., description="The digits in reading order; several lines are joined by a newline.")
    digits: list[DigitOut] = Field(..., description="Each digit in reading order.")
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
