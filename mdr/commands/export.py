"""``python -m mdr export --model NAME``: write model.onnx again from the model's model.pt."""
from __future__ import annotations

import argparse

from mdr.commands.options import add_data_option, fail
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="re-export a model's model.pt to ONNX (fp32)",
        description="Export models/NAME/model.pt to models/NAME/model.onnx again (written under a "
                    "temporary name, then swapped in), check it against torch, and update the card.",
    )
    parser.add_argument("--model", required=True, help="model name")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset, 13 to 20 (default: the card's, else 17)")
    add_data_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.models.operations import reexport

    try:
        card = reexport(args.model, opset=args.opset, data_dir=args.data)
    except (MdrError, ValueError) as e:
        return fail(e)
    onnx = card["onnx"]
    print(f"Exported '{args.model}' to model.onnx (opset {onnx['opset']}, largest difference from torch "
          f"{onnx['export_max_abs_diff']:.1e}); fp32 accuracy {card['metrics']['test_accuracy']['fp32']:.2%}.")
    print(f"Run `python -m mdr quantize --model {args.model}` to rebuild its int8 files from it.")
    return 0
