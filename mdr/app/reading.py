"""Reading an image inside the app: the recognizer (loaded once per model file) and the last result.

Results are kept in ``st.session_state`` under these keys, so any page can show the last thing
that was read:

``last_image``        the numpy image given to the recognizer (canvas RGBA or decoded upload)
``last_source``       where it came from, in words ("the drawing", "upload: number.png")
``last_recognition``  the :class:`mdr.recognition.results.Recognition`, or ``None``; after
                      "nothing to read" it holds the partial result, if any
``last_error``        the message of the last failed attempt, or ``None`` after a success
``last_strokes``      the canvas's strokes (points and brush width) when the image is a drawing
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import streamlit as st

from mdr.errors import MdrError, ModelError, NothingToReadError
from mdr.models import registry
from mdr.recognition.config import RecognizerConfig

LAST_IMAGE = "last_image"
LAST_SOURCE = "last_source"
LAST_RECOGNITION = "last_recognition"
LAST_ERROR = "last_error"
LAST_UPLOAD_ID = "last_upload_id"
LAST_STROKES = "last_strokes"

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _start_up(models_folder: str) -> list[str]:
    """Once per process and models folder: repair a broken active.json, remove what killed
    training runs left behind. Returns what was done, in words (also logged)."""
    notes = []
    repaired = registry.repair()
    if repaired:
        notes.append(repaired)
    removed = registry.clean_leftovers()
    if removed:
        notes.append(f"Removed {len(removed)} leftover temporary item(s) of interrupted runs from {models_folder}.")
    for note in notes:
        log.warning(note)
    return notes


def start_up() -> list[str]:
    from mdr.paths import models_dir

    return _start_up(str(models_dir()))


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _load_recognizer(model_name: str, precision: str, file_stamp: tuple):
    """One recognizer per (model, precision, version of its files): the arguments are the cache key."""
    from mdr.recognition.recognizer import Recognizer  # ONNX Runtime is imported here, not at page load

    # model=None: the recognizer reads the active model itself and falls back to the
    # shipped one (with a warning) when the active one is broken.
    return Recognizer(model=None, config=RecognizerConfig(precision=precision))


def get_recognizer(precision: str = "int8"):
    """The active model's recognizer; a newly activated or retrained model is picked up."""
    start_up()
    name = registry.active_model_name()
    return _load_recognizer(name, precision, registry.files_stamp(name))


def recognize_into_state(load_image: Callable[[], np.ndarray], source: str, strokes: list | None = None) -> None:
    """Decode/collect the image, read it, and store image, result or error in session state.

    ``strokes``: what the canvas reported of a drawing, kept with a correction of it."""
    state = st.session_state
    state[LAST_SOURCE] = source
    state[LAST_STROKES] = strokes
    state[LAST_RECOGNITION] = None
    state[LAST_ERROR] = None
    state[LAST_IMAGE] = None
    try:
        image = load_image()
        state[LAST_IMAGE] = image
        recognizer = get_recognizer()
        if getattr(recognizer, "warning", None):
            st.warning(recognizer.warning, icon=":material/warning:")
        with st.spinner("Reading the digits…"):
            state[LAST_RECOGNITION] = recognizer.recognize(image)
    except NothingToReadError as e:
        state[LAST_RECOGNITION] = e.recognition
        state[LAST_ERROR] = e
    except MdrError as e:
        state[LAST_ERROR] = e
    except Exception as e:  # never a traceback on the page
        log.exception("Unexpected failure while recognizing %s", source)
        state[LAST_ERROR] = ModelError(
            f"Something unexpected went wrong while reading the image ({type(e).__name__}: {e}). "
            "Try again, or try another image."
        )


def clear_results() -> None:
    for key in (LAST_IMAGE, LAST_SOURCE, LAST_RECOGNITION, LAST_ERROR, LAST_STROKES):
        st.session_state.pop(key, None)


def show_error(error: BaseException) -> None:
    """An MdrError in words: 'nothing to read' is a hint, everything else an error."""
    if isinstance(error, NothingToReadError):
        st.warning(str(error), icon=":material/search_off:")
    else:
        st.error(str(error), icon=":material/warning:")
