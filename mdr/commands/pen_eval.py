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
    parser.add_argument("--save", action="store_true",
                        help="keep the figures beside the model (models/NAME/pen.json), where the Train page "
                             "shows them, as its 'Measure on real handwriting' does; only for a registered "
                             "model read on the evaluation writers of the committed file, all conditions, int8, "
                             "default settings")
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.evaluation.pen_eval import PenEvalSettings, report_dict, run_pen_eval, to_markdown

    settings = PenEvalSettings(n=args.n, seed=args.seed, data=args.data, writers=args.writers,
                               split_seed=args.split_seed, validation_fraction=args.validation_fraction,
                               model=args.model, precision=args.precision,
                               conditions=tuple(args.conditions), knobs=tuple(args.knobs))
    if args.save:
        problem = _unsavable(args)
        if problem:
            return fail(ValueError(f"--save keeps only the figures the Train page shows: {problem}."))
    try:
        report = run_pen_eval(settings, failures_dir=args.failures)
    except (MdrError, ValueError) as e:
        return fail(e)
    text = to_markdown(report)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# pen-eval\n\n{text}\n")
    figures = report_dict(report) if args.save or args.json else None
    if args.save:
        from mdr.models.operations import save_pen_report

        print(f"Saved to {save_pen_report(report.model_name, figures)}")
    if args.json:
        print(json.dumps(figures))
    return 0


def _unsavable(args: argparse.Namespace) -> str | None:
    """Why this run's figures would not be those of the Train page's measurement, or None."""
    from mdr.data.pen import PEN_CONDITIONS, WRITER_SPLIT_SEED
    from mdr.models import registry

    if args.model is not None:
        try:
            registry.read_card(args.model)
        except MdrError:
            return f"'{args.model}' is not a registered model name"
    if args.writers != "eval" or args.data is not None or args.split_seed != WRITER_SPLIT_SEED:
        return "the evaluation writers of the committed pen-digits file are read"
    if set(args.conditions) != set(PEN_CONDITIONS) or args.precision != "int8" or args.knobs:
        return "every condition is read with the int8 model and the recognizer's default settings"
    return None
