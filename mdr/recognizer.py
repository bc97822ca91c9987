"""The recognizer: image in, number out, with every step kept for display.

Detection (segmentation) and recognition (the classifier) are separate
steps composed here; pre- and post-processing live in their own modules.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import registry
from .classifier import OnnxClassifier, load_classifier
from .config import DEFAULT_CONFIG, RecognizerConfig
from .errors import ModelError, NothingToReadError
from .normalize import normalize_digit
from .preprocess import binarize, decide_polarity, rescale_for_work, to_grey
from .results import Digit, Recognition, SplitCandidate, SplitDecision
from .segment import (Part, cut_part, estimate_stroke_width, find_components, group_lines,
                      merge_components, needs_split, remove_specks, split_candidates, split_score,
                      whole_score)

MAX_PARTS = 120
"""More separate marks than this is noise or a photo, not a handwritten number."""
SPLIT_ROUNDS = 3


class Recognizer:
    """Reads whole numbers. Create once and reuse: the model session is shared."""

    def __init__(self, model: str | Path | None = None, config: RecognizerConfig = DEFAULT_CONFIG):
        self.config = config
        self.model_name = str(model) if model is not None else registry.active_model_name()
        self.warning: str | None = None
        self._classifiers: dict[str, OnnxClassifier] = {}
        try:
            self.classifier(config.precision)
        except ModelError as error:
            if model is not None or self.model_name == registry.SHIPPED_MODEL:
                raise
            self.warning = (f"The active model '{self.model_name}' could not be loaded ({error}) "
                            f"The shipped model '{registry.SHIPPED_MODEL}' is serving instead.")
            self.model_name = registry.SHIPPED_MODEL
            self.classifier(config.precision)

    def classifier(self, precision: str | None = None) -> OnnxClassifier:
        precision = precision or self.config.precision
        if precision not in self._classifiers:
            self._classifiers[precision] = load_classifier(registry.onnx_path(self.model_name, precision))
        return self._classifiers[precision]

    def classify(self, batch: np.ndarray, precision: str | None = None) -> np.ndarray:
        """Probabilities [N, 10] for 28x28 inputs (0..1, ink bright)."""
        return self.classifier(precision).predict_proba(batch)

    def recognize(self, image: np.ndarray, config: RecognizerConfig | None = None) -> Recognition:
        """Read the number in ``image``.

        Raises InvalidImageError / ImageTooLargeError for input that is not a
        usable image, NothingToReadError (with the partial result attached)
        when there are no digits in it.
        """
        run = _Run(self, config or self.config)
        return run.execute(image)


class _Run:
    """One recognition: holds the intermediates as they are produced."""

    def __init__(self, recognizer: Recognizer, config: RecognizerConfig):
        self.recognizer = recognizer
        self.config = config
        self.timings: dict[str, float] = {}
        self.state: dict = {"merges": [], "splits": [], "components": [], "stroke_width": 0.0,
                            "digit_height": 0.0}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + (time.perf_counter() - start) * 1000.0

    def classify(self, inputs: list[np.ndarray]) -> np.ndarray:
        if not inputs:
            return np.zeros((0, 10), np.float32)
        with self.stage("classify"):
            return self.recognizer.classify(np.stack(inputs), self.config.precision)

    def execute(self, image: np.ndarray) -> Recognition:
        s = self.state
        with self.stage("input"):
            grey = to_grey(image, self.config)
            s["original_shape"] = tuple(np.shape(image))
            s["grey"], s["scale"] = rescale_for_work(grey, self.config)
        try:
            with self.stage("polarity"):
                s["ink"], s["polarity"] = decide_polarity(s["grey"])
            with self.stage("binarize"):
                s["mask"], s["binarization"] = binarize(s["ink"], self.config)
            with self.stage("components"):
                s["labels"], s["components"] = find_components(s["mask"])
                s["stroke_width"] = estimate_stroke_width(s["mask"])
                kept, s["digit_height"] = remove_specks(s["components"], s["stroke_width"], self.config)
            if not kept:
                specks = len(s["components"])
                raise NothingToReadError(
                    f"Nothing to read: only {specks} small mark{'s' if specks != 1 else ''} "
                    "(dots or specks) were found. Draw digits larger than that."
                )
            if len(kept) > MAX_PARTS:
                raise NothingToReadError(
                    f"Nothing to read: {len(kept)} separate marks were found, which looks like noise "
                    "or a photo rather than a handwritten number."
                )
            with self.stage("merge"):
                parts, s["merges"] = merge_components(kept, s["labels"], s["digit_height"], self.config)
            parts = self.split(parts)
            with self.stage("normalize"):
                steps = [normalize_digit(p.mask, self.config, self._stroke_of(p)) for p in parts]
            probabilities = self.classify([st.final for st in steps])
            with self.stage("lines"):
                lines = group_lines([p.box for p in parts])
        except NothingToReadError as error:
            error.recognition = self.build([], [], [], [])
            raise
        return self.build(parts, steps, probabilities, lines)

    def _stroke_of(self, part: Part) -> float:
        # The whole drawing's brush width is steadier than one small digit's.
        return self.state["stroke_width"] or estimate_stroke_width(part.mask)

    def split(self, parts: list[Part]) -> list[Part]:
        """Cut parts that hold several touching digits, judged by the classifier."""
        s, cfg = self.state, self.config
        done: list[Part] = []
        pending = parts
        for _ in range(SPLIT_ROUNDS):
            wide = [p for p in pending if needs_split(p, s["digit_height"], cfg)]
            done += [p for p in pending if not needs_split(p, s["digit_height"], cfg)]
            if not wide:
                pending = []
                break
            with self.stage("split"):
                plans = []
                inputs = []
                for part in wide:
                    cuts = []
                    for x, source in split_candidates(part, s["stroke_width"]):
                        pieces = cut_part(part, x)
                        if pieces is not None:
                            cuts.append((x, source, pieces))
                    plans.append((part, cuts))
                    inputs.append(normalize_digit(part.mask, cfg, s["stroke_width"]).final)
                    for _, _, pieces in cuts:
                        inputs += [normalize_digit(p.mask, cfg, s["stroke_width"]).final for p in pieces]
            probabilities = self.classify(inputs)
            with self.stage("split"):
                row = 0
                pending = []
                for part, cuts in plans:
                    whole = probabilities[row]
                    row += 1
                    kept_whole = whole_score(float(whole.max()), part.aspect, cfg)
                    candidates = []
                    for x, source, pieces in cuts:
                        piece_probs = probabilities[row:row + 2]
                        row += 2
                        score = split_score([float(p.max()) for p in piece_probs],
                                            [p.box[3] for p in pieces], part.box[3])
                        candidates.append(SplitCandidate(part.box[0] + x, source, score,
                                                         [int(p.argmax()) for p in piece_probs]))
                    best = max(range(len(candidates)), key=lambda k: candidates[k].score, default=None)
                    if best is not None and candidates[best].score > kept_whole:
                        chosen = best
                        reason = (f"cut at x={candidates[best].cut_x} scores {candidates[best].score:.2f} "
                                  f"> {kept_whole:.2f} as one digit")
                        pending += list(cuts[best][2])
                    else:
                        chosen = None
                        reason = f"kept whole: {kept_whole:.2f} as one digit beats every cut"
                        done.append(part)
                    s["splits"].append(SplitDecision(part.box, kept_whole, candidates, chosen, reason))
        return done + pending

    def build(self, parts: list[Part], steps: list, probabilities: np.ndarray,
              lines: list[list[int]]) -> Recognition:
        s, cfg = self.state, self.config
        scale = s.get("scale", 1.0)
        digits_by_part: list[Digit] = []
        for index, (part, step) in enumerate(zip(parts, steps)):
            probs = probabilities[index]
            order = np.argsort(-probs)[:3]
            x, y, w, h = part.box
            box = (int(x / scale), int(y / scale), max(1, int(round(w / scale))), max(1, int(round(h / scale))))
            line = next(n for n, members in enumerate(lines) if index in members)
            confidence = float(probs[order[0]])
            digits_by_part.append(Digit(
                digit=int(order[0]), confidence=confidence, box=box, line=line,
                top3=[(int(d), float(probs[d])) for d in order], probabilities=probs.astype(np.float32),
                steps=step, low_confidence=confidence < cfg.low_confidence,
            ))
        ordered = [index for line in lines for index in line]
        digits = [digits_by_part[i] for i in ordered]
        position = {part_index: n for n, part_index in enumerate(ordered)}
        reading_lines = [[position[i] for i in line] for line in lines]
        number = "\n".join("".join(str(digits[i].digit) for i in line) for line in reading_lines)
        empty = np.zeros((1, 1), np.uint8)
        return Recognition(
            number=number, digits=digits, lines=reading_lines,
            original_shape=s.get("original_shape", ()), scale=scale,
            grey=s.get("grey", empty), ink=s.get("ink", empty), polarity=s.get("polarity"),
            binarization=s.get("binarization"), mask=s.get("mask", empty),
            labels=s.get("labels", np.zeros((1, 1), np.int32)), components=s["components"],
            stroke_width=s["stroke_width"], digit_height=s["digit_height"],
            merges=s["merges"], splits=s["splits"], timings_ms=dict(self.timings),
            model_name=self.recognizer.model_name, precision=cfg.precision,
        )
