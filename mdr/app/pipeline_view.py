"""Pictures, tables and figures of one recognition, step by step, for the Pipeline page.

Everything here only *draws* what :meth:`mdr.recognizer.Recognizer.recognize`
recorded in its :class:`~mdr.results.Recognition` (masks, labels, decisions,
scores, timings); no step of the pipeline is computed again. The functions
are plain (no Streamlit) so that they can be tested and reused by the export.
"""
from __future__ import annotations

import colorsys
import typing
from dataclasses import dataclass, fields, replace
from typing import Any

import cv2
import numpy as np
import pandas as pd

from mdr.recognition.config import DEFAULT_CONFIG, Binarization, Precision, RecognizerConfig
from mdr.recognition.results import Digit, Recognition, SplitDecision

ACCENT = (228, 87, 46)  # the app's primary colour, #e4572e
KEPT = (46, 204, 113)
MUTED = (154, 165, 177)
DROPPED = (230, 40, 40)
CUT = (40, 120, 240)
LINE_COLOURS = ((46, 204, 113), (52, 152, 219), (241, 196, 15), (155, 89, 182), (230, 126, 34))

DISPLAY_HEIGHT = 160
"""Per-digit pictures are enlarged (nearest neighbour) to about this height."""
GRID_CELL = 8
"""Screen pixels per model-input pixel in the enlarged 28x28 picture."""


# --------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    number: int
    key: str
    title: str
    explanation: str
    """One line saying what the step does; the page adds what it found."""

    @property
    def heading(self) -> str:
        return f"{self.number} · {self.title}"


STEPS: tuple[Step, ...] = (
    Step(1, "greyscale", "Original → greyscale",
         "Colour and transparency are flattened to one grey channel, and the image is brought "
         "to a working size."),
    Step(2, "polarity", "Polarity",
         "The background is what surrounds the drawing: if it is light, the image is inverted "
         "so that ink is always bright on dark, as in MNIST."),
    Step(3, "binarization", "Binarization",
         "Every pixel brighter than the threshold is ink; the rest is background."),
    Step(4, "components", "Connected components",
         "Touching ink pixels form one mark; each mark gets its own colour and number."),
    Step(5, "specks", "Speck removal",
         "Marks too small to be a digit (dust, stray clicks) are dropped."),
    Step(6, "merging", "Merging strokes",
         "Marks that lie above one another (a 5's bar, a 4 drawn in two strokes) are joined "
         "into one digit."),
    Step(7, "splitting", "Splitting touching digits",
         "A part wider than a digit is cut where the ink is thin; the model reads the pieces, "
         "and the cuts whose reading scores best are made if that beats reading the part as "
         "one digit."),
    Step(8, "reading-order", "Lines and reading order",
         "Digits are grouped into lines by their vertical overlap and read left to right, "
         "top to bottom."),
    Step(9, "normalization", "Each digit, made to look like MNIST",
         "Each digit is cropped, its stroke brought to MNIST's pen width, scaled to fit 20×20 "
         "keeping its shape, and centred by its centre of mass in 28×28."),
    Step(10, "model", "Model output",
         "The network gives a probability for each of the ten digits; the most likely one is "
         "the reading."),
    Step(11, "number", "The number, and the time taken",
         "The digits in reading order make the number; each line of digits is one line of it."),
)


def last_step_reached(recognition: Recognition | None, stopped: bool) -> int:
    """The number of the last step that has something to show.

    ``stopped`` is True when the recognizer raised NothingToReadError: then
    only the steps before the refusal carry intermediates.
    """
    if recognition is None:
        return 0
    if recognition.polarity is None:
        return 1
    if recognition.binarization is None:
        return 2
    if stopped or not recognition.digits:
        return 5
    return len(STEPS)


# --------------------------------------------------------------------------
# Knobs: the RecognizerConfig fields a person can turn on the page
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Knob:
    name: str
    """A field of :class:`RecognizerConfig`."""
    label: str
    help: str
    kind: str  # "select", "slider", "toggle", "radio"
    options: tuple = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None


