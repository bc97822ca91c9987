"""Teaching the strip reader a person's corrections: which part holds which typed digits, the
strips cut from saved drawings, and a fine-tune that learns a touching number it misread."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mdr.training.strip_corrections import part_texts
from tests.model_folders import PROJECT_ROOT, private_models

READER_MODEL = "mnist-pen-strips-styles"


@pytest.mark.parametrize("read, true, owner, aspects, expected", [
    # as many digits read as typed: each takes its place
    ("4071", "4071", [0, 1, 2, 2], None, {0: "4", 1: "0", 2: "71"}),
    ("4011", "4071", [0, 1, 2, 2], None, {0: "4", 1: "0", 2: "71"}),
    # a touching pair read as one digit: the part whose count was wrong gets both
    ("41", "417", [0, 1], {0: 0.5, 1: 1.1}, {0: "4", 1: "17"}),
    ("4", "41", [0], {0: 1.0}, {0: "41"}),
    # ...but a narrow mark holds no missed neighbour: it may have been left out altogether
    ("4", "41", [0], {0: 0.5}, None),
    # a digit read in excess inside one part
    ("8777", "877", [0, 1, 1, 1], None, {0: "8", 1: "77"}),
    # the missed digit lies between two parts: which one missed it cannot be told
    ("87082", "877082", [0, 1, 2, 3, 4], {k: 1.0 for k in range(5)}, None),
    # ...and where it may lie on either side of a part's edge, too
    ("87082", "877082", [0, 0, 1, 2, 3], {0: 1.6}, None),
    # the same missed digit inside one part
    ("87082", "877082", [0, 0, 0, 1, 2], {0: 2.0}, {0: "8770", 1: "8", 2: "2"}),
    ("", "12", [], None, None),
])
def test_typed_digits_are_placed_in_the_parts_that_hold_them(read, true, owner, aspects, expected):
    assert part_texts(read, true, owner, aspects) == expected


@pytest.fixture
def reader_models(tmp_path, monkeypatch):
    """A models folder of this test's own with the model that has a strip reader."""
    models = private_models(tmp_path, monkeypatch)
    shutil.copytree(PROJECT_ROOT / "models" / READER_MODEL, models / READER_MODEL)
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path / "home"))
    return models


def _touching_drawings(count: int, seed: int):
    """Touching 2-3 digit numbers of one evaluation writer (their first drawing of each digit)."""
    from dataclasses import replace

    from mdr.data.compose import compose_sample, condition_rng
    from mdr.data.pen import PEN_CONDITIONS, PenBank, cached_pen, digits_of, split_writers

    pen = cached_pen(None)
    writer = split_writers(pen.writers).eval[0]
    first = {}
    for digit in digits_of(pen, (writer,)):
        first.setdefault(digit.label, digit)
    spec = replace(PEN_CONDITIONS["touching"], digit_count=(2, 3))
    bank, rng = PenBank(list(first.values())), condition_rng("strip-corrections", seed)
    return [compose_sample(spec, bank, rng) for _ in range(count)]


def save_touching_corrections(count: int, seed: int) -> None:
    """Save ``count`` touching numbers (:func:`_touching_drawings`) as corrections, each as the reader
    model read it, with its true number typed."""
    from mdr.corrections.store import CorrectionStore, png_bytes
    from mdr.recognition.recognizer import Recognizer

    base, store = Recognizer(READER_MODEL), CorrectionStore()
    for sample in _touching_drawings(count, seed=seed):
        store.add_recognition(base.recognize(sample.image), png_bytes(sample.image), sample.number)


def test_saved_touching_drawings_give_strips_of_their_typed_digits(reader_models):
    from mdr.corrections.store import CorrectionStore, png_bytes
    from mdr.recognition.recognizer import Recognizer
    from mdr.training.strip_corrections import correction_strips

    recognizer = Recognizer(READER_MODEL)
    store = CorrectionStore()
    samples = _touching_drawings(6, seed=1)
    for sample in samples:
        store.add_recognition(recognizer.recognize(sample.image), png_bytes(sample.image), sample.number)
    strips, texts, record = correction_strips(store.list(), recognizer)
    assert record["drawings"] == 6 and record["taught"] + sum(record["not taught"].values()) == 6
    assert record["taught"] >= 4 and record["touching strips"] >= 4
    assert all(s.dtype == np.uint8 and s.shape[0] == 32 for s in strips)
    numbers = {s.number for s in samples}
    # every touching strip's text is a typed number (each drawing is one touching group)
    assert {t for t in texts if len(t) > 1} <= numbers


