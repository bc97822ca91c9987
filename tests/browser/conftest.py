"""The app served by a real Streamlit process, driven by Playwright in Debian's Chromium."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bench.app_process import AppDidNotStart, running_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
]
DRAWN_CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.mdr-canvas'
# True when the canvas that shows the drawing holds no white stroke (only the black background)
CANVAS_IS_BLANK_JS = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] > 128) return false;
    return true;
}"""


def _missing(what: str) -> None:
    """In CI a missing tool is a failure; on a developer's machine the test is skipped."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI must install it: see .ci/run)")
    pytest.skip(what)


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("MDR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        _missing("Chromium is not installed (apt-get install chromium)")
    return path


@contextlib.contextmanager
def serve_app(env: dict[str, str] | None = None):
    """Run ``streamlit run Home.py`` on a free port (with ``env`` added to the environment); yield its URL."""
    try:
        with running_app(env) as url:
            yield url
    except AppDidNotStart as e:
        pytest.fail(str(e))


@contextlib.contextmanager
def serve_app_on_a_copy_of_models(folder: Path, env: dict[str, str] | None = None):
    """The app on a models folder of its own in ``folder`` holding the shipped model, active, so
    training and activation never touch the real one (``env`` added); yields (url, folder)."""
    shutil.copytree(PROJECT_ROOT / "models" / "mnist-cnn", folder / "mnist-cnn")
    (folder / "active.json").write_text('{"name": "mnist-cnn"}\n')
    with serve_app({"MDR_MODELS_DIR": str(folder), **(env or {})}) as url:
        yield url, folder


@pytest.fixture(scope="session")
def app_url():
    with serve_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser_context(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("The playwright package is not installed (pip install -r requirements-test.txt)")
    with tempfile.TemporaryDirectory(prefix="mdr-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000}, device_scale_factor=1,
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context, app_url):
    page = browser_context.new_page()
    try:
        yield page
    finally:
        page.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
