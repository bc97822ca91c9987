"""Training runs in the background, one at a time per process, watched from any page session.

:func:`start` runs :func:`mdr.publish.train_and_publish` in a daemon thread
and returns at once; :func:`snapshot` gives a copy of the run's progress
(epoch, step, loss and validation curves, ETA, status and error text) to
whoever asks, so every browser session sees the same run. A second
:func:`start` while one runs raises :class:`JobBusyError` naming the run.

:func:`stop` asks the run to end after its current step. Training then keeps
the best model seen so far (by validation accuracy) in memory, **registers
nothing** and leaves the active model serving; :func:`register_stopped`
registers that best-so-far model afterwards, without activating it, if the
person wants it. A finished run registers and activates the new model
(files built under a temporary name, then swapped in), then measures the
comparison of its variants and its accuracy on canvas-like numbers.
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .errors import MdrError

RUNNING, PUBLISHING, DONE, STOPPED, FAILED = "running", "publishing", "done", "stopped", "failed"


class JobBusyError(MdrError):
    """A training run is already going on."""


@dataclass
class JobSnapshot:
    """What a page shows about a training run."""

    name: str
    config: dict[str, Any]
    started: float
    """time.time() at the start."""
    state: str = RUNNING
    """running, publishing (export, quantize, measure), done, stopped or failed."""
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    total_steps: int = 0
    loss_steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    """Mean training loss of each reporting interval, at ``loss_steps``."""
    val_epochs: list[int] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    eta: float | None = None
    status: str = "Loading MNIST…"
    error: str | None = None
    stop_requested: bool = False
    finished: float | None = None
    card: dict[str, Any] | None = None
    activated: bool = False
    registered_after_stop: bool = False
    best_val_acc: float | None = None

    @property
    def active(self) -> bool:
        return self.state in (RUNNING, PUBLISHING)

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    def who(self) -> str:
        started = datetime.fromtimestamp(self.started).strftime("%H:%M:%S")
        size = self.config.get("train_size")
        images = f"{size:,} images" if size else "all training images"
        epochs = self.config.get("epochs")
        return (f"'{self.name}' ({self.config.get('arch')}, {epochs} epoch{'s' if epochs != 1 else ''}, "
                f"{images}), started at {started}")


class _Job:
    def __init__(self, snapshot: JobSnapshot):
        self.snapshot = snapshot
        self.stop_event = threading.Event()
        self.result = None
        self.thread: threading.Thread | None = None
        self.command = ""


_lock = threading.Lock()
_job: _Job | None = None


def snapshot() -> JobSnapshot | None:
    """A copy of the latest run's progress (running or finished), or None before the first run."""
    with _lock:
        return copy.deepcopy(_job.snapshot) if _job else None


def is_running() -> bool:
    with _lock:
        return bool(_job and _job.snapshot.active)


def start(config, name: str, command: str = "", activate: bool = True, measure: bool = True,
          canvas_n: int | None = None) -> JobSnapshot:
    """Start training ``config`` as model ``name`` in the background.

    Raises :class:`JobBusyError` while another run is going on, and
    ModelError / ValueError on a bad name or config (before anything starts).
    """
    global _job
    from . import registry

    registry.validate_name(name)
    config.check()
    with _lock:
        if _job and _job.snapshot.active:
            raise JobBusyError(f"A training run is already going on: {_job.snapshot.who()}. "
                               "Wait for it to finish or stop it first.")
        job = _Job(JobSnapshot(name=name, config=asdict(config), started=time.time(), epochs=config.epochs))
        job.command = command or _command(config, name)
        _job = job
    job.thread = threading.Thread(target=_run, args=(job, config, activate, measure, canvas_n),
                                  name=f"mdr-train-{name}", daemon=True)
    job.thread.start()
    return snapshot()


def stop() -> bool:
    """Ask the running job to stop after its current step; False when nothing runs."""
    with _lock:
        if not (_job and _job.snapshot.active):
            return False
        _job.stop_event.set()
        _job.snapshot.stop_requested = True
        if _job.snapshot.state == RUNNING:
            _job.snapshot.status = "Stopping after the current step…"
        return True


def wait(timeout: float | None = None) -> JobSnapshot | None:
    """Block until the latest run has ended (for scripts and tests)."""
    with _lock:
        thread = _job.thread if _job else None
    if thread is not None:
        thread.join(timeout)
    return snapshot()


