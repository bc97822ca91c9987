"""What the person drawing can do for a better reading, in words.

Two kinds of drawing read clearly worse than the rest, and both are in the drawer's hands: a brush
thick for the digits' size, and digits that touch where the strip reader was unsure where one ends.
The Recognize page, the HTTP answer and ``python -m mdr recognize --json`` give the same advice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

THICK_BRUSH = 0.3
"""Brush width over digit height from which a thinner brush or larger digits is suggested: pen
numbers of unseen writers drawn this thick read 84% exactly against 93.5% for the rest (pen-eval
notes, "A thick brush")."""
TOUCHING_DOUBT = 0.9
"""How sure the strip reader must be of every digit it cut from touching ones for no advice to be
given. Chosen on the validation writers, where touching numbers with a digit cut less surely read
46% exactly and the other touching ones 94%; the evaluation writers 57% and 94% (pen-eval notes,
"Where touching numbers lose digits")."""


@dataclass(frozen=True)
class Advice:
    kind: str
    """'thick brush' or 'touching'."""
    message: str
    """What to do, as a sentence for a person."""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


def _span(positions: tuple[int, ...]) -> str:
    return f"{positions[0] + 1}-{positions[-1] + 1}" if len(positions) > 1 else f"{positions[0] + 1}"


def advice_for(recognition) -> list[Advice]:
    """The advice a reading calls for (none for most): touching digits first, then the brush."""
    found = []
    doubtful = [(positions, sure) for positions, sure in recognition.touching_doubts() if sure < TOUCHING_DOUBT]
    if doubtful:
        least = min(sure for _, sure in doubtful)
        found.append(Advice("touching", f"Digits {', '.join(_span(p) for p, _ in doubtful)} touch, and the "
                                        f"reader was only {least:.0%} sure where one ends and the next begins. "
                                        "Touching digits are read less reliably: leave a little space between them."))
    if recognition.digits and recognition.brush_ratio >= THICK_BRUSH:
        found.append(Advice("thick brush", f"The brush is thick for digits this size (about "
                                           f"{recognition.brush_ratio:.0%} of their height): loops close up and a 7 "
                                           "can look like a 9. Write the digits larger or choose a thinner brush."))
    return found
