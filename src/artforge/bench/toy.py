"""The field's standard mode-collapse test: 2-D Gaussian mixtures, MLP G and D, every recipe.

Protocol of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): draw 2,500 samples from
the trained generator; a sample is *high quality* when it lies within 3 standard deviations of its
nearest mode; a mode is *captured* when it is the nearest mode of at least one high-quality
sample; the *reverse KL* compares the histogram of high-quality samples over the modes with the
uniform distribution of the data (0 when every mode gets the same share).

Training runs on the one engine (training/engine.py) as the ``toy`` family (models/toy_mlp.py) and
the ``toy`` task (tasks/toy.py): the image pipeline's recipes, phases and EMA, with an MLP pair and
a stream of fresh mixture samples as the data. A recipe's loss,
penalties, optimizer settings and EMA apply as they are; its normalization of D is an architecture
choice, mapped to the MLP as layer norm or spectral norm, while batch norm (part of the DCGAN
architecture) becomes no normalization: across a minibatch of 2-D points it lets D judge the batch
rather than the sample, and the published MLP critics have none.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..options import TrainConfig
from ..models.registry import get_family
from ..models.toy_mlp import ToyConfig
from ..sample_filters import LABELS, filter_samples
from ..tasks.toy import MIXTURES, Mixture, ToyTask
from ..training.engine import Engine

N_SAMPLES = 2500
TARGET_HQ = 97.0  # the bar the default recipe is held to: every mode and >= 97% high quality, in every run


# Published rows (mean over their runs), shown beside ours.
PUBLISHED = {
    "ring": [("PacGAN4 (PacGAN, Table 1)", 7.8, 95.9), ("VEEGAN (VEEGAN, Table 1)", 8.0, 52.9)],
    "grid": [("PacGAN4 (PacGAN, Table 1)", 24.8, 93.6), ("VEEGAN (VEEGAN, Table 1)", 24.6, 40.0)],
}


def score(samples: np.ndarray, mixture: Mixture) -> dict:
    """Modes captured, share of high-quality samples, reverse KL of the mode histogram to uniform."""
    centers = np.asarray(mixture.centers)
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)  # (N, K)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(samples)), nearest] < 3 * mixture.std
    counts = np.bincount(nearest[good], minlength=len(centers))
    k = len(centers)
    if counts.sum():
        p = counts / counts.sum()
        kl = float(np.sum(p[p > 0] * np.log(p[p > 0] * k)))
    else:
        kl = float("inf")
    return {"modes": int((counts > 0).sum()), "high_quality": float(good.mean() * 100), "kl": kl,
            "total_modes": k}


def meets_target(metrics: dict) -> bool:
    """Whether one run (its ``score``) clears the bar: every mode, and TARGET_HQ % high quality."""
    return metrics["modes"] == metrics["total_modes"] and metrics["high_quality"] >= TARGET_HQ


# ----------------------------------------------------------------------------- one run

@dataclass
class ToyResult:
    dataset: str
    recipe: str
    seed: int
    samples: np.ndarray
    metrics: dict
    seconds: float  # CPU time of the run (the budget is in CPU-minutes), not wall time
    sampler: str = ""  # "": G_ema's samples as drawn; otherwise the sample filter that kept them
    drop: float = 0.0  # the share of its draws the filter dropped
    filtered: list["ToyResult"] = field(default_factory=list)  # the same run's filtered samples, if asked for
    overrides: dict = field(default_factory=dict)  # training options that replaced the recipe's (studies)

    @property
    def method(self) -> str:
        name = self.recipe + "".join(f" --{k.replace('_', '-')} {v:g}" for k, v in sorted(self.overrides.items()))
        return f"{name}, {LABELS[self.sampler]} {self.drop:.0%}" if self.sampler else name


def train_toy(dataset: str, recipe: str, seed: int, steps: int = 20_000, batch: int = 256,
              toy: ToyConfig | None = None, lr_scale: float = 5.0, decay: float = 0.3,
              width: int = ToyConfig.hidden, filters: tuple[str, ...] = (), drop: float = 0.05,
              **options) -> ToyResult:
    """Train one MLP GAN on one mixture with one recipe; score 2,500 samples of its EMA generator.

    The protocol is the same for every recipe: ``steps`` steps of ``batch`` fresh samples, each
    recipe's learning rates times ``lr_scale`` (2-D points need larger steps than images; ratios
    between G and D are kept), decaying linearly to 0 over the last ``decay`` of the steps.
    ``options`` are training options that override the recipe's (``r1_gamma=0.01``), for studies.
    ``filters`` (names in ``sample_filters.SCORERS``) also score 2,500 samples kept by each filter
    from 2,500 / (1 - ``drop``) draws, as ``result.filtered``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: a second thread only adds overhead (runs go in parallel)
    try:
        result, G_ema, D, toy, labels = _train_toy(dataset, recipe, seed, steps, batch, toy, lr_scale, decay,
                                                   width, options)
        for name in filters:  # each filtered row's time is the training plus its own filtering
            started = time.process_time()
            kept = filter_samples(G_ema, D, toy.z_dim, N_SAMPLES, drop,
                                  torch.Generator().manual_seed(20_000 + seed), by=name, labels=labels).numpy()
            seconds = result.seconds + time.process_time() - started
            result.filtered.append(ToyResult(dataset, recipe, seed, kept, score(kept, MIXTURES[dataset]),
                                             seconds, sampler=name, drop=drop, overrides=dict(options)))
        return result
    finally:
        torch.set_num_threads(threads)


