"""Training on real handwriting: only training writers, the recognizer's own normalization, a recorded card."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mdr.data import pen
from mdr.training import pen_mix
from mdr.training.config import TrainConfig

ROOT_MODELS = Path(__file__).resolve().parent.parent / "models"


def render_watching_writers(monkeypatch, mix: pen_mix.PenMix) -> tuple[list[int], tuple]:
    """The writers whose digits ``mix`` renders (every 40th digit, for speed), and what it returns."""
    drawn = []
    real = pen_mix.render_for_training

    def spy(digit, mix, rng):
        drawn.append(digit.writer)
        return real(digit, mix, rng)

    monkeypatch.setattr(pen_mix, "render_for_training", spy)
    monkeypatch.setattr(pen_mix, "digits_of", lambda data, writers: pen.digits_of(data, writers)[::40])
    return drawn, pen_mix.pen_training_images(mix)


def test_training_digits_come_only_from_training_writers(monkeypatch):
    split = pen.split_writers(pen.cached_pen().writers)
    drawn, (images, labels, record) = render_watching_writers(monkeypatch, pen_mix.PenMix(renders=1))
    assert drawn and set(drawn) <= set(split.train) and not set(drawn) & set(split.eval)
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8 and len(images) == len(labels)
    assert record["writer_split"]["eval_writers"] == list(split.eval)
    assert record["images"] == len(images)


def test_training_with_validation_writers_never_draws_them(monkeypatch):
    split = pen.split_writers(pen.cached_pen().writers, validation_fraction=0.2)
    drawn, (_, _, record) = render_watching_writers(monkeypatch, pen_mix.PenMix(renders=1, validation=0.2))
    assert drawn and set(drawn) <= set(split.train)
    assert not set(drawn) & (set(split.validation) | set(split.eval))
    assert record["writer_split"]["validation_writers"] == list(split.validation)
    assert record["mix"]["validation"] == 0.2


def test_a_varied_pen_mix_draws_the_same_digits_in_other_hands(monkeypatch):
    monkeypatch.setattr(pen_mix, "digits_of", lambda data, writers: pen.digits_of(data, writers)[::80])
    plain_x, plain_y, _ = pen_mix.pen_training_images(pen_mix.PenMix(renders=1))
    again_x, _, _ = pen_mix.pen_training_images(pen_mix.PenMix(renders=1, variation=0.0))
    varied_x, varied_y, record = pen_mix.pen_training_images(pen_mix.PenMix(renders=1, variation=1.0))
    assert np.array_equal(plain_x, again_x), "no variation: the images of before"
    assert np.array_equal(plain_y, varied_y) and record["mix"]["variation"] == 1.0
    differs = np.abs(plain_x.astype(int) - varied_x.astype(int)).max(axis=(1, 2)) > 64
    assert differs.mean() > 0.8


def test_a_validation_share_that_leaves_no_training_writers_is_refused():
    with pytest.raises(ValueError, match="validation writers"):
        TrainConfig(data_mix="mnist+pen", pen_validation=0.7).check()
    from mdr.training.strip_config import StripTrainConfig
    from mdr.training.strips import StripMix
    with pytest.raises(ValueError, match="validation writers"):
        StripTrainConfig(mix=StripMix(pen_validation=-0.1)).check()


def test_a_writer_variation_out_of_range_is_refused():
    from mdr.training.strip_config import StripTrainConfig
    from mdr.training.strips import StripMix
    StripTrainConfig(mix=StripMix(pen_variation=1.0)).check()
    TrainConfig(data_mix="mnist+pen", pen_variation=1.0).check()
    for strength in (-0.5, 5.0):
        with pytest.raises(ValueError, match="pen_variation is a strength"):
            StripTrainConfig(mix=StripMix(pen_variation=strength)).check()
        with pytest.raises(ValueError, match="pen_variation is a strength"):
            TrainConfig(data_mix="mnist+pen", pen_variation=strength).check()



def test_strip_numbers_can_write_their_zeros_ones_and_sevens_in_the_other_style():
    """The strip reader's second opinion is multiplied into the classifier's: it must see slashed
    zeros too, or it outvotes a classifier that knows them."""
    from mdr.training.strip_config import StripTrainConfig
    from mdr.training.strips import StripMix, StyledPenBank

    data = pen.cached_pen()
    digits = [d for d in pen.digits_of(data, data.writers[:3]) if d.label in (0, 1, 7, 5)]
    labels = [[0, 1, 7, 5]]
    plain = pen.PenBank(digits).pick_number(labels, np.random.default_rng(0))[0]
    styled = StyledPenBank(digits, 1.0).pick_number(labels, np.random.default_rng(0))[0]
    assert [d.label for d in styled] == [0, 1, 7, 5]
    added = [len(s.strokes) - len(p.strokes) for p, s in zip(plain, styled)]
    assert added[0] == 1 and added[1] >= 1 and added[2] == 1 and added[3] == 0
    unstyled = StyledPenBank(digits, 0.0).pick_number(labels, np.random.default_rng(0))[0]
    assert [len(d.strokes) for d in unstyled] == [len(d.strokes) for d in plain]
    StripTrainConfig(mix=StripMix(pen_styles=0.3)).check()
    with pytest.raises(ValueError, match="pen_styles is a probability"):
        StripTrainConfig(mix=StripMix(pen_styles=1.5)).check()

def test_training_digit_is_what_the_recognizer_would_classify():
    """The 28x28 training input of a digit drawn alone equals the recognizer's input for that drawing."""
    from mdr.recognition.recognizer import Recognizer
    from mdr.recognition.single import digit_input

    rng = np.random.default_rng(3)
    recognizer = Recognizer()
    compared = 0
    for digit in [d for d in pen.cached_pen().digits if d.label in (2, 5, 7)][:6]:
        image = pen_mix.render_for_training(digit, pen_mix.PenMix(), rng)
        result = recognizer.recognize(image)
        if len(result.digits) != 1:
            continue  # the recognizer cut this one apart: not a one-digit reading to compare
        assert np.abs(digit_input(image) - result.digits[0].steps.final).max() < 1e-5
        compared += 1
    assert compared >= 4


