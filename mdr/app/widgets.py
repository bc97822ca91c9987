"""Streamlit widgets shared by the app's pages.

The pages stay short scripts; what they draw and how they call the library
lives here. Results are kept in ``st.session_state`` under these keys, so any
page can show the last thing that was read:

``last_image``        the numpy image given to the recognizer (canvas RGBA or decoded upload)
``last_source``       where it came from, in words ("the drawing", "upload: number.png")
``last_recognition``  the :class:`mdr.results.Recognition`, or ``None``; after
                      "nothing to read" it holds the partial result, if any
``last_error``        the message of the last failed attempt, or ``None`` after a success
"""
from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from mdr.models import registry
from mdr.recognition.config import RecognizerConfig
from mdr.errors import MdrError, ModelError, NothingToReadError

LAST_IMAGE = "last_image"
LAST_SOURCE = "last_source"
LAST_RECOGNITION = "last_recognition"
LAST_ERROR = "last_error"
LAST_UPLOAD_ID = "last_upload_id"
CANVAS_CLEARS = "canvas_clears"
"""How often Clear was pressed in this session; the canvas's empty initial drawing carries it."""
CANVAS_SHOWN = "canvas_shown_drawing"
"""Per canvas key: {"last": the drawing the canvas last sent, "cleared": the one Clear emptied,
until the browser reports the canvas emptied}."""

CANVAS_WIDTH = 900
CANVAS_HEIGHT = 300
EMPTY_CANVAS_MESSAGE = "The canvas is empty: draw a number on it first, then press **Recognize**."

ACCENT = "#e4572e"
MUTED = "#9aa5b1"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# The recognizer, loaded once per model file
# --------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _start_up(models_folder: str) -> list[str]:
    """Once per process and models folder: repair a broken active.json, remove what killed
    training runs left behind. Returns what was done, in words (also logged)."""
    notes = []
    repaired = registry.repair()
    if repaired:
        notes.append(repaired)
    removed = registry.clean_leftovers()
    if removed:
        notes.append(f"Removed {len(removed)} leftover temporary item(s) of interrupted runs from {models_folder}.")
    for note in notes:
        log.warning(note)
    return notes


def start_up() -> list[str]:
    from mdr.paths import models_dir

    return _start_up(str(models_dir()))


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _load_recognizer(model_name: str, precision: str, file_stamp: tuple):
    """One recognizer per (model, precision, version of its files): the arguments are the cache key."""
    from mdr.recognition.recognizer import Recognizer  # ONNX Runtime is imported here, not at page load

    # model=None: the recognizer reads the active model itself and falls back to the
    # shipped one (with a warning) when the active one is broken.
    return Recognizer(model=None, config=RecognizerConfig(precision=precision))


def get_recognizer(precision: str = "int8"):
    """The active model's recognizer; a newly activated or retrained model is picked up."""
    start_up()
    name = registry.active_model_name()
    return _load_recognizer(name, precision, registry.files_stamp(name))


# --------------------------------------------------------------------------
# Running a recognition and remembering it
# --------------------------------------------------------------------------
def recognize_into_state(load_image: Callable[[], np.ndarray], source: str) -> None:
    """Decode/collect the image, read it, and store image, result or error in session state."""
    state = st.session_state
    state[LAST_SOURCE] = source
    state[LAST_RECOGNITION] = None
    state[LAST_ERROR] = None
    state[LAST_IMAGE] = None
    try:
        image = load_image()
        state[LAST_IMAGE] = image
        recognizer = get_recognizer()
        if getattr(recognizer, "warning", None):
            st.warning(recognizer.warning, icon=":material/warning:")
        with st.spinner("Reading the digits…"):
            state[LAST_RECOGNITION] = recognizer.recognize(image)
    except NothingToReadError as e:
        state[LAST_RECOGNITION] = e.recognition
        state[LAST_ERROR] = e
    except MdrError as e:
        state[LAST_ERROR] = e
    except Exception as e:  # never a traceback on the page
        log.exception("Unexpected failure while recognizing %s", source)
        state[LAST_ERROR] = ModelError(
            f"Something unexpected went wrong while reading the image ({type(e).__name__}: {e}). "
            "Try again, or try another image."
        )


