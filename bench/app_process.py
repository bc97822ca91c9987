"""The app served by its own ``streamlit run Home.py`` process on a free loopback port."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from mdr.serve.process import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class AppDidNotStart(RuntimeError):
    """The app process exited or did not answer in time; the message holds the end of its log."""


@contextlib.contextmanager
def running_app(env: dict[str, str] | None = None, start_timeout_s: float = 90) -> Iterator[str]:
    """Run the app (with ``env`` added to the environment) until the block ends; yields its URL."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="mdr-streamlit-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if process.poll() is not None:
                raise AppDidNotStart(f"Streamlit exited with {process.returncode}:\n"
                                     f"{Path(log.name).read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AppDidNotStart(f"Streamlit did not start in {start_timeout_s:.0f} s:\n"
                                     f"{Path(log.name).read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()
        os.unlink(log.name)
