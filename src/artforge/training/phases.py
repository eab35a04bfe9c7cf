"""A training step as data: a list of phases, each training one network on one loss.

A phase names the network whose optimizer steps, the function computing its loss from a
``StepContext``, how often it runs (``interval``: lazy regularization runs every k steps) and how
many times in a row (``repeats``: n_critic D steps per G step). The loop runs the phases in order; new
losses and penalties are new phases, not new branches in the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from ..data.augment import augment
from ..data.loader import to_model_range
from ..losses import AdversarialLoss, discriminator_probabilities


@dataclass(frozen=True)
class Phase:
    name: str
    trains: str  # "G" or "D"
    loss: Callable[["StepContext"], dict[str, Tensor]]  # returns {"loss": scalar, other stats}
    interval: int = 1
    repeats: int = 1


class StepContext:
    """What phase losses see: the networks, this repeat's real batch and a fake batch (both cached).

    The fake batch is generated once per repeat and shared: the D phase uses it detached, the G phase
    back-propagates through the same graph, as in the reference DCGAN loop (no second G forward).
    """

    def __init__(self, G: nn.Module, D: nn.Module, loss: AdversarialLoss, real_batches: Iterator,
                 gen: torch.Generator, device: torch.device, batch: int, z_dim: int, num_classes: int,
                 augment_names: tuple[str, ...], channels_last: bool, label_smoothing: float = 0.0):
        self.G, self.D, self.adv = G, D, loss
        self.real_batches = real_batches
        self.gen, self.device = gen, device
        self.batch, self.z_dim, self.num_classes = batch, z_dim, num_classes
        self.augment_names = augment_names
        self.channels_last = channels_last
        self.label_smoothing = label_smoothing
        self.draws = 0  # real batches taken so far: with the seed, fixes the data order
        self._real = None
        self._fake = None

    def new_repeat(self) -> None:
        self._real = None
        self._fake = None

    def real(self) -> tuple[Tensor, Tensor | None]:
        """This repeat's augmented real batch (B, C, H, W) in [-1, 1] and its labels."""
        if self._real is None:
            images, labels = next(self.real_batches)
            self.draws += 1
            x = augment(to_model_range(images, self.channels_last), self.augment_names, self.gen)
            self._real = (x, labels if self.num_classes else None)
        return self._real

    def fake(self) -> tuple[Tensor, Tensor | None]:
        """G(z, c) for this repeat, with its graph, and the labels it was asked for."""
        if self._fake is None:
            z = torch.randn(self.batch, self.z_dim, generator=self.gen).to(self.device)
            c = None
            if self.num_classes:
                c = torch.randint(0, self.num_classes, (self.batch,), generator=self.gen).to(self.device)
            self._fake = (self.G(z, c), c)
        return self._fake


def d_adversarial(ctx: StepContext) -> dict[str, Tensor]:
    real, c_real = ctx.real()
    fake, c_fake = ctx.fake()
    real_logits = ctx.D(real, c_real).float()
    fake_logits = ctx.D(fake.detach(), c_fake).float()
    loss = ctx.adv.d_loss(real_logits, fake_logits, ctx.label_smoothing)
    return {"loss": loss, "D/real": discriminator_probabilities(real_logits),
            "D/fake": discriminator_probabilities(fake_logits)}


def g_adversarial(ctx: StepContext) -> dict[str, Tensor]:
    fake, c_fake = ctx.fake()
    return {"loss": ctx.adv.g_loss(ctx.D(fake, c_fake).float())}


def adversarial_phases() -> list[Phase]:
    """The classic alternation: one D step, then one G step (Goodfellow et al. 2014, Alg. 1, k=1)."""
    return [Phase("D", "D", d_adversarial), Phase("G", "G", g_adversarial)]
