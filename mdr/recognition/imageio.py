"""Turn user-supplied bytes or arrays into a checked numpy image.

Dimensions are read from the header before any pixel is decoded, so a
decompression bomb is refused without allocating it.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mdr.recognition.config import DEFAULT_CONFIG, RecognizerConfig
from mdr.errors import ImageTooLargeError, InvalidImageError

MAX_FILE_BYTES = 50 * 1024 * 1024

# Pillow's own bomb check fires inside Image.open with a message about its
# limit, not ours; ``check_size`` applies our limit to the header's size
# before any pixel is decoded, so Pillow's is switched off.
Image.MAX_IMAGE_PIXELS = None


def check_size(width: int, height: int, config: RecognizerConfig = DEFAULT_CONFIG) -> None:
    if width <= 0 or height <= 0:
        raise InvalidImageError(f"The image is {width}x{height} pixels: it has no area to read.")
    if width * height > config.max_input_pixels:
        raise ImageTooLargeError(
            f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {config.max_input_pixels / 1e6:.0f} megapixels. Scale it down and try again."
        )


def decode_image(data: bytes, config: RecognizerConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Decode PNG/JPEG/... bytes to an RGB, RGBA or greyscale uint8 array.

    EXIF orientation is applied so a phone photo reads the way it was taken.
    """
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise ImageTooLargeError(
            f"The file is {len(data) / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB."
        )
    try:
        image = Image.open(io.BytesIO(data))
        check_size(image.width, image.height, config)
        image = ImageOps.exif_transpose(image)
        if image.mode in ("I", "F") or image.mode.startswith("I;16"):
            return _deep_to_uint8(np.asarray(image))
        if image.mode not in ("L", "RGB", "RGBA"):
            has_alpha = image.mode in ("LA", "PA", "RGBa") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
        return np.asarray(image).copy()
    except (InvalidImageError, ImageTooLargeError):
        raise
    except UnidentifiedImageError:
        raise InvalidImageError("The file is not an image this app can read (use PNG or JPEG).") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise InvalidImageError(f"The image file is damaged or truncated ({e}).") from None


def _deep_to_uint8(values: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit integer or float pixels (PNG, TIFF) scaled to 0..255, not clipped."""
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        raise InvalidImageError("The image contains NaN or infinite values.")
    low, high = float(values.min()), float(values.max())
    if low >= 0.0 and high <= 1.0:
        top = 1.0  # floats from 0 to 1
    elif low >= 0.0 and high <= 255.0:
        top = 255.0
    else:
        values, top = values - min(low, 0.0), high - min(low, 0.0)
    return np.clip(values * (255.0 / (top or 1.0)), 0, 255).astype(np.uint8)


def read_image_file(path: str | os.PathLike, config: RecognizerConfig = DEFAULT_CONFIG) -> np.ndarray:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageTooLargeError(
                f"The file is {size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB."
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidImageError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise InvalidImageError(f"{path} is a folder, not an image file.") from None
    except PermissionError:
        raise InvalidImageError(f"{path} cannot be read (permission denied).") from None
    return decode_image(data, config)
