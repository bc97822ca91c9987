"""``python -m mdr corrections add|list|export|import|delete``: the stored corrections."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("corrections", help="stored corrections (drawings with their true number)")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="recognize IMAGE with the active model and store it with its true number")
    add.add_argument("image", metavar="IMAGE")
    add.add_argument("--number", required=True, help="the number IMAGE really shows")
    add.add_argument("--model", default=None, help="model name or .onnx path (default: the active model)")
    lst = sub.add_parser("list", help="list stored corrections")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.add_argument("--misread", action="store_true", help="only those the model misread")
    exp = sub.add_parser("export", help="write every correction to a zip")
    exp.add_argument("file", metavar="FILE.zip")
    imp = sub.add_parser("import", help="add the corrections of an exported zip (all or nothing)")
    imp.add_argument("file", metavar="FILE.zip")
    dele = sub.add_parser("delete", help="delete one correction")
    dele.add_argument("id", type=int, metavar="ID")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mdr.corrections.store import CorrectionStore, CorrectionStoreError
    from mdr.errors import MdrError

    store = CorrectionStore()
    try:
        if args.action == "add":
            from mdr.recognition.imageio import read_image_file
            from mdr.recognition.recognizer import Recognizer
            from mdr.recognition.config import DEFAULT_CONFIG

            png = Path(args.image).read_bytes()
            recognition = Recognizer(args.model).recognize(read_image_file(args.image, DEFAULT_CONFIG))
            cid = store.add_recognition(recognition, png, args.number)
            print(f"Saved as correction #{cid} (read {recognition.number!r})")
        elif args.action == "list":
            for c in store.list(misread_only=args.misread):
                if args.json:
                    print(json.dumps({"id": c.id, "created": c.created, "number": c.true_number,
                                      "read": c.read_number, "model": c.model, "misread": c.misread,
                                      "digits": len(c.digits)}))
                else:
                    print(f"#{c.id} {c.created} {c.true_number!r} read {c.read_number!r} ({c.model})")
        elif args.action == "export":
            print(f"Exported {store.export_zip(Path(args.file))} corrections to {args.file}")
        elif args.action == "import":
            print(f"Imported {store.import_zip(Path(args.file))} corrections")
        elif args.action == "delete":
            if not store.delete(args.id):
                print(f"error: no correction #{args.id}", file=sys.stderr)
                return 1
            print(f"Deleted correction #{args.id}")
    except (CorrectionStoreError, MdrError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
