"""The Corrections page's parts: counts, the gallery, zip export/import and each model's score."""
from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from mdr.corrections.scoring import score_model
from mdr.corrections.store import CorrectionStore, CorrectionStoreError
from mdr.models import registry

PER_ROW = 4


def open_store() -> CorrectionStore | None:
    """The store, or None after saying in words why it cannot be read."""
    store = CorrectionStore()
    try:
        store.count()
    except CorrectionStoreError as e:
        st.error(str(e), icon=":material/database:")
        return None
    return store


def summary(store: CorrectionStore) -> list:
    corrections = store.list()
    misread = sum(c.misread for c in corrections)
    cols = st.columns(3)
    cols[0].metric("Saved drawings", len(corrections))
    cols[1].metric("Misread", misread)
    cols[2].metric("Digits with a label", sum(len(c.digits) for c in corrections))
    return corrections


def gallery(store: CorrectionStore, corrections: list) -> None:
    only_misread = st.toggle("Misread only", value=False)
    shown = [c for c in corrections if c.misread or not only_misread]
    if not shown:
        st.info("No corrections yet: save one under a result on the Recognize page.", icon=":material/info:")
        return
    for start in range(0, len(shown), PER_ROW):
        for column, c in zip(st.columns(PER_ROW), shown[start:start + PER_ROW]):
            with column.container(border=True):
                st.image(c.image_png, width="stretch")
                verdict = f"read **{c.read_number or '—'}**" if c.misread else "read right"
                st.markdown(f"#{c.id} · wrote **{c.true_number.replace(chr(10), ' / ')}** · {verdict}")
                st.caption(f"{c.created[:16].replace('T', ' ')} · {c.model or '?'}")
                if st.button("Delete", key=f"delete_{c.id}", icon=":material/delete:"):
                    store.delete(c.id)
                    st.rerun()


def export_import(store: CorrectionStore) -> None:
    left, right = st.columns(2)
    with left:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "corrections.zip"
            count = store.export_zip(path)
            data = path.read_bytes()
        st.download_button(f"Download all ({count}) as a zip", data=data, file_name="mdr-corrections.zip",
                           mime="application/zip", icon=":material/download:", disabled=count == 0)
    with right:
        upload = st.file_uploader("Import a zip of corrections", type=["zip"], key="import_zip")
        if upload is not None and st.button("Import", icon=":material/upload:"):
            try:
                added = store.import_zip(upload.getvalue())
            except CorrectionStoreError as e:
                st.error(f"Nothing was imported: {e}", icon=":material/block:")
            else:
                st.success(f"Imported {added} corrections.", icon=":material/check_circle:")


def model_scores(corrections: list) -> None:
    if not corrections:
        return
    if not st.button("Measure every model on these drawings", icon=":material/analytics:"):
        return
    rows = []
    models = registry.list_models()
    bar = st.progress(0.0, text="Reading the drawings...")
    for k, name in enumerate(models):
        try:
            score = score_model(name, corrections)
        except Exception as e:  # a broken model is a row, not a crash
            rows.append({"model": name, "exact number": None, "per digit": None, "note": str(e)})
        else:
            rows.append({"model": name, "exact number": score.exact * 100,
                         "per digit": None if score.digits is None else score.digits * 100, "note": ""})
        bar.progress((k + 1) / len(models), text=f"Read with {name}")
    bar.empty()
    st.dataframe(rows, hide_index=True, column_config={
        "exact number": st.column_config.ProgressColumn("exact number", format="%.1f%%", min_value=0, max_value=100),
        "per digit": st.column_config.ProgressColumn("per digit", format="%.1f%%", min_value=0, max_value=100),
    })
