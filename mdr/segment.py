"""Find the digits in an ink mask: components, specks, merges, splits, lines.

Each function takes and returns plain data, records the decision it made
and why, and knows nothing about the model; the recognizer supplies the
classifier's scores where a split must be judged.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .config import RecognizerConfig
from .results import Box, Component, MergeDecision

SPECK_STROKES = 1.5
"""A part no longer than this many stroke widths is a dot, not a digit."""
FULL_HEIGHT = 0.7
"""Two parts at least this fraction of each other's height are both whole digits."""


@dataclass
class Part:
    """A candidate digit: its box in the working image and its ink there."""

    box: Box
    mask: np.ndarray  # uint8 0/255, shape (h, w)
    labels: tuple[int, ...]

    @property
    def aspect(self) -> float:
        return self.box[2] / max(1, self.box[3])


def find_components(mask: np.ndarray) -> tuple[np.ndarray, list[Component]]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    components = [
        Component(label, (int(x), int(y), int(w), int(h)), int(area))
        for label, (x, y, w, h, area) in enumerate(stats) if label > 0
    ]
    return labels, components


def estimate_stroke_width(mask: np.ndarray) -> float:
    """Brush width: twice the median distance-to-background along the ridges."""
    if not mask.any():
        return 0.0
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 3)
    ridge = (dist > 0) & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    values = dist[ridge]
    return float(2.0 * np.median(values)) if values.size else 1.0


def remove_specks(components: list[Component], stroke_width: float,
                  config: RecognizerConfig) -> tuple[list[Component], float]:
    """Mark specks as dropped; return the kept ones and the typical digit height.

    Size is judged against the tallest mark (a digit) and the brush width (a
    dot is about one brush wide), so the rule holds at any drawing scale.
    """
    if not components:
        return [], 0.0
    tallest = max(c.box[3] for c in components)
    relative = config.min_speck_size * tallest
    absolute = SPECK_STROKES * stroke_width
    limit = max(relative, absolute)
    kept = []
    for c in components:
        longer = max(c.box[2], c.box[3])
        if longer < limit:
            c.kept = False
            which = (f"{config.min_speck_size:.2f} x tallest mark ({tallest}px)" if relative >= absolute
                     else f"{SPECK_STROKES} x stroke width ({stroke_width:.1f}px)")
            c.reason = f"speck: {longer}px < {limit:.1f}px = {which}"
        else:
            c.reason = "kept"
            kept.append(c)
    if not kept:
        return [], 0.0
    heights = np.array([c.box[3] for c in kept], float)
    typical = float(np.median(heights[heights >= 0.5 * heights.max()]))
    return kept, typical


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def _merge_score(a: Box, b: Box, digit_height: float, config: RecognizerConfig) -> tuple[float, float, bool, str]:
    """(overlap of the narrower, merged height / digit height, join?, why)."""
    overlap = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    narrow, wide = sorted((a[2], b[2]))
    overlap_narrow = overlap / max(1, narrow)
    overlap_wide = overlap / max(1, wide)
    merged = _union(a, b)
    height_ratio = merged[3] / max(1.0, digit_height)
    gap = max(0, max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3]))
    short, tall = sorted((a[3], b[3]))
    if height_ratio > 1.35:
        return overlap_narrow, height_ratio, False, "together they would be taller than a digit"
    if gap > 0.35 * digit_height:
        return overlap_narrow, height_ratio, False, f"vertical gap {gap}px too large"
    if short >= FULL_HEIGHT * tall:
        joined = overlap_wide >= 0.6
        why = (f"two whole-height parts overlapping {overlap_wide:.0%} of the wider"
               + (" (one digit)" if joined else " (two digits)"))
        return overlap_narrow, height_ratio, joined, why
    joined = overlap_narrow >= config.merge_overlap
    why = (f"partial stroke overlaps {overlap_narrow:.0%} of its width "
           + (">=" if joined else "<") + f" {config.merge_overlap:.0%}")
    return overlap_narrow, height_ratio, joined, why


def merge_components(kept: list[Component], labels: np.ndarray, digit_height: float,
                     config: RecognizerConfig) -> tuple[list[Part], list[MergeDecision]]:
    """Join the strokes of one digit (a lifted 5 bar, a two-stroke 4 or 7)."""
    groups: list[tuple[Box, list[int]]] = [(c.box, [c.label]) for c in kept]
    decisions: list[MergeDecision] = []
    seen: set[tuple[int, int]] = set()
    while len(groups) > 1:
        best = None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a, b = groups[i][0], groups[j][0]
                if min(a[0] + a[2], b[0] + b[2]) <= max(a[0], b[0]):
                    continue  # no horizontal overlap: never one digit
                overlap, ratio, joined, why = _merge_score(a, b, digit_height, config)
                key = (min(groups[i][1]), min(groups[j][1]))
                if key not in seen:
                    seen.add(key)
                    decisions.append(MergeDecision(key, overlap, ratio, joined, why))
                if joined and (best is None or overlap > best[0]):
                    best = (overlap, i, j)
        if best is None:
            break
        _, i, j = best
        merged = (_union(groups[i][0], groups[j][0]), groups[i][1] + groups[j][1])
        groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [merged]
    parts = []
    for box, group_labels in groups:
        x, y, w, h = box
        crop = labels[y:y + h, x:x + w]
        mask = (np.isin(crop, group_labels) * 255).astype(np.uint8)
        parts.append(Part(box, mask, tuple(sorted(group_labels))))
    return parts, decisions


