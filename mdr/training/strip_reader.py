"""Train the strip reader: a small CNN read out per column band, trained with CTC.

Few flat functions, as the digit training loop: make the strips, build the
net, run the epochs, export. Every knob is a field of :class:`StripTrainConfig`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mdr.recognition.strip import BLANK, CLASSES, FRAME_STRIDES, STRIP_HEIGHT, STRIP_STRIDE
from mdr.training.loop import Progress, choose_device, seed_everything
from mdr.training.strip_config import StripTrainConfig  # noqa: F401 (its home was here)
from mdr.training.strips import make_strips


def conv_bn(cin: int, cout: int, kernel=3, padding=1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=padding, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class StripNet(nn.Module):
    """32 x W ink -> W/4 (or W/2) frames x 11 classes (ten digits and the CTC blank)."""

    description = ("[conv3x3-BN-ReLU 32, maxpool 2] [conv3x3 48, maxpool 2] [conv3x3 64, maxpool 2x1] "
                   "[conv3x3 96, maxpool 2x1] conv 2x3 96, conv 1x5 96, dropout, conv 1x1 11: one frame per 4 columns")

    def __init__(self, dropout: float = 0.2, frame_stride: int = STRIP_STRIDE):
        super().__init__()
        if frame_stride not in FRAME_STRIDES:
            raise ValueError(f"frame_stride is {' or '.join(map(str, FRAME_STRIDES))} columns per frame, "
                             f"not {frame_stride}.")
        self.frame_stride = frame_stride
        # Two frames per 4 columns give a narrow digit (a 1 is 1-2 bands of 4 columns) room for
        # "1, blank, 1": the features are made at W/4 and doubled before the last two layers.
        finer = [nn.Upsample(scale_factor=(1, STRIP_STRIDE // frame_stride), mode="nearest")] \
            if frame_stride != STRIP_STRIDE else []
        if finer:
            self.description = self.description.replace(
                "conv 1x5 96", "upsample x2 in width, conv 1x5 96").replace("per 4 columns", "per 2 columns")
        self.features = nn.Sequential(
            conv_bn(1, 32), nn.MaxPool2d(2),                 # 16 x W/2
            conv_bn(32, 48), nn.MaxPool2d(2),                # 8 x W/4
            conv_bn(48, 64), nn.MaxPool2d((2, 1)),           # 4 x W/4
            conv_bn(64, 96), nn.MaxPool2d((2, 1)),           # 2 x W/4
            conv_bn(96, 96, (2, 3), (0, 1)),                 # 1 x W/4
            *finer,                                          # 1 x W/stride
            conv_bn(96, 96, (1, 5), (0, 2)),
            nn.Dropout(dropout),
            nn.Conv2d(96, CLASSES, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 32, W) -> logits (N, W/stride, 11)."""
        return self.features(x).squeeze(2).permute(0, 2, 1)


