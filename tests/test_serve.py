"""The HTTP API through FastAPI's TestClient: every route, every request form, every bad input."""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mdr.data.synth import make_set
from mdr.models import registry
from mdr.recognition.config import RecognizerConfig
from mdr.serve import knobs
from mdr.serve.app import create_app
from mdr.serve.settings import ServeSettings, SettingsError
from tests.drawing import draw_number

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = registry.SHIPPED_MODEL


def png(image: np.ndarray, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", **save)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(ServeSettings()), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def samples() -> list[tuple[bytes, str]]:
    """Canvas-like numbers of MNIST test digits, as PNG bytes with their truth."""
    return [(png(s.image), s.number) for s in make_set("spaced-thin", 6, seed=11)]


@pytest.fixture(scope="module")
def drawn() -> bytes:
    """4071 drawn with strokes, dark on light, as a canvas would send it."""
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


# --------------------------------------------------------------------------
# The three request forms
# --------------------------------------------------------------------------
def test_json_base64_canvases_are_read_as_their_numbers(client, samples):
    answers = [client.post("/recognize", json={"image": b64(data)}) for data, _ in samples]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    right = sum(a.json()["number"] == truth for a, (_, truth) in zip(answers, samples))
    assert right >= 5, [(a.json()["number"], truth) for a, (_, truth) in zip(answers, samples)]


def test_data_url_prefix_is_accepted_as_the_page_sends_it(client, drawn):
    answer = client.post("/recognize", json={"image": "data:image/png;base64," + b64(drawn)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["number"] == "4071"


def test_wrapped_and_url_safe_base64_is_accepted(client, drawn):
    text = b64(drawn)
    wrapped = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    url_safe = base64.urlsafe_b64encode(drawn).decode().rstrip("=")
    for image in (wrapped, url_safe):
        assert client.post("/recognize", json={"image": image}).json()["number"] == "4071"


def test_multipart_upload_in_field_file_is_read(client, samples):
    data, truth = samples[0]
    answer = client.post("/recognize", files={"file": ("number.png", data, "image/png")})
    assert answer.status_code == 200, answer.text
    assert answer.json()["number"] == truth


def test_raw_image_bytes_are_read(client, samples):
    data, truth = samples[1]
    for media in ("image/png", "application/octet-stream"):
        answer = client.post("/recognize", content=data, headers={"Content-Type": media})
        assert answer.status_code == 200, answer.text
        assert answer.json()["number"] == truth


def test_jpeg_is_read_too(client):
    buffer = io.BytesIO()
    Image.fromarray(draw_number(list("4071"), dark_on_light=True)).save(buffer, format="JPEG", quality=90)
    answer = client.post("/recognize", content=buffer.getvalue(), headers={"Content-Type": "image/jpeg"})
    assert answer.json()["number"] == "4071"


def test_answer_has_each_digit_with_box_line_and_top3(client, drawn):
    body = client.post("/recognize", json={"image": b64(drawn)}).json()
    assert set(body) == {"number", "digits", "ms", "model", "precision"}
    assert body["model"] == registry.active_model_name() and body["precision"] == "int8" and body["ms"] > 0
    assert [d["digit"] for d in body["digits"]] == [4, 0, 7, 1]
    xs = []
    for digit in body["digits"]:
        x, y, w, h = digit["box"]
        assert 0 <= x and 0 <= y and x + w <= 900 and y + h <= 300 and w > 0 and h > 0
        assert digit["line"] == 0 and 0 < digit["confidence"] <= 1
        assert digit["top3"][0] == [digit["digit"], digit["confidence"]]
        assert [p for _, p in digit["top3"]] == sorted((p for _, p in digit["top3"]), reverse=True)
        assert digit["low_confidence"] == (digit["confidence"] < RecognizerConfig().low_confidence)
        xs.append(x)
    assert xs == sorted(xs)


def test_two_rows_come_back_as_two_lines(client):
    canvas = np.full((560, 900), 255, np.uint8)
    canvas[:280] = draw_number(list("47"), dark_on_light=True, size=(280, 900), origin=(60, 60))
    canvas[280:] = draw_number(list("10"), dark_on_light=True, size=(280, 900), origin=(60, 60))
    body = client.post("/recognize", content=png(canvas), headers={"Content-Type": "image/png"}).json()
    assert body["number"] == "47\n10"
    assert [d["line"] for d in body["digits"]] == [0, 0, 1, 1]


# --------------------------------------------------------------------------
# Knobs
# --------------------------------------------------------------------------
def test_knobs_next_to_the_image_change_the_reading(client, drawn):
    body = client.post("/recognize", json={"image": b64(drawn), "precision": "fp32"}).json()
    assert body["precision"] == "fp32" and body["number"] == "4071"
    refused = client.post("/recognize", json={"image": b64(drawn), "max_input_pixels": 1000})
    assert_refused(refused, 413, "image_too_large", "900x300")
    all_ink = client.post("/recognize", json={"image": b64(drawn), "max_ink_fraction": 0.01})
    assert_refused(all_ink, 422, "nothing_to_read", "of the image is ink")


def test_knobs_as_query_parameters_apply_to_raw_and_multipart(client, drawn):
    raw = client.post("/recognize?precision=fp32&split_enabled=false", content=drawn,
                      headers={"Content-Type": "image/png"})
    assert raw.json()["precision"] == "fp32"
    upload = client.post("/recognize?max_input_pixels=1000", files={"file": ("n.png", drawn, "image/png")})
    assert_refused(upload, 413, "image_too_large")


@pytest.mark.parametrize("extra, words", [
    ({"colour": "red"}, ["unknown knob", "colour", "split_sensitivity"]),
    ({"split_sensitivity": -1}, ["split_sensitivity", "greater than 0"]),
    ({"split_sensitivity": "high"}, ["split_sensitivity"]),
    ({"split_enabled": "yes"}, ["split_enabled", "boolean"]),
    ({"work_max_side": 1.5}, ["work_max_side"]),
    ({"binarization": "magic"}, ["binarization", "otsu"]),
    ({"precision": "int4"}, ["precision", "int8"]),
    ({"low_confidence": 2}, ["low_confidence", "less than or equal to 1"]),
    ({"max_input_pixels": 10 ** 12}, ["max_input_pixels", "server's limit"]),
])
def test_unknown_knob_or_bad_value_is_refused_with_a_sentence(client, drawn, extra, words):
    assert_refused(client.post("/recognize", json={"image": b64(drawn), **extra}), 422, "invalid_field", *words)


@pytest.mark.parametrize("query, words", [
    ("colour=red", ["unknown knob", "colour"]),
    ("fixed_threshold=300", ["fixed_threshold", "255"]),
    ("split_enabled=perhaps", ["split_enabled"]),
    ("precision=fp32&precision=int8", ["precision", "more than once"]),
])
def test_bad_query_knobs_are_refused(client, drawn, query, words):
    answer = client.post(f"/recognize?{query}", content=drawn, headers={"Content-Type": "image/png"})
    assert_refused(answer, 422, "invalid_field", *words)


def test_a_knob_given_in_query_and_body_is_refused(client, drawn):
    answer = client.post("/recognize?precision=fp32", json={"image": b64(drawn), "precision": "int8"})
    assert_refused(answer, 422, "invalid_field", "precision", "once")


def test_every_recognizer_config_field_is_a_documented_knob():
    assert knobs.config_fields_without_knob() == []
    assert set(knobs.KNOB_NAMES) == set(RecognizerConfig.knob_names())


# --------------------------------------------------------------------------
# Bad input: always a 4xx sentence
# --------------------------------------------------------------------------
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
    (b"{}", "application/json", 422, "invalid_field", ["image", "missing"]),
    (b"{\"image\": 42}", "application/json", 422, "invalid_field", ["image", "string"]),
    (b"{\"image\": \"\"}", "application/json", 400, "empty_body", ["image", "empty"]),
    (b"{\"image\": \"***not base64***\"}", "application/json", 400, "bad_base64", ["not base64"]),
    (b"{\"image\": \"abcde\"}", "application/json", 400, "bad_base64", ["not valid base64"]),
    (b"{\"image\": \"aGVsbG8gd29ybGQ=\"}", "application/json", 400, "invalid_image", ["not an image"]),
    (b"hello", "text/plain", 415, "unsupported_media_type", ["text/plain", "image/png"]),
    (b"hello", None, 415, "unsupported_media_type", ["without a content type"]),
    (b"--x\r\nbroken", "multipart/form-data; boundary=x", 400, "missing_file", ["'file'"]),
    (b"--x\r\nbroken", "multipart/form-data", 400, "bad_request", ["multipart", "boundary"]),
])
def test_malformed_bodies_are_refused(client, content, media, status, code, words):
    headers = {"Content-Type": media} if media else {}
    assert_refused(client.post("/recognize", content=content, headers=headers), status, code, *words)


def test_multipart_without_file_field_is_refused(client, drawn):
    answer = client.post("/recognize", files={"image": ("n.png", drawn, "image/png")})
    assert_refused(answer, 422, "invalid_field", "'image'", "'file'")
    answer = client.post("/recognize", files={"file": (None, b"text, not a file")})
    assert_refused(answer, 400, "missing_file", "holds text")
    answer = client.post("/recognize", data={"file": "text"}, headers={})
    assert_refused(answer, 415, "unsupported_media_type")


@pytest.fixture(scope="module")
def small_client() -> TestClient:
    return TestClient(create_app(ServeSettings(max_body_bytes=50_000)), raise_server_exceptions=False)


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
    assert small_client.post("/recognize", content=drawn, headers={"Content-Type": "image/png"}).json()["number"] == "4071"


def test_server_pixel_limit_is_a_setting():
    limited = TestClient(create_app(ServeSettings(max_pixels=100_000)), raise_server_exceptions=False)
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


# --------------------------------------------------------------------------
# Health, models, page, docs
# --------------------------------------------------------------------------
def test_health_names_the_serving_model(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["model"] == body["active"] == registry.active_model_name()
    assert body["warning"] is None and body["loads"] >= 1 and body["uptime_s"] >= 0


def test_models_lists_the_registry_with_figures_and_marks_the_active_one(client):
    body = client.get("/models").json()
    assert body["active"] == body["serving"] == registry.active_model_name()
    names = [m["name"] for m in body["models"]]
    assert names == registry.list_models() and SHIPPED in names
    active = [m for m in body["models"] if m["active"]]
    assert [m["name"] for m in active] == [body["active"]] and active[0]["serving"]
    shipped = next(m for m in body["models"] if m["name"] == SHIPPED)
    assert 0.98 < shipped["acc_int8"] <= 1 and shipped["int8_bytes"] > 100_000 and shipped["problem"] is None


def test_drawing_page_has_canvas_buttons_and_no_outside_scripts(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for part in ("<canvas", "Recognize", "Clear", 'id="result"', "/static/app.js"):
        assert part in page.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and 'fetch("/recognize"' in script.text and "toDataURL" in script.text
    assert client.get("/static/style.css").status_code == 200
    for text in (page.text, script.text):
        assert not re.search(r"(src|href)=\"https?://", text) and "cdn" not in text.lower()


def test_openapi_describes_every_field_and_every_request_form(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for model in ("RecognizeResponse", "DigitOut", "ErrorResponse", "HealthResponse", "ModelsResponse", "ModelRow"):
        for name, prop in schemas[model]["properties"].items():
            assert prop.get("description"), f"{model}.{name} has no description"
    post = spec["paths"]["/recognize"]["post"]
    content = post["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data", "image/*"}
    for name, prop in content["application/json"]["schema"]["properties"].items():
        assert prop.get("description"), f"request field {name} has no description"
    assert {p["name"] for p in post["parameters"]} == set(knobs.KNOB_NAMES)
    assert {"400", "413", "415", "422", "500"} <= set(post["responses"])
    assert {"/health", "/models", "/recognize"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


# --------------------------------------------------------------------------
# A newly activated or rewritten model, without a restart
# --------------------------------------------------------------------------
@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    """A private models folder: the shipped model (active) and 'other', a copy of it."""
    folder = tmp_path / "models"
    shutil.copytree(ROOT / "models" / SHIPPED, folder / SHIPPED)
    shutil.copytree(ROOT / "models" / SHIPPED, folder / "other")
    (folder / "active.json").write_text(json.dumps({"name": SHIPPED}))
    monkeypatch.setenv("MDR_MODELS_DIR", str(folder))
    return folder


def test_an_activated_model_serves_the_next_request(models, drawn):
    client = TestClient(create_app(ServeSettings()), raise_server_exceptions=False)
    assert client.post("/recognize", json={"image": b64(drawn)}).json()["model"] == SHIPPED
    registry.set_active("other")
    answer = client.post("/recognize", json={"image": b64(drawn)}).json()
    assert answer["model"] == "other" and answer["number"] == "4071"
    health = client.get("/health").json()
    assert health["model"] == "other" and health["loads"] == 2
    listed = client.get("/models").json()
    assert [m["name"] for m in listed["models"] if m["serving"]] == ["other"]


def test_a_rewritten_model_file_is_loaded_once_and_only_once(models, drawn):
    import os

    client = TestClient(create_app(ServeSettings()), raise_server_exceptions=False)
    for _ in range(3):
        client.post("/recognize", json={"image": b64(drawn)})
    assert client.get("/health").json()["loads"] == 1
    path = models / SHIPPED / registry.ONNX_FILES["int8"]
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    for _ in range(3):
        assert client.post("/recognize", json={"image": b64(drawn)}).json()["number"] == "4071"
    assert client.get("/health").json()["loads"] == 2


def test_a_broken_activated_model_falls_back_to_the_shipped_one_with_a_warning(models, drawn):
    client = TestClient(create_app(ServeSettings()), raise_server_exceptions=False)
    (models / "other" / registry.ONNX_FILES["int8"]).write_bytes(b"not a model")
    (models / "active.json").write_text(json.dumps({"name": "other"}))
    answer = client.post("/recognize", json={"image": b64(drawn)})
    assert answer.status_code == 200 and answer.json()["model"] == SHIPPED
    health = client.get("/health").json()
    assert health["active"] == "other" and health["model"] == SHIPPED and "other" in health["warning"]


# --------------------------------------------------------------------------
# Settings, packaging
# --------------------------------------------------------------------------
def test_settings_come_from_environment_variables():
    settings = ServeSettings.from_env({"MDR_SERVE_MAX_BODY_BYTES": "1234", "MDR_SERVE_HOST": "0.0.0.0",
                                       "MDR_SERVE_WORKERS": "3"})
    assert (settings.max_body_bytes, settings.host, settings.workers) == (1234, "0.0.0.0", 3)
    assert ServeSettings.from_env(settings.to_env()) == settings
    with pytest.raises(SettingsError, match="whole number"):
        ServeSettings.from_env({"MDR_SERVE_PORT": "eighty"})
    with pytest.raises(SettingsError, match="at least 1"):
        ServeSettings(max_body_bytes=0)


def test_recognition_through_the_service_never_imports_torch(drawn):
    code = (
        "import sys, base64\n"
        "from fastapi.testclient import TestClient\n"
        "from mdr.serve.app import create_app\n"
        "c = TestClient(create_app())\n"
        "data = sys.stdin.buffer.read()\n"
        "r = c.post('/recognize', json={'image': base64.b64encode(data).decode()})\n"
        "assert r.status_code == 200, r.text\n"
        "c.get('/models'); c.get('/health')\n"
        "print(r.json()['number'], 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input=drawn, capture_output=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["4071", "False"]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_serve_requirements_pin_the_same_versions_without_torch():
    runtime, serve = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-serve.txt")
    assert {"fastapi", "uvicorn", "python-multipart", "onnxruntime", "streamlit"} <= set(serve)
    assert not {"torch", "torchvision"} & set(serve)
    assert {name: runtime.get(name) for name in serve} == serve
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements-serve.txt" in dockerfile and "mdr" in dockerfile and "serve" in dockerfile
