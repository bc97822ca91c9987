"""Fine-tune a registered model on the user's corrections, and say what it changed.

:func:`finetune_config` turns "fine-tune model X on my corrections" into a
:class:`~mdr.training.config.TrainConfig`: X's architecture and outputs, its
weights as the start, a short run on a slice of MNIST (so nothing else is
forgotten) with the correction digits repeated to a share of the images.
:func:`before_after` then measures the starting model and the new one on
the same things: the held-out corrections (whole drawings, never trained
on), the drawings that trained, MNIST test, and numbers written by the
pen-digits evaluation writers. The report goes into the new model's card.
A model with a strip reader has it taught the same drawings
(:func:`teach_strip_reader`), touching digits included.
"""
from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Callable

from mdr.errors import stop_point
from mdr.models import registry
from mdr.paths import write_json_atomic

FINETUNE_DEFAULTS: dict[str, Any] = {
    "epochs": 1,
    "lr": 1e-3,
    "train_size": 8000,
    "val_size": 0,
    "threads": 0,
}
"""What a fine-tune changes from TrainConfig's defaults: one short pass over a slice of MNIST
(about half a minute on two CPU cores) instead of a full training run."""
FINETUNE_REJECT_FRACTION = 0.1
"""Share of "not a single digit" images kept in the mix of a model that has that class."""
MNIST_DROP_LIMIT = 0.002
"""A fine-tune may cost MNIST test accuracy at most this much (0.2 points) before it is flagged."""
STRIP_STEPS = 150
"""Batches that teach a model's strip reader the corrections (about 20 s on two CPU cores). On 12
pen-digits evaluation writers, each teaching 15 spaced and 15 touching numbers of half their drawings
(``python -m bench.writer_adaptation --teach 15 --touching 15 --test 100``): touching numbers of those
drawings 87.2% -> 91.2% exact (the classifier's fine-tune alone: 88.2%), spaced 94.3% -> 97.8% (96.4%),
the same writers' other drawings touching 89.1% -> 90.2% (89.0%), spaced 96.2% -> 96.3% (95.8%)."""
CALIBRATION_STRIPS = 240
"""Composed strips that calibrate the fine-tuned reader's int8 file (as many as a trained reader's)."""
PEN_CHECK_N = 40
"""Numbers per pen-eval condition in the before/after check."""
PEN_CHECK_CONDITIONS = ("spaced", "touching")


def model_outputs(card: dict[str, Any]) -> int:
    """10, or 11 for a model with the "not a single digit" class."""
    shape = (card.get("output") or {}).get("shape")
    if isinstance(shape, list) and len(shape) == 2 and shape[1] in (10, 11):
        return int(shape[1])
    return 11 if ((card.get("config") or {}).get("reject_fraction") or 0) > 0 else 10


def finetune_config(base: str | None = None, **given):
    """The config of a fine-tune of ``base`` (default: the active model) on the corrections.

    ``given`` overrides any field (the command line's typed options); a model with the
    "not a single digit" class keeps it, so its fine-tune keeps training it.
    """
    from mdr.training.config import TrainConfig

    base = base or given.get("init_from") or registry.active_model_name()
    card = registry.read_card(base)
    base_config = card.get("config") or {}
    outputs = model_outputs(card)
    has_reader = bool(card.get("strip_reader")) and (registry.model_dir(base) / registry.STRIP_CHECKPOINT).is_file()
    defaults = {
        **FINETUNE_DEFAULTS,
        "corrections_strip_steps": STRIP_STEPS if has_reader else 0,
        "arch": base_config.get("arch") or (card.get("architecture") or {}).get("name", "cnn"),
        "init_from": base,
        "corrections": True,
        "reject_fraction": FINETUNE_REJECT_FRACTION if outputs == 11 else 0.0,
        "pen_split_seed": base_config.get("pen_split_seed", 0),
    }
    known = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{**defaults, **{k: v for k, v in given.items() if k in known and v is not None}})
    if outputs == 11 and config.reject_fraction <= 0:
        raise ValueError(f"'{base}' has the 'not a single digit' output: its fine-tune needs a reject_fraction "
                         "above 0 to keep it.")
    return config


