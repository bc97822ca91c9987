"""Draw numbers with the mouse on the Recognize page and read them back, in Chromium."""
from __future__ import annotations

import base64

import pytest

from conftest import CANVAS_IS_BLANK_JS, DRAWN_CANVAS
from handwriting import TWO_STROKE, number_strokes

APP = '[data-testid="stApp"]'
IDLE = f'{APP}[data-test-script-state="notRunning"]'
CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.mdr-canvas'
DRAWING = '[data-testid="stBidiComponentIsolated"] canvas.mdr-canvas' 


def wait_idle(page, settle_ms: int = 400) -> None:
    """Let a pending rerun start (the canvas sends ~200 ms after mouse-up), then finish."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE)


def open_recognize(page, app_url):
    page.goto(f"{app_url}/Recognize")
    page.wait_for_selector(CANVAS, state="visible")
    wait_idle(page)
    canvas = page.locator(CANVAS)
    canvas.scroll_into_view_if_needed()
    return canvas


def stroke(page, points) -> None:
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def draw(page, canvas, text: str, height: float, gap: float, left: float = 40, top: float = 40,
         style=None) -> None:
    """Write ``text`` with the mouse, then wait until the app has received the whole drawing."""
    box = canvas.bounding_box()
    strokes = number_strokes(text, box["x"] + left, box["y"] + top, height, gap, style=style)
    for points in strokes:
        stroke(page, points)
        page.wait_for_timeout(60)
    # the canvas sends its value ~200 ms after mouse-up; the page then counts the strokes
    count = len(strokes)
    page.get_by_text(f"{count} stroke{'s' if count != 1 else ''} drawn.", exact=True).wait_for()
    wait_idle(page, 200)


def recognize(page) -> str:
    """Press Recognize on a page showing no result yet; the number shown, or '' when none."""
    page.get_by_role("button", name="Recognize").click()
    page.wait_for_selector(".mdr-number, [data-testid='stAlert']")
    wait_idle(page, 200)
    number = page.locator(".mdr-number")
    return number.inner_text().strip() if number.count() else ""


def screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls inside its main section, so grow the window to fit."""
    size = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 20, 6000))})
    wait_idle(page, 600)
    page.screenshot(path=path)
    page.set_viewport_size(size)


def save_canvas(page, path) -> None:
    """What was drawn, as a PNG: the background layer with the drawing layer on top."""
    data_url = page.locator(DRAWING).first.evaluate("""c => {
        const out = document.createElement('canvas');
        out.width = c.width; out.height = c.height;
        const ctx = out.getContext('2d');
        for (const layer of c.getRootNode().querySelectorAll('canvas.mdr-canvas'))
            ctx.drawImage(layer, 0, 0);
        return out.toDataURL('image/png');
    }""")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))


def test_home_shows_the_model(page, app_url, artifacts):
    page.goto(app_url)
    page.get_by_text("Accuracy, int8 (used)").wait_for()
    wait_idle(page)
    screenshot(page, artifacts / "home.png")
    assert page.get_by_role("heading", name="Multi-Digit Recognizer").count() == 1


@pytest.mark.parametrize("text, height, gap, style", [
    ("4071", 150, 36, None), ("2057", 130, 30, None), ("36\n98", 100, 40, None),
    ("0123456789", 100, 20, None),
    ("7545", 140, 36, TWO_STROKE),  # every 4, 5 and 7 drawn in two strokes
], ids=["4071", "2057", "two-rows", "all-ten-digits", "two-stroke-4-5-7"])
def test_drawn_number_is_read(page, app_url, artifacts, text, height, gap, style):
    canvas = open_recognize(page, app_url)
    draw(page, canvas, text, height, gap, style=style)
    shown = recognize(page)
    name = text.replace("\n", "_") + ("-two-stroke" if style else "")
    if shown != text:
        save_canvas(page, artifacts / "browser-fail" / f"{name}-read-as-{shown.replace(chr(10), '_') or 'nothing'}.png")
    screenshot(page, artifacts / f"recognize-{name}.png")
    assert shown == text
    assert page.get_by_text("The digits as the model saw them").count() == 1


def test_clear_empties_the_canvas_in_place(page, app_url):
    canvas = open_recognize(page, app_url)
    draw(page, canvas, "7", 120, 20)
    assert recognize(page) == "7"
    drawing = page.locator(DRAWN_CANVAS).element_handle()
    assert not page.evaluate(CANVAS_IS_BLANK_JS, drawing)
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Nothing drawn yet.", exact=True).wait_for()
    page.wait_for_function(CANVAS_IS_BLANK_JS, arg=drawing)
    wait_idle(page, 200)
    # the same canvas was emptied, not replaced by a new one (strokes drawn into a canvas on its
    # way out would be lost)
    assert page.evaluate("canvas => canvas.isConnected", drawing)
    assert page.locator(".mdr-number").count() == 0
    assert recognize(page) == ""
    assert page.get_by_text("The canvas is empty").count() == 1
    # and it takes the next number at once
    draw(page, canvas, "4", 120, 20)
    assert page.evaluate("canvas => canvas.isConnected", drawing)
    assert recognize(page) == "4"


def _number_shown(page, text: str) -> None:
    page.wait_for_function("text => { const n = document.querySelector('.mdr-number');"
                           " return n !== null && n.innerText.trim() === text; }", arg=text)


def test_a_drawn_number_is_read_without_pressing_recognize(page, app_url, artifacts):
    canvas = open_recognize(page, app_url)
    assert page.get_by_role("switch", name="Read as I draw").is_checked()
    clicks = page.evaluate("() => { window.__clicks = 0; document.addEventListener('click', e => "
                           "{ if (e.target.closest('button')) window.__clicks++; }, true); return window.__clicks; }")
    draw(page, canvas, "3958", 140, 34)
    _number_shown(page, "3958")
    screenshot(page, artifacts / "recognize-read-as-i-draw-3958.png")
    assert page.evaluate("() => window.__clicks") == clicks == 0, "no button was pressed"
    assert page.get_by_text("The digits as the model saw them").count() == 1
    # one more digit: the number grows as it is drawn
    box = canvas.bounding_box()
    for points in number_strokes("7", box["x"] + 40 + 4 * (0.62 * 140 + 34), box["y"] + 40, 140, 34):
        stroke(page, points)
    _number_shown(page, "39587")
    assert page.get_by_text("5 strokes drawn.", exact=True).count() == 1


def test_with_read_as_i_draw_off_the_number_waits_for_recognize(page, app_url):
    canvas = open_recognize(page, app_url)
    page.get_by_text("Read as I draw").click()
    wait_idle(page)
    assert not page.get_by_role("switch", name="Read as I draw").is_checked()
    draw(page, canvas, "62", 140, 34)
    page.wait_for_timeout(500)
    assert page.locator(".mdr-number").count() == 0
    assert recognize(page) == "62"


def test_undo_and_erase_all_work_in_the_browser_and_the_reading_follows(page, app_url):
    canvas = open_recognize(page, app_url)
    draw(page, canvas, "38", 140, 40)
    _number_shown(page, "38")
    page.get_by_role("button", name="Undo").click()  # the 8 goes: one stroke
    page.get_by_text("1 stroke drawn.", exact=True).wait_for()
    _number_shown(page, "3")
    drawing = page.locator(DRAWN_CANVAS).element_handle()
    page.get_by_role("button", name="Erase all").click()
    page.get_by_text("Nothing drawn yet.", exact=True).wait_for()
    page.wait_for_function(CANVAS_IS_BLANK_JS, arg=drawing)
    wait_idle(page, 300)
    assert page.locator(".mdr-number").count() == 0
