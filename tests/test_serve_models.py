"""The HTTP API picks up an activated or rewritten model without a restart; settings and packaging."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model_folders import private_models

from mdr.models import registry
from mdr.serve.settings import ServeSettings, SettingsError
from tests.serving import b64, drawn_4071, make_client

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = registry.SHIPPED_MODEL


@pytest.fixture(scope="module")
def drawn() -> bytes:
    return drawn_4071()


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    """A private models folder with the shipped model (active) and 'other', a copy of it."""
    return private_models(tmp_path, monkeypatch, "other")


def test_an_activated_model_serves_the_next_request(models, drawn):
    client = make_client()
    assert client.post("/recognize", json={"image": b64(drawn)}).json()["model"] == SHIPPED
    registry.set_active("other")
    answer = client.post("/recognize", json={"image": b64(drawn)}).json()
    assert answer["model"] == "other" and answer["number"] == "4071"
    health = client.get("/health").json()
    assert health["model"] == "other" and health["loads"] == 2
    listed = client.get("/models").json()
    assert [m["name"] for m in listed["models"] if m["serving"]] == ["other"]


def test_a_rewritten_model_file_is_loaded_once_and_only_once(models, drawn):
    client = make_client()
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
    client = make_client()
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


SERVICE_REQUEST = """
import base64, sys
from fastapi.testclient import TestClient
from mdr.serve.app import create_app
client = TestClient(create_app())
answer = client.post('/recognize', json={'image': base64.b64encode(sys.stdin.buffer.read()).decode()})
assert answer.status_code == 200, answer.text
assert client.get('/models').status_code == 200 and client.get('/health').status_code == 200
print(answer.json()['number'], sorted(m for m in ('torch', 'torchvision', 'onnx') if m in sys.modules))
"""

BLOCK_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'torchvision', 'onnx'):
            raise ImportError(f'{name} is not installed here')
sys.meta_path.insert(0, NoTorch())
"""


@pytest.mark.parametrize("blocked", [False, True], ids=["installed", "not-installed"])
def test_recognition_through_the_service_never_imports_torch(drawn, blocked):
    """With torch installed it is not imported; where it cannot be imported (the Docker image) all works."""
    code = (BLOCK_TORCH if blocked else "") + SERVICE_REQUEST
    done = subprocess.run([sys.executable, "-c", code], input=drawn, capture_output=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert done.stdout.decode().split() == ["4071", "[]"]


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
