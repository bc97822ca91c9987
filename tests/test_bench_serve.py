"""``python -m bench.serve_load`` at a small size: a real server, concurrent clients, a markdown table.

Only the report's shape and the absence of errors are checked, never the timings.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.report import split_sections

ROOT = Path(__file__).resolve().parent.parent


def test_serve_load_benchmark_reports_both_phases_without_errors(tmp_path):
    out = tmp_path / "serve.md"
    done = subprocess.run([sys.executable, "-m", "bench.serve_load", "--clients", "4", "--requests", "3",
                           "--single", "5", "--workers", "1", "--per-condition", "1", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    _, sections = split_sections(out.read_text())
    text = sections["7. HTTP API under load"]
    assert text in done.stdout
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| one client") or line.startswith("| 4 clients")]
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [("one client", "1", "5", "0"), ("4 clients", "4", "12", "0")]
    for row in rows:
        assert float(row[6]) > 0 and float(row[7]) <= float(row[8]) <= float(row[9])
