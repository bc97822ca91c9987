"""Find the digits in an ink mask: components, specks, merges, splits, lines.

Each function takes and returns plain data, records the decision it made
and why, and knows nothing about the model; the recognizer supplies the
classifier's scores where a split must be judged.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mdr.recognition.config import RecognizerConfig
from mdr.recognition.numeric import median
from mdr.recognition.results import Box, Component, MergeDecision

SPECK_STROKES = 1.5
"""A part no longer than this many stroke widths is a dot, not a digit."""
SPLIT_ASPECT = 1.0
"""Parts wider than this times their height may hold touching digits."""
SPLIT_WIDTH = 1.7
"""Parts wider than this times the drawing's typical digit width, too."""
FULL_HEIGHT = 0.7
"""Two parts at least this fraction of each other's height are both whole digits."""
LONE_MARK_SHARE = 0.15
"""When every mark looks like a dot, one at least this share of the image's shorter side is still
read: a small digit drawn with a wide brush fills in, and its brush width, measured on the mark
itself, is then the whole mark (a dot drawn with a 24 px brush is a tenth of a 250 px canvas)."""


@dataclass
class Part:
    """A candidate digit: its box in the working image and its ink there."""

    box: Box
    mask: np.ndarray  # uint8 0/255, shape (h, w)
    labels: tuple[int, ...]

    @property
    def aspect(self) -> float:
        return self.box[2] / max(1, self.box[3])


@dataclass
class LabelImage:
    """Component labels of the ink's bounding box (0 everywhere else).

    Labelling only the box gives the same labels (in the same raster order) in a
    fraction of the time; the whole image's labels are made only when asked for.
    """

    crop: np.ndarray
    origin: tuple[int, int]  # x, y of the crop in the image
    shape: tuple[int, int]  # the image's height, width

    def region(self, box: Box) -> np.ndarray:
        """Labels inside ``box`` (image pixels; a box within the ink's box)."""
        x, y, w, h = box
        ox, oy = self.origin
        return self.crop[y - oy:y - oy + h, x - ox:x - ox + w]

    def full(self) -> np.ndarray:
        """int32 labels of the whole image."""
        labels = np.zeros(self.shape, np.int32)
        ox, oy = self.origin
        labels[oy:oy + self.crop.shape[0], ox:ox + self.crop.shape[1]] = self.crop
        return labels


def label_ink(mask: np.ndarray) -> tuple[LabelImage, list[Component]]:
    """Connected components (8-connected) of the ink, labelled within its bounding box
    (grown to even coordinates).

    16-bit labels when the box cannot hold more than 65535 components (OpenCV labels
    those several times faster), else 32-bit.
    """
    x, y, bw, bh = cv2.boundingRect(mask)
    # OpenCV labels 2x2 blocks in raster order: a box starting on even pixels has
    # the image's blocks, so its labels are numbered as the whole image's are.
    x0, y0 = x - x % 2, y - y % 2
    bw, bh = bw + x % 2, bh + y % 2
    crop = mask[y0:y0 + bh, x0:x0 + bw]
    if crop.size == 0:
        return LabelImage(np.zeros((0, 0), np.int32), (0, 0), mask.shape[:2]), []
    most = ((bh + 1) // 2) * ((bw + 1) // 2)  # 8-connected components a box can hold
    depth = cv2.CV_16U if most < 65535 else cv2.CV_32S
    _, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(crop, 8, depth, cv2.CCL_DEFAULT)
    components = [
        Component(label, (int(x) + x0, int(y) + y0, int(w), int(h)), int(area))
        for label, (x, y, w, h, area) in enumerate(stats) if label > 0
    ]
    return LabelImage(labels, (x0, y0), mask.shape[:2]), components


def find_components(mask: np.ndarray) -> tuple[np.ndarray, list[Component]]:
    """Components of the ink with the whole image's int32 labels."""
    labels, components = label_ink(mask)
    return labels.full(), components


def estimate_stroke_width(mask: np.ndarray) -> float:
    """Brush width: twice the median distance-to-background along the ridges."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return 0.0
    # Distances only need the ink's box (plus the zero border): same values, less work.
    padded = cv2.copyMakeBorder(mask[y:y + h, x:x + w], 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 3)
    ridge = (dist > 0) & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    values = dist[ridge]
    return float(2.0 * median(values)) if values.size else 1.0


def remove_specks(components: list[Component], stroke_width: float, config: RecognizerConfig,
                  image_shape: tuple[int, ...] | None = None) -> tuple[list[Component], float]:
    """Mark specks as dropped; return the kept ones and the typical digit height.

    Size is judged against the tallest mark (a digit) and the brush width (a
    dot is about one brush wide), so the rule holds at any drawing scale.
    When that drops every mark, the largest is kept if it is big for the image
    (``image_shape``, see :data:`LONE_MARK_SHARE`).
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
    if not kept and image_shape is not None:
        largest = max(components, key=lambda c: max(c.box[2], c.box[3]))
        longer, side = max(largest.box[2], largest.box[3]), min(image_shape[:2])
        if longer >= LONE_MARK_SHARE * side and longer >= config.min_speck_size * tallest:
            largest.kept = True
            largest.reason = (f"kept: the largest mark, {longer}px >= {LONE_MARK_SHARE:.2f} x the image's "
                              f"shorter side ({side}px), though every mark looked like a dot")
            kept.append(largest)
    if not kept:
        return [], 0.0
    heights = np.array([c.box[3] for c in kept], float)
    typical = float(median(heights[heights >= FULL_HEIGHT * heights.max()]))
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
    if height_ratio > 1.5:
        return overlap_narrow, height_ratio, False, "together they would be taller than a digit"
    if gap > 0.5 * digit_height:
        return overlap_narrow, height_ratio, False, f"vertical gap {gap}px too large"
    vertical = (min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])) / max(1, short)
    if vertical < 0.5:
        joined = overlap_narrow >= config.merge_overlap
        why = (f"strokes stacked one above the other, overlapping {overlap_narrow:.0%} of the narrower "
               + (">=" if joined else "<") + f" {config.merge_overlap:.0%}")
        return overlap_narrow, height_ratio, joined, why
    if short >= FULL_HEIGHT * tall:
        joined = overlap_wide >= 0.6
        why = (f"two whole-height parts side by side overlapping {overlap_wide:.0%} of the wider"
               + (" (one digit)" if joined else " (two digits)"))
        return overlap_narrow, height_ratio, joined, why
    joined = overlap_narrow >= config.merge_overlap
    why = (f"partial stroke overlaps {overlap_narrow:.0%} of its width "
           + (">=" if joined else "<") + f" {config.merge_overlap:.0%}")
    return overlap_narrow, height_ratio, joined, why


