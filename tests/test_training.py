"""Training: learning, determinism, stopping, augmentation, and `python -m mdr train`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import pytest
import torch

from mdr.training.augment import (Augmenter, change_thickness, elastic_warp, random_affine, restroke,
                                  skeletonize_images)
from mdr.data.mnist import load_split
from mdr.training.nets import build_model, count_parameters
from mdr.models.publish import train_and_publish
from mdr.training.loop import Progress, TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MDR_DATA_DIR") or ROOT.parent / "shared/data/mnist")


def tiny_config(**changes) -> TrainConfig:
    base = dict(arch="cnn-small", epochs=1, train_size=2000, val_size=500, data_dir=str(DATA), seed=3)
    return TrainConfig(**{**base, **changes})


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    images, _ = load_split("test", DATA)
    return torch.from_numpy(images[:64].copy())


@pytest.fixture(scope="module")
def tiny_run():
    return train(tiny_config())


# --- models -----------------------------------------------------------------

@pytest.mark.parametrize("arch, low, high", [("cnn", 100_000, 400_000), ("cnn-small", 10_000, 100_000)])
def test_models_map_images_to_ten_logits(arch, low, high):
    model = build_model(arch).eval()
    assert low <= count_parameters(model) <= high
    with torch.no_grad():
        out = model(torch.rand(3, 1, 28, 28))
    assert out.shape == (3, 10) and torch.isfinite(out).all()


def test_normalization_is_inside_the_model():
    model = build_model("cnn-small")
    assert any(type(m).__name__ == "Normalize" for m in model.modules())


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="Unknown architecture"):
        build_model("resnet-9000")


# --- training -----------------------------------------------------------------

def test_tiny_run_learns_far_beyond_chance(tiny_run):
    assert tiny_run.best_val_acc is not None and tiny_run.best_val_acc > 0.5
    losses = tiny_run.history.step_loss
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    assert tiny_run.stopped is False and tiny_run.epochs_done == 1
    assert tiny_run.train_images == 2000 and tiny_run.val_images == 500
    assert not tiny_run.model.training


def test_same_seed_gives_identical_weights_on_cpu(tiny_run):
    again = train(tiny_config())
    assert same_weights(tiny_run.model, again.model)
    assert again.history.step_loss == tiny_run.history.step_loss
    other = train(tiny_config(seed=4))
    assert not same_weights(tiny_run.model, other.model)


def test_progress_reports_steps_and_epoch_end():
    reports: list[Progress] = []
    result = train(tiny_config(train_size=1280, val_size=200, batch_size=64), on_progress=reports.append,
                   progress_every=5)
    steps = [r.step for r in reports if not r.epoch_end]
    assert steps == list(range(5, 21, 5))
    final = reports[-1]
    assert final.epoch_end and final.step == final.total_steps == result.steps == 20
    assert final.val_acc == result.best_val_acc and final.eta == 0
    assert all(r.elapsed >= 0 and np.isfinite(r.loss) for r in reports)


def test_should_stop_ends_after_the_current_step():
    calls = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) >= 3

    result = train(tiny_config(epochs=3), should_stop=stop_after_three)
    assert result.stopped and result.steps == 3 and result.epochs_done == 0
    assert len(result.history.val_acc) == 1  # the stopped model was still measured


def test_stopped_run_registers_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("MDR_MODELS_DIR", str(tmp_path))
    result, card = train_and_publish(tiny_config(), "stopped", command="test", should_stop=lambda: True)
    assert result.stopped and card is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change", [dict(epochs=0), dict(affine_p=1.5), dict(restroke_p=0.7, thickness_p=0.7),
                                    dict(restroke_min_width=5, restroke_max_width=2), dict(train_size=60_000),
                                    dict(elastic_p=-0.1), dict(elastic_px=9)])
def test_bad_settings_are_refused(change):
    with pytest.raises(ValueError):
        train(tiny_config(**change))


# --- augmentation -----------------------------------------------------------------

def as_float(digits: torch.Tensor) -> torch.Tensor:
    return digits.float().unsqueeze(1) / 255


def test_thickness_change_grows_and_shrinks_ink(digits):
    x = as_float(digits)
    n = len(x)
    thicker = change_thickness(x, torch.full((n,), 1.0))
    thinner = change_thickness(x, torch.full((n,), -1.0))
    same = change_thickness(x, torch.zeros(n))
    assert torch.allclose(same, x)
    ink = lambda t: (t > 0.5).sum(dim=(1, 2, 3)).float()  # noqa: E731
    assert (ink(thicker) > ink(x)).all()
    assert (ink(thinner) <= ink(x)).all() and ink(thinner).mean() < 0.8 * ink(x).mean()
    for t in (thicker, thinner):
        assert t.shape == x.shape and t.min() >= 0 and t.max() <= 1


def test_restroke_width_sets_stroke_thickness(digits):
    skeletons = torch.from_numpy(skeletonize_images(digits.numpy())).float().unsqueeze(1)
    n = len(skeletons)
    assert skeletons.sum() > 0 and skeletons.sum() < (digits > 127).sum()  # one-pixel-wide lines
    thin = restroke(skeletons, torch.full((n,), 1.5))
    thick = restroke(skeletons, torch.full((n,), 4.0))
    ink = lambda t: (t > 0.5).sum(dim=(1, 2, 3)).float()  # noqa: E731
    assert (ink(thick) > 1.5 * ink(thin)).all()
    for t in (thin, thick):
        assert t.shape == (n, 1, 28, 28) and t.min() >= 0 and torch.allclose(t.amax(dim=(1, 2, 3)), torch.ones(n))


def test_affine_moves_ink_but_keeps_range(digits):
    x = as_float(digits)
    moved = random_affine(x, rotate_deg=15, shear=0.2, scale=0.1, translate_px=2,
                          generator=torch.Generator().manual_seed(0))
    assert moved.shape == x.shape and moved.min() >= 0 and moved.max() <= 1
    assert (moved - x).abs().amax(dim=(1, 2, 3)).min() > 0.1
    identity = random_affine(x, 0, 0, 0, 0)
    assert (identity - x).abs().max() < 1e-5


def test_elastic_warp_bends_strokes_without_losing_them(digits):
    x = as_float(digits)
    assert (elastic_warp(x, 0.0) - x).abs().max() < 1e-5  # no displacement: the same image
    bent = elastic_warp(x, 1.0, torch.Generator().manual_seed(0))
    assert bent.shape == x.shape and bent.min() >= 0 and bent.max() <= 1
    assert (bent - x).abs().amax(dim=(1, 2, 3)).min() > 0.1  # every digit moved somewhere
    ink = lambda t: t.sum(dim=(1, 2, 3))  # noqa: E731
    assert ((ink(bent) - ink(x)).abs() < 0.4 * ink(x)).all()  # bent, not erased or smeared
    more = elastic_warp(x, 2.5, torch.Generator().manual_seed(0))
    assert (more - x).abs().mean() > (bent - x).abs().mean()


def test_augmenter_changes_only_when_asked(digits):
    x = as_float(digits)
    skeletons = torch.from_numpy(skeletonize_images(digits.numpy()))
    index = torch.arange(len(x))
    off = Augmenter(tiny_config(augment=False), skeletons)
    assert torch.equal(off(x, index), x)
    none = Augmenter(tiny_config(affine_p=0, thickness_p=0, restroke_p=0), skeletons)
    assert torch.equal(none(x, index), x)
    everything = Augmenter(tiny_config(affine_p=1, thickness_p=0.5, restroke_p=0.5, elastic_p=1), skeletons,
                           torch.Generator().manual_seed(0))
    out = everything(x, index)
    assert out.shape == x.shape and out.dtype == x.dtype and out.min() >= 0 and out.max() <= 1
    assert ((out - x).abs().amax(dim=(1, 2, 3)) > 0.05).all()


def test_default_augmentation_changes_only_a_fraction(digits):
    x = as_float(digits).repeat(4, 1, 1, 1)
    skeletons = torch.from_numpy(skeletonize_images(digits.numpy())).repeat(4, 1, 1)
    config = TrainConfig()
    out = Augmenter(config, skeletons, torch.Generator().manual_seed(0))(x, torch.arange(len(x)))
    changed = ((out - x).abs().amax(dim=(1, 2, 3)) > 1e-4).float().mean().item()
    untouched = (1 - config.affine_p) * (1 - config.thickness_p - config.restroke_p)
    assert 0.5 * (1 - untouched) < changed < min(1.0, 1.5 * (1 - untouched))


# --- the command line -----------------------------------------------------------------

def run_mdr(*args: str, models: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MDR_MODELS_DIR": str(models), "MDR_DATA_DIR": str(DATA)}
    return subprocess.run([sys.executable, "-m", "mdr", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    done = run_mdr("train", "--arch", "cnn-small", "--epochs", "1", "--train-size", "3000", "--val-size", "500",
                   "--seed", "5", "--name", "tiny", models=models)
    assert done.returncode == 0, done.stderr
    return models, done


def test_train_command_writes_a_complete_folder(trained_folder):
    models, done = trained_folder
    folder = models / "tiny"
    names = {p.name for p in folder.iterdir()}
    assert names == {"card.json", "model.pt", "model.onnx", "model.int8.onnx", "model.int8-dynamic.onnx"}
    assert [p.name for p in models.iterdir() if p.name.startswith(".")] == []  # no half-built folders
    assert json.loads((models / "active.json").read_text()) == {"name": "tiny"}
    assert "epoch 1/1" in done.stderr


def test_card_describes_the_model(trained_folder):
    models, _ = trained_folder
    card = json.loads((models / "tiny" / "card.json").read_text())
    assert card["name"] == "tiny" and card["seed"] == 5
    assert card["command"] == ("python -m mdr train --arch cnn-small --epochs 1 --train-size 3000 "
                               "--val-size 500 --seed 5 --name tiny")
    assert set(card["config"]) == {f.name for f in fields(TrainConfig)}
    assert card["config"]["train_size"] == 3000
    assert card["data"]["checksums"]["t10k-images-idx3-ubyte"] == "2646ac647ad5339dbf082846283269ea"
    assert card["architecture"]["name"] == "cnn-small" and card["architecture"]["parameters"] > 10_000
    accuracy = card["metrics"]["test_accuracy"]
    assert set(accuracy) == {"fp32", "int8", "int8-dynamic"}
    assert all(0.8 < a <= 1 for a in accuracy.values())
    assert abs(accuracy["int8"] - accuracy["fp32"]) < 0.02
    sizes = card["files"]["bytes"]
    for name in ("model.onnx", "model.int8.onnx", "model.int8-dynamic.onnx", "model.pt"):
        assert sizes[name] == (models / "tiny" / name).stat().st_size
    assert card["onnx"]["opset"] == 17 and card["onnx"]["export_max_abs_diff"] < 1e-3
    assert card["training"]["seconds"] > 0 and card["training"]["device"] == "cpu"
    assert card["training"]["torch_version"] == torch.__version__
    assert card["created"][:4].isdigit()


def test_explicit_command_reproduces_the_config(trained_folder):
    from mdr.cli import build_parser
    from mdr.commands.train import config_from_args

    models, _ = trained_folder
    card = json.loads((models / "tiny" / "card.json").read_text())
    args = build_parser().parse_args(card["command_explicit"].split()[3:])
    assert asdict(config_from_args(args)) == {**card["config"], "data_dir": None}


def test_evaluate_json_last_line_parses(trained_folder):
    models, _ = trained_folder
    card = json.loads((models / "tiny" / "card.json").read_text())
    done = run_mdr("evaluate", "--json", models=models)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["model"] == "tiny" and result["precision"] == "int8" and result["n"] == 10_000
    assert result["accuracy"] == card["metrics"]["test_accuracy"]["int8"]
    assert len(result["per_class"]) == 10


def test_evaluate_accepts_an_onnx_path(trained_folder):
    models, _ = trained_folder
    card = json.loads((models / "tiny" / "card.json").read_text())
    done = run_mdr("evaluate", "--model", str(models / "tiny" / "model.onnx"), "--json", models=models)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["precision"] == "fp32"
    assert result["accuracy"] == card["metrics"]["test_accuracy"]["fp32"]


@pytest.mark.parametrize("args", [("--model", "absent"), ("--data", "/nonexistent/mnist")])
def test_evaluate_errors_are_one_line_and_exit_2(trained_folder, args):
    models, _ = trained_folder
    done = run_mdr("evaluate", *args, models=models)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_train_command_refuses_bad_input_with_exit_2(tmp_path, monkeypatch, capsys):
    from mdr.cli import main

    monkeypatch.setenv("MDR_MODELS_DIR", str(tmp_path))
    assert main(["train", "--arch", "cnn-small", "--data", str(tmp_path / "none"), "--name", "x"]) == 2
    assert "MNIST was not found" in capsys.readouterr().err
    assert main(["train", "--arch", "cnn-small", "--name", "../escape"]) == 2
    assert "not a valid model name" in capsys.readouterr().err
    assert main(["train", "--arch", "cnn-small", "--train-size", "59000", "--name", "x"]) == 2
    assert "train_size must be between" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_retraining_replaces_the_folder_and_keeps_the_active_model(trained_folder, monkeypatch):
    from mdr.cli import main

    models, _ = trained_folder
    monkeypatch.setenv("MDR_MODELS_DIR", str(models))
    for seed in ("6", "7"):
        code = main(["train", "--arch", "cnn-small", "--epochs", "1", "--train-size", "1000", "--val-size", "200",
                     "--seed", seed, "--name", "other", "--no-activate", "--data", str(DATA)])
        assert code == 0
    assert json.loads((models / "other" / "card.json").read_text())["seed"] == 7
    assert json.loads((models / "active.json").read_text()) == {"name": "tiny"}
    assert sorted(p.name for p in models.iterdir()) == ["active.json", "other", "tiny"]


@pytest.mark.parametrize("total_steps", [1, 2, 5, 6, 40])
def test_the_one_cycle_schedule_runs_however_few_the_steps(total_steps):
    """Five steps once divided by zero in torch (the warm-up ended on the first step)."""
    from mdr.training.loop import make_scheduler

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make_scheduler(optimizer, TrainConfig(lr=0.1), total_steps)
    rates = []
    for _ in range(total_steps):
        optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    assert all(np.isfinite(rates)) and max(rates) <= 0.1 + 1e-9
