"""The one dataclass that decides what a training run produces.

Kept free of torch so that the command line and pages can build and show a
config without loading torch; :mod:`mdr.training.loop` re-exports it.
"""
from __future__ import annotations

from dataclasses import dataclass


DATA_MIXES = ("mnist", "mnist+pen")


@dataclass
class TrainConfig:
    """Everything that decides what a training run produces."""

    arch: str = "cnn"
    epochs: int = 15
    batch_size: int = 128
    lr: float = 3e-3
    """Peak learning rate (onecycle) or starting one (cosine)."""
    optimizer: str = "adamw"
    """"adamw" or "sgd" (Nesterov momentum 0.9)."""
    schedule: str = "onecycle"
    """"onecycle" (warm-up then anneal) or "cosine" (anneal from the start)."""
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0

    # --- augmentation: each kind is applied to a fraction p of every batch ---
    augment: bool = True
    """Master switch for all augmentation."""
    affine_p: float = 0.5
    rotate_deg: float = 12.0
    shear: float = 0.2
    scale: float = 0.1
    """Zoom in ``1 +- scale``."""
    translate_px: float = 2.0
    thickness_p: float = 0.15
    thickness_strength: float = 1.0
    """Largest dilation/erosion, in one-pixel steps (up to 2)."""
    restroke_p: float = 0.15
    restroke_min_width: float = 1.5
    restroke_max_width: float = 4.0
    """Brush diameter range, in pixels of the 28x28 image."""
    restroke_blur: float = 0.5
    elastic_p: float = 0.0
    """Fraction of each batch bent by a smooth random displacement field: the wobble by which one
    writer's 3 differs from another's, which affine warps cannot make."""
    elastic_px: float = 1.0
    """Typical displacement of the elastic field, in pixels of the 28x28 image."""

    init_from: str | None = None
    """Start from the weights of this registered model (fine-tuning) instead of a fresh
    network; it must be of the same ``arch``."""

    # --- data ---
    train_size: int | None = None
    """Training images to use (None: all left after the validation split)."""
    val_size: int = 5000
    """Images held out of the training set for validation (0: none)."""
    data_dir: str | None = None
    data_mix: str = "mnist"
    """"mnist", or "mnist+pen": also the pen digits of the pen-digits training writers,
    stroked like canvas drawings and normalized the recognizer's way (:mod:`mdr.training.pen_mix`)."""
    pen_renders: int = 3
    """mnist+pen: renderings of every training writer's digit (each its own brush and height)."""
    pen_split_seed: int = 0
    """mnist+pen: seed of the writer split; its evaluation writers are never trained on."""
    pen_validation: float = 0.0
    """mnist+pen: share of all writers also held out, as validation writers, so settings can be
    chosen on writers the model never saw (``pen-eval --writers validation``); 0: none."""
    pen_variation: float = 0.0
    """mnist+pen: strength of the random re-slant, turn and widening of each pen digit before it is
    drawn (1: up to :data:`mdr.data.pen.WRITER_VARIATION`), as writers the corpus lacks would write it."""
    pen_styles: float = 0.0
    """mnist+pen: chance that a pen 0, 1 or 7 is re-written as a slashed zero, a flagged one
    or a crossed seven (:mod:`mdr.training.styles`): styles some people write and few trainers show."""
    reject_fraction: float = 0.0
    """Share of the training images that are "not a single digit" (class 10: touching pairs,
    parts of digits, fragments; :mod:`mdr.training.reject`). 0 trains today's 10-class model;
    above 0 the network gets an 11th output the recognizer's split search reads as evidence."""
    reject_ones: float = 0.0
    """Chance that a touching pair (or a digit with a chunk of its neighbour) among those images
    has a 1 as one of its digits: a 1 leaning on its neighbour, which otherwise reads as the
    neighbour alone ("41" as "4"). 0: both digits drawn at random."""

    corrections: bool = False
    """Also train on the digits of the saved corrections (:mod:`mdr.training.corrections_mix`),
    repeated to ``corrections_share`` of the images; a share of the drawings is held out."""
    corrections_share: float = 0.25
    """corrections: share of the training images that are correction digits (repeats included)."""
    corrections_holdout: float = 0.2
    """corrections: share of the saved drawings kept out of training, to measure before and after."""
    corrections_strip_steps: int = 0
    """corrections: batches that also teach the strip reader carried from ``init_from`` the training
    drawings' strips, touching digits included (:mod:`mdr.training.strip_finetune`); 0 carries it
    unchanged. The digit classifier never reads touching digits whole: only the reader can learn them."""

    # --- reproducibility and hardware ---
    seed: int = 1
    device: str = "auto"
    """"auto" (CUDA when available, else CPU), "cpu" or "cuda"."""
    threads: int = 1
    """CPU threads for torch (0: torch's default). One thread is about 1.5x slower
    than two on an idle 2-core machine, but several times faster when other
    processes compete for the cores (threads then wait on each other), and it
    leaves a core for the app."""

    @property
    def classes(self) -> int:
        """Outputs of the network: the ten digits, plus "not a single digit" when rejects are trained."""
        return 11 if self.reject_fraction > 0 else 10

    def check(self) -> None:
        """Raise ValueError, with a message for a person, on settings that cannot work."""
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError("epochs must be at least 1 and batch_size at least 2.")
        if not self.lr > 0 or self.weight_decay < 0 or not 0 <= self.label_smoothing < 1:
            raise ValueError("lr must be positive, weight_decay not negative, label_smoothing in [0, 1).")
        for name in ("affine_p", "thickness_p", "restroke_p", "elastic_p"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a fraction of each batch: between 0 and 1.")
        if not 0 <= self.elastic_px <= 6:
            raise ValueError("elastic_px is a displacement in pixels of the 28x28 image: from 0 to 6.")
        if self.thickness_p + self.restroke_p > 1:
            raise ValueError("thickness_p + restroke_p must not exceed 1 (an image gets one stroke change).")
        if self.data_mix not in DATA_MIXES:
            raise ValueError(f"data_mix must be one of {', '.join(DATA_MIXES)}, not {self.data_mix!r}.")
        if not 0 <= self.reject_fraction < 0.5:
            raise ValueError("reject_fraction is a share of the training images: from 0 to below 0.5.")
        if not 0 <= self.reject_ones <= 1:
            raise ValueError("reject_ones is a probability: between 0 and 1.")
        from mdr.data.pen import check_validation_share, check_variation  # loads OpenCV: only when checked
        from mdr.training.styles import check_styles

        check_styles(self.pen_styles)
        check_validation_share(self.pen_validation)
        check_variation(self.pen_variation)
        if not 0 < self.corrections_share < 0.9:
            raise ValueError("corrections_share is a share of the training images: above 0, below 0.9.")
        if not 0 <= self.corrections_holdout < 0.9:
            raise ValueError("corrections_holdout is a share of the saved drawings: from 0 to below 0.9.")
        if self.corrections_strip_steps < 0:
            raise ValueError("corrections_strip_steps must be 0 (the strip reader unchanged) or more.")
        if self.pen_renders < 1:
            raise ValueError("pen_renders must be at least 1.")
        if not 0 < self.restroke_min_width <= self.restroke_max_width <= 6:
            raise ValueError("restroke widths must satisfy 0 < min <= max <= 6 pixels.")
