"""Projection: find the styles whose render looks like a given (real) image, then re-render, vary and
mix them like any seed's (Karras et al. 2020, StyleGAN2, sec. 5; Abdal et al. 2019, Image2StyleGAN).

The styles start at the model's mean w and are optimized with Adam against a pixel loss (at full and
quarter resolution, so coarse shape and colour are fit before detail) plus the distance between the
features the run's own discriminator extracts from target and render: a perceptual loss that needs no
downloaded network. Exported models carry no D; they are projected with pixels alone.
In w (one style for every layer) the result stays among the images the model makes; in w+ (a style
per layer) it fits far more closely but may leave the model's manifold, so edits look less natural.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .. import provenance
from ..options import ProjectConfig, to_dict
from ..errors import DataError, UsageError
from .steering import output_folder, read_image, steer, to_model_range


# ----------------------------------------------------------------------------- losses (pure)

def pixel_loss(images: Tensor, targets: Tensor, kind: str = "mse") -> Tensor:
    """Per-image (B,) distance of (B, C, H, W) images: at full resolution plus at a quarter of it."""
    def distance(a, b):
        diff = a - b
        return (diff.square() if kind == "mse" else diff.abs()).mean(dim=(1, 2, 3))

    factor = 4 if min(images.shape[-2:]) >= 16 else 2
    return distance(images, targets) + distance(F.avg_pool2d(images, factor), F.avg_pool2d(targets, factor))


def feature_distance(features: Tensor, target_features: Tensor, eps: float = 1e-8) -> Tensor:
    """Per-image (B,) ||f - f_target||^2 / ||f_target||^2 of (B, F) features: scale-free, so one
    --d-weight suits every D."""
    return (features - target_features).square().sum(1) / (target_features.square().sum(1) + eps)


def psnr(images: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of uint8 (N, H, W, C) images against targets: 10 log10(255^2 / MSE), at most 100."""
    diff = images.astype(np.float64) - targets.astype(np.float64)
    mse = np.maximum((diff ** 2).reshape(len(diff), -1).mean(1), 255.0 ** 2 * 1e-10)  # identical: 100 dB, finite
    return 10 * np.log10(255.0 ** 2 / mse)


# ----------------------------------------------------------------------------- the discriminator

def load_discriminator(model) -> nn.Module | None:
    """The run's D (frozen, eval) from the checkpoint ``model`` was loaded from; None for exported
    models, which ship G alone."""
    from ..models.registry import build
    from ..runs.checkpoint import STATE_FILE, load_checkpoint

    if not (Path(model.checkpoint) / STATE_FILE).is_file():
        return None
    weights = load_checkpoint(model.checkpoint, device=model.device, training=False)["models"].get("D")
    if not weights:
        return None
    D = build(model.arch, model.model_config)["D"]
    D.load_state_dict(weights)
    return D.to(model.device).eval().requires_grad_(False)


def d_features(D: nn.Module, images: Tensor) -> Tensor:
    """(B, F) features of each image on its own: D's minibatch-std layer would otherwise mix a
    batch's images, and one image's projection would depend on the others."""
    return torch.cat([D.features(images[i:i + 1]) for i in range(len(images))])


# ----------------------------------------------------------------------------- projecting

@dataclass
class Projection:
    ws: Tensor  # (N, num_ws, w_dim) on the CPU
    images: np.ndarray  # uint8 (N, H, W, C): the renders of ws
    psnr: np.ndarray  # (N,) dB against the targets
    start_psnr: np.ndarray  # (N,) of the mean image the optimization started from
    history: list = field(default_factory=list)  # total loss per step (batch mean)
    used_d: bool = False
    seconds: float = 0.0


def start_styles(model, n: int, label=None) -> Tensor:
    """(n, num_ws, w_dim): the mean w broadcast; a conditional model's class's, or the mean of its classes'."""
    if label is not None and not model.num_classes:
        raise UsageError("--label was given but this model is not conditional", "leave --label out")
    if model.num_classes and label is None:
        w = torch.stack([model.mean_style(k) for k in range(model.num_classes)]).mean(0)
    else:
        w = model.mean_style(None if not model.num_classes else model.label_index(label))
    return model.G.broadcast(w[None].expand(n, -1))


def project(model, targets: np.ndarray, *, space: str = "w+", steps: int = 300, lr: float = 0.1,
            d_weight: float = 0.1, pixel: str = "mse", label=None, D: nn.Module | None = None,
            progress: bool = False) -> Projection:
    """Project uint8 (N, H, W, C) ``targets`` (at the model's size) into ``space``; see the module doc.

    ``D``: the run's discriminator for the feature loss (``load_discriminator``), None for pixels alone.
    """
    model._require_styles("projection")
    started = time.perf_counter()
    goal = to_model_range(targets, model.device)
    goal_features = d_features(D, goal) if D is not None and d_weight > 0 else None

    def loss(images: Tensor) -> Tensor:
        value = pixel_loss(images, goal, pixel)
        if goal_features is not None:
            value = value + d_weight * feature_distance(d_features(D, images), goal_features)
        return value

    ws0 = start_styles(model, len(targets), label)
    ws, history = steer(model.G, ws0, loss, strength=1.0, steps=steps, lr=lr, space=space, progress=progress,
                        desc="projecting")
    images = model.render(ws)
    return Projection(ws, images, psnr(images, targets), psnr(model.render(ws0), targets), history,
                      goal_features is not None, time.perf_counter() - started)


