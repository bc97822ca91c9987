"""Fine-tuning on corrections: the mix, the config, the command, and a model that learns a hand."""
from __future__ import annotations

import json
import random
import shlex

import numpy as np
import pytest

from mdr.corrections.store import CorrectionStore, png_bytes
from mdr.training.corrections_mix import (CorrectionsMix, NoCorrectionsError, corrections_training_images,
                                          repeats_for, split_drawings)
from tests.browser.handwriting import CROSSED_Z_TWO, number_strokes, varied
from tests.drawing import render_strokes
from tests.model_folders import private_models

NUMBERS = ["328", "24", "2", "52", "720", "42"]


def crossed_two_drawing(text: str, rng: random.Random) -> np.ndarray:
    """``text`` drawn on the app's canvas, every 2 a crossed Z, each drawing a little different."""
    strokes = number_strokes(text, 60 + rng.uniform(-20, 20), 50 + rng.uniform(-10, 10),
                             170 + rng.uniform(-20, 20), 50, style=varied(CROSSED_Z_TWO, rng))
    return render_strokes(strokes, brush=rng.choice([14, 18, 22]))


def save_corrections(store: CorrectionStore, recognizer, count: int, seed: int) -> list[str]:
    """Draw, read and correct ``count`` numbers with crossed twos; what each reading was."""
    rng, reads = random.Random(seed), []
    for k in range(count):
        text = NUMBERS[k % len(NUMBERS)]
        image = crossed_two_drawing(text, rng)
        recognition = recognizer.recognize(image)
        store.add_recognition(recognition, png_bytes(image), text)
        reads.append(recognition.number)
    return reads


def test_drawings_are_split_whole_seeded_and_both_sides_kept():
    ids = list(range(1, 21))
    kept, held = split_drawings(ids, 0.2, seed=3)
    assert len(held) == 4 and sorted(kept + held) == ids and not set(kept) & set(held)
    assert split_drawings(ids, 0.2, seed=3) == (kept, held)
    assert split_drawings(ids, 0.2, seed=4) != (kept, held)
    assert split_drawings([7, 9], 0.2, seed=1)[1] != []  # two drawings: one is held out
    assert split_drawings([7], 0.5, seed=1) == ([7], [])  # one drawing always trains
    assert split_drawings(ids, 0.0, seed=1) == (ids, [])


def test_correction_digits_are_repeated_to_their_share():
    assert repeats_for(0.25, 10, 9000) == 300  # 3,000 of 12,000 images
    assert repeats_for(0.25, 5000, 9000) == 1  # never fewer than once
    assert repeats_for(0.25, 0, 9000) == 0


def test_an_empty_store_is_refused_in_words(tmp_path):
    with pytest.raises(NoCorrectionsError, match="Save a few on the Recognize page"):
        corrections_training_images(CorrectionsMix(), 1000, CorrectionStore(tmp_path / "c.sqlite"))


def test_training_images_are_the_labelled_digits_of_training_drawings(tmp_path):
    from mdr.recognition.recognizer import Recognizer

    store = CorrectionStore(tmp_path / "c.sqlite")
    save_corrections(store, Recognizer(model="mnist-cnn"), 6, seed=0)
    images, labels, record = corrections_training_images(CorrectionsMix(share=0.5, holdout=0.2, seed=1), 400, store)
    assert record["drawings"] == 6 and len(record["heldout_drawings"]) == 1
    assert not set(record["heldout_drawings"]) & set(record["train_drawings"])
    held_digits = sum(len(store.get(i).digits) for i in record["heldout_drawings"])
    trained_digits = sum(len(c.digits) for c in store.list()) - held_digits
    assert record["digits"] == trained_digits > 0
    assert images.dtype == np.uint8 and images.shape == (record["images"], 28, 28)
    assert record["images"] == record["digits"] * record["repeats"]
    assert abs(record["images"] - 400) <= record["digits"]  # half of the mix
    truth = "".join(store.get(i).true_number for i in record["train_drawings"] if store.get(i).digits)
    assert sorted(labels[::record["repeats"]].tolist()) == sorted(int(c) for c in truth)


