"""Augmentations of real images, applied per sample on whole batches.

These are the classic augmentations of real data (x-flip as in StyleGAN's --mirror, small
zoom/crop/rotation); they are differentiable, though training applies them to real images only. Geometric ones are composed into one affine matrix per image and
applied with a single ``grid_sample`` so an image is resampled once, however many are enabled.
Random numbers come from the caller's CPU ``torch.Generator`` so runs are reproducible and resumable
on any device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator) -> Tensor:
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def flip_mask(n: int, gen: torch.Generator) -> Tensor:
    """(n,) bool: which images to mirror horizontally (probability 1/2)."""
    return torch.rand(n, generator=gen) < 0.5


def scale_matrix(n: int, gen: torch.Generator, amount: float = 0.1) -> Tensor:
    """Isotropic zoom by a factor in [1 - amount, 1 + amount] (log-uniform)."""
    s = torch.exp(_uniform(n, math.log(1 - amount), math.log(1 + amount), gen))
    m = torch.eye(3).repeat(n, 1, 1)
    m[:, 0, 0] = m[:, 1, 1] = 1 / s  # grid_sample maps output to input coordinates
    return m


def crop_matrix(n: int, gen: torch.Generator, amount: float = 0.1) -> Tensor:
    """A random crop of (1 - u) of the side, u in [0, amount], resized back to full size."""
    keep = 1 - _uniform(n, 0, amount, gen)
    m = torch.eye(3).repeat(n, 1, 1)
    m[:, 0, 0] = m[:, 1, 1] = keep
    m[:, 0, 2] = _uniform(n, -1, 1, gen) * (1 - keep)
    m[:, 1, 2] = _uniform(n, -1, 1, gen) * (1 - keep)
    return m


def rotate_matrix(n: int, gen: torch.Generator, degrees: float = 10.0) -> Tensor:
    a = _uniform(n, -degrees, degrees, gen) * math.pi / 180
    m = torch.eye(3).repeat(n, 1, 1)
    m[:, 0, 0], m[:, 0, 1] = torch.cos(a), -torch.sin(a)
    m[:, 1, 0], m[:, 1, 1] = torch.sin(a), torch.cos(a)
    return m


@dataclass(frozen=True)
class Augmentation:
    name: str
    help: str
    matrix: Callable[[int, torch.Generator], Tensor] | None = None  # geometric ones


AUGMENTS: dict[str, Augmentation] = {
    a.name: a
    for a in (
        Augmentation("flip", "mirror left-right with probability 1/2"),
        Augmentation("scale", "zoom in or out by up to 10%", scale_matrix),
        Augmentation("crop", "crop up to 10% of the side at a random place, resized back", crop_matrix),
        Augmentation("rotate", "rotate by up to 10 degrees", rotate_matrix),
        Augmentation("transpose", "piano rolls only: shift each piece by -5 to +6 semitones (modality.py)"),
    )
}


# Real-only transformations G cannot undo: it learns to draw their results (tests/test_leak.py). A
# flip is safe on data whose mirror image is as likely (most art); these are not, for most data.
LEAKS_INTO_G = ("rotate", "scale", "crop")


def augment(x: Tensor, names: tuple[str, ...], gen: torch.Generator) -> Tensor:
    """Augment a batch x (B, C, H, W) in [-1, 1]; ``names`` in AUGMENTS order of application."""
    if not names:
        return x
    n = x.shape[0]
    if "flip" in names:
        mask = flip_mask(n, gen).to(x.device)
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    geometric = [AUGMENTS[name].matrix for name in names if AUGMENTS[name].matrix is not None]
    if geometric:
        m = torch.eye(3).repeat(n, 1, 1)
        for make in geometric:
            m = m @ make(n, gen)
        theta = m[:, :2, :].to(device=x.device, dtype=x.dtype)  # (B, 2, 3)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return x
