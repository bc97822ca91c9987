"""Training runs in the background, one at a time per process, watched from any page session.

:func:`start` runs :func:`mdr.publish.train_and_publish` in a child process
(its own interpreter, so a run neither slows the app's page sessions by
competing for the GIL nor is starved by them) and returns at once; a thread of
the app reads the child's messages into the run's progress; :func:`snapshot` gives a copy of the run's progress
(epoch, step, loss and validation curves, ETA, status and error text) to
whoever asks, so every browser session sees the same run. A second
:func:`start` while one runs raises :class:`JobBusyError` naming the run.

:func:`stop` asks the run to end after its current step. Training then keeps
the best model seen so far (by validation accuracy) in memory, **registers
nothing** and leaves the active model serving; :func:`register_stopped`
registers that best-so-far model afterwards, without activating it, if the
person wants it (the child leaves that model in a temporary file). A
finished run registers and activates the new model
(files built under a temporary name, then swapped in), then measures the
comparison of its variants and its accuracy on canvas-like numbers.

A :class:`~mdr.training.strip_config.StripTrainConfig` given to :func:`start` with
``base`` runs :func:`mdr.models.strip_publish.train_strip_and_publish` instead: the new
model is ``base``'s digit classifier plus a strip reader, and the run reports the
reader's held-out string accuracy and the pen numbers read before and after. A stopped
strip run keeps nothing (its reader alone is no model to register).
"""
from __future__ import annotations

import atexit
import copy
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
import types
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from mdr.errors import MdrError

RUNNING, PUBLISHING, DONE, STOPPED, FAILED = "running", "publishing", "done", "stopped", "failed"
DIGITS, STRIP = "digits", "strip"
"""What a run trains: a digit classifier, or a strip reader for a registered model's classifier."""


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
    registered: bool = False
    """The new model's folder is in place: from here on Stop has nothing left to undo."""
    best_val_acc: float | None = None
    kind: str = DIGITS
    base: str | None = None
    """A strip run: the model whose digit classifier the new one keeps."""

    @property
    def active(self) -> bool:
        return self.state in (RUNNING, PUBLISHING)

    @property
    def stoppable(self) -> bool:
        """Training, or a digit model's export before it is registered (a strip run's cannot be stopped)."""
        return self.state == RUNNING or (self.state == PUBLISHING and self.kind == DIGITS and not self.registered)

    @property
    def fraction(self) -> float:
        if self.state == DONE:  # a short strip run may end before its first progress report
            return 1.0
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    def who(self) -> str:
        started = datetime.fromtimestamp(self.started).strftime("%H:%M:%S")
        if self.kind == STRIP:
            epochs = self.config.get("epochs")
            numbers = (self.config.get("mix") or {}).get("numbers") or 0
            return (f"'{self.name}' (a strip reader for {self.base}'s digit classifier, {epochs} "
                    f"epoch{'s' if epochs != 1 else ''}, {numbers:,} composed numbers), started at {started}")
        size = self.config.get("train_size")
        images = f"{size:,} images" if size else "all training images"
        epochs = self.config.get("epochs")
        finetune = (f"fine-tuned from {self.config.get('init_from')} on your corrections, "
                    if self.config.get("corrections") else "")
        return (f"'{self.name}' ({finetune}{self.config.get('arch')}, {epochs} epoch{'s' if epochs != 1 else ''}, "
                f"{images}), started at {started}")


class _Job:
    def __init__(self, snapshot: JobSnapshot):
        self.snapshot = snapshot
        self.stop_event = _CONTEXT.Event()
        self.stopped_model: str | None = None
        """Temporary file holding the best-so-far TrainResult of a stopped run."""
        self.thread: threading.Thread | None = None
        """Reads the child's messages; ends when the child has ended."""
        self.pid: int | None = None
        """The training process."""
        self.command = ""


_CONTEXT = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
_lock = threading.Lock()
_job: _Job | None = None
_start_lock = threading.Lock()


def _start_child(process) -> None:
    """Start ``process`` without the child re-running this process's ``__main__`` module.

    A spawned child first runs the parent's main script (as ``__mp_main__``). In the app that
    is whichever page script Streamlit last installed as ``__main__``: the child would run a
    page (loading models, drawing widgets in bare mode) before training, and die with it if
    that page fails outside the app. The child needs nothing from ``__main__``: its target and
    arguments live in ``mdr``.
    """
    with _start_lock:
        main = sys.modules.get("__main__")
        stand_in = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to run
        sys.modules["__main__"] = stand_in
        try:
            process.start()
        finally:
            if sys.modules.get("__main__") is stand_in:  # unless a page run has put its own since
                if main is None:
                    del sys.modules["__main__"]
                else:
                    sys.modules["__main__"] = main


