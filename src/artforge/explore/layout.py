"""Composition control: a rough layout (a few coloured discs, or a mask) steers where colours go.

The render is shrunk to a coarse grid (``LAYOUT_SIDE`` cells on its shorter side, averaging each
cell: only the composition counts, not detail) and compared in Lab with the layout's colours,
weighted by the layout's coverage: outside the discs (or the mask's dark part, unless --background
gives it a colour) the image is free. ``--strength`` weighs this against staying near the seed's
styles (``steering.steer``), so the model keeps drawing its own kind of image within the layout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.nn import functional as F

from .. import provenance
from ..options import LayoutConfig, parse_seeds, to_dict
from ..errors import UsageError
from .palette import as_rgb
from .steering import delta_e, model_to_rgb, output_folder, parse_colour, read_image, rgb_to_lab, steer, uint8_to_lab

LAYOUT_SIDE = 16  # cells on the layout grid's shorter side: coarse enough that only composition counts
BLOBS_EXAMPLE = "pass e.g. --blobs '0.5,0.6,0.25,#e63946;0.5,0.2,0.2,#1d3557'"


@dataclass(frozen=True)
class Blob:
    x: float  # centre, as a fraction of the width (0: left)
    y: float  # as a fraction of the height (0: top)
    r: float  # radius, as a fraction of the shorter side
    colour: tuple[int, int, int]


@dataclass
class Layout:
    colours: np.ndarray  # uint8 (h, w, 3): the colour wanted in each cell
    weight: np.ndarray  # float32 (h, w) in [0, 1]: how much each cell counts (0: free)


# ----------------------------------------------------------------------------- making layouts

def parse_blobs(text: str) -> list[Blob]:
    """'x,y,r,#hex;...' -> blobs; a one-line UsageError for anything else."""
    blobs = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        fields = [f.strip() for f in part.split(",")]
        try:
            x, y, r = (float(f) for f in fields[:3])
        except ValueError:
            x = y = r = float("nan")
        if len(fields) != 4 or not (0 <= x <= 1 and 0 <= y <= 1 and 0 < r <= 2):
            raise UsageError(f"--blobs {part!r} is not 'x,y,r,#colour' with x, y in [0, 1] and r in (0, 2]",
                             BLOBS_EXAMPLE)
        blobs.append(Blob(x, y, r, tuple(int(c) for c in parse_colour(fields[3], "--blobs"))))
    if not blobs:
        raise UsageError("--blobs names no blob", BLOBS_EXAMPLE)
    return blobs


def grid_shape(image_shape: tuple[int, int], side: int = LAYOUT_SIDE) -> tuple[int, int]:
    """(h, w) of the layout grid for an (H, W) image: ``side`` cells on the shorter side, at most the image's."""
    height, width = image_shape
    scale = min(1.0, side / min(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def layout_from_blobs(blobs: list[Blob], shape: tuple[int, int]) -> Layout:
    """Discs on an (h, w) grid, each cell's weight the share of it a disc covers (soft edges);
    a later blob paints over an earlier one."""
    h, w = shape
    sub = 4  # 4x4 samples per cell: smooth coverage, so a disc's edge moves the loss continuously
    ys, xs = (np.mgrid[:h * sub, :w * sub] + 0.5) / sub
    colours, weight = np.zeros((h * sub, w * sub, 3)), np.zeros((h * sub, w * sub))
    for blob in blobs:
        inside = (xs - blob.x * w) ** 2 + (ys - blob.y * h) ** 2 <= (blob.r * min(h, w)) ** 2
        colours[inside], weight[inside] = blob.colour, 1.0
    cells = lambda a: a.reshape(h, sub, w, sub, *a.shape[2:]).mean((1, 3))  # noqa: E731 (average each cell)
    covered = cells(weight)
    mean_colour = cells(colours * weight[..., None]) / np.maximum(covered, 1e-8)[..., None]
    return Layout(np.clip(np.rint(mean_colour), 0, 255).astype(np.uint8), covered.astype(np.float32))


def layout_from_mask(path: str, shape: tuple[int, int], colour: str = "#000000",
                     background: str | None = None) -> Layout:
    """A mask image's bright part wants ``colour``; its dark part ``background``, or is free when None.
    Gray levels blend: a mid-gray cell counts half (or wants the halfway colour, with a background)."""
    mask = read_image(path, "--mask", 1, shape, resample="box").astype(np.float32)[..., 0] / 255  # (h, w), 1 = bright
    fg = parse_colour(colour, "--color").astype(np.float32)
    if background is None:
        return Layout(np.broadcast_to(fg.astype(np.uint8), (*shape, 3)).copy(), mask)
    bg = parse_colour(background, "--background").astype(np.float32)
    colours = bg + mask[..., None] * (fg - bg)
    return Layout(np.clip(np.rint(colours), 0, 255).astype(np.uint8), np.ones(shape, np.float32))


def layout_picture(layout: Layout, image_shape: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W, 3): the layout at image size, its colours over light gray where it is free."""
    free = np.array([224, 224, 224], np.float32)
    cells = free + layout.weight[..., None] * (layout.colours.astype(np.float32) - free)
    cells = Image.fromarray(np.clip(np.rint(cells), 0, 255).astype(np.uint8))
    return np.asarray(cells.resize((image_shape[1], image_shape[0]), Image.Resampling.NEAREST))


# ----------------------------------------------------------------------------- loss and metric (pure)

def coarse(images: Tensor, shape: tuple[int, int]) -> Tensor:
    """(B, C, H, W) -> (B, C, h, w), each cell the mean of the pixels it covers."""
    return F.adaptive_avg_pool2d(images, shape)


def layout_loss(rgb: Tensor, target_lab: Tensor, weight: Tensor) -> Tensor:
    """Per-image (B,) weighted mean Delta E / 100 of (B, h, w, 3) coarse images in [0, 1] against the
    layout's (h, w, 3) Lab colours, weighted by its (h, w) coverage."""
    d = delta_e(rgb_to_lab(rgb), target_lab[None])  # (B, h, w)
    return (d * weight).sum((1, 2)) / weight.sum().clamp_min(1e-8) / 100


def layout_distance(images: np.ndarray, layout: Layout) -> np.ndarray:
    """Per-image (N,) mean Delta E between uint8 (N, H, W, C) images, averaged over the layout's cells,
    and the layout's colours, weighted by its coverage: how well the composition follows it."""
    x = coarse(torch.as_tensor(as_rgb(images)).permute(0, 3, 1, 2).float(), layout.weight.shape)
    lab = rgb_to_lab(x.permute(0, 2, 3, 1) / 255)
    weight = torch.as_tensor(layout.weight)
    d = delta_e(lab, uint8_to_lab(layout.colours)[None], eps=0)
    return ((d * weight).sum((1, 2)) / weight.sum().clamp_min(1e-8)).numpy()


# ----------------------------------------------------------------------------- steering

def steer_layout(model, ws0: Tensor, layout: Layout, *, strength: float = 0.5, steps: int = 100, lr: float = 0.05,
                 space: str = "w+", progress: bool = False) -> tuple[Tensor, list]:
    """Styles (N, num_ws, w_dim) of ``ws0``'s images moved toward ``layout``, and the layout loss of each step."""
    model._require_styles("layout control")
    target = uint8_to_lab(layout.colours).to(model.device)
    weight = torch.as_tensor(layout.weight, device=model.device)
    shape = layout.weight.shape
    return steer(model.G, ws0, lambda images: layout_loss(model_to_rgb(coarse(images, shape)), target, weight),
                 strength=strength, steps=steps, lr=lr, space=space, progress=progress, desc="steering")


def config_layout(cfg: LayoutConfig, image_shape: tuple[int, int]) -> Layout:
    shape = grid_shape(image_shape)
    if cfg.blobs is not None:
        return layout_from_blobs(parse_blobs(cfg.blobs), shape)
    return layout_from_mask(cfg.mask, shape, cfg.color, cfg.background)


def layout_to_folder(cfg: LayoutConfig, announce=print) -> dict:
    """``artforge explore layout``: layout.png, before-seedN.png, after-seedN.png and comparison.png
    (rows: layout, before, after), each generated PNG carrying its styles."""
    from ..sampling import load
    from ..utils.images import make_grid, to_pil

    model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    model._require_styles("layout control")
    image_shape = model.model_config.image_shape
    layout = config_layout(cfg, image_shape)
    seeds = parse_seeds(cfg.seeds)
    started = time.perf_counter()
    ws0 = model.styles(seeds, cfg.truncation, cfg.label)
    ws, history = steer_layout(model, ws0, layout, strength=cfg.strength, steps=cfg.steps, lr=cfg.lr,
                               space=cfg.space, progress=not cfg.quiet)
    before, after = model.render(ws0), model.render(ws)
    seconds = time.perf_counter() - started
    out = output_folder(cfg.out, model, f"layout-seed{seeds[0]:04d}")
    settings = to_dict(cfg)
    distance_before, distance_after = layout_distance(before, layout), layout_distance(after, layout)
    files = []
    for i, seed in enumerate(seeds):
        for name, styles, image, distance in (("before", ws0, before, distance_before),
                                              ("after", ws, after, distance_after)):
            record = provenance.describe(model, "layout" if name == "after" else "sample", seed=seed,
                                         label=cfg.label, truncation=cfg.truncation, ws=styles[i], settings=settings)
            record["result"] = {"layout_distance": float(distance[i])}
            files.append(provenance.save_image(out / f"{name}-seed{seed:04d}.png", image[i], record))
    picture = layout_picture(layout, image_shape)
    to_pil(picture).save(out / "layout.png")
    rows = [np.repeat(picture[None], len(seeds), axis=0), as_rgb(before), as_rgb(after)]
    make_grid(np.concatenate(rows), cols=len(seeds)).save(out / "comparison.png")
    return {"out": out, "files": files, "seconds": seconds, "distance_before": float(distance_before.mean()),
            "distance_after": float(distance_after.mean()), "loss": (history[0], history[-1]) if history else None}
