"""Batched, on-device augmentation that makes MNIST look like canvas strokes.

MNIST digits are scanned pen strokes of uneven width; digits drawn on the
canvas are rendered with a round brush of one width and then normalized by
the recognizer. To close that gap, a fraction of each batch is

* re-stroked: the digit's skeleton (computed once, on the CPU) is painted
  again with a round, anti-aliased brush of random width;
* thickened or thinned: grey-level dilation/erosion with a small cross,
  blended for fractional amounts;
* moved by a random affine map (rotation, shear, scale, translation).

Only a fraction of each batch is changed so that the model still sees plenty
of plain MNIST and keeps its test accuracy.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from mdr.training.config import TrainConfig

BRUSH_SIZE = 7  # brush kernel side: brushes up to 6 px wide fit
SKELETON_THRESHOLD = 128


def skeletonize_images(images: np.ndarray, threshold: int = SKELETON_THRESHOLD) -> np.ndarray:
    """One-pixel-wide skeletons (bool ``[N, 28, 28]``) of uint8 MNIST images.

    Done once before training: about 10 microseconds an image.
    """
    from skimage.morphology import skeletonize

    return np.stack([skeletonize(image >= threshold) for image in images])


def _cross_dilate(x: torch.Tensor) -> torch.Tensor:
    """Grey-level dilation by a 3x3 cross: strokes grow about one pixel."""
    horizontal = F.max_pool2d(x, (1, 3), stride=1, padding=(0, 1))
    vertical = F.max_pool2d(x, (3, 1), stride=1, padding=(1, 0))
    return torch.maximum(horizontal, vertical)


def _cross_erode(x: torch.Tensor) -> torch.Tensor:
    return -_cross_dilate(-x)


def change_thickness(x: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """Thicken (``amount > 0``) or thin (``< 0``) each image's strokes.

    ``amount`` is per image, in steps of one cross dilation/erosion, between
    -2 and 2; fractional amounts blend the two nearest steps. A thinned image
    that would lose its ink keeps its original strokes instead.
    """
    eroded1 = _cross_erode(x)
    eroded2 = _cross_erode(eroded1)
    dilated1 = _cross_dilate(x)
    dilated2 = _cross_dilate(dilated1)
    levels = torch.stack([eroded2, eroded1, x, dilated1, dilated2])  # [5, N, 1, H, W]
    position = amount.clamp(-2, 2) + 2
    low = position.floor().long().clamp(max=3)
    frac = (position - low).view(-1, 1, 1, 1)
    rows = torch.arange(len(x), device=x.device)
    out = levels[low, rows] * (1 - frac) + levels[low + 1, rows] * frac
    too_thin = out.amax(dim=(1, 2, 3)) < 0.3
    return torch.where(too_thin.view(-1, 1, 1, 1), x, out)


def brush_kernels(widths: torch.Tensor, size: int = BRUSH_SIZE) -> torch.Tensor:
    """Anti-aliased round brushes ``[N, size*size]``, one per width (pixels).

    A kernel cell's value approximates how much of it a disk of that diameter
    covers: 1 inside, 0 outside, a linear ramp across the one-pixel edge.
    """
    center = size // 2
    coords = torch.arange(size, device=widths.device, dtype=torch.float32) - center
    distance = torch.sqrt(coords.view(-1, 1) ** 2 + coords.view(1, -1) ** 2).flatten()
    radius = (widths / 2).view(-1, 1)
    return (radius + 0.5 - distance.view(1, -1)).clamp(0, 1)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """A small separable Gaussian blur (anti-aliasing of re-stroked digits)."""
    if sigma <= 0:
        return x
    radius = max(1, math.ceil(2 * sigma))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(t ** 2) / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    x = F.conv2d(x, kernel.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(x, kernel.view(1, 1, -1, 1), padding=(radius, 0))


def restroke(skeletons: torch.Tensor, widths: torch.Tensor, blur_sigma: float = 0.5) -> torch.Tensor:
    """Paint skeletons (float ``[N, 1, H, W]``) with a round brush of per-image width.

    Grey-level dilation of the skeleton by the brush (max over the brush
    window), then a slight blur; the brightest pixel is scaled back to 1 as in
    MNIST, where the core of every stroke is full ink.
    """
    n, _, h, w = skeletons.shape
    patches = F.unfold(skeletons, BRUSH_SIZE, padding=BRUSH_SIZE // 2)  # [N, k*k, H*W]
    kernels = brush_kernels(widths)  # [N, k*k]
    painted = (patches * kernels.unsqueeze(2)).amax(dim=1).view(n, 1, h, w)
    painted = gaussian_blur(painted, blur_sigma)
    peak = painted.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)
    return (painted / peak).clamp(0, 1)


def random_affine(x: torch.Tensor, rotate_deg: float, shear: float, scale: float,
                  translate_px: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Warp each image by its own random rotation, shear, scale and shift.

    Parameters are uniform in ``[-limit, limit]`` (scale in ``1 +- scale``);
    one ``affine_grid``/``grid_sample`` call does the whole batch.
    """
    n, _, h, w = x.shape

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator, device=x.device) * 2 - 1) * limit

    angle = uniform(math.radians(rotate_deg))
    sh = uniform(shear)
    zoom = 1 + uniform(scale)
    tx = uniform(translate_px * 2 / w)
    ty = uniform(translate_px * 2 / h)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input ones: rotation @ shear, divided by the zoom.
    theta = torch.stack([
        torch.stack([cos, cos * sh - sin, tx], dim=1),
        torch.stack([sin, sin * sh + cos, ty], dim=1),
    ], dim=1) / zoom.view(-1, 1, 1)
    theta[:, :, 2] *= zoom.view(-1, 1)  # keep the shift in output pixels
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