def teach_strip_reader(config, corrections: dict[str, Any], build: Path, card: dict[str, Any],
                       on_status: Callable[[str], None] | None = None, should_stop=None) -> None:
    """Fine-tune the strip reader carried into ``build`` (its files and ``card``'s section) on the
    training drawings' strips (:mod:`mdr.training.strip_corrections`); the record goes into the
    section as ``finetune``. With no strip to learn from, the reader stays as it was carried.
    ``should_stop()`` is asked at every step (:class:`~mdr.errors.RunStopped` ends them)."""
    import torch

    from mdr.corrections.store import CorrectionStore
    from mdr.recognition.recognizer import Recognizer
    from mdr.training.strip_corrections import correction_strips
    from mdr.training.strip_finetune import StripFinetuneSettings, finetune_reader, load_reader
    from mdr.training.strip_reader import export_strip_reader, quantize_strip_reader
    from mdr.training.strips import StripMix

    say = on_status or (lambda message: None)
    section = card["strip_reader"]
    store = CorrectionStore(corrections["store"])
    by_id = {c.id: c for c in store.list()}
    drawings = [by_id[i] for i in corrections["train_drawings"] if i in by_id]
    say(f"Cutting {len(drawings)} drawing(s) into strips for the strip reader…")
    strips, texts, record = correction_strips(drawings, Recognizer(config.init_from))
    stop_point(should_stop)
    if not strips:
        section["finetune"] = {**record, "steps": 0}
        return
    checkpoint = build / registry.STRIP_CHECKPOINT
    reader, reader_config = load_reader(checkpoint)
    known = {f.name for f in fields(StripMix)}
    mix = StripMix(**{k: v for k, v in (reader_config.get("mix") or {}).items() if k in known})
    mix = replace(mix, data_dir=config.data_dir)  # this machine's MNIST, as the classifier's run
    settings = StripFinetuneSettings(steps=config.corrections_strip_steps, seed=config.seed, device=config.device)
    result = finetune_reader(reader, strips, texts, mix, settings, on_status, should_stop)
    stop_point(should_stop)
    say("Exporting the strip reader to ONNX and quantizing it…")
    torch.save({"state_dict": result.model.state_dict(), "config": reader_config}, checkpoint)
    fp32 = build / registry.STRIP_FILES["fp32"]
    export_strip_reader(result.model, fp32, result.general_strips[:64])
    quantize_strip_reader(fp32, build / registry.STRIP_FILES["int8"], result.general_strips[:CALIBRATION_STRIPS])
    section["finetune"] = {**record, **result.record, "seconds": round(result.seconds, 1)}
    section["onnx"] = {**(section.get("onnx") or {}), "calibration_strips": min(CALIBRATION_STRIPS,
                                                                                len(result.general_strips))}
    card.setdefault("files", {}).setdefault("bytes", {}).update(
        {f: (build / f).stat().st_size for f in (registry.STRIP_CHECKPOINT, *registry.STRIP_FILES.values())})


def _scores(model: str, drawings: list) -> dict[str, Any] | None:
    from mdr.corrections.scoring import score_model

    if not drawings:
        return None
    score = score_model(model, drawings)
    return {"exact": score.exact, "digits": score.digits}


def _pen_check(model: str, n: int) -> dict[str, Any]:
    from mdr.evaluation.numbers import _overall
    from mdr.evaluation.pen_eval import PenEvalSettings, run_pen_eval

    report = run_pen_eval(PenEvalSettings(n=n, model=model, conditions=PEN_CHECK_CONDITIONS))
    overall = _overall(report.results, "recognizer")
    return {"exact": overall.exact_rate, "digits": overall.digit_rate,
            "per_condition": {r.condition: r.recognizer.exact_rate for r in report.results}}


