"""``python -m mdr activate NAME``: make a registered model the one the app and CLI use."""
from __future__ import annotations

import argparse

from mdr.commands.options import fail
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "activate", help="make a registered model the active one",
        description="Check that the model's int8 file loads and reads a digit, then name it in "
                    "models/active.json. A model that fails the check leaves the active one in place.",
    )
    parser.add_argument("name", help="a model name from `python -m mdr models`")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.models.operations import activate

    try:
        activate(args.name)
    except MdrError as e:
        return fail(e)
    print(f"'{args.name}' is now the active model.")
    return 0
