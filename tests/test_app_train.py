"""The Train page renders, lists the models, and Activate switches (or refuses) the model in use."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mdr.models import registry

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "pages" / "3_Train.py")


@pytest.fixture
def models(tmp_path, monkeypatch):
    """A copy of models/ (the shipped model, active) plus a second copy of it named mnist-copy."""
    folder = tmp_path / "models"
    shutil.copytree(ROOT / "models" / registry.SHIPPED_MODEL, folder / registry.SHIPPED_MODEL)
    shutil.copytree(ROOT / "models" / registry.SHIPPED_MODEL, folder / "mnist-copy")
    (folder / "active.json").write_text(json.dumps({"name": registry.SHIPPED_MODEL}))
    monkeypatch.setenv("MDR_MODELS_DIR", str(folder))
    return folder


def run_page() -> AppTest:
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def active(folder: Path) -> str:
    return json.loads((folder / "active.json").read_text())["name"]


def test_page_renders_the_form_the_registry_and_the_results(models):
    at = run_page()
    assert at.title[0].value == "Train a model"
    labels = [b.label for b in at.button]
    assert "Start training" in labels
    text = " ".join(m.value for m in at.markdown)
    assert f"**{registry.SHIPPED_MODEL}** · :green-badge[active]" in text
    assert "99.71%" in text  # the shipped model's int8 accuracy, from its card
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy (int8)"] == "99.71%"
    assert metrics["ONNX opset"] == "17"
    assert {s.label for s in at.selectbox} >= {"Model", "Optimizer", "Learning-rate schedule", "Training data"}


def test_measuring_real_handwriting_shows_the_model_beside_the_original_pipeline(models, monkeypatch):
    from mdr.models import operations

    monkeypatch.setattr(operations, "PEN_N", 10)
    at = run_page()
    assert "Numbers read exactly" not in {m.label for m in at.metric}
    assert any("Not measured yet" in c.value for c in at.caption)
    at.button(key=f"pen_{registry.SHIPPED_MODEL}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = json.loads((models / registry.SHIPPED_MODEL / operations.PEN).read_text())
    assert saved["settings"]["n"] == 10 and saved["model"] == registry.SHIPPED_MODEL
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Numbers read exactly"] == f"{saved['overall']['recognizer']['exact_rate']:.2%}"
    assert metrics["Original app's pipeline"] == f"{saved['overall']['baseline']['exact_rate']:.2%}"
    assert metrics["Right in one click"] == f"{saved['overall']['recognizer']['one_click_rate']:.2%}"
    assert saved["overall"]["recognizer"]["one_click_rate"] >= saved["overall"]["recognizer"]["exact_rate"]
    assert metrics["Writers"] == "27"
    assert any("writer interval" in c.value for c in at.caption)
    confusions = saved["overall"]["recognizer"]["confusions"]
    assert confusions  # 60 numbers read by the MNIST-only model: some digits go wrong
    (shown,) = [d.value for d in at.dataframe if "read as" in d.value.columns]
    first = next(iter(confusions))
    assert (shown.iloc[0]["written"], shown.iloc[0]["read as"]) == tuple(first.split("->"))
    assert shown.iloc[0]["times"] == confusions[first]
    assert any("per writer" in m.value for m in at.markdown) and saved["by_writer"]
    misread = saved["misread"]
    assert misread and saved["digit_errors"] == sum(confusions.values())
    carried = sum(d["misread"] for d in misread)
    assert any(f"carry {carried} of the {saved['digit_errors']} digit errors" in m.value for m in at.markdown)
    drawn = [i.proto.imgs[0].caption for i in at.get("image") if "numbers (writer" in i.proto.imgs[0].caption]
    assert drawn == [f"{d['written']} read as {d['read_as']} in {d['misread']} of {d['drawn']} numbers "
                     f"(writer {d['writer']})" for d in misread]  # each misread digit as its writer wrote it
    assert [b.label for b in at.button if b.key == f"pen_{registry.SHIPPED_MODEL}"] == ["Measure real handwriting again"]
    rows = {row["name"]: row for row in operations.model_rows()}
    assert rows[registry.SHIPPED_MODEL]["pen_exact"] == saved["overall"]["recognizer"]["exact_rate"]
    assert rows["mnist-copy"]["pen_exact"] is None  # not measured: the table shows a dash
    shown = [m.value for m in at.markdown]
    assert shown.count(metrics["Numbers read exactly"]) == 1  # the model table's "real handwriting" column


def test_real_handwriting_that_cannot_be_read_is_reported_in_words(models, monkeypatch):
    from mdr.errors import DataError
    from mdr.evaluation import pen_eval

    def broken(*args, **kwargs):
        raise DataError("The pen-digits file is damaged.")

    monkeypatch.setattr(pen_eval, "run_pen_eval", broken)
    at = run_page()
    at.button(key=f"pen_{registry.SHIPPED_MODEL}").click().run()
    assert not at.exception
    assert any("The pen-digits file is damaged. The model in use is not affected." in e.value for e in at.error)
    assert not (models / registry.SHIPPED_MODEL / "pen.json").exists()


def test_activate_switches_the_model_and_back(models):
    at = run_page()
    at.button(key="activate_mnist-copy").click().run()
    assert not at.exception
    assert active(models) == "mnist-copy"
    assert any("'mnist-copy' is now the active model" in s.value for s in at.success)
    # the shipped model can always be activated again
    at.button(key=f"activate_{registry.SHIPPED_MODEL}").click().run()
    assert active(models) == registry.SHIPPED_MODEL


def test_a_broken_model_is_refused_in_words(models):
    (models / "mnist-copy" / "model.int8.onnx").write_bytes(b"garbage")
    at = run_page()
    at.button(key="activate_mnist-copy").click().run()
    assert not at.exception
    assert active(models) == registry.SHIPPED_MODEL
    errors = " ".join(e.value for e in at.error)
    assert "cannot be activated" in errors and f"still '{registry.SHIPPED_MODEL}'" in errors


def test_an_invalid_name_is_refused_before_training(models):
    at = run_page()
    at.text_input[0].set_value("../bad name")
    at.button(key="FormSubmitter:train_form-Start training").click().run()
    assert not at.exception
    assert any("not a valid model name" in e.value for e in at.error)
    from mdr.app import jobs

    assert not jobs.is_running()


def test_a_typed_name_survives_the_minute_changing_before_start(models, monkeypatch):
    # the form's default name carries the minute; were it worked out again on every rerun, the
    # name field would become a new widget when the minute changed and the typed name be lost
    from datetime import datetime

    from mdr.app import jobs, train_view

    clock = {"now": datetime(2026, 12, 1, 21, 9, 59)}

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return clock["now"]

    started: list[str] = []
    monkeypatch.setattr(train_view, "datetime", FrozenClock)
    monkeypatch.setattr(jobs, "start", lambda config, name, **kwargs: started.append(name))

    at = run_page()
    assert at.text_input[0].value == "my-1201-2109"
    at.text_input[0].set_value("kept-name")
    clock["now"] = datetime(2026, 12, 1, 21, 10, 0)
    at.button(key="FormSubmitter:train_form-Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert started == ["kept-name"]


def test_the_form_sets_the_reject_share_pen_mix_and_starting_model(models, monkeypatch):
    from mdr.app import jobs

    monkeypatch.setattr(jobs, "_job", None)
    started = {}
    monkeypatch.setattr(jobs, "start", lambda config, name, **kwargs: started.update(config=config, name=name))
    at = run_page()
    next(s for s in at.selectbox if s.label == "Model").set_value("cnn")
    next(s for s in at.selectbox if s.label == "Training data").set_value("mnist+pen")
    next(s for s in at.selectbox if s.label == "Start from").set_value("mnist-copy")
    next(s for s in at.slider if s.label.startswith("'Not a single digit' images")).set_value(0.2)
    next(s for s in at.slider if s.label.startswith("Slashed 0")).set_value(0.3)
    next(n for n in at.number_input if n.label == "Pen renderings per digit").set_value(4)
    next(s for s in at.slider if s.label.startswith("Bent strokes")).set_value(0.4)
    next(s for s in at.slider if s.label.startswith("Validation writers held out")).set_value(0.2)
    next(s for s in at.slider if s.label.startswith("Vary the writers' hands")).set_value(0.5)
    at.button(key="FormSubmitter:train_form-Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    config = started["config"]
    assert (config.data_mix, config.init_from, config.reject_fraction, config.pen_styles, config.pen_renders,
            config.elastic_p, config.pen_validation, config.pen_variation) == (
        "mnist+pen", "mnist-copy", 0.2, 0.3, 4, 0.4, 0.2, 0.5)
    assert config.classes == 11


def refused_start(monkeypatch, arch: str, start_from: str) -> str:
    """Start a run of ``arch`` from model ``start_from`` that must not start; the errors shown."""
    from mdr.app import jobs

    monkeypatch.setattr(jobs, "_job", None)
    monkeypatch.setattr(jobs, "start", lambda *a, **k: pytest.fail("the run must not start"))
    at = run_page()
    next(s for s in at.selectbox if s.label == "Model").set_value(arch)
    next(s for s in at.selectbox if s.label == "Start from").set_value(start_from)
    at.button(key="FormSubmitter:train_form-Start training").click().run()
    return " ".join(e.value for e in at.error)


def test_starting_from_a_model_of_another_architecture_is_refused_in_words(models, monkeypatch):
    assert "is a cnn model: choose Model cnn" in refused_start(monkeypatch, "cnn-small", "mnist-copy")


def test_starting_from_a_reject_class_model_needs_its_images(models, monkeypatch):
    card = json.loads((models / "mnist-copy" / "card.json").read_text())
    card["output"] = {"name": "logits", "shape": ["batch", 11]}
    (models / "mnist-copy" / "card.json").write_text(json.dumps(card))
    assert "has the 'not a single digit' output" in refused_start(monkeypatch, "cnn", "mnist-copy")


@pytest.mark.parametrize("kind, registered, stop_shown", [
    ("digits", False, True),   # exporting a digit model: Stop still undoes everything
    ("digits", True, False),   # registered, measuring: nothing left to undo
    ("strip", False, False),   # a strip run's export cannot be stopped
])
def test_stop_is_offered_while_a_model_is_exported_until_it_is_registered(models, monkeypatch, kind, registered,
                                                                         stop_shown):
    import time

    from mdr.app import jobs

    snapshot = jobs.JobSnapshot(name="exporting", config={"arch": "cnn", "epochs": 1}, started=time.time(),
                                epochs=1, state=jobs.PUBLISHING, kind=kind, registered=registered,
                                status="Quantizing…")
    monkeypatch.setattr(jobs, "_job", jobs._Job(snapshot))
    at = run_page()
    assert ("Stop" in [b.label for b in at.button]) == stop_shown
    captions = " ".join(c.value for c in at.caption)
    assert ("cannot be stopped" in captions) != stop_shown
    if stop_shown:
        assert jobs.stop() and jobs.snapshot().stop_requested
        assert "not registered" in jobs.snapshot().status
    else:
        assert not jobs.stop() and not jobs.snapshot().stop_requested
