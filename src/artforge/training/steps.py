"""What every task shares: a training step as data (phases on named networks), and the Task seam.

A *phase* names the network whose optimizer steps, the function computing its loss from the
task's step context, how often it runs (``interval``: lazy regularization runs every k steps), how
many times in a row (``repeats``: n_critic D steps per G step), what to do to the network after its
optimizer step (``after_step``: weight clipping) and which other networks keep their graph during
it (``keeps_graph``: a GAN's D phase builds G's fake batch, which the G phase then reuses).

``run_step`` runs one step of any list of phases on any named networks: the engine never names a
network. A *task* (a subclass of ``Task``) says what a step is made of; the engine owns the
networks, optimizers, EMA, precision, ranks, the loop, logs and checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class Phase:
    name: str
    trains: str  # the network whose optimizer steps
    loss: Callable[[Any], dict[str, Tensor]]  # context -> {"loss": scalar, other stats}
    interval: int = 1
    repeats: int = 1
    after_step: Callable[[nn.Module], None] | None = None
    keeps_graph: tuple[str, ...] = ()  # other networks that need gradients in this phase


def lazy_ratio(phases: list[Phase], net: str) -> float:
    """Adam's lr and betas scale for a network with a lazy phase: k / (k + 1) (Karras et al. 2020)."""
    k = max((p.interval for p in phases if p.trains == net and p.interval > 1), default=0)
    return k / (k + 1) if k else 1.0


def trained_networks(phases: list[Phase]) -> list[str]:
    return list(dict.fromkeys(p.trains for p in phases))


@dataclass
class Optimization:
    """The networks a step trains, their optimizers and grad scalers, and the compute context.

    ``average_gradients`` (distributed runs) averages a network's gradients across processes after
    each phase's backward; ``agree_finite`` makes every process take the same decision on a loss.
    """

    nets: dict[str, nn.Module]
    opt: dict[str, torch.optim.Optimizer]
    scaler: dict[str, torch.amp.GradScaler]
    autocast: Callable[[], object]  # a fresh autocast context manager
    average_gradients: Callable[[nn.Module], None] | None = None
    agree_finite: Callable[[Tensor], bool] | None = None


class NonFinite(Exception):
    def __init__(self, name: str, value: float):
        super().__init__(f"{name} is {value}")
        self.name, self.value = name, value


def run_phase(phase: Phase, ctx, o: Optimization, report, log_grads: bool) -> None:
    module, opt, scaler = o.nets[phase.trains], o.opt[phase.trains], o.scaler[phase.trains]
    for name, net in o.nets.items():
        net.requires_grad_(name == phase.trains or name in phase.keeps_graph)
    opt.zero_grad(set_to_none=True)
    with o.autocast():
        stats = phase.loss(ctx)
    loss = stats.pop("loss")
    finite = o.agree_finite(loss) if o.agree_finite is not None else bool(torch.isfinite(loss))
    if not finite:
        raise NonFinite(f"Loss/{phase.name}", loss.item())
    scaler.scale(loss).backward()
    if o.average_gradients is not None:
        o.average_gradients(module)
    if log_grads:
        scaler.unscale_(opt)
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        report(f"grad_norm/{phase.trains}", torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))
    scaler.step(opt)
    scaler.update()
    if phase.after_step is not None:
        phase.after_step(module)
    report(f"Loss/{phase.name}", loss)
    for key, value in stats.items():
        report(key, value)


def run_step(phases: list[Phase], step: int, ctx, o: Optimization, report, log_grads: bool) -> set[str]:
    """Run the phases due at ``step``; returns the names of the networks trained (their EMA follows)."""
    trained: set[str] = set()
    ctx.new_repeat()  # fresh batches for this step; phases then share them
    for phase in phases:
        if step % phase.interval:
            continue
        for repeat in range(phase.repeats):
            if repeat:  # n_critic: every extra step of a network sees new batches
                ctx.new_repeat()
            run_phase(phase, ctx, o, report, log_grads)
        trained.add(phase.trains)
    ctx.new_repeat()  # drop the graph before the next step
    return trained


