"""Real handwriting: pen-digits trajectories, split by writer, stroked like a canvas.

A pen-digits file (``pen-digits/1``: gzip JSON, one sample per digit, the
pen's strokes in millimetres, the writer's id) is the nearest thing to what
users draw: real people's slashed zeros, flagged ones, crossed sevens.
Writers, never samples, are split into training and evaluation writers
(digits of one person look alike, so a shared writer would flatter a model).

Each trajectory is stroked with a round anti-aliased brush at canvas scale,
keeping the aspect of its millimetre coordinates, and numbers are composed
by :mod:`mdr.data.compose` from the digits of one writer at a time.
"""
from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from mdr.data.canvas import DrawnDigit
from mdr.data.compose import LAYOUT, ConditionSpec, Sample, compose_sample, condition_rng
from mdr.data.strokes import SUBPIXEL_BITS
from mdr.errors import DataError

PEN_FILE = Path(__file__).resolve().parent / "pen_digits" / "pen-digits-dev.json.gz"
"""The committed copy (CC BY 4.0; attribution in the README beside it)."""
FORMAT = "pen-digits/1"
WRITER_SPLIT_SEED = 0
EVAL_FRACTION = 0.2
"""Share of the writers kept for evaluation."""
VALIDATION_FRACTION = 0.2
"""Share of all writers a run trained with ``--pen-validation`` holds out for choosing settings
(the value pen-eval's ``--writers validation`` reads by default)."""
MAX_VALIDATION_FRACTION = 0.6
"""The most a training run may hold out as validation writers (the evaluation writers take 0.2)."""
MAX_ASPECT = 3.0
"""Samples wider than this times their height are scribbles or bad records, and are skipped."""


@dataclass(frozen=True)
class PenDigit:
    """One handwritten digit: its strokes in millimetres (y down) and who wrote it."""

    label: int
    writer: int
    contributor: str
    strokes: tuple[np.ndarray, ...]
    """float32 (K, 2) x, y per pen-down stroke, in writing order."""
    index: int
    """Position of the sample in its file."""

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """x0, y0, width, height of the trajectory, in millimetres."""
        points = np.concatenate(self.strokes)
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)

    @property
    def aspect(self) -> float:
        _, _, width, height = self.extent
        return width / height


@dataclass(frozen=True)
class PenData:
    """The usable digits of one pen-digits file."""

    path: Path
    digits: tuple[PenDigit, ...]
    skipped: int
    """Samples left out: no ink, no height, or far wider than tall."""

    @property
    def writers(self) -> tuple[int, ...]:
        return tuple(sorted({d.writer for d in self.digits}))


def resolve_file(data: str | os.PathLike | None = None) -> Path:
    """The pen-digits file named by ``data``: a file, or a folder holding exactly one such file."""
    if data is None:
        return PEN_FILE
    path = Path(data)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.name.endswith((".json", ".json.gz")))
        if len(found) != 1:
            names = ", ".join(p.name for p in found) or "none"
            raise DataError(f"{path} should hold one pen-digits file (.json or .json.gz); found {names}.")
        return found[0]
    if not path.is_file():
        raise DataError(f"Pen-digits file {path} does not exist.")
    return path


def load_pen(data: str | os.PathLike | None = None) -> PenData:
    """Read a pen-digits file (the committed copy by default); refuse other formats in words."""
    path = resolve_file(data)
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path} is not a readable pen-digits file ({e}).") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or not isinstance(raw.get("samples"), list):
        raise DataError(f"{path} is not a {FORMAT} file (a JSON object with format '{FORMAT}' and samples).")
    digits, skipped = [], 0
    for index, sample in enumerate(raw["samples"]):
        digit = _digit(sample, index)
        if digit is None:
            skipped += 1
        else:
            digits.append(digit)
    if not digits:
        raise DataError(f"{path} holds no usable digit.")
    return PenData(path, tuple(digits), skipped)


def _digit(sample: dict, index: int) -> PenDigit | None:
    try:
        label = int(sample["label"])
        strokes = tuple(np.asarray(s, np.float32).reshape(-1, 2) for s in sample["strokes"] if len(s))
        writer = int(sample["writer"])
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 <= label <= 9 or not strokes:
        return None
    digit = PenDigit(label, writer, str(sample.get("contributor", "")), strokes, index)
    _, _, width, height = digit.extent
    if not height > 0 or width > MAX_ASPECT * height:
        return None
    return digit


