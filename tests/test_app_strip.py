"""The Train page's strip reader: the form starting a run, a strip model's report and its mark in the
models table, and a strip run in the background (finished: registered; stopped: nothing)."""
from __future__ import annotations

import json
import shutil
import time

import pytest

from mdr.app import jobs
from mdr.errors import MdrError, ModelError
from mdr.models import registry
from mdr.training.strip_config import StripTrainConfig
from mdr.training.strips import StripMix
from model_folders import private_models
from test_app_train import TRAIN, models, run_page  # noqa: F401 (fixture)

PEN_CHECK = {"model_before": "mnist-cnn",
             "before": {"spaced": {"n": 100, "exact": 0.83, "length": 0.9},
                        "touching": {"n": 100, "exact": 0.41, "length": 0.52}},
             "after": {"spaced": {"n": 100, "exact": 0.85, "length": 0.91},
                       "touching": {"n": 100, "exact": 0.77, "length": 0.86}}}


def give_strip_reader(folder, name: str = "mnist-copy") -> dict:
    """Make ``name`` look like a model registered by train-strip: strip files and a card section."""
    for filename in registry.STRIP_FILES.values():
        shutil.copy(folder / name / "model.int8.onnx", folder / name / filename)
    card_path = folder / name / "card.json"
    card = json.loads(card_path.read_text())
    card.update(name=name, derived_from="mnist-cnn")
    card["strip_reader"] = {
        "command": f"python -m mdr train-strip --name {name} --from-model mnist-cnn --numbers 40000",
        "config": StripTrainConfig().to_dict(), "val_string_accuracy": 0.9132, "val_strips": 2911,
        "onnx": {"opset": 17, "max_abs_diff": 2.1e-6, "int8": "static QDQ, per-channel weights",
                 "calibration_strips": 240},
        "training": {"seconds": 1834.2, "device": "cpu", "epochs_done": 10},
        "pen_check": PEN_CHECK,
    }
    card_path.write_text(json.dumps(card))
    return card


@pytest.fixture
def no_run(monkeypatch):
    monkeypatch.setattr(jobs, "_job", None)  # no run from another test on the page


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------
def test_the_form_starts_a_strip_run_with_the_chosen_values(models, no_run, monkeypatch):
    started = {}

    def start(config, name, activate=True, measure=True, **kwargs):
        started.update(config=config, name=name, activate=activate, measure=measure, **kwargs)

    monkeypatch.setattr(jobs, "start", start)
    at = run_page()
    base = at.selectbox(key="strip_base")
    assert base.value == registry.SHIPPED_MODEL  # the active model
    base.set_value("mnist-copy").run()
    name = at.text_input(key="strip_name_mnist-copy")
    assert name.value == "mnist-copy-strips"  # follows the chosen model
    name.set_value("copy-reads-touching")
    at.number_input(key="strip_numbers").set_value(3000)
    at.slider(key="strip_touching").set_value(0.5)
    at.slider(key="strip_mnist").set_value(0.2)
    at.slider(key="strip_validation").set_value(0.2)
    at.slider(key="strip_variation").set_value(0.75)
    assert at.slider(key="strip_styles").value == 0.0
    at.slider(key="strip_styles").set_value(0.3)
    assert at.selectbox(key="strip_frame_stride").value == 4
    at.selectbox(key="strip_frame_stride").set_value(2)
    at.number_input(key="strip_epochs").set_value(4)
    at.toggle(key="strip_activate").set_value(True)
    at.button(key="FormSubmitter:strip_form-Train a strip reader").click().run()
    assert not at.exception, [e.value for e in at.exception]
    config = started["config"]
    assert isinstance(config, StripTrainConfig)
    assert (config.mix.numbers, config.mix.touching_share, config.mix.mnist_share, config.epochs) == (3000, 0.5, 0.2, 4)
    assert (config.mix.pen_validation, config.mix.pen_variation, config.frame_stride) == (0.2, 0.75, 2)
    assert config.mix.pen_styles == 0.3
    assert started["name"] == "copy-reads-touching" and started["base"] == "mnist-copy"
    assert started["activate"] and not started["measure"]