KNOBS: tuple[Knob, ...] = (
    Knob("binarization", "Binarization method",
         "otsu picks the threshold from the image's histogram; fixed uses the threshold below; "
         "adaptive compares each pixel with its neighbourhood.",
         "select", options=typing.get_args(Binarization)),
    Knob("fixed_threshold", "Fixed threshold",
         "Ink brightness (0-255, after polarity) above which a pixel is ink. "
         "Used when the method is 'fixed'.",
         "slider", low=1, high=254, step=1),
    Knob("min_speck_size", "Minimum speck size",
         "A mark whose longer side is below this fraction of the tallest mark is dropped "
         "as a speck (marks under 1.5 stroke widths always are).",
         "slider", low=0.0, high=1.0, step=0.05),
    Knob("merge_overlap", "Merge overlap",
         "A partial stroke joins the digit above or below it when it overlaps at least this "
         "fraction of its own width.",
         "slider", low=0.0, high=1.0, step=0.05),
    Knob("split_enabled", "Split touching digits",
         "Cut parts wider than a digit into several digits.", "toggle"),
    Knob("split_sensitivity", "Split sensitivity",
         "Higher splits more eagerly: a part is a candidate when width/height exceeds "
         "1.15 / sensitivity.",
         "slider", low=0.5, high=2.0, step=0.05),
    Knob("normalize_stroke", "Normalize stroke width",
         "Thin thick strokes and thicken thin ones to MNIST's pen width before reading.", "toggle"),
    Knob("precision", "Model precision",
         "int8 is the quantized model the app uses; fp32 the full-precision one.",
         "radio", options=typing.get_args(Precision)),
)


def knob_defaults(config: RecognizerConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    """Each knob's value in ``config`` (by default: the RecognizerConfig defaults)."""
    names = {f.name for f in fields(RecognizerConfig)}
    return {k.name: getattr(config, k.name) for k in KNOBS if k.name in names}


def config_from_knobs(values: dict[str, Any], base: RecognizerConfig = DEFAULT_CONFIG) -> RecognizerConfig:
    """``base`` with the knobs in ``values`` changed (types as the fields expect)."""
    defaults = knob_defaults(base)
    changes = {}
    for name, value in values.items():
        if name not in defaults:
            continue
        default = defaults[name]
        if isinstance(default, bool):
            value = bool(value)
        elif isinstance(default, int):
            value = int(round(float(value)))
        elif isinstance(default, float):
            value = float(value)
        changes[name] = value
    return replace(base, **changes)


def changed_knobs(config: RecognizerConfig, base: RecognizerConfig = DEFAULT_CONFIG) -> dict[str, tuple[Any, Any]]:
    """name -> (default, current) for every knob not at its default."""
    return {name: (default, getattr(config, name))
            for name, default in knob_defaults(base).items() if getattr(config, name) != default}


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


def _text(image: np.ndarray, text: str, origin: tuple[int, int], colour, scale: float | None = None) -> None:
    """Legible text (with a dark outline) whose top-left corner is at ``origin``."""
    h, w = image.shape[:2]
    scale = scale or max(0.45, min(1.6, max(h, w) / 900))
    thick = max(1, round(scale * 1.6))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x = int(np.clip(origin[0], 0, max(0, w - tw - 1)))
    y = int(np.clip(origin[1] + th, th + 1, h - 2))
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, tuple(int(c) for c in colour),
                thick, cv2.LINE_AA)


def _rectangle(image: np.ndarray, box, colour, thickness: int) -> None:
    x, y, w, h = (int(round(v)) for v in box)
    cv2.rectangle(image, (x, y), (x + max(0, w - 1), y + max(0, h - 1)), tuple(int(c) for c in colour),
                  thickness)


def _dimmed_mask(mask: np.ndarray, level: int = 110) -> np.ndarray:
    """The ink mask in grey, so coloured marks drawn over it stand out."""
    grey = (np.asarray(mask) > 0).astype(np.uint8) * level
    return np.repeat(grey[:, :, None], 3, axis=2)


def working_box(recognition: Recognition, box) -> tuple[float, float, float, float]:
    """A digit box (original pixels) in working-image pixels."""
    scale = float(recognition.scale or 1.0)
    x, y, w, h = box
    return x * scale, y * scale, w * scale, h * scale


