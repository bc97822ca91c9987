"""A real ``python -m mdr serve`` process on a free loopback port: started, asked, stopped."""
from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from mdr.data.synth import make_set
from mdr.serve.process import get_json, running_server

ROOT = Path(__file__).resolve().parents[1]


def post(url: str, data: bytes, media: str, timeout: float = 30.0) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": media}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def png(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_server_process_reads_numbers_refuses_bad_input_and_stops(tmp_path):
    samples = make_set("spaced-thin", 4, seed=23)
    with running_server(tmp_path / "server.log", "--max-body-bytes", "2000000") as server:
        health = get_json(server.url + "/health")
        assert health["status"] == "ok" and health["loads"] == 1
        readings = []
        for sample in samples:
            body = json.dumps({"image": base64.b64encode(png(sample.image)).decode()}).encode()
            status, answer = post(server.url + "/recognize", body, "application/json")
            assert status == 200, answer
            readings.append(answer["number"])
        assert sum(r == s.number for r, s in zip(readings, samples)) >= 3, readings
        status, answer = post(server.url + "/recognize", png(samples[0].image), "image/png")
        assert status == 200 and answer["number"] == readings[0]
        status, answer = post(server.url + "/recognize", b"not an image", "image/png")
        assert status == 400 and answer["code"] == "invalid_image"
        status, answer = post(server.url + "/recognize", bytes(2_100_000), "image/png")
        assert status == 413 and answer["code"] == "body_too_large"
        with urllib.request.urlopen(server.url + "/", timeout=10) as page:
            assert b"<canvas" in page.read()
        assert get_json(server.url + "/models")["serving"] == health["model"]
    assert server.stopped_cleanly, (server.process.returncode, server.log())
    assert "Traceback" not in server.log()


def test_two_workers_each_answer(tmp_path):
    with running_server(tmp_path / "server.log", "--workers", "2") as server:
        sample = make_set("spaced-thin", 1, seed=5)[0]
        status, answer = post(server.url + "/recognize", png(sample.image), "image/png")
        assert status == 200 and answer["number"] == sample.number
    assert server.stopped_cleanly, (server.process.returncode, server.log())


@pytest.mark.parametrize("args, words", [
    (["--workers", "0"], "workers must be at least 1"),
    (["--port", "70000"], "port must be between 0 and 65535"),
])
def test_a_bad_setting_is_refused_in_words(args, words):
    done = subprocess.run([sys.executable, "-m", "mdr", "serve", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_a_port_in_use_is_refused_in_words():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "mdr", "serve", "--port", str(port)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"Cannot listen on 127.0.0.1:{port} (it is in use)" in done.stderr


def test_a_bad_environment_setting_is_refused_in_words():
    done = subprocess.run([sys.executable, "-m", "mdr", "serve"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "MDR_SERVE_MAX_BODY_BYTES": "lots"})
    assert done.returncode == 2 and "MDR_SERVE_MAX_BODY_BYTES must be a whole number" in done.stderr
