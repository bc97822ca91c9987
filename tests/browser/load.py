"""Many browser sessions drawing and recognizing at once against one app server.

Each session is its own Playwright context (its own cookies, so its own Streamlit
session) in one headless Chromium. A round is: every session draws a number with
the mouse on the Recognize page ("Read as I draw" switched off), presses Recognize, waits for the
number, checks it, and clears the canvas; all sessions do this at the same time.

Chromium runs at a lower CPU priority (``nice``) than the server: in use, the browsers are on
other machines, and twenty of them would otherwise take most of this machine's cores from
the server being measured.

Two figures per request:
- *response*: from the click on Recognize until the number is on the screen, as
  the person sees it (the rerun's queueing, the recognition, the page update);
- *recognize*: the recognizer's own time in the server, as the page reports it
  ("Time taken: 7.3 ms").
"""
from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import time
from dataclasses import dataclass, field

from conftest import CANVAS_IS_BLANK_JS, DRAWN_CANVAS
from handwriting import number_strokes

APP = '[data-testid="stApp"]'
IDLE = f'{APP}[data-test-script-state="notRunning"]'
CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.mdr-canvas'
EXCEPTION = '[data-testid="stException"]'
TIME_TAKEN = re.compile(r"Time taken: ([\d.]+) ms")


@dataclass
class Request:
    session: int
    round: int
    expected: str
    read: str
    response_ms: float
    recognize_ms: float | None


@dataclass
class Phase:
    """The requests of one load phase, and what went wrong in it."""

    name: str
    sessions: int
    requests: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    redraws: int = 0
    """Drawings lost after Clear (the canvas did not take them), and drawn again."""
    wall_s: float = 0.0

    @property
    def wrong(self) -> list[Request]:
        return [r for r in self.requests if r.read != r.expected]

    def summary(self) -> dict:
        response = [r.response_ms for r in self.requests]
        recognize = [r.recognize_ms for r in self.requests if r.recognize_ms is not None]
        return {
            "phase": self.name, "sessions": self.sessions, "requests": len(self.requests),
            "read_right": len(self.requests) - len(self.wrong), "errors": len(self.errors),
            "redraws": self.redraws,
            "response_median_ms": _median(response), "response_p95_ms": _p95(response),
            "recognize_median_ms": _median(recognize), "recognize_p95_ms": _p95(recognize),
            "wall_s": round(self.wall_s, 1),
        }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))], 1)


def numbers_to_draw(sessions: int, rounds: int, seed: int = 0) -> list[list[str]]:
    """A different 3- or 4-digit number for every session and round (fixed seed)."""
    rng = random.Random(seed)
    return [["".join(rng.choice("0123456789") for _ in range(rng.choice((3, 4)))) for _ in range(rounds)]
            for _ in range(sessions)]


async def _wait_idle(page, settle_ms: int = 300) -> None:
    await page.wait_for_timeout(settle_ms)
    await page.wait_for_selector(IDLE, timeout=120_000)