def clear_results() -> None:
    for key in (LAST_IMAGE, LAST_SOURCE, LAST_RECOGNITION, LAST_ERROR):
        st.session_state.pop(key, None)


def show_error(error: BaseException) -> None:
    """An MdrError in words: 'nothing to read' is a hint, everything else an error."""
    if isinstance(error, NothingToReadError):
        st.warning(str(error), icon=":material/search_off:")
    else:
        st.error(str(error), icon=":material/warning:")


# --------------------------------------------------------------------------
# Input widgets
# --------------------------------------------------------------------------
def drawing_canvas(stroke_width: int, key: str = "canvas") -> Any:
    """A wide black canvas drawn on in white; returns the canvas result.

    ``clear_canvas`` empties the canvas in place: the same component is given a new empty
    initial drawing, which it loads at once. (A new component key would mount a new canvas, and
    strokes drawn while the old one was being replaced would be lost.)
    """
    from streamlit_drawable_canvas import st_canvas  # works only inside a running app

    clears = st.session_state.setdefault(CANVAS_CLEARS, 0)
    result = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=CANVAS_WIDTH,
        height=CANVAS_HEIGHT,
        drawing_mode="freedraw",
        initial_drawing={"objects": [], "clears": clears},
        return_image_data=True,
        update_streamlit=True,
        key=key,
    )
    shown = st.session_state.setdefault(CANVAS_SHOWN, {}).setdefault(key, {})
    if shown.get("cleared") is not None and result.json_data == shown["cleared"]:
        return EMPTY_CANVAS  # Clear was pressed; the browser has not yet said the canvas is empty
    shown.update(last=result.json_data, cleared=None)
    return result


EMPTY_CANVAS = SimpleNamespace(json_data={"objects": []}, image_data=None)
"""Stands for a canvas that Clear has emptied, until the canvas itself sends its new state."""


def canvas_stroke_count(result: Any) -> int:
    """How many strokes (drawn objects) the canvas holds."""
    if result is None or not isinstance(result.json_data, dict):
        return 0
    return len(result.json_data.get("objects") or [])


def canvas_status(result: Any) -> str:
    strokes = canvas_stroke_count(result)
    if not strokes:
        return "Nothing drawn yet."
    return f"{strokes} stroke{'s' if strokes != 1 else ''} drawn."


def canvas_is_empty(result: Any) -> bool:
    """True before the first stroke and after everything was undone or cleared."""
    return canvas_stroke_count(result) == 0 or result.image_data is None


def clear_canvas(key: str = "canvas") -> None:
    """Button callback: empty the canvas (in the browser, on this rerun) and forget the result."""
    st.session_state[CANVAS_CLEARS] = st.session_state.get(CANVAS_CLEARS, 0) + 1
    shown = st.session_state.setdefault(CANVAS_SHOWN, {}).setdefault(key, {})
    shown["cleared"] = shown.get("last")
    clear_results()


# --------------------------------------------------------------------------
# Showing a result
# --------------------------------------------------------------------------
def show_number(recognition) -> None:
    """The number in large type, a row per line, never wrapped; uncertain digits in orange.

    Takes a Recognition, or just the number as a string (then nothing is highlighted).
    """
    if isinstance(recognition, str):
        longest = max((len(line) for line in recognition.split("\n")), default=1)
        _number_block([html.escape(line) for line in recognition.split("\n")], longest)
        return
    rows = []
    for line in recognition.lines:
        cells = []
        for index in line:
            digit = recognition.digits[index]
            text = html.escape(str(digit.digit))
            if digit.low_confidence:
                text = (f'<span style="color:{ACCENT}" title="uncertain: '
                        f'{digit.confidence:.0%} confidence">{text}</span>')
            cells.append(text)
        rows.append("".join(cells))
    _number_block(rows, max((len(line) for line in recognition.lines), default=1))