def register_stopped(activate: bool = False) -> dict[str, Any]:
    """Register the best-so-far model of a stopped run (not activated by default); returns its card."""
    from .publish import publish

    with _lock:
        job = _job
        if not job or job.snapshot.state != STOPPED or job.result is None:
            raise MdrError("There is no stopped run whose model could be registered.")
        if job.snapshot.registered_after_stop:
            raise MdrError(f"The stopped run was already registered as '{job.snapshot.name}'.")
        job.snapshot.registered_after_stop = True  # claimed: a second click does nothing
    try:
        card = publish(job.result, job.snapshot.name, job.command + "  # stopped early", activate=activate)
    except BaseException:
        with _lock:
            job.snapshot.registered_after_stop = False
        raise
    with _lock:
        job.snapshot.card = card
        job.snapshot.activated = activate
        job.snapshot.status = (f"The best model so far is registered as '{job.snapshot.name}'"
                               + (" and active." if activate else " (not active)."))
    return card


def discard_stopped() -> None:
    """Forget the best-so-far model of a stopped run."""
    with _lock:
        if _job and _job.snapshot.state == STOPPED:
            _job.result = None
            _job.snapshot.status = "Stopped; the best model so far was discarded. Nothing was registered."


def _command(config, name: str) -> str:
    """The `python -m mdr train` line that reproduces ``config``."""
    import shlex
    from dataclasses import fields

    from .commands.train import _flag

    parts = ["python", "-m", "mdr", "train", "--name", name]
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name == "data_dir" or value is None or value == f.default:
            continue
        if isinstance(value, bool):
            parts.append("--no-" + f.name.replace("_", "-"))
        else:
            parts += [_flag(f.name), str(value)]
    return shlex.join(parts)


def _update(job: _Job, **changes) -> None:
    with _lock:
        for key, value in changes.items():
            setattr(job.snapshot, key, value)


def _run(job: _Job, config, activate: bool, measure: bool, canvas_n: int | None) -> None:
    from .publish import train_and_publish

    def on_progress(p) -> None:
        with _lock:
            s = job.snapshot
            s.epoch, s.epochs, s.step, s.total_steps = p.epoch, p.epochs, p.step, p.total_steps
            s.elapsed, s.eta = p.elapsed, p.eta
            if p.epoch_end:
                if p.val_acc is not None:
                    s.val_epochs.append(p.epoch)
                    s.val_acc.append(p.val_acc)
            elif p.loss == p.loss:  # not NaN
                s.loss_steps.append(p.step)
                s.loss.append(p.loss)
            if not s.stop_requested:
                s.status = f"Training: epoch {p.epoch} of {p.epochs}, step {p.step:,} of {p.total_steps:,}"

    def on_status(message: str) -> None:
        _update(job, state=PUBLISHING, status=message)

    try:
        result, card = train_and_publish(config, job.snapshot.name, job.command, activate=activate,
                                         on_progress=on_progress, should_stop=job.stop_event.is_set,
                                         on_status=on_status)
        job.result = result
        best = result.best_val_acc
        if card is None:
            val = f" (best validation accuracy so far: {best:.2%})" if best is not None else ""
            _update(job, state=STOPPED, best_val_acc=best, finished=time.time(), elapsed=result.seconds,
                    status=f"Stopped at step {result.steps:,}: nothing was registered and the active model "
                           f"keeps serving. The best model so far{val} is kept in memory.")
            return
        _update(job, card=card, activated=activate, best_val_acc=best, state=PUBLISHING)
        note = ""
        if measure:
            from . import modelops

            try:
                _update(job, status="Comparing torch, ONNX fp32 and int8 (accuracy, size, speed)…")
                modelops.compare(job.snapshot.name, repeats=10, data_dir=config.data_dir)
                _update(job, status="Reading canvas-like numbers…")
                modelops.canvas_accuracy(job.snapshot.name, n=canvas_n or modelops.CANVAS_N,
                                         data_dir=config.data_dir)
            except Exception as e:  # the model is registered; only a measurement is missing
                note = f" (a measurement failed: {e})"
        accuracy = card["metrics"]["test_accuracy"]["int8"]
        _update(job, state=DONE, finished=time.time(),
                status=f"Done: '{job.snapshot.name}' reads {accuracy:.2%} of the MNIST test digits (int8)"
                       + (" and is now the active model" if activate else "") + f".{note}")
    except Exception as e:  # reported on the page, never raised into a thread's void
        message = str(e) if isinstance(e, (MdrError, ValueError)) else f"{type(e).__name__}: {e}"
        _update(job, state=FAILED, error=message, finished=time.time(),
                status="The run failed; nothing new is active.")
