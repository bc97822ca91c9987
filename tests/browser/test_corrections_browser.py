"""Teach the app a hand, in Chromium: draw crossed twos the shipped model misreads, correct each
drawing under its result, fine-tune from the Train page, activate, and draw them again.

The app runs on a models folder and a corrections store of its own (MDR_MODELS_DIR,
MDR_DATA_HOME), so neither the real models nor the real corrections are touched.
"""
from __future__ import annotations

import json
import random
import time

import pytest

from conftest import PROJECT_ROOT, serve_app_on_a_copy_of_models
from handwriting import CROSSED_Z_TWO, varied
from test_recognize_browser import draw, open_recognize, screenshot, wait_idle

NAME = "my-hand"
TAUGHT = ["328", "24", "52", "720", "42", "2"]
"""Numbers corrected on the page; each 2 is a crossed Z."""
AGAIN = ["32", "425"]
"""Drawn again after the fine-tune, each drawing new."""


@pytest.fixture(scope="module")
def app(tmp_path_factory, chromium_path):
    home = tmp_path_factory.mktemp("corrections-home")
    with serve_app_on_a_copy_of_models(tmp_path_factory.mktemp("corrections-models"),
                                       {"MDR_DATA_HOME": str(home)}) as (url, models):
        yield url, models, home


def read_drawing(page, canvas, text: str, rng: random.Random) -> str:
    """Draw ``text`` (crossed twos, varied) on an empty canvas; the number the page shows."""
    draw(page, canvas, text, 150 + rng.uniform(-15, 15), 46, left=40 + rng.uniform(-15, 15),
         top=50 + rng.uniform(-10, 10), style=varied(CROSSED_Z_TWO, rng))
    page.wait_for_selector(".mdr-number")
    wait_idle(page, 200)
    return page.locator(".mdr-number").inner_text().strip()


def clear(page) -> None:
    page.get_by_role("button", name="Clear", exact=True).click()
    page.get_by_text("Nothing drawn yet.", exact=True).wait_for()
    wait_idle(page)


def test_correct_finetune_activate_and_the_hand_is_read(browser_context, app, artifacts):
    url, models, home = app
    real_active = (PROJECT_ROOT / "models" / "active.json").read_bytes()
    rng = random.Random(7)
    page = browser_context.new_page()
    try:
        # 1. the shipped model misreads the crossed twos; each drawing is corrected under its result
        canvas = open_recognize(page, url)
        reads = []
        for k, text in enumerate(TAUGHT, start=1):
            reads.append(read_drawing(page, canvas, text, rng))
            if reads[-1] == text:
                page.get_by_role("button", name="It was right").click()
            else:
                field = page.get_by_label("Not right? Type the number you wrote", exact=True)
                field.fill(text)
                page.get_by_role("button", name="Save", exact=True).click()
            page.get_by_text(f"Saved as correction #{k}.").wait_for()
            if k == 1:
                screenshot(page, artifacts / "corrections-saved.png")
            clear(page)
        misread = [(t, r) for t, r in zip(TAUGHT, reads) if t != r]
        assert len(misread) >= len(TAUGHT) - 1, f"the shipped model should misread this hand: {reads}"

        # 2. fine-tune from the Train page (not activated by itself), watching its progress
        page.goto(f"{url}/Train")
        button = page.get_by_role("button", name="Fine-tune on my corrections")
        button.wait_for()
        wait_idle(page)
        assert page.locator('[data-testid="stMetric"]').filter(has_text="Saved drawings").first.inner_text() \
            .split()[-1] == str(len(TAUGHT))
        name = page.get_by_label("Name of the fine-tuned model", exact=True)
        name.fill(NAME)
        name.press("Tab")
        page.locator(".st-key-finetune_activate").get_by_text("Activate when done").click()
        button.click()
        done = page.get_by_text(f"Done: '{NAME}'")
        deadline, seen = time.monotonic() + 300, set()
        while not done.count():
            assert time.monotonic() < deadline, f"the fine-tune did not finish; seen: {seen}"
            assert not page.get_by_text("The run failed").count(), \
                page.locator('[data-testid="stAlert"]').all_inner_texts()
            progress = page.locator('[data-testid="stProgress"]')
            if progress.count():
                seen.add(progress.first.inner_text().strip())
            page.wait_for_timeout(250)
        assert any("fine-tuned from mnist-cnn on your corrections" in t or "Training: epoch" in t for t in seen) \
            or page.get_by_text("fine-tuned from mnist-cnn on your corrections").count(), seen
        page.get_by_text("Before and after the fine-tune").first.wait_for()
        wait_idle(page)
        screenshot(page, artifacts / "corrections-finetuned.png")
        assert not page.locator('[data-testid="stException"]').count(), \
            page.locator('[data-testid="stException"]').all_inner_texts()
        card = json.loads((models / NAME / "card.json").read_text())
        report = card["finetune"]
        assert report["base"] == "mnist-cnn" and report["heldout_drawings"] >= 1
        assert report["after"]["heldout"]["exact"] > report["before"]["heldout"]["exact"]
        assert report["mnist_drop"] <= 0.002
        assert json.loads((models / "active.json").read_text())["name"] == "mnist-cnn"

        # 3. activate it from the models table
        page.locator(f".st-key-activate_{NAME}").get_by_role("button", name="Activate").first.click()
        page.get_by_text(f"'{NAME}' is now the active model").wait_for()
        assert json.loads((models / "active.json").read_text())["name"] == NAME

        # 4. the same hand, drawn again, is read right
        canvas = open_recognize(page, url)
        for text in AGAIN:
            shown = read_drawing(page, canvas, text, rng)
            assert shown == text, f"after the fine-tune '{text}' was read as '{shown}'"
            page.get_by_text(f"model {NAME} (int8)", exact=False).first.wait_for()
            if text == AGAIN[-1]:
                screenshot(page, artifacts / "corrections-read-right.png")
            clear(page)
    finally:
        page.close()
    assert (PROJECT_ROOT / "models" / "active.json").read_bytes() == real_active
    assert not (PROJECT_ROOT / "models" / NAME).exists()
