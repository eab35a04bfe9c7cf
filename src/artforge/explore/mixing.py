"""Style mixing grids (Karras et al. 2019, fig. 3): which layers of the image come from which seed.

A style-based G takes one style vector per layer (w+). A cell of the grid renders its row seed's
styles with the layers named by ``layers`` replaced by its column seed's: coarse layers (4-8 px)
carry pose and layout, middle ones (16-32 px) features, fine ones (64 px and up) colour and texture.
The top row shows the column seeds' own images, the left column the row seeds'.

    model = artforge.load("runs/00007-faces-64-style")
    grid = mix_grid(model, rows=[0, 1, 2], cols=[10, 11], layers="coarse")
    grid.picture().save("mix.png")          # or grid.images (R+1, C+1, H, W, C), grid.ws (R, C, num_ws, w_dim)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from .. import provenance
from ..options import MixConfig, split_layer_spec, to_dict
from ..errors import UsageError
from ..models.style import LAYER_GROUPS, mix_styles
from ..utils.images import make_grid
from ._output import default_folder, remove_stale, slug

CELL_PATTERN = r"row\d+-col\d+\.png"  # the only names a later call may delete (with their sidecars)


def group_summary(style_cfg) -> str:
    """'coarse 0-2, middle 3-6, fine none': the w+ indices of each named group of this model."""
    def span(ids):
        return "none" if not ids else f"{ids[0]}" if len(ids) == 1 else f"{ids[0]}-{ids[-1]}"
    return ", ".join(f"{name} {span(style_cfg.layer_group(name))}" for name in LAYER_GROUPS)


def parse_layers(spec: str | Sequence[int], style_cfg) -> list[int]:
    """Sorted w+ indices of a spec: group names (coarse, middle, fine) and index ranges ('0-3'), comma
    separated, or a list of indices; each checked against the model's ``num_ws`` (a one-line UsageError)."""
    parts = split_layer_spec(spec) if isinstance(spec, str) else tuple((int(i), int(i)) for i in spec)
    where = f"this model has layers 0-{style_cfg.num_ws - 1} ({group_summary(style_cfg)})"
    if not parts:
        raise UsageError(f"--layers {spec!r} names no layer; {where}", "pass coarse, middle, fine or a range like 0-3")
    layers: set[int] = set()
    for part in parts:
        if isinstance(part, str):
            ids = style_cfg.layer_group(part)
            if not ids:  # e.g. fine on a 32 px model: no layer works at 64 px or more
                raise UsageError(f"--layers {part} names no layer of this model; {where}",
                                 "pass another group or a range of indices")
            layers.update(ids)
        else:
            lo, hi = part
            if lo < 0 or hi >= style_cfg.num_ws:
                raise UsageError(f"--layers {spec!r} goes past the last layer; {where}",
                                 f"pass indices from 0 to {style_cfg.num_ws - 1}")
            layers.update(range(lo, hi + 1))
    return sorted(layers)


@dataclass
class MixGrid:
    rows: list[int]  # the row seeds (they give the layers not in ``layers``)
    cols: list[int]  # the column seeds (they give ``layers``)
    layers: list[int]  # w+ indices taken from the columns
    row_ws: torch.Tensor  # (R, num_ws, w_dim) the row seeds' styles
    col_ws: torch.Tensor  # (C, num_ws, w_dim)
    ws: torch.Tensor  # (R, C, num_ws, w_dim) each cell's styles, as rendered
    images: np.ndarray  # uint8 (R+1, C+1, H, W, ch): [0, 1:] columns, [1:, 0] rows, [1:, 1:] cells, [0, 0] blank

    def picture(self, pad: int = 2) -> Image.Image:
        """The whole grid as one picture, with a thin border between images."""
        r, c, h, w, ch = self.images.shape
        return make_grid(self.images.reshape(r * c, h, w, ch), cols=c, pad=pad)


