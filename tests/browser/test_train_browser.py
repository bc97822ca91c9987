"""Train a tiny model from the Train page, activate it, and read a drawn number with it, in Chromium.

The app runs on its own server with MDR_MODELS_DIR pointing at a copy of models/, so the real
models folder is never touched.
"""
from __future__ import annotations

import json
import re
import time

import pytest

from conftest import PROJECT_ROOT, serve_app_on_a_copy_of_models
from test_recognize_browser import draw, open_recognize, recognize, screenshot, wait_idle

NAME = "browser-tiny"


@pytest.fixture(scope="module")
def train_app(tmp_path_factory, chromium_path):
    with serve_app_on_a_copy_of_models(tmp_path_factory.mktemp("browser-models")) as served:
        yield served


def set_field(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True).first  # the training form comes before the others
    field.fill(value)
    field.press("Tab")


def start_tiny_run(page, url: str, name: str, epochs: int, activate: bool = True) -> None:
    """Open the Train page and start cnn-small on 2,000 images in batches of 16."""
    page.goto(f"{url}/Train")
    page.get_by_role("button", name="Start training").wait_for()
    wait_idle(page)
    set_field(page, "Epochs", str(epochs))
    set_field(page, "Batch size", "16")
    set_field(page, "Training images (0: all 55,000)", "2000")
    set_field(page, "Name of the new model", name)
    if not activate:
        page.get_by_text("Activate when done").first.click()
    page.get_by_role("button", name="Start training").click()


def test_train_activate_and_recognize(browser_context, train_app, artifacts):
    url, models = train_app
    real_active = (PROJECT_ROOT / "models" / "active.json").read_bytes()
    page = browser_context.new_page()
    try:
        start_tiny_run(page, url, NAME, epochs=2, activate=False)  # activated by hand below

        # watch the run: the progress line changes while it trains, exports, quantizes and measures
        progress = page.locator('[data-testid="stProgress"]')
        seen: list[str] = []
        deadline = time.monotonic() + 240
        done = page.get_by_text(f"Done: '{NAME}'")
        while not done.count():
            assert time.monotonic() < deadline, f"the run did not finish; progress seen: {seen}"
            assert not page.get_by_text("The run failed").count(), page.locator('[data-testid="stAlert"]').all_inner_texts()
            if progress.count():
                text = progress.first.inner_text().strip()
                if text and (not seen or seen[-1] != text):
                    seen.append(text)
            page.wait_for_timeout(250)
        assert any("Training: epoch" in t for t in seen), seen
        assert len(seen) >= 3, seen
        wait_idle(page)
        assert json.loads((models / "active.json").read_text())["name"] == "mnist-cnn"

        # the button sits in the element keyed activate_<name>; take the first match, as the tooltip
        # wrapper of a button with help text can make the descendant selector match twice
        page.locator(f".st-key-activate_{NAME}").get_by_role("button", name="Activate").first.click()
        page.get_by_text(f"'{NAME}' is now the active model").wait_for()
        wait_idle(page)
        assert json.loads((models / "active.json").read_text())["name"] == NAME
        page.get_by_role("tab", name="Comparison").click()
        wait_idle(page)
        screenshot(page, artifacts / "train.png")

        canvas = open_recognize(page, url)
        draw(page, canvas, "4071", 150, 36)
        shown = recognize(page)
        screenshot(page, artifacts / "train-recognize.png")
        assert re.fullmatch(r"\d{4}", shown), shown
        page.get_by_text(re.compile(rf"model {NAME} \(int8\)")).wait_for()
    finally:
        page.close()
    # the real models folder was never touched
    assert (PROJECT_ROOT / "models" / "active.json").read_bytes() == real_active
    assert not (PROJECT_ROOT / "models" / NAME).exists()


STOPPED = "browser-stopped"


def test_stop_then_register_export_quantize_and_activate(browser_context, train_app, artifacts):
    """A run stopped halfway registers nothing until asked; its model is then exported, quantized
    (with another calibration size) and activated from the page."""
    url, models = train_app
    page = browser_context.new_page()
    try:
        # far more epochs than it will get to: the run must still be training when Stop arrives
        start_tiny_run(page, url, STOPPED, epochs=20)  # stopped: it registers nothing, so activates nothing

        # stop once the first epoch has been validated
        page.get_by_text(re.compile(r"Training: epoch 2")).first.wait_for(timeout=180_000)
        page.get_by_role("button", name="Stop").click()
        page.get_by_text(re.compile(r"Stopped at step [\d,]+: nothing was registered")).first.wait_for(
            timeout=120_000)
        register = page.get_by_role("button", name=f"Register it as '{STOPPED}' (not activated)")
        register.wait_for(timeout=120_000)
        wait_idle(page)
        screenshot(page, artifacts / "train-stopped.png")
        assert not (models / STOPPED).exists(), "a stopped run registers nothing by itself"
        assert json.loads((models / "active.json").read_text())["name"] != STOPPED

        wait_idle(page)
        try:
            register.click()
        except Exception:
            screenshot(page, artifacts / "browser-fail" / "train-register.png")
            raise
        page.locator(f".st-key-activate_{STOPPED}").wait_for(timeout=180_000)
        wait_idle(page)
        assert (models / STOPPED / "model.int8.onnx").is_file()
        assert json.loads((models / "active.json").read_text())["name"] != STOPPED

        # the results section shows the registered model; export and quantize it again
        page.get_by_role("tab", name="Export and quantization").click()
        wait_idle(page)
        onnx_before = (models / STOPPED / "model.onnx").stat().st_mtime_ns
        page.get_by_role("button", name="Export to ONNX").click()
        page.get_by_text(re.compile(r"Exported model\.onnx \(opset \d+\)")).wait_for(timeout=180_000)
        wait_idle(page)
        assert (models / STOPPED / "model.onnx").stat().st_mtime_ns != onnx_before

        size = page.get_by_label("Calibration images", exact=True)
        size.fill("200")
        size.press("Tab")
        wait_idle(page)
        page.get_by_role("button", name="Quantize to int8").click()
        page.get_by_text(re.compile(r"Quantized with 200 calibration digits")).wait_for(timeout=180_000)
        wait_idle(page)
        card = json.loads((models / STOPPED / "card.json").read_text())
        assert card["onnx"]["calibration"]["images"] == 200
        screenshot(page, artifacts / "train-export-quantize.png")

        page.locator(f".st-key-activate_{STOPPED}").get_by_role("button", name="Activate").first.click()
        page.get_by_text(f"'{STOPPED}' is now the active model").wait_for()
        assert json.loads((models / "active.json").read_text())["name"] == STOPPED

        canvas = open_recognize(page, url)
        draw(page, canvas, "4071", 150, 36)
        shown = recognize(page)
        assert re.fullmatch(r"\d{4}", shown), shown
        page.get_by_text(re.compile(rf"model {STOPPED} \(int8\)")).wait_for()
    finally:
        page.close()
