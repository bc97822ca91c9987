"""Pipeline: every step of one recognition, and what the knobs change."""
import functools
import logging

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from mdr.app import export_intermediates, gallery
from mdr.recognition import imageio
from mdr.app import canvas_input, charts, reading, result_view
from mdr.app import pipeline_view as pv
from mdr.recognition.config import DEFAULT_CONFIG
from mdr.errors import MdrError, ModelError, NothingToReadError

log = logging.getLogger(__name__)

SOURCE_GALLERY = "Gallery example"
SOURCE_RECOGNIZE = "Last image from Recognize"
SOURCE_DRAW = "Draw here"
SOURCE_UPLOAD = "Upload an image"
SOURCES = [SOURCE_GALLERY, SOURCE_RECOGNIZE, SOURCE_DRAW, SOURCE_UPLOAD]
SOURCE_KEY = "pipeline_source"
GALLERY_KEY = "pipeline_gallery"
SAVED_KNOBS = "pipeline_knob_values"  # survives visits to other pages, unlike widget state


def knob_key(name: str) -> str:
    return f"pipeline_knob_{name}"


def reset_knobs() -> None:
    for name, value in pv.knob_defaults(DEFAULT_CONFIG).items():
        st.session_state[knob_key(name)] = value
    st.session_state[SAVED_KNOBS] = pv.knob_defaults(DEFAULT_CONFIG)


def knob_widgets() -> dict:
    """The sidebar controls, one per RecognizerConfig field in ``pv.KNOBS``."""
    defaults = pv.knob_defaults(DEFAULT_CONFIG)
    saved = st.session_state.get(SAVED_KNOBS, {})
    for name, default in defaults.items():
        st.session_state.setdefault(knob_key(name), saved.get(name, default))
    values = {}
    for knob in pv.KNOBS:
        key = knob_key(knob.name)
        label = knob.label
        if knob.kind == "select":
            values[knob.name] = st.selectbox(label, knob.options, key=key, help=knob.help)
        elif knob.kind == "radio":
            values[knob.name] = st.radio(label, knob.options, key=key, help=knob.help, horizontal=True)
        elif knob.kind == "toggle":
            values[knob.name] = st.toggle(label, key=key, help=knob.help)
        else:
            disabled = ((knob.name == "fixed_threshold" and values.get("binarization") != "fixed")
                        or (knob.name == "split_sensitivity" and not values.get("split_enabled", True)))
            numbers = (int, int, int) if isinstance(defaults[knob.name], int) else (float, float, float)
            values[knob.name] = st.slider(label, min_value=numbers[0](knob.low), max_value=numbers[1](knob.high),
                                          step=numbers[2](knob.step), key=key, help=knob.help,
                                          disabled=disabled)
    st.session_state[SAVED_KNOBS] = dict(values)
    return values


def choose_image():
    """The image to explain, where it came from, and the number drawn (when known)."""
    has_last = st.session_state.get(reading.LAST_IMAGE) is not None
    st.session_state.setdefault(SOURCE_KEY, SOURCE_RECOGNIZE if has_last else SOURCE_GALLERY)
    source = st.radio("Image to explain", SOURCES, key=SOURCE_KEY, horizontal=True,
                      label_visibility="collapsed")
    if source == SOURCE_GALLERY:
        items = {item.name: item for item in gallery.load_gallery()}
        name = st.selectbox("Example", list(items), key=GALLERY_KEY,
                            format_func=lambda n: f"{items[n].title} ({items[n].number.replace(chr(10), ' / ')})")
        item = items[name]
        st.caption(f"{item.description} Drawn: **{item.number.replace(chr(10), ' / ')}**.")
        return gallery.read_example(item), f"gallery: {item.title}", item.number
    if source == SOURCE_RECOGNIZE:
        image = st.session_state.get(reading.LAST_IMAGE)
        if image is None:
            error = st.session_state.get(reading.LAST_ERROR)
            if error is not None:
                st.caption("The last attempt on the Recognize page had no usable image:")
                reading.show_error(error)
            else:
                st.info("Nothing has been read on the Recognize page yet: draw or upload a number "
                        "there, or pick another source here.", icon=":material/draw:")
            try:
                st.page_link("pages/1_Recognize.py", label="Go to Recognize", icon=":material/draw:")
            except StreamlitAPIException:  # this page run on its own, without the app around it
                st.markdown("Open **Recognize** in the sidebar.")
            return None, "", None
        where = st.session_state.get(reading.LAST_SOURCE) or "the Recognize page"
        st.caption(f"The last image read on the Recognize page ({where}).")
        return image, where, None
    if source == SOURCE_DRAW:
        brush = st.slider("Brush width", min_value=6, max_value=40, value=18, step=1,
                          key="pipeline_brush")
        canvas = canvas_input.drawing_canvas(brush)
        st.caption("Every change of the drawing runs the pipeline again; use the canvas toolbar to "
                   "undo or clear.")
        if canvas_input.canvas_is_empty(canvas):
            st.info("Draw a number on the canvas to see how it is read.", icon=":material/draw:")
            return None, "", None
        return canvas.image_data, "the drawing", None
    upload = st.file_uploader("Upload an image (PNG or JPEG) of a handwritten number",
                              type=["png", "jpg", "jpeg"], key="pipeline_upload")
    if upload is None:
        st.info("Upload an image to see how it is read.", icon=":material/upload_file:")
        return None, "", None
    return imageio.decode_image(upload.getvalue()), f"upload: {upload.name}", None


