"""The Train page's fine-tune on corrections: the form, and what the fine-tune changed.

A fine-tune runs as any training run does (:mod:`mdr.app.jobs`, one at a time, a progress
bar, Stop); its before/after report is read from the new model's card.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from mdr.app import jobs
from mdr.app.theme import ACCENT, MUTED
from mdr.corrections.store import CorrectionStore, CorrectionStoreError
from mdr.models import registry

DEFAULT_NAME = "finetune_default_name"


def _counts() -> tuple[int, int, int] | None:
    """(drawings, misread, labelled digits), or None after saying why the store cannot be read."""
    try:
        drawings = CorrectionStore().list()
    except CorrectionStoreError as e:
        st.error(str(e), icon=":material/database:")
        return None
    return len(drawings), sum(c.misread for c in drawings), sum(len(c.digits) for c in drawings)


def finetune_section(start_run) -> None:
    """Counts of the saved corrections and the fine-tune form; ``start_run(config, name, activate,
    measure)`` starts the run."""
    from mdr.models.finetune import FINETUNE_DEFAULTS, STRIP_STEPS, finetune_config
    from mdr.training.config import TrainConfig

    counts = _counts()
    if counts is None:
        return
    drawings, misread, digits = counts
    if not drawings:
        st.info("No corrections saved yet. Under a result on the **Recognize** page, type the number you "
                "wrote and press **Save**: each saved drawing teaches a fine-tune your handwriting.",
                icon=":material/edit_note:")
        return
    cols = st.columns(3)
    cols[0].metric("Saved drawings", drawings)
    cols[1].metric("Misread drawings", misread)
    cols[2].metric("Digits with a label", digits,
                   help="A drawing's digits are labelled from the number typed. When a digit was missed or "
                        "one too many was read, only the digits away from that spot are labelled; "
                        "every drawing is also used to check the result.")
    if jobs.is_running():
        st.caption("A run is going on above: fine-tune when it has finished.")
        return
    names = registry.list_models()
    active = registry.active_model_name()
    defaults = TrainConfig()
    with st.form("finetune_form"):
        first = st.columns(4)
        base = first[0].selectbox("Model to fine-tune", names, index=names.index(active) if active in names else 0,
                                  help="Its weights are the start; the fine-tune keeps its architecture and outputs.")
        share = first[1].slider("Corrections' share of the training images", 0.05, 0.6, defaults.corrections_share,
                                help="Your digits are repeated (each time warped a little) to this share; the rest "
                                     f"are {FINETUNE_DEFAULTS['train_size']:,} MNIST digits, so nothing else is "
                                     "forgotten.")
        holdout = first[2].slider("Drawings held out to check it", 0.0, 0.5, defaults.corrections_holdout,
                                  help="Whole drawings kept out of training, read before and after.")
        epochs = first[3].number_input("Epochs", 1, 10, FINETUNE_DEFAULTS["epochs"])
        teach_reader = st.toggle("Also teach the strip reader (it reads touching digits)", value=True,
                                 key="finetune_strip",
                                 help="With a model that has a strip reader, your drawings also teach it, "
                                      f"touching digits included ({STRIP_STEPS} steps, about 20 s more): the "
                                      "digit classifier never reads touching digits whole. Off: the reader is "
                                      "kept as it is.")
        second = st.columns([2, 1, 1], vertical_alignment="bottom")
        default_name = st.session_state.setdefault(DEFAULT_NAME, f"my-hand-{datetime.now():%m%d-%H%M}")
        name = second[0].text_input("Name of the fine-tuned model", value=default_name)
        activate = second[1].toggle("Activate when done", value=True, key="finetune_activate")
        start = second[2].form_submit_button("Fine-tune on my corrections", type="primary",
                                             icon=":material/school:", width="stretch")
    st.caption("From the command line: `python -m mdr train --corrections --from-model NAME --name NEW`.")
    if not start:
        return
    try:
        config = finetune_config(base, corrections_share=float(share), corrections_holdout=float(holdout),
                                 epochs=int(epochs), **({} if teach_reader else {"corrections_strip_steps": 0}))
    except Exception as e:  # a broken base model card, a bad setting: in words
        st.error(f"The fine-tune cannot start: {e}", icon=":material/warning:")
        return
    st.session_state.pop(DEFAULT_NAME, None)
    start_run(config, name.strip(), activate, measure=False)


def report_figure(rows: list[tuple[str, float | None, float | None]], base: str, model: str):
    """Before and after, side by side per measure."""
    import plotly.graph_objects as go

    labels = [r[0] for r in rows]
    figure = go.Figure()
    for index, (who, colour) in enumerate(((f"before ({base})", MUTED), (f"after ({model})", ACCENT)), start=1):
        values = [None if r[index] is None else r[index] * 100 for r in rows]
        figure.add_trace(go.Bar(y=labels, x=values, name=who, orientation="h", marker_color=colour,
                                text=["—" if v is None else f"{v:.1f}%" for v in values], textposition="outside",
                                hovertemplate="%{y}: %{x:.2f}%<extra>" + who + "</extra>"))
    figure.update_layout(barmode="group", height=90 + 60 * len(rows), xaxis=dict(range=[0, 112], title="%"),
                         yaxis=dict(autorange="reversed"), legend=dict(orientation="h", y=1.02, yanchor="bottom"),
                         margin=dict(l=10, r=10, t=30, b=10))
    return figure


def finetune_report(card: dict[str, Any], key: str) -> None:
    """What the fine-tune that made this model changed, if it was one; ``key`` tells this
    report's widgets from another's on the same page."""
    report = card.get("finetune")
    if not report:
        return
    from mdr.models.finetune import percent, report_rows, strip_summary

    rows = report_rows(report)
    st.markdown(f"**Before and after the fine-tune** on your corrections (from `{report['base']}`)")
    import pandas as pd

    st.dataframe(pd.DataFrame([{"measure": label, "before": percent(b, label), "after": percent(a, label),
                                "change": "—" if a is None or b is None else f"{(a - b) * 100:+.2f} points"}
                               for label, b, a in rows]), hide_index=True)
    st.plotly_chart(report_figure(rows, report["base"], report["model"]), width="stretch",
                    config={"displayModeBar": False}, key=f"finetune_chart_{key}")
    taught = strip_summary(card)
    if taught:
        st.caption(taught)
    if not report.get("mnist_drop_ok", True):
        st.warning(f"MNIST test accuracy fell by {report['mnist_drop']:.2%}: more than 0.2 points. Lower the "
                   "corrections' share, or save more varied corrections.", icon=":material/warning:")
    if not report.get("heldout_drawings"):
        st.caption("No drawing was held out (one saved drawing, or hold-out set to 0): save more corrections "
                   "to see how the model reads drawings it did not train on.")