@lru_cache(maxsize=4)
def _cached(path: str) -> PenData:
    return load_pen(path)


def cached_pen(data: str | os.PathLike | None = None) -> PenData:
    """:func:`load_pen`, read once per file and process."""
    return _cached(str(resolve_file(data)))


@dataclass(frozen=True)
class WriterSplit:
    """Which writers train and which evaluate; recorded with every result that uses it."""

    seed: int
    eval_fraction: float
    train: tuple[int, ...]
    eval: tuple[int, ...]
    validation: tuple[int, ...] = ()
    """Writers held out of training too, for choosing settings (empty unless asked for)."""
    validation_fraction: float = 0.0

    def to_dict(self) -> dict:
        d = {"seed": self.seed, "eval_fraction": self.eval_fraction,
             "train_writers": list(self.train), "eval_writers": list(self.eval)}
        if self.validation:
            d.update(validation_fraction=self.validation_fraction, validation_writers=list(self.validation))
        return d


def split_writers(writers: tuple[int, ...] | list[int], seed: int = WRITER_SPLIT_SEED,
                  eval_fraction: float = EVAL_FRACTION, validation_fraction: float = 0.0) -> WriterSplit:
    """Seeded split of whole writers; the same writers and seed give the same split.

    A validation fraction above 0 takes that share of all writers out of the training
    writers (the evaluation writers stay the same), so settings can be chosen on writers
    the models never saw without looking at the evaluation writers.
    """
    unique = sorted(set(int(w) for w in writers))
    if not 0 < eval_fraction < 1 or len(unique) < 2:
        raise ValueError("A writer split needs at least two writers and a fraction between 0 and 1.")
    if not 0 <= validation_fraction < 1 - eval_fraction:
        raise ValueError(f"The validation writers' share must be at least 0 and below "
                         f"{1 - eval_fraction:g} (what the evaluation writers leave); got {validation_fraction:g}.")
    order = np.random.default_rng(seed).permutation(unique)
    n_eval = min(len(unique) - 1, max(1, int(round(eval_fraction * len(unique)))))
    n_val = int(round(validation_fraction * len(unique)))
    if validation_fraction > 0:
        n_val = min(len(unique) - n_eval - 1, max(1, n_val))
    rest = order[n_eval:]
    return WriterSplit(seed, eval_fraction, tuple(sorted(int(w) for w in rest[n_val:])),
                       tuple(sorted(int(w) for w in order[:n_eval])),
                       tuple(sorted(int(w) for w in rest[:n_val])), validation_fraction if n_val else 0.0)


def check_validation_share(share: float) -> None:
    """Raise ValueError, in words, for a ``pen_validation`` share a training run cannot use."""
    if not 0 <= share <= MAX_VALIDATION_FRACTION:
        raise ValueError("pen_validation is a share of all pen writers held out as validation writers: from 0 to "
                         f"{MAX_VALIDATION_FRACTION:g} (the evaluation writers take {EVAL_FRACTION:g}).")


def digits_of(data: PenData, writers: tuple[int, ...] | None) -> list[PenDigit]:
    """The digits written by ``writers`` (all digits when None)."""
    if writers is None:
        return list(data.digits)
    keep = set(writers)
    return [d for d in data.digits if d.writer in keep]


def draw_pen_digit(digit: PenDigit, height: float, brush: int) -> DrawnDigit:
    """Stroke the trajectory with a round anti-aliased brush so the ink is ``height`` px tall.

    Round caps and joints, as a canvas draws a mouse or pen path; the aspect
    of the millimetre coordinates is kept. A stroke that never moves is a dot.
    """
    x0, y0, width, path_height = digit.extent
    scale = max(height - brush, 0.5 * height) / path_height
    pad = brush / 2 + 2
    patch_w = int(np.ceil(width * scale + 2 * pad)) + 1
    patch_h = int(np.ceil(path_height * scale + 2 * pad)) + 1
    coverage = np.zeros((patch_h, patch_w), np.uint8)
    for stroke in digit.strokes:
        xy = (stroke - [x0, y0]) * scale + pad
        fixed = np.round(xy * (1 << SUBPIXEL_BITS)).astype(np.int32)
        if len(np.unique(fixed, axis=0)) == 1:
            cv2.circle(coverage, tuple(int(v) for v in fixed[0]), int(round(brush / 2 * (1 << SUBPIXEL_BITS))),
                       255, -1, cv2.LINE_AA, shift=SUBPIXEL_BITS)
        else:
            cv2.polylines(coverage, [fixed], False, 255, thickness=int(brush), lineType=cv2.LINE_AA,
                          shift=SUBPIXEL_BITS)
    return DrawnDigit(coverage, digit.label, digit.index, path_height * scale + brush)


