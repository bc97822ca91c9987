"""``python -m mdr models``: the registered models, their figures, and which one is active."""
from __future__ import annotations

import argparse
import json

from mdr.commands.options import add_json_option, fail
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models", help="list the registered models (* marks the active one)",
        description="List the models under models/ with their MNIST test accuracy (int8 and fp32), "
                    "int8 file size, real-handwriting numbers read exactly (as last measured by "
                    "'pen-eval --save' or the Train page; - when not) and training date; * marks the active model.",
    )
    add_json_option(parser, "one JSON list instead of the table")
    parser.set_defaults(func=run)


def _pct(value) -> str:
    return f"{value:.2%}" if isinstance(value, (int, float)) else "-"


def run(args: argparse.Namespace) -> int:
    from mdr.models.operations import model_rows
    from mdr.paths import models_dir

    try:
        rows = model_rows()
    except MdrError as e:
        return fail(e)
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"No models registered in {models_dir()}.")
        return 0
    width = max(4, *(len(r["name"]) for r in rows))
    print(f"  {'name':{width}}  {'arch':9}  {'int8':>7}  {'fp32':>7}  {'int8 size':>9}  {'real':>7}  created")
    for r in rows:
        size = f"{r['int8_bytes'] / 1000:.0f} KB" if r["int8_bytes"] else "-"
        line = (f"{'*' if r['active'] else ' '} {r['name']:{width}}  {r['arch'] or '-':9}  {_pct(r['acc_int8']):>7}  "
                f"{_pct(r['acc_fp32']):>7}  {size:>9}  {_pct(r.get('pen_exact')):>7}  {(r['created'] or '-')[:19]}")
        print(line + (f"  ({r['problem']})" if r["problem"] else ""))
    return 0