def merge_components(kept: list[Component], labels: np.ndarray | LabelImage, digit_height: float,
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
    parts = [Part(box, part_mask(labels, box, group_labels), tuple(sorted(group_labels)))
             for box, group_labels in groups]
    return parts, decisions


def part_mask(labels: np.ndarray | LabelImage, box: Box, group_labels: list[int] | tuple[int, ...]) -> np.ndarray:
    """uint8 0/255 ink of the components ``group_labels`` inside ``box``."""
    x, y, w, h = box
    crop = labels.region(box) if isinstance(labels, LabelImage) else labels[y:y + h, x:x + w]
    inside = crop == group_labels[0] if len(group_labels) == 1 else np.isin(crop, group_labels)
    return inside.astype(np.uint8) * 255


def join_parts(a: Part, b: Part, labels: np.ndarray | LabelImage) -> Part:
    """One part holding the ink of both."""
    box = _union(a.box, b.box)
    group = tuple(sorted(a.labels + b.labels))
    return Part(box, part_mask(labels, box, group), group)


MERGE_READ_GAP = 0.5
"""Neighbours at most this many digit heights apart may be the strokes of one digit that never met
(an open 4 drawn as an L and a bar, a 5 whose flag was lifted); the classifier then decides."""
MERGE_READ_SIZE = (1.1, 1.3)
"""...when together they are no wider and no taller than these many digit heights (one digit)."""
MERGE_STACKED_WIDTH = 1.5
"""Strokes one above the other may together be this many digit heights wide: a lifted bar of a 5
often runs far to the right of its body."""
MERGE_FRAGMENT = (0.5, 1.6)
"""A part lower than the first many digit heights (a lifted bar, a flag) may join its neighbour on the
line when together they are at most the second many digit heights wide: a 5's bar drawn apart sits
beside the top of its body rather than above it."""

MERGE_LIFTED = (0.65, 2.0, 2.0)
"""A part lower than the first many digit heights may join the nearest part at most
:data:`MERGE_READ_GAP` away on both axes when together they are at most the second many digit
heights wide and the third many high. Why: when a drawing's only digit is a 5 whose bar was lifted,
the digit height is measured on the body alone, and the bar above it puts the two past one digit's
height; the classifier then decides."""


def merge_by_reading_candidates(parts: list[Part], digit_height: float) -> list[tuple[int, int]]:
    """Pairs of parts (indices into ``parts``, left first) that geometry alone keeps apart but that
    could be one digit, together no bigger than a digit: nearest neighbours side by side on one line
    with a small gap, strokes one above the other, sharing columns, that overlap too little to
    be joined by geometry (a 5 whose bar was lifted and drawn off to one side), and a short part with
    its nearest part (a lone 5's bar lifted high above its body, :data:`MERGE_LIFTED`)."""
    pairs = []
    order = sorted(range(len(parts)), key=lambda k: parts[k].box[0])
    for n, i in enumerate(order):
        a = parts[i].box
        for j in order[n + 1:]:
            b = parts[j].box
            vertical = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            if vertical < 0.5 * min(a[3], b[3]):
                continue  # another line
            gap = b[0] - (a[0] + a[2])
            if gap > MERGE_READ_GAP * digit_height:
                break  # the next part on this line is farther still
            fragment = min(a[3], b[3]) < MERGE_FRAGMENT[0] * digit_height
            if _fits_one_digit(a, b, digit_height, MERGE_FRAGMENT[1] if fragment else MERGE_READ_SIZE[0]):
                pairs.append((i, j))
            break  # only the nearest neighbour on the line
    for n, i in enumerate(order):
        a = parts[i].box
        for j in order[n + 1:]:
            b = parts[j].box
            if b[0] >= a[0] + a[2]:
                break  # no shared column, nor with any part further right
            vertical = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            if vertical >= 0.5 * min(a[3], b[3]) or -vertical > MERGE_READ_GAP * digit_height:
                continue  # side by side (asked above), or too far apart
            if _fits_one_digit(a, b, digit_height, MERGE_STACKED_WIDTH) and (i, j) not in pairs:
                pairs.append((i, j))
    for i, part in enumerate(parts):
        if part.box[3] >= MERGE_LIFTED[0] * digit_height:
            continue
        near = [(_box_gap(part.box, other.box), j) for j, other in enumerate(parts) if j != i]
        if not near:
            continue
        gap, j = min(near)
        pair = (i, j) if parts[i].box[0] <= parts[j].box[0] else (j, i)
        if (gap <= MERGE_READ_GAP * digit_height and pair not in pairs
                and _fits_one_digit(part.box, parts[j].box, digit_height, *MERGE_LIFTED[1:])):
            pairs.append(pair)
    return pairs


def _box_gap(a: Box, b: Box) -> float:
    """Empty space between two boxes: the larger of the horizontal and vertical gaps (0 if they meet)."""
    dx = max(a[0], b[0]) - min(a[0] + a[2], b[0] + b[2])
    dy = max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3])
    return float(max(0, dx, dy))