@torch.no_grad()
def variations(model, ws: Tensor, n: int, strength: float = 0.3, seed: int = 0, label=None) -> Tensor:
    """(n, num_ws, w_dim): ``ws`` (1, num_ws, w_dim) moved ``strength`` of the way along (w_seed - mean w)
    for seeds seed .. seed+n-1: random directions the model itself takes, so variations stay plausible."""
    seeds = list(range(seed, seed + n))
    others = model.styles(seeds, label=label)
    return ws + strength * (others - start_styles(model, n, label))


# ----------------------------------------------------------------------------- the command

def target_image(model, path: str) -> np.ndarray:
    """IMAGE as uint8 (H, W, C) at the model's size and channels."""
    return read_image(path, "IMAGE", model.model_config.channels, model.model_config.image_shape)


def project_to_folder(cfg: ProjectConfig, announce=print) -> dict:
    """``artforge explore project``: target.png (IMAGE as fitted), projected.png (+ projected.json, holding its styles),
    variation-NN.png; each generated PNG carries its styles (``provenance``)."""
    from ..sampling import load
    from ..utils.images import to_pil

    if cfg.held_out:
        return held_out_report(cfg, announce)
    model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    model._require_styles("projection")
    target = target_image(model, cfg.image)
    D = load_discriminator(model) if cfg.d_weight > 0 else None
    result = project(model, target[None], space=cfg.space, steps=cfg.steps, lr=cfg.lr, d_weight=cfg.d_weight,
                     pixel=cfg.pixel_loss, label=cfg.label, D=D, progress=not cfg.quiet)
    out = output_folder(cfg.out, model, f"project-{Path(cfg.image).stem}")
    settings = {**to_dict(cfg), "used_d_features": result.used_d}
    to_pil(target).save(out / "target.png")  # a real image, fitted: no styles to record
    record = provenance.describe(model, "project", label=cfg.label, ws=result.ws[0], settings=settings)
    record["result"] = {"psnr_db": float(result.psnr[0]), "final_loss": result.history[-1],
                        "start_loss": result.history[0]}
    files = [provenance.save_image(out / "projected.png", result.images[0], record)]
    if cfg.vary:
        varied = variations(model, result.ws, cfg.vary, cfg.vary_strength, cfg.seed, cfg.label)
        for i, (ws, image) in enumerate(zip(varied, model.render(varied))):
            files.append(provenance.save_image(out / f"variation-{i + 1:02d}.png", image, provenance.describe(
                model, "project-variation", seed=cfg.seed + i, label=cfg.label, ws=ws, settings=settings)))
    return {"out": out, "files": files, "psnr": float(result.psnr[0]), "start_psnr": float(result.start_psnr[0]),
            "loss": (result.history[0], result.history[-1]), "used_d": result.used_d, "seconds": result.seconds,
            "latents": out / "projected.json"}


# ----------------------------------------------------------------------------- held-out PSNR

def run_dataset(model) -> str:
    """The path of the dataset ``model`` was trained on, from the run's options or the export's model.json."""
    from ..sampling import MODEL_JSON, is_export
    from ..runs.rundir import read_run_options
    from ..utils.files import read_json

    if is_export(model.run_dir):
        path = (read_json(Path(model.run_dir) / MODEL_JSON).get("dataset") or {}).get("path")
    else:
        path = read_run_options(model.run_dir)[0]["dataset"]["path"]
    if not path:
        raise UsageError(f"{model.run_dir} does not name its dataset", "pass --dataset")
    return path


def held_out_images(model, dataset: str, n: int) -> np.ndarray:
    """uint8 (n', H, W, C): the first n images of the dataset's test split (else validation split),
    fitted to the model's size; images the model never trained on."""
    from PIL import Image, ImageOps

    from ..data.archive import open_dataset

    ds = open_dataset(dataset)
    indices = ds.indices("test")
    indices = indices if len(indices) else ds.indices("val")
    if not len(indices):
        raise DataError(f"dataset {dataset} has no test or validation split", "prepare it with --split")
    height, width = model.model_config.image_shape
    out = []
    for index in indices[:n]:
        image = Image.fromarray(ds.read(int(index)).squeeze(-1) if ds.channels == 1 else ds.read(int(index)))
        image = image.convert("L" if model.model_config.channels == 1 else "RGB")
        arr = np.asarray(ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS), dtype=np.uint8)
        out.append(arr[:, :, None] if arr.ndim == 2 else arr)
    return np.stack(out)


def held_out_psnr(model, dataset: str, n: int, **options) -> Projection:
    """Project ``n`` held-out images of ``dataset`` (one batch; each image's optimization is its own);
    ``options`` as for ``project``. The mean of ``.psnr`` is the reconstruction score."""
    return project(model, held_out_images(model, dataset, n), **options)


def held_out_report(cfg: ProjectConfig, announce=print) -> dict:
    from ..sampling import load

    model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    model._require_styles("projection")
    dataset = cfg.dataset or run_dataset(model)
    D = load_discriminator(model) if cfg.d_weight > 0 else None
    result = held_out_psnr(model, dataset, cfg.held_out, space=cfg.space, steps=cfg.steps, lr=cfg.lr,
                           d_weight=cfg.d_weight, pixel=cfg.pixel_loss, label=cfg.label, D=D, progress=not cfg.quiet)
    return {"held_out": len(result.psnr), "dataset": dataset, "psnr": float(result.psnr.mean()),
            "start_psnr": float(result.start_psnr.mean()), "psnrs": result.psnr.tolist(),
            "loss": (result.history[0], result.history[-1]), "used_d": result.used_d, "seconds": result.seconds}
