"""Touching digits drawn with the mouse in Chromium are read digit by digit."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from playwright.sync_api import expect

from mdr.app import pipeline_steps as ps
from mdr.models import registry
from test_recognize_browser import draw, open_recognize, save_canvas, screenshot, wait_idle


@pytest.mark.parametrize("text, gap", [("2506", -10), ("38", -12)])
def test_a_touching_number_drawn_with_the_mouse_is_read(page, app_url, artifacts, text, gap):
    canvas = open_recognize(page, app_url)
    draw(page, canvas, text, 150, gap)
    drawn = artifacts / f"touching-{text}-canvas.png"
    save_canvas(page, drawn)
    ink = cv2.imread(str(drawn), cv2.IMREAD_GRAYSCALE) > 128
    count, _ = cv2.connectedComponents(ink.astype(np.uint8))
    assert count - 1 == 1, f"the digits of {text} should touch: {count - 1} separate marks drawn"
    page.wait_for_function("text => { const n = document.querySelector('.mdr-number');"
                           " return n !== null && n.innerText.trim().length > 0; }", arg=text)
    shown = page.locator(".mdr-number").inner_text().strip()
    screenshot(page, artifacts / f"touching-{text}.png")
    assert shown == text


def test_the_pipeline_page_shows_the_strip_readers_evidence_for_a_touching_number(page, app_url, artifacts):
    """The active model reads touching digits with its strip reader; the Pipeline page shows what it read."""
    assert registry.strip_path(registry.active_model_name()).is_file(), "the active model has no strip reader"
    canvas = open_recognize(page, app_url)
    draw(page, canvas, "2506", 150, -10)
    page.wait_for_function("() => { const n = document.querySelector('.mdr-number');"
                           " return n !== null && n.innerText.trim().length > 0; }")
    read = page.locator(".mdr-number").inner_text().strip()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Pipeline").click()
    page.get_by_role("heading", name=ps.STEPS[-1].heading, exact=True).wait_for()
    wait_idle(page)
    evidence = page.get_by_text("The strip reader reads this part as").first
    expect(evidence).to_be_visible()
    assert read in evidence.inner_text()
    expect(page.get_by_text("no new digit").first).to_be_attached()  # the chart's legend
    evidence.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, artifacts / "touching-pipeline-strip.png")
    assert page.locator('[data-testid="stException"]').count() == 0
