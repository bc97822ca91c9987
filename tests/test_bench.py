"""``python -m bench --quick`` as a smoke test: every section's table is produced.

Only the shape of the report is checked (sections, rows, numbers that parse),
never the timings: those depend on the machine and its load.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mdr.data.pen import PEN_CONDITIONS
from mdr.data.synth import CONDITIONS

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ["MDR_DATA_DIR"])
NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?(%|x| / -?[\d.]+)?$")


def rows_of(section: str, first_cell: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith(f"| {first_cell}")]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not (DATA / "t10k-images-idx3-ubyte").exists() and not (DATA / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST not found in {DATA}")
    folder = tmp_path_factory.mktemp("bench")
    out, figures = folder / "results.md", folder / "results.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out), "--json", str(figures)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1500,
                          env={**os.environ, "MDR_DATA_DIR": str(DATA)})
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    sections = dict(re.findall(r"^## (\d)\. [^\n]*\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    return text, sections, json.loads(figures.read_text()), done.stdout


def test_every_section_is_written(report):
    text, sections, figures, stdout = report
    assert text.startswith("# Benchmarks (quick)")
    assert sorted(sections) == ["1", "2", "3", "4", "5", "6", "9"]
    assert set(figures) == {"accuracy", "latency", "throughput", "training", "memory", "pen", "finetune"}
    assert "## 1. Recognition accuracy" in stdout  # printed as well as written
    model = json.loads((ROOT / "models" / "active.json").read_text())["name"]
    for number, body in sections.items():
        assert re.search(rf"_\(model `{re.escape(model)}`, \d{{4}}-\d\d-\d\d, \d+ s\)_\s*$", body), number


def test_a_run_of_some_sections_keeps_the_header_and_the_other_sections(tmp_path):
    out = tmp_path / "results.md"
    out.write_text("# Benchmarks\n\nA header of its own.\n\n## 1. Recognition accuracy on canvas-like numbers\n\n"
                   "kept\n\n## 5. Peak memory\n\nold\n")
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--sections", "memory", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MDR_DATA_DIR": str(DATA)})
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nA header of its own.") and "\nkept\n" in text
    assert "\nold\n" not in text and "## 5. Peak memory" in text


def test_accuracy_table_has_every_condition(report):
    _, sections, _, _ = report
    for condition in list(CONDITIONS) + ["**all**"]:
        (row,) = rows_of(sections["1"], condition + " ")
        assert len(row) == 12
        assert all(NUMBER.match(cell) for cell in row[1:]), row


def test_latency_table_has_each_canvas_and_stage_split(report):
    _, sections, figures, _ = report
    for image in ("600x250, 1 digit", "600x250, 4 digits", "600x250, 8 digits", "1600x1200 upload",
                  "900x300 pen, 4 touching"):
        rows = rows_of(sections["2"], image)
        assert len(rows) == 2, image  # the timing row and the stage row
        timing = rows[0]
        assert all(NUMBER.match(cell) for cell in timing[4:]), timing
    assert "classify" in sections["2"] and "components" in sections["2"]
    for case in figures["latency"].values():
        assert case["recognizer_ms"][0] > 0 and case["baseline_ms"][0] > 0


def test_throughput_table_has_the_four_runners(report):
    _, sections, _, _ = report
    for model in ("torch fp32", "ONNX fp32", "ONNX int8 static", "ONNX int8 dynamic"):
        rows = rows_of(sections["3"], model + " ")
        assert len(rows) == 2, model  # digits/s row and time-per-batch row
        assert all(NUMBER.match(cell) for cell in rows[0][1:]), rows[0]


def test_training_and_memory_tables(report):
    _, sections, figures, _ = report
    epochs = rows_of(sections["4"], "cpu | 1")
    assert epochs and NUMBER.match(epochs[0][2]) and NUMBER.match(epochs[0][4])
    assert rows_of(sections["4"], "cpu | **to 99.0%**")
    shipped = rows_of(sections["4"], "cpu | cnn")
    assert shipped and NUMBER.match(shipped[0][2])
    recognize, training = rows_of(sections["5"], "recognize only"), rows_of(sections["5"], "training")
    assert recognize and training
    assert NUMBER.match(recognize[0][1]) and NUMBER.match(training[0][1])
    assert figures["memory"]["recognize"]["torch_loaded"] is False
    assert figures["memory"]["training"]["torch_loaded"] is True


def test_pen_table_has_every_condition_and_the_touching_share(report):
    _, sections, figures, _ = report
    for condition in list(PEN_CONDITIONS) + ["**all**"]:
        (row,) = [r for r in rows_of(sections["6"], condition + " ") if len(r) == 11]
        assert all(NUMBER.match(cell) for cell in row[1:]), row
    for condition in PEN_CONDITIONS:  # the writer intervals
        (row,) = [r for r in rows_of(sections["6"], condition + " ") if len(r) == 4]
        low, high = (float(v.rstrip("%")) for v in row[3].split("-"))
        assert low <= float(row[1].rstrip("%")) <= high, row
    assert "really touch" in sections["6"]
    assert figures["pen"]["touching"]["pairs"] > 0


def test_finetune_section_times_each_phase_and_compares_before_and_after(report):
    _, sections, figures, _ = report
    for phase in ("training", "export, quantize, MNIST test", "fine-tune total", "before/after check"):
        (row,) = rows_of(sections["9"], phase + " ")
        assert NUMBER.match(row[1]) and float(row[1]) > 0, row
    assert rows_of(sections["9"], "fine-tune total ")[0][3].endswith("x")
    (mnist,) = rows_of(sections["9"], "MNIST test, int8 ")
    assert all(NUMBER.match(cell) for cell in mnist[1:]), mnist
    finetune = figures["finetune"]
    assert finetune["corrections"]["drawings"] == 12 and finetune["report"]["heldout_drawings"] >= 1
    seconds = finetune["runs"][0]
    strip = "strip reader: cut, teach, export"
    assert (strip in seconds) == ("strip_reader" in figures["finetune"]["card_sections"])
    assert seconds["fine-tune total"] == pytest.approx(seconds["training"] + seconds["export, quantize, MNIST test"]
                                                       + seconds.get(strip, 0.0))
