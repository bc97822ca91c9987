"""Widgets and figures of the Train page: the form, the live run, a model's results."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import numpy as np
import streamlit as st

from mdr.app import jobs, pen_view
from mdr.models import operations as modelops
from mdr.models import registry
from mdr.errors import MdrError
from mdr.training.config import TrainConfig
from mdr.app.charts import per_class_chart
from mdr.app.figures import model_input_image
from mdr.app.finetune_view import finetune_report
from mdr.app.model_card import duration as _duration, human_bytes, percent
from mdr.app.registry_view import OPERATION_OUTCOME, rebuild_controls
from mdr.app.strip_view import VALIDATION_HELP, strip_report
from mdr.data.pen import MAX_PEN_VARIATION, MAX_VALIDATION_FRACTION
from mdr.app.theme import ACCENT, MUTED

SELECTED = "train_selected_model"
DEFAULT_NAME = "train_default_name"
"""The name the form offers, fixed until a run starts: a default that changed every minute would
make a new widget of the name field and drop the name typed into it."""
REFRESH_SECONDS = 1.0
FRESH = "a fresh network"


# --------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------
def training_form() -> tuple[TrainConfig, str, bool] | None:
    """The settings of a new run; (config, name, activate) when Start was pressed, else None."""
    d = TrainConfig()
    with st.form("train_form"):
        first = st.columns(4)
        arch = first[0].selectbox("Model", ["cnn-small", "cnn"],
                                  help="cnn-small trains about 5x faster; cnn is the shipped architecture.")
        epochs = first[1].number_input("Epochs", 1, 100, 3)
        batch_size = first[2].number_input("Batch size", 8, 1024, d.batch_size, step=32)
        train_size = first[3].number_input("Training images (0: all 55,000)", 0, 55_000, 10_000, step=1000,
                                           help="5,000 of MNIST's 60,000 training images are held out for "
                                                "validation.")
        second = st.columns(4)
        optimizer = second[0].selectbox("Optimizer", ["adamw", "sgd"])
        schedule = second[1].selectbox("Learning-rate schedule", ["onecycle", "cosine"])
        lr = second[2].number_input("Learning rate", 1e-5, 1.0, d.lr, format="%.4f", step=1e-3)
        weight_decay = second[3].number_input("Weight decay", 0.0, 0.1, d.weight_decay, format="%.4f", step=1e-4)
        third = st.columns(4)
        augment = third[0].toggle("Augmentation", value=True)
        affine_p = third[1].slider("Warp (rotate, shear, zoom, shift): share of each batch", 0.0, 1.0, d.affine_p)
        thickness_p = third[2].slider("Thicker / thinner strokes: share", 0.0, 0.5, d.thickness_p)
        restroke_p = third[3].slider("Re-drawn with a round brush: share", 0.0, 0.5, d.restroke_p)
        fourth = st.columns(4)
        rotate_deg = fourth[0].slider("Largest rotation (degrees)", 0.0, 30.0, d.rotate_deg)
        seed = fourth[1].number_input("Seed", 0, 1_000_000, d.seed)
        data_mix = fourth[2].selectbox("Training data", ["mnist", "mnist+pen"],
                                       help="mnist+pen adds real handwriting: the pen-digits training writers' "
                                            "digits, drawn as canvas strokes (evaluation writers are kept out).")
        init_from = fourth[3].selectbox("Start from", [FRESH, *registry.list_models()],
                                        help="A fresh network, or a registered model's weights (fine-tuning; same "
                                             "architecture).")
        fifth = st.columns(4)
        reject_fraction = fifth[0].slider(
            "'Not a single digit' images: share", 0.0, 0.4, d.reject_fraction, step=0.05,
            help="Touching pairs, parts of digits and fragments as an 11th class, the evidence the split search "
                 "needs to cut touching digits apart. 0: a 10-class model.")
        pen_renders = fifth[1].number_input("Pen renderings per digit", 1, 8, d.pen_renders,
                                            help="mnist+pen: how often each training writer's digit is drawn, "
                                                 "each time with another brush and height.")
        pen_styles = fifth[2].slider("Slashed 0, flagged 1, crossed 7: chance", 0.0, 1.0, d.pen_styles,
                                     help="mnist+pen: a pen 0, 1 or 7 re-written in a style some people use.")
        elastic_p = fifth[3].slider("Bent strokes (elastic): share", 0.0, 1.0, d.elastic_p,
                                    help="Each picked image is bent by a smooth random field (about "
                                         f"{d.elastic_px:g} px), the way one writer's strokes wobble "
                                         "differently from another's.")
        sixth = st.columns(4)
        pen_validation = sixth[0].slider(
            "Validation writers held out: share", 0.0, MAX_VALIDATION_FRACTION, d.pen_validation, step=0.05,
            help="mnist+pen: " + VALIDATION_HELP)
        pen_variation = sixth[1].slider(
            "Vary the writers' hands: strength", 0.0, MAX_PEN_VARIATION, d.pen_variation, step=0.25,
            help="mnist+pen: each pen digit is re-slanted, turned and widened at random before it is drawn, "
                 "as other people would write it (1: up to a 17 degree lean, 6 degrees of turn, 20% wider "
                 "or narrower). 0: as written.")
        last = st.columns([2, 1, 1], vertical_alignment="bottom")
        default_name = st.session_state.setdefault(DEFAULT_NAME, f"my-{datetime.now():%m%d-%H%M}")
        name = last[0].text_input("Name of the new model", value=default_name,
                                  help="Letters, digits, '.', '_' and '-'; an existing model of that name "
                                       "is replaced when the run finishes.")
        activate = last[1].toggle("Activate when done", value=True,
                                  help="Off: the new model is registered, and you activate it below when "
                                       "you like.")
        start = last[2].form_submit_button("Start training", type="primary", icon=":material/play_arrow:",
                                           width="stretch")
    if not start:
        return None
    config = TrainConfig(arch=arch, epochs=int(epochs), batch_size=int(batch_size),
                         train_size=int(train_size) or None, optimizer=optimizer, schedule=schedule,
                         lr=float(lr), weight_decay=float(weight_decay), augment=augment, affine_p=affine_p,
                         thickness_p=thickness_p, restroke_p=restroke_p, rotate_deg=rotate_deg, seed=int(seed),
                         data_mix=data_mix, init_from=None if init_from == FRESH else init_from,
                         reject_fraction=float(reject_fraction), pen_renders=int(pen_renders),
                         pen_styles=float(pen_styles), elastic_p=float(elastic_p),
                         pen_validation=float(pen_validation), pen_variation=float(pen_variation))
    return config, name.strip(), activate


def start_problem(config: TrainConfig) -> str | None:
    """What would make the run fail at its first step, in words (None: nothing)."""
    if not config.init_from:
        return None
    from mdr.models.finetune import model_outputs

    card = registry.read_card(config.init_from)
    arch = (card.get("config") or {}).get("arch") or (card.get("architecture") or {}).get("name")
    if arch != config.arch:
        return f"'{config.init_from}' is a {arch} model: choose Model {arch} to start from it."
    if model_outputs(card) == 11 and config.classes == 10:
        return (f"'{config.init_from}' has the 'not a single digit' output: give its images a share above 0 to "
                "start from it.")
    return None


def start_run(config, name: str, activate: bool = True, measure: bool = True, base: str | None = None) -> None:
    """Start the run of a TrainConfig, or of a StripTrainConfig giving ``base`` a strip reader;
    a bad name or config, or a run already going on, is an error in words.

    ``measure``: compare the variants and read canvas-like numbers after publishing."""
    try:
        problem = start_problem(config) if isinstance(config, TrainConfig) else None
        if problem:
            raise ValueError(problem)
        jobs.start(config, name, activate=activate, measure=measure, **({"base": base} if base else {}))
    except (MdrError, ValueError) as e:
        st.error(str(e), icon=":material/warning:")
        return
    st.session_state[SELECTED] = name
    st.session_state.pop(DEFAULT_NAME, None)  # the next run is offered a new name
    st.rerun()


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------
def curves_figure(snap: jobs.JobSnapshot):
    """Training loss (left axis) and validation accuracy per epoch (right axis); a run without a
    validation split (a fine-tune) says so instead of drawing an empty chart."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if snap.kind == jobs.STRIP:
        return strip_loss_figure(snap)
    validated = snap.config.get("val_size", 1) != 0
    figure = make_subplots(rows=1, cols=2, subplot_titles=(
        "Training loss", "Validation accuracy" if validated else "No validation split (all images train)"))
    figure.add_trace(go.Scatter(x=snap.loss_steps, y=snap.loss, mode="lines+markers", name="training loss",
                                line=dict(color=ACCENT), marker=dict(size=4),
                                hovertemplate="step %{x}: loss %{y:.4f}<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Scatter(x=snap.val_epochs, y=[a * 100 for a in snap.val_acc], mode="lines+markers",
                                name="validation accuracy", line=dict(color="#2e86de"),
                                hovertemplate="epoch %{x}: %{y:.2f}%<extra></extra>"), row=1, col=2)
    figure.update_xaxes(title_text="step", range=[0, max(snap.total_steps, 1)], row=1, col=1)
    figure.update_xaxes(title_text="epoch", range=[0.5, max(snap.epochs, 1) + 0.5], dtick=1, row=1, col=2)
    figure.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1)
    low = min([a * 100 for a in snap.val_acc], default=90.0)
    figure.update_yaxes(title_text="%", range=[min(90.0, low - 1), 100.2], row=1, col=2)
    figure.update_layout(height=300, showlegend=False, margin=dict(l=10, r=10, t=30, b=10))
    return figure


