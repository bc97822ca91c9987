"""The active model's recognizer for one server process, swapped when the model changes.

The int8 session is loaded when the process starts. Each request looks at the registry's
``active.json`` and the model files' stamps (a small read and a few ``stat`` calls, as the
dashboard does) and loads the new model when either changed: an activation or a re-quantized
file is picked up without a restart. Requests already reading keep the recognizer they had.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from mdr.errors import MdrError
from mdr.models import registry
from mdr.recognition.config import RecognizerConfig
from mdr.recognition.imageio import decode_image
from mdr.recognition.recognizer import Recognizer
from mdr.recognition.results import Recognition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    recognizer: Recognizer
    key: tuple
    """(active model name, files stamp) this recognizer was loaded for."""


class Engine:
    """Decodes and reads images with the active model; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.loads = 0
        self.started = time.time()
        self.reload_problem: str | None = None
        """Why the latest change of model could not be loaded (the previous one keeps serving)."""
        self._loaded = self._load(self._current_key())

    @staticmethod
    def _current_key() -> tuple:
        name = registry.active_model_name()
        return name, registry.files_stamp(name)

    def _load(self, key: tuple) -> Loaded:
        # model=None: the recognizer reads active.json itself and falls back to the shipped
        # model, with a warning, when the active one is broken.
        recognizer = Recognizer(model=None)
        self.loads += 1
        if recognizer.warning:
            log.warning(recognizer.warning)
        log.info("Serving model '%s'.", recognizer.model_name)
        return Loaded(recognizer, key)

    def current(self) -> Recognizer:
        """The recognizer for the model active now, loading it if it changed since the last call."""
        key = self._current_key()
        loaded = self._loaded
        if key == loaded.key:
            return loaded.recognizer
        with self._lock:
            if self._loaded.key != key:
                try:
                    self._loaded = self._load(key)
                    self.reload_problem = None
                except MdrError as error:
                    # Keep serving the previous model; try again on a later request only when
                    # the files change again.
                    self.reload_problem = f"The new active model could not be loaded ({error}); " \
                                          f"'{self._loaded.recognizer.model_name}' keeps serving."
                    log.warning(self.reload_problem)
                    self._loaded = Loaded(self._loaded.recognizer, key)
            return self._loaded.recognizer

    @property
    def serving(self) -> Recognizer:
        """The recognizer loaded now, without checking for a change."""
        return self._loaded.recognizer

    def warning(self) -> str | None:
        return self.reload_problem or self.serving.warning

    def read(self, data: bytes, config: RecognizerConfig) -> tuple[Recognition, float]:
        """Decode ``data`` and read it: the recognition and the milliseconds both took."""
        start = time.perf_counter()
        recognizer = self.current()
        with self._lock:
            # Loads the fp32 session once, the first time a request asks for it.
            recognizer.classifier(config.precision)
        image: np.ndarray = decode_image(data, config)
        recognition = recognizer.recognize(image, config)
        return recognition, (time.perf_counter() - start) * 1000.0
