"""Scoring image-to-image runs against the true images: ``artforge evaluate RUN`` on a translation run.

pix2pix and cyclegan are scored on a paired dataset's held-out pairs (the run's own for pix2pix;
for cyclegan, which trains on unpaired domains, a paired dataset given with --real): each input is
translated and compared with its true target. An upscaler is scored on held-out high-resolution
images, each shrunk by the run's scale (Pillow's antialiased bicubic, as a small picture a user
would have) and upscaled again, beside bicubic and Lanczos upscaling of the same small images.

Per image: PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K = (0.01, 0.03),
averaged over channels, as scikit-image's ``structural_similarity(gaussian_weights=True,
use_sample_covariance=False)``) and the mean absolute error; over the set: SWD, and KID / FID in
the chosen extractor's features, of the outputs against the targets. For pix2pix, the diversity its
dropout gives: the mean absolute difference between seeded variations of the same input.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from .._version import __version__
from ..options.shared import EVAL_METRICS_DEFAULT
from ..errors import ArtforgeError, UsageError

SSIM_SIGMA, SSIM_RADIUS = 1.5, 5  # scikit-image's truncate 3.5: int(3.5 * 1.5 + 0.5) = 5
DIVERSITY_INPUTS, DIVERSITY_DRAWS = 64, 4
SHOWN = 8  # test items in the side-by-side picture
CROP = 128  # larger images are shown by a central crop of this side, at their own pixels


def psnr(x: Tensor, y: Tensor, data_range: float = 255.0) -> Tensor:
    """(B, C, H, W) x (B, C, H, W) -> (B,) peak signal-to-noise ratio in dB (inf for identical images)."""
    mse = (x.double() - y.double()).square().flatten(1).mean(1)
    return 10 * torch.log10(data_range ** 2 / mse)


def _gaussian_filter(x: Tensor) -> Tensor:
    """Separable Gaussian (sigma 1.5, radius 5) per channel, 'valid' positions only."""
    t = torch.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / SSIM_SIGMA) ** 2)
    k = (k / k.sum()).to(x)
    c = x.shape[1]
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def ssim(x: Tensor, y: Tensor, data_range: float = 255.0) -> Tensor:
    """(B, C, H, W) x (B, C, H, W) -> (B,) mean structural similarity (1 for identical images)."""
    if min(x.shape[-2:]) < 2 * SSIM_RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least {2 * SSIM_RADIUS + 1} px a side, got {tuple(x.shape[-2:])}")
    x, y = x.double(), y.double()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = _gaussian_filter(x), _gaussian_filter(y)
    sxx = _gaussian_filter(x * x) - mx * mx
    syy = _gaussian_filter(y * y) - my * my
    sxy = _gaussian_filter(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def paired_scores(outputs: Tensor, targets: Tensor) -> dict[str, float]:
    """Mean PSNR, SSIM and mean absolute error (0-255 levels) of uint8 (N, C, H, W) outputs vs targets."""
    p = psnr(outputs, targets)
    return {"psnr": float(p[torch.isfinite(p)].mean()) if torch.isfinite(p).any() else math.inf,
            "ssim": float(ssim(outputs, targets).mean()),
            "mae": float((outputs.double() - targets.double()).abs().mean())}


def diversity(variations: Tensor) -> float:
    """(N, K, C, H, W) uint8: K variations of each of N inputs -> mean absolute difference (0-255 levels)
    over all pairs of variations of the same input."""
    v = variations.double()
    k = v.shape[1]
    total, pairs = 0.0, 0
    for i in range(k):
        for j in range(i + 1, k):
            total += float((v[:, i] - v[:, j]).abs().mean())
            pairs += 1
    return total / pairs if pairs else 0.0


# ----------------------------------------------------------------------------- data

def _to_uint8(x: Tensor) -> Tensor:
    return x.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).cpu()


def _run(G, inputs: Tensor, device, batch: int = 32) -> Tensor:
    """uint8 (N, C, H, W) inputs through G in batches -> uint8 outputs."""
    outs = []
    with torch.no_grad():
        for chunk in inputs.split(batch):
            outs.append(_to_uint8(G(chunk.to(device).float().div(127.5).sub(1))))
    return torch.cat(outs)


def pil_resize(images: Tensor, size: tuple[int, int], method: str) -> Tensor:
    """uint8 (N, C, H, W) resized with Pillow (antialiased when shrinking) to (height, width)."""
    resample = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}[method]
    out = []
    for image in images.permute(0, 2, 3, 1).numpy():
        pil = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
        array = np.asarray(pil.resize((size[1], size[0]), resample))
        out.append(torch.from_numpy((array[..., None] if array.ndim == 2 else array).copy()))
    return torch.stack(out).permute(0, 3, 1, 2).contiguous()


def _reference(cfg, translator) -> tuple[object, np.ndarray]:
    from ..data.archive import open_dataset
    from ..runs.rundir import read_run_options

    path = cfg.real
    spec = translator.spec
    if path is None:
        if not spec.reference_from_run:
            raise UsageError(f"{translator.run_dir} trained on unpaired domains: scoring it needs true pairs",
                             "give a paired dataset of the same domains as the reference images (real), e.g. "
                             "datasets/openmoji-pairs-64.zip")
        path = read_run_options(translator.run_dir)[0]["dataset"]["path"]
    if not Path(path).exists():
        raise UsageError(f"the reference dataset {path} does not exist",
                         "give a prepared dataset as the reference images (real)")
    dataset = open_dataset(path)
    paired = spec.scored_on == "pairs"
    if paired and not dataset.pairs:
        raise UsageError(f"the reference dataset {path} holds single images; a {translator.task} run is scored on pairs",
                         "pass a dataset made by 'artforge prepare pairs' (e.g. datasets/openmoji-pairs-64.zip)")
    if not paired and dataset.pairs:
        raise UsageError(f"the reference dataset {path} holds pairs; an upscaler is scored on single high-resolution images",
                         "pass the art it trained on, e.g. datasets/openmoji-256.zip")
    split = cfg.split or "test"
    indices = dataset.indices(split)[: cfg.n]
    if len(indices) == 0:
        raise UsageError(f"dataset {path} has no items in the {split!r} split", "choose the split all (or val)")
    return dataset, indices


# ----------------------------------------------------------------------------- scoring

def _distribution(metrics, targets: Tensor, outputs: dict[str, Tensor], cfg, dataset, device, default_metrics: bool,
                  announce=print, indices: np.ndarray | None = None, events=None, cancel=None) -> dict[str, dict]:
    """SWD and, when asked for, KID and FID of each method's outputs against the targets."""
    from ..ops.swd import swd
    results = {name: {} for name in outputs}
    if "swd" in metrics:
        real = targets.float().div(127.5).sub(1)
        for name, out in outputs.items():
            results[name]["swd"] = swd(real, out.float().div(127.5).sub(1), seed=cfg.seed)["swd"]
    if {"kid", "fid"} & set(metrics):
        from .extractors import make_extractor
        from .fid import fid_from_features
        from .kid import kid
        try:
            extractor = make_extractor(cfg.extractor, device=device, dataset=dataset, weights=cfg.inception_weights,
                                       progress=cfg.progress, events=events, cancel=cancel)
        except ArtforgeError as exc:
            if not default_metrics:
                raise
            announce(f"note: KID and FID left out ({exc}); --extractor encoder scores them offline")
            return results

        scored = np.ones(len(targets), dtype=bool)
        if extractor.held_out is not None and indices is not None:  # an encoder judges only items it never saw
            scored = np.isin(indices, extractor.held_out)
            if not scored.any():
                announce("note: KID and FID left out (the encoder saw every reference item)")
                return results

        def features(images):
            images = images[torch.from_numpy(scored)]
            return np.concatenate([extractor(chunk)["features"].numpy() for chunk in images.split(cfg.batch)])

        real = features(targets)
        size = min(cfg.kid_subset_size, int(scored.sum()))
        for name, out in outputs.items():
            fake = features(out)
            if "kid" in metrics:
                k = kid(real, fake, subsets=cfg.kid_subsets, subset_size=size, seed=cfg.seed)
                results[name].update(kid=k["kid"], kid_std=k["kid_std"])
            if "fid" in metrics:
                results[name]["fid"] = fid_from_features(real, fake)
            results[name]["kid_fid_items"] = int(scored.sum())  # an encoder's held-out items only
    return results


