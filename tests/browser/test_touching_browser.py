"""Touching digits drawn with the mouse in Chromium are read digit by digit."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from test_recognize_browser import draw, open_recognize, save_canvas, screenshot


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
