"""Train a digit classifier on MNIST: one config dataclass, one loop.

``train(config)`` is used by ``python -m mdr train`` and can be driven by a
page: ``on_progress`` receives a :class:`Progress` every few steps and at the
end of each epoch, and ``should_stop()`` ends the run after the current step,
keeping the best model seen so far.
"""
from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mdr.training.augment import Augmenter, skeletonize_images
from mdr.data.mnist import load_split
from mdr.training.nets import DIGITS, REJECT_CLASS, build_model, load_matching
from mdr.training.config import TrainConfig

__all__ = ["Progress", "TrainConfig", "TrainHistory", "TrainResult", "train"]


@dataclass
class Progress:
    """What a progress bar and loss/accuracy curves need, sent during training."""

    epoch: int
    epochs: int
    step: int
    total_steps: int
    loss: float
    """Mean training loss over the steps since the previous report."""
    val_acc: float | None
    """Validation accuracy after the latest finished epoch (None: none yet or no split)."""
    lr: float
    elapsed: float
    eta: float
    epoch_end: bool = False


@dataclass
class TrainHistory:
    step_loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)


@dataclass
class TrainResult:
    model: nn.Module
    """The trained (or best-so-far) model, in eval mode, on the CPU."""
    config: TrainConfig
    history: TrainHistory
    stopped: bool
    """True when ``should_stop`` ended the run early."""
    steps: int
    epochs_done: int
    best_val_acc: float | None
    seconds: float
    cpu_seconds: float
    """CPU time of this process: the cost of the run even when other processes slowed it down."""
    device: str
    train_images: int
    val_images: int
    pen: dict | None = None
    """mnist+pen: what the pen digits were (file, checksum, writer split, renderings)."""
    reject: dict | None = None
    """reject_fraction > 0: what the "not a single digit" images were (kinds, sources, seed)."""
    corrections: dict | None = None
    """corrections: which saved drawings trained and which were held out, digits, repeats."""


def choose_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; return the generator that drives shuffling."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def split_indices(n: int, val_size: int, train_size: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of the training set: (train indices, validation indices)."""
    if val_size < 0 or val_size >= n:
        raise ValueError(f"val_size must be between 0 and {n - 1}, not {val_size}.")
    order = np.random.default_rng(seed).permutation(n)
    val, rest = order[:val_size], order[val_size:]
    if train_size is not None:
        if not 0 < train_size <= len(rest):
            raise ValueError(f"train_size must be between 1 and {len(rest)} (with val_size={val_size}).")
        rest = rest[:train_size]
    return np.sort(rest), np.sort(val)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                               weight_decay=config.weight_decay)
    raise ValueError(f"Unknown optimizer '{config.optimizer}': choose adamw or sgd.")


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    if config.schedule == "onecycle":
        # Torch divides by zero when the warm-up ends on the first step (0.2 x 5 steps: a short
        # fine-tune on a small slice); a quarter of such a run warms up instead.
        pct_start = 0.2 if 0.2 * total_steps != 1.0 else 0.25
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps,
                                                   pct_start=pct_start)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    raise ValueError(f"Unknown schedule '{config.schedule}': choose onecycle or cosine.")


