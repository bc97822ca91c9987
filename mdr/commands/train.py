"""``python -m mdr train``: train, export, quantize, evaluate and register a model.

Every :class:`~mdr.training.config.TrainConfig` field is an option (``--batch-size`` for
``batch_size``, ``--no-augment`` for ``augment``), so the card's command line
reproduces the model.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import MISSING, fields
from pathlib import Path

from mdr.commands.options import DATA_HELP, fail
from mdr.errors import MdrError

HELP = {
    "arch": "architecture: cnn (the shipped one) or cnn-small (fast)",
    "epochs": "passes over the training images",
    "batch_size": "images per step",
    "lr": "peak (onecycle) or initial (cosine) learning rate",
    "optimizer": "adamw or sgd",
    "schedule": "learning-rate schedule: onecycle or cosine",
    "weight_decay": "weight decay",
    "label_smoothing": "label smoothing of the cross-entropy loss",
    "augment": "turn all augmentation off",
    "affine_p": "fraction of each batch given a random affine warp",
    "rotate_deg": "largest rotation, degrees",
    "shear": "largest shear",
    "scale": "largest zoom change (1 +- scale)",
    "translate_px": "largest shift, pixels",
    "thickness_p": "fraction of each batch thickened or thinned",
    "thickness_strength": "largest dilation/erosion, pixels (up to 2)",
    "restroke_p": "fraction of each batch re-drawn from its skeleton with a round brush",
    "restroke_min_width": "narrowest brush, pixels",
    "restroke_max_width": "widest brush, pixels",
    "restroke_blur": "Gaussian blur sigma of re-stroked digits, pixels",
    "elastic_p": "fraction of each batch bent by a smooth random (elastic) displacement field",
    "elastic_px": "typical elastic displacement, pixels",
    "init_from": "start from this registered model's weights (fine-tuning; default: a fresh network); "
                 "also --from-model",
    "train_size": "use only this many training images (default: all but the validation split)",
    "val_size": "training images held out for validation (0: none, train on all 60,000)",
    "data_dir": DATA_HELP,
    "data_mix": "training data: mnist, or mnist+pen (adds the pen-digits training writers' digits)",
    "pen_renders": "mnist+pen: renderings of each training writer's digit",
    "pen_split_seed": "mnist+pen: seed of the writer split (evaluation writers are never trained on)",
    "pen_validation": "mnist+pen: share of all writers also held out of training as validation writers, "
                      "for choosing settings on writers never seen (pen-eval --writers validation "
                      "--validation-fraction F reads them)",
    "pen_variation": "mnist+pen: strength of a random re-slant, turn and widening of each pen digit, as other "
                     "writers would write it (1: up to 0.3 slant, 6 degrees, 20%% wider or narrower)",
    "pen_styles": "mnist+pen: chance a pen 0, 1 or 7 is re-written slashed, flagged or crossed",
    "reject_fraction": "share of training images that are not one digit (touching pairs, parts, fragments): "
                       "an 11th output class for the split search (0: a 10-class model)",
    "reject_ones": "chance that a touching pair among the not-one-digit images has a 1 as one of its digits "
                   "(a 1 leaning on its neighbour)",
    "corrections": "fine-tune on your saved corrections (with --from-model NAME, default the active model): "
                   "a short run on a slice of MNIST plus the correction digits, then a before/after report",
    "corrections_share": "share of the training images that are correction digits (repeated, augmented)",
    "corrections_holdout": "share of the saved drawings held out of training to measure before and after",
    "corrections_strip_steps": "corrections: batches that also teach the model's strip reader your drawings, "
                               "touching digits included (the fine-tune's default: 150 when the model has one; "
                               "0: the reader unchanged)",
    "seed": "random seed (runs on the CPU are repeatable)",
    "device": "auto (CUDA when available), cpu or cuda",
    "threads": "CPU threads for torch (0: torch's default)",
}
CHOICES = {"data_mix": ["mnist", "mnist+pen"], "arch": ["cnn", "cnn-small"], "optimizer": ["adamw", "sgd"], "schedule": ["onecycle", "cosine"]}
FLAG = {"data_dir": "--data"}


def _flag(name: str) -> str:
    return FLAG.get(name, "--" + name.replace("_", "-"))


def register(subparsers) -> None:
    from mdr.training.config import TrainConfig

    parser = subparsers.add_parser(
        "train", help="train a model on MNIST and register it",
        description="Train on MNIST, export to ONNX, quantize to int8, evaluate on the 10,000 test "
                    "digits and register the result as models/NAME/.",
    )
    parser.add_argument("--name", default="my-model", help="model name, the folder under models/ (default: my-model)")
    parser.add_argument("--no-activate", dest="activate", action="store_false",
                        help="do not make the new model the active one")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    parser.add_argument("--calibration-size", type=int, default=500,
                        help="training digits used to calibrate the static int8 model (default: 500)")
    parser.add_argument("--calibration-method", default="minmax", choices=["minmax", "percentile", "entropy"],
                        help="int8 calibration method (default: minmax)")
    parser.add_argument("--pen-check", type=int, default=None, metavar="N",
                        help="with --corrections: pen numbers per condition read before and after "
                             "(default: 40; 0 skips that check)")
    group = parser.add_argument_group("training (TrainConfig)")
    # Every option defaults to None, "not typed": --corrections fills what was not typed with the
    # fine-tune's own defaults (mdr.models.finetune), a plain run with TrainConfig's.
    for f in fields(TrainConfig):
        default = f.default if f.default is not MISSING else None
        if isinstance(default, bool):
            flag = ("--no-" if default else "--") + f.name.replace("_", "-")
            group.add_argument(flag, dest=f.name, action="store_false" if default else "store_true",
                               default=None, help=HELP[f.name])
            continue
        kind = type(default) if default is not None else (str if f.name in ("data_dir", "init_from") else int)
        flags = [_flag(f.name), *(["--from-model"] if f.name == "init_from" else [])]
        group.add_argument(*flags, dest=f.name, type=kind, default=None, choices=CHOICES.get(f.name),
                           help=HELP[f.name] if "default" in HELP[f.name] else f"{HELP[f.name]} (default: {default})")
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """The run's TrainConfig: the typed options over TrainConfig's defaults, or over the
    fine-tune's with ``--corrections``."""
    from mdr.training.config import TrainConfig

    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    if given.get("corrections"):
        from mdr.models.finetune import finetune_config

        return finetune_config(**given)
    return TrainConfig(**given)


