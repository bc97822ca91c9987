"""Bench section 6: the recognizer and the original pipeline on real handwriting.

The same report as ``python -m mdr pen-eval`` (:mod:`mdr.evaluation.pen_eval`),
on the active model's int8 file, numbers composed from the evaluation
writers of the committed pen-digits copy.
"""
from __future__ import annotations


def bench_pen(sizes, data_dir) -> tuple[str, dict]:
    from mdr.evaluation.pen_eval import PenEvalSettings, report_dict, run_pen_eval, to_markdown

    report = run_pen_eval(PenEvalSettings(n=sizes.pen_n, seed=0))
    text = to_markdown(report) + (
        "\n\nBaseline (original): the original app's pipeline on the same model file and images. "
        "Images: `mdr.data.pen` (pen trajectories stroked at brush 8-24 px, digits 60-160 px, on the app's "
        f"900x300 canvas), {sizes.pen_n} numbers per condition. `python -m mdr pen-eval` prints the same table.")
    return text, report_dict(report)