def _number_block(rows: list[str], longest: int) -> None:
    size = 5.5 if longest <= 12 else max(2.0, 5.5 * 12 / longest)
    st.markdown(
        f'<div class="mdr-number" style="font-size:{size:.2f}rem; font-weight:700; line-height:1.1; '
        f"letter-spacing:0.12em; white-space:nowrap; overflow-x:auto; "
        f'font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;">{"<br>".join(rows)}</div>',
        unsafe_allow_html=True,
    )


def model_input_image(final: np.ndarray, scale: int = 4) -> np.ndarray:
    """The 28x28 model input (0..1 floats) as an enlarged uint8 picture, nearest-neighbour."""
    pixels = np.clip(np.asarray(final, dtype=np.float32), 0.0, 1.0)
    pixels = (pixels * 255 + 0.5).astype(np.uint8)
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def annotated_input(recognition) -> np.ndarray:
    """The image as the recognizer saw it (ink bright), with a labelled box per digit."""
    from PIL import ImageFont

    picture = Image.fromarray(np.asarray(recognition.ink)).convert("RGB")
    scale = float(recognition.scale or 1.0)
    boxes = [tuple(v * scale for v in d.box) for d in recognition.digits]
    tallest = max((h for _, _, _, h in boxes), default=40)
    size = max(14, int(tallest * 0.28))
    pad = size + 8  # room above the top row for the labels
    framed = Image.new("RGB", (picture.width, picture.height + pad), "black")
    framed.paste(picture, (0, pad))
    draw = ImageDraw.Draw(framed)
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        font = ImageFont.load_default()
    line_width = max(2, round(max(picture.size) / 400))
    for digit, (x, y, w, h) in zip(recognition.digits, boxes):
        colour = ACCENT if digit.low_confidence else "#2ecc71"
        y += pad
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=line_width)
        left, top, right, bottom = draw.textbbox((0, 0), str(digit.digit), font=font)
        tx, ty = x, max(0, y - (bottom - top) - 8)
        draw.rectangle([tx, ty, tx + right - left + 8, y], fill=colour)
        draw.text((tx + 4 - left, ty + 4 - top), str(digit.digit), fill="black", font=font)
    return np.asarray(framed)


def digit_label(index: int, digit) -> str:
    return f"Digit {index + 1}: {digit.digit} ({digit.confidence:.0%})"


INLINE_PICTURE = "mdr-picture"


def inline_picture(image: np.ndarray, caption: str = "", width: int | None = None) -> None:
    """A picture sent inside the page itself rather than as a media file.

    Streamlit forgets a session's media files when that session reruns and any other session's
    run ends; with many people using the app at once, a result's pictures could be gone before
    the browser fetched them (a broken picture). Pictures of a result stay with it this way.
    """
    pixels = np.ascontiguousarray(image)
    buffer = io.BytesIO()
    picture = Image.fromarray(pixels)
    if pixels.shape[0] * pixels.shape[1] > 1_000_000:  # a big photo: JPEG keeps the page light
        picture.convert("RGB").save(buffer, format="JPEG", quality=85)
        mime = "image/jpeg"
    else:
        picture.save(buffer, format="PNG", optimize=False)
        mime = "image/png"
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    # the small 28x28 inputs are enlarged as blocks, like the model sees them
    size = f"width:{width}px;image-rendering:pixelated;" if width else "width:100%;"
    label = html.escape(caption)
    alt = label or "picture"
    st.markdown(
        f'<figure class="{INLINE_PICTURE}" style="margin:0;text-align:center;">'
        f'<img src="data:{mime};base64,{data}" alt="{alt}" style="{size}max-width:100%;border-radius:4px;">'
        + (f'<figcaption style="font-size:0.8rem;opacity:0.65;margin-top:0.3rem;">{label}</figcaption>'
           if caption else "") + "</figure>",
        unsafe_allow_html=True,
    )