def command_line(config, name: str, activate: bool = True, only_changed: bool = False,
                 extra: list[str] | None = None) -> str:
    """``python -m mdr train`` with ``config``'s options (all, or those off TrainConfig's defaults;
    a fine-tune spells out all, since its defaults are not TrainConfig's); never the data folder."""
    only_changed = only_changed and not config.corrections
    parts = ["python", "-m", "mdr", "train", "--name", name]
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name == "data_dir" or value is None or (only_changed and value == f.default):
            continue
        if isinstance(value, bool):
            if value != f.default:
                parts.append(("--" if value else "--no-") + f.name.replace("_", "-"))
            continue
        parts += [_flag(f.name), str(value)]
    if not activate:
        parts.append("--no-activate")
    return shlex.join(parts + (extra or []))


def explicit_command(args: argparse.Namespace, config=None) -> str:
    """The command line with every training option spelled out (except the data folder)."""
    extra = []
    if args.opset != 17:
        extra += ["--opset", str(args.opset)]
    if args.calibration_size != 500 or args.calibration_method != "minmax":
        extra += ["--calibration-size", str(args.calibration_size), "--calibration-method", args.calibration_method]
    return command_line(config or config_from_args(args), args.name, args.activate, extra=extra)


def typed_command(args: argparse.Namespace, config=None) -> str:
    """The command line as typed when run as ``python -m mdr train``; else the explicit one."""
    argv = sys.argv
    if len(argv) > 1 and argv[1] == "train" and Path(argv[0]).parent.name == "mdr":
        return shlex.join(["python", "-m", "mdr", *argv[1:]])
    return explicit_command(args, config)


def print_progress(progress) -> None:
    if not progress.epoch_end:
        return
    val = f"  val {progress.val_acc:.2%}" if progress.val_acc is not None else ""
    print(f"epoch {progress.epoch}/{progress.epochs}  step {progress.step}/{progress.total_steps}  "
          f"loss {progress.loss:.4f}{val}  lr {progress.lr:.2e}  "
          f"{progress.elapsed:.0f}s elapsed, eta {progress.eta:.0f}s", file=sys.stderr, flush=True)


def download_if_missing(folder: str | None) -> None:
    """On a user's machine MNIST is fetched once into data/MNIST/raw the first time it is needed."""
    from mdr.data.download import download_mnist, should_download

    if should_download(folder):
        print("MNIST is not in data/MNIST/raw yet: downloading it once (about 11 MB)...", file=sys.stderr,
              flush=True)
        download_mnist()


def run(args: argparse.Namespace) -> int:
    from mdr.models.publish import train_and_publish

    try:
        config = config_from_args(args)
        download_if_missing(config.data_dir)
        what = f"Fine-tuning {config.init_from} on your corrections" if config.corrections else f"Training {config.arch}"
        print(f"{what} as '{args.name}'...", file=sys.stderr, flush=True)
        result, card = train_and_publish(
            config, args.name, command=typed_command(args, config), command_explicit=explicit_command(args, config),
            activate=args.activate, on_progress=print_progress,
            on_status=lambda message: print(message, file=sys.stderr, flush=True),
            pen_check_n=args.pen_check,
            opset=args.opset, calibration_size=args.calibration_size, calibration_method=args.calibration_method,
        )
    except (MdrError, ValueError) as e:
        return fail(e)
    accuracy = card["metrics"]["test_accuracy"]
    sizes = card["files"]["bytes"]
    from mdr.models.registry import ONNX_FILES, model_dir

    print(f"Registered {model_dir(args.name)} in {result.seconds:.0f}s of training"
          + (" (active)" if args.activate else ""))
    for precision, filename in ONNX_FILES.items():
        print(f"  {precision:13s} {accuracy[precision]:.2%} of {card['data']['test_images']:,} MNIST test digits, "
              f"{sizes[filename] / 1024:.0f} KiB")
    if "finetune" in card:
        from mdr.models.finetune import report_lines, strip_summary

        print("\n".join(report_lines(card["finetune"])))
        taught = strip_summary(card)
        if taught:
            print(taught)
    return 0
