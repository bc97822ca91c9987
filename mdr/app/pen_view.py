"""Real handwriting on the Train page: a model's pen-eval, measured on demand and kept beside it."""
from __future__ import annotations

from typing import Any

import streamlit as st

from mdr.app.model_card import percent
from mdr.app.theme import ACCENT, DARK, MUTED
from mdr.errors import MdrError
from mdr.models import operations as modelops

CONFUSIONS_SHOWN = 6
CONDITION_NAMES = {"spaced": "spaced", "touching": "touching", "transparent": "transparent canvas",
                   "two-rows": "two rows", "dark-on-light": "dark on light", "light-on-dark": "light on dark"}


def condition_chart(report: dict[str, Any]):
    """Exact numbers per condition: the recognizer with its writer interval, the original pipeline beside it."""
    import plotly.graph_objects as go

    conditions = list(report["conditions"])
    names = [CONDITION_NAMES.get(c, c) for c in conditions]
    new = [report["conditions"][c]["recognizer"]["exact_rate"] * 100 for c in conditions]
    old = [report["conditions"][c]["baseline"]["exact_rate"] * 100 for c in conditions]
    intervals = report.get("intervals") or {}
    low = [new[k] - intervals[c]["low"] * 100 if c in intervals else 0 for k, c in enumerate(conditions)]
    high = [intervals[c]["high"] * 100 - new[k] if c in intervals else 0 for k, c in enumerate(conditions)]
    figure = go.Figure([
        go.Bar(name="this recognizer", x=names, y=new, marker_color=ACCENT,
               error_y=dict(type="data", symmetric=False, array=high, arrayminus=low, color=DARK, thickness=1.5),
               text=[f"{v:.0f}%" for v in new], textposition="inside", insidetextanchor="start", textangle=0,
               hovertemplate="%{x}: %{y:.1f}%<extra>this recognizer</extra>"),
        go.Bar(name="original app's pipeline", x=names, y=old, marker_color=MUTED,
               text=[f"{v:.0f}%" for v in old], textposition="inside", insidetextanchor="start", textangle=0,
               hovertemplate="%{x}: %{y:.1f}%<extra>original pipeline</extra>"),
    ])
    figure.update_layout(barmode="group", yaxis=dict(title="numbers read exactly (%)", range=[0, 105]),
                         height=340, margin=dict(l=10, r=10, t=10, b=10),
                         legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return figure


def brush_chart(report: dict[str, Any]):
    """Exact numbers by brush width over digit height, all conditions together."""
    import plotly.graph_objects as go

    bands = report.get("by_brush") or []
    figure = go.Figure(go.Bar(
        x=[b["band"] for b in bands], y=[b["exact_rate"] * 100 for b in bands], marker_color=MUTED,
        text=[f"{b['exact_rate']:.0%} of {b['numbers']}" for b in bands], textposition="inside", textangle=0,
        hovertemplate="brush / height %{x}: %{y:.1f}% exact<extra></extra>"))
    figure.update_layout(xaxis=dict(title="brush width / digit height", type="category"),
                         yaxis=dict(title="read exactly (%)", range=[0, 105]),
                         height=340, margin=dict(l=10, r=10, t=10, b=10))
    return figure


def writer_chart(report: dict[str, Any]):
    """Exact numbers per writer, worst first: a few writers' odd digits carry most of the errors."""
    import plotly.graph_objects as go

    writers = report.get("by_writer") or []
    figure = go.Figure(go.Bar(
        x=[f"w{w['writer']}" for w in writers], y=[w["exact_rate"] * 100 for w in writers], marker_color=ACCENT,
        customdata=[[w["exact"], w["numbers"]] for w in writers],
        hovertemplate="writer %{x}: %{y:.1f}% (%{customdata[0]} of %{customdata[1]} numbers)<extra></extra>"))
    figure.update_layout(xaxis=dict(title="writer (read worst first)", type="category"),
                         yaxis=dict(title="read exactly (%)", range=[0, 105]),
                         height=260, margin=dict(l=10, r=10, t=10, b=10))
    return figure


def misread_gallery(report: dict[str, Any], data: str | None) -> None:
    """The pen digits misread most often, as drawn: a few odd digits carry most of the errors."""
    from mdr.data.pen import pen_digit_picture

    misread = report.get("misread") or []  # the report keeps the first few
    if not misread:
        return
    carried = sum(d["misread"] for d in misread)
    errors = report.get("digit_errors") or carried
    st.markdown(f"**Digits misread most often**: every digit of the writers is drawn into several numbers; "
                f"these {len(misread)} carry {carried} of the {errors} digit errors ({carried / errors:.0%}).")
    try:
        pictures = [pen_digit_picture(d["source"], data) for d in misread]
    except MdrError as e:
        st.caption(f"The digits cannot be shown: {e}")
        return
    columns = st.columns(5)
    for k, (digit, picture) in enumerate(zip(misread, pictures)):
        columns[k % 5].image(_square(picture), width=100,
                             caption=f"{digit['written']} read as {digit['read_as']} in {digit['misread']} of "
                                     f"{digit['drawn']} numbers (writer {digit['writer']})")


def _square(picture):
    """White margins that make a picture square, so every digit is shown at the same scale."""
    import numpy as np

    height, width = picture.shape
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    return np.pad(picture, ((top, side - height - top), (left, side - width - left)), constant_values=255)


def pen_results(name: str) -> None:
    """The saved pen-eval of model ``name`` as figures and charts, and a button to measure it (again)."""
    report = modelops.saved_pen_accuracy(name)
    st.markdown("**Real handwriting**: numbers composed from the pen digits of writers no shipped model was "
                "trained on, drawn as canvas strokes, read by this model and by the original app's pipeline")
    if report and report.get("conditions"):
        overall = report["overall"]
        one_click = overall["recognizer"].get("one_click_rate")  # measured before it was counted: none
        cols = iter(st.columns(4 if one_click is None else 5))
        next(cols).metric("Numbers read exactly", percent(overall["recognizer"]["exact_rate"]),
                          help=f"{overall['recognizer']['total']:,} numbers, all conditions.")
        if one_click is not None:
            next(cols).metric("Right in one click", percent(one_click),
                              help="Read exactly, or the true number was one of the three other readings "
                                   "offered under the result (Did you mean).")
        next(cols).metric("Original app's pipeline", percent(overall["baseline"]["exact_rate"]),
                          help="The same images read the way the first version of the app read them, with the "
                               "same model file.")
        next(cols).metric("Digits right", percent(overall["recognizer"]["digit_rate"]),
                          help="Per digit, over the readings that have as many digits as were written.")
        next(cols).metric("Writers", f"{report.get('writers', '—')}",
                          help="Writers of the evaluation share of the writer split; every number is by one "
                               "of them.")
        left, right = st.columns(2)
        with left:
            st.plotly_chart(condition_chart(report), width="stretch", config={"displayModeBar": False},
                            key=f"pen_conditions_{name}")
            st.caption("Black lines: the writer interval, where the figure lands for 90% of groups of as many "
                       "writers drawn from these again. A writer's numbers fail together, so this is how far the "
                       "figure may move on people never seen.")
        with right:
            st.plotly_chart(brush_chart(report), width="stretch", config={"displayModeBar": False},
                            key=f"pen_brush_{name}")
            st.caption("A brush a quarter of the digit's height or more closes loops and gaps the pen left open.")
        if report.get("by_writer"):
            st.markdown("**Numbers read exactly, per writer**")
            st.plotly_chart(writer_chart(report), width="stretch", config={"displayModeBar": False},
                            key=f"pen_writers_{name}")
            st.caption("Most writers' numbers all read right; a few writers' odd digits carry most of the errors.")
        confusions = list((overall["recognizer"].get("confusions") or {}).items())[:CONFUSIONS_SHOWN]
        if confusions:
            import pandas as pd

            st.markdown("**Most frequent digit errors** (readings with as many digits as written)")
            rows = [(*pair.split("->"), count) for pair, count in confusions]
            st.dataframe(pd.DataFrame(rows, columns=["written", "read as", "times"]),
                         hide_index=True, width=360)
        settings = report.get("settings") or {}
        misread_gallery(report, settings.get("data"))
        st.caption(f"{settings.get('n', '—')} numbers per condition, seed {settings.get('seed', '—')}; "
                   f"`python -m mdr pen-eval --model {name}` gives the full report.")
    else:
        st.caption("Not measured yet for this model.")
    if st.button("Measure on real handwriting" if not report else "Measure real handwriting again",
                 key=f"pen_{name}", icon=":material/stylus:"):
        bar = st.progress(0.0, text="Reading pen numbers…")
        shown = [-1]

        def advance(share: float) -> None:
            if int(share * 100) != shown[0]:  # one update per percent, not per number
                shown[0] = int(share * 100)
                bar.progress(min(1.0, share), text=f"Reading pen numbers… {share:.0%}")

        try:
            modelops.pen_accuracy(name, progress=advance)
        except MdrError as e:
            bar.empty()
            st.error(f"{e} The model in use is not affected.", icon=":material/warning:")
            return
        st.rerun()
