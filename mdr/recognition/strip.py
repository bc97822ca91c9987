"""The strip reader: a part wider than one digit read as a string, without cutting it first.

A part of touching digits is scaled to a fixed height and read left to right by a
small convolutional network that gives, for every column band (frame), the
probabilities of the ten digits and of "no new digit here" (the CTC blank).
Greedy decoding (best class per frame, repeats merged, blanks dropped) gives
the digits, where each one peaks, and how sure the reader is of each.
This module stays free of torch: the network runs in ONNX Runtime.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from mdr.errors import ModelError
from mdr.recognition.classifier import load_versioned, open_session

STRIP_HEIGHT = 32
"""Rows of the reader's input."""
STRIP_PAD = 2
"""Empty rows above and below the ink (and columns either side)."""
STRIP_STRIDE = 4
"""Input columns per output frame of the first readers; a reader may give one frame per
``FRAME_STRIDES`` columns (read from the file: frames of a 64-column probe)."""
FRAME_STRIDES = (4, 2)
MAX_STRIP_WIDTH = 512
"""Wider inputs are squeezed to this width: no part of a drawing holds more than ~12 digits."""
BLANK = 10
"""The reader's last class: no new digit in this frame."""
CLASSES = 11
MIN_SINGLE_ASPECT = 0.6
"""The reader is trained on single digits at least this wide for their height (the narrowest
part the recognizer asks it about); narrower ones get no second opinion from it."""
TARGET_STROKE = 3.2
"""Stroke width, in strip pixels, the reader sees: a thicker brush is thinned to it."""