# --------------------------------------------------------------------------
# Steps 1-3: greyscale, polarity, binarization
# --------------------------------------------------------------------------
def describe_input(recognition: Recognition) -> str:
    shape = tuple(recognition.original_shape)
    channels = {2: "grey", 3: {1: "grey", 2: "grey + alpha", 3: "RGB", 4: "RGBA"}}
    kind = channels.get(len(shape), "?")
    if isinstance(kind, dict):
        kind = kind.get(shape[2], f"{shape[2]} channels")
    h, w = recognition.grey.shape[:2]
    original = f"{shape[1]}×{shape[0]} {kind}" if len(shape) >= 2 else "?"
    if abs(recognition.scale - 1.0) < 1e-9:
        return f"{original} → {w}×{h} grey, kept at its size."
    verb = "shrunk" if recognition.scale < 1 else "enlarged"
    return f"{original} → {w}×{h} grey, {verb} ×{recognition.scale:.3g} to the working size."


def describe_polarity(recognition: Recognition) -> str:
    p = recognition.polarity
    return (f"Border median {p.border_median:.0f}, image median {p.image_median:.0f} (0 = black, "
            f"255 = white). Decision: {p.reason}.")


def describe_binarization(recognition: Recognition) -> str:
    b = recognition.binarization
    return (f"Method **{b.method}**, threshold **{b.threshold:.0f}**: {b.ink_fraction:.1%} of the "
            f"pixels are ink.")


def threshold_histogram(recognition: Recognition):
    """Plotly histogram of the ink image's grey levels with the threshold marked."""
    import plotly.graph_objects as go

    counts = np.bincount(np.asarray(recognition.ink, np.uint8).ravel(), minlength=256)
    threshold = recognition.binarization.threshold
    colours = ["#e4572e" if level > threshold else "#9aa5b1" for level in range(256)]
    figure = go.Figure(go.Bar(x=np.arange(256), y=counts, marker_color=colours, marker_line_width=0,
                              hovertemplate="grey %{x}: %{y} pixels<extra></extra>"))
    figure.add_vline(x=threshold, line_color="#1f2933", line_dash="dash",
                     annotation_text=f"threshold {threshold:.0f}", annotation_position="top")
    figure.update_layout(xaxis_title="grey level after polarity (ink bright)", yaxis_title="pixels",
                         yaxis_type="log", height=260, margin=dict(l=10, r=10, t=30, b=10),
                         bargap=0, showlegend=False)
    return figure


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


def components_table(recognition: Recognition) -> pd.DataFrame:
    rows = [{"label": c.label, "x": c.box[0], "y": c.box[1], "width": c.box[2], "height": c.box[3],
             "area (px)": c.area, "kept": c.kept, "reason": c.reason}
            for c in recognition.components]
    columns = ["label", "x", "y", "width", "height", "area (px)", "kept", "reason"]
    return pd.DataFrame(rows, columns=columns)


def describe_components(recognition: Recognition) -> str:
    comps = recognition.components
    if not comps:
        return "No marks were found."
    areas = [c.area for c in comps]
    sizes = f"areas {min(areas)}–{max(areas)} px" if len(comps) > 1 else f"area {areas[0]} px"
    return (f"**{len(comps)}** mark{'s' if len(comps) != 1 else ''}, {sizes}; "
            f"estimated stroke width {recognition.stroke_width:.1f} px.")


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


def specks_table(recognition: Recognition) -> pd.DataFrame:
    table = components_table(recognition)
    return table[~table["kept"]].reset_index(drop=True)


