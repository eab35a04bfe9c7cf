"""A training step as data: a list of phases, each training one network on one loss.

A phase names the network whose optimizer steps, the function computing its loss from a
``StepContext``, how often it runs (``interval``: lazy regularization runs every k steps), how many
times in a row (``repeats``: n_critic D steps per G step) and what to do to the network after its
optimizer step (``after_step``: weight clipping). ``build_phases`` turns a resolved training config
into the list; ``run_step`` runs one step of any list. New losses and penalties are new phases or
terms, not new branches in the loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from ..losses import AdversarialLoss, discriminator_probabilities
from ..penalties import clip_weights, gradient_penalty, interpolate, r1_penalty


def _identity(x: Tensor) -> Tensor:
    return x


@dataclass(frozen=True)
class Phase:
    name: str
    trains: str  # "G" or "D"
    loss: Callable[["StepContext"], dict[str, Tensor]]  # returns {"loss": scalar, other stats}
    interval: int = 1
    repeats: int = 1
    after_step: Callable[[nn.Module], None] | None = None


class StepContext:
    """What phase losses see: the networks, this repeat's real batch and a fake batch (both cached).

    The fake batch is generated once per repeat and shared: the D phase uses it detached, the G phase
    back-propagates through the same graph, as in the reference DCGAN loop (no second G forward).
    ``prepare_real`` turns a loaded batch into model input (range, layout, dataset augmentation);
    ``d_view`` is applied to everything D sees, real and fake alike (differentiable augmentation,
    instance noise); ``observe_real`` receives D's logits on real images (the ADA signal).
    ``labeler`` (self-conditioning) labels each real batch from its images, in place of the
    dataset's labels, and each fake is then asked for the label of the real image beside it.
    """

    def __init__(self, G: nn.Module, D: nn.Module, loss: AdversarialLoss, real_batches: Iterator,
                 gen: torch.Generator, device: torch.device, batch: int, z_dim: int, num_classes: int = 0,
                 prepare_real: Callable[[Tensor], Tensor] = _identity, d_view: Callable[[Tensor], Tensor] = _identity,
                 label_smoothing: float = 0.0, observe_real: Callable[[Tensor], None] | None = None,
                 labeler: Callable[[Tensor], Tensor] | None = None):
        self.G, self.D, self.adv = G, D, loss
        self.real_batches = real_batches
        self.gen, self.device = gen, device
        self.batch, self.z_dim, self.num_classes = batch, z_dim, num_classes
        self.prepare_real = prepare_real
        self.d_view = d_view
        self.label_smoothing = label_smoothing
        self.observe_real = observe_real
        self.labeler = labeler
        self.draws = 0  # real batches taken so far: with the seed, fixes the data order
        self._real = None
        self._fake = None

    def new_repeat(self) -> None:
        self._real = None
        self._fake = None

    def real(self) -> tuple[Tensor, Tensor | None]:
        """This repeat's real batch, ready for the model, and its labels."""
        if self._real is None:
            data, labels = next(self.real_batches)
            self.draws += 1
            images = self.prepare_real(data)
            if self.labeler is not None:
                labels = self.labeler(images)
            self._real = (images, labels if self.num_classes else None)
        return self._real

    def fake(self) -> tuple[Tensor, Tensor | None]:
        """G(z, c) for this repeat, with its graph, and the labels it was asked for."""
        if self._fake is None:
            z = torch.randn(self.batch, self.z_dim, generator=self.gen).to(self.device)
            c = None
            if self.labeler is not None:  # clusters in proportion to their size, as the real batch has them
                c = self.real()[1]
            elif self.num_classes:
                c = torch.randint(0, self.num_classes, (self.batch,), generator=self.gen).to(self.device)
            self._fake = (self.G(z, c), c)
        return self._fake

    def d(self, x: Tensor, c: Tensor | None) -> Tensor:
        """D's logits for x as D sees it (after ``d_view``), in fp32 for the losses."""
        return self.D(self.d_view(x), c).float()


# ----------------------------------------------------------------------------- phase losses

