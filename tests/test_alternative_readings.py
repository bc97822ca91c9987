"""Other readings of a number, most likely first: the "did you mean" under a result. A digit
changed to its second choice, or, in one place kept for them, a reading with a digit more or
fewer (a touching part read again by the strip reader, or a mark that is no digit dropped)."""
from __future__ import annotations

import itertools

import numpy as np

from mdr.recognition.results import Digit, Recognition, SplitDecision, StripEvidence
from mdr.recognition.strip import BLANK, CLASSES, best_reading_of_length


def _digit(top3: list[tuple[int, float]], line: int = 0, box=(0, 0, 1, 1), reject: float | None = None) -> Digit:
    return Digit(digit=top3[0][0], confidence=top3[0][1], box=box, line=line, top3=top3,
                 probabilities=np.zeros(10, np.float32), steps=None, reject=reject)


def _recognition(digits: list[Digit], lines: list[list[int]], splits=()) -> Recognition:
    number = "\n".join("".join(str(digits[i].digit) for i in line) for line in lines)
    return Recognition(number=number, digits=digits, lines=lines, original_shape=(1, 1), scale=1.0,
                       grey=None, ink=None, polarity=None, binarization=None, mask=None, label_image=None,
                       components=[], stroke_width=1.0, digit_height=1.0, merges=[], splits=list(splits),
                       timings_ms={})


def _frames(path: list[int], sure: float = 0.9) -> np.ndarray:
    """Frame probabilities whose best class follows ``path`` (10: the blank)."""
    probabilities = np.full((len(path), CLASSES), (1 - sure) / (CLASSES - 1), np.float32)
    probabilities[np.arange(len(path)), path] = sure
    return probabilities


def _strip_part(box, frames: np.ndarray, cut: bool) -> SplitDecision:
    return SplitDecision(box=box, whole_score=0.0, candidates=[], chosen=[0] if cut else [], score=0.0,
                         reason="", strip=StripEvidence("", [], [], [], frames))


def test_the_digit_whose_second_choice_is_closest_to_its_first_changes_first():
    digits = [_digit([(4, 0.98), (9, 0.01), (1, 0.01)]),
              _digit([(7, 0.55), (1, 0.40), (2, 0.05)]),
              _digit([(0, 0.80), (6, 0.15), (8, 0.05)])]
    found = _recognition(digits, [[0, 1, 2]]).alternatives(3)
    assert [a.number for a in found] == ["410", "476", "970"]
    assert [a.positions for a in found] == [(1,), (2,), (0,)] and found[0].digits == "1"
    assert {a.kind for a in found} == {"second choice"}
    assert abs(found[0].odds - 0.40 / 0.55) < 1e-6
    assert found[0].describe() == "Digit 2 read as its second choice, 1."


def test_other_readings_keep_the_rows_and_stop_at_k():
    digits = [_digit([(2, 0.6), (7, 0.4), (1, 0.0)]), _digit([(5, 0.9), (6, 0.1), (3, 0.0)], line=1),
              _digit([(3, 0.7), (8, 0.3), (9, 0.0)], line=1)]
    found = _recognition(digits, [[0], [1, 2]]).alternatives(2)
    assert [a.number for a in found] == ["7\n53", "2\n58"]


def test_no_digits_no_other_readings():
    assert _recognition([], []).alternatives(3) == []


def _count_change(found):
    (change,) = [a for a in found if a.kind != "second choice"]
    return change


def test_a_touching_pair_read_as_one_digit_is_offered_as_two_in_the_place_kept_for_it():
    # "4" and a wide part read as one "1"; the strip reader's frames hold a weaker second digit 0.
    frames = _frames([BLANK, 1, 1, BLANK, BLANK, BLANK])
    frames[4] = 0.0
    frames[4, 0], frames[4, BLANK] = 0.3, 0.7
    digits = [_digit([(4, 0.99), (9, 0.01), (1, 0.0)], box=(0, 0, 10, 20)),
              _digit([(1, 0.95), (7, 0.04), (4, 0.01)], box=(20, 0, 30, 20)),
              _digit([(6, 0.90), (5, 0.10), (0, 0.0)], box=(60, 0, 10, 20))]
    recognition = _recognition(digits, [[0, 1, 2]], [_strip_part((20, 0, 30, 20), frames, cut=False)])
    found = recognition.alternatives(3)
    assert [a.number for a in found] == ["4106", "415", "476"]  # most likely first; 4 -> 9 left out
    pair = found[0]
    assert (pair.kind, pair.positions, pair.digits) == ("one more digit", (1,), "10")
    assert abs(pair.odds - 0.3 / 0.7) < 1e-4
    assert pair.describe() == ("Digit 2 read as 10: the strip reader's best reading of these touching digits "
                               "with one digit more.")


def test_one_digit_read_as_two_is_offered_as_one_and_only_the_changed_digit_is_named():
    frames = _frames([BLANK, 7, 7, BLANK, 2, BLANK])  # the reader's 72, a weak 2 over the blank
    frames[4] = 0.0
    frames[4, 2], frames[4, BLANK] = 0.55, 0.45
    digits = [_digit([(7, 0.99), (1, 0.01), (2, 0.0)], box=(0, 0, 10, 20)),
              _digit([(2, 0.99), (7, 0.01), (1, 0.0)], box=(10, 0, 10, 20))]
    recognition = _recognition(digits, [[0, 1]], [_strip_part((0, 0, 20, 20), frames, cut=True)])
    fewer = _count_change(recognition.alternatives(3))
    assert (fewer.number, fewer.positions, fewer.digits, fewer.kind) == ("7", (1,), "", "one digit fewer")
    assert fewer.describe().startswith("Digit 2 dropped: the strip reader's best reading")


