"""``python -m mdr download``: fetch MNIST once, for training on a machine with internet access."""
from __future__ import annotations

import argparse
import sys

from mdr.commands.options import add_data_option, fail
from mdr.errors import MdrError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "download", help="download MNIST into data/MNIST/raw (once)",
        description="Download the four MNIST files (checked against their canonical checksums) into "
                    "data/MNIST/raw, or the folder named by --data / MDR_DATA_DIR. Files already there "
                    "are kept.",
    )
    add_data_option(parser)
    parser.add_argument("--mirror", action="append", default=None, metavar="URL",
                        help="a base address holding the .gz files (may be repeated; default: the "
                             "known mirrors, MDR_MNIST_MIRROR first)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a server")
    parser.set_defaults(func=run)


def _progress(name: str, done: int, total: int | None) -> None:
    share = f" {done / total:.0%}" if total else ""
    print(f"\r  {name}: {done / 1e6:.1f} MB{share}", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from mdr.data.download import download_mnist

    sources = [m.rstrip("/") + "/" for m in args.mirror] if args.mirror else None
    try:
        result = download_mnist(args.data, progress=_progress, timeout=args.timeout, sources=sources)
    except MdrError as e:
        print(file=sys.stderr)
        return fail(e)
    if result.fetched:
        print(file=sys.stderr)
    print(f"MNIST is in {result.folder}: {len(result.fetched)} file(s) downloaded, "
          f"{len(result.already_there)} already there.")
    return 0
