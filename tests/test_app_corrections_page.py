"""The Corrections page: counts, misread filter, delete, zip export and a checked import,
and each model's score on the stored drawings."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mdr import Recognizer
from mdr.corrections.store import CorrectionStore, png_bytes

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "4_Corrections.py")


@pytest.fixture
def store(tmp_path, monkeypatch, number_png) -> CorrectionStore:
    """Two saved drawings: 4071 read right, and 2057 saved as if 2058 had been written (misread)."""
    import cv2
    import numpy as np

    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path))
    store = CorrectionStore()
    for text, said in (("4071", "4071"), ("2057", "2058")):
        image = cv2.imdecode(np.frombuffer(number_png(text), np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        recognition = Recognizer().recognize(image)
        store.add(image_png=png_bytes(image), true_number=said,
                  read_number=recognition.number, model="mnist-cnn")
    return store


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_counts_and_filters_the_misread_ones(store):
    at = run(AppTest.from_file(PAGE, default_timeout=120))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Saved drawings"] == "2" and metrics["Misread"] == "1"
    assert sum(b.label == "Delete" for b in at.button) == 2
    at.toggle[0].set_value(True)
    run(at)
    assert sum(b.label == "Delete" for b in at.button) == 1


def test_delete_removes_one_correction(store):
    at = run(AppTest.from_file(PAGE, default_timeout=120))
    first = store.list()[0].id
    at.button(key=f"delete_{first}").click()
    run(at)
    assert [c.id for c in store.list()] != [] and first not in [c.id for c in store.list()]


def test_each_model_is_scored_on_the_drawings(store):
    at = run(AppTest.from_file(PAGE, default_timeout=300))
    next(b for b in at.button if b.label.startswith("Measure every model")).click()
    run(at)
    table = at.dataframe[0].value
    assert set(table["model"]) >= {"mnist-cnn"}
    row = table[table["model"] == "mnist-cnn"].iloc[0]
    assert row["exact number"] == 50.0  # 4071 read right; the drawing said to be 2058 reads 2057


def test_a_foreign_zip_is_refused_and_changes_nothing(store):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", '{"format": "something-else"}')
    at = run(AppTest.from_file(PAGE, default_timeout=120))
    at.file_uploader(key="import_zip").set_value(("other.zip", buf.getvalue(), "application/zip"))
    run(at)
    next(b for b in at.button if b.label == "Import").click()
    run(at)
    assert any("Nothing was imported" in e.value for e in at.error)
    assert store.count() == 2