def needs_split(part: Part, digit_height: float, config: RecognizerConfig) -> bool:
    """Wider than a single digit is drawn: a candidate for splitting."""
    if not config.split_enabled:
        return False
    return part.aspect > 1.15 / max(1e-3, config.split_sensitivity) and part.box[2] > 0.5 * digit_height


def split_candidates(part: Part, stroke_width: float, limit: int = 6) -> list[tuple[int, str]]:
    """Cut positions (x within the part) worth trying, and what suggested them.

    Touching digits meet where little ink stands in a column (the vertical
    profile has a valley), where the upper contour dips, or where the lower
    contour rises.
    """
    mask = part.mask > 0
    h, w = mask.shape
    lo = max(1, int(round(max(0.12 * w, stroke_width))))
    hi = min(w - 1, w - lo)
    if hi <= lo:
        return []
    columns = np.arange(w)
    has_ink = mask.any(axis=0)
    profile = cv2.GaussianBlur(mask.sum(axis=0).astype(np.float32).reshape(1, -1), (0, 0),
                               sigmaX=max(1.0, stroke_width / 3)).ravel()
    top = np.where(has_ink, mask.argmax(axis=0), h).astype(np.float32)
    bottom = np.where(has_ink, h - 1 - mask[::-1].argmax(axis=0), -1).astype(np.float32)
    window = slice(lo, hi)
    found: list[tuple[int, str]] = []

    def take(order: np.ndarray, source: str, count: int) -> None:
        for x in order[:count * 4]:
            x = int(x) + lo
            if all(abs(x - y) > max(2.0, stroke_width / 2) for y, _ in found):
                found.append((x, source))
                count -= 1
            if count == 0:
                return

    take(np.argsort(profile[window], kind="stable"), "profile", 3)
    take(np.argsort(-top[window], kind="stable"), "top contour", 2)
    take(np.argsort(bottom[window], kind="stable"), "bottom contour", 2)
    return found[:limit]


def tighten(mask: np.ndarray, origin: tuple[int, int], labels: tuple[int, ...]) -> Part | None:
    """The part made of ``mask``'s ink, cropped to it (None when empty)."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    box = (origin[0] + int(x0), origin[1] + int(y0), int(x1 - x0), int(y1 - y0))
    return Part(box, np.ascontiguousarray(mask[y0:y1, x0:x1]), labels)


def cut_part(part: Part, cut: int) -> tuple[Part, Part] | None:
    x, y = part.box[0], part.box[1]
    left = tighten(part.mask[:, :cut], (x, y), part.labels)
    right = tighten(part.mask[:, cut:], (x + cut, y), part.labels)
    if left is None or right is None:
        return None
    return left, right


def group_lines(boxes: list[Box]) -> list[list[int]]:
    """Indices of ``boxes`` per line (top to bottom), each left to right.

    Walking left to right, a box joins the line whose latest box it overlaps
    most vertically, so a line may slope gently.
    """
    lines: list[list[int]] = []
    for index in sorted(range(len(boxes)), key=lambda k: boxes[k][0] + boxes[k][2] / 2):
        x, y, w, h = boxes[index]
        best, best_overlap = None, 0.3
        for line in lines:
            lx, ly, lw, lh = boxes[line[-1]]
            overlap = (min(y + h, ly + lh) - max(y, ly)) / max(1, min(h, lh))
            if overlap > best_overlap:
                best, best_overlap = line, overlap
        if best is None:
            lines.append([index])
        else:
            best.append(index)
    lines.sort(key=lambda line: float(np.mean([boxes[k][1] + boxes[k][3] / 2 for k in line])))
    return lines


def split_score(piece_confidences: list[float], piece_heights: list[int], part_height: int) -> float:
    """How convincing a cut is: its weakest piece, discounted for slivers."""
    score = min(piece_confidences)
    if min(piece_heights) < 0.5 * part_height:
        score *= 0.5
    return float(score)


def whole_score(confidence: float, aspect: float, config: RecognizerConfig) -> float:
    """How convincing a wide part is as one digit: single digits are rarely
    much wider than tall, so width counts against it."""
    penalty = float(np.clip((aspect * config.split_sensitivity - 1.0) / 0.8, 0.0, 1.0))
    return float(confidence * (1.0 - penalty))
