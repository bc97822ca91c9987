"""Pictures of one recognition, step by step, for the Pipeline page and the intermediates zip.

Everything here only *draws* what :meth:`mdr.recognition.recognizer.Recognizer.recognize`
recorded in its :class:`~mdr.recognition.results.Recognition` (masks, labels,
decisions); no step of the pipeline is computed again. Plain numpy and OpenCV,
no Streamlit, so that the pictures can be tested and exported alike.
"""
from __future__ import annotations

import colorsys

import cv2
import numpy as np

from mdr.app import theme
from mdr.recognition.results import Digit, Recognition, SplitDecision

ACCENT = theme.rgb(theme.ACCENT)
KEPT = theme.rgb(theme.GOOD)
MUTED = theme.rgb(theme.MUTED)
DROPPED = theme.rgb(theme.DROPPED)
CUT = theme.rgb(theme.CUT)
LINE_COLOURS = tuple(theme.rgb(colour) for colour in theme.LINE_COLOURS)

DISPLAY_HEIGHT = 160
"""Per-digit pictures are enlarged (nearest neighbour) to about this height."""
GRID_CELL = 8
"""Screen pixels per model-input pixel in the enlarged 28x28 picture."""


# --------------------------------------------------------------------------
# Small picture helpers
# --------------------------------------------------------------------------
def to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in 0..1 (or any uint8) as a uint8 picture."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    values = image.astype(np.float32)
    if values.size and float(values.max()) <= 1.001:  # 0..1, give or take rounding
        values = values * 255.0
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """A grey, RGB or RGBA picture as RGB uint8 (transparency shown over white)."""
    image = to_uint8(image)
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] == 2:
        grey, alpha = image[:, :, :1].astype(np.float32), image[:, :, 1:].astype(np.float32) / 255
        return np.repeat((grey * alpha + 255 * (1 - alpha)).astype(np.uint8), 3, axis=2)
    if image.shape[2] == 4:
        colour, alpha = image[:, :, :3].astype(np.float32), image[:, :, 3:].astype(np.float32) / 255
        return (colour * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(image[:, :, :3])


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: every pixel becomes a ``factor``-sided square."""
    factor = max(1, int(factor))
    image = to_uint8(image)
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def fit_height(image: np.ndarray, height: int = DISPLAY_HEIGHT) -> np.ndarray:
    """Enlarge a small picture by a whole factor (crisp pixels), or shrink a large one."""
    image = to_uint8(image)
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        return np.zeros((height, height), np.uint8)
    if h >= height:
        scale = height / h
        return cv2.resize(image, (max(1, round(w * scale)), height), interpolation=cv2.INTER_AREA)
    return enlarge(image, max(1, height // h))


def preview(image: np.ndarray, max_side: int = 1200) -> np.ndarray:
    """A picture no larger than ``max_side`` on its longer side, for showing (not reading);
    grey + alpha or single-channel pictures become RGB, which every viewer shows."""
    image = to_uint8(image)
    if image.ndim == 3 and image.shape[2] in (1, 2):
        image = to_rgb(image)
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def label_colours(count: int) -> np.ndarray:
    """``count`` clearly different bright colours (uint8 RGB), the same for the same count."""
    colours = []
    for i in range(count):
        hue = (i * 0.618033988749895) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 1.0)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return np.array(colours, np.uint8).reshape(-1, 3)


def _thickness(image: np.ndarray) -> int:
    return max(1, round(max(image.shape[:2]) / 400))


def _text(image: np.ndarray, text: str, origin: tuple[int, int], colour, scale: float | None = None,
          placed: list[tuple[int, int, int, int]] | None = None) -> None:
    """Legible text (with a dark outline) whose top-left corner is at ``origin``.

    With ``placed`` (boxes of labels drawn before), the text moves down, or up near the bottom,
    until it covers none of them, and its own box is added: labels of pairs that share a mark
    would otherwise be written over one another."""
    h, w = image.shape[:2]
    scale = scale or max(0.45, min(1.6, max(h, w) / 900))
    thick = max(1, round(scale * 1.6))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x = int(np.clip(origin[0], 0, max(0, w - tw - 1)))
    y = int(np.clip(origin[1] + th, th + 1, h - 2))
    if placed is not None:
        step = th + 6
        candidates = [y + k * step for k in range(h // step + 1)] + [y - k * step for k in range(1, h // step + 1)]
        for candidate in candidates:
            if th + 1 <= candidate <= h - 2 and not any(_boxes_meet((x, candidate - th, tw, th), b) for b in placed):
                y = candidate
                break
        placed.append((x, y - th, tw, th))
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, tuple(int(c) for c in colour),
                thick, cv2.LINE_AA)


def _boxes_meet(a: tuple[int, int, int, int], b: tuple[int, int, int, int], margin: int = 2) -> bool:
    return (a[0] < b[0] + b[2] + margin and b[0] < a[0] + a[2] + margin
            and a[1] < b[1] + b[3] + margin and b[1] < a[1] + a[3] + margin)


def _rectangle(image: np.ndarray, box, colour, thickness: int) -> None:
    x, y, w, h = (int(round(v)) for v in box)
    cv2.rectangle(image, (x, y), (x + max(0, w - 1), y + max(0, h - 1)), tuple(int(c) for c in colour),
                  thickness)


def _dimmed_mask(mask: np.ndarray, level: int = 110) -> np.ndarray:
    """The ink mask in grey, so coloured marks drawn over it stand out."""
    grey = (np.asarray(mask) > 0).astype(np.uint8) * level
    return np.repeat(grey[:, :, None], 3, axis=2)


def _dashed_line(image: np.ndarray, a, b, colour, thickness: int, dash: int = 8) -> None:
    length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
    steps = max(1, int(length // dash))
    for i in range(0, steps, 2):
        t0, t1 = i / steps, min(1.0, (i + 1) / steps)
        p0 = (int(a[0] + (b[0] - a[0]) * t0), int(a[1] + (b[1] - a[1]) * t0))
        p1 = (int(a[0] + (b[0] - a[0]) * t1), int(a[1] + (b[1] - a[1]) * t1))
        cv2.line(image, p0, p1, tuple(int(c) for c in colour), thickness, cv2.LINE_AA)


def _badge(image: np.ndarray, text: str, corner: tuple[int, int], colour) -> None:
    scale = max(0.5, min(1.4, max(image.shape[:2]) / 900))
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = corner
    x = int(np.clip(x, 0, image.shape[1] - tw - 8))
    y = int(np.clip(y - th - 10, 0, image.shape[0] - th - 10))
    cv2.rectangle(image, (x, y), (x + tw + 8, y + th + 10), tuple(int(c) for c in colour), -1)
    cv2.putText(image, text, (x + 4, y + th + 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick,
                cv2.LINE_AA)


def working_box(recognition: Recognition, box) -> tuple[float, float, float, float]:
    """A digit box (original pixels) in working-image pixels."""
    scale = float(recognition.scale or 1.0)
    x, y, w, h = box
    return x * scale, y * scale, w * scale, h * scale


# --------------------------------------------------------------------------
# Steps 4-5: components and specks
# --------------------------------------------------------------------------
def components_picture(recognition: Recognition) -> np.ndarray:
    """Each connected component in its own colour, numbered by its label."""
    labels = np.asarray(recognition.labels)
    count = int(labels.max()) if labels.size else 0
    palette = np.vstack([np.zeros((1, 3), np.uint8), label_colours(count)])
    picture = palette[np.clip(labels, 0, count)]
    picture = np.ascontiguousarray(picture)
    for c in recognition.components:
        x, y, w, h = c.box
        if max(w, h) >= 6:
            _text(picture, str(c.label), (x, max(0, y - 18)), palette[c.label] if c.label <= count else ACCENT)
    return picture


def specks_picture(recognition: Recognition) -> np.ndarray:
    """Kept marks in white, dropped specks in red with a red ring around each."""
    labels = np.asarray(recognition.labels)
    picture = np.zeros(labels.shape + (3,), np.uint8)
    kept = [c.label for c in recognition.components if c.kept]
    dropped = [c for c in recognition.components if not c.kept]
    picture[np.isin(labels, kept)] = (255, 255, 255)
    picture[np.isin(labels, [c.label for c in dropped])] = DROPPED
    thick = _thickness(picture)
    for c in dropped:
        x, y, w, h = c.box
        radius = int(max(w, h) / 2 + 4 + 2 * thick)
        cv2.circle(picture, (int(x + w / 2), int(y + h / 2)), radius, DROPPED, thick, cv2.LINE_AA)
    return picture


# --------------------------------------------------------------------------
# Step 6: merging
# --------------------------------------------------------------------------
def merge_groups(recognition: Recognition) -> dict[int, list[int]]:
    """seed label -> component labels joined with it, from the recorded join decisions."""
    parent = {c.label: c.label for c in recognition.components if c.kept}

    def find(label: int) -> int:
        while parent.setdefault(label, label) != label:
            label = parent[label]
        return label

    for decision in recognition.merges:
        if decision.joined:
            a, b = (find(p) for p in decision.parts)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for label in parent:
        groups.setdefault(find(label), []).append(label)
    return {seed: sorted(members) for seed, members in groups.items()}


def _union_box(boxes) -> tuple[int, int, int, int]:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def merges_picture(recognition: Recognition) -> np.ndarray:
    """Kept marks with their boxes; joined groups boxed in green, each pair considered linked.

    A green link joined the pair, a grey dashed one did not; the label is the
    pair's horizontal overlap, or for neighbours side by side how sure the
    classifier was of the two read as one digit.
    """
    picture = _dimmed_mask(recognition.mask, 150)
    boxes = {c.label: c.box for c in recognition.components if c.kept}
    thick = _thickness(picture)
    for box in boxes.values():
        _rectangle(picture, box, MUTED, thick)
    groups = merge_groups(recognition)
    group_boxes = {seed: _union_box([boxes[m] for m in members if m in boxes])
                   for seed, members in groups.items() if any(m in boxes for m in members)}
    for seed, members in groups.items():
        if len(members) > 1 and seed in group_boxes:
            x, y, w, h = group_boxes[seed]
            pad = 3 * thick
            _rectangle(picture, (x - pad, y - pad, w + 2 * pad, h + 2 * pad), KEPT, 2 * thick)
    placed: list[tuple[int, int, int, int]] = []
    for decision in recognition.merges:
        a, b = (boxes.get(p) for p in decision.parts)
        if a is None or b is None:
            continue
        pa = (int(a[0] + a[2] / 2), int(a[1] + a[3] / 2))
        pb = (int(b[0] + b[2] / 2), int(b[1] + b[3] / 2))
        if decision.joined:
            cv2.line(picture, pa, pb, KEPT, 2 * thick, cv2.LINE_AA)
        else:
            _dashed_line(picture, pa, pb, MUTED, thick)
        label = (f"{decision.overlap:.0%}" if decision.read_together is None
                 else f"as one: {decision.read_together:.0%}")
        _text(picture, label, ((pa[0] + pb[0]) // 2 + 4, (pa[1] + pb[1]) // 2 - 10),
              KEPT if decision.joined else MUTED, placed=placed)
    return picture


# --------------------------------------------------------------------------
# Step 7: splitting
# --------------------------------------------------------------------------
def chosen_cuts(decision: SplitDecision) -> list[int]:
    """Indices of the candidates that were cut (none when the part was kept whole)."""
    chosen = decision.chosen
    if chosen is None:
        return []
    if isinstance(chosen, (int, np.integer)):
        return [int(chosen)]
    return [int(k) for k in chosen]


def split_picture(recognition: Recognition, decision: SplitDecision, pad: int = 6) -> np.ndarray:
    """The part considered, with every cut tried (numbered): the cuts made thick in the
    accent colour, the others thin and blue."""
    mask = np.asarray(recognition.mask)
    x, y, w, h = decision.box
    y0, y1 = max(0, y - pad), min(mask.shape[0], y + h + pad)
    x0, x1 = max(0, x - pad), min(mask.shape[1], x + w + pad)
    crop = (mask[y0:y1, x0:x1] > 0).astype(np.uint8) * 255
    factor = max(1, int(np.ceil(220 / max(1, crop.shape[0]))))
    picture = np.ascontiguousarray(to_rgb(enlarge(crop, factor)))
    picture[picture == 255] = 200  # grey ink, so the cut lines stand out
    thick = max(1, factor // 2)
    chosen = set(chosen_cuts(decision))
    order = sorted(range(len(decision.candidates)), key=lambda k: k in chosen)  # chosen drawn last
    for index in order:
        candidate = decision.candidates[index]
        cx = int((candidate.cut_x - x0 + 0.5) * factor)
        made = index in chosen
        colour = ACCENT if made else CUT
        cv2.line(picture, (cx, 0), (cx, picture.shape[0] - 1), colour, 3 * thick if made else thick)
        _text(picture, str(index + 1), (cx + 3, 2 + (index % 3) * 20), colour, 0.55)
    return picture


# --------------------------------------------------------------------------
# Step 8: lines and reading order
# --------------------------------------------------------------------------
def reading_order_picture(recognition: Recognition) -> np.ndarray:
    """The (flattened) original with every digit boxed and numbered in reading order;
    each line in its own colour."""
    picture = np.ascontiguousarray(to_rgb(recognition.grey))
    thick = max(2, _thickness(picture) + 1)
    for line_no, members in enumerate(recognition.lines):
        colour = LINE_COLOURS[line_no % len(LINE_COLOURS)]
        for index in members:
            box = working_box(recognition, recognition.digits[index].box)
            _rectangle(picture, box, colour, thick)
            x, y = int(box[0]), int(box[1])
            _badge(picture, str(index + 1), (x, y), colour)
    return picture


# --------------------------------------------------------------------------
# Step 9: per-digit normalization
# --------------------------------------------------------------------------
def final_grid_picture(final: np.ndarray, shift: tuple[float, float] | None = None,
                       cell: int = GRID_CELL) -> np.ndarray:
    """The 28x28 model input enlarged with a pixel grid; with ``shift`` (dx, dy), an arrow
    from where the centre of mass was to the centre it was moved to."""
    pixels = to_uint8(np.clip(np.asarray(final, np.float32), 0, 1))
    picture = np.ascontiguousarray(to_rgb(enlarge(pixels, cell)))
    size = pixels.shape[0] * cell
    for i in range(0, size + 1, cell):
        colour = (70, 70, 70) if (i // cell) % 7 else (110, 110, 110)
        picture[min(i, size - 1), :] = colour
        picture[:, min(i, size - 1)] = colour
    if shift is not None:
        centre = (pixels.shape[1] / 2 * cell, pixels.shape[0] / 2 * cell)
        start = (centre[0] - shift[0] * cell, centre[1] - shift[1] * cell)
        cv2.drawMarker(picture, (int(centre[0]), int(centre[1])), ACCENT, cv2.MARKER_CROSS, 2 * cell, 2)
        if np.hypot(*shift) >= 0.25:
            cv2.arrowedLine(picture, (int(start[0]), int(start[1])), (int(centre[0]), int(centre[1])),
                            CUT, 2, cv2.LINE_AA, tipLength=0.3)
    return picture


def digit_pictures(digit: Digit, height: int = DISPLAY_HEIGHT) -> dict[str, np.ndarray]:
    """The five pictures of one digit's normalization, ready to show."""
    steps = digit.steps
    return {
        "crop": fit_height(steps.crop, height),
        "stroke_adjusted": fit_height(steps.stroke_adjusted, height),
        "resized": enlarge(steps.resized, GRID_CELL),
        "final": final_grid_picture(steps.final, steps.center_of_mass_shift),
    }


def stroke_adjusted_changed(digit: Digit) -> bool:
    a, b = np.asarray(digit.steps.crop), np.asarray(digit.steps.stroke_adjusted)
    return a.shape != b.shape or not np.array_equal(a, b)
