"""Palette control: recolour a seed's image toward a palette (hex colours, or a reference image's
main colours) by optimizing its styles, so the model itself repaints it and the result stays an
image it could make (a filter would only remap pixels).

The loss is, per pixel, a soft minimum of its colour distance (Delta E in Lab) to the palette's
colours, plus a smaller coverage term (each palette colour's soft-minimum distance to the image's
pixels) so the image does not settle on one palette colour alone. ``--strength`` weighs it against
staying near the seed's styles (``steering.steer``).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .. import provenance
from ..options import PaletteConfig, parse_seeds, to_dict
from ..errors import UsageError
from .steering import (delta_e, model_to_rgb, output_folder, parse_colour, read_image, rgb_to_lab, steer,
                       uint8_to_lab)

SOFTNESS = 5.0  # Delta E: below it a pixel counts as near several palette colours at once (soft minimum)
COVERAGE_WEIGHT = 0.25  # of the coverage term beside the pixels' distance
MAX_COLOURS = 32


# ----------------------------------------------------------------------------- palettes

def palette_from_hex(colours: str | list[str]) -> np.ndarray:
    """'#1d3557,#e63946' or a list of colours (hex or CSS names) -> uint8 (k, 3)."""
    items = colours.split(",") if isinstance(colours, str) else list(colours)
    items = [c for c in (c.strip() for c in items) if c]
    if not 1 <= len(items) <= MAX_COLOURS:
        raise UsageError(f"--colors names {len(items)} colours; a palette has 1 to {MAX_COLOURS}",
                         "pass e.g. --colors '#1d3557,#e63946,#f1faee'")
    return np.stack([parse_colour(c, "--colors") for c in items])


def palette_from_image(path: str | Path, k: int = 5, seed: int = 0) -> np.ndarray:
    """The ``k`` main colours of an image, uint8 (k', 3), most common first: seeded k-means (k-means++
    starts) over its pixels in RGB; k' < k when the image has fewer distinct colours."""
    from PIL import Image
    from scipy.cluster.vq import kmeans2

    image = read_image(path, "--palette-image", 3)
    small = np.asarray(Image.fromarray(image).resize((64, 64), Image.Resampling.BOX)) if max(image.shape[:2]) > 64 \
        else image  # 4096 pixels are plenty to find a handful of colours, and fast
    pixels = small.reshape(-1, 3).astype(np.float64)
    k = min(k, len(np.unique(pixels, axis=0)))
    with warnings.catch_warnings():  # an empty cluster is dropped below; scipy's warning would only alarm
        warnings.simplefilter("ignore")
        centres, assigned = kmeans2(pixels, k, minit="++", seed=seed)
    counts = np.bincount(assigned, minlength=len(centres))
    order = [i for i in np.argsort(-counts, kind="stable") if counts[i]]
    return np.clip(np.rint(centres[order]), 0, 255).astype(np.uint8)


