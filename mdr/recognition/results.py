"""Typed results of a recognition: what was read, where, how sure, and why.

Everything a page needs to show the pipeline is kept here, so nothing is
recomputed for display.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from mdr.recognition.advice import advice_for
from mdr.recognition.strip import best_reading_of_length

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
    """Another reading of the whole number, and what it changes in this one."""

    number: str
    """Digits in reading order, lines joined by '\\n', as :attr:`Recognition.number`."""
    positions: tuple[int, ...]
    """Indices into :attr:`Recognition.digits` of the digits it replaces."""
    digits: str
    """What replaces them ('' drops them)."""
    odds: float
    """How likely it is against the reading shown: near 1, nearly as likely."""
    kind: str
    """``second choice`` (a digit read as the model's second choice), ``one more digit`` or
    ``one digit fewer`` (the strip reader's best reading of a part with a digit more or fewer),
    ``not a digit`` (a mark the model takes for no digit, dropped)."""

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "positions": list(self.positions), "digits": self.digits,
                "odds": round(float(self.odds), 4), "kind": self.kind, "why": self.describe()}

    def describe(self) -> str:
        """A sentence for a person: which digits it changes, and why it is offered."""
        where = ", ".join(str(p + 1) for p in self.positions)
        if self.kind == "second choice":
            return f"Digit {where} read as its second choice, {self.digits}."
        if self.kind == "not a digit":
            return f"Digit {where} dropped: the model takes it for no digit."
        label = "Digit" if len(self.positions) == 1 else "Digits"
        change = "one digit more" if self.kind == "one more digit" else "one digit fewer"
        done = f"read as {self.digits}" if self.digits else "dropped"
        return f"{label} {where} {done}: the strip reader's best reading of these touching digits with {change}."


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

    def alternatives(self, k: int = 3, count_odds: float = 0.05, drop_odds: float = 10.0) -> list[Alternative]:
        """The ``k`` most likely other readings of the number, most likely first.

        A misread digit's true value is mostly the model's second choice (pen-eval notes: the
        true number is among the first three of these for three in four numbers read with a
        wrong digit), so they fill the places but one. That one is kept for the most likely
        reading with a digit more or fewer, when its odds reach ``count_odds`` (a touching part
        read again by the strip reader with a digit more or fewer) or ``drop_odds`` (a mark the
        model takes for no digit that many times more than for its digit): a wrong digit count
        is otherwise a typed correction. Ranked together they would crowd out the second choices
        (pen-eval notes, "A digit more or fewer").
        """
        if k <= 0:
            return []
        seconds = self._second_choices()
        counts = [a for a in self._count_changes() if a.odds >= (drop_odds if a.kind == "not a digit" else count_odds)]
        ranked = _distinct(sorted(seconds, key=lambda a: -a.odds), self.number)
        other_counts = _distinct(sorted(counts, key=lambda a: -a.odds), self.number)
        if not other_counts:
            return ranked[:k]
        return sorted(ranked[:max(k - 1, 1)] + other_counts[:1], key=lambda a: -a.odds)[:k]

    def _number_with(self, positions: tuple[int, ...], digits: str) -> str:
        """This reading with the digits at ``positions`` replaced by ``digits`` (on the first one's line)."""
        replaced = {p: "" for p in positions}
        replaced[positions[0]] = digits
        return "\n".join("".join(replaced.get(j, str(self.digits[j].digit)) for j in line) for line in self.lines)

    def _second_choices(self) -> list[Alternative]:
        found = []
        for i, d in enumerate(self.digits):
            if len(d.top3) < 2 or d.top3[0][1] <= 0:
                continue
            (_, first), (second, p) = d.top3[0], d.top3[1]
            found.append(Alternative(self._number_with((i,), str(second)), (i,), str(second),
                                     float(p) / float(first), "second choice"))
        return found

    def _digits_in(self, box: tuple[int, int, int, int]) -> tuple[int, ...]:
        """Digits whose centre lies in ``box`` (working-image pixels)."""
        x, y, w, h = box
        inside = []
        for i, d in enumerate(self.digits):
            cx, cy = (d.box[0] + d.box[2] / 2) * self.scale, (d.box[1] + d.box[3] / 2) * self.scale
            if x <= cx <= x + w and y <= cy <= y + h:
                inside.append(i)
        return tuple(inside)

    def _count_changes(self) -> list[Alternative]:
        """Readings with a digit more or fewer: each part the strip reader read, read again with
        one digit more and one fewer; each digit not cut by the strip reader, dropped, at the odds
        of the model's "not a single digit" over its digit."""
        found, cut = [], set()
        for decision in self.splits:
            if decision.strip is None:
                continue
            positions = self._digits_in(decision.box)
            if not positions:
                continue
            if decision.chosen:
                cut.update(positions)
            read = "".join(str(self.digits[p].digit) for p in positions)
            for length, kind in ((len(positions) + 1, "one more digit"), (len(positions) - 1, "one digit fewer")):
                best = best_reading_of_length(decision.strip.frame_probabilities, length) if length >= 1 else None
                if best is not None:
                    start, stop, digits = _changed_span(read, best[0])
                    changed = positions[start:stop]
                    found.append(Alternative(self._number_with(changed, digits), changed, digits,
                                             float(np.exp(best[1])), kind))
        if len(self.digits) > 1:
            for i, d in enumerate(self.digits):
                if i not in cut and d.reject is not None and d.confidence > 0:
                    found.append(Alternative(self._number_with((i,), ""), (i,), "", d.reject / d.confidence,
                                             "not a digit"))
        return found

    def touching_doubts(self) -> list[tuple[tuple[int, ...], float]]:
        """Each part the strip reader cut into touching digits: (the digits' positions, how sure the
        reader was of the least sure of them), left to right. Touching numbers whose reader was
        unsure of a digit read half as often right as the rest, so the advice says so
        (:data:`mdr.recognition.advice.TOUCHING_DOUBT`)."""
        found = []
        for decision in self.splits:
            if decision.strip is None or not decision.chosen or not decision.strip.confidences:
                continue
            positions = self._digits_in(decision.box)
            if positions:
                found.append((positions, float(min(decision.strip.confidences))))
        return sorted(found)

    @property
    def brush_ratio(self) -> float:
        """The brush width over the typical digit height (0 when nothing was read): a brush a
        third of the height closes loops, and such numbers read worse (pen-eval, by brush)."""
        return float(self.stroke_width / self.digit_height) if self.digit_height > 0 else 0.0

    @property
    def total_ms(self) -> float:
        return float(sum(self.timings_ms.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "digits": [d.to_dict() for d in self.digits],
            "alternatives": [a.to_dict() for a in self.alternatives()],
            "advice": [a.to_dict() for a in advice_for(self)],
            "ms": round(self.total_ms, 2),
        }


def _changed_span(read: str, other: str) -> tuple[int, int, str]:
    """The stretch of ``read`` that ``other`` changes, as (start, stop, what replaces it): the
    digits both share at either end are left out, but at least one digit of ``read`` is kept."""
    start = 0
    while start < min(len(read), len(other)) and read[start] == other[start]:
        start += 1
    end = 0
    while end < min(len(read), len(other)) - start and read[-1 - end] == other[-1 - end]:
        end += 1
    if len(read) - start - end == 0:
        start, end = (start - 1, end) if start > 0 else (start, end - 1)
    return start, len(read) - end, other[start:len(other) - end]


def _distinct(alternatives: list[Alternative], number: str) -> list[Alternative]:
    """The first of each number, none that is the reading itself or empty."""
    seen, kept = {number}, []
    for a in alternatives:
        if a.number.replace("\n", "") and a.number not in seen:
            seen.add(a.number)
            kept.append(a)
    return kept
