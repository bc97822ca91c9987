"""Fine-tune a strip reader on the strips of the user's corrections.

A short run from the reader's own weights: each batch mixes freshly composed strips (pen and MNIST
numbers, as the reader was trained on, so it forgets nothing) with the corrections' strips,
repeated to a share of the mix. Same loss and batches as :mod:`mdr.training.strip_reader`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from mdr.errors import stop_point
from mdr.recognition.strip import BLANK
from mdr.training.loop import choose_device, seed_everything
from mdr.training.corrections_mix import repeats_for
from mdr.training.strip_reader import StripNet, _batch, _batches, ctc_step
from mdr.training.strips import StripMix, make_strips


@dataclass(frozen=True)
class StripFinetuneSettings:
    steps: int
    """Batches trained (150: about 20 s on two CPU cores)."""
    share: float = 0.25
    """Share of the strips that are the corrections' (repeated)."""
    general_numbers: int = 1500
    """Numbers composed for the rest of the mix (about 2,000 strips)."""
    batch_size: int = 64
    lr: float = 2e-4
    """Gentle: 5e-4 taught as much (12 writers, below) and drifted a little more on spaced numbers."""
    width_jitter: float = 0.12
    seed: int = 1
    device: str = "auto"


@dataclass
class StripFinetuneResult:
    model: nn.Module
    general_strips: list[np.ndarray]
    """The composed strips of the mix: the int8 export is calibrated on them."""
    record: dict
    seconds: float


def load_reader(checkpoint: Path) -> tuple[StripNet, dict]:
    """The reader saved in ``checkpoint`` (``strip.pt``) and its training config."""
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = saved.get("config") or {}
    model = StripNet(frame_stride=int(config.get("frame_stride", 4)))
    model.load_state_dict(saved["state_dict"])
    return model, config


def finetune_reader(model: StripNet, strips: list[np.ndarray], texts: list[str], mix: StripMix,
                    settings: StripFinetuneSettings,
                    on_status: Callable[[str], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> StripFinetuneResult:
    """``model`` (:func:`load_reader`) trained ``settings.steps`` batches on ``strips`` mixed with strips of
    numbers composed as ``mix`` says (the reader's own training mix, fewer numbers, another seed).
    A yes from ``should_stop()`` (asked while composing and at every step) raises
    :class:`~mdr.errors.RunStopped`: a half-taught reader is not kept."""
    started = time.time()
    if not strips:
        raise ValueError("There are no correction strips to teach the strip reader.")
    seed_everything(settings.seed)
    device = choose_device(settings.device)
    if on_status:
        on_status(f"Composing {settings.general_numbers:,} numbers to keep the strip reader's other digits…")
    general, general_texts, _ = make_strips(replace(mix, numbers=settings.general_numbers,
                                                    seed=mix.seed + 1000 + settings.seed), should_stop=should_stop)
    stop_point(should_stop)
    repeats = repeats_for(settings.share, len(strips), len(general))
    all_strips = general + strips * repeats
    all_texts = general_texts + texts * repeats
    model = model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    rng = np.random.default_rng(settings.seed)
    if on_status:
        on_status(f"Teaching the strip reader {len(strips)} strips of your drawings ({settings.steps} steps)…")
    losses: list[float] = []
    while len(losses) < settings.steps:
        for batch in _batches(len(all_strips), all_strips, settings.batch_size, rng):
            x, targets, input_lengths, target_lengths = _batch(all_strips, all_texts, batch, rng,
                                                               settings.width_jitter, model.frame_stride)
            losses.append(ctc_step(model, optimizer, ctc, x.to(device), targets, input_lengths, target_lengths))
            stop_point(should_stop)
            if len(losses) >= settings.steps:
                break
    model = model.cpu().eval()
    record = {"steps": settings.steps, "lr": settings.lr, "share": settings.share, "repeats": repeats,
              "general_numbers": settings.general_numbers, "general_strips": len(general),
              "seed": settings.seed, "loss_first": round(float(np.mean(losses[:10])), 4),
              "loss_last": round(float(np.mean(losses[-10:])), 4), "device": str(device)}
    return StripFinetuneResult(model, general, record, time.time() - started)