def snapshot() -> JobSnapshot | None:
    """A copy of the latest run's progress (running or finished), or None before the first run."""
    with _lock:
        return copy.deepcopy(_job.snapshot) if _job else None


def is_running() -> bool:
    with _lock:
        return bool(_job and _job.snapshot.active)


def start(config, name: str, command: str = "", activate: bool = True, measure: bool = True,
          canvas_n: int | None = None, base: str | None = None, pen_check_n: int | None = None) -> JobSnapshot:
    """Start training ``config`` as model ``name`` in the background.

    A strip config gives ``base``'s digit classifier (default: the active model) a strip
    reader; ``pen_check_n`` pen numbers per condition are then read before and after (None:
    the command's default, 0: none). ``measure`` of a strip run reads canvas-like numbers.

    Raises :class:`JobBusyError` while another run is going on, and
    ModelError / ValueError on a bad name or config (before anything starts).
    """
    global _job
    from mdr.models import registry

    registry.validate_name(name)
    config.check()
    strip = _is_strip(config)
    if strip:
        base = _strip_base(base, name)
    with _lock:
        if _job and _job.snapshot.active:
            raise JobBusyError(f"A training run is already going on: {_job.snapshot.who()}. "
                               "Wait for it to finish or stop it first.")
        job = _Job(JobSnapshot(name=name, config=asdict(config), started=time.time(), epochs=config.epochs,
                               kind=STRIP if strip else DIGITS, base=base if strip else None))
        if strip:
            job.snapshot.status = f"Composing {config.mix.numbers:,} numbers and cutting them into strips…"
        job.command = command or _command(config, name, base, activate)
        _job = job
    job.thread = threading.Thread(target=_watch, args=(job, config, activate, measure, canvas_n, pen_check_n),
                                  name=f"mdr-train-{name}", daemon=True)
    job.thread.start()
    return snapshot()


def stop() -> bool:
    """Ask the running job to stop after its current step; False when nothing runs, or when its
    model is already registered (or a strip run is exporting): there is nothing left to undo."""
    with _lock:
        if not (_job and _job.snapshot.stoppable):
            return False
        _job.stop_event.set()
        _job.snapshot.stop_requested = True
        _job.snapshot.status = ("Stopping after the current step…" if _job.snapshot.state == RUNNING else
                                "Stopping: the model being exported is not registered…")
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
    from mdr.models.publish import publish

    with _lock:
        job = _job
        if job and job.snapshot.state == STOPPED and job.snapshot.kind == STRIP:
            raise MdrError("A stopped strip-reader run keeps nothing to register: its reader is only half "
                           "trained. Train it again to the end.")
        if not job or job.snapshot.state != STOPPED or job.stopped_model is None:
            raise MdrError("There is no stopped run whose model could be registered.")
        if job.snapshot.registered_after_stop:
            raise MdrError(f"The stopped run was already registered as '{job.snapshot.name}'.")
        job.snapshot.registered_after_stop = True  # claimed: a second click does nothing
    try:
        import torch

        try:
            result = torch.load(job.stopped_model, weights_only=False)
        except (OSError, RuntimeError, EOFError) as e:
            raise MdrError(f"The stopped run's model could not be read back ({e}); train again.") from None
        card = publish(result, job.snapshot.name, job.command + "  # stopped early", activate=activate)
        _forget_stopped_model(job)
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
            _forget_stopped_model(_job)
            _job.snapshot.status = "Stopped; the best model so far was discarded. Nothing was registered."


def _is_strip(config) -> bool:
    from mdr.training.strip_config import StripTrainConfig

    return isinstance(config, StripTrainConfig)


def _strip_base(base: str | None, name: str) -> str:
    """The registered model a strip run starts from; refused in words before anything starts."""
    from mdr.errors import ModelError
    from mdr.models import registry

    base = base or registry.active_model_name()
    registry.validate_name(base)
    names = registry.list_models()
    if base not in names:
        raise ModelError(f"There is no registered model '{base}' to give a strip reader "
                         f"(registered: {', '.join(names) or 'none'}).")
    if base == name:
        raise ModelError(f"Give the new model a name of its own: '{base}' keeps its digit classifier and "
                         "keeps serving until the new model is activated.")
    return base


def _command(config, name: str, base: str | None = None, activate: bool = True) -> str:
    """The `python -m mdr train` (or `train-strip`) line that reproduces ``config``."""
    if _is_strip(config):
        from mdr.models.strip_publish import strip_command

        return strip_command(name, base, config, activate)
    from mdr.commands.train import command_line

    return command_line(config, name, only_changed=True)