def pen_digit_picture(source: int, data: str | os.PathLike | None = None, height: int = 64,
                      brush: int = 6) -> np.ndarray:
    """Pen digit ``source`` (its index in the file) as a person would see it: dark ink on white."""
    digit = next((d for d in cached_pen(data).digits if d.index == source), None)
    if digit is None:
        raise DataError(f"The pen-digits file has no usable digit number {source}.")
    return 255 - np.pad(draw_pen_digit(digit, height, brush).coverage, brush)


@dataclass(frozen=True)
class WriterVariation:
    """The widest re-slant, turn and widening of a training number's digits: a writer who is
    not in the corpus slants, turns and widens the same shapes differently. Scaled by a strength
    (:class:`PenBank`'s ``variation``); one draw per number, as one person writes it."""

    slant: float = 0.3
    """Horizontal shift per unit of height (a shear): 0.3 leans a digit about 17 degrees."""
    rotate_deg: float = 6.0
    width: float = 0.2
    """Widths are multiplied by a factor from 1/(1 + width) to 1 + width."""


WRITER_VARIATION = WriterVariation()
MAX_PEN_VARIATION = 2.0
"""Twice :data:`WRITER_VARIATION` already leans a digit 31 degrees."""


def check_variation(strength: float) -> None:
    """Raise ValueError, in words, on a writer-variation strength no run should use."""
    if not 0 <= strength <= MAX_PEN_VARIATION:
        raise ValueError(f"pen_variation is a strength from 0 (digits as written) to {MAX_PEN_VARIATION:g}.")


def vary_digit(digit: PenDigit, slant: float, angle: float, widen: float) -> PenDigit:
    """The digit re-slanted (shear ``slant``), turned by ``angle`` radians and widened by ``widen``,
    about its centre; its label, writer and index unchanged."""
    x0, y0, width, height = digit.extent
    centre = np.array([x0 + width / 2, y0 + height / 2], np.float32)
    cos, sin = np.cos(angle), np.sin(angle)
    # y grows downwards: a positive slant moves the top of the digit to the right.
    matrix = np.array([[widen, 0.0], [0.0, 1.0]]) @ np.array([[cos, -sin], [sin, cos]]) @ np.array(
        [[1.0, -slant], [0.0, 1.0]])
    strokes = tuple(((s - centre) @ matrix.T.astype(np.float32) + centre).astype(np.float32) for s in digit.strokes)
    return replace(digit, strokes=strokes)


def random_hand(strength: float, rng: np.random.Generator) -> tuple[float, float, float]:
    """(slant, angle in radians, widening) for :func:`vary_digit`, each uniform within ``strength``
    times :data:`WRITER_VARIATION` (the widening uniform in its logarithm)."""
    v = WRITER_VARIATION
    slant = float(rng.uniform(-1, 1)) * v.slant * strength
    angle = float(np.radians(float(rng.uniform(-1, 1)) * v.rotate_deg * strength))
    widen = float((1 + v.width * strength) ** rng.uniform(-1, 1))
    return slant, angle, widen


