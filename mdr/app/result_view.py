"""The Recognize page's result: the number at a glance, then where, how and how sure."""
from __future__ import annotations

import html

import streamlit as st

from mdr.app.charts import probability_chart, timings_chart
from mdr.app.figures import annotated_input, inline_picture, model_input_image
from mdr.app.correction_form import correction_form
from mdr.app.reading import LAST_ERROR, LAST_IMAGE, LAST_RECOGNITION, LAST_SOURCE, LAST_STROKES, show_error
from mdr.app.theme import ACCENT
from mdr.recognition.advice import Advice, advice_for
from mdr.recognition.config import RecognizerConfig


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


def digit_label(index: int, digit) -> str:
    return f"Digit {index + 1}: {digit.digit} ({digit.confidence:.0%})"


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


def _confidence_floor() -> float:
    return RecognizerConfig().low_confidence


NOT_ONE_DIGIT_NOTE = 0.1
"""From this "not a single digit" probability an uncertain digit's note names it too."""


def low_confidence_notes(recognition) -> bool:
    """A warning listing the uncertain digits and their alternatives; False when there are none."""
    unsure = [(i, d) for i, d in enumerate(recognition.digits) if d.low_confidence]
    if not unsure:
        return False
    notes = []
    for index, digit in unsure:
        alternatives = ", ".join(f"{d} ({p:.0%})" for d, p in digit.top3[1:])
        # A model with the "not a single digit" class gives the rest of the probability to it:
        # said, so that the figures add up to what the person sees.
        neither = (f", or not one digit at all ({digit.reject:.0%}: a scribble, or digits run together)"
                   if digit.reject is not None and digit.reject >= NOT_ONE_DIGIT_NOTE else "")
        notes.append(f"- Digit {index + 1} was read as **{digit.digit}** with only "
                     f"{digit.confidence:.0%} confidence; it could also be {alternatives}{neither}.")
    st.warning("Some digits are uncertain:\n" + "\n".join(notes), icon=":material/warning:")
    return True


ADVICE_ICONS = {"touching": ":material/space_bar:", "thick brush": ":material/brush:"}


TEACH_TOUCHING = ("If they were misread, save the right number above: a fine-tune on your corrections "
                  "(**Train** page) teaches the reader your touching digits.")
"""Said on the page after the touching advice (only a model with a strip reader cuts touching digits,
and its fine-tune teaches that reader the saved drawings)."""


def advice_notes(advice: list[Advice]) -> None:
    """Each piece of advice the reading calls for (:func:`mdr.recognition.advice.advice_for`)."""
    for item in advice:
        message = item.message + (f" {TEACH_TOUCHING}" if item.kind == "touching" else "")
        st.info(message, icon=ADVICE_ICONS.get(item.kind, ":material/lightbulb:"))


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
    correction_form(recognition, state.get(LAST_IMAGE), state.get(LAST_STROKES))
    picture, notes = st.columns([3, 2])
    with picture:
        inline_picture(annotated_input(recognition), caption="Where each digit was found")
    with notes:
        advice = advice_for(recognition)
        unsure = low_confidence_notes(recognition)
        if not unsure and not any(a.kind == "touching" for a in advice):
            st.success(f"Every digit was read with at least {_confidence_floor():.0%} confidence.",
                       icon=":material/check_circle:")
        advice_notes(advice)

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
