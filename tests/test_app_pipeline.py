"""The Pipeline page, driven by AppTest: gallery examples, knobs, uploads, bad input, its pictures
and its own canvas."""
from __future__ import annotations

import base64
import html
import io
import re
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mdr.app import gallery, reading
from mdr.app.figures import INLINE_PICTURE
from mdr.app import pipeline_pictures as pp
from mdr.app import pipeline_steps as ps
from mdr.recognition.config import DEFAULT_CONFIG
from mdr.errors import NothingToReadError
import fake_canvas
from number_images import compose_number, png_bytes, specks_only

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "2_Pipeline.py")
HEADINGS = [step.heading for step in ps.STEPS]


@pytest.fixture(scope="module")
def recognizer():
    from mdr.recognition.recognizer import Recognizer

    return Recognizer()


def open_page(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def choose_example(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="pipeline_gallery").set_value(name)
    return rerun(at)


def turn(at: AppTest, knob: str, value) -> AppTest:
    """Set one knob (a RecognizerConfig field) in the sidebar and rerun."""
    key = f"pipeline_knob_{knob}"
    kind = {k.name: k.kind for k in ps.KNOBS}[knob]
    widget = {"slider": at.slider, "select": at.selectbox, "radio": at.radio, "toggle": at.toggle}[kind](key=key)
    widget.set_value(value)
    return rerun(at)


def shown_number(at: AppTest) -> str | None:
    for block in at.markdown:
        if 'class="mdr-number"' in block.value:
            inner = block.value.split(">", 1)[1].rsplit("</div>", 1)[0]
            return inner.replace("<br>", "\n")
    return None


def headings(at: AppTest) -> list[str]:
    return [h.value for h in at.subheader]


def not_reached(at: AppTest) -> int:
    return sum("Not reached" in i.value for i in at.info)


def pictures(at: AppTest) -> list[str]:
    """The pictures the page sent inside itself (figures.inline_picture), as their HTML."""
    return [m.value for m in at.markdown if f'class="{INLINE_PICTURE}"' in m.value]


def texts(at: AppTest) -> str:
    """Markdown, captions and picture captions of the page, as one string."""
    return "\n".join([html.unescape(m.value) for m in at.markdown] + [c.value for c in at.caption])


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at.radio(key="pipeline_source").set_value("Upload an image")
    rerun(at)
    at.file_uploader(key="pipeline_upload").set_value((name, data, mime))
    return rerun(at)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be ``width`` x ``height`` (its pixels are never reached)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 16))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


# --------------------------------------------------------------------------
def test_page_opens_on_the_gallery_with_every_step(recognizer):
    at = open_page()
    assert "Pipeline" in at.title[0].value
    assert at.radio(key="pipeline_source").value == "Gallery example"
    assert headings(at) == HEADINGS
    first = gallery.load_gallery()[0]
    assert shown_number(at) == recognizer.recognize(gallery.read_example(first)).number


@pytest.mark.parametrize("item", gallery.load_gallery(), ids=lambda item: item.name)
def test_every_step_is_shown_for_each_gallery_example(recognizer, item):
    at = choose_example(open_page(), item.name)
    recognition = recognizer.recognize(gallery.read_example(item))
    assert not at.error, [e.value for e in at.error]
    assert headings(at) == HEADINGS
    assert not_reached(at) == 0
    assert shown_number(at) == recognition.number
    # original, grey, ink, mask, components, specks, merges, one per split, reading order,
    # and four pictures per digit
    assert len(pictures(at)) == 8 + len(recognition.splits) + 4 * len(recognition.digits)
    # threshold histogram, probabilities, timings, and the strip reader's evidence of each part it read
    assert len(at.get("plotly_chart")) == 3 + sum(d.strip is not None for d in recognition.splits)
    assert len(at.get("download_button")) == 1
    assert any(f"Drawn: **{item.number.replace(chr(10), ' / ')}**" in c.value for c in at.caption)
    verdict = at.success if recognition.number == item.number else at.warning
    assert any("Drawn:" in v.value for v in verdict)


def test_knobs_start_at_the_recognizer_defaults():
    at = open_page()
    for name, default in ps.knob_defaults(DEFAULT_CONFIG).items():
        assert at.session_state[f"pipeline_knob_{name}"] == default, name
    assert not any("Changed:" in c.value for c in at.sidebar.caption)


