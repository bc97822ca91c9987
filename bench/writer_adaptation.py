"""Does a fine-tune on one person's corrections teach the recognizer that person's handwriting?

For each evaluation writer of the pen-digits split, their digits of each label are dealt
alternately into two halves. The person "teaches" with numbers written from the first half:
each is read by the active model and saved with its true number in a corrections store of
its own (as the Recognize page saves them), and the active model is fine-tuned on that store
with the Train page's defaults (:func:`mdr.models.finetune.finetune_config`), into a models
folder of its own. Then fresh numbers of both halves are read before and after: the first
half's (the digits it trained on, in other numbers) and the second half's (the same person's
other drawings of the same digits, never trained on). A fine-tune that learned the person's
habits reads the second half better; one that learned single drawings reads only the first.

    python -m bench.writer_adaptation --teach 30 --test 150
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.common import models_of_its_own, table


def halves(digits: list, writer: int) -> tuple[list, list]:
    """The writer's digits of each label, dealt alternately (file order) into two halves."""
    first, second = [], []
    for label in range(10):
        own = sorted((d for d in digits if d.writer == writer and d.label == label), key=lambda d: d.index)
        for k, digit in enumerate(own):
            (first if k % 2 == 0 else second).append(digit)
    return first, second


def exact_rate(recognizer, samples: list) -> float:
    return float(np.mean([recognizer.recognize(s.image).number == s.number for s in samples]))


def adapt_one(writer: int, first: list, second: list, base: str, base_dir: Path, teach: int, test: int,
              train_size: int | None, teach_touching: int = 0, strip_steps: int | None = None) -> dict:
    """Teach with ``teach`` spaced and ``teach_touching`` touching numbers of the ``first`` half, then
    read ``test`` numbers of each half."""
    from mdr.corrections.store import CorrectionStore, png_bytes
    from mdr.data.pen import PenBank, make_pen_set
    from mdr.models.finetune import finetune_config
    from mdr.models.publish import train_and_publish
    from mdr.recognition.recognizer import Recognizer

    started = time.perf_counter()
    with models_of_its_own(base_dir, "mdr-adapt-"):
        before = Recognizer(base)
        store, misread = CorrectionStore(), 0
        taught = make_pen_set("spaced", teach, 101, PenBank(first))
        if teach_touching:
            taught += make_pen_set("touching", teach_touching, 103, PenBank(first))
        for sample in taught:
            recognition = before.recognize(sample.image)
            misread += recognition.number != sample.number
            store.add_recognition(recognition, png_bytes(sample.image), sample.number)
        options = {} if train_size is None else {"train_size": train_size}
        if strip_steps is not None:
            options["corrections_strip_steps"] = strip_steps
        _, card = train_and_publish(finetune_config(base, **options), "personal", command="bench",
                                    activate=False, pen_check_n=0)
        after = Recognizer("personal")
        strip = (card.get("strip_reader") or {}).get("finetune") or {}
        row = {"writer": writer, "teach_numbers": len(taught), "teach_misread": misread,
               "strips_taught": strip.get("strips", 0), "touching_strips_taught": strip.get("touching strips", 0),
               "labelled_digits": sum(len(c.digits) for c in store.list()),
               "mnist_int8_after": ((card.get("metrics") or {}).get("test_accuracy") or {}).get("int8")}
        for name, half in (("taught", first), ("other", second)):
            for condition in ("spaced", "touching"):
                samples = make_pen_set(condition, test, 202, PenBank(half))
                row[f"{name} {condition}"] = [exact_rate(before, samples), exact_rate(after, samples)]
    row["seconds"] = time.perf_counter() - started
    return row


MIN_LABELS = 8
"""A writer is taught only when both halves hold at least this many of the ten digits."""
COLUMNS = ("taught spaced", "taught touching", "other spaced", "other touching")


def report(rows: list[dict], base: str, teach: int, test: int, touching: int = 0) -> str:
    def pair(values: list[float]) -> str:
        return f"{values[0]:.1%} -> {values[1]:.1%}"

    lines = [[str(r["writer"]), f"{r['teach_misread']} of {r['teach_numbers']}", str(r["labelled_digits"]),
              str(r.get("strips_taught", 0))]
             + [pair(r[c]) for c in COLUMNS] for r in rows]
    means = {c: [float(np.mean([r[c][0] for r in rows])), float(np.mean([r[c][1] for r in rows]))]
             for c in COLUMNS}
    lines.append(["**mean**", "", "", ""] + [pair(means[c]) for c in COLUMNS])
    taught = f"{teach} spaced" + (f" and {touching} touching" if touching else "")
    return (f"Writers taught one by one: {taught} numbers of the first half of their digits saved as "
            f"corrections, `{base}` fine-tuned on them (the Train page's defaults); {test} numbers per half "
            "and condition read before -> after (exact). taught: other numbers made of the digits it "
            "trained on; other: the same writer's other drawings of each digit.\n\n"
            + table(["writer", "misread while teaching", "labelled digits", "strips for the strip reader"]
                    + list(COLUMNS), lines))


def main(argv: list[str] | None = None) -> dict:
    from mdr.data.pen import cached_pen, digits_of, split_writers
    from mdr.models import registry

    parser = argparse.ArgumentParser(prog="python -m bench.writer_adaptation", description=__doc__.split("\n")[0])
    parser.add_argument("--teach", type=int, default=30, help="Numbers each writer saves as corrections.")
    parser.add_argument("--touching", type=int, default=0,
                        help="Touching numbers each writer also saves as corrections (default: 0).")
    parser.add_argument("--strip-steps", type=int,
                        help="Batches that teach the strip reader (default: the Train page's; 0: not taught).")
    parser.add_argument("--test", type=int, default=150, help="Numbers read per half and condition.")
    parser.add_argument("--writers", type=int, nargs="*", help="Evaluation writers to teach (default: all).")
    parser.add_argument("--train-size", type=int, help="MNIST digits in the fine-tune (default: the Train page's).")
    parser.add_argument("--json", type=Path, help="Also write the rows here.")
    args = parser.parse_args(argv)
    pen = cached_pen(None)
    eval_writers = split_writers(pen.writers).eval
    digits = digits_of(pen, eval_writers)
    base = registry.active_model_name()
    base_dir = registry.model_dir(base)
    rows = []
    for writer in args.writers or eval_writers:
        if writer not in eval_writers:
            parser.error(f"writer {writer} is not an evaluation writer ({', '.join(map(str, eval_writers))}).")
        first, second = halves(digits, writer)
        if min(len({d.label for d in half}) for half in (first, second)) < MIN_LABELS:
            print(f"writer {writer}: skipped, fewer than {MIN_LABELS} digits drawn twice or more")
            continue
        rows.append(adapt_one(writer, first, second, base, base_dir, args.teach, args.test, args.train_size,
                              args.touching, args.strip_steps))
        print(json.dumps(rows[-1]), flush=True)
    print(report(rows, base, args.teach, args.test, args.touching))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return {"rows": rows}


if __name__ == "__main__":
    main()
