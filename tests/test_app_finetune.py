"""The Train page's fine-tune on corrections: counts, the form starting a run, the before/after report."""
from __future__ import annotations

import json

import pytest

from mdr.app import jobs
from mdr.corrections.store import CorrectionStore, png_bytes
from number_images import compose_number
from test_app_train import models, run_page  # noqa: F401 (fixture)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(jobs, "_job", None)  # no run from another test on the page
    return tmp_path / "home"


def save_two_corrections() -> None:
    from mdr.recognition.recognizer import Recognizer

    recognizer, store = Recognizer(model="mnist-cnn"), CorrectionStore()
    for text, truth in (("4071", "4071"), ("38", "39")):
        image = compose_number(text)
        store.add_recognition(recognizer.recognize(image), png_bytes(image), truth)


def test_without_corrections_the_page_says_how_to_save_some(models, home):
    at = run_page()
    assert any("No corrections saved yet" in i.value for i in at.info)
    assert "Fine-tune on my corrections" not in [b.label for b in at.button]


def test_the_form_starts_a_finetune_of_the_chosen_model_on_the_corrections(models, home, monkeypatch):
    save_two_corrections()
    started = {}

    def start(config, name, activate=True, measure=True, **_):
        started.update(config=config, name=name, activate=activate, measure=measure)

    monkeypatch.setattr(jobs, "start", start)
    at = run_page()
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Saved drawings"], metrics["Misread drawings"], metrics["Digits with a label"]) == ("2", "1", "6")
    next(s for s in at.selectbox if s.label == "Model to fine-tune").set_value("mnist-copy")
    next(t for t in at.text_input if t.label == "Name of the fine-tuned model").set_value("my-hand")
    at.button(key="FormSubmitter:finetune_form-Fine-tune on my corrections").click().run()
    assert not at.exception, [e.value for e in at.exception]
    config = started["config"]
    assert started["name"] == "my-hand" and started["activate"] and not started["measure"]
    assert config.corrections and config.init_from == "mnist-copy" and config.arch == "cnn"
    assert config.epochs == 1 and config.train_size == 8000


def test_the_strip_reader_is_taught_unless_switched_off(models, home, monkeypatch):
    import shutil

    from mdr.models.finetune import STRIP_STEPS
    from test_app_train import ROOT

    shutil.copytree(ROOT / "models" / "mnist-pen-strips-styles", models / "with-reader")
    save_two_corrections()
    started = []
    monkeypatch.setattr(jobs, "start", lambda config, name, activate=True, measure=True, **_: started.append(config))
    for teach in (True, False):
        at = run_page()
        next(s for s in at.selectbox if s.label == "Model to fine-tune").set_value("with-reader")
        toggle = at.toggle(key="finetune_strip")
        assert toggle.value and "touching digits" in toggle.label
        toggle.set_value(teach)
        at.button(key="FormSubmitter:finetune_form-Fine-tune on my corrections").click().run()
        assert not at.exception, [e.value for e in at.exception]
    assert [c.corrections_strip_steps for c in started] == [STRIP_STEPS, 0]
    assert all(c.init_from == "with-reader" for c in started)


def test_a_finetuned_models_results_show_before_and_after(models, home, monkeypatch):
    """Both in the finished run's panel and in the model's results, on one page."""
    card_path = models / "mnist-copy" / "card.json"
    card = json.loads(card_path.read_text())
    card["finetune"] = {
        "base": "mnist-cnn", "model": "mnist-copy", "heldout_drawings": 3, "train_drawings": 12, "pen_numbers": 80,
        "before": {"heldout": {"exact": 0.0, "digits": 0.5}, "trained": {"exact": 0.25, "digits": 0.6},
                   "mnist_int8": 0.9971, "pen": {"exact": 0.8, "digits": 0.95}},
        "after": {"heldout": {"exact": 1.0, "digits": 1.0}, "trained": {"exact": 1.0, "digits": 1.0},
                  "mnist_int8": 0.9965, "pen": {"exact": 0.8125, "digits": 0.95}},
        "mnist_drop": 0.0006, "mnist_drop_ok": True,
    }
    card["strip_reader"] = {"carried_from": "mnist-cnn", "finetune": {
        "drawings": 12, "taught": 10, "not taught": {"a digit missed or in excess where no one mark holds it": 2},
        "strips": 31, "touching strips": 9, "steps": 150}}
    card_path.write_text(json.dumps(card))
    import time

    finished = jobs._Job(jobs.JobSnapshot(name="mnist-copy", config={"corrections": True, "init_from": "mnist-cnn"},
                                          started=time.time() - 40, state=jobs.DONE, finished=time.time(),
                                          card=card, status="Done: 'mnist-copy' reads 99.65%."))
    monkeypatch.setattr(jobs, "_job", finished)
    from streamlit.testing.v1 import AppTest

    from mdr.app import train_view
    from test_app_train import TRAIN

    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.session_state[train_view.SELECTED] = "mnist-copy"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert sum("Before and after the fine-tune" in m.value for m in at.markdown) == 2
    table = next(d.value for d in at.dataframe if "measure" in d.value.columns)
    rows = {r["measure"]: (r["before"], r["after"]) for r in table.to_dict("records")}
    assert rows["Held-out drawings (3): exact"] == ("0.0%", "100.0%")
    assert rows["MNIST test (int8)"] == ("99.71%", "99.65%")
    taught = [c.value for c in at.caption if "strip reader" in c.value and "learned" in c.value]
    assert taught and "31 strips, 9 of them touching digits, from 10 of the 12 training drawings" in taught[0]
    assert "(not the others: a digit missed or in excess where no one mark holds it: 2)" in taught[0]


def test_a_run_without_a_validation_split_says_so_in_its_chart():
    from mdr.app.train_view import curves_figure

    snap = jobs.JobSnapshot(name="x", config={"val_size": 0, "corrections": True}, started=0.0, epochs=1)
    titles = [a.text for a in curves_figure(snap).layout.annotations]
    assert "No validation split (all images train)" in titles
    snap = jobs.JobSnapshot(name="x", config={"val_size": 5000}, started=0.0, epochs=1)
    assert "Validation accuracy" in [a.text for a in curves_figure(snap).layout.annotations]
