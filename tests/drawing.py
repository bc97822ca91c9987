"""Digits drawn with strokes, as a mouse on a canvas would, for pipeline tests."""
from __future__ import annotations

import cv2
import numpy as np

# Strokes in a unit box (x right, y down), each a list of points.
STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "0": [[(0.5 + 0.42 * np.cos(t), 0.5 + 0.48 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 40)]],
    "0_slashed": [[(0.5 + 0.42 * np.cos(t), 0.5 + 0.48 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 40)],
                  [(0.05, 1.08), (0.95, -0.08)]],
    "0_upright_bar": [[(0.5 + 0.42 * np.cos(t), 0.5 + 0.48 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 40)],
                      [(0.52, 1.1), (0.48, -0.1)]],
    "1": [[(0.35, 0.15), (0.55, 0.0), (0.55, 1.0)]],
    "1_flag_foot": [[(0.15, 0.3), (0.55, 0.0), (0.55, 1.0)], [(0.2, 1.0), (0.9, 1.0)]],
    "4": [[(0.6, 0.0), (0.05, 0.65), (0.95, 0.65)], [(0.7, 0.25), (0.7, 1.0)]],
    "5_lifted_bar": [[(0.2, 0.12), (0.15, 0.48), (0.5, 0.4), (0.85, 0.58), (0.85, 0.85),
                      (0.5, 1.0), (0.1, 0.9)],
                     [(0.3, 0.0), (0.95, 0.0)]],
    "7": [[(0.05, 0.0), (0.95, 0.0), (0.35, 1.0)]],
}


def draw_digit(canvas: np.ndarray, key: str, x: int, y: int, height: int, brush: int,
               colour: int = 255, width_ratio: float = 0.6) -> None:
    width = height * width_ratio
    for stroke in STROKES[key]:
        points = np.array([(x + px * width, y + py * height) for px, py in stroke], np.int32)
        cv2.polylines(canvas, [points], False, colour, brush, lineType=cv2.LINE_AA)


def draw_number(keys: list[str], height: int = 120, brush: int = 12, gap: int = 40,
                size: tuple[int, int] = (300, 900), origin: tuple[int, int] = (60, 80),
                dark_on_light: bool = False) -> np.ndarray:
    canvas = np.full(size, 255 if dark_on_light else 0, np.uint8)
    x, y = origin
    for key in keys:
        draw_digit(canvas, key, x, y, height, brush, 0 if dark_on_light else 255)
        x += int(height * 0.6) + gap
    return canvas


def render_strokes(strokes, size: tuple[int, int] = (300, 900), brush: int = 18) -> np.ndarray:
    """Page-pixel strokes (e.g. ``tests.browser.handwriting.number_strokes``) drawn white on a
    black RGBA canvas with a round brush, as the app's canvas draws them."""
    canvas = np.zeros((*size, 4), np.uint8)
    for stroke in strokes:
        points = np.round(np.asarray(stroke, np.float64)).astype(np.int32)
        cv2.polylines(canvas, [points], False, (255, 255, 255, 255), brush, lineType=cv2.LINE_AA)
        for x, y in points:
            cv2.circle(canvas, (int(x), int(y)), brush // 2, (255, 255, 255, 255), -1, lineType=cv2.LINE_AA)
    return canvas