def _fits_one_digit(a: Box, b: Box, digit_height: float, width: float = MERGE_READ_SIZE[0],
                    height: float = MERGE_READ_SIZE[1]) -> bool:
    union = _union(a, b)
    return union[2] <= width * digit_height and union[3] <= height * digit_height


def typical_width(parts: list[Part]) -> float | None:
    """Median width of the parts shaped like single digits, when there are
    enough of them to say (at least two)."""
    widths = [p.box[2] for p in parts if p.aspect <= 1.0]
    return float(median(widths)) if len(widths) >= 2 else None


def needs_split(part: Part, digit_height: float, config: RecognizerConfig,
                digit_width: float | None = None) -> bool:
    """Wider than a single digit is drawn: a candidate for splitting.

    Wide for its height, or much wider than the other digits of the drawing.
    """
    if not config.split_enabled or part.box[2] <= 0.4 * digit_height:
        return False
    sensitivity = max(1e-3, config.split_sensitivity)
    if part.aspect > SPLIT_ASPECT / sensitivity:
        return True
    return digit_width is not None and part.box[2] > SPLIT_WIDTH * digit_width / sensitivity


def may_hold_two(part: Part, digit_height: float, config: RecognizerConfig) -> bool:
    """Wide enough to hold two digits if the model says it is not one (a reject-class model)."""
    if not config.split_enabled or part.box[2] <= 0.4 * digit_height:
        return False
    return part.aspect > config.reject_split_aspect / max(1e-3, config.split_sensitivity)


