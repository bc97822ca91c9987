"""The registered models on the Train page: the table (activate, download files), and a model
exported or quantized again.

An export or quantization rewrites a model's files in place, so only one runs at a time in
the process, and never on the model a training run is about to replace.
"""
from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from mdr.app import jobs
from mdr.app.model_card import human_bytes, percent
from mdr.app.strip_view import CUT_SEARCH, STRIP_READER
from mdr.errors import MdrError
from mdr.models import operations as modelops
from mdr.models import registry


# --------------------------------------------------------------------------
# Export and quantize a registered model again
# --------------------------------------------------------------------------
OPERATION_OUTCOME = "train_rebuild_outcome"
MAX_CALIBRATION = 10_000
_OPERATION = threading.Lock()  # one export or quantization at a time in this process


def _clamp(value: Any, low: int, high: int, default: int) -> int:
    return min(max(int(value), low), high) if isinstance(value, (int, float)) and value == value else default


def rebuild_controls(name: str, card: dict[str, Any]) -> None:
    """Export model.pt to ONNX again (opset), or quantize model.onnx to int8 again (calibration)."""
    from mdr.training.export import CALIBRATION_METHODS, DEFAULT_OPSET, MAX_OPSET, MIN_OPSET

    onnx = card.get("onnx") or {}
    calibration = onnx.get("calibration") or {}
    methods = list(CALIBRATION_METHODS)
    method = calibration.get("method") if calibration.get("method") in methods else methods[0]
    no_checkpoint = not (registry.model_dir(name) / registry.CHECKPOINT).is_file()
    if no_checkpoint:
        st.warning(f"Model '{name}' has no {registry.CHECKPOINT} (its torch checkpoint), so it cannot be exported "
                   "or quantized again. Its files stay as they are.", icon=":material/warning:")
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**Export to ONNX again**")
        opset = st.number_input("ONNX opset", MIN_OPSET, MAX_OPSET, step=1, key=f"reexport_opset_{name}",
                                value=_clamp(onnx.get("opset"), MIN_OPSET, MAX_OPSET, DEFAULT_OPSET),
                                help=f"{MIN_OPSET} to {MAX_OPSET}: int8 quantization needs {MIN_OPSET} or later, "
                                     f"and torch's exporter goes up to {MAX_OPSET}.")
        st.caption(f"Writes {registry.ONNX_FILES['fp32']} again from {registry.CHECKPOINT}, checks it against "
                   "torch and measures its test accuracy. The int8 files stay as they are until you quantize "
                   "again.")
        if st.button("Export to ONNX", key=f"reexport_{name}", icon=":material/upload_file:",
                     disabled=no_checkpoint):
            _rebuild(name, f"Exporting '{name}' to ONNX (opset {opset}) and measuring it on the 10,000 MNIST "
                           "test digits…", lambda: modelops.reexport(name, opset=int(opset)), _exported)
    with right.container(border=True):
        st.markdown("**Quantize to int8 again**")
        columns = st.columns(2)
        size = columns[0].number_input("Calibration images", 1, MAX_CALIBRATION, step=100,
                                       key=f"requantize_size_{name}",
                                       value=_clamp(calibration.get("images"), 1, MAX_CALIBRATION, 500),
                                       help="MNIST training digits (never test digits) that set the int8 ranges.")
        method = columns[1].selectbox("Calibration method", methods, index=methods.index(method),
                                      key=f"requantize_method_{name}",
                                      help="minmax: the full range seen; percentile and entropy clip rare "
                                           "extremes.")
        st.caption(f"Writes {registry.ONNX_FILES['int8']} (static) and {registry.ONNX_FILES['int8-dynamic']} "
                   f"again from {registry.ONNX_FILES['fp32']}, then measures their test accuracy.")
        if st.button("Quantize to int8", key=f"requantize_{name}", icon=":material/compress:",
                     disabled=no_checkpoint):
            _rebuild(name, f"Quantizing '{name}' to int8 ({size:,} calibration digits, {method}) and measuring "
                           "it on the 10,000 MNIST test digits…",
                     lambda: modelops.requantize(name, calibration_size=int(size), method=method), _quantized)
    st.caption(f"From the command line: `python -m mdr export --model {name} --opset N`, "
               f"`python -m mdr quantize --model {name} --calibration-size N --calibration-method M`.")


def _exported(card: dict[str, Any], active: bool) -> str:
    onnx, accuracy = card["onnx"], card["metrics"]["test_accuracy"]
    return (f"Exported {registry.ONNX_FILES['fp32']} (opset {onnx['opset']}): largest difference from torch "
            f"{onnx['export_max_abs_diff']:.1e}; test accuracy fp32 {percent(accuracy.get('fp32'))}. "
            "The int8 files are unchanged: quantize again to rebuild them from it.")