def step_header(number: int) -> None:
    step = pv.STEPS[number - 1]
    st.subheader(step.heading, anchor=step.key)
    st.caption(step.explanation)


def not_reached(reached: int) -> None:
    st.info("Not reached: the recognizer stopped after step "
            f"{reached} ({pv.STEPS[reached - 1].title.lower()}).", icon=":material/block:")


def show_image(picture, caption: str, **kwargs) -> None:
    st.image(picture, caption=caption, clamp=True, **kwargs)


def show_steps(image, recognition, config, stopped: bool, expected: str | None) -> None:
    reached = pv.last_step_reached(recognition, stopped)
    wide = "stretch"

    with st.container(border=True):
        step_header(1)
        st.markdown(pv.describe_input(recognition))
        left, right = st.columns(2)
        with left:
            show_image(pv.preview(np.asarray(image)), "original", width=wide)
        with right:
            show_image(recognition.grey, "greyscale, working size", width=wide)

    with st.container(border=True):
        step_header(2)
        if reached < 2:
            not_reached(reached)
        else:
            st.markdown(pv.describe_polarity(recognition))
            left, right = st.columns(2)
            with left:
                show_image(recognition.ink, "ink bright on dark" + (" (inverted)" if recognition.polarity.inverted
                                                                     else " (as given)"), width=wide)
            with right:
                a, b, c = st.columns(3)
                a.metric("Border median", f"{recognition.polarity.border_median:.0f}")
                b.metric("Image median", f"{recognition.polarity.image_median:.0f}")
                c.metric("Inverted", "yes" if recognition.polarity.inverted else "no")

    with st.container(border=True):
        step_header(3)
        if reached < 3:
            not_reached(reached)
        else:
            st.markdown(pv.describe_binarization(recognition))
            left, right = st.columns(2)
            with left:
                show_image(recognition.mask, "ink mask", width=wide)
            with right:
                st.plotly_chart(pv.threshold_histogram(recognition), width="stretch",
                                config={"displayModeBar": False})

    with st.container(border=True):
        step_header(4)
        if reached < 3:
            not_reached(reached)
        else:
            st.markdown(pv.describe_components(recognition))
            left, right = st.columns(2)
            with left:
                show_image(pv.components_picture(recognition), "each mark in its own colour, with its label",
                           width=wide)
            with right:
                st.dataframe(pv.components_table(recognition).drop(columns=["kept", "reason"]),
                             hide_index=True, width="stretch",
                             height=min(400, 38 + 35 * len(recognition.components)))

    with st.container(border=True):
        step_header(5)
        if reached < 3:
            not_reached(reached)
        else:
            st.markdown(pv.describe_specks(recognition))
            left, right = st.columns(2)
            with left:
                show_image(pv.specks_picture(recognition), "kept in white, dropped specks ringed in red",
                           width=wide)
            with right:
                dropped = pv.specks_table(recognition)
                if len(dropped):
                    st.dataframe(dropped[["label", "width", "height", "area (px)", "reason"]], hide_index=True,
                                 width="stretch", height=min(400, 38 + 35 * len(dropped)))
                else:
                    st.markdown("Nothing was dropped: every mark is big enough to be (part of) a digit.")

    with st.container(border=True):
        step_header(6)
        if reached < 6:
            not_reached(reached)
        else:
            st.markdown(pv.describe_merges(recognition))
            left, right = st.columns(2)
            with left:
                show_image(pv.merges_picture(recognition),
                           "green: joined (box around the result); grey dashed: kept apart; "
                           "label: horizontal overlap", width=wide)
            with right:
                if recognition.merges:
                    st.dataframe(pv.merges_table(recognition), hide_index=True, width="stretch")

    with st.container(border=True):
        step_header(7)
        if reached < 6:
            not_reached(reached)
        else:
            st.markdown(pv.describe_splits(recognition, config))
            for n, decision in enumerate(recognition.splits, start=1):
                st.markdown(f"**Wide part {n}** at x={decision.box[0]}, {decision.box[2]}×{decision.box[3]} px: "
                            f"{decision.reason}")
                left, right = st.columns(2)
                with left:
                    show_image(pv.split_picture(recognition, decision),
                               "numbered cuts tried; thick orange: cut made", width=wide)
                with right:
                    st.dataframe(pv.split_table(decision), hide_index=True, width="stretch",
                                 height=38 + 35 * (len(decision.candidates) + 1))
                    st.caption("Score: how well the best reading of the part that uses the cut fits "
                               "(higher is better).")

    if reached < 8:
        for number in range(8, len(pv.STEPS) + 1):
            with st.container(border=True):
                step_header(number)
                not_reached(reached)
        return

    with st.container(border=True):
        step_header(8)
        st.markdown(pv.describe_lines(recognition))
        left, right = st.columns(2)
        with left:
            show_image(pv.reading_order_picture(recognition),
                       "digits numbered in reading order; one colour per line", width=wide)
        with right:
            st.dataframe(pv.reading_order_table(recognition), hide_index=True, width="stretch",
                         height=min(400, 38 + 35 * len(recognition.digits)))

    with st.container(border=True):
        step_header(9)
        names = ("crop", "stroke_adjusted", "resized", "final")
        titles = ("crop", "stroke adjusted", "resized", "final 28×28")
        for index, digit in enumerate(recognition.digits):
            pictures = pv.digit_pictures(digit)
            captions = pv.describe_digit(digit)
            columns = st.columns([1, 2, 2, 2, 3], vertical_alignment="center")
            columns[0].markdown(f"**#{index + 1}**  \nread as **{digit.digit}**")
            for column, name, title in zip(columns[1:], names, titles):
                with column:
                    show_image(pictures[name], f"{title}: {captions[name]}")

    with st.container(border=True):
        step_header(10)
        st.markdown(pv.describe_model(recognition))
        st.plotly_chart(pv.probabilities_figure(recognition), width="stretch", config={"displayModeBar": False})
        st.dataframe(pv.digits_table(recognition), hide_index=True, width="stretch")

    with st.container(border=True):
        step_header(11)
        left, right = st.columns([2, 3], vertical_alignment="center")
        with left:
            result_view.show_number(recognition.number)
            if expected is not None:
                if expected == recognition.number:
                    st.success(f"Drawn: {expected.replace(chr(10), ' / ')} — read correctly.",
                               icon=":material/check_circle:")
                else:
                    st.warning(f"Drawn: {expected.replace(chr(10), ' / ')} — read as "
                               f"{recognition.number.replace(chr(10), ' / ')}. The steps above show where "
                               "it went wrong; try the knobs.", icon=":material/search:")
            st.metric("Total time", f"{recognition.total_ms:.1f} ms")
        with right:
            st.plotly_chart(charts.timings_chart(recognition.timings_ms), width="stretch",
                            config={"displayModeBar": False})


