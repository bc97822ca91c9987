"""Training digits from the user's own corrections (:mod:`mdr.corrections.store`).

A person's corrections are few (tens, a few hundred drawings) next to 60,000
MNIST digits, so each labelled digit is repeated until the corrections make
up a chosen share of the training images; the run's augmentation (warps,
thickness, re-stroking) then makes every repeat a little different. A seeded
share of the *whole drawings* is kept out of training, so the fine-tuned
model can be judged on drawings it never saw, digit count and all.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class CorrectionsMix:
    """Which corrections train, how much they weigh, which are held out."""

    share: float = 0.25
    """Share of the training images that are (repeated) correction digits."""
    holdout: float = 0.2
    """Share of the saved drawings kept out of training, for the before/after check."""
    seed: int = 1


class NoCorrectionsError(ValueError):
    """Nothing to learn from: no saved drawing has labelled digits."""


def split_drawings(ids: list[int], holdout: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded split of correction ids into (training, held out), whole drawings each.

    At least one drawing is held out when there are two or more and ``holdout`` > 0,
    and at least one always trains.
    """
    ids = sorted(int(i) for i in ids)
    held_count = int(round(holdout * len(ids)))
    if holdout > 0 and len(ids) >= 2:
        held_count = max(1, held_count)
    held_count = min(held_count, max(0, len(ids) - 1))
    order = np.random.default_rng([seed, 40]).permutation(len(ids))
    held = sorted(ids[i] for i in order[:held_count])
    kept = sorted(ids[i] for i in order[held_count:])
    return kept, held


def repeats_for(share: float, digits: int, other_images: int) -> int:
    """How often each correction digit is repeated so that they make up ``share`` of the images."""
    if digits == 0:
        return 0
    wanted = share / (1.0 - share) * other_images
    return max(1, int(round(wanted / digits)))


def corrections_training_images(mix: CorrectionsMix, other_images: int, store=None
                                ) -> tuple[np.ndarray, np.ndarray, dict]:
    """uint8 ``[N, 28, 28]`` images (repeats included), labels, and a record for the card.

    ``other_images``: how many images the rest of the mix has (MNIST, pen, rejects).
    """
    from mdr.corrections.store import CorrectionStore

    store = store or CorrectionStore()
    drawings = store.list()
    train_ids, held_ids = split_drawings([c.id for c in drawings], mix.holdout, mix.seed)
    images, labels, _ = store.digit_samples(train_ids)
    if len(images) == 0:
        raise NoCorrectionsError(
            "There are no corrections with labelled digits to learn from"
            + (f" ({len(drawings)} saved drawing(s), {len(held_ids)} held out for the check)" if drawings else "")
            + ". Save a few on the Recognize page first: a digit is labelled from the number you typed, "
              "except beside a digit that was missed or read in excess.")
    digits = np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)
    labels = np.asarray(labels, np.int64)
    repeats = repeats_for(mix.share, len(digits), other_images)
    record = {
        "store": str(store.path),
        "drawings": len(drawings),
        "train_drawings": train_ids,
        "heldout_drawings": held_ids,
        "digits": int(len(digits)),
        "digits_per_label": {str(d): int((labels == d).sum()) for d in range(10) if (labels == d).any()},
        "repeats": repeats,
        "images": int(len(digits) * repeats),
        "sha256": hashlib.sha256(digits.tobytes() + labels.tobytes()).hexdigest(),
        "mix": asdict(mix),
    }
    return np.repeat(digits, repeats, axis=0), np.repeat(labels, repeats), record
