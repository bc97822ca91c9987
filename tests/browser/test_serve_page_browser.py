"""The HTTP service's own drawing page in Chromium: a number drawn with the mouse is read, the other
likely readings are offered under it, and small digits drawn with its brush get the thick-brush advice."""
from __future__ import annotations

import json
from pathlib import Path

from handwriting import number_strokes
from test_recognize_browser import stroke

from mdr.serve.process import running_server


def _draw_and_read(browser_context, tmp_path, text: str, height: float, gap: float, shown: str,
                   screenshot: Path) -> tuple[dict, str, str]:
    """Draw ``text`` on the service page with the mouse, press Recognize; the answer, the text of
    the element ``shown`` once it has any, and that element's text after Clear."""
    with running_server(tmp_path / "serve.log") as server:
        page = browser_context.new_page()
        try:
            page.goto(server.url + "/")
            box = page.locator("#canvas").bounding_box()
            for points in number_strokes(text, box["x"] + 60, box["y"] + 60, height, gap):
                stroke(page, points)
            with page.expect_response(lambda r: r.url.endswith("/recognize")) as answered:
                page.get_by_role("button", name="Recognize").click()
            answer = json.loads(answered.value.body())
            page.wait_for_function(f"() => document.querySelector('{shown}').textContent.length > 0")
            text_shown = page.locator(shown).inner_text().strip()
            answer["shown number"] = page.locator("#result").inner_text().strip()
            page.screenshot(path=str(screenshot), full_page=True)
            page.get_by_role("button", name="Clear").click()
            cleared = page.locator(shown).inner_text().strip()
        finally:
            page.close()
    return answer, text_shown, cleared


def test_a_number_drawn_on_the_service_page_is_read_with_other_likely_readings(browser_context, artifacts,
                                                                               tmp_path):
    answer, offered, cleared = _draw_and_read(browser_context, tmp_path, "4071", 170, 40, "#alternatives",
                                              artifacts / "serve-page-did-you-mean.png")
    assert answer["shown number"] == answer["number"] == "4071"
    others = [a["number"] for a in answer["alternatives"]]
    assert others and offered == "Did you mean " + (", ".join(others[:-1]) + " or " if len(others) > 1 else "") \
        + others[-1] + "?"
    assert cleared == ""


def test_small_digits_drawn_with_the_pages_brush_get_the_thick_brush_advice(browser_context, artifacts, tmp_path):
    answer, shown, cleared = _draw_and_read(browser_context, tmp_path, "47", 30, 30, "#advice",
                                            artifacts / "serve-page-advice.png")
    assert "thick brush" in [a["kind"] for a in answer["advice"]]
    assert shown == " ".join(a["message"] for a in answer["advice"]) and "brush is thick" in shown
    assert cleared == ""
