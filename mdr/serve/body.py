"""A ``POST /recognize`` request read into image bytes and knobs, within the body-size limit.

Three forms: JSON ``{"image": "<base64>", ...knobs}``, a multipart upload in the field ``file``,
or the raw bytes of an image with an ``image/*`` (or ``application/octet-stream``) content type;
knobs may also be query parameters. The size limit is checked on Content-Length first and then on the bytes actually
read, so a client that sends no length, or a false one, is stopped as soon as it passes the limit.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from mdr.serve import knobs as knob_parsing
from mdr.serve.errors import ApiError
from mdr.serve.settings import ServeSettings

_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*;base64,", re.IGNORECASE)
_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]*$")


@dataclass
class ImageRequest:
    data: bytes
    """The encoded image (PNG, JPEG, ...), not decoded yet."""
    knobs: dict[str, Any]


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, "body_too_large",
                    f"The request body is {size / 1e6:.1f} MB or more; the limit is {limit / 1e6:.1f} MB. "
                    "Send a smaller image.")


DRAIN_FACTOR = 4
"""A body over the limit is still read (and dropped) up to this many times the limit, so that a
client that is still sending can read the 413 instead of finding the connection closed; a larger
one is cut off."""


async def _drain(request: Request, cap: int) -> None:
    read = 0
    async for chunk in request.stream():
        read += len(chunk)
        if read > cap:
            return


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError(400, "bad_request",
                           f"The Content-Length header '{declared[:40]}' is not a number.") from None
        if size > limit:
            if size <= DRAIN_FACTOR * limit:
                await _drain(request, DRAIN_FACTOR * limit)
            raise _too_large(size, limit)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > DRAIN_FACTOR * limit:
            break
        if total <= limit:
            chunks.append(chunk)
    if total > limit:
        raise _too_large(total, limit)
    return b"".join(chunks)


def decode_base64(text: str) -> bytes:
    """Bytes of a base64 string, with or without a ``data:...;base64,`` prefix; standard or URL-safe."""
    text = _DATA_URL.sub("", text.strip(), count=1)
    text = "".join(text.split())  # line breaks of wrapped base64
    if not text:
        raise ApiError(400, "empty_body", "The 'image' field is empty: send a base64 PNG in it.")
    if not _BASE64_CHARS.match(text):
        raise ApiError(400, "bad_base64", "The 'image' field is not base64: it holds characters "
                       "other than letters, digits, '+', '/', '-', '_' and '='.")
    text = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApiError(400, "bad_base64", f"The 'image' field is not valid base64 ({error}).") from None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_image_request(request: Request, settings: ServeSettings) -> ImageRequest:
    """Image bytes and knobs from any of the three forms, or an ApiError that says what is wrong."""
    media = _media_type(request)
    body = await read_body(request, settings.max_body_bytes)
    if not body:
        raise ApiError(400, "empty_body", "The request body is empty: send an image.")
    raw = media.startswith("image/") or media == "application/octet-stream"
    if media not in ("application/json", "multipart/form-data") and not raw:
        shown = f"The content type '{media}'" if media else "A request without a content type"
        hint = (" (curl sends form data unless told -H 'Content-Type: image/png')"
                if media == "application/x-www-form-urlencoded" else "")
        raise ApiError(415, "unsupported_media_type",
                       f"{shown} is not accepted: send JSON with a base64 'image', a multipart form with "
                       f"the image in 'file', or the image bytes as image/png or image/jpeg{hint}.")
    query = knob_parsing.parse_query_knobs(request.query_params.multi_items())
    if media == "application/json":
        try:
            data = json.loads(body)
        except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ApiError(400, "bad_json", f"The body is not valid JSON ({error}).") from None
        except RecursionError:
            raise ApiError(400, "bad_json", "The JSON body is nested too deeply to read: send "
                           "{\"image\": \"<base64 PNG>\"}.") from None
        parsed = knob_parsing.parse_json_request(data)
        return ImageRequest(decode_base64(parsed.image), knob_parsing.merge(query, parsed))
    if media == "multipart/form-data":
        return ImageRequest(await _uploaded_file(request, body, settings), knob_parsing.merge(query))
    return ImageRequest(body, knob_parsing.merge(query))


async def _uploaded_file(request: Request, body: bytes, settings: ServeSettings) -> bytes:
    """The bytes of the multipart field ``file``, parsed from the body already read."""
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form_request = Request(request.scope, replay)
    try:
        form = await form_request.form(max_files=4, max_fields=50, max_part_size=settings.max_body_bytes)
    except MultiPartException as error:
        raise ApiError(400, "bad_request", f"The multipart form cannot be read ({error}).") from None
    try:
        keys = [key for key in form.keys() if key != "file"]
        if keys:
            raise ApiError(422, "invalid_field",
                           f"The form field '{keys[0]}' is not accepted: put the image in 'file' and knobs "
                           "in the query string (for example /recognize?precision=fp32).")
        upload = form.get("file")
        if upload is None:
            raise ApiError(400, "missing_file", "The multipart form has no field 'file': upload the image as 'file'.")
        if not isinstance(upload, UploadFile):
            raise ApiError(400, "missing_file", "The form field 'file' holds text, not an uploaded image file.")
        return await upload.read()
    finally:
        await form.close()
