"""Multi-scale sliced Wasserstein distance (Karras et al. 2018, Progressive GAN, sec. 5 and app. D).

Each image set is decomposed into a Laplacian pyramid (5-tap binomial filter) from full resolution
down to 16x16. At each level, random 7x7 neighbourhoods are taken from every image, normalized per
colour channel over the whole set (each set by its own statistics, as in the paper's code, so a
global brightness or contrast change does not count), and the two sets of patch descriptors are compared by the sliced
Wasserstein distance: project on random unit directions, sort, average the absolute differences.
Reported x1e3 as in the paper; needs no pretrained network. Small is better; ~0 for identical sets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _blur(x: Tensor) -> Tensor:
    c = x.shape[1]
    k = (_BINOMIAL[:, None] * _BINOMIAL[None, :]).to(x)[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=c)


def pyramid_down(x: Tensor) -> Tensor:
    return _blur(x)[:, :, ::2, ::2]


def pyramid_up(x: Tensor) -> Tensor:
    b, c, h, w = x.shape
    up = torch.zeros(b, c, h * 2, w * 2, dtype=x.dtype, device=x.device)
    up[:, :, ::2, ::2] = x
    return _blur(up) * 4


def laplacian_pyramid(x: Tensor, min_size: int = 16) -> list[Tensor]:
    """Band-pass levels from full resolution down, the last one the low-pass image at ``min_size``."""
    levels = []
    while x.shape[-1] > min_size:
        down = pyramid_down(x)
        levels.append(x - pyramid_up(down))
        x = down
    levels.append(x)
    return levels


def random_patches(x: Tensor, per_image: int, gen: torch.Generator, size: int = 7) -> Tensor:
    """(B, C, H, W) -> (B * per_image, C * size * size) random neighbourhoods."""
    b, c, h, w = x.shape
    ys = torch.randint(0, h - size + 1, (b, per_image), generator=gen)
    xs = torch.randint(0, w - size + 1, (b, per_image), generator=gen)
    offsets = torch.arange(size)
    rows = (ys[..., None] + offsets).to(x.device)  # (B, P, size)
    cols = (xs[..., None] + offsets).to(x.device)
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    patches = x.permute(0, 2, 3, 1)[batch, rows[..., :, None], cols[..., None, :]]  # (B, P, s, s, C)
    return patches.permute(0, 1, 4, 2, 3).reshape(b * per_image, c * size * size)


def _normalize(desc: Tensor, channels: int) -> Tensor:
    d = desc.view(desc.shape[0], channels, -1)
    d = (d - d.mean(dim=(0, 2), keepdim=True)) / d.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
    return d.reshape(desc.shape[0], -1)


def sliced_wasserstein(a: Tensor, b: Tensor, directions: int, repeats: int, gen: torch.Generator) -> float:
    """Mean over random unit projections of the 1-D Wasserstein-1 distance of a and b (same size)."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    total = 0.0
    for _ in range(repeats):
        dirs = torch.randn(a.shape[1], directions, generator=gen).to(a)
        dirs /= dirs.norm(dim=0, keepdim=True)
        pa, _ = torch.sort(a @ dirs, dim=0)
        pb, _ = torch.sort(b @ dirs, dim=0)
        total += (pa - pb).abs().mean().item()
    return total / repeats


def swd(real: Tensor, fake: Tensor, *, patches_per_image: int = 128, directions: int = 512,
        repeats: int = 4, seed: int = 0, min_size: int = 16) -> dict[str, float]:
    """Multi-scale SWD between two image batches in [-1, 1] (B, C, H, W); x1e3 per level and mean."""
    gen = torch.Generator().manual_seed(seed)
    real, fake = real.float(), fake.float()
    out = {}
    levels_r = laplacian_pyramid(real, min(min_size, real.shape[-1]))
    levels_f = laplacian_pyramid(fake, min(min_size, fake.shape[-1]))
    for lr, lf in zip(levels_r, levels_f):
        c = lr.shape[1]
        # The same patch positions in both sets: identical sets then score exactly 0, and the
        # comparison is not diluted by where the patches happened to fall.
        positions = gen.get_state()
        dr = _normalize(random_patches(lr, patches_per_image, gen), c)
        gen.set_state(positions)
        df = _normalize(random_patches(lf, patches_per_image, gen), c)
        out[f"swd{lr.shape[-1]}"] = 1e3 * sliced_wasserstein(dr, df, directions, repeats, gen)
    out["swd"] = sum(out.values()) / len(out)
    return out
