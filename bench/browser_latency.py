"""``python -m bench.browser_latency``: how long a person waits for the number, in Chromium.

One browser session on the Recognize page draws numbers of 2-6 digits with real mouse strokes:

- *read as I draw* (the default): from the last pointer-up (the mouse button released) until
  the right number is on screen;
- *Recognize button* (toggle off): from the click until the right number is on screen.

The times are taken inside the page (``performance.now()`` at the pointer-up or click, and when a
MutationObserver sees the number's text change), so the driver's own delays do not count. Both
modes draw the same numbers in the same run; medians and p95 are reported, with their ratio.
The section replaces its namesake in ``bench/results.md`` (``--out``).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.app_process import PROJECT_ROOT, running_app
from bench.report import replace_section

sys.path.insert(0, str(PROJECT_ROOT / "tests" / "browser"))
from handwriting import number_strokes  # noqa: E402  (the browser tests' mouse handwriting)

TITLE = "8. Browser: from the last stroke to the number on screen"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.mdr-canvas'
DRAWN = '[data-testid="stBidiComponentIsolated"] canvas.mdr-canvas'
SERVER_MS = re.compile(r"in (\d+) ms")

WATCH_JS = """() => {
    if (window.__mdr) return;
    const watch = window.__mdr = {ups: [], clicks: [], changes: [], last: ""};
    document.addEventListener("pointerup", () => watch.ups.push(performance.now()), true);
    document.addEventListener("click", e => {
        if (e.target.closest("button")) watch.clicks.push(performance.now());
    }, true);
    new MutationObserver(() => {
        const number = document.querySelector(".mdr-number");
        const text = number ? number.innerText.trim() : "";
        if (text !== watch.last) { watch.last = text; watch.changes.push([performance.now(), text]); }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
BLANK_JS = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] > 128) return false;
    return true;
}"""


@dataclass
class Reading:
    truth: str
    read: str
    latency_ms: float | None
    """From the last pointer-up (or the click) to the final number's appearance."""
    server_ms: float | None


def numbers_to_draw(count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(str(d) for d in rng.integers(0, 10, int(rng.integers(2, 7)))) for _ in range(count)]


def _wait_idle(page, settle_ms: int = 300) -> None:
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE)


def _draw(page, text: str, index: int) -> int:
    box = page.locator(CANVAS).bounding_box()
    height = 110 + (index % 4) * 10
    gap = 0.3 * height
    width = len(text) * (0.62 * height + gap)
    left = box["x"] + max(20.0, (box["width"] - width) / 2)
    strokes = number_strokes(text, left, box["y"] + (box["height"] - height) / 2, height, gap)
    for points in strokes:
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
        page.wait_for_timeout(60)
    return len(strokes)


def _shown_after(page, start: float, truth: str, timeout_ms: int) -> tuple[str, float | None]:
    """The number shown once the page settles, and when it first appeared after ``start``."""
    try:
        page.wait_for_function("truth => window.__mdr.last === truth", arg=truth, timeout=timeout_ms)
    except Exception:  # misread: take whatever the page settled on
        _wait_idle(page, 500)
    changes = page.evaluate("() => window.__mdr.changes")
    final = page.evaluate("() => window.__mdr.last")
    after = [t for t, text in changes if t >= start and text == final]
    return final, (after[0] - start) if after else None


def _server_ms(page) -> float | None:
    caption = page.get_by_text(SERVER_MS)
    match = SERVER_MS.search(caption.first.inner_text()) if caption.count() else None
    return float(match.group(1)) if match else None


def _clear(page) -> None:
    drawing = page.locator(DRAWN).element_handle()
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Nothing drawn yet.", exact=True).wait_for()
    page.wait_for_function(BLANK_JS, arg=drawing)
    _wait_idle(page, 300)


def measure(page, numbers: list[str], automatic: bool) -> list[Reading]:
    readings = []
    for index, truth in enumerate(numbers):
        strokes = _draw(page, truth, index)
        if automatic:
            start = page.evaluate("() => window.__mdr.ups.at(-1)")
        else:
            page.get_by_text(f"{strokes} stroke{'s' if strokes != 1 else ''} drawn.", exact=True).wait_for()
            _wait_idle(page, 200)
            page.get_by_role("button", name="Recognize").click()
            start = page.evaluate("() => window.__mdr.clicks.at(-1)")
        read, latency = _shown_after(page, start, truth, timeout_ms=15_000)
        _wait_idle(page, 200)
        readings.append(Reading(truth, read, latency, _server_ms(page)))
        _clear(page)
    return readings


def _stats(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.median(values), float(np.percentile(values, 95))


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(results: dict[str, list[Reading]]) -> str:
    rows = ["| mode | drawings | read right | median ms | p95 ms | min / max ms | recognize() in the server, median ms |",
            "|---|---|---|---|---|---|---|"]
    medians = {}
    for mode, readings in results.items():
        latencies = [r.latency_ms for r in readings if r.latency_ms is not None]
        median, p95 = _stats(latencies)
        medians[mode] = median
        server, _ = _stats([r.server_ms for r in readings if r.server_ms is not None])
        right = sum(r.read == r.truth for r in readings)
        extremes = f"{_fmt(min(latencies))} / {_fmt(max(latencies))}" if latencies else "-"
        rows.append(f"| {mode} | {len(readings)} | {right} | {_fmt(median)} | {_fmt(p95)} | {extremes} | {_fmt(server)} |")
    auto, button = medians.get("read as I draw (last pointer-up)"), medians.get("Recognize button (click)")
    ratio = f"{auto / button:.2f}x" if auto and button else "-"
    return "\n".join(rows) + (
        f"\n\nRatio of the medians, read as I draw / button: **{ratio}**. Both modes drew the same "
        "numbers (2-6 digits, real mouse strokes) in one headless Chromium session against one app "
        "process on this machine; the canvas sends the drawing the moment a stroke ends (pointer-up), "
        "and everything after that is inside the first figure.")


def run(drawings: int, seed: int = 0) -> tuple[str, dict[str, list[Reading]]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("MDR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    numbers = numbers_to_draw(drawings, seed)
    results: dict[str, list[Reading]] = {}
    with running_app() as url, tempfile.TemporaryDirectory(prefix="mdr-chromium-") as profile, \
            sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto(f"{url}/Recognize")
        page.wait_for_selector(CANVAS, state="visible")
        _wait_idle(page, 500)
        page.evaluate(WATCH_JS)
        measure(page, numbers[:2], automatic=True)  # warm-up: the model loads on the first reading
        results["read as I draw (last pointer-up)"] = measure(page, numbers, automatic=True)
        page.get_by_text("Read as I draw").click()
        _wait_idle(page, 300)
        results["Recognize button (click)"] = measure(page, numbers, automatic=False)
        context.close()
    return table(results), results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--drawings", type=int, default=16, help="numbers drawn in each mode (default 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results.md",
                        help="markdown file whose section is replaced (default bench/results.md)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    text, _ = run(args.drawings, args.seed)
    text += f"\n\nCommand: `python -m bench.browser_latency --drawings {args.drawings}`."
    print(f"## {TITLE}\n\n{text}\n")
    replace_section(args.out, TITLE, text + f"\n\n_({time.perf_counter() - started:.0f} s)_")
    print(f"Written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