def strip_loss_figure(snap: jobs.JobSnapshot):
    """A strip run's CTC loss; its held-out strips are read once, after the last epoch, so there
    is no accuracy curve to draw."""
    import plotly.graph_objects as go

    figure = go.Figure(go.Scatter(x=snap.loss_steps, y=snap.loss, mode="lines+markers", name="training loss",
                                  line=dict(color=ACCENT), marker=dict(size=4),
                                  hovertemplate="step %{x}: loss %{y:.4f}<extra></extra>"))
    figure.update_layout(title=dict(text="Training loss (CTC)", font=dict(size=14)), height=300,
                         xaxis=dict(title="step", range=[0, max(snap.total_steps, 1)]),
                         yaxis=dict(title="loss", rangemode="tozero"), margin=dict(l=10, r=10, t=40, b=10))
    return figure


def show_run(snap: jobs.JobSnapshot) -> None:
    """Progress bar, ETA, curves, and Stop while it runs; the outcome after."""
    elapsed = time.time() - snap.started if snap.active else (snap.finished or snap.started) - snap.started
    if snap.active:
        st.markdown(f"**Training {snap.who()}.**")
    else:
        st.markdown(f"**Latest run:** {snap.who()}, took {_duration(elapsed)}.")
    eta = f" · about {_duration(snap.eta)} left" if snap.state == jobs.RUNNING and snap.step else ""
    st.progress(snap.fraction, text=f"{snap.status} · {_duration(elapsed)} elapsed{eta}")
    metrics = st.columns(4)
    metrics[0].metric("Epoch", f"{snap.epoch} / {snap.epochs}")
    metrics[1].metric("Step", f"{snap.step:,} / {snap.total_steps:,}" if snap.total_steps else "—")
    metrics[2].metric("Training loss", f"{snap.loss[-1]:.4f}" if snap.loss else "—")
    if snap.kind == jobs.STRIP:
        reader = (snap.card or {}).get("strip_reader") or {}
        metrics[3].metric("Held-out strips read exactly", percent(reader.get("val_string_accuracy")),
                          help="Strips of the composed numbers kept out of training, read whole once the "
                               "training has ended.")
    else:
        metrics[3].metric("Validation accuracy", percent(snap.val_acc[-1]) if snap.val_acc else "—",
                          help=f"{snap.config.get('val_size', 5000):,} training images held out; measured after "
                               "each epoch." if snap.config.get("val_size", 1) else
                          "This run holds no MNIST images out (a fine-tune is judged on held-out corrections).")
    st.plotly_chart(curves_figure(snap), width="stretch", config={"displayModeBar": False})

    if snap.active:
        if snap.stoppable:
            st.button("Stop", icon=":material/stop:", on_click=jobs.stop, disabled=snap.stop_requested,
                      help="Ends after the current step" + (" of the export" if snap.state == jobs.PUBLISHING else "")
                           + ". Nothing is registered; the active model keeps serving, and you may then "
                             "register the best model so far.")
        elif snap.registered:
            st.caption("The new model is registered; measuring it: this part cannot be stopped.")
        else:
            st.caption("Exporting, quantizing and measuring: this part cannot be stopped.")
    elif snap.state == jobs.DONE:
        st.success(snap.status, icon=":material/check_circle:")
        if snap.card:
            finetune_report(snap.card, key="latest_run")
            strip_report(snap.card, key="latest_run")
    elif snap.state == jobs.FAILED:
        st.error(f"The run failed: {snap.error}. The model in use did not change.", icon=":material/error:")
    elif snap.state == jobs.STOPPED:
        st.info(snap.status, icon=":material/stop_circle:")
        if not snap.registered_after_stop and snap.kind != jobs.STRIP:
            left, right = st.columns(2)
            if left.button(f"Register it as '{snap.name}' (not activated)", icon=":material/save:"):
                try:
                    with st.spinner("Exporting and quantizing…"):
                        jobs.register_stopped(activate=False)
                    st.session_state[SELECTED] = snap.name
                    st.rerun()
                except MdrError as e:
                    st.error(str(e), icon=":material/warning:")
            right.button("Discard it", icon=":material/delete:", on_click=jobs.discard_stopped)