class PenBank:
    """Digits by writer and label; every number is written by one writer.

    ``variation`` > 0 re-slants, turns and widens each number's digits at random (up to that
    share of :data:`WRITER_VARIATION`), so training numbers look written by more people than
    the corpus holds; evaluation banks keep 0."""

    def __init__(self, digits: list[PenDigit], variation: float = 0.0):
        if not digits:
            raise DataError("No pen digits to draw from (no digit of the chosen writers).")
        if variation < 0:
            raise ValueError("variation is a strength: 0 or more.")
        self.variation = variation
        self.by_writer: dict[int, list[list[PenDigit]]] = {}
        for digit in digits:
            self.by_writer.setdefault(digit.writer, [[] for _ in range(10)])[digit.label].append(digit)
        self.writers = sorted(self.by_writer)

    def pick_number(self, labels: list[list[int]], rng: np.random.Generator) -> list[list[PenDigit]]:
        """One writer (one who wrote every label needed, when there is one), then one of
        their digits per label; a label the writer never wrote becomes one they did."""
        needed = {label for row in labels for label in row}
        complete = [w for w in self.writers if all(self.by_writer[w][label] for label in needed)]
        pool = complete or self.writers
        own = self.by_writer[pool[int(rng.integers(len(pool)))]]
        written = [label for label in range(10) if own[label]]
        picked = []
        for row in labels:
            line = []
            for label in row:
                if not own[label]:
                    label = written[int(rng.integers(len(written)))]
                line.append(own[label][int(rng.integers(len(own[label])))])
            picked.append(line)
        if self.variation > 0:
            hand = random_hand(self.variation, rng)
            picked = [[vary_digit(d, *hand) for d in line] for line in picked]
        return picked

    def aspect(self, digit: PenDigit) -> float:
        return digit.aspect

    def draw(self, digit: PenDigit, height: float, brush: int, split: bool,
             rng: np.random.Generator) -> DrawnDigit:
        return draw_pen_digit(digit, height, brush)  # real strokes: pen lifts are already there


PEN_LAYOUT = replace(LAYOUT, canvas_width=(900, 900), canvas_height=(300, 300))
"""The app's drawing canvas is 900x300 (:mod:`mdr.app.widgets`)."""
PEN_BRUSH = (8, 24)
PEN_HEIGHT = (60, 160)
PEN_SLOPE = 0.06


def _pen_condition(name: str, description: str, **changes) -> ConditionSpec:
    settings = dict(brush=PEN_BRUSH, digit_height=PEN_HEIGHT, digit_count=(1, 8), max_brush_ratio=0.34,
                    baseline_slope=PEN_SLOPE, layout=PEN_LAYOUT)
    settings.update(changes)
    return ConditionSpec(name, description, **settings)


PEN_CONDITIONS: dict[str, ConditionSpec] = {
    spec.name: spec
    for spec in [
        _pen_condition("spaced", "1-8 separate digits, dark on light."),
        _pen_condition("touching", "2-6 digits slid together until neighbours' ink touches.",
                       digit_count=(2, 6), touching=True),
        _pen_condition("transparent", "RGBA canvas export: ink with alpha, background (0,0,0,0).",
                       background="transparent"),
        _pen_condition("two-rows", "Two lines of digits; the number joins them with a newline.",
                       digit_count=(2, 8), rows=2),
        _pen_condition("dark-on-light", "Black ink on an opaque white RGB canvas.", background="light"),
        _pen_condition("light-on-dark", "White ink on black, as the app's canvas draws.", background="dark"),
    ]
}


PEN_WRITER_GROUPS = ("eval", "validation", "train", "all")


def pen_bank(data: str | os.PathLike | None = None, writers: str = "eval",
             split_seed: int = WRITER_SPLIT_SEED, validation_fraction: float = VALIDATION_FRACTION) -> PenBank:
    """A bank of the file's evaluation writers (``writers="eval"``), validation writers
    (``"validation"``: those a run trained with that validation share never saw), training
    writers (``"train"``: all the non-evaluation writers) or all of them (``"all"``: a file of
    unseen writers only)."""
    pen = cached_pen(data)
    if writers not in PEN_WRITER_GROUPS:
        raise ValueError(f"writers must be one of {', '.join(PEN_WRITER_GROUPS)}, not {writers!r}.")
    if writers == "all":
        return PenBank(list(pen.digits))
    if writers == "validation":
        return PenBank(digits_of(pen, split_writers(pen.writers, split_seed,
                                                    validation_fraction=validation_fraction).validation))
    split = split_writers(pen.writers, split_seed)
    return PenBank(digits_of(pen, split.eval if writers == "eval" else split.train))


def make_pen_set(condition: str, n: int, seed: int = 0, bank: PenBank | None = None) -> list[Sample]:
    """``n`` numbers of a pen condition (a key of :data:`PEN_CONDITIONS`); same arguments, same images."""
    if condition not in PEN_CONDITIONS:
        raise KeyError(f"Unknown pen condition '{condition}': choose from {', '.join(PEN_CONDITIONS)}.")
    bank = bank or pen_bank()
    rng = condition_rng("pen-" + condition, seed)
    return [compose_sample(PEN_CONDITIONS[condition], bank, rng) for _ in range(n)]
