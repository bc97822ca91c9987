"""Shared test set-up: where MNIST is, and numbers made of real MNIST test digits."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Tests read MNIST from the shared copy beside the project unless told otherwise.
os.environ.setdefault("MDR_DATA_DIR", str(PROJECT_ROOT.parent / "shared" / "data" / "mnist"))

from number_images import compose_number, png_bytes, typical_digit  # noqa: E402

__all__ = ["compose_number", "png_bytes", "typical_digit"]


@pytest.fixture
def number_png():
    """``number_png("4071")`` -> PNG bytes of that number written with MNIST test digits."""
    return lambda text, **kw: png_bytes(compose_number(text, **kw))


@pytest.fixture(scope="module")
def client():
    """A TestClient of a new HTTP API app (the API tests)."""
    from serving import make_client

    return make_client()


@pytest.fixture(scope="module")
def drawn() -> bytes:
    """4071 drawn with strokes as a canvas would send it, PNG bytes (the API tests)."""
    from serving import drawn_4071

    return drawn_4071()