def live_run() -> None:
    """The run's panel, refreshed every second while it runs; a full rerun once it ends."""
    snap = jobs.snapshot()
    if snap is None:
        return
    was_active = st.session_state.get("train_was_active", False)
    st.session_state["train_was_active"] = snap.active
    if was_active and not snap.active:
        st.rerun()  # the run just ended: refresh the whole page (results, registry)
    show_run(snap)


# --------------------------------------------------------------------------
# A model's results
# --------------------------------------------------------------------------
@st.cache_data(show_spinner="Evaluating on the 10,000 MNIST test digits…", max_entries=8)
def _evaluation(name: str, precision: str, stamp: float) -> dict[str, Any]:
    return modelops.evaluation(name, precision)


def _stamp(name: str, precision: str = "int8") -> float:
    try:
        return registry.onnx_path(name, precision).stat().st_mtime
    except (OSError, MdrError):
        return 0.0


def confusion_figure(confusion: list[list[int]]):
    """The whole 10x10 confusion matrix (log colour scale: the diagonal would hide the mistakes)."""
    import plotly.graph_objects as go

    counts = np.asarray(confusion, dtype=float)
    figure = go.Figure(go.Heatmap(
        z=np.log10(counts + 1), x=[str(d) for d in range(10)], y=[str(d) for d in range(10)],
        customdata=counts, colorscale="Blues", showscale=False,
        text=[[f"{v:.0f}" if v else "" for v in row] for row in counts], texttemplate="%{text}",
        hovertemplate="a %{y} read as %{x}: %{customdata:.0f} times<extra></extra>",
    ))
    figure.update_layout(xaxis=dict(title="read as", type="category", side="top"),
                         yaxis=dict(title="true digit", type="category", autorange="reversed"),
                         height=420, margin=dict(l=10, r=10, t=40, b=10))
    return figure


