"""The recognizer: image in, number out, with every step kept for display.

Detection (segmentation) and recognition (the classifier) are separate
steps composed here; pre- and post-processing live in their own modules.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mdr.models import registry
from mdr.recognition.classifier import DIGITS, REJECT_CLASS, OnnxClassifier, load_classifier
from mdr.recognition.config import DEFAULT_CONFIG, RecognizerConfig
from mdr.errors import ModelError, NothingToReadError
from mdr.recognition.normalize import normalize_digit
from mdr.recognition.preprocess import binarize, decide_polarity, rescale_for_work, to_grey
from mdr.recognition.results import (Digit, MergeDecision, Recognition, SplitCandidate, SplitDecision,
                                     StripEvidence)
from mdr.recognition.strip import (STRIP_PAD, StripReader, StripReading, greedy_decode,
                                   load_strip_reader, strip_input)
from mdr.recognition.segment import (Part, cut_paths, estimate_stroke_width, group_lines, join_parts, label_ink,
                                     may_hold_two, merge_by_reading_candidates, merge_components, needs_split,
                                     pieces_between, remove_specks, split_candidates, typical_width)
from mdr.recognition.split_scoring import (CUT_COST, SIDE_HOLES_COST, best_segmentation, has_side_by_side_holes,
                                           hole_count, piece_spans, width_penalty)

MAX_PARTS = 120
"""More separate marks than this is noise or a photo, not a handwritten number."""


@dataclass
class _SplitPlan:
    """One part's split search before scoring: candidate cuts, their paths, the pieces by span."""

    part: Part
    cuts: list[tuple[int, str]]
    edges: list[int]
    pieces: dict[tuple[int, int], Part]
    paths: list
    two_holes: bool
    """Whether the part has two holes or more: else none of its pieces can."""