def split_candidates(part: Part, stroke_width: float, digit_height: float) -> list[tuple[int, str]]:
    """Cut positions (x within the part) worth trying, left to right.

    Touching digits meet where little ink stands in a column (the vertical
    profile has a valley), where the upper contour dips, or where the lower
    contour rises. About four candidates per expected digit are kept.
    """
    mask = part.mask > 0
    h, w = mask.shape
    margin = max(2, int(round(max(0.1 * h, stroke_width))))
    if w - 2 * margin <= 1:
        return []
    has_ink = mask.any(axis=0)
    smooth = max(1.0, stroke_width / 3)
    profile = cv2.GaussianBlur(mask.sum(axis=0).astype(np.float32).reshape(1, -1), (0, 0), smooth).ravel()
    top = np.where(has_ink, mask.argmax(axis=0), h).astype(np.float32)
    bottom = np.where(has_ink, h - 1 - mask[::-1].argmax(axis=0), -1).astype(np.float32)
    window = np.arange(margin, w - margin)
    spacing = max(2.0, stroke_width / 2)
    budget = max(3, int(round(4 * w / max(1.0, 0.7 * digit_height))))
    found: list[tuple[int, str]] = []

    def local_extrema(values: np.ndarray) -> np.ndarray:
        v = values[window]
        left, right = np.r_[np.inf, v[:-1]], np.r_[v[1:], np.inf]
        return window[(v <= left) & (v <= right)]

    for values, source in ((profile, "profile"), (-top, "top contour"), (bottom, "bottom contour")):
        extrema = local_extrema(values)
        for x in extrema[np.argsort(values[extrema], kind="stable")]:
            if len(found) >= budget:
                break
            if all(abs(int(x) - y) > spacing for y, _ in found):
                found.append((int(x), source))
    return sorted(found)


def cut_paths(mask: np.ndarray, xs: list[int], band: int, ink_cost: float = 12.0,
              step_cost: float = 0.4) -> list[np.ndarray]:
    """For each column in ``xs``, the cheapest top-to-bottom path near it.

    Touching digits are seldom separable by a straight vertical line (they
    slant, lean on each other); a path crosses as little ink as it can, moving
    at most one column per row and staying within ``band`` columns of its x.
    All paths are found together, one row at a time (ties go left, then straight).
    """
    if not xs:
        return []
    h, w = mask.shape
    offsets = np.arange(-band, band + 1)
    columns = np.asarray(xs)[:, None] + offsets[None, :]  # (k, 2*band+1)
    inside = (columns >= 0) & (columns < w)
    # What entering each cell costs, row by row: its ink, or never (outside the part).
    entry = np.where(inside[None], np.where(mask[:, np.clip(columns, 0, w - 1)] > 0, ink_cost, 0.0), np.inf)
    # Running totals padded with a never-column on each side: shifts are slices.
    total = np.full((len(xs), columns.shape[1] + 2), np.inf)
    total[:, 1:-1] = np.where(inside, step_cost * np.abs(offsets)[None, :], np.inf) + entry[0]
    moves = np.zeros((h,) + columns.shape, np.int8)
    for row in range(1, h):
        left, straight, right = total[:, :-2] + step_cost, total[:, 1:-1], total[:, 2:] + step_cost
        best = np.minimum(np.minimum(left, straight), right)
        moves[row] = np.where(left == best, -1, np.where(straight == best, 0, 1))
        total[:, 1:-1] = best + entry[row]
    return _trace_back(columns, moves, total[:, 1:-1].argmin(axis=1))


def _trace_back(columns: np.ndarray, moves: np.ndarray, position: np.ndarray) -> list[np.ndarray]:
    """Each path's column on every row, from its cheapest end cell back up (all paths at once)."""
    h, k = moves.shape[0], columns.shape[0]
    rows = np.arange(k)
    paths = np.empty((k, h), np.int64)
    for row in range(h - 1, -1, -1):
        paths[:, row] = columns[rows, position]
        if row > 0:
            position = position + moves[row, rows, position]
    return list(paths)


def piece_between(part: Part, left: np.ndarray | None, right: np.ndarray | None) -> Part | None:
    """The ink of ``part`` between two cut paths (None: the part's edge)."""
    h, w = part.mask.shape
    # Only the columns the two paths enclose can hold the piece's ink.
    x0 = max(0, int(left.min())) if left is not None else 0
    x1 = min(w, int(right.max())) if right is not None else w
    if x1 <= x0:
        return None
    columns = np.arange(x0, x1)
    if left is None:
        keep = columns < right[:, None]
    elif right is None:
        keep = columns >= left[:, None]
    else:
        keep = (columns >= left[:, None]) & (columns < right[:, None])
    return tighten(part.mask[:, x0:x1] * keep, (part.box[0] + x0, part.box[1]), part.labels)


