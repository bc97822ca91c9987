"""``python -m mdr train-strip``: give a model a strip reader for touching digits."""
from __future__ import annotations

import argparse
import sys

from mdr.commands.options import fail


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train-strip", help="train a strip reader (touching digits read as a string) and register it with a model",
        description="Compose numbers (touching and spaced) from the pen digits of the training writers and from "
                    "MNIST training digits, cut them into the parts the recognizer sees, and train a small CNN "
                    "with CTC to read each part as a string. The reader is exported to ONNX, quantized to int8 "
                    "and registered as NAME: the starting model's digit classifier plus the reader. The starting "
                    "model keeps serving until NAME is activated.",
    )
    parser.add_argument("--name", required=True, help="name of the new model")
    parser.add_argument("--from-model", default=None, metavar="MODEL",
                        help="the model whose digit classifier the new one keeps (default: the active model)")
    parser.add_argument("--numbers", type=int, default=None, help="numbers composed for training (default: 40000)")
    parser.add_argument("--touching-share", type=float, default=None, help="share of touching numbers (default: 0.7)")
    parser.add_argument("--mnist-share", type=float, default=None,
                        help="share of numbers written with MNIST digits, the rest by pen writers (default: 0.3)")
    parser.add_argument("--min-single-aspect", type=float, default=None,
                        help="single digits narrower than this times their height make no training strip "
                             "(default: 0.6, the narrowest part the recognizer asks about; 0: all)")
    parser.add_argument("--epochs", type=int, default=None, help="passes over the strips (default: 10)")
    parser.add_argument("--batch-size", type=int, default=None, help="strips per step (default: 64)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default: 0.002)")
    parser.add_argument("--width-jitter", type=float, default=None,
                        help="strips stretched or squeezed in width by up to this share (default: 0.12)")
    # mdr.recognition.strip.FRAME_STRIDES, spelled out: importing it would load ONNX Runtime for every command.
    parser.add_argument("--frame-stride", type=int, choices=(4, 2), default=None,
                        help="strip columns per output frame: 2 gives twice the frames, room for narrow "
                             "digits side by side such as 11 (default: 4)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the network and its batches (default: 1)")
    parser.add_argument("--data-seed", type=int, default=None, help="seed of the composed numbers (default: 0)")
    parser.add_argument("--pen-split-seed", type=int, default=None, help="seed of the writer split (default: 0)")
    parser.add_argument("--pen-validation", type=float, default=None, metavar="SHARE",
                        help="share of all pen writers also held out of training as validation writers, "
                             "for choosing settings on writers never seen (pen-eval --writers validation "
                             "--validation-fraction SHARE reads them; default: 0, none)")
    parser.add_argument("--pen-variation", type=float, default=None, metavar="STRENGTH",
                        help="re-slant, turn and widen each pen number at random, as other writers would "
                             "write it (1: up to 0.3 slant, 6 degrees, 20%% wider or narrower; default: 0, "
                             "the digits as written)")
    parser.add_argument("--pen-styles", type=float, default=None, metavar="P",
                        help="chance that a pen 0, 1 or 7 is re-written slashed, flagged or crossed "
                             "(default: 0)")
    parser.add_argument("--data-dir", default=None, help="folder of the MNIST IDX files")
    parser.add_argument("--pen-data", default=None, help="a pen-digits file or folder (default: the committed copy)")
    parser.add_argument("--pen-check", type=int, default=None, metavar="N",
                        help="spaced and touching pen numbers of the evaluation writers read before and after "
                             "(default: 100; 0 skips)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for training (default: all)")
    parser.add_argument("--activate", action=argparse.BooleanOptionalAction, default=False,
                        help="make the new model the active one when done (default: no)")
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """The StripTrainConfig the options describe (options not typed keep their defaults)."""
    from dataclasses import replace

    from mdr.training.strip_config import StripTrainConfig

    config = StripTrainConfig()
    mix = config.mix
    mix_changes = {k: v for k, v in {"numbers": args.numbers, "touching_share": args.touching_share,
                                     "mnist_share": args.mnist_share, "seed": args.data_seed,
                                     "min_single_aspect": args.min_single_aspect,
                                     "pen_split_seed": args.pen_split_seed, "data_dir": args.data_dir,
                                     "pen_validation": args.pen_validation,
                                     "pen_variation": args.pen_variation,
                                     "pen_styles": args.pen_styles,
                                     "pen_data": args.pen_data}.items() if v is not None}
    changes = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                                 "width_jitter": args.width_jitter, "seed": args.seed,
                                 "frame_stride": args.frame_stride,
                                 "threads": args.threads}.items() if v is not None}
    return replace(config, mix=replace(mix, **mix_changes), **changes)


def print_progress(progress) -> None:
    print(f"epoch {progress.epoch}/{progress.epochs}  step {progress.step}/{progress.total_steps}  "
          f"loss {progress.loss:.4f}  {progress.elapsed:.0f}s elapsed, eta {progress.eta:.0f}s",
          file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from mdr.commands.train import download_if_missing
    from mdr.errors import MdrError
    from mdr.models.strip_publish import PEN_CHECK_N, train_strip_and_publish

    try:
        config = config_from_args(args)
        config.check()
        download_if_missing(config.mix.data_dir)
        print(f"Composing {config.mix.numbers} numbers and training the strip reader…", file=sys.stderr, flush=True)
        result, card = train_strip_and_publish(
            config, args.name, args.from_model, activate=args.activate, on_progress=print_progress,
            on_status=lambda m: print(m, file=sys.stderr, flush=True),
            pen_check_n=PEN_CHECK_N if args.pen_check is None else args.pen_check)
    except (MdrError, ValueError) as e:
        return fail(e)
    except KeyboardInterrupt:
        print("Stopped: nothing was registered; the active model is unchanged.", file=sys.stderr)
        return 130
    reader = card["strip_reader"]
    print(f"Registered '{args.name}' ({card['derived_from']}'s digit classifier + a strip reader): "
          f"{reader['val_string_accuracy']:.1%} of {reader['val_strips']} held-out strips read exactly, "
          f"{reader['training']['seconds']:.0f} s.")
    check = reader.get("pen_check")
    if check:
        for condition in ("spaced", "touching"):
            before, after = check["before"][condition], check["after"][condition]
            print(f"  {condition} pen numbers (evaluation writers, n={after['n']}): "
                  f"{before['exact']:.0%} -> {after['exact']:.0%} exact")
    if not args.activate:
        print(f"Activate it with: python -m mdr activate {args.name}")
    return 0