def niced_chromium(chromium_path: str, folder) -> str:
    """A launcher that starts ``chromium_path`` at the lowest CPU priority (its renderers inherit it)."""
    import stat
    from pathlib import Path

    launcher = Path(folder) / "chromium-niced"
    launcher.write_text(f'#!/bin/sh\nexec nice -n 19 "{chromium_path}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return str(launcher)


async def open_session(browser, url: str, viewport=None):
    """A new context on the Recognize page, with its console and page errors collected."""
    context = await browser.new_context(viewport=viewport or {"width": 1300, "height": 900})
    context.set_default_timeout(int(os.environ.get("MDR_LOAD_TIMEOUT_MS", "180000")))
    page = await context.new_page()
    page.mdr_errors = []
    page.mdr_redraws = 0
    page.on("console", lambda m: page.mdr_errors.append(f"console: {m.text} ({m.location.get('url')})")
            if m.type == "error" and not _expected_failure(m) else None)
    page.on("pageerror", lambda e: page.mdr_errors.append(f"page error: {e}"))
    await page.goto(f"{url}/Recognize")
    await page.wait_for_selector(CANVAS, state="visible")
    await _wait_idle(page)
    # the response figure is click-to-number: this harness reads on Recognize, with "Read as I
    # draw" off (bench/browser_latency.py measures reading as one draws)
    await page.get_by_text("Read as I draw").click()
    await _wait_idle(page)
    return context, page


# The tab icon comes from a font server, unreachable offline; a page opened on its own address
# first asks for the server's health under that path (404). Neither is the app's.
_EXPECTED = re.compile(r"^(https://fonts\.gstatic\.com/|http://127\.0\.0\.1:\d+/\w+/_stcore/(health|host-config)$)")


def _expected_failure(message) -> bool:
    return message.text.startswith("Failed to load resource") and bool(
        _EXPECTED.match(message.location.get("url") or ""))


async def draw_and_recognize(page, session: int, round_: int, text: str) -> Request:
    canvas = page.locator(CANVAS)
    box = await canvas.bounding_box()
    # every session writes a little differently (place, size, spacing), as people do: identical
    # drawings would make identical pictures, which no two people's drawings are
    left, top = 30 + (session * 7 + round_ * 13) % 60, 25 + (session * 5 + round_ * 3) % 30
    height, gap = 110 + (session % 5) * 5, 26 + (session + round_) % 4 * 3
    strokes = number_strokes(text, box["x"] + left, box["y"] + top, height, gap)
    count = len(strokes)
    expected = f"{count} stroke{'s' if count != 1 else ''} drawn."
    for attempt in range(2):
        for points in strokes:
            await page.mouse.move(*points[0])
            await page.mouse.down()
            for x, y in points[1:]:
                await page.mouse.move(x, y)
            await page.mouse.up()
            await page.wait_for_timeout(60)
        try:
            await page.get_by_text(expected, exact=True).wait_for(timeout=60_000 if attempt == 0 else None)
            break
        except Exception as e:  # say what the page showed instead
            status = page.get_by_text(re.compile(r"strokes? drawn\.|Nothing drawn yet\."))
            shown = await status.first.text_content() if await status.count() else "no stroke count"
            if attempt == 0 and shown == "Nothing drawn yet.":
                # the canvas did not take the drawing: counted, drawn again
                page.mdr_redraws += 1
                await _wait_idle(page, 500)
                continue
            raise AssertionError(f"waited for '{expected}', the page shows '{shown}'") from e
    await _wait_idle(page, 200)

    started = time.perf_counter()
    await page.get_by_role("button", name="Recognize").click()
    # the number, or an error in words (an error alert), or an exception box
    await page.wait_for_selector(f".mdr-number, [data-testid='stAlertContentError'], "
                                 f"[data-testid='stAlertContentWarning'], {EXCEPTION}")
    response_ms = (time.perf_counter() - started) * 1000
    await _wait_idle(page, 100)
    # a person looks at the whole result (its pictures too) before drawing the next number
    await page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMain] img')]"
                                 ".every(img => img.complete)")
    number = page.locator(".mdr-number")
    read = (await number.text_content() or "").strip() if await number.count() else ""
    expander = page.get_by_text(TIME_TAKEN)
    match = TIME_TAKEN.search(await expander.first.inner_text()) if await expander.count() else None
    if await page.locator(EXCEPTION).count():
        page.mdr_errors.append("exception box: " + await page.locator(EXCEPTION).first.inner_text())
    broken = await page.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] img')]"
                                 ".filter(img => img.naturalWidth === 0).map(img => img.src)")
    page.mdr_errors.extend(f"picture not shown: {src}" for src in broken)

    # Clear empties the canvas in place once the server has answered; draw only after that
    drawing = await page.locator(DRAWN_CANVAS).element_handle()
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_text("Nothing drawn yet.", exact=True).wait_for()
    await page.wait_for_function(CANVAS_IS_BLANK_JS, arg=drawing)
    await _wait_idle(page, 300)
    return Request(session, round_, text, read, response_ms, float(match.group(1)) if match else None)


async def run_phase(name: str, pages: list, numbers: list[list[str]], rounds: int) -> Phase:
    """``rounds`` rounds in which every page draws and recognizes at the same time."""
    phase = Phase(name, len(pages))
    started = time.perf_counter()
    for round_ in range(rounds):
        results = await asyncio.gather(*(draw_and_recognize(page, i, round_, numbers[i][round_])
                                         for i, page in enumerate(pages)), return_exceptions=True)
        for i, result in enumerate(results):
            if isinstance(result, BaseException):
                phase.errors.append(f"session {i}, round {round_}: {type(result).__name__}: {result}")
            else:
                phase.requests.append(result)
    phase.wall_s = time.perf_counter() - started
    for i, page in enumerate(pages):
        phase.errors.extend(f"session {i}: {e}" for e in page.mdr_errors)
        page.mdr_errors.clear()
        phase.redraws += page.mdr_redraws
        page.mdr_redraws = 0
    return phase


def table(phases: list[Phase]) -> str:
    """The phases as a Markdown table, with the ratios to the first phase of as many sessions."""
    rows = ["| phase | sessions | requests | read right | errors | drawn again | response median / p95 ms | "
            "recognize median / p95 ms |", "|---|---|---|---|---|---|---|---|"]
    for phase in phases:
        s = phase.summary()
        rows.append(f"| {s['phase']} | {s['sessions']} | {s['requests']} | {s['read_right']} | {s['errors']} | {s['redraws']} | "
                    f"{s['response_median_ms']} / {s['response_p95_ms']} | "
                    f"{s['recognize_median_ms']} / {s['recognize_p95_ms']} |")
    return "\n".join(rows)
