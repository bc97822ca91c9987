"""The recognition path's fast versions give what the plain ones gave: same labels, medians,
cut paths and holes (speed is measured by ``python -m bench --sections latency``, never here)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from mdr.recognition.numeric import median
from mdr.recognition.segment import Part, cut_paths, label_ink, piece_between, pieces_between
from mdr.recognition.split_scoring import hole_count
from tests.drawing import draw_number


def random_ink(seed: int, shape=(120, 200)) -> np.ndarray:
    """Blobs and strokes at odd and even offsets, some touching, some nested."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, np.uint8)
    for _ in range(int(rng.integers(3, 12))):
        centre = (int(rng.integers(5, shape[1] - 5)), int(rng.integers(5, shape[0] - 5)))
        cv2.circle(mask, centre, int(rng.integers(2, 25)), 255, int(rng.integers(1, 6)))
    mask[rng.random(shape) > 0.995] = 255  # single-pixel specks
    return mask


@pytest.mark.parametrize("seed", range(40))
def test_labelling_the_ink_box_numbers_components_as_the_whole_image_does(seed):
    mask = random_ink(seed)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    box_labels, components = label_ink(mask)
    assert np.array_equal(box_labels.full(), labels)
    assert [c.box for c in components] == [tuple(int(v) for v in row[:4]) for row in stats[1:]]
    assert [c.area for c in components] == [int(row[4]) for row in stats[1:]]


def test_labelling_blank_ink_finds_nothing():
    labels, components = label_ink(np.zeros((30, 40), np.uint8))
    assert components == [] and labels.full().shape == (30, 40) and not labels.full().any()


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 2, 7, 10, 1001])
def test_median_is_numpys(dtype, size):
    rng = np.random.default_rng(size)
    values = (rng.random(size) * 255).astype(dtype)
    assert median(values) == np.median(values)
    assert type(median(values)) is type(np.median(values))


def _cut_paths_row_by_row(mask, xs, band, ink_cost=12.0, step_cost=0.4):
    """The original formulation: argmin over stacked moves, each path traced back on its own."""
    h, w = mask.shape
    offsets = np.arange(-band, band + 1)
    columns = np.asarray(xs)[:, None] + offsets[None, :]
    inside = (columns >= 0) & (columns < w)
    clipped = np.clip(columns, 0, w - 1)
    ink = mask > 0
    total = np.where(inside, step_cost * np.abs(offsets)[None, :], np.inf)
    total = total + np.where(ink[0, clipped], ink_cost, 0.0)
    moves = np.zeros((h,) + columns.shape, np.int8)
    pad = np.full((len(xs), 1), np.inf)
    for row in range(1, h):
        stacked = np.stack([np.hstack([pad, total[:, :-1]]) + step_cost, total,
                            np.hstack([total[:, 1:], pad]) + step_cost])
        choice = stacked.argmin(axis=0)
        total = np.take_along_axis(stacked, choice[None], 0)[0]
        total = np.where(inside, total + np.where(ink[row, clipped], ink_cost, 0.0), np.inf)
        moves[row] = choice - 1
    paths = []
    for k in range(len(xs)):
        position = int(total[k].argmin())
        path = np.empty(h, np.int64)
        for row in range(h - 1, -1, -1):
            path[row] = columns[k, position]
            if row > 0:
                position += int(moves[row, k, position])
        paths.append(path)
    return paths


@pytest.mark.parametrize("seed", range(10))
def test_cut_paths_are_those_of_the_row_by_row_search(seed):
    mask = random_ink(seed, (90, 160))
    xs = sorted(np.random.default_rng(seed).choice(np.arange(0, 160), 6, replace=False).tolist())
    for band in (2, 4):
        fast, plain = cut_paths(mask, xs, band), _cut_paths_row_by_row(mask, xs, band)
        assert all(np.array_equal(a, b) for a, b in zip(fast, plain))


def test_a_piece_has_no_more_holes_than_its_part():
    mask = (draw_number(["0", "0", "4", "0"], gap=-15) > 127).astype(np.uint8) * 255  # three touching loops
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    part = Part((0, 0, crop.shape[1], crop.shape[0]), crop, (1,))
    h, w = crop.shape
    holes = hole_count(crop)
    assert holes >= 3
    rng = np.random.default_rng(0)
    for _ in range(30):
        left, right = sorted(rng.integers(0, w, 2))
        wiggle = rng.integers(-3, 4, h)
        piece = piece_between(part, np.full(h, left) + wiggle, np.full(h, right) - wiggle)
        if piece is not None:
            assert hole_count(piece.mask) <= holes


@pytest.mark.parametrize("seed", range(12))
def test_pieces_between_all_paths_at_once_are_piece_betweens(seed):
    mask = random_ink(seed, (70, 150))
    ys, xs = np.nonzero(mask)
    crop = np.ascontiguousarray(mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    h, w = crop.shape
    part = Part((11, 7, w, h), crop, (1, 2))
    rng = np.random.default_rng(seed)
    cuts = sorted(rng.choice(np.arange(1, w - 1), min(8, w - 2), replace=False).tolist())
    paths = [None] + cut_paths(crop, cuts, int(rng.integers(1, 5))) + [None]
    spans = [(i, j) for i in range(len(paths)) for j in range(i + 1, len(paths)) if (i, j) != (0, len(paths) - 1)]
    for (i, j), fast in zip(spans, pieces_between(part, paths, spans)):
        plain = piece_between(part, paths[i], paths[j])
        if plain is None:
            assert fast is None
        else:
            assert fast.box == plain.box and fast.labels == plain.labels
            assert fast.mask.dtype == plain.mask.dtype and np.array_equal(fast.mask, plain.mask)
            assert fast.mask.flags.c_contiguous


def test_pieces_between_crossing_paths_are_piece_betweens():
    """Paths that cross (a right path left of the left one on some rows) keep nothing there."""
    mask = random_ink(3, (60, 120))
    part = Part((0, 0, 120, 60), mask, (1,))
    rng = np.random.default_rng(5)
    paths = [None] + [np.clip(x + rng.integers(-30, 31, 60), 0, 119) for x in (20, 40, 60, 80, 100)] + [None]
    spans = [(i, j) for i in range(7) for j in range(i + 1, 7) if (i, j) != (0, 6)]
    for (i, j), fast in zip(spans, pieces_between(part, paths, spans)):
        plain = piece_between(part, paths[i], paths[j])
        assert (fast is None) == (plain is None)
        if plain is not None:
            assert fast.box == plain.box and np.array_equal(fast.mask, plain.mask)
