"""Each pipeline stage on drawn synthetic images, without the model."""
from __future__ import annotations

import numpy as np
import pytest

from mdr.recognition.config import RecognizerConfig
from mdr.errors import ImageTooLargeError, InvalidImageError, NothingToReadError
from mdr.recognition.normalize import normalize_digit
from mdr.recognition.preprocess import binarize, decide_polarity, ink_mask, rescale_for_work, to_grey
from mdr.recognition.segment import (estimate_stroke_width, find_components, group_lines, merge_components,
                         remove_specks)
from tests.drawing import draw_digit, draw_number

CONFIG = RecognizerConfig()


def segment(image: np.ndarray, config: RecognizerConfig = CONFIG):
    mask = ink_mask(image, config)
    labels, components = find_components(mask)
    width = estimate_stroke_width(mask)
    kept, height = remove_specks(components, width, config)
    parts, merges = merge_components(kept, labels, height, config)
    return parts, merges, components, width


def test_polarity_dark_ink_on_light_background_is_inverted():
    image = draw_number(["1", "7"], dark_on_light=True)
    ink, decision = decide_polarity(image)
    assert decision.inverted
    assert ink[0, 0] == 0 and ink.max() == 255


def test_polarity_light_ink_on_dark_background_is_kept():
    image = draw_number(["1", "7"])
    ink, decision = decide_polarity(image)
    assert not decision.inverted
    assert np.array_equal(ink, image)


def test_both_polarities_give_the_same_mask():
    dark = draw_number(["4", "0"], dark_on_light=True)
    light = draw_number(["4", "0"])
    mask_dark, _ = binarize(decide_polarity(dark)[0], CONFIG)
    mask_light, _ = binarize(decide_polarity(light)[0], CONFIG)
    assert np.mean(mask_dark == mask_light) > 0.995


def test_transparent_canvas_export_reads_ink_from_alpha():
    strokes = draw_number(["7"])
    rgba = np.zeros(strokes.shape + (4,), np.uint8)  # black ink on a transparent background
    rgba[..., 3] = strokes
    grey = to_grey(rgba, CONFIG)
    assert grey.max() == 255 and grey[0, 0] == 0


def test_float_and_rgb_inputs_are_accepted():
    image = draw_number(["1"]).astype(np.float32) / 255.0
    assert to_grey(image, CONFIG).max() == 255
    rgb = np.repeat(draw_number(["1"])[..., None], 3, axis=2)
    assert to_grey(rgb, CONFIG).shape == rgb.shape[:2]


@pytest.mark.parametrize("bad, error", [
    (np.zeros((0, 10), np.uint8), InvalidImageError),
    (np.zeros((1, 1), np.uint8), InvalidImageError),
    (np.zeros((10, 10, 5), np.uint8), InvalidImageError),
    (np.full((20, 20), np.nan, np.float32), InvalidImageError),
    (np.zeros((2, 2, 2, 2), np.uint8), InvalidImageError),
])
def test_unusable_arrays_are_refused_with_a_clear_error(bad, error):
    with pytest.raises(error) as info:
        to_grey(bad, CONFIG)
    assert str(info.value).endswith(")") or str(info.value).endswith(".")


def test_images_over_the_pixel_limit_are_refused_before_conversion():
    config = RecognizerConfig(max_input_pixels=1000)
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        to_grey(np.zeros((100, 100), np.uint8), config)


def test_blank_and_all_ink_images_have_nothing_to_read():
    with pytest.raises(NothingToReadError, match="blank"):
        binarize(np.zeros((100, 100), np.uint8), CONFIG)
    full = np.full((100, 100), 255, np.uint8)
    full[:3, :3] = 0
    with pytest.raises(NothingToReadError, match="ink"):
        binarize(full, CONFIG)


def test_stroke_width_is_estimated_near_the_brush_width():
    for brush in (6, 14, 30):
        image = draw_number(["1", "7", "0"], height=200, brush=brush, size=(400, 900))
        width = estimate_stroke_width(binarize(image, CONFIG)[0])
        assert abs(width - brush) <= max(3, 0.25 * brush), (brush, width)


def test_five_with_lifted_bar_is_one_digit():
    image = draw_number(["1", "5_lifted_bar", "7"])
    parts, merges, components, _ = segment(image)
    assert len(components) == 4
    assert len(parts) == 3
    assert any(m.joined for m in merges)


def test_four_in_two_strokes_is_one_digit():
    image = np.zeros((300, 500), np.uint8)
    draw_digit(image, "4", 100, 60, 150, 10)
    parts, _, components, _ = segment(image)
    assert len(parts) == 1


def test_neighbouring_digits_are_not_merged():
    image = draw_number(["1", "7", "4", "0"], gap=10)
    parts, _, _, _ = segment(image)
    assert len(parts) == 4


