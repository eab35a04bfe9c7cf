"""The step machinery the engine runs: a training step as data (phases on named networks), and the Task seam.

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
