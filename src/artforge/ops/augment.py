"""Every augmentation artforge applies, in two kinds that share their geometry (one affine matrix per image
and one ``grid_sample`` with reflection padding, ``warp``, so an image is resampled once however many
geometric operations are on). Random numbers come from the caller's CPU ``torch.Generator``, so runs
repeat and resume exactly on any device.

**Of the real images** (``--augment``, ``AUGMENTS``, ``augment``): the classic augmentations of the data
(x-flip as in StyleGAN's --mirror, a small zoom, crop or rotation), applied to the real images only.
Those G cannot undo leak into what it draws (``LEAKS_INTO_G``; tests/test_leak.py).

**Of everything D sees** (``--d-augment``, ``D_AUGMENTS``, ``AugmentPipe``), real and fake alike, with its
adaptive strength. D overfits small datasets: it memorizes the few real images and its feedback to G
turns to noise. Augmenting D's inputs (DiffAugment, Zhao et al. 2020, arXiv:2006.10738; ADA, Karras et
al. 2020, arXiv:2006.06676) makes its job harder without changing what G must produce, provided that

  * real and fake images go through the same random transformations, and
  * the transformations are differentiable (gradients reach G through them), and
  * each is applied with a probability p < 1, so the undistorted image stays the most likely one
    and G cannot satisfy D by producing augmented-looking images ("leaking"; ADA sec. 2.2).

Each operation draws per-image parameters and is skipped (identity parameters) for images whose
coin flip with probability p fails. ``AdaptiveStrength`` tunes p from the overfitting signal
r_t = E[sign(D(real))] toward a target (ADA, sec. 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

# ----------------------------------------------------------------------------- geometric operations
# Each returns (B, 3, 3) matrices mapping output to input coordinates in [-1, 1]; identity where off.


def _eye(n: int) -> Tensor:
    return torch.eye(3).repeat(n, 1, 1)


def warp(x: Tensor, m: Tensor) -> Tensor:
    """Resample each image of x (B, C, H, W) once through its (B, 3, 3) matrix, reflecting at the border (ADA)."""
    theta = m[:, :2, :].to(device=x.device, dtype=x.dtype)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _where(on: Tensor, value: Tensor, identity: float) -> Tensor:
    return torch.where(on, value, torch.full_like(value, identity))


def xflip(on: Tensor, gen: torch.Generator, size: int) -> Tensor:
    m = _eye(len(on))
    m[:, 0, 0] = _where(on, 1 - 2 * torch.randint(0, 2, (len(on),), generator=gen).float(), 1.0)
    return m


def rot90(on: Tensor, gen: torch.Generator, size: int) -> Tensor:
    k = torch.randint(0, 4, (len(on),), generator=gen) * on
    angle = k.float() * (math.pi / 2)
    m = _eye(len(on))
    c, s = torch.cos(angle).round(), torch.sin(angle).round()  # exact multiples of 90 degrees
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, -s, s, c
    return m


def translation(on: Tensor, gen: torch.Generator, size: int, fraction: float = 0.125) -> Tensor:
    """Whole-pixel shifts of up to ``fraction`` of the side (DiffAugment's 1/8)."""
    shift = torch.round((torch.rand(len(on), 2, generator=gen) * 2 - 1) * fraction * size) * 2 / size
    m = _eye(len(on))
    m[:, 0, 2] = _where(on, shift[:, 0], 0.0)
    m[:, 1, 2] = _where(on, shift[:, 1], 0.0)
    return m


def scale(on: Tensor, gen: torch.Generator, size: int, std: float = 0.2 * math.log(2)) -> Tensor:
    """Isotropic zoom, log-normal (ADA: std 0.2 * ln 2)."""
    s = _where(on, torch.exp(torch.randn(len(on), generator=gen) * std), 1.0)
    m = _eye(len(on))
    m[:, 0, 0] = m[:, 1, 1] = 1 / s
    return m


def rotate(on: Tensor, gen: torch.Generator, size: int) -> Tensor:
    """Rotation by a uniform angle (ADA's arbitrary rotation)."""
    angle = _where(on, (torch.rand(len(on), generator=gen) * 2 - 1) * math.pi, 0.0)
    m = _eye(len(on))
    m[:, 0, 0], m[:, 0, 1] = torch.cos(angle), -torch.sin(angle)
    m[:, 1, 0], m[:, 1, 1] = torch.sin(angle), torch.cos(angle)
    return m


# ----------------------------------------------------------------------------- colour and masking
# Each maps (x, on, gen) -> x for images in [-1, 1]; ``on`` is (B,) bool.


def _per_image(values: Tensor, x: Tensor) -> Tensor:
    return values.to(x).view(-1, *([1] * (x.dim() - 1)))


def brightness(x: Tensor, on: Tensor, gen: torch.Generator) -> Tensor:
    """Add N(0, 0.2^2) (ADA's brightness, on the [-1, 1] scale: DiffAugment's +-0.5 is similar)."""
    delta = _where(on, torch.randn(len(on), generator=gen) * 0.2, 0.0)
    return x + _per_image(delta, x)


def contrast(x: Tensor, on: Tensor, gen: torch.Generator) -> Tensor:
    """Scale around each image's mean by a log-normal factor (ADA: std 0.5 * ln 2)."""
    factor = _where(on, torch.exp(torch.randn(len(on), generator=gen) * 0.5 * math.log(2)), 1.0)
    mean = x.mean(dim=tuple(range(1, x.dim())), keepdim=True)
    return (x - mean) * _per_image(factor, x) + mean


def saturation(x: Tensor, on: Tensor, gen: torch.Generator) -> Tensor:
    """Scale colours around each pixel's grey value (ADA: log-normal, std ln 2); grey images pass."""
    if x.shape[1] == 1:
        return x
    factor = _where(on, torch.exp(torch.randn(len(on), generator=gen) * math.log(2)), 1.0)
    grey = x.mean(dim=1, keepdim=True)
    return (x - grey) * _per_image(factor, x) + grey


def cutout(x: Tensor, on: Tensor, gen: torch.Generator, fraction: float = 0.5) -> Tensor:
    """Zero a square of ``fraction`` of the side at a random centre (DeVries & Taylor 2017; DiffAugment)."""
    b, _, h, w = x.shape
    centre = torch.rand(b, 2, generator=gen)
    ys = torch.arange(h).view(1, h, 1) / h
    xs = torch.arange(w).view(1, 1, w) / w
    inside = ((ys - centre[:, 0].view(b, 1, 1)).abs() < fraction / 2) & \
             ((xs - centre[:, 1].view(b, 1, 1)).abs() < fraction / 2)
    keep = ~(inside & on.view(b, 1, 1))
    return x * keep.unsqueeze(1).to(x)


@dataclass(frozen=True)
class DAugment:
    name: str
    help: str
    matrix: Callable[..., Tensor] | None = None  # geometric: (on, gen, size) -> (B, 3, 3)
    apply: Callable[..., Tensor] | None = None  # pixel-wise: (x, on, gen) -> x


D_AUGMENTS: dict[str, DAugment] = {
    a.name: a
    for a in (
        DAugment("xflip", "mirror left-right", matrix=xflip),
        DAugment("rot90", "rotate by a multiple of 90 degrees", matrix=rot90),
        DAugment("translation", "shift by up to 1/8 of the side", matrix=translation),
        DAugment("scale", "zoom, log-normal", matrix=scale),
        DAugment("rotate", "rotate by any angle", matrix=rotate),
        DAugment("brightness", "add a random brightness", apply=brightness),
        DAugment("contrast", "scale contrast", apply=contrast),
        DAugment("saturation", "scale saturation", apply=saturation),
        DAugment("cutout", "blank a square half the side", apply=cutout),
    )
}

# Named groups: DiffAugment's recommended policy and ADA's 'bgc' pipeline (blit, geometric, colour).
D_AUGMENT_POLICIES: dict[str, tuple[str, ...]] = {
    "diffaug": ("translation", "cutout", "brightness", "saturation", "contrast"),
    "bgc": ("xflip", "rot90", "translation", "scale", "rotate", "brightness", "contrast", "saturation"),
}


def expand_policy(names: tuple[str, ...]) -> tuple[str, ...]:
    """'diffaug' or 'bgc' expand to their operations; duplicates dropped, order kept."""
    out: list[str] = []
    for name in names:
        out.extend(D_AUGMENT_POLICIES.get(name, (name,)))
    return tuple(dict.fromkeys(out))


class AugmentPipe:
    """Applies the named operations, each to each image with probability ``p``."""

    def __init__(self, names: tuple[str, ...], p: float, gen: torch.Generator):
        self.ops = [D_AUGMENTS[n] for n in expand_policy(names)]
        self.p = float(p)
        self.gen = gen

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __call__(self, x: Tensor) -> Tensor:
        if not self.ops or self.p <= 0:
            return x
        b, size = x.shape[0], x.shape[-1]
        geometric = [op for op in self.ops if op.matrix is not None]
        if geometric:
            m = _eye(b)
            for op in geometric:
                m = m @ op.matrix(torch.rand(b, generator=self.gen) < self.p, self.gen, size)
            if not torch.equal(m, _eye(b)):
                x = warp(x, m)
        for op in self.ops:
            if op.apply is not None:
                x = op.apply(x, (torch.rand(b, generator=self.gen) < self.p).to(x.device), self.gen)
        return x


class AdaptiveStrength:
    """ADA's controller: every ``interval`` steps, move p by sign(r_t - target) * images / speed.

    r_t = E[sign(D(real))] over the interval: near 0 when D cannot tell, near 1 when it has
    memorized the training set. ``speed_kimg`` is how many thousand images p needs to go from 0
    to 1 (ADA: 500).
    """

    def __init__(self, target: float, speed_kimg: float = 500.0, interval: int = 4, p: float = 0.0):
        self.target = target
        self.speed = speed_kimg * 1000
        self.interval = interval
        self.p = p
        self.rt = 0.0
        self._sum = 0.0
        self._count = 0

    def observe(self, real_logits: Tensor) -> None:
        self._sum += torch.sign(real_logits.detach().float()).sum().item()
        self._count += real_logits.numel()

    def update(self, images: int) -> float:
        """Adjust p after ``images`` real images since the last update; returns p."""
        if self._count:
            self.rt = self._sum / self._count
            step = math.copysign(images / self.speed, self.rt - self.target)
            self.p = min(max(self.p + step, 0.0), 1.0)
        self._sum, self._count = 0.0, 0
        return self.p

    def state_dict(self) -> dict:
        return {"p": self.p, "rt": self.rt, "sum": self._sum, "count": self._count}

    def load_state_dict(self, state: dict) -> None:
        self.p, self.rt = float(state["p"]), float(state["rt"])
        self._sum, self._count = float(state["sum"]), int(state["count"])


# ----------------------------------------------------------------------------- the real images (--augment)

def _uniform(n: int, lo: float, hi: float, gen: torch.Generator) -> Tensor:
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def flip_mask(n: int, gen: torch.Generator) -> Tensor:
    """(n,) bool: which images to mirror horizontally (probability 1/2)."""
    return torch.rand(n, generator=gen) < 0.5


def scale_matrix(n: int, gen: torch.Generator, amount: float = 0.1) -> Tensor:
    """Isotropic zoom by a factor in [1 - amount, 1 + amount] (log-uniform)."""
    s = torch.exp(_uniform(n, math.log(1 - amount), math.log(1 + amount), gen))
    m = _eye(n)
    m[:, 0, 0] = m[:, 1, 1] = 1 / s  # grid_sample maps output to input coordinates
    return m


def crop_matrix(n: int, gen: torch.Generator, amount: float = 0.1) -> Tensor:
    """A random crop of (1 - u) of the side, u in [0, amount], resized back to full size."""
    keep = 1 - _uniform(n, 0, amount, gen)
    m = _eye(n)
    m[:, 0, 0] = m[:, 1, 1] = keep
    m[:, 0, 2] = _uniform(n, -1, 1, gen) * (1 - keep)
    m[:, 1, 2] = _uniform(n, -1, 1, gen) * (1 - keep)
    return m


def rotate_matrix(n: int, gen: torch.Generator, degrees: float = 10.0) -> Tensor:
    a = _uniform(n, -degrees, degrees, gen) * math.pi / 180
    m = _eye(n)
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
        m = _eye(n)
        for make in geometric:
            m = m @ make(n, gen)
        x = warp(x, m)
    return x
