"""Score the recognizer against the original app's pipeline on canvas-like images.

MNIST test accuracy says little about numbers drawn on a canvas; this runs
both readers on the same synthetic images (:mod:`mdr.data.synth`), condition by
condition, so a change to the pipeline shows where it helps or hurts.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from mdr.data.synth import CONDITIONS, Sample, make_set, write_png

Reader = Callable[[np.ndarray], "str | tuple[str, Sequence[str]]"]
"""Reads the number in an image; raises when it cannot. It may also give the other readings it
offers a person under the result ("did you mean"), as ``(number, others)``."""


@dataclass
class ReaderScore:
    """How one reader did on one condition."""

    total: int = 0
    exact: int = 0
    """Readings equal to the true number (line breaks included)."""
    length_ok: int = 0
    """Readings with as many digits as the truth (line breaks ignored)."""
    digits_right: int = 0
    digits_compared: int = 0
    """Digit positions compared, over the readings whose length was right."""
    one_click: int = 0
    """Readings exactly right, or whose true number was among the other readings offered."""
    errors: Counter = field(default_factory=Counter)
    """Exceptions raised, by type name."""
    confusions: Counter = field(default_factory=Counter)
    """(true digit, digit read) of each wrong digit, over the readings whose length was right."""
    seconds: float = 0.0

    def add(self, truth: str, read: str | None, seconds: float, error: BaseException | None = None,
            offered: Sequence[str] = ()) -> bool:
        """Record one reading (and the other readings offered with it); returns whether it was exactly right."""
        self.total += 1
        self.seconds += seconds
        if error is not None:
            self.errors[type(error).__name__] += 1
            return False
        assert read is not None
        right = read == truth
        self.exact += right
        self.one_click += right or truth in offered
        want, got = truth.replace("\n", ""), read.replace("\n", "")
        if len(want) == len(got):
            self.length_ok += 1
            self.digits_compared += len(want)
            self.digits_right += sum(a == b for a, b in zip(want, got))
            self.confusions.update((a, b) for a, b in zip(want, got) if a != b)
        return right

    @property
    def exact_rate(self) -> float:
        return self.exact / self.total if self.total else 0.0

    @property
    def one_click_rate(self) -> float:
        return self.one_click / self.total if self.total else 0.0

    @property
    def length_rate(self) -> float:
        return self.length_ok / self.total if self.total else 0.0

    @property
    def digit_rate(self) -> float:
        return self.digits_right / self.digits_compared if self.digits_compared else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def mean_ms(self) -> float:
        return 1000 * self.seconds / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "exact": self.exact,
            "exact_rate": round(self.exact_rate, 4),
            "one_click_rate": round(self.one_click_rate, 4),
            "length_ok": self.length_ok,
            "length_rate": round(self.length_rate, 4),
            "digit_rate": round(self.digit_rate, 4),
            "errors": dict(self.errors),
            "mean_ms": round(self.mean_ms, 2),
        }


@dataclass
class ConditionResult:
    condition: str
    recognizer: ReaderScore
    baseline: ReaderScore
    recognizer_right: list[bool] = field(default_factory=list)
    """Whether the recognizer read each sample exactly, in the set's order (for breakdowns by sample)."""
    recognizer_read: list[str | None] = field(default_factory=list)
    """What the recognizer read of each sample (None where it raised), in the set's order."""
    recognizer_advice: list[tuple[str, ...]] = field(default_factory=list)
    """The kinds of advice the recognizer gave for each sample (:mod:`mdr.recognition.advice`)."""


def _read(reader: Reader, image: np.ndarray
          ) -> tuple[str | None, float, BaseException | None, tuple[str, ...], tuple[str, ...]]:
    """What ``reader`` read, its seconds, the error it raised, the other readings it offered and
    the kinds of advice it gave (a reader may return the number alone, or a tuple of them)."""
    start = time.perf_counter()
    try:
        read = reader(image)
    except Exception as e:  # counted, not hidden: the table shows each error type
        return None, time.perf_counter() - start, e, (), ()
    seconds = time.perf_counter() - start
    if isinstance(read, tuple):
        return read[0], seconds, None, tuple(read[1]), tuple(read[2]) if len(read) > 2 else ()
    return read, seconds, None, (), ()


def _failure_name(sample: Sample, index: int, read: str | None, error: BaseException | None) -> str:
    shown = type(error).__name__ if error is not None else (read or "nothing")
    return f"{sample.condition}-{index:03d}-true-{sample.number.replace(chr(10), '_')}-read-{shown.replace(chr(10), '_')}.png"


def compare_readers(recognizer: Reader, baseline: Reader, conditions: Iterable[str], n: int,
                    seed: int = 0, data_dir: str | os.PathLike | None = None,
                    failures_dir: Path | None = None, failures_per_condition: int = 5) -> list[ConditionResult]:
    """Run both readers on the same ``n`` MNIST-stroke images of each condition."""
    sets = ((condition, make_set(condition, n, seed=seed, data_dir=data_dir)) for condition in conditions)
    return compare_on_sets(recognizer, baseline, sets, failures_dir, failures_per_condition)