def test_a_mark_taken_for_no_digit_is_dropped_only_when_the_model_is_ten_times_surer_of_that():
    stray = _digit([(1, 0.05), (7, 0.01), (4, 0.0)], box=(20, 0, 3, 5), reject=0.9)
    doubtful = _digit([(5, 0.5), (6, 0.1), (3, 0.0)], box=(40, 0, 10, 20), reject=0.4)
    digits = [_digit([(3, 0.99), (8, 0.01), (9, 0.0)], box=(0, 0, 10, 20)), stray, doubtful]
    dropped = _count_change(_recognition(digits, [[0, 1, 2]]).alternatives(3))
    assert (dropped.number, dropped.kind, dropped.positions) == ("35", "not a digit", (1,))
    assert dropped.describe() == "Digit 2 dropped: the model takes it for no digit."
    less_sure = [_digit([(3, 0.99), (8, 0.01), (9, 0.0)], box=(0, 0, 10, 20)), doubtful]
    assert {a.kind for a in _recognition(less_sure, [[0, 1]]).alternatives(3)} == {"second choice"}


def test_a_digit_cut_by_the_strip_reader_is_not_offered_for_dropping():
    frames = _frames([BLANK, 4, BLANK, BLANK, 1, BLANK], sure=0.99)
    digits = [_digit([(4, 0.99), (9, 0.01), (1, 0.0)], box=(0, 0, 10, 20), reject=0.99),
              _digit([(1, 0.01), (7, 0.0), (4, 0.0)], box=(10, 0, 10, 20), reject=0.99)]
    found = _recognition(digits, [[0, 1]], [_strip_part((0, 0, 20, 20), frames, cut=True)]).alternatives(3)
    assert not any(a.kind == "not a digit" for a in found)


def test_with_one_place_the_likelier_of_a_second_choice_and_a_count_change_wins():
    stray = _digit([(1, 0.01), (7, 0.0), (4, 0.0)], box=(20, 0, 3, 5), reject=0.99)
    digits = [_digit([(3, 0.6), (8, 0.4), (9, 0.0)], box=(0, 0, 10, 20)), stray]
    (only,) = _recognition(digits, [[0, 1]]).alternatives(1)
    assert only.kind == "not a digit" and only.number == "3"


def _brute_force(probabilities: np.ndarray) -> dict[int, tuple[float, set[str]]]:
    """Best path log-probability per digit count, and the readings that reach it."""
    frames, classes = probabilities.shape
    logp = np.log(probabilities)
    best: dict[int, tuple[float, set[str]]] = {}
    for path in itertools.product(range(classes), repeat=frames):
        text, previous = "", None
        for c in path:
            if c != classes - 1 and c != previous:
                text += str(c)
            previous = c
        score = float(sum(logp[t, c] for t, c in enumerate(path)))
        old = best.get(len(text), (-np.inf, set()))
        if score > old[0] + 1e-9:
            best[len(text)] = (score, {text})
        elif abs(score - old[0]) <= 1e-9:
            old[1].add(text)
    return best


def test_the_best_reading_of_a_given_length_is_the_best_ctc_path_with_that_many_digits():
    rng = np.random.default_rng(0)
    for _ in range(60):
        frames, classes = int(rng.integers(1, 6)), int(rng.integers(2, 5))
        probabilities = rng.dirichlet(np.full(classes, 0.5), size=frames)
        brute = _brute_force(probabilities)
        top = float(np.log(probabilities).max(axis=1).sum())
        for length in range(frames + 2):
            found = best_reading_of_length(probabilities, length)
            if length not in brute:
                assert found is None
                continue
            score, readings = brute[length]
            assert found is not None and found[0] in readings and len(found[0]) == length
            assert abs(found[1] - (score - top)) < 1e-9


def test_the_best_reading_of_the_greedy_length_is_the_greedy_reading_at_odds_one():
    probabilities = _frames([BLANK, 3, 3, BLANK, 3, BLANK, 8, 8])
    text, log_odds = best_reading_of_length(probabilities, 3)
    assert text == "338" and abs(log_odds) < 1e-9
    text, log_odds = best_reading_of_length(probabilities, 2)
    assert len(text) == 2 and log_odds < -3


def test_touching_doubts_name_the_digits_each_cut_part_holds_and_the_readers_least_sure_digit():
    digits = [_digit([(4, 0.9), (9, 0.1)], box=(0, 0, 10, 10)), _digit([(7, 0.9), (1, 0.1)], box=(10, 0, 10, 10)),
              _digit([(1, 0.9), (7, 0.1)], box=(40, 0, 10, 10)), _digit([(2, 0.9), (3, 0.1)], box=(60, 0, 10, 10))]
    cut = SplitDecision(box=(0, 0, 20, 10), whole_score=0.0, candidates=[], chosen=[0], score=0.0, reason="",
                        strip=StripEvidence("47", [0.97, 0.62], [], [], _frames([4, 10, 7])))
    kept_whole = SplitDecision(box=(40, 0, 10, 10), whole_score=0.0, candidates=[], chosen=[], score=0.0,
                               reason="", strip=StripEvidence("1", [0.99], [], [], _frames([1])))
    searched = SplitDecision(box=(60, 0, 10, 10), whole_score=0.0, candidates=[], chosen=[0], score=0.0,
                             reason="")  # cut by the search of a model without a strip reader
    recognition = _recognition(digits, [[0, 1, 2, 3]], [kept_whole, searched, cut])
    assert recognition.touching_doubts() == [((0, 1), 0.62)]
    assert _recognition(digits, [[0, 1, 2, 3]]).touching_doubts() == []