def test_while_a_run_goes_on_the_strip_form_says_so(models, monkeypatch):
    running = jobs._Job(jobs.JobSnapshot(name="busy", config={"arch": "cnn-small", "epochs": 1},
                                         started=time.time(), epochs=1))
    monkeypatch.setattr(jobs, "_job", running)
    at = run_page()
    assert any("train a strip reader when it has finished" in c.value for c in at.caption)
    assert "Train a strip reader" not in [b.label for b in at.button]


def test_a_strip_models_results_show_its_reader_and_the_pen_numbers_before_and_after(models, no_run):
    from streamlit.testing.v1 import AppTest

    from mdr.app import train_view

    give_strip_reader(models)
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.session_state[train_view.SELECTED] = "mnist-copy"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "**Strip reader**" in text and "`mnist-cnn`'s digit classifier" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Held-out strips read exactly"] == "91.32%"
    assert metrics["Training time"] == "30:34" and metrics["Numbers composed"] == "40,000"
    table = next(d.value for d in at.dataframe if "measure" in d.value.columns
                 and any("pen numbers" in m for m in d.value["measure"]))
    rows = {r["measure"]: (r["before"], r["after"], r["change"]) for r in table.to_dict("records")}
    assert rows["Touching pen numbers (100): exact"] == ("41.0%", "77.0%", "+36.0 points")
    assert rows["Spaced pen numbers (100): exact"] == ("83.0%", "85.0%", "+2.0 points")
    assert rows["Touching: right number of digits"] == ("52.0%", "86.0%", "+34.0 points")
    assert any("train-strip --name mnist-copy --from-model mnist-cnn" in c.value for c in at.code)


def test_a_carried_reader_names_the_model_it_was_trained_for_and_what_the_fine_tune_taught_it(models, no_run):
    from streamlit.testing.v1 import AppTest

    from mdr.app import train_view

    card = give_strip_reader(models)
    card["strip_reader"].update(carried_from="mnist-strips", finetune={
        "drawings": 10, "taught": 9, "not taught": {"not readable": 1}, "strips": 23, "touching strips": 7})
    (models / "mnist-copy" / "card.json").write_text(json.dumps(card))
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.session_state[train_view.SELECTED] = "mnist-copy"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "carried from `mnist-strips`, then taught 23 strips of the corrections' drawings" in text
    assert "added to `mnist-cnn`'s digit classifier" not in text
    # its pen check was measured where it was trained, not on this model
    assert "read by `mnist-cnn` (before) and `mnist-strips` (after)" in text


def test_the_pen_check_chart_compares_before_and_after():
    from mdr.app.finetune_view import report_figure
    from mdr.app.strip_view import pen_check_rows

    rows = pen_check_rows(PEN_CHECK)
    figure = report_figure(rows, "mnist-cnn", "mnist-copy")
    before, after = figure.data
    assert before.name == "before (mnist-cnn)" and after.name == "after (mnist-copy)"
    assert list(before.x[:2]) == pytest.approx([83.0, 41.0]) and list(after.x[:2]) == pytest.approx([85.0, 77.0])


def test_a_strip_runs_panel_draws_its_loss_alone():
    """Its held-out strips are read once, at the end: no accuracy curve that would stay empty."""
    from mdr.app.train_view import curves_figure

    snap = jobs.JobSnapshot(name="x", config=StripTrainConfig().to_dict(), started=0.0, epochs=10,
                            kind=jobs.STRIP, base="mnist-cnn", loss_steps=[20, 40], loss=[9.5, 4.2],
                            total_steps=600)
    figure = curves_figure(snap)
    assert figure.layout.title.text == "Training loss (CTC)" and len(figure.data) == 1
    assert list(figure.data[0].y) == [9.5, 4.2] and not figure.layout.annotations


