"""Make the Pipeline page's example images (run once; the PNGs are kept in the repo).

    python -m mdr.app.gallery.make_gallery [--data MNIST_FOLDER]

Every digit is an MNIST *test* digit re-stroked with a round brush at canvas
scale (see :mod:`mdr.data.synth`), so the examples look like numbers drawn with a
mouse. Each example is fixed by its seed: running this again gives the same
files.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from mdr.data import synth
from mdr.app.gallery import GALLERY_DIR, INDEX


@dataclass(frozen=True)
class Example:
    """One gallery picture: its rows of digits, and the seed and size they are drawn with."""

    name: str
    title: str
    description: str
    rows: tuple[str, ...]
    seed: int
    height: int = 120
    """Digit height in pixels."""
    brush: int = 12
    gap: float = 0.35
    """Space between digits, as a fraction of the digit height."""
    background: str = "light"  # light, dark, paper, transparent
    touching: bool = False
    two_strokes: tuple[int, ...] = ()
    """Positions (in reading order) of digits drawn in two separate strokes."""
    specks: int = 0
    sizes: tuple[float, ...] = field(default_factory=tuple)
    """Per-digit height factors (default 1.0 each)."""

    @property
    def number(self) -> str:
        return "\n".join(self.rows)


EXAMPLES: tuple[Example, ...] = (
    Example("clean", "Clean four-digit number",
            "Four well separated digits in black on white: every step has an easy job.",
            ("4071",), seed=11, height=130, brush=13),
    Example("touching", "Touching digits",
            "Three digits written so close that their ink runs together into one blob, "
            "which has to be cut apart.",
            ("386",), seed=7, height=130, brush=12, touching=True),
    Example("multi-stroke", "Digits drawn in two strokes",
            "A 4, a 5 and a 7 each drawn with the pen lifted once, so each digit is two marks "
            "that must be joined again.",
            ("457",), seed=3, height=140, brush=12, two_strokes=(0, 1, 2)),
    Example("two-rows", "Two rows",
            "A number written on two lines: the reading order goes left to right, "
            "then top to bottom.",
            ("36", "925"), seed=2, height=100, brush=11, gap=0.3),
    Example("thick-small", "Thick brush on small digits",
            "Small digits drawn with a very thick brush: the strokes are thinned to "
            "MNIST's pen width before the model reads them.",
            ("5208",), seed=10, height=70, brush=18, gap=0.45),
    Example("light-on-dark", "Light ink on a dark background",
            "White ink on black, like the drawing canvas: kept as it is.",
            ("619",), seed=13, height=130, brush=14, background="dark"),
    Example("dark-on-light", "Dark ink on light paper",
            "Grey-black ink on slightly uneven off-white paper, like a scan: "
            "inverted so the ink is bright.",
            ("8273",), seed=17, height=120, brush=10, background="paper"),
    Example("noisy", "Noisy image with specks",
            "Separate digits, one written small, with dots of dust around them that are dropped "
            "as specks. Raise the speck size and the small 1 goes too.",
            ("3914",), seed=19, height=120, brush=12, specks=14, sizes=(1.0, 1.0, 0.5, 1.0)),
    Example("transparent", "Transparent canvas export",
            "A PNG with an alpha channel and no background, as a canvas exports it: "
            "the ink is read from the alpha channel.",
            ("27",), seed=23, height=140, brush=14, background="transparent"),
)

MARGIN = 36


def _ink_box(coverage: np.ndarray) -> tuple[int, int, int, int]:
    """left, right, top, bottom (inclusive) of the ink of a patch."""
    cols = np.flatnonzero(coverage.max(axis=0) >= 128)
    rows = np.flatnonzero(coverage.max(axis=1) >= 128)
    return int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1])


def _two_strokes(label: int, height: float, brush: int, bank: synth.DigitBank,
                 rng: np.random.Generator) -> synth.DrawnDigit:
    """A ``label`` drawn with one pen lift: two marks with a visible gap."""
    for _ in range(40):
        digit = bank.pick(label, rng)
        scale = synth.path_height_scale(digit, height, brush)
        two_strokes = synth.split_path(digit, scale, brush, 8, rng)
        if two_strokes is None:
            continue
        drawn = synth.draw_digit(two_strokes, height, brush, scale=scale)
        parts, _ = cv2.connectedComponents((drawn.coverage >= 128).astype(np.uint8), connectivity=8)
        if parts - 1 == 2:
            return drawn
    raise RuntimeError(f"No MNIST test {label} could be drawn in two strokes.")


def _row(example: Example, labels: str, first: int, bank: synth.DigitBank,
         rng: np.random.Generator) -> np.ndarray:
    """One row of digits as an ink-coverage strip (255 = full ink)."""
    patches = []
    for offset, char in enumerate(labels):
        position = first + offset
        factor = example.sizes[position] if position < len(example.sizes) else 1.0
        height = example.height * factor
        if position in example.two_strokes:
            patches.append(_two_strokes(int(char), height, example.brush, bank, rng).coverage)
        else:
            patches.append(synth.draw_digit(bank.pick(int(char), rng), height, example.brush).coverage)
    strip_h = max(p.shape[0] for p in patches)
    strip = np.zeros((strip_h, sum(p.shape[1] for p in patches) + 4 * example.height), np.uint8)
    x = 0
    for index, patch in enumerate(patches):
        h, w = patch.shape
        y = (strip_h - h) // 2
        if index:
            left = _ink_box(patch)[0]
            x = right - left + 1 + int(example.gap * example.height)
            if example.touching:
                x = _touch(strip, patch, y, right - left + 1)
        region = strip[y:y + h, x:x + w]
        np.maximum(region, patch, out=region)
        right = x + _ink_box(patch)[1]
    cols = np.flatnonzero(strip.max(axis=0) > 0)
    return strip[:, cols[0]:cols[-1] + 1]


def _touch(strip: np.ndarray, patch: np.ndarray, y: int, x: int) -> int:
    """Move ``patch`` left from ``x`` until its ink overlaps the strip's by a few pixels."""
    h, w = patch.shape
    inked = patch >= 128
    for step in range(x + 1):
        here = x - step
        if np.any((strip[y:y + h, here:here + w] >= 128) & inked):
            return max(0, here - 3)
    return 0


