"""The library's own error types: each message is written for a person."""
from __future__ import annotations


class MdrError(Exception):
    """Base class: ``str(error)`` is a complete sentence to show a user."""


class InvalidImageError(MdrError):
    """The input is not an image we can read (bytes, shape, dtype, values)."""


class ImageTooLargeError(InvalidImageError):
    """The image has more pixels than the configured limit."""


class NothingToReadError(MdrError):
    """The image is valid but holds no digits (empty, a dot, all ink).

    ``recognition`` carries the partial result (intermediates) when there is
    one, so that the Pipeline page can still show what was seen.
    """

    def __init__(self, message: str, recognition=None):
        super().__init__(message)
        self.recognition = recognition


class ModelError(MdrError):
    """A model file is missing, broken, or of the wrong shape."""


class DataError(MdrError):
    """MNIST files are missing or corrupt."""


class RunStopped(MdrError):
    """Stop was asked for after training, before the model was registered: nothing was written."""

    def __init__(self, message: str = "The run was stopped before its model was registered; nothing was written "
                                      "and the active model keeps serving."):
        super().__init__(message)


def stop_point(should_stop) -> None:
    """Raise :class:`RunStopped` when ``should_stop()`` says so (None: never)."""
    if should_stop is not None and should_stop():
        raise RunStopped()