def swatches(palette: np.ndarray, height: int, width: int | None = None) -> np.ndarray:
    """uint8 (height, width, 3): the palette as vertical stripes, to show beside the images."""
    width = width or height
    columns = np.minimum(np.arange(width) * len(palette) // width, len(palette) - 1)
    return np.broadcast_to(palette[columns][None], (height, width, 3)).copy()


def as_rgb(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 1 or 3) -> (N, H, W, 3), so grayscale renders sit beside colour swatches."""
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


# ----------------------------------------------------------------------------- losses and metric (pure)

def soft_min(distances: Tensor, dim: int, softness: float = SOFTNESS) -> Tensor:
    """-s log sum exp(-d / s): a smooth minimum along ``dim`` (s -> 0 gives the minimum), so every
    near colour gets some gradient."""
    return -softness * torch.logsumexp(-distances / softness, dim=dim)


def palette_loss(rgb: Tensor, palette_lab: Tensor, coverage: float = COVERAGE_WEIGHT) -> Tensor:
    """Per-image (B,) loss of (B, H, W, 3) images in [0, 1] against a (k, 3) Lab palette, in units of 100 Delta E:
    mean over pixels of their soft-min distance to the palette, plus ``coverage`` times the mean over
    palette colours of their soft-min distance to the pixels."""
    lab = rgb_to_lab(rgb).flatten(1, 2)  # (B, P, 3)
    d = delta_e(lab[:, :, None], palette_lab[None, None])  # (B, P, k)
    pixels_to_palette = soft_min(d, dim=2).mean(1)
    palette_to_pixels = soft_min(d, dim=1).mean(1)
    return (pixels_to_palette + coverage * palette_to_pixels) / 100


def palette_distance(images: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Per-image (N,) mean Delta E from each pixel of uint8 (N, H, W, C) images to its nearest palette
    colour (uint8 (k, 3)): 0 when every pixel is a palette colour, about 2 when the difference is barely visible."""
    lab = uint8_to_lab(images).flatten(1, 2)  # (N, P, 3)
    return delta_e(lab[:, :, None], uint8_to_lab(palette)[None, None], eps=0).min(2).values.mean(1).numpy()


# ----------------------------------------------------------------------------- recolouring

def recolour(model, ws0: Tensor, palette: np.ndarray, *, strength: float = 0.5, steps: int = 100, lr: float = 0.05,
             space: str = "w+", progress: bool = False) -> tuple[Tensor, list]:
    """Styles (N, num_ws, w_dim) of ``ws0``'s images recoloured toward ``palette`` (uint8 (k, 3)), and the
    palette loss of each step."""
    model._require_styles("palette control")
    palette_lab = uint8_to_lab(palette).to(model.device)
    return steer(model.G, ws0, lambda images: palette_loss(model_to_rgb(images), palette_lab), strength=strength,
                 steps=steps, lr=lr, space=space, progress=progress, desc="recolouring")


def config_palette(cfg: PaletteConfig) -> np.ndarray:
    return palette_from_hex(cfg.colors) if cfg.colors is not None else palette_from_image(cfg.palette_image, cfg.k)


def palette_to_folder(cfg: PaletteConfig, announce=print) -> dict:
    """``artforge explore palette``: palette.png, before-seedN.png, after-seedN.png and comparison.png
    (rows: before, after; the palette at the end), each generated PNG carrying its styles."""
    from ..sampling import load
    from ..utils.images import make_grid

    palette = config_palette(cfg)
    model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    model._require_styles("palette control")
    seeds = parse_seeds(cfg.seeds)
    started = time.perf_counter()
    ws0 = model.styles(seeds, cfg.truncation, cfg.label)
    ws, history = recolour(model, ws0, palette, strength=cfg.strength, steps=cfg.steps, lr=cfg.lr, space=cfg.space,
                           progress=not cfg.quiet)
    before, after = model.render(ws0), model.render(ws)
    seconds = time.perf_counter() - started
    out = output_folder(cfg.out, model, f"palette-seed{seeds[0]:04d}")
    settings = {**to_dict(cfg), "palette": ["#%02x%02x%02x" % tuple(c) for c in palette]}
    distance_before, distance_after = palette_distance(before, palette), palette_distance(after, palette)
    files = []
    for i, seed in enumerate(seeds):
        for name, styles, image, distance in (("before", ws0, before, distance_before),
                                              ("after", ws, after, distance_after)):
            record = provenance.describe(model, "palette" if name == "after" else "sample", seed=seed, label=cfg.label,
                                         truncation=cfg.truncation, ws=styles[i], settings=settings)
            record["result"] = {"palette_distance": float(distance[i])}
            files.append(provenance.save_image(out / f"{name}-seed{seed:04d}.png", image[i], record))
    swatch = swatches(palette, *before.shape[1:3])
    make_grid(swatch[None], cols=1).save(out / "palette.png")
    make_grid(np.concatenate([as_rgb(before), as_rgb(after), swatch[None]]), cols=len(seeds)).save(
        out / "comparison.png")
    return {"out": out, "files": files, "palette": settings["palette"], "seconds": seconds,
            "distance_before": float(distance_before.mean()), "distance_after": float(distance_after.mean()),
            "loss": (history[0], history[-1]) if history else None}