def _quantized(card: dict[str, Any], active: bool) -> str:
    calibration, accuracy = card["onnx"]["calibration"], card["metrics"]["test_accuracy"]
    size = (card.get("files") or {}).get("bytes", {}).get(registry.ONNX_FILES["int8"])
    return (f"Quantized with {calibration['images']:,} calibration digits ({calibration['method']}): "
            f"int8 {percent(accuracy.get('int8'))} (fp32 {percent(accuracy.get('fp32'))})"
            + (f", {human_bytes(size)}." if size else ".")
            + (" It is the active model: Recognize and Pipeline read with the new int8 file from now on."
               if active else ""))


def _rebuild(name: str, doing: str, operation, describe) -> None:
    """Run ``operation`` (re-export or re-quantize) under a spinner; keep the outcome for the rerun."""
    snap = jobs.snapshot()
    if snap is not None and snap.active and snap.name == name:
        st.error(f"A training run is building a new '{name}' right now, and its folder is replaced when the "
                 "run ends. Export or quantize after the run. Nothing was changed.", icon=":material/warning:")
        return
    if not _OPERATION.acquire(blocking=False):
        st.error("Another export or quantization is running in this app; try again when it is done. "
                 "Nothing was changed.", icon=":material/hourglass_top:")
        return
    try:
        with st.spinner(doing):
            card = operation()
    except (MdrError, ValueError, OSError) as e:
        st.error(f"{e} The model in use is not affected.", icon=":material/error:")
        return
    finally:
        _OPERATION.release()
    st.session_state[f"{OPERATION_OUTCOME}_{name}"] = describe(card, name == registry.active_model_name())
    st.rerun()  # the figures above come from the card and files just written


# --------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------
def activate(name: str) -> None:
    """Button callback: activate after checking the model loads; a failure is kept for the page."""
    try:
        modelops.activate(name)
        st.session_state["train_activation"] = ("ok", f"'{name}' is now the active model: Recognize and "
                                                      "Pipeline use it from now on.")
    except MdrError as e:
        st.session_state["train_activation"] = ("error", f"{e} The active model is still "
                                                         f"'{registry.active_model_name()}'.")


def registry_table() -> None:
    outcome = st.session_state.pop("train_activation", None)
    if outcome:
        (st.success if outcome[0] == "ok" else st.error)(outcome[1])
    rows = modelops.model_rows()
    if not rows:
        st.info("No models are registered.")
        return
    widths = [3, 2, 2, 2, 2, 2, 2, 3, 3]
    header = st.columns(widths)
    for column, title in zip(header, ["model", "int8 accuracy", "fp32 accuracy", "int8 size", "trained"]):
        column.markdown(f"**{title}**")
    header[5].markdown("**touching digits**", help=f"How the model reads a part that may hold touching digits: "
                                                   f"a **{STRIP_READER}** reads it whole as a string; the "
                                                   f"**{CUT_SEARCH}** tries cuts and reads each piece.")
    header[6].markdown("**real writing**", help="Real handwriting: numbers by writers no shipped model trained "
                                                "on, read exactly (all conditions), as last measured under "
                                                "**Results of a model**; — when not measured.")
    for row in rows:
        name = row["name"]
        columns = st.columns(widths, vertical_alignment="center")
        label = f"**{name}**" + (" · :green-badge[active]" if row["active"] else "")
        if name == registry.SHIPPED_MODEL:
            label += " · :gray-badge[shipped]"
        columns[0].markdown(label + (f"  \n:red[{row['problem']}]" if row["problem"] else ""))
        columns[1].markdown(percent(row["acc_int8"]))
        columns[2].markdown(percent(row["acc_fp32"]))
        columns[3].markdown(human_bytes(row["int8_bytes"]) if row["int8_bytes"] else "—")
        columns[4].markdown((row["created"] or "—")[:10])
        columns[5].markdown(f":blue-badge[{STRIP_READER}]" if row.get("strip") else CUT_SEARCH)
        columns[6].markdown(percent(row.get("pen_exact")))
        columns[7].button("Activate", key=f"activate_{name}", on_click=activate, args=(name,),
                          disabled=row["active"], icon=":material/power_settings_new:",
                          help="Recognize and Pipeline switch to this model; no restart needed.")
        with columns[8].popover("Files", icon=":material/download:"):
            folder = registry.model_dir(name)
            for filename in [*registry.ONNX_FILES.values(), *registry.STRIP_FILES.values(), registry.CARD]:
                path = folder / filename
                if path.is_file():
                    st.download_button(filename, data=path.read_bytes, file_name=f"{name}-{filename}",
                                       key=f"download_{name}_{filename}", on_click="ignore",
                                       mime="application/json" if filename.endswith(".json")
                                       else "application/octet-stream")