def test_finetune_config_keeps_the_base_models_outputs_and_takes_typed_options():
    from mdr.models.finetune import FINETUNE_DEFAULTS, FINETUNE_REJECT_FRACTION, finetune_config

    ten = finetune_config("mnist-cnn")
    assert ten.init_from == "mnist-cnn" and ten.corrections and ten.classes == 10
    assert ten.epochs == FINETUNE_DEFAULTS["epochs"] and ten.train_size == FINETUNE_DEFAULTS["train_size"]
    eleven = finetune_config("mnist-pen-reject", epochs=2)
    assert eleven.classes == 11 and eleven.reject_fraction == FINETUNE_REJECT_FRACTION and eleven.epochs == 2
    with pytest.raises(ValueError, match="not a single digit"):
        finetune_config("mnist-pen-reject", reject_fraction=0.0)


def test_train_corrections_from_model_parses_and_its_command_reproduces_it():
    from mdr.cli import build_parser
    from mdr.commands.train import config_from_args, explicit_command

    args = build_parser().parse_args(["train", "--corrections", "--from-model", "mnist-cnn", "--epochs", "2",
                                      "--name", "mine"])
    config = config_from_args(args)
    assert config.corrections and config.init_from == "mnist-cnn" and config.epochs == 2
    assert config.train_size == 8000 and config.val_size == 0
    again = build_parser().parse_args(shlex.split(explicit_command(args, config))[3:])
    assert config_from_args(again) == config
    plain = config_from_args(build_parser().parse_args(["train", "--epochs", "2"]))
    assert not plain.corrections and plain.init_from is None and plain.train_size is None


def test_finetune_on_corrections_learns_the_hand_and_keeps_mnist(tmp_path, monkeypatch, capsys):
    """The shipped model reads crossed twos as 1 or 7; after a fine-tune on six corrected
    drawings the new model reads new drawings of them right, and MNIST test barely moves."""
    from mdr.cli import main
    from mdr.models import registry
    from mdr.models.finetune import MNIST_DROP_LIMIT
    from mdr.recognition.recognizer import Recognizer

    models = private_models(tmp_path, monkeypatch)
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path / "home"))
    store = CorrectionStore()
    reads = save_corrections(store, Recognizer(model="mnist-cnn"), 6, seed=0)
    assert reads != NUMBERS  # the shipped model misreads this hand

    assert main(["train", "--corrections", "--from-model", "mnist-cnn", "--name", "my-hand", "--pen-check", "5",
                 "--no-activate"]) == 0
    out = capsys.readouterr().out
    assert "Before (mnist-cnn) -> after (my-hand)" in out and "held-out drawings (1)" in out
    card = json.loads((models / "my-hand" / "card.json").read_text())
    assert card["config"]["corrections"] and card["config"]["init_from"] == "mnist-cnn"
    assert card["data"]["corrections"]["sha256"] and card["data"]["corrections"]["repeats"] >= 1
    report = card["finetune"]
    assert report["before"]["heldout"]["exact"] == 0.0 and report["after"]["heldout"]["exact"] == 1.0
    assert report["after"]["trained"]["exact"] == 1.0
    assert report["mnist_drop"] <= MNIST_DROP_LIMIT and report["mnist_drop_ok"]
    assert report["before"]["mnist_int8"] == registry.read_card("mnist-cnn")["metrics"]["test_accuracy"]["int8"]
    assert set(report["after"]["pen"]) >= {"exact", "digits"}
    assert registry.active_model_name() == "mnist-cnn"  # --no-activate

    rng, base, tuned = random.Random(99), Recognizer(model="mnist-cnn"), Recognizer(model="my-hand")
    fresh = [(text, crossed_two_drawing(text, rng)) for text in ["32", "2", "428", "25", "12", "2"]]
    assert sum(base.recognize(image).number == text for text, image in fresh) <= 1
    assert all(tuned.recognize(image).number == text for text, image in fresh)


def test_finetune_without_corrections_says_what_to_do(tmp_path, monkeypatch, capsys):
    from mdr.cli import main

    models = private_models(tmp_path, monkeypatch)
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path / "home"))
    assert main(["train", "--corrections", "--name", "nothing"]) != 0
    assert "no corrections with labelled digits" in capsys.readouterr().err
    assert not (models / "nothing").exists()
