"""``python -m bench --sections ... --update`` keeps the sections it did not run."""
from __future__ import annotations

from bench.report import NOTE_START, merge

OLD = """# Benchmarks

Machine: x.

## 1. One

old one

_(1 s)_

## 2. Two

old two

Total: 9 s.
"""


def test_update_replaces_only_the_sections_run_and_keeps_the_rest():
    text = merge(OLD, {2: "## 2. Two\n\nnew two\n"}, NOTE_START + "today: section 2.")
    assert "old one" in text and "new two" in text and "old two" not in text
    assert text.index("## 1.") < text.index("## 2.") and text.count("## 2.") == 1
    assert text.rstrip().endswith("Total: 9 s. (the run named above)")


def test_a_new_section_goes_in_its_numbered_place_and_the_note_is_not_repeated():
    once = merge(OLD, {6: "## 6. Six\n\nsix\n"}, NOTE_START + "first.")
    twice = merge(once, {6: "## 6. Six\n\nsix again\n"}, NOTE_START + "second.")
    assert twice.index("## 2.") < twice.index("## 6.") and "six again" in twice
    assert NOTE_START + "second." in twice and NOTE_START + "first." not in twice
    assert twice.count("Total:") == 1
