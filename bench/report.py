"""Writing sections of a markdown results file without losing the ones measured at other times."""
from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"^## (.+)$", re.M)


def split_sections(text: str) -> tuple[str, dict[str, str]]:
    """The text before the first ``## `` heading, and each section's body by its title, in order."""
    heads = list(_SECTION.finditer(text))
    header = text[: heads[0].start()] if heads else text
    sections = {}
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        sections[head.group(1).strip()] = text[head.end():end].strip()
    return header, sections


def write_sections(path: Path, sections: dict[str, str], header: str | None = None) -> None:
    """Put each ``## title`` with its body into ``path`` (in place of a section of the same title,
    else at the end), keeping every other section; ``header`` replaces the text above them. The
    file is written under a temporary name and renamed, so a reader never sees half of it."""
    path = Path(path)
    old_header, merged = split_sections(path.read_text()) if path.exists() else ("# Benchmarks\n", {})
    merged.update({title: body.strip() for title, body in sections.items()})
    text = (header if header is not None else old_header).rstrip() + "\n\n"
    text += "\n\n".join(f"## {title}\n\n{body}" for title, body in merged.items()) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def replace_section(path: Path, title: str, body: str) -> None:
    write_sections(path, {title: body})