def _specks(coverage: np.ndarray, count: int, brush: int, rng: np.random.Generator) -> None:
    distance = cv2.distanceTransform((coverage < 128).astype(np.uint8), cv2.DIST_L2, 3)
    h, w = coverage.shape
    placed = 0
    while placed < count:
        x, y = int(rng.integers(6, w - 6)), int(rng.integers(6, h - 6))
        radius = float(rng.uniform(1.5, 3.5))
        if distance[y, x] < 2 * brush:
            continue
        cv2.circle(coverage, (x * 16, y * 16), int(radius * 16), 255, -1, cv2.LINE_AA, shift=4)
        placed += 1


def render(example: Example, bank: synth.DigitBank) -> np.ndarray:
    """The example as an RGB (or RGBA for 'transparent') uint8 image."""
    rng = np.random.default_rng(example.seed)
    strips = []
    first = 0
    for labels in example.rows:
        strips.append(_row(example, labels, first, bank, rng))
        first += len(labels)
    row_gap = int(0.3 * example.height)
    width = max(s.shape[1] for s in strips) + 2 * MARGIN
    height = sum(s.shape[0] for s in strips) + row_gap * (len(strips) - 1) + 2 * MARGIN
    coverage = np.zeros((height, width), np.uint8)
    y = MARGIN
    for index, strip in enumerate(strips):
        x = MARGIN + (int(0.4 * example.height) if index else 0)
        h, w = strip.shape
        if x + w > width - MARGIN:
            x = width - MARGIN - w
        np.maximum(coverage[y:y + h, x:x + w], strip, out=coverage[y:y + h, x:x + w])
        y += h + row_gap
    if example.specks:
        _specks(coverage, example.specks, example.brush, rng)
    return _colour(coverage, example.background)


def _colour(coverage: np.ndarray, background: str) -> np.ndarray:
    ink = coverage.astype(np.float32) / 255.0
    if background == "dark":
        grey = coverage
    elif background == "light":
        grey = 255 - coverage
    elif background == "paper":
        h, w = coverage.shape
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        paper = 246 - 18 * (xs / w) - 8 * (ys / h)  # a little uneven, like a scan
        grey = np.clip(paper * (1 - ink) + 38 * ink, 0, 255).astype(np.uint8)
    elif background == "transparent":
        rgba = np.zeros(coverage.shape + (4,), np.uint8)
        rgba[..., :3] = (20, 40, 160)  # blue ink: the colour does not matter, alpha does
        rgba[..., 3] = coverage
        return rgba
    else:
        raise ValueError(f"Unknown background {background!r}")
    return np.repeat(grey[:, :, None], 3, axis=2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="MNIST folder (default: MDR_DATA_DIR or data/MNIST/raw)")
    args = parser.parse_args(argv)
    bank = synth.DigitBank.from_folder(args.data)
    entries = []
    for example in EXAMPLES:
        image = render(example, bank)
        file = f"{example.name}.png"
        Image.fromarray(image).save(GALLERY_DIR / file, optimize=True)
        entries.append({"name": example.name, "title": example.title,
                        "description": example.description, "number": example.number,
                        "file": file, "seed": example.seed})
        size = (GALLERY_DIR / file).stat().st_size
        print(f"{file:22s} {image.shape[1]}x{image.shape[0]}  {size / 1000:.1f} KB  {example.number!r}")
    INDEX.write_text(json.dumps({
        "about": "Example images for the Pipeline page, made by `python -m mdr.app.gallery.make_gallery` "
                 "from MNIST test digits.",
        "examples": entries,
    }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
