"""Start and stop a real ``python -m mdr serve`` process on a free loopback port.

Tests and the load benchmark use it; every wait is bounded, and the process is always ended.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


class ServerProcess:
    def __init__(self, process: subprocess.Popen, port: int, log_path: Path):
        self.process = process
        self.port = port
        self.log_path = log_path
        self.url = f"http://{LOOPBACK}:{port}"
        self.killed = False
        """True when the process did not end on SIGTERM and was killed."""

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def wait_healthy(self, timeout: float) -> dict:
        """The first /health answer; RuntimeError with the server's log if none comes in ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server exited with {self.process.returncode}:\n{self.log()}")
            try:
                return get_json(self.url + "/health", timeout=2.0)
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                time.sleep(0.1)
        raise RuntimeError(f"The server did not answer /health within {timeout:.0f} s:\n{self.log()}")

    @property
    def stopped_cleanly(self) -> bool:
        """Ended by itself or on SIGTERM (uvicorn shuts down, then re-raises the signal), not killed."""
        return not self.killed and self.process.returncode in (0, -signal.SIGTERM)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after ``timeout`` s; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.killed = True
                self.process.wait(timeout)
        return int(self.process.returncode)


@contextmanager
def running_server(log_path: Path, *args: str, env: dict[str, str] | None = None,
                   start_timeout: float = 60.0) -> Iterator[ServerProcess]:
    """``python -m mdr serve --host 127.0.0.1 --port <free> ARGS`` until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "mdr", "serve", "--host", LOOPBACK, "--port", str(port),
               "--log-level", "warning", *args]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    server = ServerProcess(process, port, log_path)
    try:
        server.wait_healthy(start_timeout)
        yield server
    finally:
        server.stop()
