"""Generation of 2-D points from a Gaussian mixture: the toy benchmark's task, on the one engine.

The same GAN phases as image generation (generation.build_phases) over the toy family's MLPs; the
data is a stream of fresh mixture samples; learning rates decay linearly to 0 over the last
``decay`` share of the steps; self-conditioning clusters D's features of a fixed real sample and is
found again every ``self_cond_every`` steps, from step 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..losses import get_loss
from ..modality import POINTS
from ..training.steps import Phase, Task
from .generation import StepContext, build_phases
from .selfcond import SelfConditioner

SELF_COND_SAMPLES = 10_000  # the fixed real sample self-conditioning clusters (as in Liu et al. 2020)


@dataclass(frozen=True)
class Mixture:
    name: str
    centers: tuple[tuple[float, float], ...]
    std: float


def ring(modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Mixture:
    angles = [2 * math.pi * k / modes for k in range(modes)]
    return Mixture("ring", tuple((radius * math.cos(a), radius * math.sin(a)) for a in angles), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    offsets = [spacing * (i - (side - 1) / 2) for i in range(side)]
    return Mixture("grid", tuple((x, y) for x in offsets for y in offsets), std)


MIXTURES = {"ring": ring(), "grid": grid()}


def sample_mixture(mixture: Mixture, n: int, gen: torch.Generator) -> Tensor:
    centers = torch.tensor(mixture.centers)
    idx = torch.randint(0, len(centers), (n,), generator=gen)
    return centers[idx] + mixture.std * torch.randn(n, 2, generator=gen)


class ToyTask(Task):
    """``cfg``: a resolved TrainConfig's sections (recipe, batch, seed, steps); ``lr_scale`` multiplies its rates."""

    name = "toy"
    modality = POINTS

    def __init__(self, cfg, mixture: Mixture, num_classes: int, lr_scale: float = 5.0, decay: float = 0.3):
        self.cfg, self.mixture, self.num_classes = cfg, mixture, num_classes
        self.lr_scale, self.decay = lr_scale, decay
        self.clusters: SelfConditioner | None = None
        self._self_cond_state = None  # a checkpoint's clusters, restored in start()

    def phases(self) -> list[Phase]:
        return build_phases(self.cfg)

    def learning_rates(self) -> dict[str, float]:
        return {"G": self.cfg.engine.lr_g * self.lr_scale, "D": self.cfg.engine.lr_d * self.lr_scale}

    def start(self) -> None:
        self.base_lr = {name: [g["lr"] for g in opt.param_groups] for name, opt in self.engine.opt.items()}
        if self.num_classes:  # clustered at step 0 (before_step), as the benchmark always did
            seed = 30_000 + self.cfg.engine.seed
            fixed = sample_mixture(self.mixture, SELF_COND_SAMPLES, torch.Generator().manual_seed(seed))
            self.clusters = SelfConditioner(self.num_classes, fixed, self.cfg.engine.seed)
            if self._self_cond_state:
                self.clusters.load_state_dict(self._self_cond_state, self.engine.nets["D"])

    def _data(self):
        engine, batch = self.engine, self.cfg.engine.batch
        part = engine.dist.part(batch)
        while True:  # the global batch from the shared stream; this process keeps its part
            yield sample_mixture(self.mixture, batch, engine.shared_gen)[part], None

    def context(self) -> StepContext:
        engine = self.engine
        ctx = StepContext(engine.nets["G"], engine.nets["D"], get_loss(self.cfg.engine.loss), self._data(), engine.gen,
                          engine.device, self.cfg.engine.batch, engine.model_cfg.z_dim, num_classes=self.num_classes,
                          label_smoothing=self.cfg.task.label_smoothing,
                          labeler=self.clusters.assign if self.clusters else None, shared=engine.shared_gen,
                          part=engine.dist.part(self.cfg.engine.batch))
        ctx.draws = engine.draws
        return ctx

    def before_step(self, step: int) -> None:
        if self.clusters and step % self.cfg.task.self_cond_every == 0:
            self.clusters.recluster(self.engine.nets["D"])
        steps = self.cfg.engine.steps
        left = (steps - step) / max(self.decay * steps, 1)
        for name, opt in self.engine.opt.items():  # linear decay to 0 over the last ``decay`` of the steps
            for group, lr in zip(opt.param_groups, self.base_lr[name]):
                group["lr"] = lr * min(1.0, left)

    def preview(self) -> Tensor:
        with torch.no_grad():
            gen = torch.Generator().manual_seed(self.cfg.engine.seed)
            z = torch.randn(1000, self.engine.model_cfg.z_dim, generator=gen)
            labels = self.clusters.sample_labels(1000, torch.Generator().manual_seed(1)) if self.clusters else None
            return self.engine.ema_nets["G_ema"](z, labels)

    def state_dict(self) -> dict:
        return {"self_cond": self.clusters.state_dict() if self.clusters else None}

    def load_state_dict(self, state: dict) -> None:
        self._self_cond_state = state.get("self_cond")