ELASTIC_GRID = 4
"""Control points per side of the elastic field: a few bends per digit, not pixel noise."""


def elastic_warp(x: torch.Tensor, displacement_px: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Bend each image by its own smooth random displacement field.

    Random displacements on a coarse grid (standard deviation ``displacement_px``), smoothly
    interpolated to every pixel, move each pixel a little and its neighbours alike; strokes bend
    without breaking, as another writer's strokes would.
    """
    n, _, h, w = x.shape
    coarse = torch.randn(n, 2, ELASTIC_GRID, ELASTIC_GRID, generator=generator, device=x.device) * displacement_px
    field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)
    identity = torch.eye(2, 3, device=x.device, dtype=x.dtype).expand(n, 2, 3)
    base = F.affine_grid(identity, list(x.shape), align_corners=False)  # [n, h, w, 2] as (x, y)
    shift = torch.stack([field[:, 0] * 2 / w, field[:, 1] * 2 / h], dim=-1)  # pixels -> grid units
    grid = base + shift
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class Augmenter:
    """Applies the configured augmentations to a fraction of each batch.

    ``skeletons`` (bool/uint8 ``[N, 28, 28]``, aligned with the training
    images) are needed only when re-stroking is on.
    """

    def __init__(self, config: "TrainConfig", skeletons: torch.Tensor | None,
                 generator: torch.Generator | None = None):
        self.config = config
        self.skeletons = skeletons
        self.generator = generator

    def _chosen(self, n: int, p: float, device: torch.device) -> torch.Tensor:
        return torch.rand(n, generator=self.generator, device=device) < p

    def _uniform(self, n: int, low: float, high: float, device: torch.device) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=self.generator, device=device)

    def __call__(self, x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """Augment float ``[N, 1, 28, 28]`` images in 0..1 (``indices`` index the skeletons)."""
        c = self.config
        if not c.augment:
            return x
        n, device = len(x), x.device
        # Stroke changes are exclusive: an image is re-stroked, or thickened/thinned, or neither.
        stroke_roll = torch.rand(n, generator=self.generator, device=device)
        if c.restroke_p > 0 and self.skeletons is not None:
            pick = stroke_roll < c.restroke_p
            if pick.any():
                skel = self.skeletons[indices[pick]].to(device=device, dtype=x.dtype).unsqueeze(1)
                widths = self._uniform(int(pick.sum()), c.restroke_min_width, c.restroke_max_width, device)
                x = x.clone()
                x[pick] = restroke(skel, widths, c.restroke_blur)
        if c.thickness_p > 0 and c.thickness_strength > 0:
            low = c.restroke_p if self.skeletons is not None else 0.0
            pick = (stroke_roll >= low) & (stroke_roll < low + c.thickness_p)
            if pick.any():
                amount = self._uniform(int(pick.sum()), -c.thickness_strength, c.thickness_strength, device)
                x = x.clone()
                x[pick] = change_thickness(x[pick], amount)
        if c.elastic_p > 0 and c.elastic_px > 0:
            pick = self._chosen(n, c.elastic_p, device)
            if pick.any():
                x = x.clone()
                x[pick] = elastic_warp(x[pick], c.elastic_px, self.generator)
        if c.affine_p > 0:
            pick = self._chosen(n, c.affine_p, device)
            if pick.any():
                x = x.clone()
                x[pick] = random_affine(x[pick], c.rotate_deg, c.shear, c.scale, c.translate_px, self.generator)
        return x
