"""Multi-scale sliced Wasserstein distance (Karras et al. 2018, Progressive GAN, sec. 5 and app. D).

Each image set is decomposed into a Laplacian pyramid (5-tap binomial filter) from full resolution
down to a shorter side of 16. At each level, random 7x7 neighbourhoods are taken from every image, normalized per
colour channel over the whole set (each set by its own statistics, as in the paper's code, so a
global brightness or contrast change does not count), and the two sets of patch descriptors are compared by the sliced
Wasserstein distance: project on random unit directions, sort, average the absolute differences.
Reported x1e3 as in the paper; needs no pretrained network. Small is better; ~0 for identical sets.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
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
    """Band-pass levels from full resolution down, the last one the low-pass image whose shorter side is
    ``min_size`` (non-square images keep their aspect at every level)."""
    levels = []
    while min(x.shape[-2:]) > min_size:
        down = pyramid_down(x)
        levels.append(x - pyramid_up(down))
        x = down
    levels.append(x)
    return levels


def random_patches(x: Tensor, per_image: int, gen: torch.Generator, size: int = 7) -> Tensor:
    """(B, C, H, W) -> (B * per_image, C * size * size) neighbourhoods at positions drawn from ``gen``."""
    b, _, h, w = x.shape
    ys = torch.randint(0, h - size + 1, (b, per_image), generator=gen)
    xs = torch.randint(0, w - size + 1, (b, per_image), generator=gen)
    return patches_at(x, ys, xs, size)


def _normalize(desc: Tensor, channels: int) -> Tensor:
    """Zero mean, unit std per colour channel over the whole set (float32)."""
    d = desc.float().view(desc.shape[0], channels, -1)
    d = (d - d.mean(dim=(0, 2), keepdim=True)) / d.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
    return d.reshape(desc.shape[0], -1)


def _sorted_projections(x: Tensor, dirs: Tensor) -> np.ndarray:
    """(N, D) @ (D, K) -> (K, N) projections, each row sorted.

    NumPy's sort of contiguous float32 rows (SIMD-vectorized where the CPU has it) is several
    times faster than torch.sort on the CPU; it releases the GIL, so rows are split over threads.
    """
    proj = (dirs.T @ x.T).cpu().numpy()  # (K, N), contiguous rows: no transposed copy
    bounds = np.linspace(0, len(proj), max(1, min(torch.get_num_threads(), len(proj))) + 1).astype(int)

    def sort_rows(lo: int, hi: int) -> None:
        proj[lo:hi].sort(axis=1)  # in place, on a view

    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        list(pool.map(sort_rows, bounds[:-1], bounds[1:]))
    return proj


def sliced_wasserstein(a: Tensor, b: Tensor, directions: int, repeats: int, gen: torch.Generator) -> float:
    """Mean over random unit projections of the 1-D Wasserstein-1 distance of a and b (same size)."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    total = 0.0
    for _ in range(repeats):
        dirs = torch.randn(a.shape[1], directions, generator=gen).to(a)
        dirs /= dirs.norm(dim=0, keepdim=True)
        pa, pb = _sorted_projections(a, dirs), _sorted_projections(b, dirs)
        total += float(np.abs(pa - pb).mean(dtype=np.float64))
    return total / repeats


def _mix(x: Tensor) -> Tensor:
    """A splitmix64-style integer hash (int64 arithmetic wraps): deterministic pseudo-random bits."""
    x = (x ^ (x >> 31)) * 0x5DEECE66D
    x = (x ^ (x >> 29)) * 0x27BB2EE687B0B0FD
    return (x ^ (x >> 32)) & 0x7FFFFFFFFFFF


