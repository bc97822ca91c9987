"""``python -m bench [--quick] [--out FILE]``: what the project exists for, measured.

Sections (each a markdown table, printed and written to ``--out``):

1. accuracy   exact-number and per-digit accuracy on the canvas-like sets
              (:mod:`mdr.evaluation.numbers`), recognizer int8 / fp32 and the baseline
2. latency    Recognizer.recognize on fixed canvases vs. the baseline pipeline,
              timed alternately in the same run; the split among stages
3. throughput digits/s of torch fp32 and the three ONNX files at several batch sizes
4. training   fast recipe (cnn-small) per epoch and to 99.0% MNIST test accuracy;
              the shipped recipe's time per step on this machine
5. memory     peak resident memory of a recognizing process and of a training one
6. pen        exact-number, digit-count and per-digit accuracy on numbers written by
              real people (pen-digits evaluation writers), recognizer vs. the baseline
9. finetune   a fine-tune on 200 saved corrections, phase by phase, and before vs. after

``--sections NAME...`` re-runs only those sections; the others of an existing ``--out`` file
(also those written by ``bench.browser_latency`` and ``bench.serve_load``) are kept
(:mod:`bench.report`).

Every speed figure is a median with its p95 over repeated runs; every ratio
compares figures measured side by side in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from bench.common import FAST_RECIPE, ROOT, TARGET_ACCURACY, model_name, stats, table
from bench.finetune import bench_finetune
from bench.memory import bench_memory
from bench.pen import bench_pen
from bench.report import write_sections

DEFAULT_OUT = ROOT / "bench" / "results.md"
SECTIONS = ("accuracy", "latency", "throughput", "training", "memory", "pen", "finetune")


@dataclass(frozen=True)
class Sizes:
    """How much each section measures: the full run, or the quick smoke run."""

    accuracy_n: int  # images per canvas condition
    latency_runs: int
    throughput_reps: int
    throughput_batches: tuple[int, ...]
    train_epochs: int
    train_size: int | None
    test_size: int
    shipped_steps: int
    memory_runs: int
    pen_n: int
    """Numbers per pen-digits condition."""
    finetune_corrections: int
    finetune_runs: int
    finetune_pen_n: int
    """Pen numbers per condition in the fine-tune's before/after check."""


FULL = Sizes(accuracy_n=100, latency_runs=200, throughput_reps=30, throughput_batches=(1, 8, 64, 256),
             train_epochs=4, train_size=None, test_size=10_000, shipped_steps=60, memory_runs=50, pen_n=100,
             finetune_corrections=200, finetune_runs=3, finetune_pen_n=100)
QUICK = Sizes(accuracy_n=3, latency_runs=10, throughput_reps=3, throughput_batches=(1, 8, 64, 256),
              train_epochs=1, train_size=2_000, test_size=1_000, shipped_steps=3, memory_runs=3, pen_n=3,
              finetune_corrections=12, finetune_runs=1, finetune_pen_n=2)

# --------------------------------------------------------------------------
# 1. accuracy
# --------------------------------------------------------------------------

def bench_accuracy(sizes: Sizes, data_dir) -> tuple[str, dict]:
    from mdr.evaluation.numbers import _overall, compare_readers, model_readers, to_dict
    from mdr.data.synth import CONDITIONS

    by_precision = {}
    for precision in ("int8", "fp32"):
        new, old = model_readers(None, precision)
        by_precision[precision] = compare_readers(new, old, CONDITIONS, sizes.accuracy_n, seed=0,
                                                  data_dir=data_dir)
    columns = [("recognizer int8", "int8", "recognizer"), ("recognizer fp32", "fp32", "recognizer"),
               ("baseline int8", "int8", "baseline"), ("baseline fp32", "fp32", "baseline")]
    header = (["condition", "n"] + [f"exact: {c[0]}" for c in columns] + [f"digits: {c[0]}" for c in columns]
              + ["ms/image: recognizer int8", "ms/image: baseline int8"])
    rows = []
    for k, condition in enumerate(list(CONDITIONS) + ["**all**"]):
        scores = [(_overall(by_precision[p], which) if condition == "**all**" else
                   getattr(by_precision[p][k], which)) for _, p, which in columns]
        rows.append([condition, scores[0].total] + [f"{s.exact_rate:.1%}" for s in scores]
                    + [f"{s.digit_rate:.1%}" for s in scores] + [f"{scores[0].mean_ms:.1f}", f"{scores[2].mean_ms:.1f}"])
    text = table(header, rows) + (
        "\n\nexact: the whole number right (line breaks included); digits: per-digit accuracy over the "
        "readings with the right number of digits (`mdr.evaluation.numbers`). Baseline: the original app's "
        "pipeline on the same model file. Images: `mdr.data.synth` (MNIST test digits stroked like a mouse "
        "on a canvas), seed 0; the same images for every reader.")
    return text, {p: to_dict(r) for p, r in by_precision.items()}


