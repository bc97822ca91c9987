"""The Train page's "Export and quantization" tab: export to ONNX and quantize to int8 again from the page.

A tiny model (cnn-small, one epoch on 2,000 digits, a few seconds) is trained once into a template
folder; each test works on its own copy in a temporary MDR_MODELS_DIR, where it is the active model.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from mdr.app import jobs
from mdr.models import registry
from tests.test_app_train import run_page

NAME = "tiny"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    from mdr.models.publish import train_and_publish
    from mdr.training.config import TrainConfig

    folder = tmp_path_factory.mktemp("template")
    saved = os.environ.get("MDR_MODELS_DIR")
    os.environ["MDR_MODELS_DIR"] = str(folder)
    try:
        config = TrainConfig(arch="cnn-small", epochs=1, train_size=2000, val_size=500, seed=4)
        train_and_publish(config, NAME, "python -m mdr train --name tiny", activate=True)
    finally:
        if saved is None:
            os.environ.pop("MDR_MODELS_DIR", None)
        else:
            os.environ["MDR_MODELS_DIR"] = saved
    return folder


@pytest.fixture
def models(template, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    shutil.copytree(template, folder)
    monkeypatch.setenv("MDR_MODELS_DIR", str(folder))
    monkeypatch.setattr(jobs, "_job", None)  # no run from another test on the page
    return folder



def files(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_export_to_onnx_rewrites_model_onnx_and_the_card(models):
    folder = models / NAME
    before = files(folder)
    at = run_page()
    assert at.number_input(key=f"reexport_opset_{NAME}").value == 17  # the card's
    at.number_input(key=f"reexport_opset_{NAME}").set_value(18)
    at.button(key=f"reexport_{NAME}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    success = texts(at.success)
    assert "Exported model.onnx (opset 18): largest difference from torch" in success
    assert "test accuracy fp32" in success and not at.error
    after = files(folder)
    assert after["model.onnx"][0] > before["model.onnx"][0]
    assert after["model.int8.onnx"] == before["model.int8.onnx"]  # quantized only when asked
    card = json.loads((folder / registry.CARD).read_text())
    assert card["onnx"]["opset"] == 18 and card["onnx"]["export_max_abs_diff"] < 1e-3
    assert {m.label: m.value for m in at.metric}["ONNX opset"] == "18"  # the figures come from the new card
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    at.run()  # the outcome is shown once
    assert "Exported model.onnx" not in texts(at.success)


def test_quantize_to_int8_with_another_calibration_count(models):
    folder = models / NAME
    before = files(folder)
    at = run_page()
    assert at.number_input(key=f"requantize_size_{NAME}").value == 500  # the card's
    assert at.selectbox(key=f"requantize_method_{NAME}").options == ["minmax", "percentile", "entropy"]
    at.number_input(key=f"requantize_size_{NAME}").set_value(100)
    at.button(key=f"requantize_{NAME}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    success = texts(at.success)
    assert "Quantized with 100 calibration digits (minmax): int8 " in success and " KB." in success
    assert "It is the active model" in success
    after = files(folder)
    for name in ("model.int8.onnx", "model.int8-dynamic.onnx"):
        assert after[name][0] > before[name][0]
    assert after["model.onnx"] == before["model.onnx"] and after["model.pt"] == before["model.pt"]
    card = registry.read_card(NAME)
    assert card["onnx"]["calibration"] == {"images": 100, "source": "MNIST training set", "method": "minmax"}
    assert 0.5 < card["metrics"]["test_accuracy"]["int8"] <= 1
    assert {m.label: m.value for m in at.metric}["int8 calibration"] == "100 digits, minmax"


def test_a_damaged_checkpoint_is_an_error_and_changes_nothing(models):
    folder = models / NAME
    (folder / registry.CHECKPOINT).write_bytes(b"not a checkpoint")
    before = files(folder)
    at = run_page()
    for button in (f"reexport_{NAME}", f"requantize_{NAME}"):
        at.button(key=button).click().run()
        assert not at.exception, [e.value for e in at.exception]
        errors = texts(at.error)
        assert "model.pt of 'tiny' could not be loaded" in errors
        assert "The model in use is not affected." in errors
        assert not at.success
    assert files(folder) == before


def test_a_model_without_model_pt_says_so_and_cannot_be_rebuilt(models):
    folder = models / NAME
    (folder / registry.CHECKPOINT).unlink()
    before = files(folder)
    at = run_page()
    assert "has no model.pt" in texts(at.warning) and "cannot be exported or quantized again" in texts(at.warning)
    assert at.button(key=f"reexport_{NAME}").disabled and at.button(key=f"requantize_{NAME}").disabled
    assert files(folder) == before


def test_the_model_of_a_running_training_run_is_left_alone(models, monkeypatch):
    folder = models / NAME
    before = files(folder)
    running = jobs._Job(jobs.JobSnapshot(name=NAME, config={"arch": "cnn-small", "epochs": 1},
                                         started=time.time(), epochs=1))
    monkeypatch.setattr(jobs, "_job", running)
    at = run_page()
    at.button(key=f"requantize_{NAME}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "A training run is building a new 'tiny' right now" in texts(at.error)
    assert files(folder) == before
