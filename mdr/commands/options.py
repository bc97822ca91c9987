"""Options and error reporting shared by the commands, so each says the same thing the same way."""
from __future__ import annotations

import argparse
import sys

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
