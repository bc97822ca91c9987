"""Strips cut from the user's corrections, so a fine-tune can teach the strip reader their digits
as they sit in a drawing: touching ones included, which the digit classifier never reads whole.

A correction keeps the drawing and the number typed, not where each digit is. The drawing is read
again with the model being fine-tuned, and its digits' boxes tell which of the recognizer's parts
(marks and touching groups, the strip reader's inputs) holds which digits. When as many digits
were read as typed, the typed digits take their places in order. When a digit was missed or read
in excess, the stretch where the reading and the number part ways must lie within one part, the
one whose digit count was wrong (the reader's mistake to learn); otherwise that drawing teaches no
strip, since a guess would teach a wrong one.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

import numpy as np

from mdr.recognition.strip import MIN_SINGLE_ASPECT, strip_input

MIN_ASPECT_PER_DIGIT = 0.4
"""A part given more digits than were read in it must be at least this wide per digit (times its
height): two touching digits are wider than one, and a narrow mark holds no missed neighbour."""


def part_texts(read: str, true: str, owner: list[int], aspects: dict[int, float] | None = None
               ) -> dict[int, str] | None:
    """The typed digits of each part, by the part (``owner[k]``) of each digit read (``read[k]``,
    reading order); None when the typed number cannot be placed without guessing."""
    m, n = len(read), len(true)
    if m != len(owner) or m == 0 or n == 0:
        return None
    position = list(range(m))  # index in ``true`` of each digit read; the changed stretch is set apart
    stretch: tuple[int, int, int] | None = None  # (part, true start, true end) the count change lies in
    if m != n:
        prefix = next((k for k in range(min(m, n)) if read[k] != true[k]), min(m, n))
        suffix = next((k for k in range(min(m, n)) if read[m - 1 - k] != true[n - 1 - k]), min(m, n))
        # As for the digit samples (mdr.corrections.store): the change lies within read[low - 1 .. high].
        low, high = min(prefix, m - suffix), max(prefix, m - suffix)
        involved = [k for k in range(low - 1, high + 1) if 0 <= k < m]
        parts = {owner[k] for k in involved}
        if len(parts) != 1:
            return None
        part = parts.pop()
        ks = [k for k in range(m) if owner[k] == part]
        if ks != list(range(ks[0], ks[-1] + 1)):
            return None
        start, end = ks[0], ks[-1] + 1 + (n - m)  # the part's digits in ``true``: [start, end)
        if end - start < 1:
            return None
        if aspects is not None and n > m and aspects.get(part, 0.0) < MIN_ASPECT_PER_DIGIT * (end - start):
            return None
        stretch = (part, start, end)
        position = [k if k < ks[0] else k + n - m for k in range(m)]
    texts: dict[int, list[str]] = {}
    for k in range(m):
        if stretch is not None and owner[k] == stretch[0]:
            continue
        texts.setdefault(owner[k], []).append(true[position[k]])
    out = {part: "".join(digits) for part, digits in texts.items()}
    if stretch is not None:
        out[stretch[0]] = true[stretch[1]:stretch[2]]
    return out


def _owner_of(box, parts, scale: float) -> int:
    """Index of the part whose box holds the centre of a digit's ``box`` (image pixels); -1: none."""
    x, y, w, h = box
    cx, cy = (x + w / 2) * scale, (y + h / 2) * scale
    for index, part in enumerate(parts):
        px, py, pw, ph = part.box
        if px <= cx <= px + pw and py <= cy <= py + ph:
            return index
    return -1


def drawing_strips(image: np.ndarray, true_number: str, recognizer) -> tuple[list[np.ndarray], list[str], str]:
    """uint8 strips of one drawing and their digits, and what became of it ("taught", or why not)."""
    from mdr.errors import MdrError
    from mdr.training.strips import front_end

    true = true_number.replace("\n", "")
    try:
        recognition = recognizer.recognize(image)
        parts, scale, stroke = front_end(image)
    except MdrError:
        return [], [], "not readable"
    order = [i for line in recognition.lines for i in line] if recognition.lines else \
        list(range(len(recognition.digits)))
    if len(order) != len(recognition.digits):
        return [], [], "not readable"
    read = "".join(str(recognition.digits[i].digit) for i in order)
    owner = [_owner_of(recognition.digits[i].box, parts, scale) for i in order]
    if min(owner, default=-1) < 0:
        return [], [], "digits read outside the marks"
    texts = part_texts(read, true, owner, {k: p.aspect for k, p in enumerate(parts)})
    if texts is None:
        return [], [], "a digit missed or in excess where no one mark holds it"
    strips, labels = [], []
    for index, text in sorted(texts.items(), key=lambda item: parts[item[0]].box[0]):
        part = parts[index]
        if len(text) == 1 and part.aspect < MIN_SINGLE_ASPECT:
            continue  # as in the reader's training: narrower single digits are not its to read
        strips.append(np.round(strip_input(part.mask, stroke) * 255).astype(np.uint8))
        labels.append(text)
    return strips, labels, "taught" if strips else "only narrow single digits"


def correction_strips(drawings: Iterable, recognizer) -> tuple[list[np.ndarray], list[str], dict]:
    """Strips of the saved ``drawings`` (:class:`~mdr.corrections.store.Correction`), their digits,
    and a record for the card: how many drawings taught, and why the others did not."""
    from mdr.recognition.imageio import decode_image

    strips: list[np.ndarray] = []
    texts: list[str] = []
    outcomes: Counter = Counter()
    for drawing in drawings:
        image = decode_image(drawing.image_png)
        own, labels, outcome = drawing_strips(image, drawing.true_number, recognizer)
        strips += own
        texts += labels
        outcomes[outcome] += 1
    record = {"drawings": sum(outcomes.values()), "taught": outcomes.pop("taught", 0),
              "not taught": dict(sorted(outcomes.items())), "strips": len(strips),
              "touching strips": sum(len(t) > 1 for t in texts)}
    return strips, texts, record
