"""``python -m mdr recognize FILE... [--json]``: read the number in each file."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

from mdr.recognition.advice import advice_for
from mdr.recognition.config import DEFAULT_CONFIG
from mdr.commands.options import add_json_option, fail
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser("recognize", help="read the number in image files",
                                   description="Read the handwritten number in each image file.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="PNG or JPEG images")
    add_json_option(parser, "one JSON object per line")
    parser.add_argument("--model", default=None, help="model name or .onnx path (default: the active model)")
    parser.add_argument("--precision", choices=["int8", "fp32"], default=DEFAULT_CONFIG.precision)
    parser.add_argument("--alternatives", action="store_true",
                        help="also print up to three other likely readings of each number (always in --json)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.recognition.imageio import read_image_file
    from mdr.recognition.recognizer import Recognizer

    config = replace(DEFAULT_CONFIG, precision=args.precision)
    try:
        recognizer = Recognizer(args.model, config)
    except MdrError as error:
        return fail(error)
    if recognizer.warning:
        print(f"warning: {recognizer.warning}", file=sys.stderr)
    failures = 0
    for path in args.files:
        start = time.perf_counter()
        try:
            result = recognizer.recognize(read_image_file(path, config))
        except MdrError as error:
            failures += 1
            _report_error(args, path, str(error))
            continue
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the others
            failures += 1
            _report_error(args, path, f"unexpected {type(error).__name__}: {error}")
            continue
        ms = (time.perf_counter() - start) * 1000.0
        if args.json:
            print(json.dumps({"file": path, **result.to_dict(), "ms": round(ms, 2)}), flush=True)
        else:
            others = [a.number.replace("\n", " / ") for a in result.alternatives()] if args.alternatives else []
            print(f"{path}: {result.number.replace(chr(10), ' / ')}{_did_you_mean(others)}", flush=True)
            for advice in advice_for(result):  # beside the answer, not in it: stdout stays one line a file
                print(f"{path}: hint: {advice.message}", file=sys.stderr, flush=True)
    return 1 if failures else 0


def _did_you_mean(others: list[str]) -> str:
    """' (did you mean 4011, 4074 or 4871?)', or '' when there is nothing to offer."""
    if not others:
        return ""
    listed = others[0] if len(others) == 1 else f"{', '.join(others[:-1])} or {others[-1]}"
    return f" (did you mean {listed}?)"


def _report_error(args: argparse.Namespace, path: str, message: str) -> None:
    print(f"{path}: {message}", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"file": path, "error": message}), flush=True)
