"""Each step's section on the Pipeline page: what the step found, with its pictures and tables.

:data:`SECTIONS` holds one function per step of :data:`mdr.app.pipeline_steps.STEPS` (by its
key), so the page only walks the steps. Pictures are sent inside the page
(:func:`mdr.app.figures.inline_picture`): under load, Streamlit's media files can be
forgotten before the browser has fetched them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mdr.app import charts, result_view
from mdr.app import pipeline_pictures as pp
from mdr.app import pipeline_view as pv
from mdr.app.figures import inline_picture
from mdr.app.pipeline_steps import STEPS, Step
from mdr.recognition.advice import advice_for
from mdr.recognition.config import RecognizerConfig
from mdr.recognition.results import Recognition

ROW_PX = 35
"""Height of one table row; a table is given room for its rows (up to a limit) so that short
ones do not stand in a tall empty frame."""


@dataclass(frozen=True)
class Explained:
    """One image and what the recognizer made of it, with the knobs it was read with."""
    image: np.ndarray
    recognition: Recognition
    config: RecognizerConfig
    expected: str | None
    """The number that was drawn, when it is known (gallery examples)."""


def show_picture(picture: np.ndarray, caption: str, width: int | None = None) -> None:
    """A picture of a step, inside the page; as wide as its column unless ``width`` is given."""
    inline_picture(pp.to_uint8(picture), caption=caption, width=width, stretch=width is None)


def _beside(picture: np.ndarray, caption: str) -> Any:
    """The step's picture in the left half; returns the right half, for what goes with it."""
    left, right = st.columns(2)
    with left:
        show_picture(picture, caption)
    return right


def _table(frame: pd.DataFrame, rows: int | None = None, most: int | None = 400) -> None:
    """A table without its index; with ``rows``, only as tall as those rows (up to ``most`` px)."""
    size: dict[str, int] = {}
    if rows is not None:
        height = 38 + ROW_PX * rows
        size["height"] = min(most, height) if most else height
    st.dataframe(frame, hide_index=True, width="stretch", **size)


def _chart(figure: Any) -> None:
    st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})


# --------------------------------------------------------------------------
# One function per step
# --------------------------------------------------------------------------
def _greyscale(shown: Explained) -> None:
    st.markdown(pv.describe_input(shown.recognition))
    with _beside(pp.preview(np.asarray(shown.image)), "original"):
        show_picture(shown.recognition.grey, "greyscale, working size")


def _polarity(shown: Explained) -> None:
    polarity = shown.recognition.polarity
    st.markdown(pv.describe_polarity(shown.recognition))
    caption = "ink bright on dark" + (" (inverted)" if polarity.inverted else " (as given)")
    with _beside(shown.recognition.ink, caption):
        border, image, inverted = st.columns(3)
        border.metric("Border median", f"{polarity.border_median:.0f}")
        image.metric("Image median", f"{polarity.image_median:.0f}")
        inverted.metric("Inverted", "yes" if polarity.inverted else "no")


def _binarization(shown: Explained) -> None:
    st.markdown(pv.describe_binarization(shown.recognition))
    with _beside(shown.recognition.mask, "ink mask"):
        _chart(pv.threshold_histogram(shown.recognition))


def _components(shown: Explained) -> None:
    recognition = shown.recognition
    st.markdown(pv.describe_components(recognition))
    with _beside(pp.components_picture(recognition), "each mark in its own colour, with its label"):
        _table(pv.components_table(recognition).drop(columns=["kept", "reason"]),
               rows=len(recognition.components))


def _specks(shown: Explained) -> None:
    recognition = shown.recognition
    st.markdown(pv.describe_specks(recognition))
    with _beside(pp.specks_picture(recognition), "kept in white, dropped specks ringed in red"):
        dropped = pv.specks_table(recognition)
        if len(dropped):
            _table(dropped[["label", "width", "height", "area (px)", "reason"]], rows=len(dropped))
        else:
            st.markdown("Nothing was dropped: every mark is big enough to be (part of) a digit.")


def _merging(shown: Explained) -> None:
    recognition = shown.recognition
    st.markdown(pv.describe_merges(recognition))
    with _beside(pp.merges_picture(recognition), "green: joined (box around the result); grey dashed: "
                                                 "kept apart; label: horizontal overlap, or for neighbours side "
                                                 "by side how sure the model is of them as one digit"):
        if recognition.merges:
            _table(pv.merges_table(recognition))


