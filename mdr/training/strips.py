"""Training strips for the strip reader: the parts the recognizer would hand it, with their digits.

Numbers are composed exactly as the pen evaluation composes them (touching and
spaced, brush 8-24 px, heights 60-160 px, gentle slopes), from the pen digits of
the *training* writers and from MNIST *training* digits re-stroked like a pen.
Each image goes through the recognizer's own front end (greyscale, polarity,
binarization, components, merges), and every part becomes one strip labelled
with the digits whose ink centres lie inside it: touching runs of 2-6 digits,
and single digits wide enough to be asked about (a wide 0 must stay one digit).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from mdr.data.compose import compose_sample
from mdr.data.mnist import load_split
from mdr.data.pen import PEN_CONDITIONS, digits_of, cached_pen, PenBank, split_writers
from mdr.data.synth import DigitBank
from mdr.recognition.config import DEFAULT_CONFIG
from mdr.recognition.preprocess import binarize, decide_polarity, rescale_for_work, to_grey
from mdr.recognition.segment import Part, estimate_stroke_width, label_ink, merge_components, remove_specks
from mdr.recognition.strip import MIN_SINGLE_ASPECT, strip_input
from mdr.training.styles import restyle

MIN_ASPECT = MIN_SINGLE_ASPECT
"""Single-digit parts narrower than this are never asked about, so never trained on."""


@dataclass(frozen=True)
class StripMix:
    """What the strips are made of; recorded in the model card."""

    numbers: int = 40000
    """Numbers composed (each gives one or more strips)."""
    touching_share: float = 0.7
    """Share of the numbers whose neighbours touch (the rest are spaced)."""
    mnist_share: float = 0.3
    """Share of the numbers written with MNIST training digits (the rest: pen training writers)."""
    min_single_aspect: float = MIN_ASPECT
    """Single digits narrower than this times their height make no strip (0: every digit does)."""
    seed: int = 0
    pen_split_seed: int = 0
    pen_validation: float = 0.0
    """Share of all writers held out as validation writers (not drawn from; 0: none)."""
    pen_variation: float = 0.0
    """Strength of the random re-slant, turn and widening of each pen number (1: up to
    :data:`mdr.data.pen.WRITER_VARIATION`; 0: the digits as written): more writers than the corpus has."""
    pen_styles: float = 0.0
    """Chance that a pen 0, 1 or 7 of a composed number is written in its other style: slashed, flagged
    or crossed (:mod:`mdr.training.styles`, as for the digit classifier). The reader's second opinion
    is multiplied into the classifier's, so a reader that never saw a slashed zero outvotes it."""
    pen_data: str | None = None
    data_dir: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class StyledPenBank(PenBank):
    """A pen bank whose 0s, 1s and 7s are sometimes written in their other style
    (:func:`mdr.training.styles.restyle`), each digit of a number on its own."""

    def __init__(self, digits, styles: float, variation: float = 0.0):
        super().__init__(digits, variation=variation)
        self.styles = styles

    def pick_number(self, labels, rng):
        picked = super().pick_number(labels, rng)
        return [[restyle(d, self.styles, rng) for d in line] for line in picked]


def front_end(image: np.ndarray) -> tuple[list[Part], float, float]:
    """The recognizer's steps up to its parts: (parts, working scale, brush width)."""
    cfg = DEFAULT_CONFIG
    grey, scale = rescale_for_work(to_grey(image, cfg), cfg)
    ink, _ = decide_polarity(grey)
    mask, _ = binarize(ink, cfg)
    labels, components = label_ink(mask)
    stroke = estimate_stroke_width(mask)
    kept, height = remove_specks(components, stroke, cfg)
    parts, _ = merge_components(kept, labels, height, cfg)
    return parts, scale, stroke


def labelled_parts(sample, parts: list[Part], scale: float) -> list[tuple[Part, str]] | None:
    """Each part with the digits whose ink centre lies in its box (left to right);
    None when a digit lands in no part or a part holds none (a stray mark)."""
    centres = [((x + w / 2) * scale, (y + h / 2) * scale) for x, y, w, h in sample.boxes]
    digits = [c for c in sample.number if c != "\n"]
    owner = [-1] * len(centres)
    for k, part in enumerate(parts):
        x, y, w, h = part.box
        for i, (cx, cy) in enumerate(centres):
            if x <= cx <= x + w and y <= cy <= y + h and owner[i] < 0:
                owner[i] = k
    if min(owner, default=-1) < 0:
        return None
    out = []
    for k, part in enumerate(parts):
        mine = sorted((centres[i][0], digits[i]) for i in range(len(centres)) if owner[i] == k)
        if not mine:
            return None
        out.append((part, "".join(d for _, d in mine)))
    return out


def make_strips(mix: StripMix, on_progress=None, should_stop=None) -> tuple[list[np.ndarray], list[str], dict]:
    """uint8 (32, W) strips, their digit strings, and a summary for the card.

    ``should_stop()`` is asked every 100 numbers: composing 40,000 takes minutes, and a person
    who pressed Stop should not wait for it (the summary then says ``"stopped": True``)."""
    rng = np.random.default_rng(mix.seed)
    pen = cached_pen(mix.pen_data)
    split = split_writers(pen.writers, mix.pen_split_seed, validation_fraction=mix.pen_validation)
    pen_bank = (StyledPenBank(digits_of(pen, split.train), mix.pen_styles, variation=mix.pen_variation)
                if mix.pen_styles > 0 else PenBank(digits_of(pen, split.train), variation=mix.pen_variation))
    images, labels = load_split("train", mix.data_dir)
    mnist_bank = DigitBank(images, labels)
    touching, spaced = PEN_CONDITIONS["touching"], PEN_CONDITIONS["spaced"]
    spaced = replace(spaced, digit_count=(1, 6))
    strips: list[np.ndarray] = []
    texts: list[str] = []
    counts = {"numbers": 0, "dropped numbers": 0, "strips": 0, "single-digit strips": 0}
    stopped = False
    for n in range(mix.numbers):
        if should_stop is not None and n % 100 == 0 and should_stop():
            stopped = True
            break
        spec = touching if rng.random() < mix.touching_share else spaced
        bank = mnist_bank if rng.random() < mix.mnist_share else pen_bank
        sample = compose_sample(spec, bank, rng)
        parts, scale, stroke = front_end(sample.image)
        labelled = labelled_parts(sample, parts, scale) if parts else None
        counts["numbers"] += 1
        if labelled is None:
            counts["dropped numbers"] += 1
            continue
        for part, text in labelled:
            if len(text) == 1 and part.aspect < mix.min_single_aspect:
                continue
            strip = strip_input(part.mask, stroke)
            strips.append(np.round(strip * 255).astype(np.uint8))
            texts.append(text)
            counts["single-digit strips" if len(text) == 1 else "strips"] += 1
        if on_progress and n % 500 == 0:
            on_progress(n, mix.numbers)
    summary = {"mix": mix.to_dict(), "writer_split": split.to_dict(), **counts}
    if stopped:
        summary["stopped"] = True
    return strips, texts, summary
