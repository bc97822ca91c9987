"""Bench section 9: a fine-tune on 200 corrections, end to end, and what it changed.

The corrections are numbers written by pen-digits *training* writers (never the evaluation
writers that the before/after check reads), read by the active model and saved with their
true numbers in a store of their own, as a person would save them on the Recognize page.
The fine-tune (:func:`mdr.models.finetune.finetune_config`, the defaults the Train page and
``python -m mdr train --corrections`` use) registers into a models folder of its own, so
the real models/ is never touched. Each phase is timed from the run's own status messages.
"""
from __future__ import annotations

import os
import time

import numpy as np

from bench.common import models_of_its_own, table

TARGET_SECONDS = 60.0


def save_corrections(count: int, seed: int = 3) -> int:
    """``count`` spaced pen numbers of training writers, read and saved with their true numbers."""
    from mdr.corrections.store import CorrectionStore, png_bytes
    from mdr.data.pen import make_pen_set, pen_bank
    from mdr.recognition.recognizer import Recognizer

    recognizer, store = Recognizer(), CorrectionStore()
    for sample in make_pen_set("spaced", count, seed, pen_bank(writers="train")):
        store.add_recognition(recognizer.recognize(sample.image), png_bytes(sample.image), sample.number)
    return sum(len(c.digits) for c in store.list())


def timed_finetune(base: str, name: str, pen_check_n: int) -> tuple[dict[str, float], dict]:
    """One fine-tune of ``base``; seconds per phase and the new card."""
    from mdr.models.finetune import finetune_config
    from mdr.models.publish import train_and_publish

    marks = {"start": time.perf_counter()}
    cpu_start = time.process_time()

    def on_status(message: str) -> None:
        if message.startswith("Exporting") and "trained" not in marks:
            marks["trained"] = time.perf_counter()
        if message.startswith("Cutting") and "strip" not in marks:
            marks["strip"] = time.perf_counter()
        if message.startswith("Measuring the model before and after"):
            marks["published"] = time.perf_counter()

    _, card = train_and_publish(finetune_config(base), name, command="bench", activate=False,
                                on_status=on_status, pen_check_n=pen_check_n)
    end = time.perf_counter()
    classifier_done = marks.get("strip", marks["published"])
    seconds = {"training": marks["trained"] - marks["start"],
               "export, quantize, MNIST test": classifier_done - marks["trained"],
               **({"strip reader: cut, teach, export": marks["published"] - marks["strip"]} if "strip" in marks else {}),
               "fine-tune total": marks["published"] - marks["start"],
               "before/after check": end - marks["published"],
               "cpu": time.process_time() - cpu_start}
    return seconds, card


def bench_finetune(sizes, data_dir) -> tuple[str, dict]:
    from mdr.models import registry

    base = registry.active_model_name()
    with models_of_its_own(registry.model_dir(base), "mdr-bench-finetune-"):
        digits = save_corrections(sizes.finetune_corrections)
        runs = [timed_finetune(base, f"bench-finetune-{k}", sizes.finetune_pen_n if k == 0 else 0)
                for k in range(sizes.finetune_runs)]
    phases = list(runs[0][0])
    medians = {p: float(np.median([r[0][p] for r in runs])) for p in phases}
    rows = [[p, f"{medians[p]:.1f}", " / ".join(f"{r[0][p]:.1f}" for r in runs),
             f"{medians[p] / TARGET_SECONDS:.2f}x" if p == "fine-tune total" else ""] for p in phases]
    card = runs[0][1]
    report, record = card["finetune"], card["data"]["corrections"]
    before, after = report["before"], report["after"]

    def pct(v, d=1):
        return "—" if v is None else f"{v:.{d}%}"

    checks = [[f"held-out drawings ({report['heldout_drawings']}): exact", pct(before["heldout"]["exact"]),
               pct(after["heldout"]["exact"])],
              ["held-out drawings: per digit", pct(before["heldout"]["digits"]), pct(after["heldout"]["digits"])],
              ["MNIST test, int8", pct(before["mnist_int8"], 2), pct(after["mnist_int8"], 2)]]
    if "pen" in before:
        checks += [[f"pen numbers of evaluation writers ({report['pen_numbers']}): exact",
                    pct(before["pen"]["exact"]), pct(after["pen"]["exact"])],
                   ["pen numbers: per digit", pct(before["pen"]["digits"]), pct(after["pen"]["digits"])]]
    text = (
        f"{sizes.finetune_corrections} corrections ({digits} labelled digits; {len(record['train_drawings'])} "
        f"drawings trained, {len(record['heldout_drawings'])} held out), fine-tuning `{base}` with the Train "
        f"page's defaults (1 epoch, {card['config']['train_size']:,} MNIST digits, correction digits repeated "
        f"{record['repeats']}x to a quarter of the images, torch on all {os.cpu_count()} cores). "
        + (f"The model's strip reader is taught too ({card['config']['corrections_strip_steps']} steps, "
           f"{(card.get('strip_reader') or {}).get('finetune', {}).get('strips', 0)} strips of the drawings). "
           if (card.get("strip_reader") or {}).get("finetune") else "")
        + f"{sizes.finetune_runs} run(s); target: the fine-tune (training, export, quantization, MNIST test) "
        f"under {TARGET_SECONDS:.0f} s.\n\n"
        + table(["phase", "median s", "each run s", "vs 60 s"], rows)
        + "\n\n`cpu`: CPU seconds of the process (both cores count). Before and after (first run):\n\n"
        + table(["measure", f"before ({base})", "after"], checks))
    return text, {"seconds": medians, "runs": [r[0] for r in runs], "report": report, "corrections": record,
                  "card_sections": sorted(card), "strip_reader": (card.get("strip_reader") or {}).get("finetune")}
