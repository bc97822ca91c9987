"""Writing one section of a markdown results file without touching the others."""
from __future__ import annotations

import re
from pathlib import Path


def replace_section(path: Path, title: str, body: str) -> None:
    """Put ``## title`` with ``body`` into ``path``: in place of a section of that title, else at
    the end. Other sections (measured by other commands, at other times) are kept."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