def before_after(base: str, new: str, corrections: dict[str, Any], pen_n: int = PEN_CHECK_N,
                 on_status: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The base and the fine-tuned model side by side, on the same drawings and digits."""
    from mdr.corrections.store import CorrectionStore

    say = on_status or (lambda message: None)
    store = CorrectionStore(corrections["store"])
    by_id = {c.id: c for c in store.list()}
    held = [by_id[i] for i in corrections["heldout_drawings"] if i in by_id]
    trained = [by_id[i] for i in corrections["train_drawings"] if i in by_id]
    report: dict[str, Any] = {"base": base, "model": new, "heldout_drawings": len(held),
                              "train_drawings": len(trained), "pen_numbers": pen_n * len(PEN_CHECK_CONDITIONS)}
    for label, name in (("before", base), ("after", new)):
        say(f"Reading the held-out corrections with {name}…")
        mnist = ((registry.read_card(name).get("metrics") or {}).get("test_accuracy") or {}).get("int8")
        entry = {"heldout": _scores(name, held), "trained": _scores(name, trained), "mnist_int8": mnist}
        if pen_n:
            say(f"Reading real handwriting (pen-digits evaluation writers) with {name}…")
            entry["pen"] = _pen_check(name, pen_n)
        report[label] = entry
    before, after = report["before"]["mnist_int8"], report["after"]["mnist_int8"]
    report["mnist_drop"] = None if before is None or after is None else before - after
    report["mnist_drop_ok"] = report["mnist_drop"] is None or report["mnist_drop"] <= MNIST_DROP_LIMIT
    return report


def add_report(name: str, report: dict[str, Any]) -> dict[str, Any]:
    """Write ``report`` into model ``name``'s card (atomically); the new card."""
    card = registry.read_card(name)
    card["finetune"] = report
    write_json_atomic(registry.model_dir(name) / registry.CARD, card)
    return card


def report_rows(report: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(measure, before, after) for each figure of ``report``, as the page and the command line show them."""
    def value(entry: dict[str, Any], *path: str) -> float | None:
        for key in path:
            entry = entry.get(key) if isinstance(entry, dict) else None
        return entry

    def row(label: str, *path: str) -> tuple[str, float | None, float | None]:
        return label, value(report["before"], *path), value(report["after"], *path)

    rows = []
    if report.get("heldout_drawings"):
        rows += [row(f"Held-out drawings ({report['heldout_drawings']}): exact", "heldout", "exact"),
                 row("Held-out drawings: per digit", "heldout", "digits")]
    rows.append(row(f"Trained drawings ({report['train_drawings']}): exact", "trained", "exact"))
    rows.append(row("MNIST test (int8)", "mnist_int8"))
    if "pen" in report["before"]:
        rows += [row(f"Other people's numbers ({report['pen_numbers']}): exact", "pen", "exact"),
                 row("Other people's numbers: per digit", "pen", "digits")]
    return rows


def percent(value: float | None, label: str = "") -> str:
    """A figure of the report in words: two decimals for MNIST, where changes are small."""
    return "—" if value is None else f"{value * 100:.{2 if 'MNIST' in label else 1}f}%"


def strip_summary(card: dict[str, Any]) -> str | None:
    """What a fine-tune taught the model's strip reader, in a sentence; None when it taught none
    (no reader, or ``corrections_strip_steps`` 0)."""
    taught = (card.get("strip_reader") or {}).get("finetune")
    if not taught:
        return None
    why = "; ".join(f"{reason}: {count}" for reason, count in (taught.get("not taught") or {}).items())
    if not taught.get("strips"):
        return (f"The strip reader learned nothing: no strip of the {taught['drawings']} training drawing(s) "
                f"could be labelled ({why or 'none read'}), so it reads as before.")
    return (f"The strip reader (it reads touching digits) learned {taught['strips']} strips, "
            f"{taught['touching strips']} of them touching digits, from {taught['taught']} of the "
            f"{taught['drawings']} training drawings" + (f" (not the others: {why})" if why else "") + ".")


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as lines of text, before -> after, for the command line."""
    lines = [f"Before ({report['base']}) -> after ({report['model']}):"]
    if not report["heldout_drawings"]:
        lines.append("  held-out drawings: none (save more corrections to keep some out)")
    for label, before, after in report_rows(report):
        label = label[0].lower() + label[1:]
        lines.append(f"  {label:38s} {percent(before, label):>7s} -> {percent(after, label):>7s}")
    if not report["mnist_drop_ok"]:
        lines.append(f"  Warning: MNIST test accuracy dropped by {report['mnist_drop']:.2%} "
                     f"(more than {MNIST_DROP_LIMIT:.1%}).")
    return lines
