"""Faults: broken model files, a broken active.json, a training run killed mid-way, a full disk.

Every test works on a private copy of models/ (MDR_MODELS_DIR); the real folder is never touched.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest

from model_folders import private_models
from onnx import TensorProto, helper, numpy_helper

from mdr import Recognizer
from mdr.models import operations as modelops
from mdr.models import registry
from mdr.errors import ModelError
from tests.drawing import draw_number

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = registry.SHIPPED_MODEL
INT8 = registry.ONNX_FILES["int8"]


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    """A private models folder with the shipped model (active) and 'other', a copy of it."""
    return private_models(tmp_path, monkeypatch, "other")


def wrong_shape_model(path: Path, side: int = 32, classes: int = 10) -> None:
    """A valid ONNX graph that takes [N, 1, side, side] and gives [N, classes]."""
    weights = numpy_helper.from_array(np.zeros((side * side, classes), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"], axis=1), helper.make_node("MatMul", ["flat", "w"], ["logits"])],
        "wrong", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, side, side])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])], [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def break_file(path: Path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    elif how == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "wrong input shape":
        wrong_shape_model(path, side=32)
    elif how == "wrong output count":
        wrong_shape_model(path, side=28, classes=5)
    else:
        raise ValueError(how)


BREAKAGES = ["missing", "truncated", "random bytes", "empty", "wrong input shape", "wrong output count"]


def sample():
    return draw_number(["4", "7"])


@pytest.mark.parametrize("how", BREAKAGES)
def test_a_broken_active_model_falls_back_to_the_shipped_one(models, how):
    break_file(models / "other" / INT8, how)
    (models / "active.json").write_text(json.dumps({"name": "other"}))
    recognizer = Recognizer()
    assert recognizer.model_name == SHIPPED
    assert recognizer.warning and "'other' could not be loaded" in recognizer.warning
    assert f"'{SHIPPED}' is serving instead" in recognizer.warning
    assert recognizer.recognize(sample()).number == "47"
    with pytest.raises(ModelError):  # asked for by name, it is refused in words
        Recognizer(model="other")


@pytest.mark.parametrize("how", BREAKAGES)
def test_activation_refuses_a_broken_model_and_keeps_active_json(models, how):
    break_file(models / "other" / INT8, how)
    before = (models / "active.json").read_bytes()
    with pytest.raises(ModelError, match="'other' cannot be activated"):
        modelops.activate("other")
    assert (models / "active.json").read_bytes() == before
    done = subprocess.run([sys.executable, "-m", "mdr", "activate", "other"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "MDR_MODELS_DIR": str(models)}, timeout=120) \
        if how == "wrong input shape" else None  # the command line once, it costs a process start
    if done is not None:
        assert done.returncode == 2 and "cannot be activated" in done.stderr and "Traceback" not in done.stderr
        assert (models / "active.json").read_bytes() == before


@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "/tmp/x", "a/b", "", ".hidden", "x" * 200])
def test_path_tricks_are_refused_as_model_names(models, name):
    with pytest.raises(ModelError, match="not a valid model name"):
        modelops.activate(name)
    with pytest.raises(ModelError):
        registry.model_dir(name)


@pytest.mark.parametrize("content, problem", [
    ("{not json", "unreadable"),
    ("", "unreadable"),
    ('["mnist-cnn"]', "names no model"),
    ('{"name": 5}', "names no model"),
    ('{"model": "other"}', "names no model"),
    ('{"name": "../other"}', "not a valid model name"),
    ('{"name": "../../../etc"}', "not a valid model name"),
    ('{"name": "ghost"}', "has no model.int8.onnx"),
])
def test_a_broken_active_json_is_detected_and_repaired(models, content, problem):
    (models / "active.json").write_text(content)
    recognizer = Recognizer()
    assert recognizer.model_name == SHIPPED
    assert recognizer.warning  # said in words, on the page
    assert recognizer.recognize(sample()).number == "47"
    note = registry.repair()
    assert note and problem in note and f"it now names the shipped model '{SHIPPED}'" in note
    assert json.loads((models / "active.json").read_text()) == {"name": SHIPPED}
    assert registry.repair() is None  # repaired for good
    assert Recognizer().warning is None


def test_repair_leaves_a_good_or_absent_active_json_alone(models):
    (models / "active.json").write_text(json.dumps({"name": "other"}))
    before = (models / "active.json").stat().st_mtime_ns
    assert registry.repair() is None
    assert (models / "active.json").stat().st_mtime_ns == before
    (models / "active.json").unlink()
    assert registry.repair() is None and not (models / "active.json").exists()
    assert registry.active_model_name() == SHIPPED


def test_leftovers_of_dead_processes_are_cleaned_and_live_ones_kept(models):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    building = models / f".new.building-{dead_pid}-abc123"
    building.mkdir()
    (building / "model.onnx").write_bytes(b"half")
    live = models / f".mine.building-{os.getpid()}-xyz"
    live.mkdir()
    # A replacement cut short: 'other' was moved away and the new one never arrived.
    old = models / f".other.old-{dead_pid}-q1"
    old.mkdir()
    os.replace(models / "other", old / "other")
    stale = models / ".active.json.k2j3.tmp"
    stale.write_text("{")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = models / ".active.json.zz9.tmp"
    fresh.write_text("{")

    removed = registry.clean_leftovers()
    assert sorted(removed) == sorted([building.name, old.name, stale.name])
    assert not building.exists() and not old.exists() and not stale.exists()
    assert live.is_dir() and fresh.is_file()  # a run in progress, a write in progress
    assert (models / "other" / INT8).is_file()  # put back
    assert registry.list_models() == [SHIPPED, "other"]


def _read_until(process: subprocess.Popen, marker: str, timeout: float = 240.0) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    process.kill()
    raise AssertionError(f"never saw {marker!r}:\n{''.join(seen)[-3000:]}")


@pytest.mark.parametrize("kill_at", ["epoch 1/3", "Exporting to ONNX"])
def test_a_killed_training_run_leaves_no_model_and_is_cleaned_up(models, kill_at):
    before = (models / "active.json").read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-m", "mdr", "train", "--arch", "cnn-small", "--train-size", "2000", "--val-size", "500",
         "--epochs", "3", "--name", "killed"],
        cwd=ROOT, env={**os.environ, "MDR_MODELS_DIR": str(models)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        _read_until(process, kill_at)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert not (models / "killed").exists()
    assert "killed" not in registry.list_models()
    assert (models / "active.json").read_bytes() == before
    assert Recognizer().model_name == SHIPPED
    leftovers = [p.name for p in models.iterdir() if p.name.startswith(".")]
    if kill_at == "Exporting to ONNX":
        assert any(".killed.building-" in name for name in leftovers), leftovers
    assert sorted(registry.clean_leftovers()) == sorted(leftovers)
    assert [p.name for p in models.iterdir() if p.name.startswith(".")] == []


@pytest.fixture(scope="module")
def tiny_result():
    from mdr.training.loop import train
    from mdr.training.config import TrainConfig

    return train(TrainConfig(arch="cnn-small", epochs=1, train_size=1000, val_size=200, seed=1))


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["torch.save", "mdr.models.publish.write_json_atomic", "mdr.models.registry.write_json_atomic"])
def test_a_full_disk_gives_a_clear_error_and_keeps_the_active_model(models, monkeypatch, tiny_result, where):
    from mdr.models.publish import publish

    before = (models / "active.json").read_bytes()
    monkeypatch.setattr(where, _disk_full)
    with pytest.raises(ModelError) as caught:
        publish(tiny_result, "full", "python -m mdr train --name full")
    message = str(caught.value)
    assert "the disk is full" in message and "the active model is unchanged" in message
    assert message[0].isupper() and message.endswith(".")
    assert (models / "active.json").read_bytes() == before
    assert [p.name for p in models.iterdir() if p.name.startswith(".")] == []
    if where == "mdr.models.registry.write_json_atomic":  # only activation failed: the model is there, not active
        assert "'full' is registered but not active" in message
        assert "full" in registry.list_models()
    else:
        assert "nothing was registered" in message and not (models / "full").exists()


def test_uploads_are_capped_and_model_files_come_only_from_validated_names():
    import tomllib

    from mdr.recognition.imageio import MAX_FILE_BYTES

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    limit_mb = config["server"]["maxUploadSize"]
    assert 0 < limit_mb <= MAX_FILE_BYTES / 1e6  # the uploader refuses first, decode_image second
    # Upload names are shown, never opened: the pages hand decode_image the bytes.
    page = (ROOT / "mdr" / "app" / "recognize_view.py").read_text()  
    assert "decode_image(upload.getvalue())" in page and "open(" not in page
    for name in ["../models", "..", "a/../../b", "x\x00y", "C:\\temp", "-rf"]:
        with pytest.raises(ModelError):
            registry.onnx_path(name)


def test_the_app_repairs_and_cleans_up_when_it_starts(models):
    from mdr.app import reading

    (models / "active.json").write_text('{"name": "../other"}')
    leftover = models / ".gone.building-999999999-abc"
    leftover.mkdir()
    notes = reading.start_up()
    assert json.loads((models / "active.json").read_text()) == {"name": SHIPPED}
    assert not leftover.exists()
    assert len(notes) == 2 and "not a valid model name" in notes[0] and "Removed 1 leftover" in notes[1]