def _update(job: _Job, **changes) -> None:
    with _lock:
        for key, value in changes.items():
            setattr(job.snapshot, key, value)


def _forget_stopped_model(job: _Job) -> None:
    if job.stopped_model:
        try:
            os.unlink(job.stopped_model)
        except OSError:
            pass
        job.stopped_model = None


@atexit.register
def _forget_stopped_model_at_exit() -> None:
    """A stopped run's best-so-far weights wait in a temporary file for Keep or Discard; when the
    app ends first, nobody can keep them any more, so the file goes too (it used to stay behind)."""
    if _job is not None:
        _forget_stopped_model(_job)


def _watch(job: _Job, config, activate: bool, measure: bool, canvas_n: int | None,
           pen_check_n: int | None = None) -> None:
    """Start the child, then apply its messages to the snapshot until it has ended."""
    messages = _CONTEXT.Queue()
    fd, stopped_model = tempfile.mkstemp(prefix="mdr-stopped-run-", suffix=".pt")
    os.close(fd)
    process = _CONTEXT.Process(
        target=_child, name=f"mdr-train-{job.snapshot.name}", daemon=True,
        args=(messages, job.stop_event, config, job.snapshot.name, job.command, activate, measure, canvas_n,
              stopped_model, os.getpid(), job.snapshot.base, pen_check_n))
    try:
        _start_child(process)
        job.pid = process.pid
    except OSError as e:
        os.unlink(stopped_model)
        _update(job, state=FAILED, error=f"the training process could not start ({e})", finished=time.time(),
                status="The run failed; nothing new is active.")
        return
    final = False
    while not final:
        try:
            kind, payload = messages.get(timeout=0.5)
        except queue.Empty:
            if process.is_alive():
                continue
            try:  # the child may have ended just after its last message
                kind, payload = messages.get(timeout=0.5)
            except queue.Empty:
                _update(job, state=FAILED, finished=time.time(), status="The run failed; nothing new is active.",
                        error=f"the training process ended unexpectedly (exit code {process.exitcode})")
                break
        final = _apply(job, kind, payload, stopped_model)
    process.join(30)
    if job.stopped_model is None:
        try:
            os.unlink(stopped_model)
        except OSError:
            pass


def _apply(job: _Job, kind: str, payload, stopped_model: str) -> bool:
    """One message of the child; True for the last one."""
    if kind == "progress":
        p = payload
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
        return False
    if kind == "status":
        if job.snapshot.stop_requested and not job.snapshot.registered:
            _update(job, state=PUBLISHING)  # "Stopping…" stays until the child says it stopped
        else:
            _update(job, state=PUBLISHING, status=payload)
        return False
    if kind == "registered":
        _update(job, registered=True)
        return False
    if kind == "published":
        _update(job, card=payload["card"], activated=payload["activated"], best_val_acc=payload["best"],
                state=PUBLISHING)
        if job.snapshot.kind == STRIP:  # every epoch ran; progress is only reported every 20 steps
            with _lock:
                job.snapshot.epoch, job.snapshot.step = job.snapshot.epochs, job.snapshot.total_steps
        return False
    if kind == "stopped" and job.snapshot.kind == STRIP:
        _update(job, state=STOPPED, finished=time.time(), elapsed=payload["seconds"],
                status=f"Stopped at step {payload['steps']:,}: nothing was registered and the active model "
                       "keeps serving. A half-trained strip reader is not kept.")
        return True
    if kind == "stopped":
        best = payload["best"]
        job.stopped_model = stopped_model
        val = f" (best validation accuracy so far: {best:.2%})" if best is not None else ""
        exporting = job.snapshot.state == PUBLISHING
        when = "while its model was being exported" if exporting else f"at step {payload['steps']:,}"
        kept = "trained model" if exporting else "best model so far"
        _update(job, state=STOPPED, best_val_acc=best, finished=time.time(), elapsed=payload["seconds"],
                status=f"Stopped {when}: nothing was registered and the active model "
                       f"keeps serving. The {kept}{val} is kept.")
        return True
    if kind == "done":
        _update(job, state=DONE, finished=time.time(), status=payload)
        return True
    _update(job, state=FAILED, error=payload, finished=time.time(), status="The run failed; nothing new is active.")
    return True


