"""``python -m mdr quantize --model NAME``: rebuild a model's int8 files from its model.onnx."""
from __future__ import annotations

import argparse

from mdr.commands.options import add_data_option, fail, positive_int
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "quantize", help="re-quantize a model to int8 (static and dynamic)",
        description="Quantize models/NAME/model.onnx to model.int8.onnx (static, calibrated on MNIST "
                    "training digits) and model.int8-dynamic.onnx, each written under a temporary "
                    "name and swapped in, then update the card's accuracy.",
    )
    parser.add_argument("--model", required=True, help="model name")
    parser.add_argument("--calibration-size", type=positive_int, default=None,
                        help="training digits for calibration (default: the card's, else 500)")
    parser.add_argument("--calibration-method", default=None, choices=["minmax", "percentile", "entropy"],
                        help="calibration method (default: the card's, else minmax)")
    add_data_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.models.operations import requantize

    try:
        card = requantize(args.model, args.calibration_size, args.calibration_method, data_dir=args.data)
    except (MdrError, ValueError) as e:
        return fail(e)
    accuracy, calibration = card["metrics"]["test_accuracy"], card["onnx"]["calibration"]
    print(f"Quantized '{args.model}' ({calibration['method']} calibration on {calibration['images']} training "
          f"digits): int8 static {accuracy['int8']:.2%}, int8 dynamic {accuracy['int8-dynamic']:.2%}.")
    return 0