def describe_specks(recognition: Recognition) -> str:
    dropped = [c for c in recognition.components if not c.kept]
    kept = len(recognition.components) - len(dropped)
    text = f"**{len(dropped)}** dropped as speck{'s' if len(dropped) != 1 else ''}, **{kept}** kept"
    if recognition.digit_height:
        text += f"; typical digit height {recognition.digit_height:.0f} px"
    return text + "."


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
    pair's horizontal overlap.
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
        _text(picture, f"{decision.overlap:.0%}", ((pa[0] + pb[0]) // 2 + 4, (pa[1] + pb[1]) // 2 - 10),
              KEPT if decision.joined else MUTED)
    return picture


def _dashed_line(image: np.ndarray, a, b, colour, thickness: int, dash: int = 8) -> None:
    length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
    steps = max(1, int(length // dash))
    for i in range(0, steps, 2):
        t0, t1 = i / steps, min(1.0, (i + 1) / steps)
        p0 = (int(a[0] + (b[0] - a[0]) * t0), int(a[1] + (b[1] - a[1]) * t0))
        p1 = (int(a[0] + (b[0] - a[0]) * t1), int(a[1] + (b[1] - a[1]) * t1))
        cv2.line(image, p0, p1, tuple(int(c) for c in colour), thickness, cv2.LINE_AA)


def merges_table(recognition: Recognition) -> pd.DataFrame:
    rows = [{"marks": f"{d.parts[0]} + {d.parts[1]}", "overlap": round(d.overlap, 3),
             "height / digit height": round(d.height_ratio, 3), "joined": d.joined, "reason": d.reason}
            for d in recognition.merges]
    return pd.DataFrame(rows, columns=["marks", "overlap", "height / digit height", "joined", "reason"])


def describe_merges(recognition: Recognition) -> str:
    considered = len(recognition.merges)
    joined = sum(d.joined for d in recognition.merges)
    if not considered:
        return "No two marks lie above one another: nothing to join."
    return (f"**{considered}** pair{'s' if considered != 1 else ''} of marks overlap horizontally; "
            f"**{joined}** joined.")


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


def _score(value: float) -> str:
    """A score for a table; 'no reading' where no reading could use it (-inf)."""
    value = float(value)
    return f"{value:.3f}" if np.isfinite(value) else "no reading"


def split_table(decision: SplitDecision) -> pd.DataFrame:
    """Every cut tried, and reading the part whole, with their scores."""
    chosen = set(chosen_cuts(decision))
    rows = [{"cut": str(index + 1), "x": int(c.cut_x), "suggested by": c.source,
             "score": _score(c.score), "pieces read as": " | ".join(str(p) for p in c.pieces),
             "cut made": index in chosen}
            for index, c in enumerate(decision.candidates)]
    rows.append({"cut": "none", "x": None, "suggested by": "read as one digit",
                 "score": _score(decision.whole_score), "pieces read as": "",
                 "cut made": not chosen})
    columns = ["cut", "x", "suggested by", "score", "pieces read as", "cut made"]
    if decision.whole_reject is not None:  # a model with the "not a single digit" class
        for row, c in zip(rows, decision.candidates):
            row["not one digit"] = " | ".join(f"{r:.0%}" for r in c.reject)
        rows[-1]["not one digit"] = f"{decision.whole_reject:.0%}"
        columns.insert(5, "not one digit")
    table = pd.DataFrame(rows, columns=columns)
    table["x"] = table["x"].astype("Int64")  # whole pixels; empty for 'none'
    return table


def describe_splits(recognition: Recognition, config: RecognizerConfig) -> str:
    if not config.split_enabled:
        return "Splitting is switched off: every part is read as one digit."
    if not recognition.splits:
        return (f"No part is wider than a digit (width/height above "
                f"{1.15 / max(1e-3, config.split_sensitivity):.2f}): nothing to split.")
    cut = sum(bool(chosen_cuts(d)) for d in recognition.splits)
    n = len(recognition.splits)
    return f"**{n}** wide part{'s' if n != 1 else ''} considered, **{cut}** cut into several digits."


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


def reading_order_table(recognition: Recognition) -> pd.DataFrame:
    """Digits in reading order: line, position in the line, box in original pixels."""
    rows = []
    for line_no, members in enumerate(recognition.lines):
        for position, index in enumerate(members):
            x, y, w, h = recognition.digits[index].box
            rows.append({"#": index + 1, "line": line_no + 1, "position": position + 1,
                         "x": int(x), "y": int(y), "width": int(w), "height": int(h)})
    return pd.DataFrame(rows, columns=["#", "line", "position", "x", "y", "width", "height"])


def describe_lines(recognition: Recognition) -> str:
    lines = recognition.lines
    parts = [f"line {n + 1}: digits {members[0] + 1}–{members[-1] + 1}" if len(members) > 1
             else f"line {n + 1}: digit {members[0] + 1}" for n, members in enumerate(lines) if members]
    return (f"**{len(recognition.digits)}** digit{'s' if len(recognition.digits) != 1 else ''} on "
            f"**{len(lines)}** line{'s' if len(lines) != 1 else ''} ({'; '.join(parts)}).")


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


def describe_digit(digit: Digit) -> dict[str, str]:
    """Captions for the pictures of :func:`digit_pictures`."""
    steps = digit.steps
    crop_h, crop_w = np.asarray(steps.crop).shape[:2]
    res_h, res_w = np.asarray(steps.resized).shape[:2]
    dx, dy = steps.center_of_mass_shift
    adjusted = ("redrawn at MNIST's stroke width" if stroke_adjusted_changed(digit)
                else "stroke already MNIST-like: left as drawn")
    return {
        "crop": f"{crop_w}×{crop_h} px, stroke {steps.stroke_width:.1f} px wide",
        "stroke_adjusted": adjusted,
        "resized": f"{res_w}×{res_h}, longer side 20 px",
        "final": f"centre of mass moved by ({dx:+.1f}, {dy:+.1f}) px",
    }


# --------------------------------------------------------------------------
# Step 10: model output
# --------------------------------------------------------------------------
def probabilities_figure(recognition: Recognition, per_row: int = 4):
    """One small bar chart of the ten probabilities per digit, the reading highlighted
    (and "not one" digit's, with a reject-class model)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    digits = recognition.digits
    count = max(1, len(digits))
    cols = min(per_row, count)
    rows = int(np.ceil(count / cols))
    titles = [f"#{i + 1}: {d.digit} ({d.confidence:.0%})" for i, d in enumerate(digits)]
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None,
                           vertical_spacing=min(0.3, 0.5 / rows), horizontal_spacing=0.04)
    for index, digit in enumerate(digits):
        probabilities = np.asarray(digit.probabilities, dtype=float) * 100
        colours = ["#e4572e" if d == digit.digit else "#9aa5b1" for d in range(10)]
        names = [str(d) for d in range(10)]
        if digit.reject is not None:  # a model with the "not a single digit" class
            probabilities = np.append(probabilities, 100 * digit.reject)
            colours.append("#5b6abf")
            names.append("not one")
        figure.add_trace(
            go.Bar(x=names, y=probabilities, marker_color=colours,
                   name=f"digit {index + 1}",
                   hovertemplate=f"#{index + 1}" + " reads %{x}: %{y:.2f}%<extra></extra>"),
            row=index // cols + 1, col=index % cols + 1,
        )
    figure.update_yaxes(range=[0, 105], ticksuffix="%", showgrid=True)
    figure.update_xaxes(type="category", tickfont=dict(size=10))
    figure.update_layout(height=60 + 210 * rows, showlegend=False, margin=dict(l=10, r=10, t=40, b=10),
                         bargap=0.15)
    return figure


def digits_table(recognition: Recognition) -> pd.DataFrame:
    rows = []
    for index, d in enumerate(recognition.digits):
        rows.append({
            "#": index + 1, "line": d.line + 1, "read as": d.digit, "confidence": round(d.confidence, 4),
            "top 3": ", ".join(f"{k} ({p:.1%})" for k, p in d.top3),
            "box (x, y, w, h)": ", ".join(str(int(v)) for v in d.box),
            "unsure": d.low_confidence,
        })
    return pd.DataFrame(rows, columns=["#", "line", "read as", "confidence", "top 3", "box (x, y, w, h)",
                                       "unsure"])


def describe_model(recognition: Recognition) -> str:
    digits = recognition.digits
    unsure = sum(d.low_confidence for d in digits)
    lowest = min((d.confidence for d in digits), default=0.0)
    text = (f"Model **{recognition.model_name or '?'}** ({recognition.precision or '?'}); "
            f"lowest confidence {lowest:.0%}")
    if unsure:
        text += f"; **{unsure}** digit{'s' if unsure != 1 else ''} below the confidence bar"
    return text + "."


# --------------------------------------------------------------------------
# Step 11: timings
# --------------------------------------------------------------------------
def timings_table(recognition: Recognition) -> pd.DataFrame:
    rows = [{"stage": stage, "ms": round(ms, 2)} for stage, ms in recognition.timings_ms.items()]
    return pd.DataFrame(rows, columns=["stage", "ms"])