def d_adversarial(ctx: StepContext, gp_weight: float = 0.0, gp_center: float = 1.0) -> dict[str, Tensor]:
    real, c_real = ctx.real()
    fake, c_fake = ctx.fake()
    real_logits = ctx.d(real, c_real)
    fake_logits = ctx.d(fake.detach(), c_fake)
    if ctx.observe_real is not None:
        ctx.observe_real(real_logits)
    loss = ctx.adv.d_loss(real_logits, fake_logits, ctx.label_smoothing)
    stats = {"D/real": discriminator_probabilities(real_logits), "D/fake": discriminator_probabilities(fake_logits),
             "D/sign_real": torch.sign(real_logits.detach()).mean()}
    if gp_weight:
        points = interpolate(real, fake, ctx.gen)
        gp = gradient_penalty(ctx.d(points, c_real), points, gp_center)
        loss = loss + gp_weight * gp
        stats["Penalty/gp"] = gp.detach()
    return {"loss": loss, **stats}


def d_r1(ctx: StepContext, weight: float) -> dict[str, Tensor]:
    """Lazy R1: ``weight`` is gamma / 2 times the interval (Karras et al. 2020, app. B)."""
    real, c_real = ctx.real()
    real = real.detach().requires_grad_(True)
    r1 = r1_penalty(ctx.d(real, c_real), real)
    return {"loss": weight * r1, "Penalty/r1": r1.detach()}


def g_adversarial(ctx: StepContext) -> dict[str, Tensor]:
    fake, c_fake = ctx.fake()
    real_logits = None
    if ctx.adv.g_needs_real:
        real, c_real = ctx.real()
        with torch.no_grad():
            real_logits = ctx.d(real, c_real)
    return {"loss": ctx.adv.g_loss(ctx.d(fake, c_fake), real_logits)}


def build_phases(cfg) -> list[Phase]:
    """The phases of a resolved training config (see ``TrainConfig.resolved``)."""
    after_d = functools.partial(clip_weights, limit=cfg.clip) if cfg.clip else None
    phases = [Phase("D", "D", functools.partial(d_adversarial, gp_weight=cfg.gp_weight, gp_center=cfg.gp_center),
                    repeats=cfg.n_critic, after_step=after_d)]
    if cfg.r1_gamma:
        weight = cfg.r1_gamma / 2 * cfg.r1_interval
        phases.append(Phase("Dreg", "D", functools.partial(d_r1, weight=weight), interval=cfg.r1_interval))
    phases.append(Phase("G", "G", g_adversarial))
    return phases


def lazy_ratio(phases: list[Phase], net: str) -> float:
    """Adam's lr and betas scale for a network with a lazy phase: k / (k + 1) (Karras et al. 2020)."""
    k = max((p.interval for p in phases if p.trains == net and p.interval > 1), default=0)
    return k / (k + 1) if k else 1.0


# ----------------------------------------------------------------------------- running a step

@dataclass
class Optimization:
    """The networks a step trains, their optimizers and grad scalers, and the compute context."""

    nets: dict[str, nn.Module]
    opt: dict[str, torch.optim.Optimizer]
    scaler: dict[str, torch.amp.GradScaler]
    autocast: Callable[[], object]  # a fresh autocast context manager


class NonFinite(Exception):
    def __init__(self, name: str, value: float):
        super().__init__(f"{name} is {value}")
        self.name, self.value = name, value


def run_phase(phase: Phase, ctx: StepContext, o: Optimization, report, log_grads: bool) -> None:
    module, opt, scaler = o.nets[phase.trains], o.opt[phase.trains], o.scaler[phase.trains]
    for name, net in o.nets.items():
        # D's weights need no gradient in the G phase (it saves a third of D's backward), but G
        # keeps its graph in the D phases so the G phase can reuse the same fake batch.
        net.requires_grad_(name == phase.trains or name == "G")
    opt.zero_grad(set_to_none=True)
    with o.autocast():
        stats = phase.loss(ctx)
    loss = stats.pop("loss")
    if not torch.isfinite(loss):
        raise NonFinite(f"Loss/{phase.name}", loss.item())
    scaler.scale(loss).backward()
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


def run_step(phases: list[Phase], step: int, ctx: StepContext, o: Optimization, report, log_grads: bool) -> bool:
    """Run the phases due at ``step``; True if G was trained (the EMA should follow)."""
    trained_g = False
    ctx.new_repeat()  # fresh real and fake batches for this step; phases then share them
    for phase in phases:
        if step % phase.interval:
            continue
        for repeat in range(phase.repeats):
            if repeat:  # n_critic: every extra D step sees new batches
                ctx.new_repeat()
            run_phase(phase, ctx, o, report, log_grads)
        trained_g |= phase.trains == "G"
    ctx.new_repeat()  # drop the graph before the next step
    return trained_g
