"""`python -m mdr models / activate / compare / export / quantize` on a private models folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mdr.models import registry
from mdr.cli import main

ROOT = Path(__file__).resolve().parents[1]
NAME = "tiny"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The shipped model (active) and a tiny freshly trained one, in a temporary MDR_MODELS_DIR."""
    from mdr.models.publish import train_and_publish
    from mdr.training.config import TrainConfig

    folder = tmp_path_factory.mktemp("models")
    shutil.copytree(ROOT / "models" / registry.SHIPPED_MODEL, folder / registry.SHIPPED_MODEL)
    (folder / "active.json").write_text(json.dumps({"name": registry.SHIPPED_MODEL}))
    saved = os.environ.get("MDR_MODELS_DIR")
    os.environ["MDR_MODELS_DIR"] = str(folder)
    try:
        config = TrainConfig(arch="cnn-small", epochs=1, train_size=2000, val_size=500, seed=4)
        train_and_publish(config, NAME, "python -m mdr train --name tiny", activate=False)
        yield folder
    finally:
        if saved is None:
            os.environ.pop("MDR_MODELS_DIR", None)
        else:
            os.environ["MDR_MODELS_DIR"] = saved


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def active(folder: Path) -> bytes:
    return (folder / "active.json").read_bytes()


def test_models_lists_figures_and_marks_the_active_one(models, capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    lines = {line.split()[1] if line.startswith("*") else line.split()[0]: line for line in out.splitlines()[1:]}
    assert lines[registry.SHIPPED_MODEL].startswith("* ") and "99.7" in lines[registry.SHIPPED_MODEL]
    assert not lines[NAME].startswith("*") and "cnn-small" in lines[NAME] and "KB" in lines[NAME]
    code, out, _ = run(capsys, "models", "--json")
    assert {r["name"]: r["active"] for r in json.loads(out)} == {registry.SHIPPED_MODEL: True, NAME: False}


def test_compare_measures_once_then_shows_the_kept_table(models, capsys):
    code, out, err = run(capsys, "compare", "--model", NAME, "--repeats", "3", "--json")
    assert code == 0 and "Measuring" in err
    report = json.loads(out.splitlines()[-1])
    assert [r["variant"] for r in report["rows"]] == ["torch fp32", "ONNX fp32", "ONNX int8 static",
                                                      "ONNX int8 dynamic"]
    for row in report["rows"]:
        assert 0.5 < row["accuracy"] <= 1 and row["bytes"] > 0 and 0 < row["batch1_ms"] < row["batch256_ms"]
    assert "| ONNX int8 static |" in out
    assert (models / NAME / "comparison.json").is_file()
    code, out, err = run(capsys, "compare", "--model", NAME)
    assert code == 0 and "Measuring" not in err and "| torch fp32 |" in out


def test_export_and_quantize_rebuild_the_files_and_the_card(models, capsys):
    folder = models / NAME
    before = {f: (folder / f).stat().st_mtime_ns for f in registry.ONNX_FILES.values()}
    code, out, _ = run(capsys, "export", "--model", NAME)
    assert code == 0 and "opset 17" in out
    assert (folder / "model.onnx").stat().st_mtime_ns > before["model.onnx"]
    assert not (folder / "comparison.json").exists()  # measured on the old files
    code, out, _ = run(capsys, "quantize", "--model", NAME, "--calibration-size", "200")
    assert code == 0 and "int8 static" in out
    for f in ("model.int8.onnx", "model.int8-dynamic.onnx"):
        assert (folder / f).stat().st_mtime_ns > before[f]
    card = registry.read_card(NAME)
    assert card["onnx"]["calibration"]["images"] == 200
    assert 0.5 < card["metrics"]["test_accuracy"]["int8"] <= 1
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_activate_switches_and_the_shipped_model_comes_back(models, capsys):
    code, out, _ = run(capsys, "activate", NAME)
    assert code == 0 and registry.active_model_name() == NAME
    code, out, _ = run(capsys, "models")
    assert any(line.startswith(f"* {NAME}") for line in out.splitlines())
    code, _, _ = run(capsys, "activate", registry.SHIPPED_MODEL)
    assert code == 0 and registry.active_model_name() == registry.SHIPPED_MODEL


@pytest.mark.parametrize("damage, message", [
    ("missing", "model.int8.onnx is missing"),
    ("broken", "not a valid ONNX model"),
])
def test_activating_a_damaged_model_fails_and_changes_nothing(models, capsys, damage, message):
    name = f"{NAME}-{damage}"
    shutil.copytree(models / NAME, models / name)
    int8 = models / name / "model.int8.onnx"
    if damage == "missing":
        int8.unlink()
    else:
        int8.write_bytes(b"this is not a model")
    before = active(models)
    code, out, err = run(capsys, "activate", name)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert active(models) == before


def test_errors_are_one_line_without_a_traceback(models):
    env = {**os.environ, "MDR_MODELS_DIR": str(models)}
    for argv in (["activate", "no-such-model"], ["compare", "--model", "no-such-model"],
                 ["export", "--model", "no-such-model"], ["quantize", "--model", "no-such-model"],
                 ["activate", "../up"]):
        done = subprocess.run([sys.executable, "-m", "mdr", *argv], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode != 0, argv
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, (argv, done.stderr)