# --------------------------------------------------------------------------
# 2. latency
# --------------------------------------------------------------------------

def bench_latency(sizes: Sizes, data_dir) -> tuple[str, dict]:
    from mdr import Recognizer
    from mdr.recognition.baseline import BaselineRecognizer
    from mdr.models.registry import onnx_path

    from .images import latency_cases

    recognizer = Recognizer()
    baseline = BaselineRecognizer(onnx_path(model_name(), "int8"))
    rows, stage_rows, data = [], [], {}
    stage_names: list[str] = []
    per_case_stages = []
    for name, image, truth in latency_cases(data_dir):
        new_read = recognizer.recognize(image).number  # warm-up
        old_read = baseline.recognize(image)
        new_t, old_t, stages = [], [], {}
        for _ in range(sizes.latency_runs):
            start = time.perf_counter()
            result = recognizer.recognize(image)
            new_t.append(time.perf_counter() - start)
            start = time.perf_counter()
            baseline.recognize(image)
            old_t.append(time.perf_counter() - start)
            for stage, ms in result.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        (nm, np95), (om, op95) = stats(new_t), stats(old_t)
        rows.append([name, truth, new_read, old_read, f"{nm:.2f}", f"{np95:.2f}", f"{om:.2f}", f"{op95:.2f}",
                     f"{om / nm:.2f}x"])
        medians = {stage: float(np.median(v)) for stage, v in stages.items()}
        per_case_stages.append((name, medians))
        stage_names += [s for s in medians if s not in stage_names]
        data[name] = {"recognizer_ms": [nm, np95], "baseline_ms": [om, op95], "speedup": om / nm,
                      "stages_ms": medians, "read": new_read, "truth": truth}
    for name, medians in per_case_stages:
        total = sum(medians.values()) or 1.0
        stage_rows.append([name] + [f"{medians[s]:.2f} ({medians[s] / total:.0%})" if s in medians else "-"
                                    for s in stage_names])
    text = (
        table(["image", "truth", "read (new)", "read (old)", "new median ms", "new p95 ms", "old median ms",
               "old p95 ms", "speed-up (old/new)"], rows)
        + f"\n\n{sizes.latency_runs} runs per image, recognizer (int8) and "
          f"baseline (the same int8 file of the active model `{recognizer.model_name}`, one ONNX Runtime thread "
          "each) alternating. speed-up > 1: the recognizer is faster.\n\n"
        + "Median time per stage (`Recognition.timings_ms`), ms (share of the staged time):\n\n"
        + table(["image"] + stage_names, stage_rows)
    )
    return text, data


# --------------------------------------------------------------------------
# 3. throughput
# --------------------------------------------------------------------------