def evaluate_translation(cfg, announce=print, events=None, cancel=None) -> dict:
    """``artforge evaluate RUN`` for a pix2pix, cyclegan or sr run (an ``EvaluateConfig``); writes the
    report JSON and a picture of test items side by side into RUN/eval/. ``events`` and ``cancel`` reach
    the training of the encoder extractor (its steps, and a token that stops it with ``Cancelled``)."""
    from ..data.loader import decode_all
    from ..translating import load_translator
    from ..runs.rundir import RunLayout
    from ..utils.files import atomic_write_json

    started = time.time()
    translator = load_translator(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    dataset, indices = _reference(cfg, translator)
    items = decode_all(dataset, indices, cfg.progress)
    G, device = translator.G, translator.device
    if translator.spec.scored_on == "images":  # true high-resolution images, shrunk for the input
        targets = items
        h, w = targets.shape[2:]
        small = pil_resize(targets, (h // translator.scale, w // translator.scale), "bicubic")
        inputs = small
        outputs = {"bicubic": pil_resize(small, (h, w), "bicubic"), "lanczos": pil_resize(small, (h, w), "lanczos"),
                   "model": _run(G, small, device, batch=8)}
    else:
        half = items.shape[-1] // 2
        inputs, targets = items[..., :half].contiguous(), items[..., half:].contiguous()
        outputs = {"model": _run(G, inputs, device)}
    results = {name: paired_scores(out, targets) for name, out in outputs.items()}
    metrics = [m for m in cfg.metrics if m in ("swd", "kid", "fid")]
    default_metrics = tuple(cfg.metrics) == EVAL_METRICS_DEFAULT
    for name, extra in _distribution(metrics, targets, outputs, cfg, dataset, device, default_metrics,
                                     announce, indices, events, cancel).items():
        results[name].update(extra)
    report = {
        "artforge_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "task": translator.task, "run": str(translator.run_dir), "checkpoint": str(translator.checkpoint),
        "step": translator.step, "reference": {"path": str(dataset.path), "split": cfg.split or "test",
                                              "items": len(indices)},
        "extractor": cfg.extractor if {"kid", "fid"} & set(metrics) else None,
        "results": results,
    }
    if translator.spec.variations and any(isinstance(m, torch.nn.Dropout) for m in G.modules()):
        report["diversity"] = _dropout_diversity(translator, inputs[:DIVERSITY_INPUTS])
    out = Path(cfg.out) if cfg.out else RunLayout(translator.run_dir).eval_result(translator.checkpoint.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    picture = out.with_name(out.stem + "-side-by-side.png")
    shown = torch.linspace(0, len(targets) - 1, min(SHOWN, len(targets))).round().long().unique()  # spread out
    _side_by_side(picture, inputs[shown], {k: v[shown] for k, v in outputs.items()}, targets[shown])
    report["picture"] = str(picture)
    report["seconds"] = round(time.time() - started, 1)
    atomic_write_json(out, report)
    report["path"] = str(out)
    return report


def _dropout_diversity(translator, inputs: Tensor) -> dict:
    """Mean absolute difference between dropout variations of one input, beside the outputs' own spread."""
    from ..translating import _dropout
    draws = []
    for seed in range(DIVERSITY_DRAWS):
        with _dropout(translator.G, seed):
            draws.append(_run(translator.G, inputs, translator.device))
    stacked = torch.stack(draws, dim=1)  # (N, K, C, H, W)
    return {"inputs": len(inputs), "draws": DIVERSITY_DRAWS, "mae_between_draws": diversity(stacked)}


def _side_by_side(path: Path, inputs: Tensor, outputs: dict[str, Tensor], targets: Tensor) -> None:
    """One row per test item: input | (bicubic | lanczos |) model | target, all at the output size (the input
    enlarged without smoothing); images above CROP px are shown by their central CROP x CROP crop."""
    from ..utils.images import to_pil
    size = targets.shape[-2:]
    columns = [F.interpolate(inputs.float(), size=size, mode="nearest").to(torch.uint8)]
    columns += list(outputs.values())
    columns.append(targets)
    h, w = size
    if max(h, w) > CROP:
        y, x = max(0, (h - CROP) // 2), max(0, (w - CROP) // 2)
        columns = [c[..., y:y + CROP, x:x + CROP] for c in columns]
    rows = torch.cat(columns, dim=-1)  # (n, C, H, W * columns)
    sheet = torch.cat(list(rows), dim=-2)  # (C, n * H, W * columns)
    if sheet.shape[0] == 1:
        sheet = sheet.expand(3, -1, -1)
    to_pil(sheet.permute(1, 2, 0).numpy()).save(path)


def summary_lines(report: dict) -> list[str]:
    keys = [k for k in ("psnr", "ssim", "mae", "swd", "kid", "fid") if any(k in r for r in report["results"].values())]
    lines = ["  " + f"{'':<10}" + "".join(f"{k.upper():>10}" for k in keys)]
    for name, r in report["results"].items():
        lines.append("  " + f"{name:<10}" + "".join(f"{r[k]:>10.4g}" if k in r else f"{'':>10}" for k in keys))
    if "diversity" in report:
        d = report["diversity"]
        lines.append(f"  dropout variations differ by {d['mae_between_draws']:.3g} levels on average "
                     f"({d['draws']} draws of {d['inputs']} inputs)")
    ref = report["reference"]
    lines.append(f"  {ref['items']} {ref['split']} items of {ref['path']}; {report['seconds']:.0f} s; "
                 f"side by side: {report['picture']}")
    return lines
