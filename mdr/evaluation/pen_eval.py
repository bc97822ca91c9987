"""Score the recognizer and the original app's pipeline on real handwriting.

Numbers are composed from pen-digits trajectories of writers the model was
not trained on (:mod:`mdr.data.pen`), one writer per number, and both readers
read the same images condition by condition (:mod:`mdr.evaluation.numbers`).
Besides exact numbers and per-digit accuracy, the report gives how often the
digit count came out right, how many touching neighbours really touch,
which digits are read as which, how far each condition's figure may move
on other writers (the writer interval), and which writers and which of their
pen digits carry the errors.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mdr.data.compose import Sample
from mdr.data.pen import PEN_CONDITIONS, VALIDATION_FRACTION, WRITER_SPLIT_SEED, make_pen_set, pen_bank
from mdr.evaluation.numbers import ConditionResult, Reader, _overall, compare_on_sets, model_readers, to_dict
from mdr.recognition.numeric import median

CONFUSIONS_SHOWN = 12
MISREAD_SHOWN = 10
"""Pen digits listed in the report's table of the digits misread most often."""
WRITERS_SHOWN = 5
"""Writers named in the report's line of the writers read worst."""
INTERVAL_LEVEL = 0.9
"""Coverage of the writer intervals: the middle 90% of the resampled rates."""
INTERVAL_ROUNDS = 2000
"""Groups of writers drawn for each interval."""
BRUSH_BANDS = (0.10, 0.15, 0.20, 0.25)
"""Edges of the brush-width-to-digit-height bands the report breaks exact numbers down by: a pen
trajectory stroked with a brush a quarter of the digit's height or more closes its loops and gaps
(a 60 px 8 drawn with a 20 px brush is a blob), which a person drawing with that brush would not do."""


class ExactShare:
    """Numbers read and how many exactly; the dataclasses below that count them declare both fields."""

    numbers: int
    exact: int

    @property
    def exact_rate(self) -> float:
        return self.exact / self.numbers if self.numbers else 0.0


@dataclass(frozen=True)
class BrushBand(ExactShare):
    """Exact numbers of one band of brush width / digit height, all conditions together."""

    low: float
    high: float | None
    numbers: int
    exact: int

    @property
    def label(self) -> str:
        return f"{self.low:.2f}-{self.high:.2f}" if self.high is not None else f">= {self.low:.2f}"


def brush_ratio(sample: Sample) -> float:
    """The brush width over the median digit height of a composed number."""
    if not sample.boxes:
        return 0.0
    return sample.brush / max(1.0, float(median(np.array([box[3] for box in sample.boxes], float))))


def brush_bands(ratios: list[float], right: list[bool], edges: tuple[float, ...] = BRUSH_BANDS) -> list[BrushBand]:
    """Exact numbers per band of brush ratio (bands with no number are left out)."""
    bounds = [0.0, *edges]
    bands = []
    for k, low in enumerate(bounds):
        high = bounds[k + 1] if k + 1 < len(bounds) else None
        inside = [ok for ratio, ok in zip(ratios, right) if ratio >= low and (high is None or ratio < high)]
        if inside:
            bands.append(BrushBand(low, high, len(inside), sum(inside)))
    return bands


ADVICE_ROWS = (("none", "no advice"), ("touching", "touching: leave space"),
               ("thick brush", "thick brush"))
"""The advice breakdown's rows: numbers given no advice, and those given each kind (a number given
both kinds counts in both rows)."""


@dataclass(frozen=True)
class AdviceRow(ExactShare):
    """Exact numbers among those the recognizer gave one kind of advice for (or none)."""

    advice: str
    numbers: int
    exact: int


def advice_rows(advice: list[tuple[str, ...]], right: list[bool]) -> list[AdviceRow]:
    """Exact numbers by the advice given for them, all conditions together (rows with no number left
    out): the advice is worth giving when the numbers it falls on read clearly worse."""
    rows = []
    for kind, label in ADVICE_ROWS:
        inside = [ok for given, ok in zip(advice, right) if (not given if kind == "none" else kind in given)]
        if inside:
            rows.append(AdviceRow(label, len(inside), sum(inside)))
    return rows


@dataclass(frozen=True)
class WriterInterval:
    """Where a condition's exact rate could land for another group of writers as many as these."""

    condition: str
    exact_rate: float
    low: float
    high: float
    writers: int


