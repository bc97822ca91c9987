"""The Recognize page, driven by AppTest with uploads (the canvas needs a browser)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from number_images import compose_number, layout, library_reading, png_bytes
from mdr.app import canvas_input, figures, reading

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "1_Recognize.py")


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at.file_uploader[0].set_value((name, data, mime))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_number(at: AppTest) -> str | None:
    for block in at.markdown:
        if 'class="mdr-number"' in block.value:
            inner = block.value.split(">", 1)[1].rsplit("</div>", 1)[0]
            return re.sub(r"<[^>]+>", "", inner.replace("<br>", "\n"))
    return None


def test_page_starts_with_canvas_uploader_and_no_result(page):
    assert page.title[0].value == "Recognize a number"
    assert [b.label for b in page.button] == ["Recognize", "Clear"]
    assert page.slider[0].label == "Brush width"
    assert "Nothing drawn yet." in [c.value for c in page.caption]
    assert len(page.file_uploader) == 1
    assert shown_number(page) is None
    assert not page.error and not page.warning


@pytest.mark.parametrize("text, dark_ink", [("4071", False), ("2057", True), ("38\n619", False)])
def test_uploaded_number_is_read_back(page, number_png, text, dark_ink):
    at = upload(page, "number.png", number_png(text, dark_ink=dark_ink))
    assert not at.error, [e.value for e in at.error]
    # the page shows what the library reads, in the lines written; without a 9 that is the text
    expected = library_reading(compose_number(text, dark_ink=dark_ink))
    assert "9" in text or expected == text
    assert layout(expected) == layout(text)
    assert shown_number(at) == expected
    recognition = at.session_state[reading.LAST_RECOGNITION]
    assert recognition.number == expected
    assert isinstance(at.session_state[reading.LAST_IMAGE], np.ndarray)
    assert at.session_state[reading.LAST_SOURCE] == "upload: number.png"
    # one enlarged model input per digit (plus the annotated input and the selected digit)
    pictures = [m for m in at.markdown if figures.INLINE_PICTURE in m.value and "base64," in m.value]
    assert len(pictures) >= len(text.replace("\n", "")) + 2
    assert len(at.selectbox) == 1 and len(at.selectbox[0].options) == len(recognition.digits)
    assert at.get("plotly_chart"), "the probability chart is shown"
    assert any("ms" in c.value for c in at.caption), "the time taken is shown"


def test_choosing_another_digit_keeps_the_result(page, number_png):
    at = upload(page, "number.png", number_png("4071"))
    at.selectbox[0].select_index(2).run()
    assert not at.exception
    assert shown_number(at) == "4071"
    assert at.selectbox[0].value == 2


def test_jpeg_upload_is_read(page, number_png):
    import io

    from PIL import Image


    buffer = io.BytesIO()
    Image.fromarray(compose_number("905", dark_ink=True)).save(buffer, format="JPEG", quality=90)
    at = upload(page, "scan.jpg", buffer.getvalue(), "image/jpeg")
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    expected = library_reading(decoded)
    assert layout(expected) == [3] and expected[1:] == "05"  # the 9: see library_reading
    assert shown_number(at) == expected


def test_recognize_with_nothing_drawn_says_so(page):
    page.button[0].click().run()
    assert not page.exception
    assert [i.value for i in page.info] == [canvas_input.EMPTY_CANVAS_MESSAGE]
    assert shown_number(page) is None and not page.error


@pytest.mark.parametrize("blank", [np.full((200, 500), 255, np.uint8), np.zeros((200, 500), np.uint8)])
def test_blank_upload_is_a_friendly_message(page, blank):
    at = upload(page, "blank.png", png_bytes(blank))
    assert shown_number(at) is None
    assert not at.error
    assert len(at.warning) == 1
    assert "Traceback" not in at.warning[0].value
    assert at.session_state[reading.LAST_ERROR] is not None


@pytest.mark.parametrize("data", [b"this is not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_corrupt_upload_is_an_error_in_words(page, data):
    at = upload(page, "broken.png", data)
    assert shown_number(at) is None
    assert len(at.error) == 1
    message = at.error[0].value
    assert "image" in message.lower() and "Traceback" not in message


def test_a_good_upload_after_an_error_replaces_it(page, number_png):
    at = upload(page, "broken.png", b"garbage")
    assert at.error
    at = upload(at, "number.png", number_png("71"))
    assert not at.error
    assert shown_number(at) == "71"


def test_clear_forgets_the_result(page, number_png):
    at = upload(page, "number.png", number_png("40"))
    assert shown_number(at) == "40"
    at.button[1].click().run()
    assert shown_number(at) is None
    assert at.session_state[canvas_input.CANVAS_CLEARS] == 1


def _png(image) -> bytes:
    import io
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _dot() -> bytes:
    import cv2
    canvas = np.full((250, 600), 255, np.uint8)
    cv2.circle(canvas, (300, 125), 9, 0, -1)
    return png_bytes(canvas)


def _full_ink() -> bytes:
    canvas = np.zeros((250, 600), np.uint8)
    canvas[10:240, 10:590] = 255  # painted over but for a thin margin
    return png_bytes(canvas)


@pytest.mark.parametrize("name, make, kind, words", [
    ("a single dot", _dot, "warning", "small mark"),
    ("a canvas full of ink", _full_ink, "warning", "ink"),
    ("a 1x1 image", lambda: _png(__import__("PIL.Image").Image.new("L", (1, 1))), "error", "too small"),
    ("a 20000x20000 image", lambda: _png(__import__("PIL.Image").Image.new("1", (20000, 20000))),
     "error", "20000x20000"),
])
def test_unreadable_uploads_get_their_own_message(page, name, make, kind, words):
    at = upload(page, "input.png", make())
    assert shown_number(at) is None
    shown = [m.value for m in getattr(at, kind)]
    assert len(shown) == 1 and words in shown[0], (name, shown)
    assert "Traceback" not in shown[0]


def test_a_thick_brush_on_small_digits_gets_a_hint_and_a_thin_one_does_not(page):
    import cv2

    thin = compose_number("4071")
    at = upload(page, "thin.png", png_bytes(thin))
    assert at.session_state[reading.LAST_RECOGNITION].brush_ratio < 0.3
    assert not any("brush is thick" in i.value for i in at.info)
    thick = cv2.dilate(thin, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (25, 25)))
    at = upload(at, "thick.png", png_bytes(thick))
    ratio = at.session_state[reading.LAST_RECOGNITION].brush_ratio
    assert ratio >= 0.3
    (hint,) = [i.value for i in at.info if "brush is thick" in i.value]
    assert f"about {ratio:.0%} of their height" in hint and "thinner brush" in hint


def test_touching_digits_cut_without_much_certainty_get_a_hint_and_sure_ones_do_not(page):
    from mdr.recognition.advice import TOUCHING_DOUBT
    from mdr.data.pen import make_pen_set, pen_bank
    from mdr.recognition.recognizer import Recognizer

    recognizer, unsure, sure = Recognizer(), None, None
    for sample in make_pen_set("touching", 60, 0, pen_bank()):
        doubts = recognizer.recognize(sample.image).touching_doubts()
        if doubts and min(s for _, s in doubts) < TOUCHING_DOUBT and unsure is None:
            unsure = sample
        if doubts and min(s for _, s in doubts) >= TOUCHING_DOUBT and sure is None:
            sure = sample
    assert unsure is not None and sure is not None
    at = upload(page, "sure.png", png_bytes(sure.image))
    assert not any("touch" in i.value for i in at.info)
    calm = any("Every digit was read" in s.value for s in at.success)
    assert calm == (not any(d.low_confidence for d in at.session_state[reading.LAST_RECOGNITION].digits))
    at = upload(at, "unsure.png", png_bytes(unsure.image))
    doubts = at.session_state[reading.LAST_RECOGNITION].touching_doubts()
    least = min(s for _, s in doubts if s < TOUCHING_DOUBT)
    (hint,) = [i.value for i in at.info if "touch" in i.value]
    assert f"only {least:.0%} sure" in hint and "leave a little space" in hint
    assert "teaches the reader your touching digits" in hint  # corrections can teach it
    positions = next(p for p, s in doubts if s == least)
    assert f"{positions[0] + 1}-{positions[-1] + 1}" in hint
    assert not any("Every digit was read" in s.value for s in at.success)  # no all-clear beside the doubt


def test_an_uncertain_digit_names_the_not_one_digit_share_so_the_figures_add_up(page):
    from number_images import compose_number as number
    from mdr.app.result_view import NOT_ONE_DIGIT_NOTE

    overlaid = np.maximum(number("4"), number("9"))  # a 4 and a 9 drawn over each other
    at = upload(page, "overlaid.png", png_bytes(overlaid))
    (digit,) = at.session_state[reading.LAST_RECOGNITION].digits
    assert digit.low_confidence and digit.reject >= NOT_ONE_DIGIT_NOTE
    (warning,) = [w.value for w in at.warning if "uncertain" in w.value]
    assert f"or not one digit at all ({digit.reject:.0%}" in warning
    assert f"with only {digit.confidence:.0%} confidence" in warning
    clean = upload(at, "4071.png", png_bytes(compose_number("4071")))
    assert not any("not one digit at all" in w.value for w in clean.warning)