def _batch(strips: list[np.ndarray], texts: list[str], order: np.ndarray, rng: np.random.Generator,
           jitter: float, frame_stride: int = STRIP_STRIDE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                                     torch.Tensor]:
    import cv2
    images = []
    for k in order:
        s = strips[k]
        if jitter > 0:
            factor = 1.0 + rng.uniform(-jitter, jitter)
            s = cv2.resize(s, (max(8, int(round(s.shape[1] * factor))), STRIP_HEIGHT), interpolation=cv2.INTER_AREA)
        images.append(s)
    width = max(i.shape[1] for i in images)
    width += (-width) % STRIP_STRIDE
    x = np.zeros((len(images), 1, STRIP_HEIGHT, width), np.float32)
    for n, image in enumerate(images):
        x[n, 0, :, :image.shape[1]] = image / 255.0
    targets = torch.tensor([int(c) for k in order for c in texts[k]], dtype=torch.long)
    target_lengths = torch.tensor([len(texts[k]) for k in order], dtype=torch.long)
    input_lengths = torch.tensor([i.shape[1] // frame_stride for i in images], dtype=torch.long)
    return torch.from_numpy(x), targets, input_lengths, target_lengths


def _batches(n: int, strips: list[np.ndarray], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of strips of similar width (little padding)."""
    order = rng.permutation(n)
    chunks = [order[k:k + batch_size * 20] for k in range(0, n, batch_size * 20)]
    out = []
    for chunk in chunks:
        chunk = chunk[np.argsort([strips[k].shape[1] for k in chunk], kind="stable")]
        out += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    return [out[k] for k in rng.permutation(len(out))]


def decode_logits(logits: np.ndarray, frames: int) -> str:
    best = logits[:frames].argmax(axis=1)
    out, previous = [], BLANK
    for cls in best:
        if cls != BLANK and cls != previous:
            out.append(str(int(cls)))
        previous = cls
    return "".join(out)


def string_accuracy(model: nn.Module, strips: list[np.ndarray], texts: list[str], device: torch.device) -> float:
    model.eval()
    right = 0
    with torch.no_grad():
        for k in range(0, len(strips), 128):
            order = np.arange(k, min(k + 128, len(strips)))
            x, _, lengths, _ = _batch(strips, texts, order, np.random.default_rng(0), 0.0,
                                      getattr(model, "frame_stride", STRIP_STRIDE))
            logits = model(x.to(device)).cpu().numpy()
            right += sum(decode_logits(logits[n], int(lengths[n])) == texts[order[n]] for n in range(len(order)))
    return right / max(1, len(strips))


def ctc_step(model: nn.Module, optimizer: torch.optim.Optimizer, ctc: nn.CTCLoss, x: torch.Tensor,
             targets: torch.Tensor, input_lengths: torch.Tensor, target_lengths: torch.Tensor) -> float:
    """One optimizer step on a batch of strips; the batch's CTC loss."""
    log_probs = F.log_softmax(model(x), dim=2).permute(1, 0, 2)  # T, N, C
    loss = ctc(log_probs, targets, input_lengths, target_lengths)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@dataclass
class StripTrainResult:
    model: nn.Module
    config: StripTrainConfig
    data: dict
    val_accuracy: float
    val_size: int
    losses: list[float]
    seconds: float
    device: str
    epochs_done: int
    stopped: bool


def train_strip_reader(config: StripTrainConfig, on_progress: Callable[[Progress], None] | None = None,
                       should_stop: Callable[[], bool] | None = None) -> StripTrainResult:
    started = time.time()
    if config.threads:
        torch.set_num_threads(config.threads)
    generator = seed_everything(config.seed)
    device = choose_device(config.device)
    strips, texts, summary = make_strips(config.mix, should_stop=should_stop)
    if not strips and not summary.get("stopped"):
        raise ValueError("No training strip could be cut from the composed numbers; compose more numbers.")
    if summary.get("stopped"):
        return StripTrainResult(StripNet(frame_stride=config.frame_stride).eval(), config, summary, 0.0, 0, [], time.time() - started,
                                str(device), 0, True)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(strips))
    n_val = int(round(config.val_share * len(strips)))
    val = order[:n_val]
    train_idx = order[n_val:]
    train_strips = [strips[k] for k in train_idx]
    train_texts = [texts[k] for k in train_idx]
    model = StripNet(frame_stride=config.frame_stride).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(train_strips) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=config.epochs * steps_per_epoch)
    ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    losses: list[float] = []
    training_started = time.time()  # the ETA counts training steps only, not the composing before them
    step = 0
    epochs_done = 0
    stopped = False
    for epoch in range(config.epochs):
        if stopped:
            break
        model.train()
        for batch in _batches(len(train_strips), train_strips, config.batch_size, rng):
            x, targets, input_lengths, target_lengths = _batch(train_strips, train_texts, batch, rng,
                                                               config.width_jitter, config.frame_stride)
            loss = ctc_step(model, optimizer, ctc, x.to(device), targets, input_lengths, target_lengths)
            scheduler.step()
            losses.append(loss)
            step += 1
            if on_progress and step % 20 == 0:
                elapsed = time.time() - started
                total = config.epochs * steps_per_epoch
                on_progress(Progress(epoch + 1, config.epochs, step, total, float(np.mean(losses[-20:])), None,
                                     float(scheduler.get_last_lr()[0]), elapsed,
                                     (time.time() - training_started) / step * (total - step)))
            if should_stop and should_stop():
                stopped = True
                break
        else:
            epochs_done += 1
    val_accuracy = string_accuracy(model, [strips[k] for k in val], [texts[k] for k in val], device)
    model.eval()
    return StripTrainResult(model.cpu(), config, summary, val_accuracy, len(val), losses, time.time() - started,
                            str(device), epochs_done, stopped)


class _StripCalibration:
    """Calibration inputs for static int8 quantization: one strip at a time (widths differ)."""

    def __init__(self, strips: list[np.ndarray]):
        self.strips = strips
        self.rewind()

    def rewind(self) -> None:
        self._it = iter([{"strip": (s.astype(np.float32) / 255.0)[None, None]} for s in self.strips])

    def get_next(self) -> dict | None:
        return next(self._it, None)


def export_strip_reader(model: nn.Module, path, check_strips: list[np.ndarray], tolerance: float = 1e-3) -> float:
    """Write the reader as ONNX (input "strip" [N, 1, 32, W], output "frames" [N, W/stride, 11],
    batch and width dynamic) after checking it against torch on ``check_strips``; returns the
    largest logit difference."""
    import io
    import warnings

    import onnx
    import onnxruntime as ort

    from mdr.errors import ModelError
    from mdr.paths import write_bytes_atomic

    model = model.to("cpu").eval()
    buffer = io.BytesIO()
    example = torch.zeros(1, 1, STRIP_HEIGHT, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (example,), buffer, dynamo=False, opset_version=17,
                          input_names=["strip"], output_names=["frames"],
                          dynamic_axes={"strip": {0: "batch", 3: "width"}, "frames": {0: "batch", 1: "frames"}})
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    diff = 0.0
    with torch.no_grad():
        for s in check_strips:
            x = (s.astype(np.float32) / 255.0)[None, None]
            expected = model(torch.from_numpy(x)).numpy()
            got = session.run(None, {"strip": x})[0]
            diff = max(diff, float(np.abs(got - expected).max()))
    if not diff <= tolerance:
        raise ModelError(f"The strip reader's ONNX export differs from torch by {diff:.2e} (tolerance {tolerance:.0e}).")
    from pathlib import Path
    write_bytes_atomic(Path(path), data)
    return diff


def quantize_strip_reader(fp32_path, out_path, calibration_strips: list[np.ndarray]):
    """Static int8 (QDQ, per-channel weights), calibrated on training strips."""
    from onnxruntime.quantization import QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as ort_quantize_static

    from mdr.training.export import _quantize_into

    return _quantize_into(fp32_path, out_path, lambda prepared, tmp: ort_quantize_static(
        prepared, tmp, _StripCalibration(calibration_strips), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8))
