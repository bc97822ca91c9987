"""``python -m bench.writer_adaptation`` at a small size: one writer taught through the corrections
store and a real fine-tune, both halves read before and after, the real models/ untouched."""
from __future__ import annotations

import json
from collections import Counter

from bench.writer_adaptation import halves, main


def test_a_writers_digits_are_dealt_into_two_halves_of_each_label():
    from mdr.data.pen import cached_pen, digits_of, split_writers

    pen = cached_pen(None)
    writer = split_writers(pen.writers).eval[0]
    digits = digits_of(pen, (writer,))
    first, second = halves(digits, writer)
    assert not {d.index for d in first} & {d.index for d in second}
    assert len(first) + len(second) == len(digits)
    a, b = Counter(d.label for d in first), Counter(d.label for d in second)
    assert all(a[label] - b[label] in (0, 1) for label in range(10))


def test_one_writer_is_taught_and_both_halves_are_read_before_and_after(tmp_path):
    from mdr.data.pen import cached_pen, split_writers
    from mdr.models import registry

    models_before = sorted(registry.list_models())
    writer = split_writers(cached_pen(None).writers).eval[0]
    out = tmp_path / "rows.json"
    result = main(["--teach", "6", "--test", "3", "--writers", str(writer), "--train-size", "600",
                   "--json", str(out)])
    (row,) = result["rows"]
    assert row["writer"] == writer and row["teach_numbers"] == 6 and row["labelled_digits"] > 0
    for column in ("taught spaced", "taught touching", "other spaced", "other touching"):
        before, after = row[column]
        assert 0.0 <= before <= 1.0 and 0.0 <= after <= 1.0
    assert json.loads(out.read_text()) == result["rows"]
    assert sorted(registry.list_models()) == models_before  # the fine-tune went into a folder of its own