def _splitting(shown: Explained) -> None:
    recognition = shown.recognition
    st.markdown(pv.describe_splits(recognition, shown.config))
    for n, decision in enumerate(recognition.splits, start=1):
        st.markdown(f"**Wide part {n}** at x={decision.box[0]}, {decision.box[2]}×{decision.box[3]} px: "
                    f"{decision.reason}")
        with _beside(pp.split_picture(recognition, decision), "numbered cuts tried; thick orange: cut made"):
            _table(pv.split_table(decision), rows=len(decision.candidates) + 1, most=None)
            if decision.strip is None:
                st.caption("Score: how well the best reading of the part that uses the cut fits "
                           "(higher is better).")
        if decision.strip is not None:
            st.markdown(pv.describe_strip(decision))
            _chart(pv.strip_figure(decision))


def _reading_order(shown: Explained) -> None:
    recognition = shown.recognition
    st.markdown(pv.describe_lines(recognition))
    with _beside(pp.reading_order_picture(recognition), "digits numbered in reading order; one colour per line"):
        _table(pv.reading_order_table(recognition), rows=len(recognition.digits))


DIGIT_PICTURES = (("crop", "crop"), ("stroke_adjusted", "stroke adjusted"), ("resized", "resized"),
                  ("final", "final 28×28"))
"""The pictures of one digit's normalization, left to right: key in digit_pictures, title."""


def _normalization(shown: Explained) -> None:
    for index, digit in enumerate(shown.recognition.digits):
        pictures = pp.digit_pictures(digit)
        captions = pv.describe_digit(digit)
        columns = st.columns([1, 2, 2, 2, 3], vertical_alignment="center")
        columns[0].markdown(f"**#{index + 1}**  \nread as **{digit.digit}**")
        for column, (name, title) in zip(columns[1:], DIGIT_PICTURES):
            with column:  # at their own size: they are enlarged to show the pixels
                show_picture(pictures[name], f"{title}: {captions[name]}", width=pictures[name].shape[1])


def _model(shown: Explained) -> None:
    st.markdown(pv.describe_model(shown.recognition))
    _chart(pv.probabilities_figure(shown.recognition))
    _table(pv.digits_table(shown.recognition))


def _number(shown: Explained) -> None:
    recognition, expected = shown.recognition, shown.expected
    left, right = st.columns([2, 3], vertical_alignment="center")
    with left:
        result_view.show_number(recognition.number)
        if expected is not None:
            drawn = expected.replace(chr(10), " / ")
            if expected == recognition.number:
                st.success(f"Drawn: {drawn} — read correctly.", icon=":material/check_circle:")
            else:
                st.warning(f"Drawn: {drawn} — read as {recognition.number.replace(chr(10), ' / ')}. The steps "
                           "above show where it went wrong; try the knobs.", icon=":material/search:")
        st.metric("Total time", f"{recognition.total_ms:.1f} ms")
    with right:
        _chart(charts.timings_chart(recognition.timings_ms))
    others = recognition.alternatives(3)
    if others:
        st.markdown("**Other likely readings**, offered under the result on the Recognize page (*Did you mean*)")
        _table(pv.alternatives_table(others))
    advice = advice_for(recognition)
    if advice:
        st.markdown("**Advice** the Recognize page gives for this drawing")
        result_view.advice_notes(advice)


SECTIONS: dict[str, Callable[[Explained], None]] = {
    "greyscale": _greyscale,
    "polarity": _polarity,
    "binarization": _binarization,
    "components": _components,
    "specks": _specks,
    "merging": _merging,
    "splitting": _splitting,
    "reading-order": _reading_order,
    "normalization": _normalization,
    "model": _model,
    "number": _number,
}
"""Step key -> the function that shows what the step found."""


def show_step(step: Step, shown: Explained, reached: int) -> None:
    """One step in its own frame: its heading and what it does, then what it found, or that the
    recognizer stopped before it (``reached``: the last step with something to show)."""
    with st.container(border=True):
        st.subheader(step.heading, anchor=step.key)
        st.caption(step.explanation)
        if reached < step.needs:
            st.info("Not reached: the recognizer stopped after step "
                    f"{reached} ({STEPS[reached - 1].title.lower()}).", icon=":material/block:")
        else:
            SECTIONS[step.key](shown)