def test_raising_the_speck_size_drops_the_small_digit(recognizer):
    at = choose_example(open_page(), "noisy")
    image = gallery.read_example("noisy")
    before = recognizer.recognize(image)
    assert shown_number(at) == before.number
    dropped_before = sum(not c.kept for c in before.components)

    at = turn(at, "min_speck_size", 0.6)
    after = recognizer.recognize(image, replace(DEFAULT_CONFIG, min_speck_size=0.6))
    assert shown_number(at) == after.number
    assert len(after.digits) == len(before.digits) - 1, "the small 1 is now a speck"
    assert sum(not c.kept for c in after.components) == dropped_before + 1
    assert f"**{dropped_before + 1}** dropped as specks" in texts(at)
    assert any("min_speck_size 0.2 → 0.6" in c.value for c in at.sidebar.caption)


def test_turning_splitting_off_reads_touching_digits_as_one(recognizer):
    at = choose_example(open_page(), "touching")
    image = gallery.read_example("touching")
    split = recognizer.recognize(image)
    assert shown_number(at) == split.number
    assert split.splits, "the touching digits are considered for splitting"

    at = turn(at, "split_enabled", False)
    whole = recognizer.recognize(image, replace(DEFAULT_CONFIG, split_enabled=False))
    assert shown_number(at) == whole.number
    assert len(whole.digits) == 1 < len(split.digits)
    assert "Splitting is switched off" in texts(at)
    assert at.slider(key="pipeline_knob_split_sensitivity").disabled


def test_switching_the_strip_reader_off_shows_the_cut_search_instead(recognizer):
    at = choose_example(open_page(), "touching")
    image = gallery.read_example("touching")
    with_reader = recognizer.recognize(image)
    assert recognizer.strip_reader() is not None, "the active model has a strip reader"
    assert any(d.strip is not None for d in with_reader.splits)
    charts = len(at.get("plotly_chart"))

    at = turn(at, "use_strip_reader", False)
    searched = recognizer.recognize(image, replace(DEFAULT_CONFIG, use_strip_reader=False))
    assert shown_number(at) == searched.number
    assert all(d.strip is None for d in searched.splits)
    assert len(at.get("plotly_chart")) == charts - sum(d.strip is not None for d in with_reader.splits)
    assert at.slider(key="pipeline_knob_strip_agreement").disabled
    assert at.slider(key="pipeline_knob_strip_second_opinion").disabled
    assert any("use_strip_reader" in c.value for c in at.sidebar.caption)


def test_merge_overlap_decides_whether_strokes_join(recognizer):
    at = choose_example(open_page(), "multi-stroke")
    image = gallery.read_example("multi-stroke")
    # Joining by reading is switched off too: it would join what geometry no longer does.
    geometry_only = replace(DEFAULT_CONFIG, merge_by_reading=0.0)
    default = recognizer.recognize(image, geometry_only)
    strict = recognizer.recognize(image, replace(geometry_only, merge_overlap=1.0))
    assert sum(m.joined for m in strict.merges) < sum(m.joined for m in default.merges)
    assert len(strict.digits) > len(default.digits)
    at = turn(at, "merge_by_reading", 0.0)
    assert shown_number(at) == default.number
    at = turn(at, "merge_overlap", 1.0)
    assert shown_number(at) == strict.number


def test_fixed_threshold_and_fp32_are_applied(recognizer):
    at = choose_example(open_page(), "dark-on-light")
    assert at.slider(key="pipeline_knob_fixed_threshold").disabled
    at = turn(at, "binarization", "fixed")
    assert not at.slider(key="pipeline_knob_fixed_threshold").disabled
    at = turn(at, "fixed_threshold", 200)
    assert "Method **fixed**, threshold **200**" in texts(at)
    at = turn(at, "precision", "fp32")
    config = replace(DEFAULT_CONFIG, binarization="fixed", fixed_threshold=200, precision="fp32")
    expected = recognizer.recognize(gallery.read_example("dark-on-light"), config)
    assert expected.precision == "fp32"
    assert shown_number(at) == expected.number
    assert "(fp32)" in texts(at)


def test_stroke_normalization_off_leaves_strokes_as_drawn(recognizer):
    at = choose_example(open_page(), "thick-small")
    assert "redrawn at MNIST's stroke width" in texts(at)
    at = turn(at, "normalize_stroke", False)
    expected = recognizer.recognize(gallery.read_example("thick-small"),
                                    replace(DEFAULT_CONFIG, normalize_stroke=False))
    assert shown_number(at) == expected.number
    assert "redrawn at MNIST's stroke width" not in texts(at)


