"""What projection, palette and layout control share: colour maths, reading image inputs, and one
optimizer that moves a batch of styles toward a target while staying near where they started.

Colours are compared in CIE Lab, where Euclidean distance (Delta E 1976) roughly follows perceived
difference: a Delta E near 2 is barely visible, 10 clearly different, 50 a different colour.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageColor, ImageOps, UnidentifiedImageError
from torch import Tensor

from ..errors import UsageError
from ..modality import IMAGE
from ._output import default_folder

# sRGB (D65) linear RGB -> XYZ, and the D65 white point: the standard constants.
_RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                            [0.2126729, 0.7151522, 0.0721750],
                            [0.0193339, 0.1191920, 0.9503041]])
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])
_DELTA = 6 / 29


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB in [0, 1], (..., 3) -> CIE Lab (..., 3): L in [0, 100], a and b about [-128, 127]. Differentiable."""
    rgb = rgb.clamp(0, 1)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.to(rgb).T / _WHITE.to(rgb)
    # the clamp keeps the cube root's infinite slope at 0 out of the unused branch's gradient (0 * inf = nan)
    f = torch.where(xyz > _DELTA ** 3, xyz.clamp_min(_DELTA ** 3) ** (1 / 3), xyz / (3 * _DELTA ** 2) + 4 / 29)
    return torch.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], dim=-1)


def delta_e(lab_a: Tensor, lab_b: Tensor, eps: float = 1e-6) -> Tensor:
    """Delta E 1976 between Lab colours, broadcast over leading dims; eps keeps sqrt's gradient finite at 0."""
    return ((lab_a - lab_b).square().sum(-1) + eps).sqrt()


def model_to_rgb(images: Tensor) -> Tensor:
    """Model output (B, C, H, W) about [-1, 1] -> (B, H, W, 3) in [0, 1]; grayscale repeated to 3 channels."""
    rgb = ((images + 1) / 2).permute(0, 2, 3, 1)
    return rgb.expand(*rgb.shape[:-1], 3) if rgb.shape[-1] == 1 else rgb


def uint8_to_lab(colours: np.ndarray) -> Tensor:
    """uint8 (..., 3) or (..., 1) colours -> Lab (..., 3) float32."""
    rgb = torch.as_tensor(np.asarray(colours), dtype=torch.float32) / 255
    return rgb_to_lab(rgb.expand(*rgb.shape[:-1], 3) if rgb.shape[-1] == 1 else rgb)


def parse_colour(text: str, flag: str) -> np.ndarray:
    """'#e63946', 'e63946', '#f00' or a CSS name -> uint8 (3,); else a one-line UsageError naming ``flag``."""
    text = text.strip()
    candidate = f"#{text}" if len(text) in (3, 6) and all(c in "0123456789abcdefABCDEF" for c in text) else text
    try:
        return np.array(ImageColor.getrgb(candidate)[:3], dtype=np.uint8)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a colour", f"pass hex colours like '#e63946', as in {flag} "
                         "'#1d3557,#e63946'") from None


def read_image(path: str | os.PathLike, flag: str, channels: int | None = None,
               shape: tuple[int, int] | None = None, resample: str = "lanczos") -> np.ndarray:
    """An image file as uint8 (H, W, C): C = ``channels`` (3: RGB, 1: grayscale) and, with ``shape``
    (H, W), centre-cropped to its aspect and resized to it (``resample`` "box" averages, without
    Lanczos's ringing: for masks). Unreadable files are a one-line UsageError."""
    try:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            if shape is not None:
                im = ImageOps.fit(im, (shape[1], shape[0]), Image.Resampling[resample.upper()])
            arr = np.array(im, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        detail = " ".join(str(exc).split())[:100]
        raise UsageError(f"{flag} {path} cannot be read as an image ({detail})",
                         "pass a PNG, JPEG, WebP, GIF, BMP or TIFF file") from None
    return arr[:, :, None] if arr.ndim == 2 else arr


def to_model_range(images: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    """uint8 (N, H, W, C) -> float32 (N, C, H, W) in [-1, 1], as G renders (the image modality's mapping)."""
    return IMAGE.to_model(torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2)).to(device)


def lr_at(progress: float, base: float, rampup: float = 0.05, rampdown: float = 0.25) -> float:
    """The learning rate at ``progress`` in [0, 1] of an optimization: a short linear warm-up, then a
    cosine ramp-down over the last quarter (as StyleGAN2's projector), so the last steps settle."""
    down = min(1.0, (1 - progress) / rampdown)
    return base * 0.5 * (1 - math.cos(math.pi * down)) * min(1.0, progress / rampup)


PROXIMITY_WEIGHT = 1.0  # weight of mean((ws - ws0)^2) at strength 0.5 relative to the target loss's


def steer(G, ws0: Tensor, target_loss: Callable[[Tensor], Tensor], *, strength: float = 1.0, steps: int = 100,
          lr: float = 0.05, space: str = "w+", progress: bool = False, desc: str = "optimizing") -> tuple[Tensor, list]:
    """Styles (B, num_ws, w_dim) moved from ``ws0`` to lower ``target_loss``, and the loss of each step.

    ``target_loss(images)`` maps G's renders (B, C, H, W) to per-image losses (B,). Minimized with Adam:
    ``strength * target + (1 - strength) * PROXIMITY_WEIGHT * mean((ws - ws0)^2)``, summed over the
    batch so each image's optimization is independent of the others. ``space`` w+ moves each layer's
    style on its own; w moves them all by one offset. G must be frozen (only the offset gets gradients).
    History entries are the batch mean of the target loss, one per step.
    """
    device = next(G.parameters()).device
    ws0 = G.broadcast(ws0.to(device).float()).detach()
    if strength == 0:  # nothing pulls away from the start: keep it exactly
        return ws0.cpu(), []
    offset = torch.zeros(len(ws0), ws0.shape[1] if space == "w+" else 1, ws0.shape[2], device=device,
                         requires_grad=True)
    opt = torch.optim.Adam([offset], lr=lr, betas=(0.9, 0.999))
    history = []
    from tqdm import tqdm

    for step in tqdm(range(steps), desc=desc, unit="step", disable=not progress, leave=False, mininterval=0.5):
        for group in opt.param_groups:
            group["lr"] = lr_at((step + 1) / steps, lr)
        target = target_loss(G.synthesis(ws0 + offset))
        loss = strength * target.sum()
        if strength < 1:
            loss = loss + (1 - strength) * PROXIMITY_WEIGHT * offset.square().mean(dim=(1, 2)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(float(target.detach().mean()))
    return (ws0 + offset).detach().cpu(), history


def output_folder(out: str | None, model, name: str) -> Path:
    """--out, else RUN/explore/<name> (for an exported model, inside its folder); created."""
    folder = Path(out) if out else default_folder(model, name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
