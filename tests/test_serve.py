"""The HTTP API through FastAPI's TestClient: the three request forms, knobs, and every route."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mdr.data.synth import make_set
from mdr.models import registry
from mdr.recognition.config import RecognizerConfig
from mdr.serve import knobs
from tests.drawing import draw_number
from tests.serving import assert_refused, b64, png

SHIPPED = registry.SHIPPED_MODEL


@pytest.fixture(scope="module")
def samples() -> list[tuple[bytes, str]]:
    """Canvas-like numbers of MNIST test digits, as PNG bytes with their truth."""
    return [(png(s.image), s.number) for s in make_set("spaced-thin", 6, seed=11)]


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
    assert set(body) == {"number", "digits", "alternatives", "advice", "ms", "model", "precision"}
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


def test_answer_offers_other_likely_readings_most_likely_first(client, drawn):
    body = client.post("/recognize", json={"image": b64(drawn)}).json()
    others = body["alternatives"]
    assert 1 <= len(others) <= 3
    for other in others:
        assert other["number"] != body["number"] and other["why"]
        kept = [str(d["digit"]) for k, d in enumerate(body["digits"]) if k not in other["positions"]]
        first = min(other["positions"])
        assert other["number"] == "".join(kept[:first]) + other["digits"] + "".join(kept[first:])
    second_choices = [o for o in others if o["kind"] == "second choice"]
    assert [o["odds"] for o in second_choices] == sorted((o["odds"] for o in second_choices), reverse=True)
    for other in second_choices:
        (position,) = other["positions"]
        assert int(other["digits"]) == body["digits"][position]["top3"][1][0]


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
    for model in ("RecognizeResponse", "DigitOut", "AlternativeOut", "ErrorResponse", "HealthResponse",
                  "ModelsResponse", "ModelRow"):
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
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    for asset in re.findall(r'(?:src|href)="([^"]+)"', docs.text) + re.findall(r"url: '([^']+)'", docs.text):
        assert asset.startswith("/"), f"/docs loads {asset} from outside"
        assert client.get(asset).status_code == 200, asset
    assert "/docs-static/redoc.standalone.js" in client.get("/redoc").text


def test_answer_gives_the_advice_the_reading_calls_for(client, drawn):
    import cv2

    from mdr.recognition.advice import advice_for
    from mdr.recognition.recognizer import Recognizer
    from number_images import compose_number

    thick = cv2.dilate(compose_number("4071"), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (25, 25)))
    body = client.post("/recognize", json={"image": b64(png(thick))}).json()
    assert [a["kind"] for a in body["advice"]] == ["thick brush"]
    assert body["advice"] == [a.to_dict() for a in advice_for(Recognizer().recognize(thick))]
    plain = client.post("/recognize", json={"image": b64(drawn)}).json()
    assert all(a["kind"] != "thick brush" for a in plain["advice"])
    assert "advice" in client.get("/openapi.json").json()["components"]["schemas"]["RecognizeResponse"]["properties"]