def patch_positions(image_index: Tensor, per_image: int, level: int, seed: int, h: int, w: int,
                    size: int = 7) -> tuple[Tensor, Tensor]:
    """(B, per_image) top-left corners that depend only on (seed, image index, level, patch number),
    so descriptors do not depend on how the images were batched."""
    patch = torch.arange(per_image)
    key = ((image_index[:, None] * 1_000_003 + patch[None, :]) * 64 + level) * 1_000_033 + seed
    bits = _mix(key)
    return bits % (h - size + 1), (bits >> 20) % (w - size + 1)


def patches_at(x: Tensor, ys: Tensor, xs: Tensor, size: int = 7) -> Tensor:
    """(B, C, H, W) and (B, P) corners -> (B * P, C * size * size) descriptors."""
    b, c = x.shape[:2]
    offsets = torch.arange(size)
    rows = (ys[..., None] + offsets).to(x.device)  # (B, P, size)
    cols = (xs[..., None] + offsets).to(x.device)
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    patches = x.permute(0, 2, 3, 1)[batch, rows[..., :, None], cols[..., None, :]]  # (B, P, s, s, C)
    return patches.permute(0, 1, 4, 2, 3).reshape(-1, c * size * size)


class PatchDescriptors:
    """Streams image batches into per-level 7x7 patch descriptors, so large sets fit in memory.

    Descriptors are kept in float16 (a third of what the images at float32 would take). Patch
    positions depend only on (seed, image index, level): two identical sets score exactly 0, and
    the result does not depend on the batch size.
    """

    def __init__(self, patches_per_image: int = 128, seed: int = 0, min_size: int = 16):
        self.patches_per_image = patches_per_image
        self.seed = seed
        self.min_size = min_size
        self.levels: dict[int, list[Tensor]] = {}
        self.channels = 0
        self.count = 0

    def add(self, images: Tensor) -> None:
        """A batch (B, C, H, W): uint8 in [0, 255] or float in [-1, 1]."""
        x = images.float() / 127.5 - 1 if images.dtype == torch.uint8 else images.float()
        index = torch.arange(self.count, self.count + len(x))
        self.channels = x.shape[1]
        for level, band in enumerate(laplacian_pyramid(x, min(self.min_size, *x.shape[-2:]))):
            ys, xs = patch_positions(index, self.patches_per_image, level, self.seed, *band.shape[-2:])
            # a level is named by its longer side, as a model's resolution is: swd64 for 64x48 images
            self.levels.setdefault(max(band.shape[-2:]), []).append(patches_at(band, ys, xs).to(torch.float16))
        self.count += len(x)

    def arrays(self) -> dict[int, Tensor]:
        return {size: torch.cat(parts) for size, parts in self.levels.items()}


def swd_from_descriptors(real: PatchDescriptors, fake: PatchDescriptors, *, directions: int = 128,
                         repeats: int = 4, seed: int = 0) -> dict[str, float]:
    """SWD x1e3 per level (keys swd64, swd32, ...) and their mean (key swd)."""
    gen = torch.Generator().manual_seed(seed)
    real_levels, fake_levels = real.arrays(), fake.arrays()
    out = {}
    for size in sorted(set(real_levels) & set(fake_levels), reverse=True):
        dr = _normalize(real_levels[size], real.channels)
        df = _normalize(fake_levels[size], fake.channels)
        out[f"swd{size}"] = 1e3 * sliced_wasserstein(dr, df, directions, repeats, gen)
    out["swd"] = sum(out.values()) / len(out)
    return out


def swd(real: Tensor, fake: Tensor, *, patches_per_image: int = 128, directions: int = 128,
        repeats: int = 4, seed: int = 0, min_size: int = 16) -> dict[str, float]:
    """Multi-scale SWD between two image batches in [-1, 1] (B, C, H, W); x1e3 per level and mean.

    Defaults are Progressive GAN's (128 patches per image, 4 repeats of 128 directions).
    """
    sets = []
    for images in (real, fake):
        desc = PatchDescriptors(patches_per_image, seed, min_size)
        desc.add(images)
        sets.append(desc)
    return swd_from_descriptors(*sets, directions=directions, repeats=repeats, seed=seed)
