"""The Train page's strip reader: the form that gives a model one, and what it changed.

A strip-reader run is a training run like the others (:mod:`mdr.app.jobs`, one at a time, a
progress bar, Stop); its figures (held-out strings, touching pen numbers read before and
after) are read from the new model's card, so the finished run's panel and the model's
results show the same report.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from mdr.app import jobs
from mdr.app.model_card import duration, human_bytes, percent
from mdr.data.pen import MAX_PEN_VARIATION, MAX_VALIDATION_FRACTION
from mdr.models import registry
from mdr.recognition.strip import FRAME_STRIDES

VALIDATION_HELP = ("Also kept out of training, besides the evaluation writers: a share of all pen writers, so that "
                   "two settings can be compared on writers neither model saw (`python -m mdr pen-eval --writers "
                   "validation --validation-fraction SHARE`). 0: train on every training writer, as the shipped "
                   "models do.")
STRIP_BASE = "strip_base"
CONDITIONS = ("spaced", "touching")
STRIP_READER, CUT_SEARCH = "strip reader", "cut search"
"""How a model reads a part that may hold touching digits: its strip reader, or cuts tried one by one."""


def strip_section(start_run) -> None:
    """The form; ``start_run(config, name, activate, measure, base)`` starts the run."""
    from mdr.training.strip_config import StripTrainConfig
    from mdr.training.strips import StripMix

    if jobs.is_running():
        st.caption("A run is going on above: train a strip reader when it has finished.")
        return
    names = registry.list_models()
    if not names:
        st.info("No model is registered: a strip reader is added to a registered model's digit classifier.")
        return
    active = registry.active_model_name()
    defaults, mix = StripTrainConfig(), StripMix()
    top = st.columns(2, vertical_alignment="bottom")
    base = top[0].selectbox("Model whose digit classifier to keep", names, key=STRIP_BASE,
                            index=names.index(active) if active in names else 0,
                            help="The new model reads single digits with this model's classifier, unchanged, and "
                                 "asks the strip reader about wide and doubtful parts.")
    top[1].caption(f"'{base}' has a strip reader already: the new model gets a reader of its own."
                   if registry.strip_path(base, "int8").is_file() else
                   f"'{base}' reads touching digits with the {CUT_SEARCH}: it tries cuts and reads each piece.")
    with st.form("strip_form"):
        first = st.columns(4)
        numbers = first[0].number_input("Numbers composed", 100, 200_000, mix.numbers, step=1000, key="strip_numbers",
                                        help="Each number is cut into the parts the recognizer sees; each part is "
                                             "a training strip. More numbers: a longer run, a better reader.")
        touching = first[1].slider("Touching numbers: share", 0.0, 1.0, mix.touching_share, step=0.05,
                                   key="strip_touching",
                                   help="The rest are spaced, so the reader also learns to leave a wide single "
                                        "digit whole.")
        mnist = first[2].slider("Written with MNIST digits: share", 0.0, 1.0, mix.mnist_share, step=0.05,
                                key="strip_mnist",
                                help="The rest are written with the pen digits of the training writers; the "
                                     "writers of the before/after check are kept out.")
        epochs = first[3].number_input("Epochs", 1, 50, defaults.epochs, key="strip_epochs")
        extra = st.columns(4)
        validation = extra[0].slider("Validation writers held out: share", 0.0, MAX_VALIDATION_FRACTION, mix.pen_validation, step=0.05,
                                     key="strip_validation", help=VALIDATION_HELP)
        variation = extra[1].slider("Vary the writers' hands: strength", 0.0, MAX_PEN_VARIATION, mix.pen_variation,
                                    step=0.25, key="strip_variation",
                                    help="Each pen number is re-slanted, turned and widened at random, as "
                                         "other people would write the same digits (1: up to a 17 degree "
                                         "lean, 6 degrees of turn, 20% wider or narrower). 0: as written.")
        frames = extra[2].selectbox("Frames: one per", FRAME_STRIDES, index=FRAME_STRIDES.index(defaults.frame_stride),
                                    format_func=lambda s: f"{s} strip columns", key="strip_frame_stride",
                                    help="How finely the reader reads along the strip. 2 columns give twice "
                                         "the frames: room for narrow digits side by side (11, 71) that 4 "
                                         "columns may read as one.")
        styles = extra[3].slider("Slashed 0, flagged 1, crossed 7: chance", 0.0, 1.0, mix.pen_styles, step=0.05,
                                 key="strip_styles",
                                 help="A pen 0, 1 or 7 is re-written in its other style this often (a bar through "
                                      "the zero, a flag and foot on the one, a bar across the seven), as many "
                                      "people write them. The reader's opinion of each digit is multiplied "
                                      "into the classifier's: it should know these styles too.")
        second = st.columns([2, 1, 1], vertical_alignment="bottom")
        name = second[0].text_input("Name of the new model", value=f"{base}-strips", key=f"strip_name_{base}",
                                    help=f"'{base}' keeps serving until the new model is activated; an existing "
                                         "model of that name is replaced when the run finishes.")
        activate = second[1].toggle("Activate when done", value=False, key="strip_activate",
                                    help="Off: compare the touching numbers read before and after below, then "
                                         "activate it in the Models table.")
        start = second[2].form_submit_button("Train a strip reader", type="primary", icon=":material/join:",
                                             width="stretch")
    st.caption("From the command line: `python -m mdr train-strip --name NEW --from-model NAME --numbers N "
               "--epochs E`.")
    if not start:
        return
    config = StripTrainConfig(mix=StripMix(numbers=int(numbers), touching_share=float(touching),
                                           mnist_share=float(mnist), pen_validation=float(validation),
                                           pen_variation=float(variation), pen_styles=float(styles)),
                              epochs=int(epochs), frame_stride=int(frames))
    start_run(config, name.strip(), activate, measure=False, base=base)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def pen_check_rows(check: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(measure, before, after) of a strip reader's pen check, as the table and the chart show them."""
    def value(side: str, condition: str, key: str) -> float | None:
        entry = (check.get(side) or {}).get(condition) or {}
        return entry.get(key)

    rows = []
    for condition in CONDITIONS:
        n = ((check.get("after") or {}).get(condition) or {}).get("n")
        rows.append((f"{condition.capitalize()} pen numbers ({n}): exact",
                     value("before", condition, "exact"), value("after", condition, "exact")))
    for condition in CONDITIONS:
        rows.append((f"{condition.capitalize()}: right number of digits",
                     value("before", condition, "length"), value("after", condition, "length")))
    return rows