def pieces_between(part: Part, paths: list, spans: list[tuple[int, int]]) -> list[Part | None]:
    """``piece_between(part, paths[i], paths[j])`` for every span (i, j), the same pieces.

    Every piece's box is found at once from per-row tables of the part's ink (the first ink
    column at or right of each column, the last one left of it), so only the pieces' crops
    are made one by one.
    """
    mask = part.mask
    h, w = mask.shape
    if not spans:
        return []
    ink = mask > 0
    columns = np.arange(w + 1)
    # first[r, c]: the first ink column >= c in row r (w if none); last[r, c]: the last ink column < c (-1 if none).
    marked = np.where(ink, columns[:w], w)
    first = np.minimum.accumulate(np.concatenate([marked, np.full((h, 1), w)], axis=1)[:, ::-1], axis=1)[:, ::-1]
    before = np.where(ink, columns[:w], -1)
    last = np.maximum.accumulate(np.concatenate([np.full((h, 1), -1), before], axis=1), axis=1)
    bounds = np.stack([np.zeros(h, np.int64) if p is None else np.asarray(p, np.int64) for p in paths[:-1]]
                      + [np.full(h, w, np.int64)])
    bounds[1:-1] = np.clip(bounds[1:-1], 0, w)
    starts = np.array([i for i, _ in spans])
    ends = np.array([j for _, j in spans])
    left, right = bounds[starts], bounds[ends]  # (pieces, h)
    rows = np.arange(h)[None, :]
    lo = first[rows, left]
    hi = last[rows, right]
    inked = (lo < right) & (lo <= hi)
    any_ink = inked.any(axis=1)
    big = np.iinfo(np.int64).max
    x0s = np.where(inked, lo, big).min(axis=1)
    x1s = np.where(inked, hi, -1).max(axis=1) + 1
    y0s = inked.argmax(axis=1)
    y1s = h - inked[:, ::-1].argmax(axis=1)
    # A column c is kept when 0 <= c - left < right - left: one unsigned comparison
    # (16-bit while the part is narrow enough, a quarter of the memory traffic).
    signed, unsigned = (np.int16, np.uint16) if w < 2 ** 15 else (np.int64, np.uint64)
    offset = left.astype(signed)
    extent = np.maximum(right - left, 0).astype(unsigned)
    grid = np.arange(w, dtype=signed)
    pieces: list[Part | None] = []
    for k in range(len(spans)):
        if not any_ink[k]:
            pieces.append(None)
            continue
        x0, x1, y0, y1 = int(x0s[k]), int(x1s[k]), int(y0s[k]), int(y1s[k])
        keep = (grid[x0:x1] - offset[k, y0:y1, None]).view(unsigned) < extent[k, y0:y1, None]
        crop = mask[y0:y1, x0:x1] * keep
        pieces.append(Part((part.box[0] + x0, part.box[1] + y0, x1 - x0, y1 - y0), crop, part.labels))
    return pieces


def tighten(mask: np.ndarray, origin: tuple[int, int], labels: tuple[int, ...]) -> Part | None:
    """The part made of ``mask``'s ink, cropped to it (None when empty)."""
    x0, y0, bw, bh = cv2.boundingRect(mask)
    if bw == 0 or bh == 0:
        return None
    x1, y1 = x0 + bw, y0 + bh
    box = (origin[0] + int(x0), origin[1] + int(y0), int(x1 - x0), int(y1 - y0))
    return Part(box, np.ascontiguousarray(mask[y0:y1, x0:x1]), labels)


def group_lines(boxes: list[Box]) -> list[list[int]]:
    """Indices of ``boxes`` per line (top to bottom), each left to right.

    Lines are traced through the tall boxes, walking left to right: a box
    joins the line whose latest box it overlaps most vertically, so a line may
    slope gently. Short boxes (a stray stroke, a small digit) then join the
    line nearest to them vertically; they never start a line of their own.
    """
    if not boxes:
        return []
    tallest = max(b[3] for b in boxes)
    tall = [k for k in range(len(boxes)) if boxes[k][3] >= 0.5 * tallest]
    short = [k for k in range(len(boxes)) if boxes[k][3] < 0.5 * tallest]
    lines: list[list[int]] = []
    for index in sorted(tall, key=lambda k: boxes[k][0] + boxes[k][2] / 2):
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

    def centre(k: int) -> float:
        return boxes[k][1] + boxes[k][3] / 2

    for index in short:
        nearest = min(lines, key=lambda line: min(abs(centre(index) - centre(k)) for k in line))
        nearest.append(index)
    for line in lines:
        line.sort(key=lambda k: boxes[k][0] + boxes[k][2] / 2)
    lines.sort(key=lambda line: float(np.mean([centre(k) for k in line])))
    return lines
