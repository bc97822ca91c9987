"""Re-running some sections of the bench without losing the others' figures.

``python -m bench --sections pen --update`` measures only the pen section and
puts its table into the existing results file in place of the old one (or
in its numbered place, when the file has none yet); the other sections and
the file's header stay as they were, with a line saying what was re-run.
"""
from __future__ import annotations

import re

HEADING = re.compile(r"^## (\d+)\. ", re.M)
NOTE_START = "Re-run on "
"""How the line that says which sections were re-run begins (one such line is kept)."""
TOTAL = re.compile(r"\n*^(Total: [^\n]*)\n*\Z", re.M)


def split_sections(text: str) -> tuple[str, dict[int, str], str]:
    """The text before the first section, each section's block by its number,
    and the file's closing ``Total:`` line ('' when there is none)."""
    found = TOTAL.search(text)
    total = found.group(1) if found else ""
    text = TOTAL.sub("\n", text)
    starts = [m.start() for m in HEADING.finditer(text)]
    head = text[:starts[0]] if starts else text
    blocks = {}
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        block = text[begin:end].rstrip("\n") + "\n"
        blocks[int(HEADING.match(block).group(1))] = block
    return head, blocks, total


def merge(old: str, new_blocks: dict[int, str], note: str) -> str:
    """``old`` with ``new_blocks`` in place of (or beside) its sections, in number order."""
    head, blocks, total = split_sections(old)
    blocks.update({number: block.rstrip("\n") + "\n" for number, block in new_blocks.items()})
    head = "\n".join(line for line in head.rstrip("\n").split("\n") if not line.startswith(NOTE_START))
    head = head.rstrip("\n") + "\n\n" + note + "\n\n"
    body = "\n".join(blocks[n] for n in sorted(blocks))
    return head + body + (f"\n{total} (the run named above)\n" if total and "(the run" not in total
                          else f"\n{total}\n" if total else "")
