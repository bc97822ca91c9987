"""Export a trained model to ONNX and quantize it to int8 for the recognizer.

Every file is written under a temporary name in its final folder and renamed
into place, so a crash never leaves a half-written model under a real name.
"""
from __future__ import annotations

import io
import numbers
import os
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quant_pre_process)
from onnxruntime.quantization import quantize_dynamic as ort_quantize_dynamic
from onnxruntime.quantization import quantize_static as ort_quantize_static

from mdr.errors import ModelError
from mdr.paths import write_bytes_atomic

INPUT_NAME = "image"
OUTPUT_NAME = "logits"
DEFAULT_OPSET = 17
# Opsets a model can be exported with and still be quantized: per-channel int8 (QDQ) needs 13 or
# later (below it the quantized file does not load), and torch's TorchScript exporter, the one
# used here, goes up to 20.
MIN_OPSET, MAX_OPSET = 13, 20
TOLERANCE = 1e-3
CALIBRATION_METHODS = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                       "entropy": CalibrationMethod.Entropy}
"""Calibration methods of :func:`quantize_static`, by the name used on the card and the command line."""


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, 28, 28]`` (or float 0..1) -> float32 ``[N, 1, 28, 28]`` in 0..1."""
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return x.reshape(len(x), 1, 28, 28)


def _session(model: bytes | str | os.PathLike):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    # Waiting threads sleep instead of spinning: on a busy machine spinning only steals time.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _tmp_path(final: Path) -> Path:
    """A fresh temporary file name next to ``final`` (the caller renames it)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    return Path(tmp)


def export_onnx(model, path: str | os.PathLike, opset: int = DEFAULT_OPSET,
                check_images: np.ndarray | None = None, tolerance: float = TOLERANCE) -> float:
    """Write ``model`` as ONNX (input "image", output "logits", dynamic batch).

    The ONNX model is compared with torch on ``check_images`` (real MNIST
    digits, uint8 ``[N, 28, 28]``; random images when None) before the file is
    written; returns the largest absolute difference of the logits and raises
    :class:`ModelError` when it exceeds ``tolerance``, or when ``opset`` is outside
    ``MIN_OPSET..MAX_OPSET``.
    """
    if isinstance(opset, bool) or not (isinstance(opset, numbers.Integral) and MIN_OPSET <= opset <= MAX_OPSET):
        raise ModelError(f"ONNX opset {opset} is not supported: choose {MIN_OPSET} to {MAX_OPSET} "
                         f"(int8 quantization needs {MIN_OPSET} or later).")
    import onnx
    import torch

    model = model.to("cpu", memory_format=torch.contiguous_format).eval()
    if check_images is None:
        check_images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    x = as_model_input(check_images)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but the newer one needs onnxscript,
        # which is not a dependency; for these plain conv nets both give the same graph.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model, (torch.from_numpy(x[:1]),), buffer, dynamo=False, opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = _session(data).run([OUTPUT_NAME], {INPUT_NAME: x})[0]
    diff = float(np.abs(got - expected).max())
    if not diff <= tolerance:
        raise ModelError(f"The ONNX export differs from the torch model by {diff:.2e} (tolerance {tolerance:.0e}).")
    write_bytes_atomic(Path(path), data)
    return diff


class ImageReader(CalibrationDataReader):
    """Feeds calibration batches to onnxruntime's static quantizer."""

    def __init__(self, images: np.ndarray, batch_size: int = 50):
        self.x = as_model_input(images)
        self.batch_size = batch_size
        self.rewind()

    def rewind(self) -> None:
        self._batches = iter(
            [{INPUT_NAME: self.x[i:i + self.batch_size]} for i in range(0, len(self.x), self.batch_size)]
        )

    def get_next(self) -> dict | None:
        return next(self._batches, None)


def preprocess(fp32_path: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Shape inference and graph optimization before quantization (BN folding etc.)."""
    quant_pre_process(str(fp32_path), str(out_path), skip_symbolic_shape=True)


def quantize_static(fp32_path: str | os.PathLike, out_path: str | os.PathLike,
                    calibration_images: np.ndarray, per_channel: bool = True,
                    method: str = "minmax") -> Path:
    """int8 QDQ model calibrated on ``calibration_images`` (uint8, a few hundred TRAINING digits).

    uint8 activations and per-channel int8 weights: the combination that
    onnxruntime's CPU kernels run fastest. ``method`` is "minmax", "percentile"
    or "entropy".
    """
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"Unknown calibration method '{method}': choose one of {', '.join(CALIBRATION_METHODS)}.")
    return _quantize_into(fp32_path, out_path, lambda prepared, tmp: ort_quantize_static(
        prepared, tmp, ImageReader(calibration_images),
        quant_format=QuantFormat.QDQ, per_channel=per_channel,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        calibrate_method=CALIBRATION_METHODS[method],
    ))


def quantize_dynamic(fp32_path: str | os.PathLike, out_path: str | os.PathLike) -> Path:
    """int8 weights, activations quantized on the fly: no calibration, for comparison."""
    return _quantize_into(fp32_path, out_path, lambda prepared, tmp: ort_quantize_dynamic(
        prepared, tmp, weight_type=QuantType.QUInt8))


def _quantize_into(fp32_path: str | os.PathLike, out_path: str | os.PathLike,
                   quantize: Callable[[str, str], None]) -> Path:
    """Pre-process, quantize to a temporary name, check it loads, then rename into place."""
    out_path = Path(out_path)
    tmp = _tmp_path(out_path)
    try:
        with tempfile.TemporaryDirectory() as work:
            prepared = Path(work) / "prepared.onnx"
            preprocess(fp32_path, prepared)
            quantize(str(prepared), str(tmp))
        _check_loads(tmp)
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path


def _check_loads(path: Path) -> None:
    try:
        _session(path)
    except Exception as e:  # onnxruntime raises its own exception types
        raise ModelError(f"The quantized model {path.name} does not load: {e}") from e
