"""The app's colours, shared by pictures and charts."""

ACCENT = "#e4572e"
"""The primary colour: chosen digits, uncertain readings, the weakest class."""
MUTED = "#9aa5b1"
"""Everything else in a chart."""
GOOD = "#2ecc71"
"""A confident reading."""
