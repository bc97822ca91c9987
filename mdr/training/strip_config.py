"""The strip reader's training settings, apart from the training code so that the app can
build and check them without importing torch."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from mdr.data.pen import check_validation_share, check_variation
from mdr.recognition.strip import FRAME_STRIDES, STRIP_STRIDE
from mdr.training.strips import StripMix
from mdr.training.styles import check_styles


@dataclass(frozen=True)
class StripTrainConfig:
    mix: StripMix = field(default_factory=StripMix)
    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    width_jitter: float = 0.12
    """Strips are stretched or squeezed in width by up to this share (people write narrow and wide)."""
    val_share: float = 0.05
    frame_stride: int = STRIP_STRIDE
    """Strip columns per output frame: 4, or 2 for twice the frames (room for two narrow 1s)."""
    seed: int = 1
    device: str = "auto"
    threads: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mix"] = self.mix.to_dict()
        return d

    def check(self) -> None:
        """Raise ValueError, with a message for a person, on settings that cannot work
        (before minutes are spent composing strips)."""
        mix = self.mix
        if mix.numbers < 1:
            raise ValueError("numbers must be at least 1: the strips are cut from composed numbers.")
        for name in ("touching_share", "mnist_share"):
            if not 0 <= getattr(mix, name) <= 1:
                raise ValueError(f"{name} is a share of the composed numbers: between 0 and 1.")
        check_validation_share(mix.pen_validation)
        check_variation(mix.pen_variation)
        check_styles(mix.pen_styles)
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1.")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ValueError("lr must be positive and weight_decay not negative.")
        if not 0 <= self.width_jitter < 1:
            raise ValueError("width_jitter is a share of a strip's width: from 0 to below 1.")
        if not 0 <= self.val_share < 1:
            raise ValueError("val_share is a share of the strips held out: from 0 to below 1.")
        if self.frame_stride not in FRAME_STRIDES:
            raise ValueError(f"frame_stride is {' or '.join(map(str, FRAME_STRIDES))} strip columns per frame.")
        if self.threads < 0:
            raise ValueError("threads must be 0 (torch's default) or more.")
