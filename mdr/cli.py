"""``python -m mdr COMMAND``: the app's features without a browser.

Each command lives in ``mdr/commands/<name>.py`` with ``register(subparsers)``
that adds its parser and sets ``func``; heavy imports (torch) stay inside the
command functions so that ``mdr recognize`` never loads them.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["recognize", "evaluate", "train", "canvas_eval", "pen_eval", "models", "activate", "export", "quantize",
            "compare", "serve", "download", "corrections", "train_strip"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mdr", description="Multi-Digit Recognizer")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"mdr.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
