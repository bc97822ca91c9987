"""Background training runs: one at a time, progress, stop, failure; the active model keeps serving."""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from mdr.app import jobs
from mdr.models import registry
from mdr.errors import ModelError
from mdr.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def models(tmp_path, monkeypatch):
    """A private models folder holding a copy of the shipped model, which is active."""
    folder = tmp_path / "models"
    shutil.copytree(ROOT / "models" / registry.SHIPPED_MODEL, folder / registry.SHIPPED_MODEL)
    (folder / "active.json").write_text(json.dumps({"name": registry.SHIPPED_MODEL}))
    monkeypatch.setenv("MDR_MODELS_DIR", str(folder))
    yield folder
    jobs.stop()
    jobs.wait(120)


def tiny(**changes) -> TrainConfig:
    return TrainConfig(**{"arch": "cnn-small", "epochs": 1, "train_size": 2000, "val_size": 500, "seed": 2,
                          **changes})


def wait_for(condition, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = jobs.snapshot()
        if condition(snap):
            return snap
        time.sleep(0.05)
    raise AssertionError(f"timed out; last snapshot: {jobs.snapshot()}")


def test_stop_halfway_keeps_the_active_model_and_registers_nothing(models):
    active_before = (models / "active.json").read_bytes()
    jobs.start(tiny(epochs=30, batch_size=32), "half-run", measure=False)  # long: stopped well before the end
    assert jobs.is_running()

    # a second run is refused, naming the one going on
    with pytest.raises(jobs.JobBusyError, match="'half-run' .*cnn-small.*started at"):
        jobs.start(tiny(), "other-run")

    first = wait_for(lambda s: s.step >= 20)
    second = wait_for(lambda s: s.step > first.step)
    assert second.total_steps == 30 * (2000 // 32) and len(second.loss) >= len(first.loss) >= 1
    assert second.elapsed >= first.elapsed and second.eta is not None

    assert jobs.stop()
    snap = jobs.wait(120)
    assert snap.state == jobs.STOPPED and not snap.active
    assert snap.step < snap.total_steps
    assert "nothing was registered" in snap.status
    assert registry.list_models() == [registry.SHIPPED_MODEL]
    assert sorted(p.name for p in models.iterdir()) == ["active.json", registry.SHIPPED_MODEL]
    assert (models / "active.json").read_bytes() == active_before

    # the best model so far can still be registered, without being activated
    card = jobs.register_stopped()
    assert card["name"] == "half-run" and "stopped early" in card["command"]
    assert registry.list_models() == ["half-run", registry.SHIPPED_MODEL]
    assert (models / "active.json").read_bytes() == active_before


def test_a_finished_run_registers_and_activates(models):
    jobs.start(tiny(), "tiny-run", measure=False)
    snap = jobs.wait(300)
    assert snap.state == jobs.DONE, snap.error
    assert snap.step == snap.total_steps and snap.val_acc and snap.fraction == 1.0
    assert registry.active_model_name() == "tiny-run"
    assert registry.read_card("tiny-run")["config"]["train_size"] == 2000
    assert not any(p.name.startswith(".") for p in models.iterdir())


def test_a_failing_run_reports_its_error(models, tmp_path):
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    jobs.start(tiny(data_dir=str(empty)), "doomed", measure=False)
    snap = jobs.wait(60)
    assert snap.state == jobs.FAILED and not jobs.is_running()
    assert snap.error and "MNIST" in snap.error
    assert registry.list_models() == [registry.SHIPPED_MODEL]
    assert registry.active_model_name() == registry.SHIPPED_MODEL


def test_bad_names_and_settings_are_refused_before_starting(models):
    with pytest.raises(ModelError, match="not a valid model name"):
        jobs.start(tiny(), "../escape")
    with pytest.raises(ValueError, match="epochs"):
        jobs.start(tiny(epochs=0), "fine-name")
    assert not jobs.is_running()


def test_a_killed_training_process_is_a_failed_run_and_registers_nothing(models):
    import os
    import signal

    active_before = (models / "active.json").read_bytes()
    jobs.start(tiny(epochs=30, batch_size=32), "killed-run", measure=False)
    wait_for(lambda s: s.step >= 5)
    pid = jobs._job.pid
    assert pid and pid != os.getpid(), "the run trains in a process of its own"
    os.kill(pid, signal.SIGKILL)
    snap = jobs.wait(60)
    assert snap.state == jobs.FAILED and not jobs.is_running()
    assert "ended unexpectedly" in snap.error and "-9" in snap.error
    assert registry.list_models() == [registry.SHIPPED_MODEL]
    assert (models / "active.json").read_bytes() == active_before
    # a new run can start at once
    jobs.start(tiny(), "after-kill", measure=False)
    assert jobs.wait(120).state == jobs.DONE


def test_the_training_process_does_not_run_the_apps_main_script(models, tmp_path, monkeypatch):
    # in the app, Streamlit installs the page script it runs as __main__; a spawned child would
    # run that page first (and fail with it) unless the run is started without it
    import types

    marker = tmp_path / "page-ran"
    page = tmp_path / "page.py"
    page.write_text(f"open({str(marker)!r}, 'w').close()\nraise RuntimeError('a page outside the app')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", main)

    jobs.start(tiny(epochs=30, batch_size=32), "main-free-run", measure=False)
    wait_for(lambda s: s.step >= 1 or not s.active)
    assert sys.modules["__main__"] is main  # given back once the child had started
    jobs.stop()
    snap = jobs.wait(120)
    assert snap.state == jobs.STOPPED, snap.error
    assert not marker.exists()


def test_a_stopped_runs_weights_waiting_for_keep_or_discard_go_when_the_app_ends(tmp_path):
    import subprocess

    waiting = tmp_path / "mdr-stopped-run-x.pt"
    waiting.write_bytes(b"weights")
    script = ("from mdr.app import jobs\n"
              "job = jobs._Job(jobs.JobSnapshot(name='half-run', config={}, started=0.0))\n"
              f"job.stopped_model = {str(waiting)!r}\n"
              "jobs._job = job\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not waiting.exists()


def test_stop_while_a_finetune_is_exported_registers_nothing(models, tmp_path, monkeypatch):
    """Stop after training, while the model is exported and its strip reader taught: no model, and
    the trained one is kept for "register it anyway"."""
    from mdr.models.finetune import finetune_config
    from tests.test_strip_corrections import READER_MODEL, save_touching_corrections

    shutil.copytree(ROOT / "models" / READER_MODEL, models / READER_MODEL)
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path / "home"))
    save_touching_corrections(3, seed=5)
    active_before = (models / "active.json").read_bytes()
    files_before = sorted(p.name for p in models.iterdir())

    jobs.start(finetune_config(READER_MODEL, train_size=500), "late-stop", measure=False)
    exporting = wait_for(lambda s: s.state == jobs.PUBLISHING or not s.active, timeout=300)
    assert exporting.state == jobs.PUBLISHING and exporting.stoppable, exporting
    assert jobs.stop()
    snap = jobs.wait(300)
    assert snap.state == jobs.STOPPED, snap.error
    assert "while its model was being exported" in snap.status and "nothing was registered" in snap.status
    assert "The trained model" in snap.status
    assert sorted(p.name for p in models.iterdir()) == files_before
    assert (models / "active.json").read_bytes() == active_before
    assert jobs._job.stopped_model and Path(jobs._job.stopped_model).is_file()