def digit_strip(recognition, per_row: int = 10) -> None:
    """Each digit as the model saw it (28x28, enlarged), with its reading and confidence."""
    lines = recognition.lines or [list(range(len(recognition.digits)))]
    for line_no, indices in enumerate(lines):
        if len(lines) > 1:
            st.markdown(f"**Line {line_no + 1}**")
        for start in range(0, len(indices), per_row):
            row = indices[start:start + per_row]
            columns = st.columns(per_row, gap="small")
            for column, index in zip(columns, row):
                digit = recognition.digits[index]
                badge = ("orange-badge[:material/warning: " if digit.low_confidence
                         else "green-badge[")
                with column, st.container(gap="xxsmall"):
                    inline_picture(model_input_image(digit.steps.final), width=84)
                    st.markdown(f"### {digit.digit}")
                    st.markdown(f":{badge}{digit.confidence:.0%}]")


def probability_chart(digit, title: str = ""):
    """Plotly bars of the ten class probabilities, the chosen digit highlighted."""
    import plotly.graph_objects as go

    probabilities = np.asarray(digit.probabilities, dtype=float) * 100
    colours = [ACCENT if d == digit.digit else MUTED for d in range(10)]
    figure = go.Figure(
        go.Bar(
            x=[str(d) for d in range(10)],
            y=probabilities,
            marker_color=colours,
            text=[f"{p:.1f}%" if p >= 0.05 else "" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2f}%<extra></extra>",
        )
    )
    figure.update_layout(
        title=title or None,
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability (%)", range=[0, 110], showgrid=True),
        height=320,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        showlegend=False,
    )
    return figure


