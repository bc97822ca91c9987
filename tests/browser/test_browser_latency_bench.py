"""``python -m bench.browser_latency`` at its smallest: both modes measured, every number read."""
from __future__ import annotations

import os
import subprocess
import sys

from bench.report import split_sections
from bench.browser_latency import TITLE
from conftest import PROJECT_ROOT


def test_the_browser_latency_benchmark_measures_both_modes(tmp_path, chromium_path):
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "bench.browser_latency", "--drawings", "2", "--out", str(out)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=400,
                          env={**os.environ, "MDR_CHROMIUM": chromium_path})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    _, sections = split_sections(out.read_text())
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in sections[TITLE].splitlines()
            if line.startswith("| read as I draw") or line.startswith("| Recognize button")]
    assert [r[1:3] for r in rows] == [["2", "2"], ["2", "2"]], sections[TITLE]  # drawings, read right
    assert all(float(r[3]) > 0 for r in rows)
