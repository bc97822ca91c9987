"""Typed results of a recognition: what was read, where, how sure, and why.

Everything a page needs to show the pipeline is kept here, so nothing is
recomputed for display.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h in original-image pixels


@dataclass
class PolarityDecision:
    inverted: bool
    """True when the input had dark ink on a light background."""
    border_median: float
    reason: str
    measured_image_median: float | None = None
    """The whole image's median when the decision needed it, else None (see ``image_median``)."""
    grey: np.ndarray | None = field(default=None, repr=False)
    """The image decided on, for ``image_median``."""

    @cached_property
    def image_median(self) -> float:
        """The whole image's median grey level; measured only when asked for if the border decided."""
        if self.measured_image_median is not None or self.grey is None:
            return float(self.measured_image_median or 0.0)
        return float(np.median(self.grey))


@dataclass
class BinarizationInfo:
    method: str
    threshold: float
    ink_fraction: float


@dataclass
class Component:
    label: int
    box: Box  # working-image pixels
    area: int
    kept: bool = True
    reason: str = ""


@dataclass
class MergeDecision:
    parts: tuple[int, int]
    """Indices of the two groups considered (component labels of their seeds)."""
    overlap: float
    height_ratio: float
    joined: bool
    reason: str
    read_together: float | None = None
    """Neighbours side by side asked by reading: the classifier's confidence in the two read as one
    digit (None: a decision of geometry alone, by overlap)."""


@dataclass
class SplitCandidate:
    cut_x: int  # working-image x of the cut
    source: str  # "profile", "top contour", "bottom contour"
    score: float  # best reading score of any segmentation that uses this cut
    pieces: list[int] = field(default_factory=list)  # digits read left and right of it
    path: list[int] = field(default_factory=list)  # working-image x of the cut on each row of the box
    reject: list[float] = field(default_factory=list)  # "not a single digit" probability of those pieces
    """Empty with a 10-class model."""


@dataclass
class SplitDecision:
    box: Box  # working-image pixels of the part that was considered
    whole_score: float  # reading score of the part as one digit
    candidates: list[SplitCandidate]
    chosen: list[int]  # indices into candidates of the cuts made; empty when kept whole
    score: float  # reading score of the chosen segmentation
    reason: str
    whole_reject: float | None = None
    """The model's "not a single digit" probability for the whole part (None: a 10-class model)."""
    strip: "StripEvidence | None" = None
    """What the strip reader read in the part (None: the model has none, or it was not asked)."""


@dataclass
class StripEvidence:
    """The strip reader's reading of one part: the evidence a strip split decision rests on."""

    text: str
    """The digits it read, left to right ('' when it saw none)."""
    confidences: list[float]
    """Each digit's highest probability."""
    peaks: list[int]
    """Working-image x where each digit peaked."""
    frame_x: list[float]
    """Working-image x of each frame's centre."""
    frame_probabilities: np.ndarray
    """(frames, 11): the ten digits and "no new digit" (the blank), per frame."""


@dataclass
class NormalizationSteps:
    crop: np.ndarray  # uint8 ink crop from the working image
    stroke_width: float  # estimated brush width in crop pixels
    stroke_adjusted: np.ndarray  # crop after stroke-thickness normalization
    resized: np.ndarray  # longer side 20 px, aspect kept
    center_of_mass_shift: tuple[float, float]  # dx, dy applied in 28x28
    final: np.ndarray  # float32 28x28 in 0..1, as the model sees it


@dataclass
class Digit:
    digit: int
    confidence: float
    box: Box
    line: int
    top3: list[tuple[int, float]]
    probabilities: np.ndarray  # (10,): with a reject-class model they sum to 1 - reject
    steps: NormalizationSteps
    low_confidence: bool = False
    reject: float | None = None
    """The model's "not a single digit" probability for this part (None: a 10-class model)."""
    second_opinion: tuple[int, float] | None = None
    """The strip reader's reading of this digit alone (digit, confidence), when it gave one and
    its probabilities were multiplied into the reading; None otherwise."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "digit": self.digit,
            "confidence": round(float(self.confidence), 4),
            "box": [int(v) for v in self.box],
            "line": self.line,
            "top3": [[d, round(float(p), 4)] for d, p in self.top3],
        }


@dataclass(frozen=True)
class Alternative:
    """Another reading of the whole number: one digit changed to its second choice."""

    number: str
    """Digits in reading order, lines joined by '\\n', as :attr:`Recognition.number`."""
    position: int
    """Index of the changed digit in :attr:`Recognition.digits`."""
    digit: int
    odds: float
    """The changed digit's second-choice probability over its first: near 1, nearly as likely."""


@dataclass
class Recognition:
    number: str
    """Digits in reading order; several lines joined by '\\n'."""
    digits: list[Digit]
    lines: list[list[int]]  # indices into ``digits``, per line, left to right
    # --- intermediates ---------------------------------------------------
    original_shape: tuple[int, ...]
    scale: float  # working image = original * scale
    grey: np.ndarray  # uint8, working size, as given (before polarity)
    ink: np.ndarray  # uint8, working size, ink bright on dark
    polarity: PolarityDecision
    binarization: BinarizationInfo
    mask: np.ndarray  # uint8 0/255 ink mask
    label_image: Any  # segment.LabelImage: the labels of the ink's box (None before labelling)
    components: list[Component]
    stroke_width: float  # estimated brush width, working pixels
    digit_height: float  # typical digit height, working pixels
    merges: list[MergeDecision]
    splits: list[SplitDecision]
    timings_ms: dict[str, float]
    model_name: str = ""
    precision: str = ""

    @cached_property
    def labels(self) -> np.ndarray:
        """int32 component labels of the working image, made when first asked for (the Pipeline page)."""
        if self.label_image is None:
            return np.zeros((1, 1), np.int32)
        return self.label_image.full()

    @property
    def probabilities(self) -> np.ndarray:
        if not self.digits:
            return np.zeros((0, 10), np.float32)
        return np.stack([d.probabilities for d in self.digits])

    def alternatives(self, k: int = 3) -> list[Alternative]:
        """The ``k`` most likely readings that differ from this one in one digit, most likely first.

        A misread digit's true value is mostly the model's second choice (pen-eval notes: the true
        number is among the first three of these for three in four numbers read with a wrong digit),
        so they make a correction one click."""
        reading = {i: str(d.digit) for i, d in enumerate(self.digits)}
        found = []
        for i, d in enumerate(self.digits):
            if len(d.top3) < 2 or d.top3[0][1] <= 0:
                continue
            (_, first), (second, p) = d.top3[0], d.top3[1]
            changed = {**reading, i: str(second)}
            number = "\n".join("".join(changed[j] for j in line) for line in self.lines)
            found.append(Alternative(number, i, int(second), float(p) / float(first)))
        return sorted(found, key=lambda a: -a.odds)[:max(k, 0)]

    @property
    def total_ms(self) -> float:
        return float(sum(self.timings_ms.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "digits": [d.to_dict() for d in self.digits],
            "ms": round(self.total_ms, 2),
        }
