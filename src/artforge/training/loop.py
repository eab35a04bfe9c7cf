"""The training loop: runs the phases, keeps the EMA generator, logs, checkpoints, stops cleanly.

Everything a run needs lives on the ``Trainer`` object (no module-level state), so a distributed
launcher can build one per process and wrap its networks. The loop itself knows nothing about
particular losses: it runs ``self.phases`` (see phases.py) in order.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .. import __version__
from ..config import TrainConfig, from_dict, to_dict
from ..data.archive import ImageDataset, open_dataset
from ..data.loader import BatchSource, decode_all, to_model_range
from ..errors import RunError, TrainingDiverged, UsageError
from ..losses import get_loss
from ..metrics.swd import swd
from ..models.registry import build, make_config
from ..utils.device import autocast, choose_precision, pick_device, precision_name
from ..utils.files import atomic_write_json, read_json
from ..utils.images import make_grid, to_uint8
from . import checkpoint as ckpt
from .health import HealthMonitor
from .monitor import Monitor, truncate_log
from ..data.augment import augment
from ..penalties import instance_noise
from .diffaug import AdaptiveStrength, AugmentPipe
from .phases import NonFinite, Optimization, Phase, StepContext, build_phases, lazy_ratio, run_step
from .rundir import OPTIONS_FILE, new_run_dir, resolve_run
from .selfcond import SelfConditioner, clusters_for, weighted_label

# Options a resumed run may change; everything else is fixed by the run's options.json.
RESUME_OVERRIDES = ("steps", "kimg", "minutes", "tick", "checkpoint_every", "keep", "eval_images", "device",
                    "progress", "workers", "tensorboard", "lr_g", "lr_d", "cache_gb", "eval_every", "eval_metrics",
                    "eval_n", "eval_extractor", "inception_weights")
# What an option that did not exist yet when a run was made meant for it (its behaviour back then).
OPTIONS_BEFORE_THEY_EXISTED = {"output_bias": False, "mbstd_group": 0, "self_cond_min_images": 0}
GRID_IMAGES = 64
MEAN_IMAGE_BYTES = 2**26  # real images averaged for G's initial output bias: 64 MB of them, at least 256
SELF_COND_IMAGES = 2048  # real images clustered for self-conditioning (all of them in a small dataset)
QUALITY_METRIC = "swd"


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    status: str  # "finished" or "interrupted"
    checkpoint: Path | None

    def load(self, checkpoint: str = "best", device: str = "auto"):
        from ..sampling import load
        return load(self.run_dir, checkpoint=checkpoint, device=device)


class EMA:
    """G_ema tracks G with a half-life in images (StyleGAN2-ADA's ema_kimg, with ramp-up)."""

    def __init__(self, G: nn.Module, G_ema: nn.Module, half_life_kimg: float, rampup: float):
        self.params = (list(G.parameters()), list(G_ema.parameters()))
        self.buffers = (list(G.buffers()), list(G_ema.buffers()))
        self.half_life = half_life_kimg * 1000
        self.rampup = rampup

    def beta(self, batch: int, nimg: int) -> float:
        half_life = self.half_life
        if self.rampup > 0:
            half_life = min(half_life, nimg * self.rampup)
        return 0.5 ** (batch / half_life) if half_life > 0 else 0.0

    @torch.no_grad()
    def update(self, batch: int, nimg: int) -> None:
        src, dst = self.params
        torch._foreach_lerp_(dst, src, 1.0 - self.beta(batch, nimg))
        for b_src, b_dst in zip(*self.buffers):  # batch-norm statistics are copied, not averaged
            b_dst.copy_(b_src)


@contextlib.contextmanager
def stop_on_ctrl_c():
    """The first Ctrl-C asks the loop to save and stop after the current step; a second one quits."""
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag["stop"]:
            raise KeyboardInterrupt
        flag["stop"] = True
        print("\nCtrl-C: saving a checkpoint after this step, then stopping (Ctrl-C again quits now)",
              file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance of images shrunk to 16x16: cheap, and blind to pixel noise."""
    small = torch.nn.functional.adaptive_avg_pool2d(images.float(), 16).flatten(1)
    return torch.pdist(small).mean().item() if len(small) > 1 else 0.0


def _match_param_layout(opt: torch.optim.Optimizer) -> None:
    """Give loaded moment tensors their parameter's memory layout (checkpoints store them contiguous).

    The fused Adam kernel walks parameter and moments as flat memory: a channels-last weight with a
    contiguous moment would silently pair the wrong elements, and resume would not be exact.
    """
    for group in opt.param_groups:
        for p in group["params"]:
            for key, value in opt.state.get(p, {}).items():
                if isinstance(value, torch.Tensor) and value.shape == p.shape and value.stride() != p.stride():
                    opt.state[p][key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def _make_optimizer(module: nn.Module, lr: float, cfg: TrainConfig, device: torch.device, ratio: float = 1.0):
    """Adam; with lazy regularization, lr and betas are scaled as Karras et al. 2020 (app. B) do."""
    kwargs = dict(lr=lr * ratio, betas=(cfg.beta1 ** ratio, cfg.beta2 ** ratio))
    if device.type in ("cpu", "cuda"):
        kwargs["fused"] = True  # one kernel for all parameters: measurably faster on both
    return torch.optim.Adam(module.parameters(), **kwargs)


class Trainer:
    def __init__(self, cfg: TrainConfig, run_dir: Path, dataset: ImageDataset, resume_from: Path | None = None):
        cfg = cfg.resolved()  # recipe values for every option left unset
        self.cfg = cfg
        self.run_dir = run_dir
        self.dataset = dataset
        self.device = pick_device(cfg.device)
        self.precision = choose_precision(cfg.precision, self.device)  # measured on a CPU: bf16 only where faster
        self.dtype = self.precision.dtype
        self.num_classes = dataset.num_classes if cfg.conditional else 0
        # Data without (used) labels: condition on clusters of D's features instead (self-conditioning).
        self.self_cond = 0 if self.num_classes else clusters_for(cfg.self_cond, len(dataset.indices(cfg.split)),
                                                                 cfg.self_cond_min_images)
        self.num_classes = self.num_classes or self.self_cond
        self.model_cfg = make_config(cfg.arch, resolution=dataset.resolution, channels=dataset.channels,
                                     num_classes=self.num_classes, z_dim=cfg.z_dim, width=cfg.width,
                                     max_width=cfg.max_width, d_norm=cfg.d_norm, g_spectral=cfg.g_spectral,
                                     output_bias=cfg.output_bias, mbstd_group=cfg.mbstd_group)
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
            torch.manual_seed(cfg.seed)
            G, D = build(cfg.arch, self.model_cfg)
        memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.G = G.to(self.device, memory_format=memory_format)
        self.D = D.to(self.device, memory_format=memory_format)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.ema = EMA(self.G, self.G_ema, cfg.ema_kimg, cfg.ema_rampup)
        self.nets = {"G": self.G, "D": self.D}
        self.phases: list[Phase] = build_phases(cfg)
        self.opt = {"G": _make_optimizer(self.G, cfg.lr_g, cfg, self.device, lazy_ratio(self.phases, "G")),
                    "D": _make_optimizer(self.D, cfg.lr_d, cfg, self.device, lazy_ratio(self.phases, "D"))}
        fp16 = self.dtype == torch.float16
        self.scaler = {k: torch.amp.GradScaler(self.device.type, enabled=fp16) for k in self.nets}
        self.gen = torch.Generator().manual_seed(cfg.seed)  # noise, labels and augmentation
        self.ada = AdaptiveStrength(cfg.ada_target, cfg.ada_kimg) if cfg.ada_target and cfg.d_augment else None
        self.pipe = AugmentPipe(cfg.d_augment, 0.0 if self.ada else cfg.d_augment_p, self.gen)
        self.ada_images = 0  # real images since the last adaptive update
        self.step = 0
        self.draws = 0
        self.metric_history: list[dict] = []
        self.best: dict | None = None
        self.train_seconds = 0.0
        self.clusters: SelfConditioner | None = None
        self.sizing = None  # train() sizes a --minutes run to the machine (sizing.Sizing), before building this
        self._self_cond_state = None  # the checkpoint's clusters, restored once the data is loaded
        if resume_from is not None:
            self._restore(ckpt.load_checkpoint(resume_from, device=self.device))
        indices = dataset.indices(cfg.split)
        if len(indices) == 0:
            raise UsageError(f"dataset {dataset.path} has no images in the {cfg.split!r} split",
                             "pass --split all, or prepare the dataset with a larger train fraction")
        self.source = BatchSource(dataset, indices, cfg.batch, cfg.seed, self.device, cfg.cache_gb,
                                  cfg.workers, progress=cfg.progress)
        if resume_from is None:
            self._init_from_data()
        self.fixed_z, self.fixed_c = self._fixed_latents(max(GRID_IMAGES, cfg.eval_images))
        if self.self_cond:
            self._start_self_conditioning()
        self.fixed_real = self.source.fixed_sample(cfg.eval_images, cfg.seed)[0] if cfg.eval_images else None
        self._health_batches()

    # ------------------------------------------------------------------ state

    def _init_from_data(self) -> None:
        """Data-dependent initialization: G's output bias starts at the training images' mean image."""
        if getattr(self.G, "output_bias", None) is None:
            return
        per_image = self.dataset.channels * self.dataset.resolution ** 2
        n = min(len(self.source.indices), max(256, MEAN_IMAGE_BYTES // per_image))
        images = self.source.fixed_sample(n, self.cfg.seed + 3)[0]  # uint8 (N, C, R, R)
        mean = images.sum(dim=0, dtype=torch.float32) / (127.5 * len(images)) - 1  # (C, R, R) in [-1, 1]
        for G in (self.G, self.G_ema):
            G.init_output_bias(mean.to(self.device))

    def _start_self_conditioning(self) -> None:
        images = self.source.fixed_sample(min(len(self.source.indices), SELF_COND_IMAGES), self.cfg.seed + 2)[0]
        self.clusters = SelfConditioner(self.self_cond, to_model_range(images, False).to(self.device), self.cfg.seed)
        if self._self_cond_state is not None:
            self.clusters.load_state_dict(self._self_cond_state, self.D)
            self._weight_fixed_labels()
        else:
            self._recluster()

    def _recluster(self) -> None:
        # in the precision training runs at, so the features that define the clusters match those that assign to them
        with autocast(self.device, self.dtype):
            self.clusters.recluster(self.D)
        self._weight_fixed_labels()

    def _weight_fixed_labels(self) -> None:
        """Grid and quality-signal labels in proportion to the clusters' sizes, as samplers draw them."""
        weights = self.label_weights
        self.fixed_c = torch.tensor([weighted_label(i, weights) for i in range(len(self.fixed_z))]).to(self.device)

    @property
    def label_names(self) -> list[str]:
        if self.self_cond:
            return [f"cluster-{i:02d}" for i in range(self.self_cond)]
        return self.dataset.label_names if self.num_classes else []

    @property
    def label_weights(self) -> list[float]:
        """Self-conditioned: each cluster's share of the data (samplers draw clusters by it)."""
        return self.clusters.frequencies.tolist() if self.clusters else []

    def _fixed_latents(self, n: int):
        g = torch.Generator().manual_seed(self.cfg.seed + 1_000_003)
        z = torch.randn(n, self.model_cfg.z_dim, generator=g).to(self.device)
        c = (torch.arange(n) % self.num_classes).to(self.device) if self.num_classes else None
        return z, c

    @property
    def nimg(self) -> int:
        return self.draws * self.cfg.batch

    def training_state(self) -> dict:
        return {
            "artforge_version": __version__,
            "arch": self.cfg.arch,
            "model_config": dataclasses.asdict(self.model_cfg),
            "train_config": to_dict(self.cfg),
            "draws": self.draws,
            "nimg": self.nimg,
            "train_seconds": self.train_seconds,
            "precision": precision_name(self.dtype),
            "optimizers": {k: o.state_dict() for k, o in self.opt.items()},
            "scalers": {k: s.state_dict() for k, s in self.scaler.items()},
            "rng": {"generator": self.gen.get_state(), "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            "metric_history": self.metric_history,
            "best": self.best,
            "augment": {"p": self.pipe.p, "images": self.ada_images,
                        "ada": self.ada.state_dict() if self.ada else None},
            "label_names": self.label_names,
            "self_cond": self.clusters.state_dict() if self.clusters else None,
            "label_weights": self.label_weights,  # for samplers, which read no training tensors
        }

    def _restore(self, loaded: dict) -> None:
        state = loaded["state"]
        for name, module in (("G", self.G), ("D", self.D), ("G_ema", self.G_ema)):
            module.load_state_dict(loaded["models"][name])
        for name, opt in self.opt.items():
            opt.load_state_dict(state["optimizers"][name])
            ratio = lazy_ratio(self.phases, name)
            for group in opt.param_groups:  # a resumed run may change learning rates
                group["lr"] = (self.cfg.lr_g if name == "G" else self.cfg.lr_d) * ratio
            _match_param_layout(opt)
        for name, scaler in self.scaler.items():
            if state["scalers"].get(name):
                scaler.load_state_dict(state["scalers"][name])
        self.gen.set_state(state["rng"]["generator"])
        torch.set_rng_state(state["rng"]["torch"])
        if torch.cuda.is_available() and state["rng"]["cuda"]:
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.step = loaded["step"]
        self.draws = state["draws"]
        self.train_seconds = state.get("train_seconds", 0.0)
        self.metric_history = state.get("metric_history", [])
        self.best = state.get("best")
        self._self_cond_state = state.get("self_cond")
        self.pipe.p = state["augment"]["p"]
        self.ada_images = state["augment"]["images"]
        if self.ada is not None:
            self.ada.load_state_dict(state["augment"]["ada"])

    # ------------------------------------------------------------------ one step

    def make_context(self) -> StepContext:
        """The view of this run that phase losses get; its real batches continue the data order."""
        cfg = self.cfg

        def prepare_real(images):  # uint8 -> [-1, 1], the run's layout, dataset augmentation
            return augment(to_model_range(images, cfg.channels_last), cfg.augment, self.gen)

        def d_view(x):  # everything D sees: differentiable augmentation, then instance noise
            return instance_noise(self.pipe(x), self.noise_std(), self.gen)

        ctx = StepContext(self.G, self.D, get_loss(cfg.loss), self.source.batches(self.draws), self.gen,
                          self.device, cfg.batch, self.model_cfg.z_dim, self.num_classes, prepare_real, d_view,
                          cfg.label_smoothing, self.ada.observe if self.ada else None,
                          labeler=self.clusters.assign if self.clusters else None)
        ctx.draws = self.draws
        return ctx

    def noise_std(self) -> float:
        """Instance noise fades linearly to 0 over --instance-noise-kimg."""
        fade = 1 - self.nimg / (self.cfg.instance_noise_kimg * 1000)
        return self.cfg.instance_noise * max(fade, 0.0)

    def train_step(self, ctx: StepContext, monitor: Monitor, log_grads: bool) -> None:
        optimization = Optimization(self.nets, self.opt, self.scaler, lambda: autocast(self.device, self.dtype))
        nimg_before = self.nimg
        if self.clusters and self.step and self.step % self.cfg.self_cond_every == 0:
            self._recluster()
        trained_g = run_step(self.phases, self.step, ctx, optimization, monitor.report, log_grads)
        self.draws = ctx.draws
        if trained_g:
            self.ema.update(self.cfg.batch, self.nimg)
        self.step += 1
        if self.ada is not None:
            self.ada_images += self.nimg - nimg_before
            if self.step % self.ada.interval == 0:
                self.pipe.p = self.ada.update(self.ada_images)
                self.ada_images = 0
                monitor.report("Augment/rt", self.ada.rt)
        if self.pipe:
            monitor.report("Augment/p", self.pipe.p)

    # ------------------------------------------------------------------ ticks, grids, checkpoints

    @torch.no_grad()
    def generate_fixed(self, n: int) -> torch.Tensor:
        out = []
        for start in range(0, n, 64):
            z = self.fixed_z[start:start + min(64, n - start)]
            c = self.fixed_c[start:start + len(z)] if self.fixed_c is not None else None
            with autocast(self.device, self.dtype):
                out.append(self.G_ema(z, c).float())
        return torch.cat(out)

    def save_grid(self) -> torch.Tensor:
        """The fixed-latent grid of this step as a PNG; returns the images (for the health checks)."""
        n = GRID_IMAGES if self.dataset.resolution <= 64 else 16 if self.dataset.resolution >= 256 else 36
        path = self.run_dir / "grids" / f"{self.step:06d}.png"
        path.parent.mkdir(exist_ok=True)
        images = self.generate_fixed(n)
        make_grid(to_uint8(images)).save(path)
        return images

    def _health_batches(self) -> None:
        """Fixed real images for the health signals: a training batch, and validation images if any."""
        n = 64
        train_images, train_labels = self.source.fixed_sample(n, self.cfg.seed + 1)
        val = self.dataset.indices("val")[:n]
        self.health_train = (to_model_range(train_images, False).to(self.device), train_labels)
        self.health_val = None
        if len(val) and self.cfg.split == "train":
            use_labels = self.num_classes and not self.self_cond  # self-conditioned: clusters, assigned per check
            labels = torch.from_numpy(self.dataset.labels[val]).to(self.device) if use_labels else None
            self.health_val = (to_model_range(decode_all(self.dataset, val), False).to(self.device), labels)
        self.real_diversity = _diversity(self.health_train[0])

    @torch.no_grad()
    def health_stats(self, samples: torch.Tensor) -> dict[str, float]:
        """Diversity of the grid against real images; D's r_t on training vs held-out images; weight norms."""
        stats = {"Health/diversity": _diversity(samples) / max(self.real_diversity, 1e-8)}
        if self.health_val is not None:
            was_training = self.D.training
            self.D.eval()  # running statistics, and no update of them
            with autocast(self.device, self.dtype):
                for name, (x, c) in (("train", self.health_train), ("val", self.health_val)):
                    c = self.clusters.assign(x) if self.clusters else c
                    stats[f"Health/r_{name}"] = torch.sign(self.D(x, c).float()).mean().item()
            self.D.train(was_training)
        for name, net in self.nets.items():
            stats[f"Health/weight_norm_{name}"] = torch.linalg.vector_norm(
                torch.stack(torch._foreach_norm(list(net.parameters())))).item()
        return stats

    def quality(self) -> dict[str, float] | None:
        """A cheap quality signal for picking the best checkpoint: SWD of G_ema against real images."""
        if self.fixed_real is None:
            return None
        fake = self.generate_fixed(self.cfg.eval_images).cpu()
        real = to_model_range(self.fixed_real, channels_last=False)
        return swd(real, fake, patches_per_image=64, directions=256, repeats=1, seed=self.cfg.seed)

    def weights_finite(self) -> bool:
        return all(torch.isfinite(p).all() for net in (self.G, self.D) for p in net.parameters())

    def save_checkpoint(self, monitor: Monitor) -> Path:
        if not self.weights_finite():
            raise NonFinite("a weight", float("nan"))
        scores = self.quality() or {}
        if scores:
            entry = {"kimg": round(self.nimg / 1000, 3), **{k: round(v, 4) for k, v in scores.items()}}
            self.metric_history.append({"step": self.step, **entry})
            monitor.event(self.step, "metric", **entry)
            monitor.report(f"Quality/{QUALITY_METRIC}", scores[QUALITY_METRIC])
        if self.cfg.eval_every and self.step % self.cfg.eval_every == 0:
            scores = {**scores, **self.evaluate(monitor)}
        self._update_best(scores)
        ckpt_dir = self.run_dir / "checkpoints"
        path = ckpt.save_checkpoint(ckpt_dir, self.step, {"G": self.G, "D": self.D, "G_ema": self.G_ema},
                                    self.training_state())
        ckpt.write_index(ckpt_dir, {"latest": path.name, "best": self.best["name"], "best_metric": self.best})
        ckpt.prune(ckpt_dir, self.cfg.keep, protect={self.best["name"], path.name})
        return path

    def selection(self) -> tuple[str, str]:
        """The score that picks the best checkpoint, and whether lower or higher is better."""
        if self.cfg.eval_every:
            from ..metrics.evaluate import METRICS
            metric = METRICS[self.cfg.eval_metrics[0]]
            return metric.primary, metric.better
        return QUALITY_METRIC, "lower"

    def _update_best(self, scores: dict) -> None:
        key, better = self.selection()
        name = ckpt.checkpoint_name(self.step)
        if key not in scores:
            if self.best is None or self.best["metric"] is None:  # no signal at all: the newest is the best
                self.best = {"name": name, "step": self.step, "metric": None, "value": None}
            return
        value = scores[key]
        improved = self.best is None or self.best["value"] is None or (
            value <= self.best["value"] if better == "lower" else value >= self.best["value"])
        if improved:
            self.best = {"name": name, "step": self.step, "metric": key, "value": round(float(value), 6)}

    def evaluate(self, monitor: Monitor) -> dict[str, float]:
        """--eval-every: score G_ema now with the chosen metrics; log them; return the flat numbers."""
        from ..config import EvaluateConfig
        from ..metrics.evaluate import evaluate
        from ..sampling import LoadedRun

        cfg = self.cfg
        name = ckpt.checkpoint_name(self.step)
        model = LoadedRun(self.run_dir, Path(name), self.step, cfg.arch, self.model_cfg, self.G_ema, self.device,
                          self.label_names, self.label_weights)
        eval_cfg = EvaluateConfig(run=str(self.run_dir), real=str(self.dataset.path), split=cfg.split,
                                  metrics=cfg.eval_metrics, extractor=cfg.eval_extractor, n=cfg.eval_n,
                                  inception_weights=cfg.inception_weights, device=str(self.device), progress=False,
                                  out=str(self.run_dir / "eval" / f"{name}.json"))
        report = evaluate(eval_cfg, model=model)
        flat = {k: v for k, v in report["results"].items() if isinstance(v, (int, float))}
        monitor.event(self.step, "eval", kimg=round(self.nimg / 1000, 3), **flat)
        for key, value in flat.items():
            monitor.report(f"Eval/{key}", value)
        return flat

    # ------------------------------------------------------------------ the loop

    def _done(self, started: float) -> bool:
        cfg = self.cfg
        return ((cfg.steps is not None and self.step >= cfg.steps)
                or (cfg.kimg is not None and self.nimg >= cfg.kimg * 1000)
                or (cfg.minutes is not None and time.time() - started >= cfg.minutes * 60))

    def _progress_total(self) -> int | None:
        cfg, per_step = self.cfg, self.cfg.batch * sum(p.repeats for p in self.phases if p.trains == "D")
        totals = []
        if cfg.steps is not None:
            totals.append(cfg.steps)
        if cfg.kimg is not None:
            totals.append(math.ceil(cfg.kimg * 1000 / per_step))
        return min(totals) if totals else None

    def run(self) -> TrainResult:
        cfg = self.cfg
        truncate_log(self.run_dir / "log.jsonl", self.step)
        monitor = Monitor(self.run_dir, tensorboard=cfg.tensorboard)
        health = HealthMonitor()
        ctx = self.make_context()
        bar = _ProgressBar(self, enabled=cfg.progress)
        monitor.event(self.step, "precision", precision=precision_name(self.dtype), reason=self.precision.reason)
        bar.note(f"precision {precision_name(self.dtype)}: {self.precision.reason}")
        if self.sizing is not None and self.step == 0:
            monitor.event(self.step, "sizing", **self.sizing.to_json())
            bar.note(self.sizing.summary())
        tick_nimg = self.nimg
        last_ckpt: Path | None = None
        status = "finished"
        try:
            with stop_on_ctrl_c() as ctrl_c:
                if self.step == 0:
                    self.save_grid()
                started = tick_time = time.time()  # --minutes counts training, not set-up
                while not self._done(started):
                    step_start = time.time()
                    log_grads = (self.step + 1) % cfg.tick == 0
                    try:
                        self.train_step(ctx, monitor, log_grads)
                    except NonFinite as exc:
                        self._diverged(monitor, exc)
                    self.train_seconds += time.time() - step_start
                    bar.update(self.step, started)
                    due = self.step % cfg.checkpoint_every == 0 or (cfg.eval_every and self.step % cfg.eval_every == 0)
                    if due:  # before the tick: its line gets the quality
                        last_ckpt = self._checkpoint(monitor)
                    if self.step % cfg.tick == 0:
                        now = time.time()
                        speed = (self.nimg - tick_nimg) / max(now - tick_time, 1e-9)
                        self._tick(monitor, health, bar, speed)
                        tick_time, tick_nimg = time.time(), self.nimg
                    if ctrl_c["stop"]:
                        status = "interrupted"
                        break
                if last_ckpt is None or last_ckpt.name != ckpt.checkpoint_name(self.step):
                    last_ckpt = self._checkpoint(monitor)
                if self.step % cfg.tick:
                    self._tick(monitor, health, bar, None)
        finally:
            bar.close()
            monitor.close()
        return TrainResult(self.run_dir, self.step, status, last_ckpt)

    def _tick(self, monitor: Monitor, health: HealthMonitor, bar: "_ProgressBar", speed: float | None) -> None:
        """One log line, the sample grid, and the health checks with their warnings."""
        for key, value in self.health_stats(self.save_grid()).items():
            monitor.report(key, value)
        fields = {"kimg": round(self.nimg / 1000, 3), "Time/train_s": round(self.train_seconds, 1)}
        if speed is not None:
            fields["Speed/img_per_s"] = round(speed, 2)
        bar.show(monitor.tick(self.step, **fields))
        for warning in health.check(monitor.history):
            monitor.event(self.step, "health", check=warning.check, message=warning.message,
                          suggestion=warning.suggestion)
            bar.write(f"warning at step {self.step}: {warning.message}; try: {warning.suggestion}")

    def _checkpoint(self, monitor: Monitor) -> Path:
        try:
            return self.save_checkpoint(monitor)
        except NonFinite as exc:
            self._diverged(monitor, exc)

    def _diverged(self, monitor: Monitor, exc: NonFinite):
        latest = ckpt.read_index(self.run_dir / "checkpoints").get("latest")
        monitor.event(self.step, "diverged", message=str(exc))
        kept = f"the last good checkpoint {latest} is kept" if latest else "no checkpoint was saved yet"
        raise TrainingDiverged(
            f"training diverged at step {self.step}: {exc}; {kept}",
            f"resume with lower learning rates: artforge train --resume {self.run_dir} --lr-g {self.cfg.lr_g / 2:g} "
            f"--lr-d {self.cfg.lr_d / 2:g}" if latest else "train again with lower --lr-g and --lr-d")


class _ProgressBar:
    """tqdm over steps (or over seconds for --minutes alone), with img/s, losses and an ETA."""

    def __init__(self, trainer: Trainer, enabled: bool):
        self.bar = None
        self.by_time = False
        if not enabled:
            return
        from tqdm import tqdm
        total = trainer._progress_total()
        if total is None and trainer.cfg.minutes is not None:
            self.by_time = True
            total = int(trainer.cfg.minutes * 60)
        # By time, the rate column would read "1.00s/s": show elapsed and remaining instead.
        time_format = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}"
        self.bar = tqdm(total=total, initial=0 if self.by_time else trainer.step, unit="step",
                        desc=f"training {trainer.run_dir.name}", dynamic_ncols=True, file=sys.stderr,
                        bar_format=time_format if self.by_time else None,
                        mininterval=0.5 if sys.stderr.isatty() else 30)
        self.last = trainer.step

    def update(self, step: int, started: float) -> None:
        if self.bar is None:
            return
        if self.by_time:  # update() (not refresh()) so tqdm's mininterval limits the output
            self.bar.update(min(int(time.time() - started), self.bar.total) - self.bar.n)
        else:
            self.bar.update(step - self.last)
        self.last = step

    def show(self, line: dict) -> None:
        if self.bar is not None:
            keys = {"img/s": "Speed/img_per_s", "D": "Loss/D", "G": "Loss/G", "D(x)": "D/real", "D(G(z))": "D/fake"}
            self.bar.set_postfix({k: f"{line[v]:.3g}" for k, v in keys.items() if isinstance(line.get(v), (int, float))})

    def note(self, text: str) -> None:
        """A line of information above the bar; nothing when the progress display is off (--quiet)."""
        if self.bar is not None:
            self.write(text)

    def write(self, text: str) -> None:
        from tqdm import tqdm
        tqdm.write(text, file=sys.stderr) if self.bar is not None else print(text, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------- API

def _write_options(run_dir: Path, cfg: TrainConfig, trainer: Trainer) -> None:
    ds = trainer.dataset
    atomic_write_json(run_dir / OPTIONS_FILE, {
        "artforge_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "train": to_dict(cfg),
        "model": {"arch": cfg.arch, **dataclasses.asdict(trainer.model_cfg)},
        "dataset": {"path": str(Path(ds.path).resolve()), "name": ds.display_name, "images": len(ds),
                    "train_images": len(ds.indices(cfg.split)), "resolution": ds.resolution,
                    "channels": ds.channels, "label_names": ds.label_names},
        "device": str(trainer.device),
        "precision": precision_name(trainer.dtype),
        "precision_reason": trainer.precision.reason,
        "sizing": trainer.sizing.to_json() if trainer.sizing else None,
    })


def train(dataset: str | Path | None = None, *, resume: str | Path | None = None, **options) -> TrainResult:
    """Train a GAN on a prepared dataset; or continue a run exactly where it stopped (``resume``).

    Options are the fields of ``artforge.config.TrainConfig`` (the CLI's flags). Returns when a stop
    condition (steps, kimg, minutes) is met or after Ctrl-C, with a checkpoint saved either way.
    """
    if resume is not None:
        return _resume(resume, dataset, options)
    if dataset is None:
        raise UsageError("no dataset given", "pass a dataset made by 'artforge prepare', or resume=RUN")
    cfg = TrainConfig(dataset=str(dataset), **options)
    ds = open_dataset(cfg.dataset)
    make_config(cfg.arch, resolution=ds.resolution, channels=ds.channels)  # fail before making a folder
    sized = None
    if cfg.minutes is not None and cfg.size_to_budget and not {"width", "batch"} & options.keys():
        sized = _size_to_budget(cfg, ds)
        cfg = dataclasses.replace(cfg, width=sized.size.width, batch=sized.size.batch)
    run_dir = new_run_dir(cfg.out, f"{ds.display_name}-{cfg.arch}")
    try:
        trainer = Trainer(cfg, run_dir, ds)
    except BaseException:
        _remove_empty_run(run_dir)
        raise
    trainer.sizing = sized
    _write_options(run_dir, trainer.cfg, trainer)
    return trainer.run()


def _size_to_budget(cfg: TrainConfig, ds: ImageDataset):
    """The widest candidate network that gets enough steps in ``--minutes`` on this machine (sizing.py)."""
    from . import sizing

    if cfg.progress:
        print("timing a few training steps of each candidate size for the budget ...", file=sys.stderr, flush=True)
    seconds = cfg.minutes * 60
    classes = ds.num_classes if cfg.conditional else 0
    measured = sizing.measure(cfg.resolved(), ds.resolution, ds.channels, classes, seconds=seconds)
    return sizing.Sizing(sizing.choose_size(seconds, measured), seconds, measured)


def _remove_empty_run(run_dir: Path) -> None:
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()


def _resume(resume: str | Path, dataset, options: dict) -> TrainResult:
    run_dir = resolve_run(resume)
    fixed = [k for k in options if k not in RESUME_OVERRIDES]
    if fixed:
        raise UsageError(f"--{fixed[0].replace('_', '-')} cannot change when resuming (the run's options.json fixes it)",
                         f"leave it out, or start a new run; changeable: {', '.join(RESUME_OVERRIDES)}")
    saved = read_json(run_dir / OPTIONS_FILE)
    # Options added since the run was made take the value that reproduces how it was trained.
    saved["train"] = {**OPTIONS_BEFORE_THEY_EXISTED, **saved["train"]}
    # The dataset may have moved since: an explicit path wins over the recorded absolute one.
    ds_path = Path(dataset) if dataset is not None else Path(saved["dataset"]["path"])
    cfg = from_dict(TrainConfig, {**saved["train"], **options, "dataset": str(ds_path)})
    if not ds_path.exists():
        raise RunError(f"the run's dataset {ds_path} is gone",
                       f"pass it again: artforge train DATASET --resume {run_dir}")
    ds = open_dataset(ds_path)
    if (ds.resolution, ds.channels) != (saved["dataset"]["resolution"], saved["dataset"]["channels"]):
        raise RunError(f"dataset {ds_path} is {ds.resolution}px with {ds.channels} channels, the run was "
                       f"trained on {saved['dataset']['resolution']}px", "pass the run's original dataset")
    latest = ckpt.resolve_checkpoint(run_dir, "latest")
    trainer = Trainer(cfg, run_dir, ds, resume_from=latest)
    return trainer.run()
