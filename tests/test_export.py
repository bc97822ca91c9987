"""ONNX export, int8 quantization and torch-free evaluation."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from mdr.errors import ModelError
from mdr.evaluation.digits import evaluate_onnx, load_session, predict_logits
from mdr.training.export import export_onnx, quantize_dynamic, quantize_static
from mdr.data.mnist import load_split
from mdr.training.loop import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MDR_DATA_DIR") or ROOT.parent / "shared/data/mnist")


@pytest.fixture(scope="module")
def test_set():
    return load_split("test", DATA)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, test_set):
    """A briefly trained cnn-small, exported and quantized both ways."""
    folder = tmp_path_factory.mktemp("export")
    model = train(TrainConfig(arch="cnn-small", epochs=1, train_size=4000, val_size=0, data_dir=str(DATA))).model
    images, _ = test_set
    diff = export_onnx(model, folder / "model.onnx", check_images=images[:200])
    calibration = load_split("train", DATA)[0][-300:]
    quantize_static(folder / "model.onnx", folder / "model.int8.onnx", calibration)
    quantize_dynamic(folder / "model.onnx", folder / "model.int8-dynamic.onnx")
    return model, folder, diff


def test_export_matches_torch_on_real_digits(exported, test_set):
    model, folder, diff = exported
    assert 0 <= diff < 1e-3
    images = test_set[0][1000:1500]
    with torch.no_grad():
        expected = model(torch.from_numpy(images.copy()).float().unsqueeze(1) / 255).numpy()
    got = predict_logits(load_session(folder / "model.onnx"), images, batch_size=128)
    assert np.abs(got - expected).max() < 1e-3
    assert (got.argmax(1) == expected.argmax(1)).all()


def test_onnx_interface_has_named_io_and_dynamic_batch(exported, test_set):
    _, folder, _ = exported
    graph = onnx.load(str(folder / "model.onnx")).graph
    assert [i.name for i in graph.input] == ["image"] and [o.name for o in graph.output] == ["logits"]
    session = load_session(folder / "model.onnx")
    for n in (1, 7):
        x = test_set[0][:n].astype(np.float32)[:, None] / 255
        assert session.run(None, {"image": x})[0].shape == (n, 10)
    opsets = {o.domain: o.version for o in onnx.load(str(folder / "model.onnx")).opset_import}
    assert opsets[""] == 17


def test_int8_static_is_much_smaller_and_as_accurate(exported, test_set):
    _, folder, _ = exported
    fp32 = (folder / "model.onnx").stat().st_size
    int8 = (folder / "model.int8.onnx").stat().st_size
    assert int8 < 0.45 * fp32
    images, labels = test_set[0][:3000], test_set[1][:3000]
    a_fp32 = evaluate_onnx(folder / "model.onnx", images, labels)["accuracy"]
    a_int8 = evaluate_onnx(folder / "model.int8.onnx", images, labels)["accuracy"]
    a_dyn = evaluate_onnx(folder / "model.int8-dynamic.onnx", images, labels)["accuracy"]
    assert a_fp32 > 0.9
    assert abs(a_int8 - a_fp32) < 0.01 and abs(a_dyn - a_fp32) < 0.02


def test_int8_static_model_is_quantized_qdq(exported):
    _, folder, _ = exported
    ops = {node.op_type for node in onnx.load(str(folder / "model.int8.onnx")).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert "BatchNormalization" not in ops  # folded into the convolutions before quantizing


def test_no_temporary_files_are_left(exported):
    _, folder, _ = exported
    assert sorted(p.name for p in folder.iterdir()) == ["model.int8-dynamic.onnx", "model.int8.onnx", "model.onnx"]


def test_export_refuses_a_model_beyond_tolerance(exported, tmp_path, test_set):
    model, _, _ = exported
    with pytest.raises(ModelError, match="differs from the torch model"):
        export_onnx(model, tmp_path / "bad.onnx", check_images=test_set[0][:10], tolerance=-1.0)
    assert list(tmp_path.iterdir()) == []


def test_evaluate_reports_consistent_numbers(exported, test_set):
    _, folder, _ = exported
    images, labels = test_set[0][:2000], test_set[1][:2000]
    result = evaluate_onnx(folder / "model.int8.onnx", images, labels, batch_size=300)
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == result["n"] == 2000
    assert np.isclose(result["accuracy"], np.trace(confusion) / 2000)
    assert np.allclose(result["per_class"], confusion.diagonal() / confusion.sum(1), atol=1e-6)
    assert np.array_equal(confusion.sum(1), np.bincount(labels, minlength=10))


def test_evaluate_missing_model_raises_model_error(tmp_path, test_set):
    with pytest.raises(ModelError):
        evaluate_onnx(tmp_path / "absent.onnx", test_set[0][:10], test_set[1][:10])
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError):
        evaluate_onnx(tmp_path / "broken.onnx", test_set[0][:10], test_set[1][:10])


def test_evaluation_does_not_import_torch():
    code = ("import sys, mdr.evaluation.digits, mdr.commands.evaluate, mdr.cli; mdr.cli.build_parser(); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
