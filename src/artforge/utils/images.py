"""Turning model outputs into pictures."""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image
from torch import Tensor


def to_uint8(images: Tensor) -> Tensor:
    """Model range [-1, 1] (B, C, H, W) -> uint8 (B, H, W, C) on the CPU."""
    x = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().contiguous()


def to_pil(image_hwc: Tensor | np.ndarray) -> Image.Image:
    arr = np.asarray(image_hwc)
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)


def grid_shape(n: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def make_grid(images_hwc: Tensor | np.ndarray, cols: int | None = None, pad: int = 2,
              background: int = 255) -> Image.Image:
    """uint8 (B, H, W, C) -> one picture, row-major, with a thin border between images."""
    arr = np.asarray(images_hwc)
    b, h, w, c = arr.shape
    rows, cols = grid_shape(b) if cols is None else (math.ceil(b / cols), cols)
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), background, dtype=np.uint8)
    for i in range(b):
        r, col = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        canvas[y:y + h, x:x + w] = arr[i]
    return to_pil(canvas)


def jpeg_roundtrip(image: Image.Image, quality: int) -> Image.Image:
    """``image`` JPEG-encoded at ``quality`` (Pillow's encoder, 4:2:0) and decoded again, in its own mode:
    what sharing a picture does to it."""
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return Image.open(buf).convert(image.mode)


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