def bench_throughput(sizes: Sizes, data_dir) -> tuple[str, dict]:
    import torch

    from mdr.evaluation.digits import evaluate_onnx
    from mdr.data.mnist import load_split
    from mdr.training.nets import DIGITS, build_model, classes_in
    from mdr.models.registry import CHECKPOINT, model_dir, onnx_path

    torch.set_num_threads(1)
    name = model_name()
    images, labels = load_split("test", data_dir)
    images, labels = images[:sizes.test_size], labels[:sizes.test_size]
    checkpoint = torch.load(model_dir(name) / CHECKPOINT, map_location="cpu", weights_only=False)
    net = build_model(checkpoint["arch"], classes_in(checkpoint["state_dict"]))
    net.load_state_dict(checkpoint["state_dict"])
    net.eval()

    from mdr.recognition.classifier import OnnxClassifier

    runners = {}
    with torch.inference_mode():
        runners["torch fp32"] = lambda x: net(torch.from_numpy(x)).numpy()
        for precision, label in (("fp32", "ONNX fp32"), ("int8", "ONNX int8 static"),
                                 ("int8-dynamic", "ONNX int8 dynamic")):
            runners[label] = OnnxClassifier(onnx_path(name, precision)).predict_proba
        rng = np.random.default_rng(0)
        pool = images.astype(np.float32)[:, None] / 255.0
        results = {label: {} for label in runners}
        for batch in sizes.throughput_batches:
            index = rng.integers(0, len(pool), batch)
            x = np.ascontiguousarray(pool[index])
            reps = max(3, sizes.throughput_reps if batch >= 64 else sizes.throughput_reps * 4)
            for label, run in runners.items():
                run(x)
            times = {label: [] for label in runners}
            for _ in range(reps):
                for label, run in runners.items():  # interleaved: same conditions for all
                    start = time.perf_counter()
                    run(x)
                    times[label].append(time.perf_counter() - start)
            for label in runners:
                median, p95 = stats(times[label])
                results[label][batch] = (batch / (median / 1000.0), median, p95)

    files = {"torch fp32": model_dir(name) / CHECKPOINT, "ONNX fp32": onnx_path(name, "fp32"),
             "ONNX int8 static": onnx_path(name, "int8"), "ONNX int8 dynamic": onnx_path(name, "int8-dynamic")}
    accuracy = {}
    for label, precision in (("ONNX fp32", "fp32"), ("ONNX int8 static", "int8"),
                             ("ONNX int8 dynamic", "int8-dynamic")):
        accuracy[label] = evaluate_onnx(onnx_path(name, precision), images, labels)["accuracy"]
    with torch.inference_mode():
        x = torch.from_numpy(images.astype(np.float32)[:, None] / 255.0)
        predicted = torch.cat([net(x[k:k + 1000]) for k in range(0, len(x), 1000)])[:, :DIGITS].argmax(1).numpy()
    accuracy["torch fp32"] = float((predicted == labels).mean())
    fp32_size = files["ONNX fp32"].stat().st_size
    header = (["model", "file KB", "size vs ONNX fp32", f"MNIST test acc (n={len(labels)})"]
              + [f"digits/s @ {b}" for b in sizes.throughput_batches]
              + [f"vs ONNX fp32 @ {b}" for b in sizes.throughput_batches[-1:]])
    rows = []
    last = sizes.throughput_batches[-1]
    for label in runners:
        size = files[label].stat().st_size
        rows.append([label, f"{size / 1024:.0f}", f"{size / fp32_size:.0%}",
                     f"{accuracy[label]:.2%}"]
                    + [f"{results[label][b][0]:,.0f}" for b in sizes.throughput_batches]
                    + [f"{results[label][last][0] / results['ONNX fp32'][last][0]:.2f}x"])
    detail = table(["model"] + [f"batch {b}: median / p95 ms" for b in sizes.throughput_batches],
                   [[label] + [f"{results[label][b][1]:.3f} / {results[label][b][2]:.3f}"
                               for b in sizes.throughput_batches] for label in runners])
    text = (table(header, rows)
            + "\n\nOne thread each (as the app runs them); digits/s from the median time of a batch; "
              "the four runners are called in turn on the same batch. Time per batch:\n\n" + detail)
    data = {label: {str(b): list(v) for b, v in results[label].items()} for label in runners}
    data["accuracy"] = accuracy
    data["sizes"] = {label: files[label].stat().st_size for label in files}
    return text, data


# --------------------------------------------------------------------------
# 4. training
# --------------------------------------------------------------------------

def bench_training(sizes: Sizes, data_dir) -> tuple[str, dict]:
    import torch

    from mdr.data.mnist import load_split
    from mdr.models.registry import read_card
    from mdr.training.config import TrainConfig

    test_x, test_y = load_split("test", data_dir)
    test_x = torch.from_numpy(np.array(test_x[:sizes.test_size]))
    test_y = torch.from_numpy(test_y[:sizes.test_size].astype(np.int64))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows, shipped_rows, data = [], [], {}
    for device_name in devices:
        config = TrainConfig(**FAST_RECIPE, epochs=sizes.train_epochs, train_size=sizes.train_size,
                             data_dir=str(data_dir) if data_dir else None, device=device_name)
        epochs, reached = _fast_run(config, test_x, test_y)
        for epoch, seconds, total, acc in epochs:
            rows.append([device_name, epoch, f"{seconds:.1f}", f"{total:.1f}", f"{acc:.2%}"])
        epoch_median, epoch_p95 = stats([e[1] for e in epochs])
        rows.append([device_name, "median / p95 epoch", f"{epoch_median / 1000:.1f} / {epoch_p95 / 1000:.1f}", "", ""])
        data[f"fast-{device_name}"] = {"epochs": epochs, "seconds_to_99": reached}
        rows.append([device_name, "**to 99.0%**", "", f"{reached:.1f}" if reached else "not reached", ""])

        card = read_card(model_name())
        shipped = TrainConfig(**{k: v for k, v in card["config"].items() if k in TrainConfig.__dataclass_fields__})
        shipped.device, shipped.data_dir = device_name, str(data_dir) if data_dir else None
        per_step = _shipped_steps(shipped, sizes.shipped_steps)
        steps = card["training"]["steps"]
        median, p95 = stats(per_step)
        shipped_rows.append([device_name, card["config"]["arch"], f"{median:.1f} / {p95:.1f}", steps,
                             f"{median * steps / 1000:.0f}",
                             f"{card['training']['seconds']:.0f} ({card['training']['device']})"])
        data[f"shipped-{device_name}"] = {"step_ms": [median, p95], "steps": steps,
                                          "estimate_s": median * steps / 1000,
                                          "card_seconds": card["training"]["seconds"]}
    recipe = ", ".join(f"{k}={v}" for k, v in FAST_RECIPE.items())
    text = (
        f"Fast recipe ({recipe}, epochs={sizes.train_epochs}, train images="
        f"{sizes.train_size or 60000}); MNIST test accuracy (n={len(test_y)}) after each epoch, "
        "evaluation time not counted (epoch 1 includes loading the data):\n\n"
        + table(["device", "epoch", "epoch s", "training s so far", "test accuracy"], rows)
        + "\n\nShipped recipe (`card.json` config), timed over "
        f"{sizes.shipped_steps} optimizer steps after 3 warm-up steps (data loading and augmentation included):\n\n"
        + table(["device", "arch", "step median / p95 ms", "steps in the recipe", "estimated s",
                 "card: training s (device)"], shipped_rows)
        + ("" if "cuda" in devices else "\n\nNo CUDA device on this machine: CPU only.")
    )
    return text, data