def test_the_models_table_marks_a_model_with_a_strip_reader(models, no_run):
    give_strip_reader(models)
    at = run_page()
    text = " ".join(m.value for m in at.markdown)
    assert "**touching digits**" in text
    cells = [m.value for m in at.markdown]
    assert cells.count(":blue-badge[strip reader]") == 1  # mnist-copy
    assert cells.count("cut search") == 1  # mnist-cnn


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------
@pytest.fixture
def strip_models(tmp_path, monkeypatch):
    folder = private_models(tmp_path, monkeypatch)
    monkeypatch.setattr(jobs, "_job", None)
    yield folder
    jobs.stop()
    jobs.wait(120)


def tiny_strips(**changes) -> StripTrainConfig:
    return StripTrainConfig(**{"mix": StripMix(numbers=120, seed=3), "epochs": 1, "threads": 1, **changes})


def test_bad_strip_settings_and_names_are_refused_before_starting(strip_models):
    with pytest.raises(ValueError, match="numbers must be at least 1"):
        jobs.start(tiny_strips(mix=StripMix(numbers=0)), "fine-name", base="mnist-cnn")
    with pytest.raises(ValueError, match="touching_share is a share"):
        jobs.start(tiny_strips(mix=StripMix(touching_share=1.5)), "fine-name", base="mnist-cnn")
    with pytest.raises(ModelError, match="no registered model 'nowhere'"):
        jobs.start(tiny_strips(), "fine-name", base="nowhere")
    with pytest.raises(ModelError, match="a name of its own"):
        jobs.start(tiny_strips(), "mnist-cnn")  # the base defaults to the active model
    assert not jobs.is_running()


def test_a_strip_run_registers_the_base_classifier_with_a_reader(strip_models):
    jobs.start(tiny_strips(), "tiny-strips", activate=True, measure=False, base="mnist-cnn", pen_check_n=3)
    running = jobs.snapshot()
    assert running.kind == jobs.STRIP and "a strip reader for mnist-cnn's digit classifier" in running.who()
    assert running.epochs == 1 and "--from-model mnist-cnn --numbers 120" in jobs._job.command
    snap = jobs.wait(600)
    assert snap.state == jobs.DONE, snap.error
    assert "held-out strips exactly" in snap.status and "touching pen numbers read exactly" in snap.status
    assert snap.fraction == 1.0 and snap.activated
    folder = strip_models / "tiny-strips"
    assert {*registry.STRIP_FILES.values(), *registry.ONNX_FILES.values()} <= {p.name for p in folder.iterdir()}
    card = registry.read_card("tiny-strips")
    assert card["derived_from"] == "mnist-cnn" and snap.card["strip_reader"] == card["strip_reader"]
    assert card["strip_reader"]["pen_check"]["after"]["touching"]["n"] == 3
    assert (folder / "model.int8.onnx").read_bytes() == (strip_models / "mnist-cnn" / "model.int8.onnx").read_bytes()
    assert card["files"]["bytes"][registry.STRIP_FILES["int8"]] == (folder / registry.STRIP_FILES["int8"]).stat().st_size
    assert registry.active_model_name() == "tiny-strips"


def test_a_stopped_strip_run_registers_nothing(strip_models):
    active_before = (strip_models / "active.json").read_bytes()
    jobs.start(tiny_strips(epochs=50), "stopped-strips", activate=True, base="mnist-cnn", pen_check_n=3)
    assert jobs.stop()
    snap = jobs.wait(600)
    assert snap.state == jobs.STOPPED, snap.error
    assert "nothing was registered" in snap.status
    assert sorted(p.name for p in strip_models.iterdir()) == ["active.json", registry.SHIPPED_MODEL]
    assert (strip_models / "active.json").read_bytes() == active_before
    with pytest.raises(MdrError, match="stopped strip-reader run keeps nothing"):
        jobs.register_stopped()