def strip_report(card: dict[str, Any], key: str) -> None:
    """What the strip reader of this model reads, if it has one; ``key`` tells this report's
    widgets from another's on the same page."""
    reader = card.get("strip_reader")
    if not isinstance(reader, dict):
        return
    import pandas as pd

    from mdr.app.finetune_view import report_figure

    base = card.get("derived_from") or "its starting model"
    carried = reader.get("carried_from")
    taught = reader.get("finetune") or {}
    if carried:  # trained for another model, which this one was trained from
        st.markdown(f"**Strip reader**: touching digits read as a string, carried from `{carried}`"
                    + (f", then taught {taught['strips']} strips of the corrections' drawings by the fine-tune"
                       if taught.get("strips") else "") + "; its training, as it was there:")
    else:
        st.markdown(f"**Strip reader**: touching digits read as a string, added to `{base}`'s digit classifier")
    mix = (reader.get("config") or {}).get("mix") or {}
    training = reader.get("training") or {}
    cols = st.columns(3)
    strips = reader.get("val_strips")
    cols[0].metric("Held-out strips read exactly", percent(reader.get("val_string_accuracy")),
                   help=f"{strips:,} strips of the composed numbers kept out of training, read whole: every "
                        "digit right." if isinstance(strips, int) else None)
    epochs = training.get("epochs_done")
    cols[1].metric("Training time", duration(training.get("seconds")),
                   help=f"{epochs} epochs on {training.get('device', '—')}." if epochs is not None else None)
    numbers = mix.get("numbers")
    cols[2].metric("Numbers composed", f"{numbers:,}" if isinstance(numbers, int) else "—",
                   help=f"{mix.get('touching_share', 0):.0%} touching, {mix.get('mnist_share', 0):.0%} written with "
                        "MNIST digits, the rest by the pen training writers." if mix else None)
    check = reader.get("pen_check")
    if check:
        model_before = check.get("model_before") or base
        measured = carried or card.get("name", "this model")  # the model the reader was trained for
        rows = pen_check_rows(check)
        st.markdown(f"**Pen numbers of writers it never saw**, read by `{model_before}` (before) and "
                    f"`{measured}` (after)")
        st.dataframe(pd.DataFrame([{"measure": label, "before": _share(b), "after": _share(a),
                                    "change": "—" if a is None or b is None else f"{(a - b) * 100:+.1f} points"}
                                   for label, b, a in rows]), hide_index=True)
        st.plotly_chart(report_figure(rows, model_before, measured), width="stretch",
                        config={"displayModeBar": False}, key=f"strip_chart_{key}")
    else:
        st.caption("No pen numbers were read before and after (`--pen-check 0`).")
    onnx = reader.get("onnx") or {}
    sizes = (card.get("files") or {}).get("bytes") or {}
    int8 = sizes.get(registry.STRIP_FILES["int8"])
    diff = onnx.get("max_abs_diff")
    st.caption(f"{registry.STRIP_FILES['int8']}" + (f" ({human_bytes(int8)})" if int8 else "")
               + f": {onnx.get('int8', 'int8')}, calibrated on {onnx.get('calibration_strips', '—')} strips; "
               + (f"the ONNX export differs from torch by at most {diff:.1e}." if isinstance(diff, float) else ""))
    if reader.get("command"):
        st.code(reader["command"], language="bash", wrap_lines=True)
