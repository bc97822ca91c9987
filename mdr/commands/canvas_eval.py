"""``python -m mdr canvas-eval``: the recognizer against the original pipeline on canvas-like numbers."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from mdr.commands.options import add_data_option, add_json_option, add_reader_options, fail
from mdr.errors import MdrError


def register(subparsers) -> None:
    from mdr.data.synth import CONDITIONS

    parser = subparsers.add_parser(
        "canvas-eval", help="accuracy on synthetic canvas drawings, new pipeline vs. the original",
        description=(
            "Draw numbers from MNIST test digits the way a mouse on a canvas does, under several "
            "conditions, read them with the recognizer and with the original app's pipeline on the "
            "same model, and print exact-number and per-digit accuracy per condition."
        ),
    )
    add_reader_options(parser, list(CONDITIONS), "images")
    add_data_option(parser)
    parser.add_argument("--samples", type=Path, default=None,
                        help="also save 3 example images per condition to this folder")
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.evaluation.numbers import compare_readers, model_readers, summary_dict, to_markdown, write_samples

    try:
        if args.samples is not None:
            written = write_samples(args.samples, seed=args.seed, conditions=args.conditions, data_dir=args.data)
            print(f"Wrote {len(written)} example images to {args.samples}")
        recognizer, baseline = model_readers(args.model, args.precision, args.knobs)
        results = compare_readers(recognizer, baseline, args.conditions, args.n, seed=args.seed,
                                  data_dir=args.data, failures_dir=args.failures)
    except MdrError as e:
        return fail(e)
    print(to_markdown(results))
    if args.json:
        print(json.dumps(summary_dict(results, n=args.n, seed=args.seed, model=args.model,
                                      precision=args.precision, knobs=dict(args.knobs))))
    return 0