def strip_input(mask: np.ndarray, stroke_width: float = 0.0) -> np.ndarray:
    """The reader's input for a part's tight 0/255 ink crop: float32 (32, W), ink 1.

    Height to 28 rows (aspect kept), 2 empty rows and columns around; a brush
    much thicker than the reader was trained on is eroded towards its width.
    """
    h, w = mask.shape
    inner = STRIP_HEIGHT - 2 * STRIP_PAD
    scale = inner / max(1, h)
    width = int(min(MAX_STRIP_WIDTH - 2 * STRIP_PAD, max(1, round(w * scale))))
    small = cv2.resize(mask, (width, inner), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    small = small.astype(np.float32) / 255.0
    if stroke_width > 0:
        stroke = stroke_width * scale
        if stroke > 2.0 * TARGET_STROKE:
            radius = int(round((stroke - TARGET_STROKE) / 4))
            if radius >= 1:
                small = cv2.erode(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    out = np.zeros((STRIP_HEIGHT, width + 2 * STRIP_PAD), np.float32)
    out[STRIP_PAD:STRIP_PAD + inner, STRIP_PAD:STRIP_PAD + width] = small
    return out


def frames_for(width: int, stride: int = STRIP_STRIDE) -> int:
    """Output frames of an input ``width`` columns wide."""
    return width // stride


@dataclass(frozen=True)
class StripDigit:
    digit: int
    confidence: float
    """The highest probability the digit reached in its frames."""
    frames: tuple[int, int]
    """First and last frame (inclusive) where it was the best class."""
    probabilities: np.ndarray
    """The ten digits' probabilities (renormalized without the blank) at its peak frame."""


@dataclass(frozen=True)
class StripReading:
    """What the strip reader saw in one part: its digits, and its per-frame evidence."""

    digits: tuple[StripDigit, ...]
    frame_probabilities: np.ndarray
    """(frames, 11): digits 0-9 and the blank, per frame."""
    scale: float
    """Strip pixels per part pixel (frame k covers part columns around (k + 0.5) * stride / scale - pad)."""
    stride: int = STRIP_STRIDE
    """Strip columns per frame of the reader that read it."""

    @property
    def text(self) -> str:
        return "".join(str(d.digit) for d in self.digits)

    @property
    def confidence(self) -> float:
        """How sure the reader is of the whole string: the product of its digits' confidences
        (1.0 for an empty reading would be wrong: an empty reading is never sure)."""
        if not self.digits:
            return 0.0
        return float(np.prod([d.confidence for d in self.digits]))

    def part_x(self, frame: float) -> float:
        """Column of the part at the centre of ``frame``."""
        return ((frame + 0.5) * self.stride - STRIP_PAD) / self.scale


def greedy_decode(probabilities: np.ndarray, scale: float = 1.0, stride: int = STRIP_STRIDE) -> StripReading:
    """Best class per frame; runs of one digit are one digit, blanks separate repeats."""
    best = probabilities.argmax(axis=1)
    digits: list[StripDigit] = []
    start = None
    for k in range(len(best) + 1):
        cls = int(best[k]) if k < len(best) else BLANK
        if start is not None and (k == len(best) or cls != int(best[start])):
            run = probabilities[start:k, int(best[start])]
            peak = start + int(run.argmax())
            row = probabilities[peak, :BLANK]
            digits.append(StripDigit(int(best[start]), float(run.max()), (start, k - 1),
                                     (row / max(float(row.sum()), 1e-12)).astype(np.float32)))
            start = None
        if start is None and cls != BLANK and k < len(best):
            start = k
    return StripReading(tuple(digits), probabilities, scale, stride)


def best_reading_of_length(probabilities: np.ndarray, length: int) -> tuple[str, float] | None:
    """The most probable reading with exactly ``length`` digits, and its path's log-probability
    over that of the best path (0: it is the greedy reading; very negative: far less likely).

    Greedy decoding gives the single best frame path; this is the best path whose merged
    digits number ``length`` (Viterbi over CTC paths, the blank in the last column). It turns
    a touching pair read as one digit, or one digit read as two, into a one-click correction.
    None when no path of the frames holds that many digits.
    """
    frames, classes = probabilities.shape
    blank = classes - 1
    if length < 0 or frames == 0:
        return None
    logp = np.log(np.maximum(probabilities.astype(np.float64), 1e-12))
    impossible = -1e300
    score = np.full((length + 1, classes), impossible)
    score[0, blank] = logp[0, blank]
    if length >= 1:
        score[1, :blank] = logp[0, :blank]
    rows = np.arange(length + 1)[:, None]
    labels = np.arange(blank)
    came_from_row = np.zeros((frames, length + 1, classes), np.int16)
    came_from_class = np.zeros((frames, length + 1, classes), np.int16)
    for t in range(1, frames):
        new = np.full_like(score, impossible)
        # the blank: from any class of the same count of digits
        best_class = score.argmax(axis=1)
        new[:, blank] = score[rows[:, 0], best_class] + logp[t, blank]
        came_from_row[t, :, blank] = rows[:, 0]
        came_from_class[t, :, blank] = best_class
        # a digit: the same digit going on, or a new one after the blank or another digit
        if length >= 1:
            before = score[:-1]
            order = np.argsort(-before, axis=1)[:, :2]
            first = before[np.arange(length), order[:, 0]]
            second = before[np.arange(length), order[:, 1]]
            is_first = order[:, :1] == labels[None, :]
            other = np.where(is_first, second[:, None], first[:, None])
            other_class = np.where(is_first, order[:, 1:2], order[:, :1])
            going_on = score[1:, :blank]
            stay = going_on >= other
            new[1:, :blank] = np.where(stay, going_on, other) + logp[t, :blank]
            came_from_row[t, 1:, :blank] = np.where(stay, rows[1:], rows[:-1])
            came_from_class[t, 1:, :blank] = np.where(stay, labels[None, :], other_class)
        score = new
    last = int(score[length].argmax())
    if score[length, last] <= impossible / 2:
        return None
    reading, row, cls = [], length, last
    for t in range(frames - 1, 0, -1):
        previous_row, previous_class = int(came_from_row[t, row, cls]), int(came_from_class[t, row, cls])
        if cls != blank and previous_row != row:
            reading.append(cls)
        row, cls = previous_row, previous_class
    if cls != blank:
        reading.append(cls)
    best = float(logp.max(axis=1).sum())
    return "".join(str(d) for d in reversed(reading)), float(score[length, last]) - best


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


class StripReader:
    """One ONNX Runtime session of a strip reader file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.session = open_session(self.path, "strip reader file")
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[2] != STRIP_HEIGHT:
            raise ModelError(f"The strip reader {self.path.name} must take one [N, 1, {STRIP_HEIGHT}, W] input.")
        self.input_name = inputs[0].name
        try:
            probe = self.session.run(None, {self.input_name: np.zeros((1, 1, STRIP_HEIGHT, 64), np.float32)})[0]
        except Exception as e:  # noqa: BLE001
            raise ModelError(f"The strip reader {self.path.name} failed on a test input ({type(e).__name__}).") from None
        if probe.ndim != 3 or probe.shape[2] != CLASSES:
            raise ModelError(f"The strip reader {self.path.name} gives {probe.shape} outputs; "
                             f"it should give [N, frames, {CLASSES}].")
        strides = {64 // s: s for s in FRAME_STRIDES}
        if probe.shape[1] not in strides:
            raise ModelError(f"The strip reader {self.path.name} gives {probe.shape[1]} frames for 64 columns; "
                             f"a reader gives one frame per {' or '.join(map(str, FRAME_STRIDES))} columns.")
        self.stride = strides[probe.shape[1]]
        """Strip columns per output frame."""

    def frame_probabilities(self, strips: list[np.ndarray]) -> list[np.ndarray]:
        """(frames, 11) probabilities for each (32, W) input, one model call per input (inputs of
        different widths are not padded to each other: padding would change the frames). Each is
        padded on the right to whole 4-column bands, as in training: cut there, it lost up to 3
        columns of its last digit, and a 1 at the end of a touching number went unread."""
        return [self.frame_probabilities_batched([strip])[0] for strip in strips]

    def frame_probabilities_batched(self, strips: list[np.ndarray]) -> list[np.ndarray]:
        """(frames, 11) probabilities for each input, all in one model call: the inputs are padded
        with empty columns to the widest (as in training batches), and each keeps only its own frames."""
        if not strips:
            return []
        width = max(s.shape[1] for s in strips)
        width += (-width) % STRIP_STRIDE
        batch = np.zeros((len(strips), 1, STRIP_HEIGHT, width), np.float32)
        for k, strip in enumerate(strips):
            batch[k, 0, :, :strip.shape[1]] = strip
        logits = self.session.run(None, {self.input_name: batch})[0].astype(np.float32)
        return [_softmax(logits[k, :frames_for(strip.shape[1], self.stride)]) for k, strip in enumerate(strips)]

    def read(self, mask: np.ndarray, stroke_width: float = 0.0) -> StripReading:
        strip = strip_input(mask, stroke_width)
        probabilities = self.frame_probabilities([strip])[0]
        return greedy_decode(probabilities, (STRIP_HEIGHT - 2 * STRIP_PAD) / max(1, mask.shape[0]), self.stride)


_READERS: dict[tuple[str, int, int], StripReader] = {}


def load_strip_reader(path: str | Path) -> StripReader:
    """The shared strip reader of a file version, as for the digit classifier."""
    return load_versioned(path, StripReader, "strip reader file", _READERS)
