"""The one exception the routes raise for a request they refuse: a status, a code and a sentence."""
from __future__ import annotations

from mdr.errors import ImageTooLargeError, InvalidImageError, MdrError, ModelError, NothingToReadError


class ApiError(Exception):
    """A refused request: answered as ``{"error": message, "code": code}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def from_mdr_error(error: MdrError) -> ApiError:
    """The library's errors already speak in sentences; only the status and code are chosen here."""
    if isinstance(error, ImageTooLargeError):
        return ApiError(413, "image_too_large", str(error))
    if isinstance(error, InvalidImageError):
        return ApiError(400, "invalid_image", str(error))
    if isinstance(error, NothingToReadError):
        return ApiError(422, "nothing_to_read", str(error))
    if isinstance(error, ModelError):
        return ApiError(503, "model_unavailable", str(error))
    return ApiError(500, "internal_error", str(error))