def timings_chart(timings_ms: dict[str, float]):
    import plotly.graph_objects as go

    steps = list(timings_ms)
    figure = go.Figure(
        go.Bar(
            x=[timings_ms[s] for s in steps], y=steps, orientation="h", marker_color=MUTED,
            text=[f"{timings_ms[s]:.1f} ms" for s in steps], textposition="auto",
            hovertemplate="%{y}: %{x:.2f} ms<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis_title="milliseconds", yaxis=dict(autorange="reversed"),
        height=60 + 28 * len(steps), margin=dict(l=10, r=10, t=10, b=10),
    )
    return figure


def _confidence_floor() -> float:
    return RecognizerConfig().low_confidence


def low_confidence_notes(recognition) -> bool:
    """A warning listing the uncertain digits and their alternatives; False when there are none."""
    unsure = [(i, d) for i, d in enumerate(recognition.digits) if d.low_confidence]
    if not unsure:
        return False
    notes = []
    for index, digit in unsure:
        alternatives = ", ".join(f"{d} ({p:.0%})" for d, p in digit.top3[1:])
        notes.append(f"- Digit {index + 1} was read as **{digit.digit}** with only "
                     f"{digit.confidence:.0%} confidence; it could also be {alternatives}.")
    st.warning("Some digits are uncertain:\n" + "\n".join(notes), icon=":material/warning:")
    return True


def show_last_result() -> None:
    """The stored result (or error) of the last attempt, in full."""
    state = st.session_state
    error = state.get(LAST_ERROR)
    recognition = state.get(LAST_RECOGNITION)
    if error is not None:
        show_error(error)
        return
    if recognition is None or not recognition.digits:
        return

    st.divider()
    st.subheader("Result", anchor=False)
    show_number(recognition)
    digits = len(recognition.digits)
    st.caption(
        f"{digits} digit{'s' if digits != 1 else ''} on {len(recognition.lines)} "
        f"line{'s' if len(recognition.lines) != 1 else ''}, read from "
        f"{state.get(LAST_SOURCE, 'the image')} in {recognition.total_ms:.0f} ms · "
        f"model {recognition.model_name or '?'} ({recognition.precision or '?'})"
    )
    picture, notes = st.columns([3, 2])
    with picture:
        inline_picture(annotated_input(recognition), caption="Where each digit was found")
    with notes:
        if not low_confidence_notes(recognition):
            st.success(f"Every digit was read with at least {_confidence_floor():.0%} confidence.",
                       icon=":material/check_circle:")

    st.markdown("#### The digits as the model saw them")
    st.caption("Each digit is cut out, thinned or thickened, scaled into a 28×28 square and "
               "centred, like the MNIST digits the model learned from.")
    digit_strip(recognition)

    st.markdown("#### How sure the model is")
    choices = list(range(len(recognition.digits)))
    first_unsure = next((i for i, d in enumerate(recognition.digits) if d.low_confidence), 0)
    chosen = st.selectbox(
        "Show the probabilities of",
        choices,
        index=first_unsure,
        format_func=lambda i: digit_label(i, recognition.digits[i]),
    )
    digit = recognition.digits[chosen]
    chart, picture = st.columns([4, 1], vertical_alignment="center")
    with chart:
        st.plotly_chart(probability_chart(digit), width="stretch",
                        config={"displayModeBar": False})
    with picture:
        inline_picture(model_input_image(digit.steps.final, scale=5), caption="model input")
        st.caption("  \n".join(f"{rank}: **{d}** ({p:.1%})"
                               for rank, (d, p) in zip(("1st", "2nd", "3rd"), digit.top3)))

    with st.expander(f"Time taken: {recognition.total_ms:.1f} ms"):
        st.plotly_chart(timings_chart(recognition.timings_ms), width="stretch",
                        config={"displayModeBar": False})


# --------------------------------------------------------------------------
# The model card (Home page)
# --------------------------------------------------------------------------
def _dig(data: Any, *paths: str) -> Any:
    """First value found at one of the dotted ``paths`` in nested dicts, else None."""
    for path in paths:
        node = data
        for part in path.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                node = None
                break
        if node is not None:
            return node
    return None


def _as_fraction(value: Any) -> float | None:
    if isinstance(value, dict):
        value = _dig(value, "accuracy", "test_accuracy", "acc")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 100 if value > 1 else float(value)
    return None


def card_summary(card: dict[str, Any]) -> dict[str, Any]:
    """The few facts Home shows, taken from the card (see ``models/<name>/card.json``)."""
    sizes = _dig(card, "files.bytes") or {}
    int8_file = _dig(card, "files.onnx.int8") or registry.ONNX_FILES["int8"]
    size = sizes.get(int8_file) if isinstance(sizes, dict) else None
    per_class = _dig(card, "metrics.int8_per_class", "metrics.per_class_accuracy.int8")
    confusion = _dig(card, "metrics.int8_confusion", "metrics.confusion.int8")
    return {
        "name": _dig(card, "name"),
        "acc_int8": _as_fraction(_dig(card, "metrics.test_accuracy.int8", "metrics.int8.accuracy")),
        "acc_fp32": _as_fraction(_dig(card, "metrics.test_accuracy.fp32", "metrics.fp32.accuracy")),
        "test_images": _dig(card, "data.test_images"),
        "int8_bytes": size if isinstance(size, (int, float)) else None,
        "parameters": _dig(card, "architecture.parameters", "parameters"),
        "trained": _dig(card, "created", "trained_at"),
        "command": _dig(card, "command"),
        "architecture": _dig(card, "architecture.description", "architecture.name"),
        "per_class": per_class if isinstance(per_class, list) and len(per_class) == 10 else None,
        "confusion": confusion if isinstance(confusion, list) and len(confusion) == 10 else None,
    }


def human_bytes(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit in ("bytes", "KB") else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def show_model_card() -> None:
    """The active model's card at a glance; a missing or broken card is a warning in words."""
    start_up()
    name = registry.active_model_name()
    try:
        card = registry.read_card(name)
        if not isinstance(card, dict):
            raise ModelError(f"The model card of '{name}' is not a JSON object.")
    except MdrError as e:
        st.warning(f"{e} The app cannot describe the model; recognition may not work until "
                   "a model is trained (`python -m mdr train`).", icon=":material/warning:")
        return

    facts = card_summary(card)
    st.subheader(f"The model: {facts['name'] or name}", anchor=False)
    if facts["architecture"] and isinstance(facts["architecture"], str):
        st.caption(facts["architecture"])
    n = facts["test_images"]
    on = f"the {n:,} MNIST test images" if isinstance(n, int) else "the 10,000 MNIST test images"
    first, second = st.columns(3), st.columns(3)
    first[0].metric("Accuracy, int8 (used)", _percent(facts["acc_int8"]),
                    help=f"Share of {on} read correctly by the int8 model the app uses.")
    first[1].metric("Accuracy, fp32", _percent(facts["acc_fp32"]),
                    help=f"Share of {on} read correctly by the full-precision model.")
    first[2].metric("Test images", f"{n:,}" if isinstance(n, int) else "—")
    second[0].metric("int8 file size",
                     human_bytes(facts["int8_bytes"]) if facts["int8_bytes"] else "—")
    params = facts["parameters"]
    second[1].metric("Parameters", f"{params:,}" if isinstance(params, int) else (params or "—"))
    second[2].metric("Trained", str(facts["trained"])[:10] if facts["trained"] else "—",
                     help=f"Created {facts['trained']}" if facts["trained"] else None)
    st.caption(f"Accuracy measured on {on}, which the model never saw during training.")
    if facts["command"]:
        st.markdown("Reproduce this model with:")
        st.code(facts["command"] if isinstance(facts["command"], str)
                else " ".join(map(str, facts["command"])), language="bash")
    if facts["per_class"]:
        st.markdown("#### Accuracy per digit")
        st.plotly_chart(per_class_chart(facts["per_class"]), width="stretch",
                        config={"displayModeBar": False})
        st.caption("Share of each digit's test images read correctly by the int8 model; "
                   "the weakest digit is highlighted.")
    if facts["confusion"]:
        with st.expander("Which digits get mistaken for which (test set, int8)"):
            st.plotly_chart(mistakes_chart(facts["confusion"]), width="stretch",
                            config={"displayModeBar": False})
    with st.expander("The full model card (card.json)"):
        st.json(card, expanded=False)


def _percent(value: float | None) -> str:
    return f"{value:.2%}" if value is not None else "—"


def per_class_chart(per_class: list[float]):
    import plotly.graph_objects as go

    values = [float(v) * 100 for v in per_class]
    low = min(values)
    figure = go.Figure(go.Bar(
        x=[str(d) for d in range(10)], y=values,
        marker_color=[ACCENT if v == low else MUTED for v in values],
        text=[f"{v:.1f}%" for v in values], textposition="outside",
        hovertemplate="digit %{x}: %{y:.2f}% read correctly<extra></extra>",
    ))
    floor = max(0.0, min(95.0, low - 1.5))
    figure.update_layout(
        xaxis=dict(title="true digit", type="category"),
        yaxis=dict(title="read correctly (%)", range=[floor, 100.6]),
        height=280, margin=dict(l=10, r=10, t=10, b=10),
    )
    return figure


def mistakes_chart(confusion: list[list[int]]):
    """Off-diagonal counts of the confusion matrix: how often digit X was read as Y."""
    import plotly.graph_objects as go

    counts = np.asarray(confusion, dtype=float)
    np.fill_diagonal(counts, np.nan)
    figure = go.Figure(go.Heatmap(
        z=counts, x=[str(d) for d in range(10)], y=[str(d) for d in range(10)],
        colorscale="Oranges", hoverongaps=False,
        text=[["" if np.isnan(v) or v == 0 else f"{v:.0f}" for v in row] for row in counts],
        texttemplate="%{text}", colorbar=dict(title="images"),
        hovertemplate="a %{y} read as %{x}: %{z:.0f} times<extra></extra>",
    ))
    figure.update_layout(
        xaxis=dict(title="read as", type="category", side="top"),
        yaxis=dict(title="true digit", type="category", autorange="reversed"),
        height=420, margin=dict(l=10, r=10, t=40, b=10),
    )
    return figure