def _train_toy(dataset, recipe, seed, steps, batch, toy, lr_scale, decay, width, options):
    started = time.process_time()  # this process's CPU time: other jobs on the machine do not inflate it
    mixture = MIXTURES[dataset]
    cfg = TrainConfig(dataset=f"toy-{dataset}", recipe=recipe, batch=batch, d_augment=(), augment=(),
                      ada_target=0.0, seed=seed, steps=steps, device="cpu", precision="fp32", progress=False,
                      tensorboard=False, **options).resolved()
    toy = toy or ToyConfig(hidden=width, d_norm="none" if cfg.d_norm == "batch" else cfg.d_norm,
                           g_spectral=cfg.g_spectral, num_classes=cfg.self_cond)
    parts = cfg.sections()
    task = ToyTask(parts, mixture, toy.num_classes, lr_scale=lr_scale, decay=decay)
    engine = Engine(parts, get_family("toy"), toy, task, run_dir=None)  # no run folder: nothing is written
    engine.run()
    G_ema, D = engine.ema_nets["G_ema"], engine.nets["D"]
    labels = task.clusters.sample_labels if task.clusters else None  # a conditional G draws clusters by their size
    with torch.no_grad():
        gen = torch.Generator().manual_seed(10_000 + seed)
        z = torch.randn(N_SAMPLES, toy.z_dim, generator=gen)
        samples = (G_ema(z) if labels is None else G_ema(z, labels(N_SAMPLES, gen))).numpy()
    result = ToyResult(dataset, recipe, seed, samples, score(samples, mixture), time.process_time() - started,
                       overrides=dict(options))
    return result, G_ema, D, toy, labels  # the networks (and label sampler) too: sample filters need them


# ----------------------------------------------------------------------------- many runs, a table, a plot

def _run_one(args: tuple) -> ToyResult:
    dataset, recipe, seed, steps, batch, width, filters, drop, overrides = args
    return train_toy(dataset, recipe, seed, steps=steps, batch=batch, width=width, filters=filters, drop=drop,
                     **overrides)


def run_grid(datasets, recipes, seeds: int, steps: int, batch: int, jobs: int, progress: bool = True,
             width: int = ToyConfig.hidden, filters: tuple[str, ...] = (), drop: float = 0.05,
             overrides: dict | None = None):
    """Every (dataset, recipe, seed), in ``jobs`` processes; results in a stable order.

    A run's filtered results, when asked for, follow it as results of their own (``sampler`` set).
    ``overrides`` are training options that replace every recipe's own (``{"r1_gamma": 0.01}``).
    """
    import multiprocessing

    from tqdm import tqdm

    tasks = [(d, r, s, steps, batch, width, filters, drop, overrides or {})
             for d in datasets for r in recipes for s in range(seeds)]
    with tqdm(total=len(tasks), desc="toy benchmark", unit="run", disable=not progress) as bar:
        if jobs > 1:
            with multiprocessing.get_context("spawn").Pool(jobs) as pool:
                results = []
                for result in pool.imap(_run_one, tasks):
                    results.append(result)
                    bar.update()
        else:
            results = []
            for task in tasks:
                results.append(_run_one(task))
                bar.update()
    return [x for r in results for x in (r, *r.filtered)]


