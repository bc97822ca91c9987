"""The service's settings: where it listens and its limits, in one dataclass.

Every field can be set by an environment variable ``MDR_SERVE_<FIELD>`` (upper case), and the
``serve`` command's flags write those variables, so each uvicorn worker process builds the same
settings from its environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Mapping

from mdr.recognition.config import DEFAULT_CONFIG

ENV_PREFIX = "MDR_SERVE_"


class SettingsError(ValueError):
    """A setting's value cannot be used; the message says which and why."""


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    """Address to listen on; 0.0.0.0 makes the service reachable from other machines."""
    port: int = 8000
    workers: int = 1
    """uvicorn worker processes; each loads its own ONNX session."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Largest request body accepted (Content-Length and the bytes actually read), as the app's
    upload limit. A base64 JSON body is a third larger than the image it carries."""
    max_pixels: int = DEFAULT_CONFIG.max_input_pixels
    """Images with more pixels than this are refused from their header, before decoding."""
    threads: int = 1
    """Recognitions run at once per worker (0: one per CPU core); more requests wait their turn.
    Much of a recognition holds Python's GIL, so a second thread in the same worker makes each
    request slower without answering more of them: use more workers for more cores."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"The port must be between 0 and 65535, not {self.port}.")
        for name in ("workers", "max_body_bytes", "max_pixels"):
            if getattr(self, name) < 1:
                raise SettingsError(f"The setting {name} must be at least 1, not {getattr(self, name)}.")
        if self.threads < 0:
            raise SettingsError(f"The setting threads must be 0 (one per core) or more, not {self.threads}.")

    @property
    def recognition_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ServeSettings":
        """Defaults, overridden by every ``MDR_SERVE_*`` variable that is set."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is None or raw == "":
                continue
            if field.type in ("int", int):
                try:
                    values[field.name] = int(raw)
                except ValueError:
                    raise SettingsError(
                        f"{ENV_PREFIX}{field.name.upper()} must be a whole number, not '{raw}'.") from None
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The variables that make :meth:`from_env` give these settings (for worker processes)."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}

    def with_changes(self, **changes: object) -> "ServeSettings":
        """A copy with the given fields changed; ``None`` values are left as they are."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