def writer_interval(right: list[bool], writers: list[int], rounds: int = INTERVAL_ROUNDS,
                    level: float = INTERVAL_LEVEL, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the exact rate when the writers are drawn again (with replacement).

    Numbers of one writer succeed and fail together (a writer's 4 that reads as 9 does so in every
    number), so the uncertainty that matters for writers never seen is that of the writers, not of
    the numbers: resampling numbers would give an interval several times too narrow."""
    if len(right) != len(writers):
        raise ValueError("one writer per number")
    if not right:
        return 0.0, 0.0
    ids = sorted(set(writers))
    position = {w: k for k, w in enumerate(ids)}
    counts = np.zeros(len(ids))
    hits = np.zeros(len(ids))
    for ok, writer in zip(right, writers):
        counts[position[writer]] += 1
        hits[position[writer]] += bool(ok)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(ids), size=(rounds, len(ids)))
    rates = hits[draws].sum(axis=1) / counts[draws].sum(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(rates, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class WriterScore(ExactShare):
    """Exact numbers of one writer, all conditions together."""

    writer: int
    numbers: int
    exact: int


def writer_scores(right: list[bool], writers: list[int]) -> list[WriterScore]:
    """Each writer's exact numbers, the writer read worst first."""
    numbers: Counter = Counter(writers)
    exact: Counter = Counter(w for ok, w in zip(right, writers) if ok)
    scores = [WriterScore(w, numbers[w], exact[w]) for w in numbers]
    return sorted(scores, key=lambda s: (s.exact_rate, -s.numbers, s.writer))


@dataclass(frozen=True)
class MisreadDigit:
    """One pen digit of the evaluation writers that the recognizer misread in some of the numbers it was
    drawn into (readings of the right length only, as for the digit errors)."""

    source: int
    """Its index in the pen-digits file."""
    writer: int
    written: str
    drawn: int
    """Numbers it was drawn into whose reading had the right length."""
    misread: int
    read_as: str
    """What it was read as most often when misread."""


def misread_digits(samples: list[Sample], readings: list[str | None],
                   writer_of: dict[int, int]) -> list[MisreadDigit]:
    """Every pen digit misread at least once, most often misread first.

    Each evaluation digit is drawn into many numbers, so one odd digit (a writer's 7 with a hooked
    top) can carry a large share of all errors: the list says how concentrated the errors are."""
    drawn: Counter = Counter()
    wrong: dict[int, Counter] = {}
    label: dict[int, str] = {}
    for sample, read in zip(samples, readings):
        want, got = sample.number.replace("\n", ""), (read or "").replace("\n", "")
        if read is None or len(want) != len(got) or len(sample.sources) != len(want):
            continue
        for source, a, b in zip(sample.sources, want, got):
            drawn[source] += 1
            label[source] = a
            if a != b:
                wrong.setdefault(source, Counter())[b] += 1
    digits = [MisreadDigit(source, writer_of.get(source, -1), label[source], drawn[source],
                           sum(reads.values()), reads.most_common(1)[0][0]) for source, reads in wrong.items()]
    digits.sort(key=lambda d: (-d.misread, -d.misread / d.drawn, d.source))
    return digits


@dataclass(frozen=True)
class PenEvalSettings:
    """What one pen-eval run reads, and with what."""

    n: int = 100
    """Numbers per condition."""
    seed: int = 0
    data: str | None = None
    """A pen-digits file or folder (default: the committed copy)."""
    writers: str = "eval"
    """"eval": the evaluation writers of the split; "validation": writers held out of training by
    ``--pen-validation``; "train": the non-evaluation writers; "all": every writer (a file of unseen writers)."""
    split_seed: int = WRITER_SPLIT_SEED
    validation_fraction: float = VALIDATION_FRACTION
    """With ``writers="validation"``: the validation share the models were trained with."""
    model: str | None = None
    precision: str = "int8"
    conditions: tuple[str, ...] = tuple(PEN_CONDITIONS)
    knobs: tuple[tuple[str, object], ...] = ()
    """Recognizer settings other than the defaults, (name, value) (``--set``)."""


@dataclass
class PenEvalReport:
    settings: PenEvalSettings
    results: list[ConditionResult]
    writers: int
    """Writers whose digits were drawn from."""
    touching_pairs: int = 0
    touching_touch: int = 0
    """Neighbour pairs of the touching condition, and how many of them really touch."""
    source: str = ""
    """The pen-digits file read."""
    model_name: str = ""
    failures: list[Path] = field(default_factory=list)
    by_brush: list[BrushBand] = field(default_factory=list)
    """The recognizer's exact numbers by brush width / digit height, all conditions together."""
    intervals: list[WriterInterval] = field(default_factory=list)
    """The recognizer's exact rate per condition with its writer interval (:func:`writer_interval`)."""
    by_writer: list[WriterScore] = field(default_factory=list)
    """The recognizer's exact numbers per writer, worst first (:func:`writer_scores`)."""
    misread: list[MisreadDigit] = field(default_factory=list)
    """The recognizer's misread pen digits, most often misread first (:func:`misread_digits`)."""
    by_advice: list[AdviceRow] = field(default_factory=list)
    """The recognizer's exact numbers by the advice it gave for them (:func:`advice_rows`)."""

    @property
    def digit_errors(self) -> int:
        """The recognizer's wrong digits, over the readings of the right length, all conditions."""
        return sum(_overall(self.results, "recognizer").confusions.values())

    @property
    def touching_share(self) -> float | None:
        return self.touching_touch / self.touching_pairs if self.touching_pairs else None


def run_pen_eval(settings: PenEvalSettings, readers: tuple[Reader, Reader] | None = None,
                 failures_dir: Path | None = None,
                 progress: Callable[[float], None] | None = None) -> PenEvalReport:
    """Compose ``settings.n`` numbers per condition and read each with both readers;
    ``progress`` is told the share of numbers read so far (0..1) as they are read."""
    from mdr.data.pen import cached_pen

    bank = pen_bank(settings.data, settings.writers, settings.split_seed, settings.validation_fraction)
    recognizer, baseline = readers or model_readers(settings.model, settings.precision, settings.knobs,
                                                    offers=True)
    sets = [(condition, make_pen_set(condition, settings.n, settings.seed, bank)) for condition in settings.conditions]
    pairs = [t for condition, samples in sets for s in samples for t in s.touching
             if PEN_CONDITIONS[condition].touching]
    total = max(1, sum(len(samples) for _, samples in sets))
    results = compare_on_sets(recognizer, baseline, sets, failures_dir,
                              progress=None if progress is None else lambda done: progress(done / total))
    ratios = [brush_ratio(s) for _, samples in sets for s in samples]
    right = [ok for result in results for ok in result.recognizer_right]
    writer_of = {d.index: writer for writer, labels in bank.by_writer.items() for ds in labels for d in ds}
    writers_per_set = [[writer_of[s.sources[0]] for s in samples] for _, samples in sets]
    intervals = []
    for (condition, _), result, writers in zip(sets, results, writers_per_set):
        low, high = writer_interval(result.recognizer_right, writers)
        intervals.append(WriterInterval(condition, result.recognizer.exact_rate, low, high, len(set(writers))))
    all_writers = [w for writers in writers_per_set for w in writers]
    misread = misread_digits([s for _, samples in sets for s in samples],
                             [read for result in results for read in result.recognizer_read], writer_of)
    return PenEvalReport(settings, results, len(bank.writers), len(pairs), sum(pairs),
                         str(cached_pen(settings.data).path), _model_name(settings.model),
                         by_brush=brush_bands(ratios, right), intervals=intervals,
                         by_writer=writer_scores(right, all_writers), misread=misread,
                         by_advice=advice_rows([a for result in results for a in result.recognizer_advice], right))


def _model_name(model: str | None) -> str:
    from mdr.models.registry import active_model_name

    return str(model) if model else active_model_name()


def _confusion_rows(report: PenEvalReport) -> list[tuple[str, str, int, int]]:
    new: Counter = _overall(report.results, "recognizer").confusions
    old: Counter = _overall(report.results, "baseline").confusions
    pairs = sorted(set(new) | set(old), key=lambda p: (-new[p], -old[p], p))
    return [(a, b, new[(a, b)], old[(a, b)]) for a, b in pairs[:CONFUSIONS_SHOWN]]


def to_markdown(report: PenEvalReport) -> str:
    """Per condition: exact numbers, digit counts and digits right, recognizer (new) vs original (old)."""
    lines = ["| condition | n | exact (new) | exact (old) | one click (new) | length (new) | length (old) "
             "| digits (new) | digits (old) | errors (new) | errors (old) |", "|" + "---|" * 11]
    rows = [(r.condition, r.recognizer, r.baseline) for r in report.results]
    rows.append(("**all**", _overall(report.results, "recognizer"), _overall(report.results, "baseline")))
    for name, new, old in rows:
        lines.append(f"| {name} | {new.total} | {new.exact_rate:.1%} | {old.exact_rate:.1%} "
                     f"| {new.one_click_rate:.1%} | {new.length_rate:.1%} | {old.length_rate:.1%} "
                     f"| {new.digit_rate:.1%} | {old.digit_rate:.1%} | {new.error_count} | {old.error_count} |")
    s = report.settings
    who = ("all writers" if s.writers == "all" else
           f"validation writers (share {s.validation_fraction:g}) of the split (seed {s.split_seed})"
           if s.writers == "validation" else f"{s.writers} writers of the split (seed {s.split_seed})")
    lines += ["", f"{report.writers} {who} of `{Path(report.source).name}`, one writer per number; "
                  f"seed {s.seed}; model `{report.model_name}` ({s.precision})"
                  + "".join(f"; {name}={value}" for name, value in s.knobs) + ". exact: whole number right "
                  "(line breaks included); one click: exact, or the true number among the three other readings "
                  "offered under the result (Did you mean); length: as many digits as written; digits: "
                  "per-digit accuracy over the readings of the right length."]
    if report.touching_share is not None:
        lines.append(f"touching: {report.touching_touch} of {report.touching_pairs} neighbour pairs "
                     f"({report.touching_share:.1%}) really touch.")
    if report.intervals:
        lines += ["", "Exact numbers (recognizer) on another group of as many writers: the middle "
                      f"{INTERVAL_LEVEL:.0%} of the rates of {INTERVAL_ROUNDS} groups drawn from these writers "
                      "again (with replacement). A writer's numbers fail together, so this is how far the "
                      "figure may move on writers never seen.", "",
                  "| condition | exact | writers | interval |", "|---|---|---|---|"]
        lines += [f"| {i.condition} | {i.exact_rate:.1%} | {i.writers} | {i.low:.1%}-{i.high:.1%} |"
                  for i in report.intervals]
    if report.by_brush:
        lines += ["", "Exact numbers (recognizer, all conditions) by brush width / digit height: a thick brush on "
                      "small digits closes loops and gaps a pen left open.", "",
                  "| brush / height | numbers | exact |", "|---|---|---|"]
        lines += [f"| {b.label} | {b.numbers} | {b.exact_rate:.1%} |" for b in report.by_brush]
    if report.by_advice and any(row.advice != ADVICE_ROWS[0][1] for row in report.by_advice):
        lines += ["", "Exact numbers (recognizer, all conditions) by the advice the Recognize page gives for "
                      "them (`mdr.recognition.advice`):", "",
                  "| advice | numbers | exact |", "|---|---|---|"]
        lines += [f"| {row.advice} | {row.numbers} | {row.exact_rate:.1%} |" for row in report.by_advice]
    if report.by_writer:
        worst = report.by_writer[:WRITERS_SHOWN]
        lines += ["", f"Exact numbers (recognizer, all conditions) per writer, the {len(worst)} read worst of "
                      f"{len(report.by_writer)}: " + ", ".join(f"writer {w.writer} {w.exact_rate:.1%} of {w.numbers}"
                                                               for w in worst) + "."]
    confusions = _confusion_rows(report)
    if confusions:
        lines += ["", "Digit errors, true -> read (readings of the right length, all conditions):", "",
                  "| true | read | recognizer | original |", "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {n} | {o} |" for a, b, n, o in confusions]
    if report.misread:
        shown = report.misread[:MISREAD_SHOWN]
        carried = sum(d.misread for d in shown)
        lines += ["", f"Pen digits misread most often (recognizer): each digit is drawn into many numbers, and "
                      f"these {len(shown)} of the {len(report.misread)} digits ever misread carry {carried} of the "
                      f"{report.digit_errors} digit errors ({carried / max(1, report.digit_errors):.0%}).", "",
                  "| pen digit | writer | written | read as | misread | drawn |", "|---|---|---|---|---|---|"]
        lines += [f"| {d.source} | {d.writer} | {d.written} | {d.read_as} | {d.misread} | {d.drawn} |"
                  for d in shown]
    return "\n".join(lines)


def report_dict(report: PenEvalReport) -> dict:
    """Everything in the table, as JSON-ready data, with the settings that produced it."""
    data = to_dict(report.results)
    for which in ("recognizer", "baseline"):
        confusions = _overall(report.results, which).confusions
        data["overall"][which]["confusions"] = {f"{a}->{b}": n for (a, b), n in confusions.most_common()}
    return {"settings": asdict(report.settings), "model": report.model_name, "source": report.source,
            "writers": report.writers,
            "touching": {"pairs": report.touching_pairs, "touch": report.touching_touch,
                         "share": report.touching_share},
            "intervals": {i.condition: {"exact_rate": round(i.exact_rate, 4), "low": round(i.low, 4),
                                        "high": round(i.high, 4), "writers": i.writers,
                                        "level": INTERVAL_LEVEL} for i in report.intervals},
            "by_brush": [{"band": b.label, "numbers": b.numbers, "exact": b.exact,
                          "exact_rate": round(b.exact_rate, 4)} for b in report.by_brush],
            "by_advice": [{"advice": row.advice, "numbers": row.numbers, "exact": row.exact,
                           "exact_rate": round(row.exact_rate, 4)} for row in report.by_advice],
            "by_writer": [{"writer": w.writer, "numbers": w.numbers, "exact": w.exact,
                           "exact_rate": round(w.exact_rate, 4)} for w in report.by_writer],
            "digit_errors": report.digit_errors, "misread_digits": len(report.misread),
            "misread": [asdict(d) for d in report.misread[:MISREAD_SHOWN]], **data}