def compare_on_sets(recognizer: Reader, baseline: Reader, sets: Iterable[tuple[str, list[Sample]]],
                    failures_dir: Path | None = None, failures_per_condition: int = 5,
                    progress: Callable[[int], None] | None = None) -> list[ConditionResult]:
    """Run both readers on the same images, set by set (any source of samples).

    When ``failures_dir`` is given, the first images the recognizer gets wrong
    are saved there, named with the true and the read number. ``progress`` is told
    how many samples have been read, after each.
    """
    results = []
    done = 0
    for condition, samples in sets:
        result = ConditionResult(condition, ReaderScore(), ReaderScore())
        saved = 0
        for index, sample in enumerate(samples):
            read, seconds, error, offered, advice = _read(recognizer, sample.image)
            right = result.recognizer.add(sample.number, read, seconds, error, offered)
            result.recognizer_right.append(right)
            result.recognizer_read.append(read)
            result.recognizer_advice.append(advice)
            if not right and failures_dir is not None and saved < failures_per_condition:
                write_png(Path(failures_dir) / _failure_name(sample, index, read, error), sample.image)
                saved += 1
            result.baseline.add(sample.number, *_read(baseline, sample.image)[:4])
            done += 1
            if progress is not None:
                progress(done)
        results.append(result)
    return results


def _overall(results: list[ConditionResult], which: str) -> ReaderScore:
    total = ReaderScore()
    for result in results:
        score: ReaderScore = getattr(result, which)
        total.total += score.total
        total.exact += score.exact
        total.one_click += score.one_click
        total.length_ok += score.length_ok
        total.digits_right += score.digits_right
        total.digits_compared += score.digits_compared
        total.errors.update(score.errors)
        total.confusions.update(score.confusions)
        total.seconds += score.seconds
    return total


def to_dict(results: list[ConditionResult]) -> dict:
    return {
        "conditions": {r.condition: {"recognizer": r.recognizer.to_dict(), "baseline": r.baseline.to_dict()}
                       for r in results},
        "overall": {"recognizer": _overall(results, "recognizer").to_dict(),
                    "baseline": _overall(results, "baseline").to_dict()},
    }


def to_markdown(results: list[ConditionResult]) -> str:
    """One row per condition: exact-number and per-digit accuracy, errors, time."""
    header = ("| condition | n | exact (new) | exact (old) | digits (new) | digits (old) "
              "| errors (new) | errors (old) | ms (new) | ms (old) |")
    lines = [header, "|" + "---|" * 10]
    rows = [(r.condition, r.recognizer, r.baseline) for r in results]
    rows.append(("**all**", _overall(results, "recognizer"), _overall(results, "baseline")))
    for name, new, old in rows:
        lines.append(
            f"| {name} | {new.total} | {new.exact_rate:.1%} | {old.exact_rate:.1%} "
            f"| {new.digit_rate:.1%} | {old.digit_rate:.1%} | {new.error_count} | {old.error_count} "
            f"| {new.mean_ms:.1f} | {old.mean_ms:.1f} |"
        )
    lines.append("")
    lines.append("exact: whole number right (line breaks included). digits: per-digit accuracy over "
                 "readings with the right number of digits. errors: exceptions raised (no reading).")
    return "\n".join(lines)


def write_samples(folder: str | os.PathLike, per_condition: int = 3, seed: int = 0,
                  conditions: Iterable[str] | None = None,
                  data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Save a few PNGs per condition, named after condition and number, to look at."""
    written = []
    for condition in conditions or CONDITIONS:
        for index, sample in enumerate(make_set(condition, per_condition, seed=seed, data_dir=data_dir)):
            path = Path(folder) / f"{condition}-{index}-{sample.number.replace(chr(10), '_')}.png"
            write_png(path, sample.image)
            written.append(path)
    return written


def model_readers(model: str | None = None, precision: str = "int8",
                  knobs: Iterable[tuple[str, object]] = (), offers: bool = False) -> tuple[Reader, Reader]:
    """The recognizer (with ``knobs`` set, name and value) and the baseline, both on the same ONNX file;
    with ``offers``, the recognizer also gives the three other readings the app offers under a result
    and the kinds of advice it gives."""
    from mdr.recognition.advice import advice_for
    from mdr.recognition.baseline import BaselineRecognizer
    from mdr.recognition.config import RecognizerConfig
    from mdr.recognition.recognizer import Recognizer
    from mdr.models.registry import active_model_name, onnx_path

    recognizer = Recognizer(model=model, config=RecognizerConfig(**{"precision": precision, **dict(knobs)}))
    baseline = BaselineRecognizer(onnx_path(model or active_model_name(), precision))
    if offers:
        def read_with_offers(image: np.ndarray) -> tuple[str, list[str], list[str]]:
            recognition = recognizer.recognize(image)
            return (recognition.number, [a.number for a in recognition.alternatives(3)],
                    [a.kind for a in advice_for(recognition)])
        return read_with_offers, baseline.recognize
    return (lambda image: recognizer.recognize(image).number), baseline.recognize


def summary_dict(results: list[ConditionResult], **settings) -> dict:
    """``to_dict`` plus the settings that produced it, for ``--json``."""
    return {"settings": settings, **to_dict(results)}

