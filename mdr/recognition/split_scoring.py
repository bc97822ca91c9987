"""Scoring a split: what each cut costs, what a piece's width costs, and the best way to cut.

The segmentation proposes cuts; these rules decide which of them a reading pays for.
"""
from __future__ import annotations

import cv2
import numpy as np

from mdr.recognition.config import RecognizerConfig


CUT_COST = 1.0
"""Log-score a segmentation pays per cut: a cut must be earned by pieces the
classifier is clearly surer of than of the whole."""


WIDE_ASPECT = 1.2
"""Pieces wider than this times their height start to pay for their width."""
WIDTH_COST = 3.0


def width_penalty(width: int, height: float, config: RecognizerConfig) -> float:
    """Single digits are rarely much wider than tall: width beyond that costs."""
    aspect = width / max(1.0, height) * config.split_sensitivity
    return WIDTH_COST * max(0.0, aspect - WIDE_ASPECT)


def piece_spans(cuts: list[int], width: int, height: float) -> list[tuple[int, int]]:
    """Index pairs (i, j) of boundaries (0 = left edge, len+1 = right edge)
    whose piece is narrow enough to be one digit; the whole part is always in."""
    edges = [0] + cuts + [width]
    spans = [(0, len(edges) - 1)]
    for i in range(len(edges)):
        for j in range(i + 1, len(edges)):
            if (i, j) != spans[0] and edges[j] - edges[i] <= 1.6 * height:
                spans.append((i, j))
    return spans


SIDE_HOLES_COST = 2.0
"""Log-score a piece pays for holding loops side by side: no single digit
does (an 8's loops are stacked), two touching 0s, 6s, 8s or 9s do."""


def has_side_by_side_holes(mask: np.ndarray, stroke_width: float) -> bool:
    """True when the ink encloses two holes next to each other horizontally."""
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    min_area = max(4.0, (0.5 * stroke_width) ** 2)
    centres = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0]):
        if parent >= 0 and cv2.contourArea(contour) >= min_area:
            x, y, w, h = cv2.boundingRect(contour)
            centres.append((x + w / 2, y + h / 2))
    width = mask.shape[1]
    return any(abs(ax - bx) > max(abs(ay - by), 0.25 * width)
               for i, (ax, ay) in enumerate(centres) for bx, by in centres[i + 1:])


def hole_count(mask: np.ndarray) -> int:
    """How many holes (of any size) the ink encloses.

    A piece cut from a part has no more holes than the part: removed ink cannot enclose
    anything, and what lies beyond a cut path reaches the piece's edge. So a part with
    fewer than two holes needs no side-by-side check of its pieces.
    """
    _, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return 0 if hierarchy is None else int((hierarchy[0][:, 3] >= 0).sum())


def best_segmentation(n_edges: int, scores: dict[tuple[int, int], float],
                      cut_cost: float = CUT_COST) -> tuple[float, list[int], list[float]]:
    """Most probable way to cut: maximize the sum of piece scores minus ``cut_cost``
    per cut (dynamic programming over the boundaries, left to right).

    Returns the best total, the interior boundaries used, and for each interior
    boundary the best total of any segmentation through it.
    """
    last = n_edges - 1
    forward = [-np.inf] * n_edges
    back = [-1] * n_edges
    forward[0] = 0.0
    for j in range(1, n_edges):
        for i in range(j):
            if (i, j) in scores and forward[i] > -np.inf:
                value = forward[i] + scores[(i, j)] - (cut_cost if i > 0 else 0.0)
                if value > forward[j]:
                    forward[j], back[j] = value, i
    backward = [-np.inf] * n_edges
    backward[last] = 0.0
    for i in range(last - 1, -1, -1):
        for j in range(i + 1, n_edges):
            if (i, j) in scores and backward[j] > -np.inf:
                backward[i] = max(backward[i], backward[j] + scores[(i, j)] - (cut_cost if j < last else 0.0))
    path, node = [], last
    while node > 0:
        node = back[node]
        if node > 0:
            path.append(node)
    through = [forward[k] + backward[k] - cut_cost for k in range(1, last)]
    return forward[last], sorted(path), through
