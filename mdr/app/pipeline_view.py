"""What each step of one recognition found, in words, tables and charts, for the Pipeline page.

Like :mod:`mdr.app.pipeline_pictures`, this only reads what the recognizer
recorded, and is plain (no Streamlit) so that it can be tested on its own.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mdr.app.pipeline_pictures import chosen_cuts, stroke_adjusted_changed
from mdr.app.theme import ACCENT, DARK, MUTED, REJECT
from mdr.recognition.config import RecognizerConfig
from mdr.recognition.results import Alternative, Digit, Recognition, SplitDecision


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
    colours = [ACCENT if level > threshold else MUTED for level in range(256)]
    figure = go.Figure(go.Bar(x=np.arange(256), y=counts, marker_color=colours, marker_line_width=0,
                              hovertemplate="grey %{x}: %{y} pixels<extra></extra>"))
    figure.add_vline(x=threshold, line_color=DARK, line_dash="dash",
                     annotation_text=f"threshold {threshold:.0f}", annotation_position="top")
    figure.update_layout(xaxis_title="grey level after polarity (ink bright)", yaxis_title="pixels",
                         yaxis_type="log", height=260, margin=dict(l=10, r=10, t=30, b=10),
                         bargap=0, showlegend=False)
    return figure


# --------------------------------------------------------------------------
# Steps 4-5: components and specks
# --------------------------------------------------------------------------
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
def merges_table(recognition: Recognition) -> pd.DataFrame:
    rows = [{"marks": f"{d.parts[0]} + {d.parts[1]}",
             "overlap": round(d.overlap, 3) if d.read_together is None else None,
             "read as one digit": None if d.read_together is None else round(d.read_together, 3),
             "height / digit height": round(d.height_ratio, 3), "joined": d.joined, "reason": d.reason}
            for d in recognition.merges]
    return pd.DataFrame(rows, columns=["marks", "overlap", "read as one digit", "height / digit height", "joined",
                                       "reason"])


def describe_merges(recognition: Recognition) -> str:
    stacked = [d for d in recognition.merges if d.read_together is None]
    side = [d for d in recognition.merges if d.read_together is not None]
    if not stacked and not side:
        return "No two marks lie above one another: nothing to join."
    text = (f"**{len(stacked)}** pair{'s' if len(stacked) != 1 else ''} of marks overlap horizontally; "
            f"**{sum(d.joined for d in stacked)}** joined." if stacked else "No two marks lie above one another.")
    if side:
        text += (f" **{len(side)}** pair{'s' if len(side) != 1 else ''} of close neighbours, one of them doubtful, "
                 f"read together; **{sum(d.joined for d in side)}** joined as one digit.")
    return text


# --------------------------------------------------------------------------
# Step 7: splitting
# --------------------------------------------------------------------------
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


def strip_figure(decision: SplitDecision):
    """The strip reader's evidence across a part: per column band, how likely each digit it read
    is to start there, and "no new digit" (the blank) in grey; each digit marked at its peak."""
    import plotly.graph_objects as go

    evidence = decision.strip
    figure = go.Figure()
    frames = np.asarray(evidence.frame_probabilities, dtype=float) * 100
    x = evidence.frame_x
    figure.add_trace(go.Scatter(x=x, y=frames[:, 10], name="no new digit", mode="lines",
                                line=dict(color=MUTED, dash="dot"),
                                hovertemplate="x=%{x:.0f}: no new digit %{y:.0f}%<extra></extra>"))
    for digit in sorted(set(int(c) for c in evidence.text)):
        figure.add_trace(go.Scatter(x=x, y=frames[:, digit], name=f"digit {digit}", mode="lines",
                                    hovertemplate=f"x=%{{x:.0f}}: {digit} %{{y:.0f}}%<extra></extra>"))
    for text, peak, confidence in zip(evidence.text, evidence.peaks, evidence.confidences):
        figure.add_annotation(x=peak, y=100 * confidence, text=f"<b>{text}</b>", showarrow=False, yshift=12,
                              font=dict(color=DARK, size=16))
    figure.update_yaxes(range=[0, 115], ticksuffix="%", title="probability")
    figure.update_xaxes(title="x in the working image (px)")
    figure.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10),
                         legend=dict(orientation="h", y=1.12, x=0))
    return figure


def describe_strip(decision: SplitDecision) -> str:
    evidence = decision.strip
    if not evidence.text:
        return "The strip reader saw no digit in this part; it is read as one digit."
    sure = ", ".join(f"{d} {c:.0%}" for d, c in zip(evidence.text, evidence.confidences))
    return (f"The strip reader reads this part as **{evidence.text}** ({len(evidence.text)} "
            f"digit{'s' if len(evidence.text) != 1 else ''}; how sure of each: {sure}). "
            + ("Each cut goes through the least ink between two digits' peaks." if len(evidence.text) > 1 else ""))


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
        colours = [ACCENT if d == digit.digit else MUTED for d in range(10)]
        names = [str(d) for d in range(10)]
        if digit.reject is not None:  # a model with the "not a single digit" class
            probabilities = np.append(probabilities, 100 * digit.reject)
            colours.append(REJECT)
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
            "strip reader alone": (f"{d.second_opinion[0]} ({d.second_opinion[1]:.0%})"
                                   if d.second_opinion is not None else ""),
        })
    columns = ["#", "line", "read as", "confidence", "top 3", "box (x, y, w, h)", "unsure"]
    if any(d.second_opinion is not None for d in recognition.digits):
        columns.insert(5, "strip reader alone")  # its reading was multiplied into the classifier's
    return pd.DataFrame(rows, columns=columns)


def alternatives_table(alternatives: list[Alternative]) -> pd.DataFrame:
    """The other likely readings: the number, how likely against the reading shown, and why."""
    return pd.DataFrame([{"reading": a.number.replace("\n", " / "), "odds": odds_words(a.odds), "why": a.describe()}
                         for a in alternatives], columns=["reading", "odds", "why"])


def odds_words(odds: float) -> str:
    """'0.77x as likely' as a person reads it; tiny odds are not written out to many decimals."""
    return "under 0.001x as likely" if odds < 0.001 else f"{odds:.2g}x as likely"


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
