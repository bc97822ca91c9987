"""Generated bad and odd input for the recognizer and the image decoder.

Every generator is seeded and yields ``(label, value)`` pairs: ``label`` says what kind of
input it is (for counting and for messages), ``value`` is what the library is given. Huge
arrays are made with ``np.broadcast_to``, so they declare their size without allocating it.
"""
from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import numpy as np
from PIL import Image

ARRAY_DTYPES = [np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64,
                np.bool_, np.complex64, object, "U1", "datetime64[s]"]


def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Random pixel values of ``dtype`` (noise, blank, all ink, NaN/inf, extremes)."""
    kind = rng.integers(6)
    size = int(np.prod(shape))
    if dtype is object:
        pool = [None, "7", 1.5, (), 3]
        values = np.empty(size, dtype=object)
        for k in range(size):
            values[k] = pool[int(rng.integers(len(pool)))]
        return values.reshape(shape)
    if dtype == "U1":
        return rng.choice(list("0123456789 x"), size=shape)
    if dtype == "datetime64[s]":
        return rng.integers(0, 10**9, size=shape).astype("datetime64[s]")
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) < [0.0, 1.0, 0.5, 0.05, 0.95, 0.2][kind]
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.random(shape) + 1j * rng.random(shape)).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        with np.errstate(over="ignore"):  # float16 overflows to inf, which is wanted
            values = [np.zeros(shape), np.ones(shape), rng.random(shape), rng.random(shape) * 255,
                      rng.normal(0, 1e6, shape), rng.random(shape)][kind].astype(dtype)
        if rng.random() < 0.4 and size:
            flat = values.reshape(-1)
            flat[rng.integers(size, size=max(1, size // 50))] = rng.choice([np.nan, np.inf, -np.inf])
        return values
    info = np.iinfo(dtype)
    low, high = [(0, 1), (info.max, info.max), (info.min, info.max), (0, 256), (info.min, 0), (0, 2)][kind]
    low, high = max(low, int(info.min)), min(high, int(info.max))
    return rng.integers(low, high, size=shape, endpoint=True, dtype=dtype)


def _shape(rng: np.random.Generator) -> tuple[int, ...]:
    side = lambda: int(rng.choice([0, 1, 2, 7, 8, 9, 28, 31, 64, 95, 96, 97, 150, 301]))  # noqa: E731
    ndim = int(rng.choice([0, 1, 2, 2, 3, 3, 3, 4, 5]))
    if ndim == 3:
        return side(), side(), int(rng.choice([0, 1, 2, 3, 4, 5, 7]))
    if ndim > 3:  # keep extra dimensions cheap: the point is the shape, not the size
        return tuple(int(rng.choice([0, 1, 2, 3, 9, 30])) for _ in range(ndim))
    return tuple(side() for _ in range(ndim))


def _drawing(rng: np.random.Generator) -> np.ndarray:
    """Scribbles, noise, lines and blobs on a canvas-sized RGBA or grey image."""
    import cv2

    height, width = int(rng.integers(40, 400)), int(rng.integers(40, 900))
    grey = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(0, 30))):
        points = rng.integers(0, [width, height], size=(int(rng.integers(2, 8)), 2)).astype(np.int32)
        cv2.polylines(grey, [points], False, 255, int(rng.integers(1, 40)))
    if rng.random() < 0.3:
        grey = np.maximum(grey, (rng.random(grey.shape) < rng.random() * 0.3).astype(np.uint8) * 255)
    if rng.random() < 0.5:
        rgba = np.zeros((height, width, 4), np.uint8)
        rgba[..., :3], rgba[..., 3] = 255, grey
        return rgba
    return 255 - grey if rng.random() < 0.5 else grey


def arrays(seed: int, n: int) -> Iterator[tuple[str, object]]:
    """``n`` arrays (and a few non-arrays) for ``Recognizer.recognize``."""
    rng = np.random.default_rng(seed)
    fixed: list[tuple[str, object]] = [
        ("huge 100000x100000 uint8", np.broadcast_to(np.uint8(255), (100_000, 100_000))),
        ("huge 2^31x1 float", np.broadcast_to(np.float32(0.5), (2**31, 1))),
        ("huge 1x2^40 RGBA", np.broadcast_to(np.zeros(4, np.uint8), (1, 2**40, 4))),
        ("huge 60000x60000x3", np.broadcast_to(np.zeros(3, np.uint8), (60_000, 60_000, 3))),
        ("all ink 300x900", np.full((300, 900), 255, np.uint8)),
        ("all ink on white 300x900", np.zeros((300, 900), np.uint8)),
        ("blank RGBA", np.zeros((300, 900, 4), np.uint8)),
        ("stride-0 view 300x900", np.broadcast_to(np.arange(900, dtype=np.uint8) % 2 * 255, (300, 900))),
        ("reversed strides", np.ascontiguousarray(_drawing(np.random.default_rng(1)))[::-1, ::-2]),
        ("fortran order", np.asfortranarray(_drawing(np.random.default_rng(2)))),
        ("read-only", _read_only(_drawing(np.random.default_rng(3)))),
        ("None", None), ("a string", "not an image"), ("a list of lists", [[0, 255] * 10] * 10),
        ("ragged list", [[1, 2], [3]]), ("a dict", {"image": 1}), ("bytes", b"\x89PNG"),
        ("0-d array", np.array(5)), ("masked array", np.ma.masked_array(np.zeros((50, 50)), mask=True)),
    ]
    yield from fixed
    for i in range(n - len(fixed)):
        choice = rng.random()
        if choice < 0.35:
            image = _drawing(rng)
            yield f"drawing {image.shape} {image.dtype}", image
        else:
            dtype = ARRAY_DTYPES[int(rng.integers(len(ARRAY_DTYPES)))]
            shape = _shape(rng)
            image = _values(rng, shape, dtype)
            yield f"{np.dtype(dtype).name} {shape}", image


def _read_only(image: np.ndarray) -> np.ndarray:
    image.setflags(write=False)
    return image


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------
def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def sample_image(rng: np.random.Generator, mode: str = "L", size: tuple[int, int] | None = None) -> Image.Image:
    width, height = size or (int(rng.integers(1, 200)), int(rng.integers(1, 200)))
    grey = Image.fromarray((rng.random((height, width)) < 0.1).astype(np.uint8) * 255)
    return grey.convert(mode)


def png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` (with a valid CRC) over a tiny image's data."""
    data = encode(Image.new("L", (4, 4), 255), "PNG")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return data[:8] + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def jpeg_with_size(width: int, height: int) -> bytes:
    """A JPEG whose frame header declares ``width`` x ``height`` (at most 65535 each)."""
    data = bytearray(encode(Image.new("L", (16, 16), 255), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def exif_rotated_jpeg(orientation: int, size: tuple[int, int] = (60, 30)) -> tuple[bytes, np.ndarray]:
    """A JPEG with EXIF ``orientation`` and the upright pixels it should decode to (grey)."""
    width, height = size
    array = np.zeros((height, width), np.uint8)
    array[: height // 3, : width // 4] = 255  # a bright block in the top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(array), "JPEG", exif=exif.tobytes(), quality=95)
    return data, upright(array, orientation)


def upright(array: np.ndarray, orientation: int) -> np.ndarray:
    """What a viewer shows for stored pixels ``array`` with EXIF ``orientation`` (numpy only)."""
    return {2: np.fliplr, 3: lambda a: np.rot90(a, 2), 4: np.flipud, 5: np.transpose,
            6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 2).T,
            8: lambda a: np.rot90(a, 1)}.get(orientation, lambda a: a)(array)


def files(seed: int, n: int) -> Iterator[tuple[str, bytes]]:
    """``n`` byte strings for ``decode_image``: valid, damaged, foreign and hostile files."""
    rng = np.random.default_rng(seed)
    fixed = [
        ("empty", b""),
        ("PNG 100000x100000 declared", png_with_size(100_000, 100_000)),
        ("PNG 2^31-1 x 1 declared", png_with_size(2**31 - 1, 1)),
        ("PNG 0x0 declared", png_with_size(0, 0)),
        ("PNG 8000x8000 declared", png_with_size(8000, 8000)),
        ("PNG 7000x7000 declared over 4x4 of data", png_with_size(7000, 7000)),
        ("JPEG 65535x65535 declared", jpeg_with_size(65535, 65535)),
        ("JPEG 9000x6000 declared", jpeg_with_size(9000, 6000)),
        ("PNG signature only", b"\x89PNG\r\n\x1a\n"),
        ("JPEG markers only", b"\xff\xd8\xff\xd9"),
        ("text", b"hello, this is not an image\n" * 10),
        ("SVG", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
        ("16-bit PNG", encode(Image.fromarray(rng.integers(0, 65535, (40, 40), dtype=np.uint16)), "PNG")),
        ("float TIFF", encode(Image.fromarray(rng.random((40, 40)).astype(np.float32)), "TIFF")),
        ("int32 TIFF", encode(Image.fromarray(rng.integers(-5, 5, (40, 40)).astype(np.int32)), "TIFF")),
        ("1-bit PNG", encode(sample_image(rng, "1"), "PNG")),
        ("CMYK JPEG", encode(sample_image(rng, "CMYK"), "JPEG")),
        ("LA PNG", encode(sample_image(rng, "LA"), "PNG")),
        ("P PNG with transparency", encode(sample_image(rng, "P"), "PNG", transparency=0)),
        ("animated GIF", encode(sample_image(rng, "P", (30, 30)), "GIF", save_all=True,
                                append_images=[sample_image(rng, "P", (30, 30))])),
        ("BMP", encode(sample_image(rng, "RGB"), "BMP")),
        ("WebP", encode(sample_image(rng, "RGB"), "WEBP")),
        ("ICO", encode(sample_image(rng, "RGBA", (32, 32)), "ICO")),
        ("1x1 PNG", encode(Image.new("L", (1, 1)), "PNG")),
    ]
    yield from fixed
    formats = [("PNG", "L"), ("PNG", "RGB"), ("PNG", "RGBA"), ("JPEG", "L"), ("JPEG", "RGB"), ("GIF", "P"),
               ("BMP", "RGB"), ("TIFF", "RGB")]
    for i in range(n - len(fixed)):
        fmt, mode = formats[int(rng.integers(len(formats)))]
        valid = encode(sample_image(rng, mode), fmt)
        how = rng.random()
        if how < 0.2:
            yield "random bytes", rng.bytes(int(rng.integers(1, 3000)))
        elif how < 0.45:
            cut = int(rng.integers(1, len(valid)))
            yield f"{fmt} truncated at {cut}/{len(valid)}", valid[:cut]
        elif how < 0.7:
            data = bytearray(valid)
            for _ in range(int(rng.integers(1, 20))):
                data[int(rng.integers(len(data)))] = int(rng.integers(256))
            yield f"{fmt} with flipped bytes", bytes(data)
        elif how < 0.8:
            yield f"{fmt} {mode} valid", valid
        elif how < 0.9:
            orientation = int(rng.integers(0, 10))
            data, _ = exif_rotated_jpeg(orientation, (int(rng.integers(8, 120)), int(rng.integers(8, 120))))
            yield f"JPEG EXIF orientation {orientation}", data
        else:
            yield f"{fmt} with junk appended", valid + rng.bytes(int(rng.integers(1, 500)))