def mix_cells(row_ws: torch.Tensor, col_ws: torch.Tensor, layers: list[int]) -> torch.Tensor:
    """(R, num_ws, w_dim) and (C, num_ws, w_dim) -> (R, C, num_ws, w_dim): row styles, ``layers`` from the column."""
    r, c = len(row_ws), len(col_ws)
    rows = row_ws[:, None].expand(r, c, *row_ws.shape[1:]).reshape(r * c, *row_ws.shape[1:])
    cols = col_ws[None].expand(r, c, *col_ws.shape[1:]).reshape(r * c, *col_ws.shape[1:])
    return mix_styles(rows, cols, layers).reshape(r, c, *row_ws.shape[1:])


def mix_grid(model, rows: Sequence[int], cols: Sequence[int], layers: str | Sequence[int] = "coarse",
             truncation: float = 1.0, label: int | str | None = None, progress: bool = False) -> MixGrid:
    """The mixing grid of ``model`` (an ``artforge.load`` result): one rendered row of cells at a time."""
    model._require_styles("style mixing")
    rows, cols = [int(s) for s in rows], [int(s) for s in cols]
    layer_ids = parse_layers(layers, model.model_config)
    row_ws = model.styles(rows, truncation, label)
    col_ws = model.styles(cols, truncation, label)
    ws = mix_cells(row_ws, col_ws, layer_ids)
    headers = model.render(torch.cat([row_ws, col_ws]))
    h, w, ch = headers.shape[1:]
    images = np.full((len(rows) + 1, len(cols) + 1, h, w, ch), 255, dtype=np.uint8)  # white corner
    images[1:, 0], images[0, 1:] = headers[:len(rows)], headers[len(rows):]
    from tqdm import tqdm

    for i in tqdm(range(len(rows)), desc="mixing", unit="row", disable=not progress, mininterval=1.0, leave=False):
        images[i + 1, 1:] = model.render(ws[i])
    return MixGrid(rows, cols, layer_ids, row_ws, col_ws, ws, images)


def mix_to_folder(cfg: MixConfig, announce=print) -> dict:
    """``artforge explore mix``: grid.png and one PNG per cell, row<seed>-col<seed>.png, each with its record."""
    from ..sampling import load

    started = time.perf_counter()
    model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    model._require_styles("style mixing")
    grid = mix_grid(model, cfg.row_seeds(), cfg.col_seeds(), cfg.layers, cfg.truncation, cfg.label,
                    progress=not cfg.quiet)
    out = Path(cfg.out) if cfg.out else default_folder(
        model, f"mix-{slug(cfg.layers, 20)}-rows{slug(cfg.rows, 20)}-cols{slug(cfg.cols, 20)}")
    out.mkdir(parents=True, exist_ok=True)
    settings = {**to_dict(cfg), "layer_indices": grid.layers, "row_seeds": grid.rows, "col_seeds": grid.cols}
    names = {(r, c): f"row{r:04d}-col{c:04d}.png" for r in grid.rows for c in grid.cols}
    removed = remove_stale(out, CELL_PATTERN, set(names.values()))
    cells = []
    for i, r in enumerate(grid.rows):
        for j, c in enumerate(grid.cols):
            record = provenance.describe(model, "mix", label=cfg.label, truncation=cfg.truncation,
                                         ws=grid.ws[i, j],
                                         settings={**settings, "row_seed": r, "col_seed": c})
            cells.append(provenance.save_image(out / names[r, c], grid.images[i + 1, j + 1], record))
    record = provenance.describe(model, "mix-grid", label=cfg.label, truncation=cfg.truncation,
                                 settings={**settings, "cells": [names[k] for k in names]})
    picture = np.asarray(grid.picture())
    picture = picture[..., None] if picture.ndim == 2 else picture  # grayscale: (H, W) -> (H, W, 1)
    grid_path = provenance.save_image(out / "grid.png", picture, record)
    return {"out": out, "grid": grid_path, "cells": cells, "layers": grid.layers, "removed": removed,
            "checkpoint": model.checkpoint, "step": model.step, "seconds": time.perf_counter() - started}