def finetune_on_touching_drawings(models, name: str, drawings: int, seed: int, strip_steps: int) -> dict:
    """Save ``drawings`` touching numbers as corrections, fine-tune the reader model on them with
    the command line (a short run), and return the new model's card."""
    from mdr.cli import main

    save_touching_corrections(drawings, seed)
    assert main(["train", "--corrections", "--from-model", READER_MODEL, "--name", name, "--pen-check", "0",
                 "--train-size", "500", "--corrections-strip-steps", str(strip_steps), "--no-activate"]) == 0
    return json.loads((models / name / "card.json").read_text())


def test_a_finetune_teaches_the_strip_reader_and_records_it(reader_models, capsys):
    from mdr.models import registry
    from mdr.recognition.recognizer import Recognizer

    card = finetune_on_touching_drawings(reader_models, "taught", 8, seed=2, strip_steps=5)
    assert "strip reader (it reads touching digits) learned" in capsys.readouterr().out
    assert card["config"]["corrections_strip_steps"] == 5
    section = card["strip_reader"]
    assert section["carried_from"] == READER_MODEL
    taught = section["finetune"]
    assert taught["steps"] == 5 and taught["strips"] >= 1 and taught["touching strips"] >= 1
    assert taught["general_strips"] > 100 and taught["repeats"] >= 1
    for name in (registry.STRIP_CHECKPOINT, *registry.STRIP_FILES.values()):
        new, old = reader_models / "taught" / name, reader_models / READER_MODEL / name
        assert new.read_bytes() != old.read_bytes(), f"{name} was carried unchanged"
        assert card["files"]["bytes"][name] == new.stat().st_size
    tuned = Recognizer("taught")
    assert tuned.strip_reader() is not None and tuned.strip_reader("fp32") is not None
    sample = _touching_drawings(1, seed=3)[0]
    assert tuned.recognize(sample.image).number  # the new reader reads


def test_strip_steps_zero_carries_the_reader_unchanged(reader_models, capsys):
    from mdr.models import registry
    from mdr.models.finetune import STRIP_STEPS, finetune_config

    assert finetune_config(READER_MODEL).corrections_strip_steps == STRIP_STEPS
    assert finetune_config(registry.SHIPPED_MODEL).corrections_strip_steps == 0  # it has no reader
    card = finetune_on_touching_drawings(reader_models, "carried", 3, seed=4, strip_steps=0)
    assert "strip reader" not in capsys.readouterr().out
    assert "finetune" not in card["strip_reader"]
    for name in (registry.STRIP_CHECKPOINT, *registry.STRIP_FILES.values()):
        assert (reader_models / "carried" / name).read_bytes() == (reader_models / READER_MODEL / name).read_bytes()


@pytest.mark.parametrize("stop_when", ["Exporting to ONNX", "Teaching the strip reader", "Exporting the strip reader"])
def test_stop_while_exporting_or_teaching_the_reader_registers_nothing(reader_models, stop_when):
    """Stop pressed after training, before the model is in place: no model, no leftovers, the
    trained classifier kept for "register it anyway", the active model unchanged."""
    from mdr.models import registry
    from mdr.models.finetune import finetune_config
    from mdr.models.publish import train_and_publish

    save_touching_corrections(3, seed=5)
    active_before = (reader_models / "active.json").read_bytes()
    models_before, files_before = registry.list_models(), sorted(p.name for p in reader_models.iterdir())
    said, registered = [], []
    result, card = train_and_publish(
        finetune_config(READER_MODEL, train_size=500, corrections_strip_steps=5), "stopped-late", "test",
        activate=True, pen_check_n=0, on_status=said.append,
        should_stop=lambda: any(stop_when in message for message in said),
        on_registered=lambda: registered.append(True))
    assert any(stop_when in message for message in said), said
    assert card is None and result.stopped and not registered
    assert result.epochs_done == 1 and result.model is not None
    assert registry.list_models() == models_before
    assert sorted(p.name for p in reader_models.iterdir()) == files_before  # no half-built folder left
    assert (reader_models / "active.json").read_bytes() == active_before


def test_a_finetune_that_is_not_stopped_says_when_it_is_registered(reader_models):
    from mdr.models.finetune import finetune_config
    from mdr.models.publish import train_and_publish

    save_touching_corrections(3, seed=6)
    events = []
    _, card = train_and_publish(
        finetune_config(READER_MODEL, train_size=500, corrections_strip_steps=0), "kept", "test", activate=False,
        pen_check_n=0, on_status=events.append, should_stop=lambda: False,
        on_registered=lambda: events.append("registered"))
    assert card is not None and (reader_models / "kept" / "card.json").is_file()
    assert "registered" in events
    # the model is in place before the before/after check measures it
    assert events.index("registered") < events.index("Measuring the model before and after the fine-tune…")