class Recognizer:
    """Reads whole numbers. Create once and reuse: the model session is shared."""

    def __init__(self, model: str | Path | None = None, config: RecognizerConfig = DEFAULT_CONFIG):
        self.config = config
        self.warning: str | None = None
        if model is not None:
            self.model_name = str(model)
        else:
            self.model_name, problem = registry.read_active()
            if problem:
                self.warning = (f"The active model setting is broken ({problem}). "
                                f"The shipped model '{registry.SHIPPED_MODEL}' is serving instead.")
        self._classifiers: dict[str, OnnxClassifier] = {}
        self._strip_readers: dict[str, StripReader | None] = {}
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

    def strip_reader(self, precision: str | None = None) -> StripReader | None:
        """The model's strip reader, or None when it has none. A broken strip file is reported in
        :attr:`warning` and the cut search serves instead: the digits still read."""
        precision = precision or self.config.precision
        if precision not in self._strip_readers:
            reader = None
            path = registry.strip_path(self.model_name, precision)
            if path.is_file():
                try:
                    reader = load_strip_reader(path)
                except ModelError as error:
                    self.warning = f"{error} Touching digits are cut by searching instead."
            self._strip_readers[precision] = reader
        return self._strip_readers[precision]

    def classify(self, batch: np.ndarray, precision: str | None = None) -> np.ndarray:
        """Probabilities [N, 10] for 28x28 inputs (0..1, ink bright); [N, 11] with a model
        that has the "not a single digit" class (column 10)."""
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

    @property
    def classes(self) -> int:
        """Columns of this run's probabilities: 11 when the reject class is read, else 10."""
        return self.recognizer.classifier(self.config.precision).classes if self.config.use_reject else DIGITS

    @property
    def cut_cost(self) -> float:
        return self.config.reject_cut_cost if self.classes > DIGITS else CUT_COST

    def classify(self, inputs: list[np.ndarray]) -> np.ndarray:
        if not inputs:
            return np.zeros((0, self.classes), np.float32)
        with self.stage("classify"):
            probabilities = self.recognizer.classify(np.stack(inputs), self.config.precision)
        if probabilities.shape[1] > self.classes:  # the reject class set aside: digits renormalized
            digits = probabilities[:, :DIGITS]
            probabilities = digits / np.maximum(digits.sum(axis=1, keepdims=True), 1e-12)
        return probabilities

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
                s["labels"], s["components"] = label_ink(s["mask"])
                s["stroke_width"] = estimate_stroke_width(s["mask"])
                kept, s["digit_height"] = remove_specks(s["components"], s["stroke_width"], self.config,
                                                        s["mask"].shape)
            if not kept:
                specks = len(s["components"])
                raise NothingToReadError(
                    "Nothing to read: only a small mark (a dot or speck) was found. Draw digits larger than that."
                    if specks == 1 else
                    f"Nothing to read: only {specks} small marks (dots or specks) were found. "
                    "Draw digits larger than that."
                )
            if len(kept) > MAX_PARTS:
                raise NothingToReadError(
                    f"Nothing to read: {len(kept)} separate marks were found, which looks like noise "
                    "or a photo rather than a handwritten number."
                )
            with self.stage("merge"):
                parts, s["merges"] = merge_components(kept, s["labels"], s["digit_height"], self.config)
            self.read_whole(parts)
            parts = self.merge_by_reading(parts)
            parts = self.split(parts)
            steps, probabilities = self.read(parts)
            seconds = self.second_opinions(parts, probabilities)
            with self.stage("lines"):
                lines = group_lines([p.box for p in parts])
        except NothingToReadError as error:
            error.recognition = self.build([], [], [], [])
            raise
        return self.build(parts, steps, probabilities, lines, seconds)

    def second_opinions(self, parts: list[Part], probabilities: np.ndarray) -> list[tuple[int, float] | None]:
        """Read every digit the strip reader did not cut (and not too narrow) with the strip reader
        alone, in one call; where it reads one digit, multiply its probabilities into ``probabilities``
        (in place). The digit and confidence it gave, per part (None: not asked, or not one digit)."""
        cfg, s = self.config, self.state
        seconds: list[tuple[int, float] | None] = [None] * len(parts)
        reader = self.recognizer.strip_reader(cfg.precision) if cfg.use_strip_reader else None
        if reader is None or cfg.strip_second_opinion <= 0:
            return seconds
        cut = s.setdefault("strip_pieces", set())
        known = s.setdefault("strip_single", {})
        asked = [k for k, p in enumerate(parts) if id(p) not in cut and p.aspect >= cfg.second_opinion_min_aspect]
        todo = [k for k in asked if id(parts[k]) not in known]
        with self.stage("strip"):
            strips = [strip_input(parts[k].mask, s["stroke_width"]) for k in todo]
            for k, frames in zip(todo, reader.frame_probabilities_batched(strips)):
                known[id(parts[k])] = greedy_decode(frames, stride=reader.stride)
            for k in asked:
                reading = known[id(parts[k])]
                if len(reading.digits) != 1:
                    continue
                digit = reading.digits[0]
                probabilities[k] = _agree(probabilities[k], digit.probabilities, cfg.strip_second_opinion)
                seconds[k] = (digit.digit, digit.confidence)
        return seconds

    def merge_by_reading(self, parts: list[Part]) -> list[Part]:
        """Join neighbours that read as one digit together and not apart: close on one line, or one
        above the other sharing columns, one digit's size together
        (:func:`~mdr.recognition.segment.merge_by_reading_candidates`), one
        of them doubtful to the classifier, and the two together read as one digit. An open 4 drawn
        as an L and a bar that never met reads as a doubtful 6 and a 1, and together as a sure 4;
        two separate digits together read as "not a single digit", so only a classifier with that
        class is asked. Each pair asked is recorded with the merges."""
        cfg, s = self.config, self.state
        if cfg.merge_by_reading <= 0 or len(parts) < 2 or self.classes <= DIGITS:
            return parts
        cache = s["read_whole"]
        confidence = [float(cache[id(p)][1][:DIGITS].max()) for p in parts]
        pairs = [(i, j) for i, j in merge_by_reading_candidates(parts, s["digit_height"])
                 if min(confidence[i], confidence[j]) < cfg.merge_doubt]
        if not pairs:
            return parts
        joined = [join_parts(parts[i], parts[j], s["labels"]) for i, j in pairs]
        self.read_whole(joined)
        together = [cache[id(p)][1] for p in joined]
        taken: set[int] = set()
        merged: list[Part] = []
        for (i, j), part, probs in sorted(zip(pairs, joined, together), key=lambda t: -float(t[2][:DIGITS].max())):
            sure = float(probs[:DIGITS].max())
            join = sure >= cfg.merge_by_reading and i not in taken and j not in taken
            apart = f"{confidence[i]:.0%} and {confidence[j]:.0%}"
            why = (f"close neighbours read {apart} apart, together a {int(probs[:DIGITS].argmax())} "
                   f"{sure:.0%} sure" + (f" (not a single digit: {float(probs[REJECT_CLASS]):.0%})"
                                        if len(probs) > DIGITS else "")
                   + (": one digit" if join else f": kept apart (joined at >= {cfg.merge_by_reading:.0%})"
                      if sure < cfg.merge_by_reading else ": kept apart (one of them joined already)"))
            key = (min(parts[i].labels), min(parts[j].labels))
            s["merges"].append(MergeDecision(key, 0.0, part.box[3] / max(1.0, s["digit_height"]), join, why, sure))
            if join:
                taken.update((i, j))
                merged.append(part)
                s.setdefault("joined_by_reading", set()).add(id(part))
        return [p for k, p in enumerate(parts) if k not in taken] + merged

    def read_whole(self, parts: list[Part]) -> None:
        """Normalize and classify every part as one digit, in one model call: the
        split judgments and the final reading both start from these."""
        cache = self.state.setdefault("read_whole", {})
        with self.stage("normalize"):
            steps = [normalize_digit(p.mask, self.config, self._stroke_of(p)) for p in parts]
        probabilities = self.classify([st.final for st in steps])
        for part, step, probs in zip(parts, steps, probabilities):
            cache[id(part)] = (step, probs)

    def read(self, parts: list[Part]) -> tuple[list, np.ndarray]:
        """Normalized inputs and probabilities of ``parts``; parts already read
        (whole, or as pieces of the split search) are not normalized or classified again."""
        cache = self.state.setdefault("read_whole", {})
        todo = [p for p in parts if id(p) not in cache]
        if todo:
            self.read_whole(todo)
        steps = [cache[id(p)][0] for p in parts]
        probabilities = np.zeros((len(parts), self.classes), np.float32)
        for k, p in enumerate(parts):
            probabilities[k] = cache[id(p)][1]
        return steps, probabilities

    def _stroke_of(self, part: Part) -> float:
        # The whole drawing's brush width is steadier than one small digit's.
        return self.state["stroke_width"] or estimate_stroke_width(part.mask)

    def split(self, parts: list[Part]) -> list[Part]:
        """Cut parts that hold several touching digits.

        Candidate cuts over-segment the part; every run of pieces narrow enough
        to be one digit is read in one batch, and the most probable reading
        (classifier confidence, width prior, a cost per cut) wins.
        """
        s, cfg = self.state, self.config
        width = typical_width(parts)
        joined = s.get("joined_by_reading", set())  # read together as one digit: not cut apart again
        wide = [p for p in parts if id(p) not in joined and needs_split(p, s["digit_height"], cfg, width)]
        doubtful = [p for p in parts if self.classes > DIGITS and not any(p is q for q in wide) and id(p) not in joined
                    and may_hold_two(p, s["digit_height"], cfg)]
        reader = self.recognizer.strip_reader(cfg.precision) if cfg.use_strip_reader else None
        if reader is not None:  # a doubtful part is asked about only when the classifier doubts it too
            doubtful = [p for p in doubtful if (reject_of(self.state["read_whole"][id(p)][1]) or 0.0)
                        >= cfg.reject_split_level]
        if not wide and not doubtful:
            return parts
        order = {part.box: k for k, part in enumerate(sorted(wide + doubtful, key=lambda p: p.box[0]))}
        first = len(s["splits"])
        if reader is not None:
            result = self._split_by_strips(parts, wide + doubtful, reader)
            s["splits"][first:] = sorted(s["splits"][first:], key=lambda d: order.get(d.box, 0))
            return result
        wide = self._confident_whole(wide, doubtful)
        if not wide:
            return parts
        with self.stage("split"):
            plans = [self._plan(part) for part in wide]
        readings = self._read_pieces(plans)
        result: list[Part] = [p for p in parts if not any(p is q for q in wide)]
        with self.stage("split"):
            for plan in plans:
                result += self._decide(plan, readings)
        s["splits"][first:] = sorted(s["splits"][first:], key=lambda d: order.get(d.box, 0))
        return result

    def _split_by_strips(self, parts: list[Part], asked: list[Part], reader: StripReader) -> list[Part]:
        """Read each asked part as a string; cut those that hold several digits where the
        reader moved from one digit to the next, and read each piece with both models."""
        s, cfg = self.state, self.config
        with self.stage("strip"):
            strips = [strip_input(p.mask, s["stroke_width"]) for p in asked]
            frames = reader.frame_probabilities(strips)
            readings = [greedy_decode(f, (strip.shape[1] - 2 * STRIP_PAD) / max(1, p.box[2]), reader.stride)
                        for p, strip, f in zip(asked, strips, frames)]
        result = [p for p in parts if not any(p is q for q in asked)]
        cache = s["read_whole"]
        pending: list[tuple[Part, StripReading, list[Part], list[int]]] = []
        with self.stage("split"):
            for part, reading in zip(asked, readings):
                evidence = _evidence(part, reading)
                probs = cache[id(part)][1]
                whole = self._whole_score(part, probs)
                if len(reading.digits) <= 1:
                    s.setdefault("strip_single", {})[id(part)] = reading
                    said = ("no digit" if not reading.digits else f"one digit ({reading.text}, "
                            f"{reading.digits[0].confidence:.0%})")
                    s["splits"].append(SplitDecision(part.box, whole, [], [], whole,
                                                     f"kept whole: the strip reader reads {said}",
                                                     reject_of(probs), evidence))
                    result.append(part)
                    continue
                cuts = self._strip_cuts(part, reading)
                paths = [None] + cut_paths(part.mask, cuts, max(2, int(round(s["stroke_width"] / 2)))) + [None]
                spans = [(k, k + 1) for k in range(len(paths) - 1)]
                pieces = pieces_between(part, paths, spans)
                if any(p is None for p in pieces):
                    s["splits"].append(SplitDecision(part.box, whole, [], [], whole,
                                                     f"kept whole: the strip reader reads {reading.text}, "
                                                     "but a cut between them leaves no ink", reject_of(probs), evidence))
                    result.append(part)
                    continue
                pending.append((part, reading, pieces, cuts))
                candidates = [SplitCandidate(part.box[0] + x, "strip reader", float(reading.confidence),
                                             [reading.digits[k].digit, reading.digits[k + 1].digit],
                                             (paths[k + 1] + part.box[0]).tolist())
                              for k, x in enumerate(cuts)]
                s["splits"].append(SplitDecision(
                    part.box, whole, candidates, list(range(len(cuts))), float(np.log(reading.confidence + 1e-6)),
                    f"{len(reading.digits)} digits: the strip reader reads {reading.text} "
                    f"({reading.confidence:.0%} sure of all of them)", reject_of(probs), evidence))
        pieces_all = [piece for _, _, pieces, _ in pending for piece in pieces]
        with self.stage("normalize"):
            steps = [normalize_digit(p.mask, cfg, self._stroke_of(p)) for p in pieces_all]
        probabilities = self.classify([st.final for st in steps])
        k = 0
        for part, reading, pieces, _ in pending:
            for piece, digit in zip(pieces, reading.digits):
                probs = _agree(probabilities[k], digit.probabilities, cfg.strip_agreement)
                cache[id(piece)] = (steps[k], probs)
                s.setdefault("strip_pieces", set()).add(id(piece))
                result.append(piece)
                k += 1
        return result

    def _strip_cuts(self, part: Part, reading: StripReading) -> list[int]:
        """Where to cut between each pair of digits the reader saw: the column of least ink
        in the middle half of the stretch between their peaks."""
        mask = part.mask > 0
        w = mask.shape[1]
        profile = mask.sum(axis=0).astype(np.float32)
        peaks = [reading.part_x((d.frames[0] + d.frames[1]) / 2) for d in reading.digits]
        cuts = []
        for a, b in zip(peaks, peaks[1:]):
            lo, hi = a + 0.25 * (b - a), a + 0.75 * (b - a)
            lo, hi = int(np.clip(round(lo), 1, w - 1)), int(np.clip(round(hi), 1, w - 1))
            if hi <= lo:
                cuts.append(int(np.clip(round((a + b) / 2), 1, w - 1)))
                continue
            window = profile[lo:hi + 1]
            best = np.flatnonzero(window == window.min())
            cuts.append(lo + int(best[len(best) // 2]))
        # Keep cuts strictly increasing, so every piece has columns.
        for k in range(1, len(cuts)):
            cuts[k] = max(cuts[k], cuts[k - 1] + 1)
        return cuts

    def _plan(self, part: Part) -> "_SplitPlan":
        """Candidate cuts of ``part``, their paths, and the piece between each pair that may be one digit."""
        s = self.state
        h, w = part.mask.shape
        cuts = split_candidates(part, s["stroke_width"], s["digit_height"])
        band = max(2, int(round(s["stroke_width"] / 2)))
        paths = [None] + cut_paths(part.mask, [x for x, _ in cuts], band) + [None]
        edges = [0] + [x for x, _ in cuts] + [w]
        pieces = {(0, len(edges) - 1): part}  # the whole part, already read
        spans = piece_spans([x for x, _ in cuts], w, h)[1:]
        for span, piece in zip(spans, pieces_between(part, paths, spans)):
            if piece is not None:
                pieces[span] = piece
        return _SplitPlan(part, cuts, edges, pieces, paths, hole_count(part.mask) >= 2)

    def _read_pieces(self, plans: list["_SplitPlan"]) -> dict[int, tuple]:
        """(steps, probabilities) of every piece, by ``id``: pieces already read are looked up,
        pieces with the same ink (cut paths that differ only off the ink) are read once,
        the rest in one model call."""
        cfg, stroke = self.config, self.state["stroke_width"]
        cache = self.state.setdefault("read_whole", {})
        readings: dict[int, tuple] = {}
        by_ink: dict[tuple, list[int]] = {}
        with self.stage("split"):
            for plan in plans:
                for piece in plan.pieces.values():
                    if id(piece) in cache:
                        readings[id(piece)] = cache[id(piece)]
                    else:
                        key = (piece.box, piece.mask.tobytes())
                        by_ink.setdefault(key, []).append(id(piece))
            masks = {key: np.frombuffer(key[1], np.uint8).reshape(key[0][3], key[0][2]) for key in by_ink}
            steps = [normalize_digit(masks[key], cfg, stroke) for key in by_ink]
        probabilities = self.classify([st.final for st in steps])
        for (key, ids), step, probs in zip(by_ink.items(), steps, probabilities):
            for piece_id in ids:
                readings[piece_id] = (step, probs)
        return readings

    def _decide(self, plan: "_SplitPlan", readings: dict[int, tuple]) -> list[Part]:
        """Score each piece, find the best segmentation, record the decision; the parts it leaves."""
        s = self.state
        part, cuts, edges, pieces, paths = plan.part, plan.cuts, plan.edges, plan.pieces, plan.paths
        h = part.box[3]
        probs_of = {span: readings[id(piece)][1] for span, piece in pieces.items()}
        scores = {span: self._piece_score(piece, probs_of[span], h, plan.two_holes) for span, piece in pieces.items()}
        total, path, through = best_segmentation(len(edges), scores, self.cut_cost)
        whole = scores.get((0, len(edges) - 1), -np.inf)
        best_left, best_right = _best_sides(scores)
        candidates = []
        for k, (x, source) in enumerate(cuts, start=1):
            sides = [probs_of[sp] for sp in (best_left.get(k), best_right.get(k)) if sp is not None]
            candidates.append(SplitCandidate(part.box[0] + x, source, float(through[k - 1]),
                                             [int(p[:DIGITS].argmax()) for p in sides],
                                             (paths[k] + part.box[0]).tolist(),
                                             [r for r in map(reject_of, sides) if r is not None]))
        chosen = [k - 1 for k in path]
        boundaries = [0] + path + [len(edges) - 1]
        if chosen:
            kept = [pieces[(a, b)] for a, b in zip(boundaries, boundaries[1:])]
            cache = s.setdefault("read_whole", {})
            for piece in kept:
                if s["stroke_width"]:  # read as read() would: keep the reading
                    cache[id(piece)] = readings[id(piece)]
            reason = (f"{len(chosen) + 1} digits score {total:.2f} > {whole:.2f} as one digit "
                      f"(each cut costs {self.cut_cost})")
        else:
            kept = [part]
            reason = f"kept whole: {whole:.2f} as one digit beats every cut"
        whole_reject = reject_of(probs_of[(0, len(edges) - 1)])
        if whole_reject is not None:
            reason += f"; {whole_reject:.0%} not a single digit"
        s["splits"].append(SplitDecision(part.box, float(whole), candidates, chosen, float(total), reason,
                                         whole_reject))
        return kept

    def _piece_score(self, piece: Part, probabilities: np.ndarray, height: int, two_holes: bool = True) -> float:
        """A piece's reading score inside a part ``height`` tall: its digit score less the width,
        sliver and side-by-side-holes costs (the last looked for only when the part has two holes)."""
        s, cfg = self.state, self.config
        score = digit_score(probabilities)
        score -= width_penalty(piece.box[2], height, cfg)
        if piece.box[3] < 0.45 * height:
            score -= 1.0  # a sliver of a neighbour, not a digit
        if two_holes and has_side_by_side_holes(piece.mask, s["stroke_width"]):
            score -= SIDE_HOLES_COST
        return score

    def _whole_score(self, part: Part, probabilities: np.ndarray) -> float:
        """The split search's score of ``part`` read as one digit."""
        s, cfg = self.state, self.config
        score = digit_score(probabilities) - width_penalty(part.box[2], part.box[3], cfg)
        if has_side_by_side_holes(part.mask, s["stroke_width"]):
            score -= SIDE_HOLES_COST
        return score

    def _confident_whole(self, wide: list[Part], doubtful: list[Part] = ()) -> list[Part]:
        """Judge each wide (and doubtful) part by its reading as one digit; return those still worth a search.

        Every piece scores at most log(1 + 1e-6) and every cut costs the cut cost,
        so a part whose whole score beats minus that cost (plus that slack per piece)
        cannot be beaten by any segmentation: the search would keep it whole,
        and is skipped. Same readings, a fraction of the time. A part that a
        reject-class model calls "not a single digit" is searched all the same,
        and a doubtful part (narrower than a wide one) only then.
        """
        s, cfg = self.state, self.config
        parts = list(wide) + list(doubtful)
        cache = s["read_whole"]
        searched = []
        cost = self.cut_cost
        with self.stage("split"):
            slack = 2 * float(np.log(1 + 1e-6))
            for k, part in enumerate(parts):
                probs = cache[id(part)][1]
                whole = self._whole_score(part, probs)
                reject = reject_of(probs)
                rejected = reject is not None and reject >= cfg.reject_split_level
                if k >= len(wide) and not rejected:
                    continue  # an ordinary digit: read as it is, no decision to show
                if whole > -cost + slack and not rejected:
                    s["splits"].append(SplitDecision(
                        part.box, whole, [], [], whole,
                        f"kept whole: {whole:.2f} as one digit; no cut can score above {-cost:.2f} "
                        f"(each cut costs {cost}), so no cut was tried", reject))
                else:
                    searched.append(part)
        return searched

    def build(self, parts: list[Part], steps: list, probabilities: np.ndarray,
              lines: list[list[int]], seconds: list | None = None) -> Recognition:
        s, cfg = self.state, self.config
        scale = s.get("scale", 1.0)
        digits_by_part: list[Digit] = []
        read_by_strips = s.get("strip_pieces", set())
        for index, (part, step) in enumerate(zip(parts, steps)):
            probs = probabilities[index][:DIGITS]
            if id(part) in read_by_strips:
                # The strip reader has said this piece is one digit: its confidence is that of the
                # combined reading among the digits, not the classifier's doubt about the cut piece.
                probs = probs / max(float(probs.sum()), 1e-12)
            order = np.argsort(-probs)[:3]
            x, y, w, h = part.box
            box = (int(x / scale), int(y / scale), max(1, int(round(w / scale))), max(1, int(round(h / scale))))
            line = next(n for n, members in enumerate(lines) if index in members)
            confidence = float(probs[order[0]])
            digits_by_part.append(Digit(
                digit=int(order[0]), confidence=confidence, box=box, line=line,
                top3=[(int(d), float(probs[d])) for d in order], probabilities=probs.astype(np.float32),
                steps=step, low_confidence=confidence < cfg.low_confidence,
                reject=reject_of(probabilities[index]),
                second_opinion=seconds[index] if seconds else None,
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
            label_image=s.get("labels"), components=s["components"],
            stroke_width=s["stroke_width"], digit_height=s["digit_height"],
            merges=s["merges"], splits=s["splits"], timings_ms=dict(self.timings),
            model_name=self.recognizer.model_name, precision=cfg.precision,
        )


def _best_sides(scores: dict[tuple[int, int], float]) -> tuple[dict[int, tuple], dict[int, tuple]]:
    """For each boundary, the best-scoring piece ending there and the best one starting there
    (the first of equals, in the order of ``scores``)."""
    left: dict[int, tuple] = {}
    right: dict[int, tuple] = {}
    for span, score in scores.items():
        i, j = span
        if j not in left or score > scores[left[j]]:
            left[j] = span
        if i not in right or score > scores[right[i]]:
            right[i] = span
    return left, right


def _evidence(part: Part, reading: StripReading) -> StripEvidence:
    x0 = part.box[0]
    frames = reading.frame_probabilities
    return StripEvidence(reading.text, [d.confidence for d in reading.digits],
                         [int(round(x0 + reading.part_x((d.frames[0] + d.frames[1]) / 2))) for d in reading.digits],
                         [float(x0 + reading.part_x(k)) for k in range(len(frames))], frames)


def _agree(classifier: np.ndarray, strip_digits: np.ndarray, weight: float) -> np.ndarray:
    """A cut piece's probabilities: the classifier's digits times the strip reader's (raised to
    ``weight``), renormalized to the mass the classifier gave the digits; the reject column kept."""
    digits = classifier[:DIGITS] * np.power(np.maximum(strip_digits, 1e-6), weight)
    mass = float(classifier[:DIGITS].sum())
    out = classifier.astype(np.float32).copy()
    out[:DIGITS] = digits / max(float(digits.sum()), 1e-12) * mass
    return out


def digit_score(probabilities: np.ndarray) -> float:
    """Log-probability of the best digit. With a reject-class model the softmax
    includes "not a single digit", so a blob that looks like two digits (or like
    half of one) scores low as one digit; class 10 is never a digit's reading."""
    return float(np.log(probabilities[:DIGITS].max() + 1e-6))


def reject_of(probabilities: np.ndarray) -> float | None:
    """The "not a single digit" probability, or None for a 10-class model."""
    return float(probabilities[REJECT_CLASS]) if len(probabilities) > DIGITS else None