class Task:
    """What a training step is made of; the engine calls these hooks and owns everything else.

    A task is built with its options and data, then ``attach``-ed to an engine (which gives it the
    networks, device, precision and random streams). Subclasses override what they need.
    """

    name = "task"
    modality = None  # a modality.Modality: how items are previewed and written
    progress_keys: dict[str, str] = {}  # short name -> logged value, shown on the progress bar
    quality_metric = "swd"  # the key of quality() that picks the best checkpoint (lower is better)
    self_cond = 0  # clusters the task conditions on in place of labels (the generation task's self-conditioning)
    label_classes = 0  # the dataset's labels the task conditions on

    def attach(self, engine) -> None:
        """Called once the engine has built the networks: open data streams (no randomness yet)."""
        self.engine = engine

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def learning_rates(self) -> dict[str, float]:
        """Adam learning rate of every trained network (before the lazy-regularization scaling)."""
        raise NotImplementedError

    def init_from_data(self) -> None:
        """A fresh run's data-dependent initialization (not on resume)."""

    def start(self) -> None:
        """After a fresh start or a restore: fixed inputs, task state that depends on the networks."""

    def context(self):
        """The step context phase losses see; it has ``draws`` (batches taken) and ``new_repeat()``."""
        raise NotImplementedError

    def images_per_draw(self) -> int:
        """Items per batch draw, across all processes (what kimg counts)."""
        return self.engine.cfg.batch

    def before_step(self, step: int) -> None:
        """Schedules and task state that change between steps (reclustering, learning-rate decay)."""

    def after_step(self, new_images: int, report) -> None:
        """Statistics that steer training (adaptive augmentation), after the optimizer steps."""

    def preview(self) -> Tensor | None:
        """The fixed-input preview of the current networks (modality layout), or None."""
        return None

    def health(self, preview: Tensor | None) -> dict[str, float]:
        return {}

    def quality(self) -> dict[str, float] | None:
        """A cheap quality signal (lower is better) for picking the best checkpoint, or None."""
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def inference_state(self) -> dict:
        """What samplers need besides the weights (label names, cluster shares), saved with them."""
        return {}

    def more_datasets(self) -> dict:
        """Datasets besides ``self.dataset`` that the run's options record, by key (cyclegan's domain B)."""
        return {}


def held_out_first(dataset, split: str, n: int) -> np.ndarray:
    """``n`` fixed item indices for previews: validation and test items first, topped up from ``split``;
    spread evenly over each (a dataset's order groups alike items: the first few could all be flags)."""
    def spread(indices: np.ndarray, k: int) -> list[int]:
        if len(indices) <= k:
            return indices.tolist()
        return indices[np.linspace(0, len(indices) - 1, k).round().astype(int)].tolist()

    held_out = np.array(list(dict.fromkeys(np.concatenate([dataset.indices("val"), dataset.indices("test")]).tolist())),
                        dtype=np.int64)
    chosen = spread(held_out, n)
    taken = set(chosen)
    rest = np.array([i for i in dataset.indices(split).tolist() if i not in taken], dtype=np.int64)
    return np.array(chosen + spread(rest, n - len(chosen)), dtype=np.int64)


class PairStep:
    """A step context over (input, target) batches: one batch drawn per repeat and G's output for it,
    both cached, so every phase of a step sees the same ones. ``prepare`` turns a drawn batch into the
    (input, target) tensors."""

    def __init__(self, G, batches, prepare):
        self.G, self.batches, self.prepare = G, batches, prepare
        self.draws = 0
        self._pair = self._fake = None

    def new_repeat(self) -> None:
        self._pair = self._fake = None

    def pair(self) -> tuple[Tensor, Tensor]:
        if self._pair is None:
            images, _ = next(self.batches)
            self.draws += 1
            self._pair = self.prepare(images)
        return self._pair

    def fake(self) -> Tensor:
        if self._fake is None:
            self._fake = self.G(self.pair()[0])
        return self._fake


def training_batches(dataset, cfg, engine, seed: int | None = None, what: str = "images"):
    """A ``BatchSource`` of ``dataset``'s training split for this process (its slice of every batch)."""
    from ..data.loader import BatchSource
    from ..errors import UsageError

    indices = dataset.indices(cfg.engine.split)
    if len(indices) == 0:
        raise UsageError(f"dataset {dataset.path} has no {what} in the {cfg.engine.split!r} split",
                         "use the 'all' split, or prepare the dataset with a larger train fraction")
    dist = engine.dist
    return BatchSource(dataset, indices, cfg.engine.batch, cfg.engine.seed if seed is None else seed, engine.device, cfg.engine.cache_gb,
                       cfg.engine.workers, progress=cfg.engine.progress and dist.is_writer, rank=dist.rank, world=dist.world)
