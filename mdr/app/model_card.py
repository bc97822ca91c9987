"""The active model's card at a glance (Home page)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from mdr.app.charts import mistakes_chart, per_class_chart
from mdr.app.reading import start_up
from mdr.errors import MdrError, ModelError
from mdr.models import registry


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
    first[0].metric("Accuracy, int8 (used)", percent(facts["acc_int8"]),
                    help=f"Share of {on} read correctly by the int8 model the app uses.")
    first[1].metric("Accuracy, fp32", percent(facts["acc_fp32"]),
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


def duration(seconds: float | None) -> str:
    """"42 s" or "3:07" (minutes:seconds): how long a run took or has left."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


def percent(value: Any) -> str:
    """A share as a percentage with two decimals; "—" for anything that is not a number (a card
    without the measurement, or one written by hand)."""
    return f"{value:.2%}" if isinstance(value, (int, float)) else "—"
