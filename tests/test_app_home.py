"""The Home page renders, shows the model card, and survives a missing card."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mdr.models import registry
from mdr.app import model_card

HOME = str(Path(__file__).resolve().parent.parent / "Home.py")


def run_home() -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_home_shows_the_active_models_accuracy():
    card = registry.read_card(registry.active_model_name())  # the shipped model has a card
    facts = model_card.card_summary(card)
    assert facts["acc_int8"] is not None and facts["acc_fp32"] is not None, "card has no accuracies"

    at = run_home()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy, int8 (used)"] == f"{facts['acc_int8']:.2%}"
    assert metrics["Accuracy, fp32"] == f"{facts['acc_fp32']:.2%}"
    assert facts["acc_int8"] > 0.95
    for label in ("int8 file size", "Parameters", "Trained"):
        assert metrics[label] != "—", f"{label} missing from the card"
    assert not at.warning
    assert "Multi-Digit Recognizer" in at.title[0].value


@pytest.mark.parametrize("content", [None, "{ not json", "[1, 2]"])
def test_home_warns_in_words_without_a_usable_card(tmp_path, monkeypatch, content):
    monkeypatch.setenv("MDR_MODELS_DIR", str(tmp_path))
    if content is not None:
        card = tmp_path / registry.SHIPPED_MODEL / registry.CARD
        card.parent.mkdir()
        card.write_text(content)
    at = run_home()
    assert len(at.warning) == 1
    message = at.warning[0].value
    assert registry.SHIPPED_MODEL in message
    assert "Traceback" not in message
    assert not at.metric
    assert at.title, "the page still renders"