def to_float(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 ``[N, 28, 28]`` -> float ``[N, 1, 28, 28]`` in 0..1 on ``device``."""
    return images.to(device).unsqueeze(1).float().div_(255)


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device,
             batch_size: int = 1000) -> float:
    """Fraction of ``images`` (uint8) that ``model`` classifies right."""
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        x = to_float(images[start:start + batch_size], device)
        if device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        # The digits only: a reject-trained model's class 10 is never a digit's answer.
        correct += (model(x)[:, :DIGITS].argmax(1).cpu() == labels[start:start + batch_size]).sum().item()
    model.train(was_training)
    return correct / max(1, len(images))


def train(config: TrainConfig, on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, progress_every: int = 20,
          on_epoch_end: Callable[[int, nn.Module], None] | None = None) -> TrainResult:
    """Train ``config.arch`` on MNIST's training set (plus pen digits with ``mnist+pen``);
    see :class:`TrainConfig`.

    ``on_epoch_end(epoch, model)`` may look at the model after each epoch (the
    benchmarks test it there); it must leave the model as it found it.

    Deterministic for a given seed on the CPU (same threads, same machine).
    """
    config.check()
    started, cpu_started = time.monotonic(), time.process_time()
    generator = seed_everything(config.seed)
    device = choose_device(config.device)
    previous_threads = torch.get_num_threads()
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        result = _train(config, device, generator, started, on_progress, should_stop, progress_every,
                        on_epoch_end)
        result.cpu_seconds = time.process_time() - cpu_started
        return result
    finally:
        torch.use_deterministic_algorithms(previous_deterministic)
        torch.set_num_threads(previous_threads)


@dataclass
class TrainingData:
    """Training images/labels on the device, validation ones on the CPU, skeletons for re-stroking."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    skeletons: torch.Tensor | None
    pen: dict | None = None
    reject: dict | None = None
    corrections: dict | None = None


def load_training_data(config: TrainConfig, device: torch.device) -> TrainingData:
    """MNIST's training split (less the validation images); with ``mnist+pen`` the pen
    digits of the training writers are added to the training images (validation stays MNIST)."""
    images, labels = load_split("train", config.data_dir)
    train_idx, val_idx = split_indices(len(images), config.val_size, config.train_size, config.seed)
    x_train, y_train = images[train_idx], labels[train_idx].astype(np.int64)
    pen = None
    if config.data_mix == "mnist+pen":
        from mdr.training.pen_mix import PenMix, pen_training_images

        mix = PenMix(config.pen_renders, config.pen_split_seed, config.seed, styles=config.pen_styles,
                     validation=config.pen_validation, variation=config.pen_variation)
        pen_x, pen_y, pen = pen_training_images(mix)
        x_train, y_train = np.concatenate([x_train, pen_x]), np.concatenate([y_train, pen_y])
    reject = None
    if config.reject_fraction > 0:
        from mdr.training.reject import RejectMix, reject_training_images

        count = int(round(config.reject_fraction / (1 - config.reject_fraction) * len(x_train)))
        reject_x, reject = reject_training_images(RejectMix(count, config.seed, config.pen_split_seed,
                                                            ones=config.reject_ones,
                                                            validation=config.pen_validation),
                                                  config.data_dir)
        x_train = np.concatenate([x_train, reject_x])
        y_train = np.concatenate([y_train, np.full(len(reject_x), REJECT_CLASS, np.int64)])
    corrections = None
    if config.corrections:
        from mdr.training.corrections_mix import CorrectionsMix, corrections_training_images

        mix = CorrectionsMix(config.corrections_share, config.corrections_holdout, config.seed)
        own_x, own_y, corrections = corrections_training_images(mix, len(x_train))
        x_train, y_train = np.concatenate([x_train, own_x]), np.concatenate([y_train, own_y])
    skeletons = None
    if config.augment and config.restroke_p > 0:
        skeletons = torch.from_numpy(skeletonize_images(x_train)).to(device)
    return TrainingData(
        x_train=torch.from_numpy(x_train).to(device),
        y_train=torch.from_numpy(y_train).to(device),
        x_val=torch.from_numpy(images[val_idx]),
        y_val=torch.from_numpy(labels[val_idx].astype(np.int64)),
        skeletons=skeletons,
        pen=pen,
        reject=reject,
        corrections=corrections,
    )


def starting_weights(name: str, arch: str) -> dict:
    """The state dict of registered model ``name``, refused in words when its architecture differs
    (a 10-class model may start an 11-class one: see :func:`mdr.training.nets.load_matching`)."""
    from mdr.models.registry import CHECKPOINT, model_dir

    path = model_dir(name) / CHECKPOINT
    if not path.is_file():
        raise ValueError(f"init_from: model '{name}' has no {CHECKPOINT} to start from.")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if checkpoint.get("arch") != arch:
        raise ValueError(f"init_from: '{name}' is a {checkpoint.get('arch')} model, not {arch}.")
    return checkpoint["state_dict"]


def train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer,
               scheduler, label_smoothing: float) -> float:
    """One optimizer step on one batch; returns the batch loss."""
    if x.device.type == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
    loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    scheduler.step()
    return loss.item()


