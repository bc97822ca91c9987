"""The Pipeline page in Chromium: pick a gallery example and see every step and the number."""
from __future__ import annotations

import json
import re
import zipfile

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures skip (or, in CI, fail) with the reason
    expect = None

from mdr.app import gallery
from mdr.app import pipeline_steps as ps

APP = '[data-testid="stApp"]'
IDLE = f'{APP}[data-test-script-state="notRunning"]'
EXAMPLE = "touching"


def wait_idle(page, settle_ms: int = 400) -> None:
    """Let a pending rerun start, then wait until the script has finished."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE)


@pytest.fixture(scope="module")
def expected_number() -> str:
    from mdr.recognition.recognizer import Recognizer

    return Recognizer().recognize(gallery.read_example(EXAMPLE)).number


def test_pipeline_shows_every_step_of_a_gallery_example(page, app_url, artifacts, expected_number):
    page.goto(f"{app_url}/Pipeline")
    page.get_by_role("heading", name=re.compile("Pipeline")).first.wait_for()
    wait_idle(page)

    item = gallery.gallery_item(EXAMPLE)
    select = page.get_by_test_id("stSelectbox").filter(has_text="Example")
    select.click()
    page.get_by_role("option", name=re.compile(re.escape(item.title))).click()
    wait_idle(page, 800)
    page.get_by_text(item.description[:40]).wait_for()
    wait_idle(page)

    for step in ps.STEPS:
        heading = page.get_by_role("heading", name=step.heading, exact=True)
        assert heading.count() == 1, step.heading
        assert heading.is_visible(), step.heading
    number = page.locator(".mdr-number")
    number.scroll_into_view_if_needed()
    expect(number).to_be_visible()
    expect(number).to_have_text(expected_number)
    # the pictures are sent inside the page (no media files that can be gone under load), and load
    pictures = page.locator("figure.mdr-picture img")
    assert pictures.count() >= 10
    assert page.get_by_test_id("stImage").count() == 0
    assert pictures.evaluate_all("imgs => imgs.filter(img => !img.complete || img.naturalWidth === 0).length") == 0
    assert page.locator('[data-testid="stException"]').count() == 0

    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download all intermediates")).click()
    with zipfile.ZipFile(download.value.path()) as archive:
        record = json.loads(archive.read("recognition.json"))
        assert "08_reading_order.png" in archive.namelist()
    assert record["number"] == expected_number
    wait_idle(page)

    # Streamlit scrolls inside its main block, so the window is made as tall as the page.
    height = page.locator('[data-testid="stMainBlockContainer"]').evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height) + 120})
    wait_idle(page, 1000)
    page.screenshot(path=artifacts / "pipeline.png", full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.mdr-canvas'


def draw(page, text: str, height: float = 140, gap: float = 40) -> None:
    from handwriting import number_strokes

    canvas = page.locator(CANVAS)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in number_strokes(text, box["x"] + 40, box["y"] + 40, height, gap):
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y, steps=2)
        page.mouse.up()
        page.wait_for_timeout(60)
    wait_idle(page, 800)


def test_a_drawing_read_on_recognize_is_explained_here(page, app_url, artifacts):
    page.goto(f"{app_url}/Recognize")
    page.wait_for_selector(CANVAS, state="visible")
    wait_idle(page)
    draw(page, "71")
    page.get_by_role("button", name="Recognize").click()
    page.wait_for_selector(".mdr-number")
    wait_idle(page)
    read = page.locator(".mdr-number").inner_text().strip()

    # the sidebar link keeps the session, and with it the drawing
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Pipeline").click()
    page.get_by_role("heading", name=ps.STEPS[-1].heading, exact=True).wait_for()
    wait_idle(page)
    expect(page.get_by_role("radio", name="Last image from Recognize")).to_be_checked()
    expect(page.get_by_text("The last image read on the Recognize page (the drawing)")).to_be_visible()
    number = page.locator(".mdr-number")
    expect(number).to_have_text(read)
    assert page.locator('[data-testid="stException"]').count() == 0


def open_canvas(page, app_url: str) -> None:
    """The Pipeline page with its own canvas as the source."""
    page.goto(f"{app_url}/Pipeline")
    page.get_by_role("heading", name=re.compile("Pipeline")).first.wait_for()
    wait_idle(page)
    page.get_by_test_id("stRadio").get_by_text("Draw here").click()
    page.wait_for_selector(CANVAS, state="visible")
    wait_idle(page)


def draw_and_wait(page, text: str) -> None:
    """Draw ``text`` on the canvas and wait until every step of its reading is shown."""
    draw(page, text)
    page.get_by_role("heading", name=ps.STEPS[-1].heading, exact=True).wait_for()
    wait_idle(page)


def test_drawing_on_this_page_is_explained(page, app_url):
    open_canvas(page, app_url)
    page.get_by_text("Draw a number on the canvas").wait_for()
    draw_and_wait(page, "40")
    for step in ps.STEPS:
        assert page.get_by_role("heading", name=step.heading, exact=True).count() == 1, step.heading
    number = page.locator(".mdr-number")
    expect(number).to_be_visible()
    assert number.inner_text().strip().isdigit()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_knob_changes_the_number_and_reset_restores_it(page, app_url, artifacts, expected_number):
    """Turning "Split touching digits" off in the sidebar reads the touching example as fewer digits."""
    from dataclasses import replace

    from mdr.recognition.config import DEFAULT_CONFIG
    from mdr.recognition.recognizer import Recognizer

    unsplit = Recognizer().recognize(gallery.read_example(EXAMPLE), replace(DEFAULT_CONFIG, split_enabled=False))
    assert len(unsplit.number) < len(expected_number)  # the example must be one the knob matters for

    page.goto(f"{app_url}/Pipeline")
    page.get_by_role("heading", name=re.compile("Pipeline")).first.wait_for()
    wait_idle(page)
    item = gallery.gallery_item(EXAMPLE)
    page.get_by_test_id("stSelectbox").filter(has_text="Example").click()
    page.get_by_role("option", name=re.compile(re.escape(item.title))).click()
    wait_idle(page, 800)
    number = page.locator(".mdr-number")
    expect(number).to_have_text(expected_number)

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Split touching digits", exact=True).click()
    wait_idle(page, 800)
    expect(number).to_have_text(unsplit.number)
    expect(sidebar.get_by_text("split_enabled True → False")).to_be_visible()
    # the split sensitivity means nothing without splitting, so it is greyed out
    expect(sidebar.get_by_role("slider", name="Split sensitivity")).to_be_disabled()
    screenshot_path = artifacts / "pipeline-knob-split-off.png"
    page.screenshot(path=screenshot_path)

    sidebar.get_by_role("button", name="Reset to defaults").click()
    wait_idle(page, 800)
    expect(number).to_have_text(expected_number)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_clear_empties_this_pages_canvas(page, app_url):
    """Clear beside the page's own canvas empties it in place, as on Recognize, and the next
    drawing is explained again."""
    from conftest import CANVAS_IS_BLANK_JS, DRAWN_CANVAS

    open_canvas(page, app_url)
    draw_and_wait(page, "40")
    drawing = page.locator(DRAWN_CANVAS).element_handle()
    assert not page.evaluate(CANVAS_IS_BLANK_JS, drawing)

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Nothing drawn yet.", exact=True).wait_for()
    page.wait_for_function(CANVAS_IS_BLANK_JS, arg=drawing)
    wait_idle(page)
    assert page.evaluate("canvas => canvas.isConnected", drawing)  # emptied, not replaced
    expect(page.get_by_text("Draw a number on the canvas")).to_be_visible()
    assert page.get_by_role("heading", name=ps.STEPS[0].heading, exact=True).count() == 0

    draw_and_wait(page, "7")
    expect(page.locator(".mdr-number")).to_have_text("7")
    assert page.locator('[data-testid="stException"]').count() == 0