def summarize(results: list[ToyResult]) -> list[dict]:
    """Mean and standard error per (dataset, recipe, sampler)."""
    rows = []
    for key in dict.fromkeys((r.dataset, r.method) for r in results):
        group = [r for r in results if (r.dataset, r.method) == key]
        row = {"dataset": key[0], "recipe": group[0].recipe, "sampler": group[0].sampler, "method": key[1],
               "runs": len(group), "total_modes": group[0].metrics["total_modes"],
               "seconds": float(np.mean([r.seconds for r in group]))}
        for metric in ("modes", "high_quality", "kl"):
            values = np.array([r.metrics[metric] for r in group], dtype=float)
            finite = np.isfinite(values).all()  # KL is infinite when no sample is high quality
            row[metric] = float(values.mean()) if finite else float("inf")
            row[f"{metric}_se"] = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 and finite else 0.0
        row["all_modes_every_run"] = all(r.metrics["modes"] == r.metrics["total_modes"] for r in group)
        row["min_high_quality"] = float(min(r.metrics["high_quality"] for r in group))
        row["runs_meeting_target"] = sum(meets_target(r.metrics) for r in group)
        rows.append(row)
    return rows


def _kl_cell(row: dict) -> str:
    if math.isinf(row["kl"]):  # a run with no high-quality sample: no mode histogram to compare
        return "inf (a run has no high-quality sample)"
    return f"{row['kl']:.3f} +- {row['kl_se']:.3f}"


def table(rows: list[dict]) -> str:
    """Markdown table with the published rows beside ours."""
    lines = ["| dataset | method | runs | modes (mean +- se) | high quality % | reverse KL | min HQ % | CPU s/run |",
             "|---|---|---:|---|---|---|---:|---:|"]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        for r in (r for r in rows if r["dataset"] == dataset):
            lines.append(f"| {dataset} | artforge --recipe {r['method']} | {r['runs']} | "
                         f"{r['modes']:.1f} +- {r['modes_se']:.1f} / {r['total_modes']} | "
                         f"{r['high_quality']:.1f} +- {r['high_quality_se']:.1f} | "
                         f"{_kl_cell(r)} | {r['min_high_quality']:.1f} | {r['seconds']:.0f} |")
        for name, modes, hq in PUBLISHED.get(dataset, []):
            lines.append(f"| {dataset} | {name} | | {modes} | {hq} | | | |")
    return "\n".join(lines)


def _seed_cell(metrics: dict) -> str:
    text = f"{metrics['high_quality']:.2f}"  # exact: 2,500 samples make steps of 0.04
    if metrics["modes"] < metrics["total_modes"]:
        text += f" ({metrics['modes']}/{metrics['total_modes']} modes)"
    return text if meets_target(metrics) else f"**{text}**"


def per_seed_table(results: list[ToyResult]) -> str:
    """High-quality % of every run, a row per (dataset, method): the target is about every run, not the mean."""
    seeds = sorted({r.seed for r in results})
    lines = [f"High-quality % by seed (bold: below the target, every mode and >= {TARGET_HQ:g}% high quality):", "",
             "| dataset | method | " + " | ".join(str(s) for s in seeds) + " | runs meeting the target |",
             "|---|---|" + "---:|" * len(seeds) + "---:|"]
    for dataset, method in dict.fromkeys((r.dataset, r.method) for r in results):
        by_seed = {r.seed: r.metrics for r in results if (r.dataset, r.method) == (dataset, method)}
        cells = [_seed_cell(by_seed[s]) if s in by_seed else "" for s in seeds]
        met = sum(meets_target(m) for m in by_seed.values())
        lines.append(f"| {dataset} | {method} | " + " | ".join(cells) + f" | {met} of {len(by_seed)} |")
    return "\n".join(lines)