def _train(config: TrainConfig, device: torch.device, generator: torch.Generator, started: float,
           on_progress, should_stop, progress_every: int, on_epoch_end=None) -> TrainResult:
    data = load_training_data(config, device)
    device_generator = generator if device.type == "cpu" else torch.Generator(device).manual_seed(config.seed)
    augmenter = Augmenter(config, data.skeletons, device_generator)

    model = build_model(config.arch, config.classes)
    if config.init_from:
        load_matching(model, starting_weights(config.init_from, config.arch))
    model = model.to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)  # about 1.5x faster convolutions on CPU
    optimizer = make_optimizer(model, config)
    n = len(data.x_train)
    batch_size = min(config.batch_size, n)
    steps_per_epoch = n // batch_size  # drop the ragged last batch: BatchNorm needs full ones
    total_steps = steps_per_epoch * config.epochs
    scheduler = make_scheduler(optimizer, config, total_steps)

    history = TrainHistory()
    best_state, best_val = None, None
    step, epochs_done, stopped = 0, 0, False
    val_acc = None
    loss_since_report: list[float] = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        epoch_losses = []
        for batch in range(steps_per_epoch):
            idx = order[batch * batch_size:(batch + 1) * batch_size]
            x = augmenter(to_float(data.x_train[idx], device), idx)
            value = train_step(model, x, data.y_train[idx], optimizer, scheduler, config.label_smoothing)
            step += 1
            epoch_losses.append(value)
            loss_since_report.append(value)
            history.step_loss.append(value)
            history.lr.append(optimizer.param_groups[0]["lr"])
            stopped = bool(should_stop and should_stop())
            if on_progress and (step % progress_every == 0 or stopped):
                on_progress(_progress(epoch, config.epochs, step, total_steps, loss_since_report, val_acc,
                                      history.lr[-1], started))
                loss_since_report = []
            if stopped:
                break
        if epoch_losses:
            history.epoch_loss.append(float(np.mean(epoch_losses)))
        if not stopped:
            epochs_done = epoch
        if len(data.x_val):
            val_acc = accuracy(model, data.x_val, data.y_val, device)
            history.val_acc.append(val_acc)
            if best_val is None or val_acc > best_val:
                best_val, best_state = val_acc, copy.deepcopy(model.state_dict())
        if on_epoch_end and not stopped:
            on_epoch_end(epoch, model)
        if on_progress:
            on_progress(_progress(epoch, config.epochs, step, total_steps, epoch_losses, val_acc,
                                  history.lr[-1] if history.lr else config.lr, started, epoch_end=True))
        loss_since_report = []
        if stopped:
            break

    if best_state is not None:
        model.load_state_dict(best_state)
    model = model.to("cpu", memory_format=torch.contiguous_format).eval()
    return TrainResult(
        model=model, config=config, history=history, stopped=stopped, steps=step, epochs_done=epochs_done,
        best_val_acc=best_val, seconds=time.monotonic() - started, cpu_seconds=0.0, device=str(device),
        train_images=n, val_images=len(data.x_val), pen=data.pen, reject=data.reject,
        corrections=data.corrections,
    )


def _progress(epoch: int, epochs: int, step: int, total_steps: int, losses: list[float],
              val_acc: float | None, lr: float, started: float, epoch_end: bool = False) -> Progress:
    elapsed = time.monotonic() - started
    eta = elapsed / step * (total_steps - step) if step else 0.0
    loss = float(np.mean(losses)) if losses else float("nan")
    return Progress(epoch=epoch, epochs=epochs, step=step, total_steps=total_steps, loss=loss,
                    val_acc=val_acc, lr=lr, elapsed=elapsed, eta=eta, epoch_end=epoch_end)