def misclassified_gallery(wrong: list[dict[str, Any]], limit: int = 24, per_row: int = 8) -> None:
    shown = wrong[:limit]
    if not shown:
        st.success("Every test digit is read correctly.", icon=":material/check_circle:")
        return
    for start in range(0, len(shown), per_row):
        columns = st.columns(per_row, gap="small")
        for column, item in zip(columns, shown[start:start + per_row]):
            with column:
                st.image(model_input_image(item["image"] / 255.0, scale=3), width=84)
                st.caption(f"true **{item['true']}** → read **{item['predicted']}** ({item['confidence']:.0%})")


def comparison_figure(report: dict[str, Any]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = report["rows"]
    names = [r["variant"] for r in rows]
    colours = [ACCENT if "int8 static" in n else MUTED for n in names]
    figure = make_subplots(rows=1, cols=3, subplot_titles=("Accuracy (%)", "File size (KB)",
                                                           "Batch of 256 (ms)"))
    for col, (values, fmt) in enumerate([([r["accuracy"] * 100 for r in rows], "{:.2f}"),
                                         ([r["bytes"] / 1000 for r in rows], "{:.0f}"),
                                         ([r["batch256_ms"] for r in rows], "{:.1f}")], start=1):
        figure.add_trace(go.Bar(x=names, y=values, marker_color=colours, text=[fmt.format(v) for v in values],
                                textposition="outside", hoverinfo="skip"), row=1, col=col)
    accuracies = [r["accuracy"] * 100 for r in rows]
    figure.update_yaxes(range=[max(0.0, min(accuracies) - 1), 100.3], row=1, col=1)
    for col in (2, 3):
        figure.update_yaxes(rangemode="tozero", row=1, col=col)
    figure.update_layout(height=340, showlegend=False, margin=dict(l=10, r=10, t=30, b=10))
    return figure


def comparison_table(report: dict[str, Any]):
    import pandas as pd

    return pd.DataFrame([{
        "variant": r["variant"], "file": r["file"], "accuracy": f"{r['accuracy']:.2%}",
        "size": human_bytes(r["bytes"]), "batch 1 (ms)": round(r["batch1_ms"], 3),
        "batch 256 (ms)": round(r["batch256_ms"], 1)} for r in report["rows"]])


def model_results(name: str) -> None:
    """Evaluation, export and quantization figures, comparison of one registered model."""
    try:
        card = registry.read_card(name)
    except MdrError as e:
        st.error(str(e), icon=":material/warning:")
        return
    evaluation_tab, export_tab, compare_tab = st.tabs(["Evaluation", "Export and quantization",
                                                       "Comparison"])
    with evaluation_tab:
        try:
            result = _evaluation(name, "int8", _stamp(name))
        except MdrError as e:
            st.error(f"{e} The model in use is not affected.", icon=":material/warning:")
            result = None
        if result is not None:
            cols = st.columns(4)
            cols[0].metric("Test accuracy (int8)", percent(result["accuracy"]),
                           help=f"{result['n']:,} MNIST test digits, never seen in training.")
            cols[1].metric("Misread", f"{len(result['misclassified']):,} of {result['n']:,}")
            canvas = modelops.saved_canvas_accuracy(name)
            cols[2].metric("Canvas-like numbers", percent(canvas["overall"]) if canvas else "—",
                           help="Share of whole numbers drawn like on the canvas that are read exactly right.")
            val = (card.get("metrics") or {}).get("val_accuracy")
            cols[3].metric("Validation accuracy", percent(val))
            left, right = st.columns(2)
            with left:
                st.markdown("**Accuracy per digit**")
                st.plotly_chart(per_class_chart(result["per_class"]), width="stretch",
                                config={"displayModeBar": False})
            with right:
                st.markdown("**Confusion matrix** (rows: true digit)")
                st.plotly_chart(confusion_figure(result["confusion"]), width="stretch",
                                config={"displayModeBar": False})
            finetune_report(card, key=f"results_{name}")
            strip_report(card, key=f"results_{name}")
            st.markdown("**Misread test digits**, most confident mistakes first")
            misclassified_gallery(result["misclassified"])
            st.markdown("**Canvas-like numbers** (MNIST test digits drawn into whole numbers, exact reading)")
            if canvas:
                import pandas as pd

                st.dataframe(pd.DataFrame([{"condition": c, "numbers": v["n"], "read exactly": f"{v['exact_rate']:.0%}",
                                            "digits right": f"{v['digit_rate']:.0%}"}
                                           for c, v in canvas["conditions"].items()]), hide_index=True)
            if st.button("Measure" if not canvas else "Measure again", key=f"canvas_{name}",
                         icon=":material/draw:"):
                with st.spinner("Reading canvas-like numbers…"):
                    modelops.canvas_accuracy(name)
                st.rerun()
            pen_view.pen_results(name)
    with export_tab:
        outcome = st.session_state.pop(f"{OPERATION_OUTCOME}_{name}", None)
        if outcome:
            st.success(outcome, icon=":material/check_circle:")
        onnx = card.get("onnx") or {}
        sizes = (card.get("files") or {}).get("bytes") or {}
        accuracy = (card.get("metrics") or {}).get("test_accuracy") or {}
        cols = st.columns(3)
        cols[0].metric("ONNX opset", onnx.get("opset", "—"))
        diff = onnx.get("export_max_abs_diff")
        cols[1].metric("Largest difference from torch", f"{diff:.1e}" if isinstance(diff, float) else "—",
                       help="Largest absolute difference of the logits on 500 test digits, ONNX fp32 vs torch.")
        calibration = onnx.get("calibration") or {}
        cols[2].metric("int8 calibration", f"{calibration.get('images', '—')} digits, {calibration.get('method', '—')}")
        import pandas as pd

        st.dataframe(pd.DataFrame([{"precision": p, "file": f, "test accuracy": percent(accuracy.get(p)),
                                    "size": human_bytes(sizes[f]) if f in sizes else "—"}
                                   for p, f in registry.ONNX_FILES.items()]), hide_index=True)
        st.caption(f"int8 format: {onnx.get('int8_format', '—')}.")
        rebuild_controls(name, card)
    with compare_tab:
        report = modelops.saved_comparison(name)
        if report:
            st.dataframe(comparison_table(report), hide_index=True)
            st.plotly_chart(comparison_figure(report), width="stretch", config={"displayModeBar": False})
            st.caption(f"Latency: median of {report['repeats']} runs on {report['threads']} CPU thread, "
                       f"measured {report['measured']}.")
        else:
            st.info("Not measured yet.", icon=":material/info:")
        if st.button("Measure" if not report else "Measure again", key=f"compare_{name}", icon=":material/speed:"):
            with st.spinner("Measuring accuracy and speed of the four variants…"):
                try:
                    modelops.compare(name)
                except MdrError as e:
                    st.error(str(e), icon=":material/warning:")
                    return
            st.rerun()