def scatter_png(results: list[ToyResult], path, tile: int = 240):
    """One panel per (method, dataset) for the first seed: samples in blue, 3-std circles in red."""
    from PIL import Image, ImageDraw

    firsts = {}
    for r in results:
        firsts.setdefault((r.method, r.dataset), r)
    methods = list(dict.fromkeys(k[0] for k in firsts))
    datasets = list(dict.fromkeys(k[1] for k in firsts))
    label = 30  # two lines: the method, then the run and its scores
    canvas = Image.new("RGB", (tile * len(datasets), (tile + label) * len(methods)), "white")
    draw = ImageDraw.Draw(canvas)
    for row, method in enumerate(methods):
        for col, dataset in enumerate(datasets):
            r = firsts.get((method, dataset))
            if r is None:
                continue
            mixture, x0, y0 = MIXTURES[dataset], col * tile, row * (tile + label)
            lim = 3.0 if dataset == "ring" else 6.0

            def px(p):
                return x0 + (p[0] + lim) / (2 * lim) * tile, y0 + label + tile - (p[1] + lim) / (2 * lim) * tile

            radius = 3 * mixture.std / (2 * lim) * tile
            for c in mixture.centers:
                x, y = px(c)
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=(220, 40, 40))
            for p in r.samples:
                draw.point(px(p), fill=(30, 80, 200))
            m = r.metrics
            draw.text((x0 + 4, y0 + 3), f"{method}\n{dataset} seed {r.seed}: {m['modes']}/{m['total_modes']} modes, "
                      f"{m['high_quality']:.1f}% HQ", fill="black")
            draw.rectangle([x0, y0 + label, x0 + tile - 1, y0 + label + tile - 1], outline=(200, 200, 200))
    canvas.save(path)
    return path


def _finite(row: dict) -> dict:
    """JSON has no infinity: an undefined KL (no high-quality sample) is written as null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def _clusters(recipe: str, overrides: dict) -> int:
    """How many self-conditioning clusters a recipe's runs use (0: the unconditional MLPs)."""
    return TrainConfig(dataset="toy", recipe=recipe, **overrides).resolved().self_cond


def run_benchmark(cfg) -> dict:
    """``artforge bench toy``: every run, then the table, a JSON of all numbers and the plot."""
    import os
    from pathlib import Path

    from ..utils.files import atomic_write_json, atomic_write_text

    jobs = cfg.jobs or os.cpu_count() or 1
    results = run_grid(cfg.datasets(), cfg.recipes(), cfg.seeds, cfg.steps, cfg.batch, jobs, cfg.progress,
                       cfg.width, cfg.filter, cfg.filter_drop, cfg.overrides())
    rows = summarize(results)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    md = table(rows) + "\n\n" + per_seed_table(results)
    atomic_write_text(out / "toy-bench.md", md + "\n")
    atomic_write_json(out / "toy-bench.json", {
        "protocol": {"full": cfg.full, "samples": N_SAMPLES, "steps": cfg.steps, "batch": cfg.batch, "seeds": cfg.seeds,
                     "high_quality": "within 3 std of the nearest mode", "model": vars(ToyConfig(hidden=cfg.width)),
                     "filters": list(cfg.filter), "filter_drop": cfg.filter_drop, "overrides": cfg.overrides(),
                     "self_cond": {name: _clusters(name, cfg.overrides()) for name in cfg.recipes()}},
        "summary": [_finite(row) for row in rows],
        "runs": [_finite({"dataset": r.dataset, "recipe": r.recipe, "sampler": r.sampler, "drop": r.drop,
                          "seed": r.seed, "seconds": r.seconds, **r.metrics})
                 for r in results]})
    plot = scatter_png(results, out / "toy-bench.png")
    if cfg.save_samples:
        folder = Path(cfg.save_samples)
        folder.mkdir(parents=True, exist_ok=True)
        for r in results:
            tag = f"-{r.sampler}filter" if r.sampler else ""
            study = "".join(f"-{k.replace('_', '-')}{v:g}" for k, v in sorted(r.overrides.items()))
            np.save(folder / f"{r.dataset}-{r.recipe}{study}{tag}-seed{r.seed}.npy", r.samples.astype(np.float32))
    return {"table": md, "rows": rows, "plot": plot, "out": out}
