"""The steps of one recognition as the Pipeline page shows them, and the knobs a person can turn.

Plain data and functions (no Streamlit, no drawing): the page, its tests and the
intermediates export all agree on the same step numbers, titles and knobs.
"""
from __future__ import annotations

import json
import typing
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from mdr.recognition.config import DEFAULT_CONFIG, Binarization, Precision, RecognizerConfig
from mdr.recognition.results import Recognition


# --------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    number: int
    key: str
    title: str
    explanation: str
    """One line saying what the step does; the page adds what it found."""
    needs: int
    """The step a recognition must have reached (:func:`last_step_reached`) for this one to have
    something to show; steps 4 and 5 only need the ink mask of step 3, for instance."""

    @property
    def heading(self) -> str:
        return f"{self.number} · {self.title}"


STEPS_FILE = Path(__file__).with_name("pipeline_steps.json")
"""The words of each step (title, what it does) and what it needs, kept apart from the code like
the gallery's; numbered in the order they stand there."""


def _load_steps() -> tuple[Step, ...]:
    entries = json.loads(STEPS_FILE.read_text(encoding="utf-8"))["steps"]
    return tuple(Step(number, e["key"], e["title"], e["explanation"], e["needs"])
                 for number, e in enumerate(entries, start=1))


STEPS: tuple[Step, ...] = _load_steps()


def last_step_reached(recognition: Recognition | None, stopped: bool) -> int:
    """The number of the last step that has something to show.

    ``stopped`` is True when the recognizer raised NothingToReadError: then
    only the steps before the refusal carry intermediates.
    """
    if recognition is None:
        return 0
    if recognition.polarity is None:
        return 1
    if recognition.binarization is None:
        return 2
    if stopped or not recognition.digits:
        return 5
    return len(STEPS)


# --------------------------------------------------------------------------
# Knobs: the RecognizerConfig fields a person can turn on the page
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Knob:
    name: str
    """A field of :class:`RecognizerConfig`."""
    label: str
    help: str
    kind: str  # "select", "slider", "toggle", "radio"
    options: tuple = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    needs: tuple[str, Any] | None = None
    """(another knob, its value): this one means nothing, and is greyed out, unless that knob has it."""


KNOBS: tuple[Knob, ...] = (
    Knob("binarization", "Binarization method",
         "otsu picks the threshold from the image's histogram; fixed uses the threshold below; "
         "adaptive compares each pixel with its neighbourhood.",
         "select", options=typing.get_args(Binarization)),
    Knob("fixed_threshold", "Fixed threshold",
         "Ink brightness (0-255, after polarity) above which a pixel is ink. "
         "Used when the method is 'fixed'.",
         "slider", low=1, high=254, step=1, needs=("binarization", "fixed")),
    Knob("min_speck_size", "Minimum speck size",
         "A mark whose longer side is below this fraction of the tallest mark is dropped "
         "as a speck (marks under 1.5 stroke widths always are).",
         "slider", low=0.0, high=1.0, step=0.05),
    Knob("merge_overlap", "Merge overlap",
         "A partial stroke joins the digit above or below it when it overlaps at least this "
         "fraction of its own width.",
         "slider", low=0.0, high=1.0, step=0.05),
    Knob("merge_by_reading", "Join strokes that read as one digit",
         "Two close neighbours, one of them doubtful to the classifier, are joined when it reads them "
         "together as one digit at least this sure (an open 4 drawn as an L and a bar that never met). "
         "Needs a model with the 'not a single digit' class. 0: off.",
         "slider", low=0.0, high=1.0, step=0.05),
    Knob("split_enabled", "Split touching digits",
         "Cut parts wider than a digit into several digits.", "toggle"),
    Knob("split_sensitivity", "Split sensitivity",
         "Higher splits more eagerly: a part is a candidate when width/height exceeds "
         "1.15 / sensitivity.",
         "slider", low=0.5, high=2.0, step=0.05, needs=("split_enabled", True)),
    Knob("normalize_stroke", "Normalize stroke width",
         "Thin thick strokes and thicken thin ones to MNIST's pen width before reading.", "toggle"),
    Knob("use_strip_reader", "Read wide parts with the strip reader",
         "With a model that has a strip reader: it reads wide and doubtful parts as strings (how many "
         "digits, and which) and gives a second opinion on every other digit. Off: cuts are searched "
         "with the digit classifier alone.", "toggle"),
    Knob("strip_agreement", "Strip reader's weight on cut pieces",
         "A cut piece is read by the digit classifier times the strip reader raised to this power "
         "(0: the classifier alone).",
         "slider", low=0.0, high=10.0, step=0.5, needs=("use_strip_reader", True)),
    Knob("strip_second_opinion", "Strip reader's second opinion",
         "Weight of the strip reader's own reading of each single digit, multiplied into the "
         "classifier's (0: off).",
         "slider", low=0.0, high=5.0, step=0.25, needs=("use_strip_reader", True)),
    Knob("precision", "Model precision",
         "int8 is the quantized model the app uses; fp32 the full-precision one.",
         "radio", options=typing.get_args(Precision)),
)


def knob_defaults(config: RecognizerConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    """Each knob's value in ``config`` (by default: the RecognizerConfig defaults)."""
    names = {f.name for f in fields(RecognizerConfig)}
    return {k.name: getattr(config, k.name) for k in KNOBS if k.name in names}


def config_from_knobs(values: dict[str, Any], base: RecognizerConfig = DEFAULT_CONFIG) -> RecognizerConfig:
    """``base`` with the knobs in ``values`` changed (types as the fields expect)."""
    defaults = knob_defaults(base)
    changes = {}
    for name, value in values.items():
        if name not in defaults:
            continue
        default = defaults[name]
        if isinstance(default, bool):
            value = bool(value)
        elif isinstance(default, int):
            value = int(round(float(value)))
        elif isinstance(default, float):
            value = float(value)
        changes[name] = value
    return replace(base, **changes)


def changed_knobs(config: RecognizerConfig, base: RecognizerConfig = DEFAULT_CONFIG) -> dict[str, tuple[Any, Any]]:
    """name -> (default, current) for every knob not at its default."""
    return {name: (default, getattr(config, name))
            for name, default in knob_defaults(base).items() if getattr(config, name) != default}
