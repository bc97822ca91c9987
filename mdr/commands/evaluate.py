"""``python -m mdr evaluate``: MNIST test accuracy of a model (onnxruntime only, no torch)."""
from __future__ import annotations

import argparse
import json

from mdr.commands.options import add_data_option, add_json_option, fail
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="MNIST test accuracy of a model",
        description="Classify the 10,000 MNIST test digits with a model and print its accuracy.",
    )
    parser.add_argument("--model", default=None,
                        help="model name or path to an .onnx file (default: the active model)")
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32", "int8-dynamic"],
                        help="which of the model's files to use (default: int8)")
    add_data_option(parser)
    parser.add_argument("--batch-size", type=int, default=1000, help="digits per inference call")
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.evaluation.digits import evaluate_onnx
    from mdr.data.mnist import load_split
    from mdr.models.registry import ONNX_FILES, active_model_name, list_models, onnx_path

    try:
        model = args.model or active_model_name()
        path = onnx_path(model, args.precision)
        if not path.is_file():
            known = ", ".join(list_models()) or "none"
            raise MdrError(f"Model file {path} does not exist (registered models: {known}).")
        images, labels = load_split("test", args.data)
        result = evaluate_onnx(path, images, labels, batch_size=args.batch_size)
    except MdrError as e:
        return fail(e)
    by_file = {filename: p for p, filename in ONNX_FILES.items()}
    precision = by_file.get(path.name, "unknown") if model.endswith(".onnx") else args.precision
    print(f"{model} ({precision}): {result['accuracy']:.2%} of {result['n']:,} MNIST test digits")
    print("per digit: " + "  ".join(f"{d}:{a:.2%}" for d, a in enumerate(result["per_class"])))
    if args.json:
        print(json.dumps({"model": model, "path": str(path), "precision": precision, "accuracy": result["accuracy"],
                          "n": result["n"], "per_class": result["per_class"]}))
    return 0
