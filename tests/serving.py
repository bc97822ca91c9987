"""Shared by the HTTP API tests: images as request bodies, a client, and what a refusal looks like."""
from __future__ import annotations

import base64
import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from mdr.serve.app import create_app
from mdr.serve.settings import ServeSettings
from tests.drawing import draw_number


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def make_client(settings: ServeSettings | None = None) -> TestClient:
    """A client of a new app; a failure inside the app is answered, not raised into the test."""
    return TestClient(create_app(settings or ServeSettings()), raise_server_exceptions=False)


def drawn_4071() -> bytes:
    """4071 drawn with strokes, dark on light, 900x300, as a canvas would send it."""
    return png(draw_number(list("4071"), dark_on_light=True))


def assert_refused(response, status: int, code: str, *words: str) -> dict:
    """A refusal: the status, JSON with a sentence and a code only, no traceback."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "code"} and body["code"] == code, body
    assert body["error"].endswith(".") and body["error"][0].isupper(), body["error"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    for word in words:
        assert word.lower() in body["error"].lower(), body["error"]
    return body
