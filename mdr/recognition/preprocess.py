"""From whatever array a user gives to a bright-ink-on-dark working image and
its ink mask: validation, greyscale, alpha, size, polarity, binarization."""
from __future__ import annotations

import cv2
import numpy as np

from mdr.recognition.config import RecognizerConfig
from mdr.errors import InvalidImageError, NothingToReadError
from mdr.recognition.imageio import check_size
from mdr.recognition.numeric import median
from mdr.recognition.results import BinarizationInfo, PolarityDecision

MIN_SIDE = 8
"""Images smaller than this on either side cannot hold a legible digit."""
SMALL_SIDE = 96
"""Images whose longer side is below this are upscaled before segmentation
(a 28x28 MNIST-style upload should read as well as a canvas)."""


def _to_uint8(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * 255
    if np.issubdtype(values.dtype, np.floating):
        if not np.isfinite(values).all():
            raise InvalidImageError("The image contains NaN or infinite values.")
        top = float(values.max()) if values.size else 0.0
        scaled = values * 255.0 if top <= 1.0 else values
        return np.clip(scaled, 0, 255).astype(np.uint8)
    if np.issubdtype(values.dtype, np.integer):
        top = int(values.max()) if values.size else 0
        if top > 255:
            return (values.astype(np.float64) * (255.0 / top)).clip(0, 255).astype(np.uint8)
        return np.clip(values, 0, 255).astype(np.uint8)
    raise InvalidImageError(f"Pixels of type {values.dtype} are not supported; use integers or floats.")


def to_grey(image: np.ndarray, config: RecognizerConfig) -> np.ndarray:
    """Validate and flatten to one uint8 channel.

    A mostly transparent RGBA image (a canvas export with no background) is
    read through its alpha channel: the ink is wherever something was drawn,
    whatever its colour.
    """
    if type(image) is not np.ndarray:  # lists, masked arrays (their data), matrices
        given = type(image).__name__
        try:
            image = np.asarray(image)
        except Exception:  # noqa: BLE001 - anything unconvertible is simply not an image
            raise InvalidImageError("The input is not an image array.") from None
        if image.ndim == 0 or image.dtype.kind not in "biuf":
            raise InvalidImageError(f"The input is not an image array (got a {given}).")
    if image.dtype == object or image.ndim not in (2, 3):
        raise InvalidImageError(
            f"An image must be a 2-D (grey) or 3-D (colour) array; got shape {image.shape}."
        )
    if image.ndim == 3 and image.shape[2] not in (1, 2, 3, 4):
        raise InvalidImageError(
            f"An image has 1, 2, 3 or 4 channels; got {image.shape[2]} (shape {image.shape})."
        )
    height, width = image.shape[:2]
    check_size(width, height, config)
    if min(height, width) < MIN_SIDE:
        raise InvalidImageError(
            f"The image is {width}x{height} pixels: too small to hold a digit "
            f"(at least {MIN_SIDE}x{MIN_SIDE})."
        )
    image = _to_uint8(image)
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 1:
        return image[:, :, 0]
    # OpenCV reads the channels in place (numpy slices of an interleaved image would be copied first).
    image = np.ascontiguousarray(image)
    if channels in (2, 4):
        alpha = cv2.extractChannel(image, channels - 1)
        if cv2.minMaxLoc(alpha)[0] < 250:
            if np.count_nonzero(alpha < 128) * 2 > alpha.size:  # mostly transparent: the alpha is the ink
                return alpha
            grey = _colour_to_grey(image, channels)
            a = alpha.astype(np.float32) / 255.0
            return (grey.astype(np.float32) * a + 255.0 * (1.0 - a)).astype(np.uint8)
    return _colour_to_grey(image, channels)


def _colour_to_grey(image: np.ndarray, channels: int) -> np.ndarray:
    """The grey of a 2-4 channel uint8 image (alpha ignored): luma of RGB, or the grey channel."""
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.extractChannel(image, 0)


WORK_MIN_SIDE = 320
"""Shrinking to the ink's size never makes the longer side shorter than this."""
WORTH_SHRINKING = 0.8
"""Shrink to the ink's size only when it makes the image at most this large (per side)."""
ESTIMATE_SIDE = 200
"""The tallest mark is measured on a copy about this long (every n-th pixel)."""


def tallest_mark(grey: np.ndarray) -> float | None:
    """Height in pixels of the tallest ink mark, measured on a coarse copy
    (every n-th pixel, same polarity and threshold rules); None when blank."""
    step = max(2, max(grey.shape) // ESTIMATE_SIDE)
    small = np.ascontiguousarray(grey[::step, ::step])
    if min(small.shape) < 2:
        return None
    ink, _ = decide_polarity(small)
    low, high = int(ink.min()), int(ink.max())
    if high - low < 40:
        return None
    threshold, mask = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if threshold < low + (high - low) / 4.0:
        _, mask = cv2.threshold(ink, low + (high - low) / 4.0, 255, cv2.THRESH_BINARY)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return None
    return float(stats[1:, cv2.CC_STAT_HEIGHT].max() * step)


def work_scale(grey: np.ndarray, config: RecognizerConfig) -> float:
    """Scale (at most 1) for the working image: the canvas limit and the ink's size."""
    longer = max(grey.shape)
    scale = min(1.0, config.work_max_side / longer)
    if config.work_digit_height > 0 and longer * scale > WORK_MIN_SIDE:
        tallest = tallest_mark(grey)
        if tallest and tallest * scale > config.work_digit_height:
            shrink = max(config.work_digit_height / tallest, WORK_MIN_SIDE / longer)
            # A slight shrink costs more (the resize) than it saves.
            if shrink < WORTH_SHRINKING * scale:
                scale = shrink
    return min(1.0, scale)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` reduced to ``size`` (width, height): averaged by a whole factor, then bilinear for
    the rest (a factor under 2, which bilinear takes without aliasing). OpenCV's area resampling
    by a fractional factor is ten times slower (2.8 ms for a 1600x1200 upload, against 0.25)."""
    height, width = image.shape[:2]
    factor = max(1, min(width // max(1, size[0]), height // max(1, size[1])))
    if factor > 1:
        image = cv2.resize(image, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def rescale_for_work(grey: np.ndarray, config: RecognizerConfig) -> tuple[np.ndarray, float]:
    """Bring the image to a working size: big uploads and big drawings shrink, tiny ones grow."""
    height, width = grey.shape
    longer = max(height, width)
    scale = work_scale(grey, config)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return shrink(grey, size), scale
    if longer < SMALL_SIDE:
        scale = float(int(np.ceil(SMALL_SIDE / longer)))
        size = (round(width * scale), round(height * scale))
        return cv2.resize(grey, size, interpolation=cv2.INTER_LINEAR), scale
    return grey, 1.0


def decide_polarity(grey: np.ndarray) -> tuple[np.ndarray, PolarityDecision]:
    """Return the image with ink bright on dark, and why.

    The background is what surrounds the drawing, so the border's median
    decides; when the border is mid-grey (ink touching it, a photo) the
    whole image's median, which is dominated by background, decides instead.
    """
    height, width = grey.shape
    band = max(1, min(height, width) // 50)
    border = np.concatenate([
        grey[:band].ravel(), grey[-band:].ravel(), grey[:, :band].ravel(), grey[:, -band:].ravel(),
    ])
    border_median = float(median(border))
    image_median = None  # measured only when the border cannot decide (else when shown)
    if abs(border_median - 127.5) >= 40:
        inverted = border_median > 127.5
        reason = f"border median {border_median:.0f} is {'light' if inverted else 'dark'}"
    else:
        image_median = float(median(grey))
        inverted = image_median > 127.5
        reason = (f"border median {border_median:.0f} is ambiguous; image median "
                  f"{image_median:.0f} is {'light' if inverted else 'dark'}")
    reason += ": " + ("dark ink on a light background, inverted" if inverted
                      else "light ink on a dark background, kept")
    ink = cv2.bitwise_not(grey) if inverted else grey
    return ink, PolarityDecision(inverted, border_median, reason, image_median, grey)


def binarize(ink: np.ndarray, config: RecognizerConfig) -> tuple[np.ndarray, BinarizationInfo]:
    """Ink mask (0/255) by the configured method; refuse blank or all-ink images."""
    low, high = int(ink.min()), int(ink.max())
    if high - low < config.min_contrast:
        raise NothingToReadError(
            "Nothing to read: the image is blank (one flat colour). Draw a number first."
        )
    method = config.binarization
    if method == "fixed":
        threshold = float(config.fixed_threshold)
        _, mask = cv2.threshold(ink, threshold, 255, cv2.THRESH_BINARY)
    elif method == "adaptive":
        block = max(31, (min(ink.shape) // 8) | 1)
        local = cv2.adaptiveThreshold(ink, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, -10)
        threshold = (low + high) / 4.0
        mask = np.where(ink > threshold, local, 0).astype(np.uint8)
    elif method == "otsu":
        threshold, mask = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        # Otsu on a nearly empty image can land in the noise: never below
        # a quarter of the contrast above the background.
        floor = low + (high - low) / 4.0
        if threshold < floor:
            threshold, mask = cv2.threshold(ink, floor, 255, cv2.THRESH_BINARY)
    else:
        raise ValueError(f"Unknown binarization method {method!r}")
    ink_fraction = float(np.count_nonzero(mask)) / mask.size
    info = BinarizationInfo(method, float(threshold), ink_fraction)
    if ink_fraction == 0.0:
        raise NothingToReadError("Nothing to read: no ink was found. Draw a number first.")
    if ink_fraction > config.max_ink_fraction:
        raise NothingToReadError(
            f"Nothing to read: {ink_fraction:.0%} of the image is ink. Draw digits with "
            "space around them, on a plain background."
        )
    return mask, info


def ink_mask(image: np.ndarray, config: RecognizerConfig) -> np.ndarray:
    """The binarized ink of ``image`` at working scale: the recognizer's first steps, for code
    that needs their result (training inputs, tests) but not their records."""
    grey, _ = rescale_for_work(to_grey(image, config), config)
    ink, _ = decide_polarity(grey)
    mask, _ = binarize(ink, config)
    return mask