def test_two_rows_are_two_lines_read_top_then_left_to_right():
    image = np.zeros((520, 700), np.uint8)
    for n, key in enumerate(["1", "7", "0"]):
        draw_digit(image, key, 60 + n * 130, 40, 160, 12)
    for n, key in enumerate(["4", "1"]):
        draw_digit(image, key, 90 + n * 130, 300, 160, 12)
    parts, _, _, _ = segment(image)
    assert len(parts) == 5
    lines = group_lines([p.box for p in parts])
    assert [len(line) for line in lines] == [3, 2]
    for line in lines:
        xs = [parts[i].box[0] for i in line]
        assert xs == sorted(xs)


def test_a_small_speck_is_dropped_and_a_lone_dot_leaves_nothing():
    image = draw_number(["1", "7"], brush=12)
    image[20:24, 600:604] = 255
    parts, _, components, _ = segment(image)
    assert len(components) == 3 and len(parts) == 2
    assert any(not c.kept and "speck" in c.reason for c in components)
    dot = np.zeros((300, 900), np.uint8)
    import cv2
    cv2.circle(dot, (400, 150), 8, 255, -1)
    grey, _ = rescale_for_work(dot, CONFIG)
    mask, _ = binarize(decide_polarity(grey)[0], CONFIG)
    kept, _ = remove_specks(find_components(mask)[1], estimate_stroke_width(mask), CONFIG)
    assert kept == []


def test_a_lone_filled_mark_big_for_the_image_is_kept_as_a_digit():
    """A small 0 drawn with a wide brush fills in: its measured brush width is the whole
    mark, so the brush rule alone would call it a dot and leave nothing to read."""
    import cv2
    for radius, kept_expected in ((35, True), (8, False)):
        blob = np.zeros((300, 900), np.uint8)
        cv2.circle(blob, (250, 170), radius, 255, -1)
        grey, _ = rescale_for_work(blob, CONFIG)
        mask, _ = binarize(decide_polarity(grey)[0], CONFIG)
        components = find_components(mask)[1]
        width = estimate_stroke_width(mask)
        assert remove_specks(components, width, CONFIG)[0] == [], "by the brush rule it is a dot"
        kept, height = remove_specks(components, width, CONFIG, mask.shape)
        assert (len(kept) == 1) is kept_expected, radius
        if kept_expected:
            assert height == kept[0].box[3] and "largest mark" in kept[0].reason


def test_a_raised_speck_threshold_drops_a_small_digit():
    image = draw_number(["1", "7"], height=160)
    draw_digit(image, "1", 400, 200, 40, 10)  # a small third digit
    parts, _, _, _ = segment(image)
    assert len(parts) == 3
    parts, _, _, _ = segment(image, RecognizerConfig(min_speck_size=0.4))
    assert len(parts) == 2


def test_normalized_digit_fits_20px_box_centred_by_mass():
    image = draw_number(["0"], height=200, brush=14, size=(400, 400))
    mask = binarize(image, CONFIG)[0]
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    steps = normalize_digit(crop, CONFIG)
    final = steps.final
    assert final.shape == (28, 28) and final.dtype == np.float32
    assert 0.0 <= final.min() and final.max() <= 1.0
    rows, cols = np.nonzero(final > 0.05)
    assert rows.max() - rows.min() + 1 <= 22 and rows.max() - rows.min() + 1 >= 18
    yy, xx = np.indices(final.shape)
    cy, cx = (yy * final).sum() / final.sum(), (xx * final).sum() / final.sum()
    assert abs(cy - 13.5) < 1.0 and abs(cx - 13.5) < 1.0


def test_thick_brush_on_a_small_digit_is_thinned_to_mnist_stroke():
    thin = draw_number(["0"], height=100, brush=8, size=(200, 200), origin=(40, 50))
    thick = draw_number(["0"], height=100, brush=30, size=(200, 200), origin=(40, 50))
    finals = []
    for image in (thin, thick):
        mask = binarize(image, CONFIG)[0]
        ys, xs = np.nonzero(mask)
        finals.append(normalize_digit(mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1], CONFIG).final)
    # Same digit, different brushes: similar ink coverage after normalization,
    # and the thick one keeps its hole (not a blob).
    coverage = [float(f.sum()) for f in finals]
    assert coverage[1] < 1.6 * coverage[0]
    assert finals[1][13:15, 13:15].max() < 0.5


def test_thinning_a_thick_brush_keeps_a_thin_tail_drawn_beside_it():
    import cv2

    from mdr.recognition.normalize import adjust_stroke

    mask = np.zeros((100, 76), np.uint8)
    cv2.circle(mask, (38, 32), 22, 255, 24)             # a thick 0 (5 px wide in MNIST's 20 px box) ...
    cv2.line(mask, (38, 60), (38, 99), 255, 2)            # ... with a hairline tail below it
    adjusted = adjust_stroke(mask, 24.0, CONFIG)
    h, w = adjusted.shape
    tail = adjusted[int(h * 0.75):int(h * 0.95), :]       # the tail's rows, in the adjusted frame
    assert tail.max() == 255, "the hairline vanished with the thinning"
    ring = adjusted[: int(h * 0.55), :]
    assert 0 < np.count_nonzero(ring) < 0.75 * np.count_nonzero(cv2.resize(mask, (w, h))[: int(h * 0.55), :])
