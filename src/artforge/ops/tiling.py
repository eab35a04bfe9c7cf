"""Tiled inference: an image-to-image network applied to an image of any size, tile by tile.

Each tile is run with ``pad`` pixels of real context on every side (clamped at the image's
border) and only its own region kept, so when ``pad`` covers the network's receptive field a tile's
pixels are the pixels the whole image would have given. Neighbouring tiles also overlap by
``overlap`` pixels and are blended there with linear ramps, which hides any remaining difference
(a network whose receptive field exceeds ``pad``, or normalization over the tile) instead of
leaving a seam. Memory is bounded by the tile size, not the image's.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering ``length`` with tiles of ``tile`` that overlap by at least ``overlap``."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def _ramp(size: int, ramp: int, start: bool, end: bool) -> Tensor:
    """1-D blending weights: 1 inside, rising over ``ramp`` pixels at a side that has a neighbour."""
    w = torch.ones(size)
    if ramp > 0:
        rise = (torch.arange(ramp, dtype=torch.float32) + 0.5) / ramp  # never 0: every pixel counts
        if start:
            w[:ramp] = torch.minimum(w[:ramp], rise)
        if end:
            w[-ramp:] = torch.minimum(w[-ramp:], rise.flip(0))
    return w


def tiled(fn: Callable[[Tensor], Tensor], x: Tensor, *, tile: int = 256, overlap: int = 16, pad: int = 16,
          scale: int = 1, progress: Callable[[int, int], None] | None = None) -> Tensor:
    """``fn`` applied to (B, C, H, W) ``x`` in tiles; ``fn`` maps (B, C, h, w) to (B, C', h*scale, w*scale).

    ``progress(done, total)`` is called after each tile. Images that fit one tile run whole.
    """
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile), got overlap {overlap} with tile {tile}")
    b, _, h, w = x.shape
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    if len(ys) == len(xs) == 1:
        out = fn(x)
        if progress:
            progress(1, 1)
        return out
    acc = weights = None
    total, done = len(ys) * len(xs), 0
    for y0 in ys:
        for x0 in xs:
            th, tw = min(tile, h), min(tile, w)
            cy0, cx0 = max(0, y0 - pad), max(0, x0 - pad)
            cy1, cx1 = min(h, y0 + th + pad), min(w, x0 + tw + pad)
            out = fn(x[:, :, cy0:cy1, cx0:cx1])
            oy, ox = (y0 - cy0) * scale, (x0 - cx0) * scale
            out = out[:, :, oy:oy + th * scale, ox:ox + tw * scale].float()
            if acc is None:
                acc = out.new_zeros(b, out.shape[1], h * scale, w * scale)
                weights = out.new_zeros(1, 1, h * scale, w * scale)
            ramp = overlap * scale
            wy = _ramp(th * scale, ramp, y0 > 0, y0 + th < h).to(out)
            wx = _ramp(tw * scale, ramp, x0 > 0, x0 + tw < w).to(out)
            mask = wy[:, None] * wx[None, :]  # (th*s, tw*s)
            region = (slice(None), slice(None), slice(y0 * scale, (y0 + th) * scale), slice(x0 * scale, (x0 + tw) * scale))
            acc[region] += out * mask
            weights[region] += mask
            done += 1
            if progress:
                progress(done, total)
    return acc / weights