def test_reset_puts_every_knob_back(recognizer):
    at = choose_example(open_page(), "noisy")
    default_number = shown_number(at)
    at = turn(at, "min_speck_size", 0.6)
    at = turn(at, "split_enabled", False)
    at = turn(at, "precision", "fp32")
    assert shown_number(at) != default_number
    at.button(key="pipeline_reset").click()
    rerun(at)
    for name, default in ps.knob_defaults(DEFAULT_CONFIG).items():
        assert at.session_state[f"pipeline_knob_{name}"] == default, name
    assert shown_number(at) == default_number


def test_last_image_from_recognize_is_explained(recognizer):
    image = compose_number("4071")
    at = open_page(**{reading.LAST_IMAGE: image, reading.LAST_SOURCE: "the drawing"})
    assert at.radio(key="pipeline_source").value == "Last image from Recognize"
    assert headings(at) == HEADINGS
    assert shown_number(at) == recognizer.recognize(image).number
    assert any("the drawing" in c.value for c in at.caption)


def test_the_last_step_lists_the_other_likely_readings_the_recognize_page_offers(recognizer):
    image = compose_number("4071")
    at = open_page(**{reading.LAST_IMAGE: image, reading.LAST_SOURCE: "the drawing"})
    offered = recognizer.recognize(image).alternatives(3)
    assert offered and any("Other likely readings" in m.value for m in at.markdown)
    (table,) = [d.value for d in at.dataframe if list(d.value.columns) == ["reading", "odds", "why"]]
    assert table["reading"].tolist() == [a.number for a in offered]
    assert table["why"].tolist() == [a.describe() for a in offered]
    assert all(text.endswith("x as likely") for text in table["odds"])


def test_the_last_step_gives_the_advice_the_recognize_page_gives(recognizer):
    import cv2

    from mdr.recognition.advice import advice_for

    thick = cv2.dilate(compose_number("4071"), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (25, 25)))
    at = open_page(**{reading.LAST_IMAGE: thick, reading.LAST_SOURCE: "the drawing"})
    given = advice_for(recognizer.recognize(thick))
    assert [a.kind for a in given] == ["thick brush"]
    assert any("**Advice**" in m.value for m in at.markdown)
    assert [i.value for i in at.info if i.value in {a.message for a in given}] == [a.message for a in given]
    plain = open_page(**{reading.LAST_IMAGE: compose_number("4071"), reading.LAST_SOURCE: "the drawing"})
    assert not any("**Advice**" in m.value for m in plain.markdown)


def test_no_last_image_says_so():
    at = open_page()
    at.radio(key="pipeline_source").set_value("Last image from Recognize")
    rerun(at)
    assert any("Nothing has been read on the Recognize page yet" in i.value for i in at.info)
    assert headings(at) == []


def test_uploaded_image_is_explained(recognizer):
    image = compose_number("38\n619", dark_ink=True)
    at = upload(open_page(), "number.png", png_bytes(image))
    assert not at.error, [e.value for e in at.error]
    assert headings(at) == HEADINGS
    assert shown_number(at) == recognizer.recognize(image).number


@pytest.mark.parametrize("data, words", [
    (b"this is not an image at all", "not an image this app can read"),
    (png_bytes(compose_number("12"))[:200], "damaged or truncated"),
    (png_header_only(8_000, 8_000), "64 megapixels"),
])
def test_bad_upload_is_an_error_in_words(data, words):
    at = upload(open_page(), "bad.png", data)
    assert len(at.error) == 1
    assert words in at.error[0].value
    assert headings(at) == []
    assert shown_number(at) is None


def test_blank_upload_shows_the_message_and_what_was_seen():
    blank = np.full((200, 400), 255, np.uint8)
    at = upload(open_page(), "blank.png", png_bytes(blank))
    assert any("blank" in w.value for w in at.warning)
    assert not at.error
    assert headings(at) == HEADINGS
    assert not_reached(at) == len(HEADINGS) - 2  # greyscale and polarity were done
    assert shown_number(at) is None
    assert len(at.get("download_button")) == 1


def test_only_specks_shows_the_message_and_the_dropped_marks(recognizer):
    dots = specks_only((240, 480), [(60, 60), (200, 150), (400, 90)])
    with pytest.raises(NothingToReadError) as raised:
        recognizer.recognize(dots)
    at = upload(open_page(), "dots.png", png_bytes(dots))
    assert any(str(raised.value) in w.value for w in at.warning)
    assert headings(at) == HEADINGS
    assert not_reached(at) == len(HEADINGS) - 5  # up to speck removal
    assert "**3** dropped as specks, **0** kept" in texts(at)
    assert shown_number(at) is None