def test_unknown_data_mix_is_refused():
    with pytest.raises(ValueError, match="data_mix"):
        TrainConfig(data_mix="pen-only").check()
    TrainConfig(data_mix="mnist+pen").check()


def test_card_records_the_pen_data_and_writer_split():
    from mdr.models.publish import _data_record

    split = pen.split_writers(pen.cached_pen().writers)
    config = TrainConfig(data_mix="mnist+pen")
    record = {"file": "pen-digits-dev.json.gz", "writer_split": split.to_dict(), "images": 100, "mix": {}}
    result = SimpleNamespace(train_images=60_100, val_images=0, pen=record)
    data = _data_record(config, result, {"test_images": 10_000})
    assert data["mix"] == "mnist+pen" and data["mnist_train_images"] == 60_000
    assert data["pen"]["writer_split"]["seed"] == 0
    plain = _data_record(TrainConfig(), SimpleNamespace(train_images=5, val_images=0, pen=None),
                         {"test_images": 10_000})
    assert plain["dataset"] == "MNIST" and "pen" not in plain


def test_fine_tuning_starts_from_the_named_models_weights_and_refuses_another_architecture():
    import torch

    from mdr.training.loop import starting_weights
    from mdr.training.nets import build_model

    model = build_model("cnn")
    model.load_state_dict(starting_weights("mnist-cnn", "cnn"))
    shipped = torch.load(ROOT_MODELS / "mnist-cnn" / "model.pt", map_location="cpu", weights_only=False)
    first = next(iter(shipped["state_dict"]))
    assert torch.equal(model.state_dict()[first], shipped["state_dict"][first])
    with pytest.raises(ValueError, match="not cnn-small"):
        starting_weights("mnist-cnn", "cnn-small")
    with pytest.raises(ValueError, match="no model.pt"):
        starting_weights("no-such-model", "cnn")
