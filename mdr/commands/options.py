"""Options and error reporting shared by the commands, so each says the same thing the same way."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

DATA_HELP = "MNIST folder (default: MDR_DATA_DIR, then data/MNIST/raw)"


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None, help=DATA_HELP)


def add_json_option(parser: argparse.ArgumentParser, help: str = "end with one line of JSON") -> None:
    parser.add_argument("--json", action="store_true", help=help)


def fail(error: object) -> int:
    """Report an error in words on stderr; the exit code of a refused command."""
    print(f"error: {error}", file=sys.stderr)
    return 2


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (argparse refuses others with exit code 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def recognizer_setting(text: str) -> tuple[str, object]:
    """An argparse type: one ``--set KNOB=VALUE``, read as the HTTP API reads a query parameter
    (the knob's own type, within the bounds in ``mdr/serve/knobs.json``); precision has its own option."""
    from mdr.serve.errors import ApiError
    from mdr.serve.knobs import parse_query_knobs

    name, equals, raw = (t.strip() for t in text.partition("="))
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"'{text}' is not KNOB=VALUE (for example strip_second_opinion=0.5)")
    if name == "precision":
        raise argparse.ArgumentTypeError("set the precision with --precision")
    try:
        knobs = parse_query_knobs([(name, raw)])
    except ApiError as e:
        raise argparse.ArgumentTypeError(e.message) from None
    return name, getattr(knobs, name)


def add_reader_options(parser: argparse.ArgumentParser, conditions: list[str], unit: str) -> None:
    """What the commands that compare the recognizer with the original pipeline share: how many
    ``unit`` per condition, their seed, which conditions, and the model both readers use."""
    parser.add_argument("--n", type=positive_int, default=100, help=f"{unit} per condition (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help=f"seed of the {unit} (default: 0)")
    parser.add_argument("--conditions", nargs="+", default=list(conditions), choices=list(conditions),
                        metavar="CONDITION", help=f"which conditions (default: all: {', '.join(conditions)})")
    parser.add_argument("--model", default=None,
                        help="model name or path to an .onnx file (default: the active model)")
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32"],
                        help="which of the model's files both readers use (default: int8)")
    parser.add_argument("--failures", type=Path, default=None,
                        help="save images the recognizer reads wrong to this folder")
    parser.add_argument("--set", dest="knobs", action="append", type=recognizer_setting, default=[],
                        metavar="KNOB=VALUE",
                        help="read with this recognizer setting instead of its default (repeatable; the "
                             "names of RecognizerConfig, e.g. strip_second_opinion=0.5); the original "
                             "pipeline has none")
