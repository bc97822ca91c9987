"""Example images shipped with the app, for the Pipeline page.

Each example is a PNG in this folder, listed in ``gallery.json`` with a
title, a sentence on what it shows, and the number that was drawn. The
images were made once by ``python -m mdr.app.gallery.make_gallery`` from MNIST
*test* digits re-stroked like canvas drawings.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

GALLERY_DIR = Path(__file__).resolve().parent
INDEX = GALLERY_DIR / "gallery.json"


@dataclass(frozen=True)
class GalleryItem:
    name: str
    """Short identifier, also the PNG's file stem."""
    title: str
    description: str
    number: str
    """The digits that were drawn; lines joined by '\\n'."""
    file: str

    @property
    def path(self) -> Path:
        return GALLERY_DIR / self.file


@lru_cache(maxsize=1)
def load_gallery() -> tuple[GalleryItem, ...]:
    """The examples, in the order of ``gallery.json``."""
    entries = json.loads(INDEX.read_text(encoding="utf-8"))["examples"]
    return tuple(GalleryItem(e["name"], e["title"], e["description"], e["number"], e["file"])
                 for e in entries)


def gallery_item(name: str) -> GalleryItem:
    for item in load_gallery():
        if item.name == name:
            return item
    raise KeyError(f"No gallery example called '{name}'.")


def read_example(item: GalleryItem | str) -> np.ndarray:
    """The example's pixels, decoded exactly as an upload of the same file would be."""
    from mdr.recognition.imageio import read_image_file

    if isinstance(item, str):
        item = gallery_item(item)
    return read_image_file(item.path)
