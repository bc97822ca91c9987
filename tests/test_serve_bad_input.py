"""The HTTP API refuses bad input with a 4xx JSON sentence, in every request form; never a traceback."""
from __future__ import annotations

import collections
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mdr.serve.app import create_app
from mdr.serve.settings import ServeSettings
from tests.drawing import draw_number
from tests.fuzzing import files
from tests.serving import assert_refused, b64, make_client, png

SEED = 20240601


@pytest.fixture(scope="module")
def bad_images(drawn) -> dict[str, bytes]:
    huge = io.BytesIO()
    Image.new("1", (20000, 20000)).save(huge, format="PNG")  # 400 megapixels in a small file
    return {"text": b"this is not an image at all", "truncated": drawn[:300], "huge": huge.getvalue(),
            "blank": png(np.full((250, 600), 255, np.uint8)), "speck": png(_speck())}


def _speck() -> np.ndarray:
    image = np.full((250, 600), 255, np.uint8)
    image[120:124, 300:304] = 0
    return image


@pytest.mark.parametrize("name, status, code, words", [
    ("text", 400, "invalid_image", ["not an image"]),
    ("truncated", 400, "invalid_image", ["truncated"]),
    ("huge", 413, "image_too_large", ["20000x20000", "megapixels"]),
    ("blank", 422, "nothing_to_read", ["nothing to read"]),
    ("speck", 422, "nothing_to_read", ["nothing to read"]),
])
@pytest.mark.parametrize("form", ["json", "multipart", "raw"])
def test_bad_images_are_refused_in_every_form(client, bad_images, name, status, code, words, form):
    data = bad_images[name]
    if form == "json":
        answer = client.post("/recognize", json={"image": b64(data)})
    elif form == "multipart":
        answer = client.post("/recognize", files={"file": ("x.png", data, "image/png")})
    else:
        answer = client.post("/recognize", content=data, headers={"Content-Type": "image/png"})
    assert_refused(answer, status, code, *words)


@pytest.mark.parametrize("content, media, status, code, words", [
    (b"", "application/json", 400, "empty_body", ["empty"]),
    (b"", "image/png", 400, "empty_body", ["empty"]),
    (b"", None, 400, "empty_body", ["empty"]),
    (b"{\"image\": ", "application/json", 400, "bad_json", ["not valid json"]),
    (b"[1, 2]", "application/json", 400, "bad_json", ["object"]),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "bad_json", ["nested too deeply"]),
    (b"\xff\xfe{", "application/json", 400, "bad_json", ["not valid json"]),
    (b"{}", "application/json", 422, "invalid_field", ["image", "missing"]),
    (b"{\"image\": 42}", "application/json", 422, "invalid_field", ["image", "string"]),
    (b"{\"image\": \"\"}", "application/json", 400, "empty_body", ["image", "empty"]),
    (b"{\"image\": \"***not base64***\"}", "application/json", 400, "bad_base64", ["not base64"]),
    (b"{\"image\": \"abcde\"}", "application/json", 400, "bad_base64", ["not valid base64"]),
    (b"{\"image\": \"aGVsbG8gd29ybGQ=\"}", "application/json", 400, "invalid_image", ["not an image"]),
    (b"hello", "text/plain", 415, "unsupported_media_type", ["text/plain", "image/png"]),
    (b"hello", None, 415, "unsupported_media_type", ["without a content type"]),
    (b"\x89PNG", "application/x-www-form-urlencoded", 415, "unsupported_media_type", ["Content-Type: image/png"]),
    (b"--x\r\nbroken", "multipart/form-data; boundary=x", 400, "missing_file", ["'file'"]),
    (b"--x\r\nbroken", "multipart/form-data", 400, "bad_request", ["multipart", "boundary"]),
])
def test_malformed_bodies_are_refused(client, content, media, status, code, words):
    headers = {"Content-Type": media} if media else {}
    assert_refused(client.post("/recognize", content=content, headers=headers), status, code, *words)


def test_generated_odd_files_get_a_reading_or_a_4xx_sentence(client):
    """Files of every kind (formats, modes, sizes, damage) from tests/fuzzing.py: never a 500."""
    outcomes = collections.Counter()
    for label, data in files(SEED, 120):
        answer = client.post("/recognize", content=data, headers={"Content-Type": "application/octet-stream"})
        if answer.status_code == 200:
            outcomes["read"] += 1
            assert isinstance(answer.json()["number"], str), label
            continue
        body = assert_refused(answer, answer.status_code, answer.json().get("code", "?"))
        assert 400 <= answer.status_code < 500, (label, body)
        outcomes[body["code"]] += 1
    assert {"read", "invalid_image", "nothing_to_read"} <= set(outcomes), outcomes


def test_multipart_without_file_field_is_refused(client, drawn):
    answer = client.post("/recognize", files={"image": ("n.png", drawn, "image/png")})
    assert_refused(answer, 422, "invalid_field", "'image'", "'file'")
    answer = client.post("/recognize", files={"file": (None, b"text, not a file")})
    assert_refused(answer, 400, "missing_file", "holds text")
    answer = client.post("/recognize", data={"file": "text"}, headers={})
    assert_refused(answer, 415, "unsupported_media_type")


@pytest.fixture(scope="module")
def small_client() -> TestClient:
    return make_client(ServeSettings(max_body_bytes=50_000))


def test_body_over_the_limit_is_refused_by_content_length(small_client):
    answer = small_client.post("/recognize", content=b"\x89PNG" + bytes(60_000), headers={"Content-Type": "image/png"})
    assert_refused(answer, 413, "body_too_large", "limit is 0.1 MB")


def test_body_over_the_limit_is_refused_while_reading_without_content_length(small_client):
    def chunks():
        for _ in range(20):
            yield bytes(10_000)

    answer = small_client.post("/recognize", content=chunks(), headers={"Content-Type": "image/png"})
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    assert_refused(answer, 413, "body_too_large")


def test_json_over_the_limit_is_refused(small_client):
    answer = small_client.post("/recognize", json={"image": "A" * 60_000})
    assert_refused(answer, 413, "body_too_large")


def test_a_body_under_the_limit_is_still_read(small_client, drawn):
    assert len(drawn) < 50_000
    answer = small_client.post("/recognize", content=drawn, headers={"Content-Type": "image/png"})
    assert answer.json()["number"] == "4071"


def test_server_pixel_limit_is_a_setting():
    limited = make_client(ServeSettings(max_pixels=100_000))
    big = png(draw_number(list("47"), dark_on_light=True, size=(400, 900)))
    assert_refused(limited.post("/recognize", content=big, headers={"Content-Type": "image/png"}),
                   413, "image_too_large", "limit is 0 megapixels")


def test_unexpected_failure_is_a_json_500_without_traceback(monkeypatch, drawn):
    app = create_app(ServeSettings())

    def broken(*_):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(app.state.engine, "read", broken)
    answer = TestClient(app, raise_server_exceptions=False).post("/recognize", json={"image": b64(drawn)})
    body = assert_refused(answer, 500, "internal_error", "RuntimeError")
    assert "secret" not in body["error"]


def test_unknown_route_and_wrong_method_answer_json(client):
    assert_refused(client.get("/nowhere"), 404, "not_found", "/docs")
    assert_refused(client.get("/recognize"), 405, "method_not_allowed")
    assert_refused(client.get("/static/missing.js"), 404, "not_found")