def _fast_run(config, test_x, test_y) -> tuple[list[tuple[int, float, float, float]], float | None]:
    """Train with the project's own loop and test after each epoch, the test not timed.

    Returns (epoch, epoch seconds, training seconds so far, test accuracy) rows
    and the training seconds at which the target accuracy was first reached.
    """
    from mdr.training.loop import accuracy, choose_device, train

    device = choose_device(config.device)
    rows: list[tuple[int, float, float, float]] = []
    clock = {"mark": time.perf_counter(), "training": 0.0, "reached": None}

    def after_epoch(epoch: int, model) -> None:
        seconds = time.perf_counter() - clock["mark"]  # epoch 1 includes loading the data
        clock["training"] += seconds
        acc = accuracy(model, test_x, test_y, device)
        rows.append((epoch, seconds, clock["training"], acc))
        if clock["reached"] is None and acc >= TARGET_ACCURACY:
            clock["reached"] = clock["training"]
        clock["mark"] = time.perf_counter()

    train(config, on_epoch_end=after_epoch)
    return rows, clock["reached"]


def _shipped_steps(config, count: int) -> list[float]:
    """Seconds per optimizer step of ``config``, after 3 warm-up steps, timed
    between the training loop's per-step progress reports."""
    from mdr.training.loop import train

    config.train_size, config.epochs, config.val_size = config.batch_size * (count + 3), 1, 0
    stamps: list[float] = []
    train(config, on_progress=lambda p: p.epoch_end or stamps.append(time.perf_counter()), progress_every=1)
    return [float(t) for t in np.diff(stamps)[2:]]


# --------------------------------------------------------------------------
# 5. memory: bench/memory.py; 6. pen: bench/pen.py
# --------------------------------------------------------------------------


RUNNERS = {"accuracy": ("1. Recognition accuracy on canvas-like numbers", bench_accuracy),
           "latency": ("2. Latency of Recognizer.recognize vs. the baseline pipeline", bench_latency),
           "throughput": ("3. Model throughput, size and accuracy", bench_throughput),
           "training": ("4. Training speed", bench_training),
           "memory": ("5. Peak memory", bench_memory),
           "pen": ("6. Real handwriting (pen-digits, writers not trained on)", bench_pen),
           "finetune": ("9. Fine-tune on 200 corrections", bench_finetune)}


def machine() -> str:
    import onnxruntime

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"onnxruntime {onnxruntime.__version__}, numpy {np.__version__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every section")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"markdown file (default: {DEFAULT_OUT})")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--data", default=os.environ.get("MDR_DATA_DIR"),
                        help="MNIST folder (default: MDR_DATA_DIR)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    header = (f"# Benchmarks{' (quick)' if args.quick else ''}\n\n"
              f"Machine: {machine()}. Command: `python -m bench{' --quick' if args.quick else ''}`. "
              "Each section ends with the model it measured and the day; `--sections` re-runs some and "
              "keeps the others.\n")
    # A run of some sections keeps the file's header: it describes the sections it does not re-run.
    header = header if set(args.sections) == set(SECTIONS) else None
    everything, sections = {}, {}
    for name in args.sections:
        title, run = RUNNERS[name]
        section_start = time.perf_counter()
        print(f"... {title}", file=sys.stderr, flush=True)
        text, data = run(sizes, args.data)
        everything[name] = data
        sections[title] = (f"{text}\n\n_(model `{model_name()}`, {date.today().isoformat()}, "
                           f"{time.perf_counter() - section_start:.0f} s)_")
        print(f"## {title}\n\n{text}\n", flush=True)
        write_sections(args.out, sections, header)
    print(f"Total: {time.perf_counter() - started:.0f} s.", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1, default=str))
    print(f"Wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
