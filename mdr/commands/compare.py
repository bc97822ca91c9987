"""``python -m mdr compare --model NAME``: torch fp32, ONNX fp32 and the two int8 variants side by side."""
from __future__ import annotations

import argparse
import json
import sys

from mdr.commands.options import add_data_option, add_json_option, fail, positive_int
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="accuracy, size and speed of a model's torch, ONNX fp32 and int8 variants",
        description="MNIST test accuracy, file size and batch-1 / batch-256 latency (median of repeats, "
                    "one CPU thread) of torch fp32, ONNX fp32, ONNX int8 static and ONNX int8 dynamic. "
                    "The result is kept in models/NAME/comparison.json and shown again without "
                    "measuring unless --measure is given.",
    )
    parser.add_argument("--model", default=None, help="model name (default: the active model)")
    parser.add_argument("--measure", action="store_true", help="measure again even if a comparison is kept")
    parser.add_argument("--repeats", type=positive_int, default=30, help="timed repeats per latency (default: 30)")
    add_data_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.models.operations import compare, comparison_markdown, saved_comparison
    from mdr.models.registry import active_model_name, list_models, validate_name

    try:
        name = validate_name(args.model or active_model_name())
        if name not in list_models():
            raise MdrError(f"There is no registered model '{name}' (registered: {', '.join(list_models()) or 'none'}).")
        report = None if args.measure else saved_comparison(name)
        if report is None:
            print(f"Measuring '{name}'…", file=sys.stderr, flush=True)
            report = compare(name, repeats=args.repeats, data_dir=args.data)
    except (MdrError, ValueError) as e:
        return fail(e)
    print(f"{name}: {report['test_images']:,} MNIST test digits; latency: median of {report['repeats']} runs, "
          f"{report['threads']} CPU thread, measured {report['measured']}")
    print(comparison_markdown(report))
    if args.json:
        print(json.dumps(report))
    return 0