# --------------------------------------------------------------------------
st.set_page_config(page_title="Pipeline · Multi-Digit Recognizer", page_icon="🔬", layout="wide")
st.title(":material/account_tree: Pipeline: how the number was read")
st.markdown("Every step between the picture and the number, with what each step saw and decided. "
            "Turn the knobs in the sidebar to see what would change.")

with st.sidebar:
    st.header("Knobs")
    knobs = knob_widgets()
    st.button("Reset to defaults", icon=":material/restart_alt:", on_click=reset_knobs, width="stretch",
              key="pipeline_reset")
config = pv.config_from_knobs(knobs, DEFAULT_CONFIG)
changed = pv.changed_knobs(config, DEFAULT_CONFIG)
if changed:
    st.sidebar.caption("Changed: " + ", ".join(f"{name} {old} → {new}" for name, (old, new) in changed.items()))

try:
    image, source, expected = choose_image()
except MdrError as error:  # a corrupt or oversized upload: the same words as on Recognize
    reading.show_error(error)
    st.stop()
if image is None:
    st.stop()

recognition, error = None, None
try:
    recognition = reading.get_recognizer().recognize(np.asarray(image), config)
except NothingToReadError as e:
    recognition, error = e.recognition, e
except MdrError as e:
    reading.show_error(e)
    st.stop()
except Exception as e:  # never a traceback on the page
    log.exception("Unexpected failure while explaining %s", source)
    reading.show_error(ModelError(f"Something unexpected went wrong while reading the image "
                             f"({type(e).__name__}: {e}). Try again, or try another image."))
    st.stop()

if error is not None:
    reading.show_error(error)
    if recognition is None:
        st.stop()
    st.caption("What the recognizer saw before it stopped:")

show_steps(image, recognition, config, error is not None, expected)

st.divider()
# Built only when the button is pressed: the original may be large.
archive = functools.partial(export_intermediates.export_zip, recognition, np.asarray(image), config,
                            error=str(error) if error else None, stopped=error is not None)
st.download_button("Download all intermediates (zip of PNGs + JSON)", data=archive,
                   file_name="mdr-pipeline.zip", mime="application/zip", icon=":material/folder_zip:",
                   on_click="ignore")
st.caption("Every picture on this page as a PNG, and recognition.json with the boxes, every decision "
           "and its reason, the probabilities and the time each stage took.")
