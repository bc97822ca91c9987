"""The app's colours, shared by pictures and charts."""
from __future__ import annotations

ACCENT = "#e4572e"
"""The primary colour: chosen digits, uncertain readings, the weakest class."""
MUTED = "#9aa5b1"
"""Everything else in a chart."""
GOOD = "#2ecc71"
"""A confident reading; a mark kept or joined."""
DARK = "#1f2933"
"""Lines drawn over a chart (a threshold)."""
DROPPED = "#e62828"
"""A mark thrown away (a speck)."""
CUT = "#2878f0"
"""A cut tried but not made; the shift of a digit's centre of mass."""
REJECT = "#5b6abf"
"""The "not a single digit" class of a model that has one."""
LINE_COLOURS = (GOOD, "#3498db", "#f1c40f", "#9b59b6", "#e67e22")
"""One colour per line of digits, in turn."""


def rgb(colour: str) -> tuple[int, int, int]:
    """A hex colour as (r, g, b): the pictures are drawn with OpenCV, which takes tuples."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
