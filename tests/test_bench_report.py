"""Benchmark commands write their own sections of bench/results.md and keep the others."""
from __future__ import annotations

from bench.report import replace_section, split_sections, write_sections


def test_a_section_is_replaced_in_place_and_the_others_are_kept(tmp_path):
    path = tmp_path / "results.md"
    write_sections(path, {"1. Accuracy": "old accuracy", "2. Latency": "old latency"}, "# Benchmarks\n")
    replace_section(path, "Browser latency", "500 ms")
    write_sections(path, {"1. Accuracy": "new accuracy"}, "# Benchmarks\n\nMachine: two cores.\n")
    header, sections = split_sections(path.read_text())
    assert header.strip() == "# Benchmarks\n\nMachine: two cores."
    assert sections == {"1. Accuracy": "new accuracy", "2. Latency": "old latency", "Browser latency": "500 ms"}
    assert not list(tmp_path.glob("*.tmp"))


def test_a_missing_file_is_started_with_a_heading(tmp_path):
    path = tmp_path / "new" / "results.md"
    replace_section(path, "Browser latency", "| a | b |")
    assert path.read_text().startswith("# Benchmarks\n\n## Browser latency\n\n| a | b |")
