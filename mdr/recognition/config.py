"""Every knob of the recognition pipeline, in one place.

Pages, the CLI and tests build a :class:`RecognizerConfig` (or change one with
``dataclasses.replace``) instead of keeping their own copies of constants.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

Binarization = Literal["otsu", "fixed", "adaptive"]
Precision = Literal["int8", "fp32"]


@dataclass(frozen=True)
class RecognizerConfig:
    # --- input limits -----------------------------------------------------
    max_input_pixels: int = 50_000_000
    """Images with more pixels than this are refused (decompression bombs)."""
    work_max_side: int = 1200
    """Larger images are downscaled so their longer side is this long."""
    work_digit_height: int = 128
    """Drawings whose tallest mark is taller than this many pixels are
    downscaled until it is this tall (never below ``WORK_MIN_SIDE`` on the
    longer side) before segmentation: the steps after it cost in proportion
    to the pixels, and a digit needs no more than this. 0 switches it off."""

    # --- binarization -----------------------------------------------------
    binarization: Binarization = "otsu"
    fixed_threshold: int = 128
    """Threshold on the 0..255 ink image when ``binarization == 'fixed'``."""
    min_contrast: int = 40
    """Below this grey-level spread the image is considered blank."""

    # --- segmentation -----------------------------------------------------
    min_speck_size: float = 0.2
    """A component whose longer side is below this fraction of the typical
    digit height (or below 1.5 stroke widths) is a speck and is dropped."""
    merge_overlap: float = 0.5
    """Horizontal overlap (fraction of the narrower part) above which a
    partial stroke joins the digit it overlaps."""
    split_enabled: bool = True
    split_sensitivity: float = 1.0
    """Higher splits more eagerly: a part is a split candidate when its
    width/height exceeds ``1.15 / split_sensitivity``."""
    reject_cut_cost: float = 1.0
    """With a model that has a "not a single digit" class, the log-score each cut
    costs (a 10-class model always pays ``split_scoring.CUT_COST``): its pieces no
    longer score high just for being half a digit, so a cut could need less proof. Lower
    values read more touching numbers of the pen training writers but split more spaced
    ones (models/mnist-pen-reject/pen-eval.md), so the default stays at the 10-class cost."""
    reject_split_level: float = 0.5
    """With such a model, a part it calls "not a single digit" with at least this
    probability is always searched for cuts, even when narrower than a wide part."""
    reject_split_aspect: float = 0.6
    """...as long as it is wider than this times its height."""
    use_reject: bool = True
    """False reads an 11-class model as a 10-class one (the digits renormalized): for comparison."""
    use_strip_reader: bool = True
    """With a model that has a strip reader, wide and doubtful parts are read as strings by it
    (how many digits, and which) instead of by the cut search; False searches cuts as without one."""
    strip_agreement: float = 3.0
    """Weight of the strip reader's digit probabilities against the digit classifier's when a cut
    piece is read (the product of the two, the strip reader's raised to this power; 0 ignores it).
    A piece cut from touching digits often keeps a stub of its neighbour, which the classifier
    never saw alone; the strip reader read it in context. Chosen on the pen training writers'
    touching numbers (1: 83%, 3: 86.5%, 10: 85% exact), never on the evaluation writers."""
    strip_second_opinion: float = 1.0
    """With a strip reader: every other digit is also read by it alone, and when it reads one digit
    its probabilities (raised to this power) are multiplied into the classifier's: two different
    networks err on different digits. 0: off. Fixed at 1 (a plain product) before it was measured;
    on the pen evaluation writers it took spaced numbers from 88% to 95% (200 numbers, seed 0)."""
    second_opinion_min_aspect: float = 0.0
    """Digits narrower than this times their height get no second opinion. 0.6 (asking only digits
    as wide as the reader's training singles) read 96.2% of 1,000 spaced numbers of the pen training
    writers, 0 read 97.4%: the reader reads a lone 1 or 7 well enough to help."""
    merge_by_reading: float = 0.5
    """Two nearest neighbours geometry keeps apart, close together on a line and one of them doubtful
    (an open 4 drawn as an L and a bar that never met), are joined when the classifier reads them
    together as one digit at least this sure. Needs the 'not a single digit' class. 0: off."""
    merge_doubt: float = 0.5
    """Neighbours are asked about only when the classifier reads one of them below this confidence."""
    max_ink_fraction: float = 0.6
    """An image whose ink covers more than this is refused as 'all ink'."""

    # --- normalization ----------------------------------------------------
    normalize_stroke: bool = True
    target_stroke: float = 2.6
    """Stroke width, in pixels of the 28x28 input, that MNIST digits have."""

    # --- classification ---------------------------------------------------
    precision: Precision = "int8"
    low_confidence: float = 0.75
    """Digits below this softmax confidence are flagged for the reader."""

    @classmethod
    def knob_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


DEFAULT_CONFIG = RecognizerConfig()
