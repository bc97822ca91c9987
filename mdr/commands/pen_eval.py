"""``python -m mdr pen-eval``: the recognizer against the original pipeline on real handwriting."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from mdr.commands.options import add_json_option, add_reader_options, fail
from mdr.errors import MdrError


HELP = "accuracy on numbers written by real people (pen-digits), new pipeline vs. the original"
DESCRIPTION = (
    "Compose numbers from the pen trajectories of writers the model was not trained on (one writer "
    "per number), stroke them like a canvas drawing under several conditions, read them with the "
    "recognizer and with the original app's pipeline on the same model, and print exact-number, "
    "digit-count and per-digit accuracy per condition, the share of touching neighbours that touch, "
    "and the digit confusions."
)


def register(subparsers) -> None:
    from mdr.data.pen import PEN_CONDITIONS, PEN_WRITER_GROUPS, VALIDATION_FRACTION, WRITER_SPLIT_SEED

    parser = subparsers.add_parser("pen-eval", help=HELP, description=DESCRIPTION)
    add_reader_options(parser, list(PEN_CONDITIONS), "numbers")
    parser.add_argument("--data", default=None, metavar="FILE_OR_FOLDER",
                        help="a pen-digits file (.json or .json.gz), or a folder holding one "
                             "(default: the copy in mdr/data/pen_digits)")
    parser.add_argument("--writers", default="eval", choices=list(PEN_WRITER_GROUPS),
                        help="eval: the evaluation writers of the writer split (default); validation: the "
                             "writers a model trained with --pen-validation never saw (for choosing settings "
                             "without looking at the evaluation writers); train: all its non-evaluation "
                             "writers (flattering: the shipped models trained on them); all: every writer of "
                             "the file (for a file of writers never trained on)")
    parser.add_argument("--split-seed", type=int, default=WRITER_SPLIT_SEED,
                        help=f"seed of the writer split (default: {WRITER_SPLIT_SEED})")
    parser.add_argument("--validation-fraction", type=float, default=VALIDATION_FRACTION, metavar="SHARE",
                        help="with --writers validation: the share the models were trained with "
                             f"(--pen-validation; default: {VALIDATION_FRACTION})")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE.md", help="also write the report to this file")
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.evaluation.pen_eval import PenEvalSettings, report_dict, run_pen_eval, to_markdown

    settings = PenEvalSettings(n=args.n, seed=args.seed, data=args.data, writers=args.writers,
                               split_seed=args.split_seed, validation_fraction=args.validation_fraction,
                               model=args.model, precision=args.precision,
                               conditions=tuple(args.conditions), knobs=tuple(args.knobs))
    try:
        report = run_pen_eval(settings, failures_dir=args.failures)
    except (MdrError, ValueError) as e:
        return fail(e)
    text = to_markdown(report)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# pen-eval\n\n{text}\n")
    if args.json:
        print(json.dumps(report_dict(report)))
    return 0
