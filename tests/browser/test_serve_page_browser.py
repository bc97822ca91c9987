"""The HTTP service's own drawing page in Chromium: a number drawn with the mouse is read, and
the other likely readings are offered under it."""
from __future__ import annotations

import json
import urllib.request

from handwriting import number_strokes
from test_recognize_browser import stroke

from mdr.serve.process import running_server


def test_a_number_drawn_on_the_service_page_is_read_with_other_likely_readings(browser_context, artifacts,
                                                                               tmp_path):
    with running_server(tmp_path / "serve.log") as server:
        page = browser_context.new_page()
        try:
            page.goto(server.url + "/")
            canvas = page.locator("#canvas")
            box = canvas.bounding_box()
            for points in number_strokes("4071", box["x"] + 60, box["y"] + 60, 170, 40):
                stroke(page, points)
            with page.expect_response(lambda r: r.url.endswith("/recognize")) as answered:
                page.get_by_role("button", name="Recognize").click()
            answer = json.loads(answered.value.body())
            page.wait_for_function("() => document.querySelector('#alternatives').textContent.length > 0")
            shown = page.locator("#result").inner_text().strip()
            offered = page.locator("#alternatives").inner_text().strip()
            page.screenshot(path=str(artifacts / "serve-page-did-you-mean.png"), full_page=True)
        finally:
            page.close()
    assert shown == answer["number"] == "4071"
    others = [a["number"] for a in answer["alternatives"]]
    assert others and offered == "Did you mean " + (", ".join(others[:-1]) + " or " if len(others) > 1 else "") \
        + others[-1] + "?"


def test_small_digits_drawn_with_the_pages_brush_get_the_thick_brush_advice(browser_context, artifacts, tmp_path):
    with running_server(tmp_path / "serve.log") as server:
        page = browser_context.new_page()
        try:
            page.goto(server.url + "/")
            canvas = page.locator("#canvas")
            box = canvas.bounding_box()
            for points in number_strokes("47", box["x"] + 60, box["y"] + 60, 30, 30):
                stroke(page, points)
            with page.expect_response(lambda r: r.url.endswith("/recognize")) as answered:
                page.get_by_role("button", name="Recognize").click()
            answer = json.loads(answered.value.body())
            page.wait_for_function("() => document.querySelector('#advice').textContent.length > 0")
            shown = page.locator("#advice").inner_text().strip()
            page.screenshot(path=str(artifacts / "serve-page-advice.png"), full_page=True)
            page.get_by_role("button", name="Clear").click()
            cleared = page.locator("#advice").inner_text().strip()
        finally:
            page.close()
    assert "thick brush" in [a["kind"] for a in answer["advice"]]
    assert shown == " ".join(a["message"] for a in answer["advice"]) and "brush is thick" in shown
    assert cleared == ""