@pytest.mark.parametrize("kind", ["float grey", "grey + alpha", "canvas RGBA"])
def test_any_image_the_recognizer_takes_is_shown(recognizer, kind):
    ink = compose_number("27")
    image = {
        "float grey": ink.astype(np.float32) / 255.0,
        "grey + alpha": np.dstack([np.zeros_like(ink), ink]),
        "canvas RGBA": np.dstack([ink, ink, ink, np.full_like(ink, 255)]),
    }[kind]
    at = open_page(**{reading.LAST_IMAGE: image, reading.LAST_SOURCE: kind})
    assert headings(at) == HEADINGS
    assert shown_number(at) == recognizer.recognize(image).number


# --------------------------------------------------------------------------
# Pictures inside the page, and the page's own canvas
# --------------------------------------------------------------------------
def picture_pixels(figure: str) -> np.ndarray:
    """The pixels of one inline picture, decoded from its data: URI."""
    match = re.search(r'src="data:image/png;base64,([^"]+)"', figure)
    assert match, figure[:200]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(match.group(1)))))


def picture_caption(figure: str) -> str:
    match = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", figure)
    return html.unescape(match.group(1)) if match else ""


def test_pictures_are_sent_inside_the_page(recognizer):
    """No media files (they can be gone under load before the browser fetches them): every
    picture is a data: URI in the page, with its caption, and shows what the step drew."""
    at = choose_example(open_page(), "touching")
    recognition = recognizer.recognize(gallery.read_example("touching"))
    assert not at.image, "no picture is left as a Streamlit media file"
    figures = pictures(at)
    assert len(figures) == 8 + len(recognition.splits) + 4 * len(recognition.digits)
    captions = [picture_caption(f) for f in figures]
    assert captions[:2] == ["original", "greyscale, working size"]
    assert "ink mask" in captions
    assert any(c.startswith("final 28×28: centre of mass moved by") for c in captions)

    original = picture_pixels(figures[0])
    assert np.array_equal(original, pp.preview(gallery.read_example("touching")))
    order = captions.index("digits numbered in reading order; one colour per line")
    assert np.array_equal(picture_pixels(figures[order]), pp.reading_order_picture(recognition))
    # a step's picture fills its half of the frame, as st.image(width="stretch") did, even when
    # it is smaller; the enlarged per-digit pictures are shown at their own size, crisp
    assert "width:100%;object-fit:contain;" in figures[0]
    final = figures[captions.index(next(c for c in captions if c.startswith("final 28×28")))]
    assert f"width:{28 * pp.GRID_CELL}px;image-rendering:pixelated;" in final


def canvas_rgba(text: str) -> np.ndarray:
    """What the canvas sends: white ink on black, RGBA."""
    ink = compose_number(text)
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


def test_clear_empties_this_pages_canvas_and_keeps_what_recognize_read(recognizer, monkeypatch):
    drawn = canvas_rgba("40")
    browser = fake_canvas.install(monkeypatch)
    last = compose_number("7")
    at = open_page(**{reading.LAST_IMAGE: last, reading.LAST_SOURCE: "the drawing"})
    at.radio(key="pipeline_source").set_value("Draw here")
    rerun(at)
    assert any("Draw a number on the canvas" in i.value for i in at.info)
    assert headings(at) == []

    fake_canvas.browser_draws(browser, 3, drawn)
    rerun(at)
    assert headings(at) == HEADINGS
    assert shown_number(at) == recognizer.recognize(drawn).number
    assert any(c.value == "3 strokes drawn." for c in at.caption)
    before = browser["calls"][-1]

    # Clear: the browser still reports the old drawing on this rerun, yet the page is empty
    at.button(key="pipeline_clear").click()
    rerun(at)
    assert headings(at) == [] and shown_number(at) is None
    assert any("Draw a number on the canvas" in i.value for i in at.info)
    assert any(c.value == "Nothing drawn yet." for c in at.caption)
    after = browser["calls"][-1]
    assert after["key"] == before["key"] == "canvas"  # the same canvas as on Recognize, emptied in place
    assert after["data"]["clears"] != before["data"]["clears"]  # the canvas empties itself
    assert at.session_state[reading.LAST_IMAGE] is last, "what Recognize read is another source here"

    fake_canvas.browser_draws(browser, 0)  # the browser has emptied it
    rerun(at)
    fake_canvas.browser_draws(browser, 2)  # and the next drawing is explained again
    rerun(at)
    assert headings(at) == HEADINGS
    at.radio(key="pipeline_source").set_value("Last image from Recognize")
    rerun(at)
    assert shown_number(at) == recognizer.recognize(last).number
