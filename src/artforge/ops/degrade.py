"""Seeded image degradations for training an upscaler from high-resolution art alone.

A low-resolution input is made from each high-resolution image by blur, downscaling, noise and
JPEG compression, in an order and at strengths drawn per image (after Wang et al. 2021,
Real-ESRGAN, which degrades in random order; a single pass here, not their second-order chain).
Everything comes from the ``torch.Generator`` passed in, so the same stream gives the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ..utils.images import jpeg_roundtrip

STEPS = ("blur", "downscale", "noise", "jpeg")
RESIZE_MODES = ("bilinear", "bicubic", "area")


@dataclass(frozen=True)
class Degradations:
    blur: float = 0.7  # probability of each step (downscaling always happens)
    noise: float = 0.5
    jpeg: float = 0.6
    blur_sigma: tuple[float, float] = (0.2, 2.0)  # in high-resolution pixels
    noise_sigma: tuple[float, float] = (0.005, 0.06)  # in [-1, 1] units (0.6 to 8 of 255)
    jpeg_quality: tuple[int, int] = (40, 95)


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """(B, C, H, W) blurred by a separable Gaussian of ``sigma`` pixels, radius round(3 sigma), edges mirrored."""
    radius = int(3 * sigma + 0.5)
    if radius < 1:
        return x
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = (k / k.sum()).to(x)
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def downscale(x: Tensor, scale: int, mode: str) -> Tensor:
    size = (x.shape[2] // scale, x.shape[3] // scale)
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode=mode, antialias=True, align_corners=False)


def jpeg(x: Tensor, quality: int) -> Tensor:
    """(1, C, H, W) in [-1, 1] through a JPEG encode and decode at ``quality`` (Pillow)."""
    array = ((x[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
    image = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    decoded = np.asarray(jpeg_roundtrip(image, quality))
    decoded = decoded[..., None] if decoded.ndim == 2 else decoded
    return (torch.from_numpy(decoded.copy()).permute(2, 0, 1)[None].to(x) / 127.5 - 1)


def degrade_one(hr: Tensor, scale: int, gen: torch.Generator, d: Degradations = Degradations()) -> Tensor:
    """(1, C, H, W) high-resolution image in [-1, 1] -> (1, C, H/scale, W/scale) degraded input."""
    order = [STEPS[i] for i in torch.randperm(len(STEPS), generator=gen).tolist()]
    x = hr
    for step in order:
        if step == "downscale":
            x = downscale(x, scale, RESIZE_MODES[int(torch.randint(len(RESIZE_MODES), (), generator=gen))])
        elif step == "blur" and float(torch.rand((), generator=gen)) < d.blur:
            x = gaussian_blur(x, _uniform(gen, *d.blur_sigma) * (x.shape[2] / hr.shape[2]))
        elif step == "noise" and float(torch.rand((), generator=gen)) < d.noise:
            sigma = _uniform(gen, *d.noise_sigma)
            x = x + sigma * torch.randn(x.shape, generator=gen).to(x)
        elif step == "jpeg" and float(torch.rand((), generator=gen)) < d.jpeg:
            x = jpeg(x, round(_uniform(gen, *d.jpeg_quality)))
    return x.clamp(-1, 1)


def degrade(hr: Tensor, scale: int, gen: torch.Generator, d: Degradations = Degradations()) -> Tensor:
    """(B, C, H, W) -> (B, C, H/scale, W/scale): each image degraded by its own draws, in batch order."""
    if hr.shape[2] % scale or hr.shape[3] % scale:
        raise ValueError(f"image sides {tuple(hr.shape[2:])} are not multiples of the scale {scale}")
    with torch.autocast(hr.device.type, enabled=False):  # data preparation, in float32 even inside a bf16 step
        return torch.cat([degrade_one(hr[i:i + 1].float(), scale, gen, d) for i in range(len(hr))])


