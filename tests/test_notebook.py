"""notebooks/training.ipynb runs from top to bottom on a tiny configuration, into a private models folder."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from mdr.models import registry

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "training.ipynb"


def test_stored_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "commit the notebook without outputs"


def test_notebook_runs_on_a_tiny_configuration(tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    (models / "active.json").write_text(json.dumps({"name": registry.SHIPPED_MODEL}))
    for key, value in {"MDR_MODELS_DIR": str(models), "MDR_NB_TRAIN_SIZE": "2000", "MDR_NB_EPOCHS": "1",
                       "MDR_NB_ARCH": "cnn-small", "MDR_NB_NAME": "nb-test", "MDR_NB_CANVAS_N": "3"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MDR_DATA_DIR", str(Path(os.environ["MDR_DATA_DIR"]).resolve()))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    assert (models / "nb-test" / "model.int8.onnx").is_file()
    assert (models / "nb-test" / "comparison.json").is_file()
    assert json.loads((models / "active.json").read_text())["name"] == registry.SHIPPED_MODEL
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