def _heldout_change(report: dict[str, Any] | None) -> str:
    """", and 2 of 3 held-out corrections (before: 0)" for a fine-tune's card; else nothing."""
    if not report or not report.get("heldout_drawings"):
        return ""
    n = report["heldout_drawings"]
    before, after = (round(report[k]["heldout"]["exact"] * n) for k in ("before", "after"))
    return f", and {after} of {n} held-out corrections exactly (before: {before})"


def _strip_done(card: dict[str, Any]) -> str:
    """What a finished strip run did: its held-out string accuracy, and the touching pen numbers
read exactly before and after."""
    reader = card["strip_reader"]
    said = f"reads {reader['val_string_accuracy']:.1%} of {reader['val_strips']:,} held-out strips exactly"
    check = reader.get("pen_check")
    if check:
        before, after = check["before"]["touching"], check["after"]["touching"]
        said += (f"; touching pen numbers read exactly: {before['exact']:.0%} before ('{check['model_before']}'), "
                 f"{after['exact']:.0%} after ({after['n']} numbers by writers it never saw)")
    return said


def _child_strip(messages, should_stop, config, name: str, activate: bool, measure: bool, canvas_n: int | None,
                 base: str, pen_check_n: int | None) -> None:
    """A strip run in the child process: train, register, report."""
    from mdr.models.strip_publish import PEN_CHECK_N, train_strip_and_publish

    result, card = train_strip_and_publish(config, name, base, activate=activate,
                                           on_progress=lambda p: messages.put(("progress", p)),
                                           should_stop=should_stop,
                                           on_status=lambda m: messages.put(("status", m)),
                                           pen_check_n=PEN_CHECK_N if pen_check_n is None else pen_check_n)
    if card is None:
        messages.put(("stopped", {"best": None, "steps": len(result.losses), "seconds": result.seconds}))
        return
    messages.put(("published", {"card": card, "activated": activate, "best": None}))
    note = ""
    if measure:
        from mdr.models import operations as modelops

        try:
            messages.put(("status", "Reading canvas-like numbers…"))
            modelops.canvas_accuracy(name, n=canvas_n or modelops.CANVAS_N, data_dir=config.mix.data_dir)
        except Exception as e:  # the model is registered; only a measurement is missing
            note = f" (a measurement failed: {e})"
    messages.put(("done", f"Done: '{name}' {_strip_done(card)}"
                          + (" and is now the active model" if activate else "") + f".{note}"))


def _child(messages, stop_event, config, name: str, command: str, activate: bool, measure: bool,
           canvas_n: int | None, stopped_model: str, parent: int, base: str | None = None,
           pen_check_n: int | None = None) -> None:
    """The run itself, in the child process; everything it has to say goes to ``messages``."""
    from mdr.models.publish import train_and_publish

    def should_stop() -> bool:  # asked to, or the app is gone (then nobody could register the model)
        return stop_event.is_set() or os.getppid() != parent

    try:
        if _is_strip(config):
            _child_strip(messages, should_stop, config, name, activate, measure, canvas_n, base, pen_check_n)
            return
        result, card = train_and_publish(config, name, command, activate=activate,
                                         on_progress=lambda p: messages.put(("progress", p)),
                                         should_stop=should_stop,
                                         on_status=lambda m: messages.put(("status", m)),
                                         on_registered=lambda: messages.put(("registered", None)))
        best = result.best_val_acc
        if card is None:
            if os.getppid() == parent:
                import torch

                torch.save(result, stopped_model)
            messages.put(("stopped", {"best": best, "steps": result.steps, "seconds": result.seconds}))
            return
        messages.put(("published", {"card": card, "activated": activate, "best": best}))
        note = ""
        if measure:
            from mdr.models import operations as modelops

            try:
                messages.put(("status", "Comparing torch, ONNX fp32 and int8 (accuracy, size, speed)…"))
                modelops.compare(name, repeats=10, data_dir=config.data_dir)
                messages.put(("status", "Reading canvas-like numbers…"))
                modelops.canvas_accuracy(name, n=canvas_n or modelops.CANVAS_N, data_dir=config.data_dir)
            except Exception as e:  # the model is registered; only a measurement is missing
                note = f" (a measurement failed: {e})"
        accuracy = card["metrics"]["test_accuracy"]["int8"]
        held = _heldout_change(card.get("finetune"))
        messages.put(("done", f"Done: '{name}' reads {accuracy:.2%} of the MNIST test digits (int8){held}"
                              + (" and is now the active model" if activate else "") + f".{note}"))
    except Exception as e:  # reported on the page, never lost in the child
        messages.put(("failed", str(e) if isinstance(e, (MdrError, ValueError)) else f"{type(e).__name__}: {e}"))
    finally:
        messages.close()
        messages.join_thread()  # every message is delivered before the child ends
