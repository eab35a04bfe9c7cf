"""Paired translation (pix2pix, Isola et al. 2017): G(input) learns the target of each pair.

The data is a paired dataset (``artforge prepare pairs``): every item holds the input and the
target side by side. A step draws a batch, splits it into (input, target), flips both halves of a
pair together, then runs two phases on the engine:

D      logistic (or the recipe's) loss on D(input, target) against D(input, G(input)), patch by patch
G      ``gan_weight`` x the adversarial loss on D(input, G(input)) plus ``l1_weight`` x |G(input) - target|

With ``gan_weight`` 0 there is no D phase: G is a plain U-Net trained on L1 alone (the baseline that
shows what the adversarial term buys).

The fake batch is made once per step and shared by both phases, as in the generation task. The
preview shows eight fixed pairs (held-out ones first) as input | output | target; the quality signal
that picks the best checkpoint is the L1 distance of the EMA generator's outputs to those targets.
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor

from ..data.loader import decode_all
from ..losses import AdversarialLoss, discriminator_probabilities, get_loss
from ..modality import IMAGE
from ..training.steps import Phase, Task
from ..utils.device import autocast
from .base import PairStep, held_out_first, training_batches

PREVIEW_PAIRS = 8


def split_pairs(images: Tensor) -> tuple[Tensor, Tensor]:
    """(B, C, H, 2W) side-by-side pairs -> (input, target), each (B, C, H, W)."""
    half = images.shape[-1] // 2
    return images[..., :half], images[..., half:]


def flip_pairs(inputs: Tensor, targets: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Mirror each pair (both halves together) with probability 1/2."""
    flip = (torch.rand(len(inputs), generator=gen) < 0.5).to(inputs.device)[:, None, None, None]
    return torch.where(flip, inputs.flip(-1), inputs), torch.where(flip, targets.flip(-1), targets)


class PairedContext(PairStep):
    """What phase losses see: this step's (input, target) batch and G's output for it (both cached)."""

    def __init__(self, G, D, loss: AdversarialLoss, batches: Iterator, gen: torch.Generator, prepare,
                 l1_weight: float, gan_weight: float):
        super().__init__(G, batches, prepare)
        self.D, self.adv, self.gen = D, loss, gen
        self.l1_weight, self.gan_weight = l1_weight, gan_weight

    def d(self, inputs: Tensor, outputs: Tensor) -> Tensor:
        return self.D(torch.cat([inputs, outputs], dim=1)).float()


def d_paired(ctx: PairedContext) -> dict[str, Tensor]:
    inputs, targets = ctx.pair()
    real, fake = ctx.d(inputs, targets), ctx.d(inputs, ctx.fake().detach())
    return {"loss": ctx.adv.d_loss(real, fake), "D/real": discriminator_probabilities(real),
            "D/fake": discriminator_probabilities(fake)}


def g_paired(ctx: PairedContext) -> dict[str, Tensor]:
    inputs, targets = ctx.pair()
    fake = ctx.fake()
    l1 = (fake.float() - targets.float()).abs().mean()
    if ctx.gan_weight == 0:  # the L1-only U-Net
        return {"loss": ctx.l1_weight * l1, "Loss/L1": l1.detach()}
    real_logits = None
    if ctx.adv.g_needs_real:
        with torch.no_grad():
            real_logits = ctx.d(inputs, targets)
    adversarial = ctx.adv.g_loss(ctx.d(inputs, fake), real_logits)
    return {"loss": ctx.gan_weight * adversarial + ctx.l1_weight * l1, "Loss/G_adv": adversarial.detach(), "Loss/L1": l1.detach()}


class Pix2PixTask(Task):
    name = "pix2pix"
    modality = IMAGE
    progress_keys = {"D": "Loss/D", "G": "Loss/G", "L1": "Loss/L1"}
    quality_metric = "l1"

    def __init__(self, cfg, dataset):
        self.cfg, self.dataset = cfg, dataset  # a paired dataset (the command checks it is one)

    def attach(self, engine) -> None:
        super().attach(engine)
        self.source = training_batches(self.dataset, self.cfg, engine, what="pairs")

    def phases(self) -> list[Phase]:
        if self.cfg.task.gan_weight == 0:
            return [Phase("G", "G", g_paired)]
        return [Phase("D", "D", d_paired, keeps_graph=("G",)), Phase("G", "G", g_paired)]

    def learning_rates(self) -> dict[str, float]:
        if self.cfg.task.gan_weight == 0:
            return {"G": self.cfg.engine.lr_g}
        return {"G": self.cfg.engine.lr_g, "D": self.cfg.engine.lr_d}

    def start(self) -> None:
        fixed = held_out_first(self.dataset, self.cfg.engine.split, PREVIEW_PAIRS)
        images = IMAGE.to_model(decode_all(self.dataset, fixed)).to(self.engine.device)
        self.fixed_inputs, self.fixed_targets = split_pairs(images)

    def context(self) -> PairedContext:
        cfg, engine = self.cfg, self.engine

        def prepare(images):  # uint8 side-by-side -> (input, target) in [-1, 1], flipped together
            inputs, targets = split_pairs(IMAGE.to_model(images, cfg.engine.channels_last))
            if "flip" in cfg.engine.augment:
                inputs, targets = flip_pairs(inputs, targets, engine.gen)
            return inputs.contiguous(), targets.contiguous()

        loss = get_loss(cfg.engine.loss)
        ctx = PairedContext(engine.nets["G"], engine.nets["D"], loss, self.source.batches(engine.draws),
                            engine.gen, prepare, cfg.task.l1_weight, cfg.task.gan_weight)
        ctx.draws = engine.draws
        return ctx

    @torch.no_grad()
    def _translate_fixed(self) -> Tensor:
        G = self.engine.ema_nets["G_ema"]
        with autocast(self.engine.device, self.engine.dtype):
            return G(self.fixed_inputs).float()

    def preview(self) -> Tensor:
        """Each fixed pair as one wide image: input | output | target."""
        return torch.cat([self.fixed_inputs.float(), self._translate_fixed(), self.fixed_targets.float()], dim=-1)

    def quality(self) -> dict[str, float]:
        return {"l1": (self._translate_fixed() - self.fixed_targets.float()).abs().mean().item()}
