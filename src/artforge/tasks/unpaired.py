"""Unpaired translation (CycleGAN, Zhu et al. 2017): A -> B and B -> A learnt from two unpaired sets.

A step draws a batch from each domain and runs two phases on the engine (G first, as the paper's
code does, so D then judges the fakes G made before its update):

G      least squares (the recipe's loss) on D_b(G_ab(a)) and D_a(G_ba(b)), plus ``cycle_weight`` x
       the cycle losses |G_ba(G_ab(a)) - a| + |G_ab(G_ba(b)) - b|, plus ``identity_weight`` x
       ``cycle_weight`` x the identity losses |G_ab(b) - b| + |G_ba(a) - a| (they keep colours where
       a domain's image is already right; only when both domains have the same channels)
D      each D on its domain's real images against translated ones drawn through a history pool of
       ``pool_size`` earlier fakes (ops/image_pool.py; the pools are in the checkpoint)

The preview shows fixed images of both domains as input | translated | back again. The quality
signal that picks the best checkpoint is the SWD between translated A images and real B images.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from ..data.loader import decode_all
from ..losses import AdversarialLoss, get_loss
from ..ops.swd import swd
from ..modality import IMAGE
from ..ops.image_pool import ImagePool
from ..training.steps import Phase, Task
from ..utils.device import autocast
from .base import held_out_first, training_batches

PREVIEW_IMAGES = 8  # of each domain
QUALITY_IMAGES = 256
B_STREAM = 7919  # domain B's batches come from the seed plus this, so the two orders differ


def cycle_loss(original: Tensor, recovered: Tensor) -> Tensor:
    """Mean absolute difference between an image and its round trip through both generators."""
    return (recovered.float() - original.float()).abs().mean()


def identity_loss(image: Tensor, mapped: Tensor) -> Tensor:
    """Mean absolute change a generator makes to an image already of its output domain."""
    return (mapped.float() - image.float()).abs().mean()


class CycleContext:
    """What phase losses see: this step's real A and B batches and both translations (cached)."""

    def __init__(self, G, D, loss: AdversarialLoss, batches_a: Iterator, batches_b: Iterator, prepare,
                 pools: tuple[ImagePool, ImagePool], gen: torch.Generator, cycle_weight: float,
                 identity_weight: float):
        self.G, self.D, self.adv = G, D, loss
        self.batches_a, self.batches_b, self.prepare = batches_a, batches_b, prepare
        self.pool_a, self.pool_b = pools
        self.gen = gen
        self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
        self.draws = 0
        self._real = self._fake = None

    def new_repeat(self) -> None:
        self._real = self._fake = None

    def real(self) -> tuple[Tensor, Tensor]:
        if self._real is None:
            (a, _), (b, _) = next(self.batches_a), next(self.batches_b)
            self.draws += 1
            self._real = self.prepare(a), self.prepare(b)
        return self._real

    def fake(self) -> tuple[Tensor, Tensor]:
        """(G_ab(a), G_ba(b)): B-looking images made from A, and A-looking ones made from B."""
        if self._fake is None:
            a, b = self.real()
            self._fake = self.G.ab(a), self.G.ba(b)
        return self._fake


def g_cycle(ctx: CycleContext) -> dict[str, Tensor]:
    a, b = ctx.real()
    fake_b, fake_a = ctx.fake()
    adversarial = ctx.adv.g_loss(ctx.D.b(fake_b).float()) + ctx.adv.g_loss(ctx.D.a(fake_a).float())
    cycle = cycle_loss(a, ctx.G.ba(fake_b)) + cycle_loss(b, ctx.G.ab(fake_a))
    loss = adversarial + ctx.cycle_weight * cycle
    stats = {"Loss/G_adv": adversarial.detach(), "Loss/cycle": cycle.detach()}
    if ctx.identity_weight > 0 and a.shape[1] == b.shape[1]:
        identity = identity_loss(b, ctx.G.ab(b)) + identity_loss(a, ctx.G.ba(a))
        loss = loss + ctx.identity_weight * ctx.cycle_weight * identity
        stats["Loss/identity"] = identity.detach()
    return {"loss": loss, **stats}


def d_cycle(ctx: CycleContext) -> dict[str, Tensor]:
    a, b = ctx.real()
    fake_b, fake_a = ctx.fake()
    old_b, old_a = ctx.pool_b.query(fake_b, ctx.gen), ctx.pool_a.query(fake_a, ctx.gen)
    real_b, real_a = ctx.D.b(b).float(), ctx.D.a(a).float()
    loss_b = ctx.adv.d_loss(real_b, ctx.D.b(old_b).float())
    loss_a = ctx.adv.d_loss(real_a, ctx.D.a(old_a).float())
    return {"loss": loss_a + loss_b, "Loss/D_a": loss_a.detach(), "Loss/D_b": loss_b.detach()}


class CycleGANTask(Task):
    name = "cyclegan"
    modality = IMAGE
    progress_keys = {"D": "Loss/D", "G": "Loss/G", "cyc": "Loss/cycle"}

    def __init__(self, cfg, dataset_a, dataset_b):
        self.cfg, self.dataset, self.dataset_b = cfg, dataset_a, dataset_b
        self.pools = (ImagePool(cfg.task.pool_size), ImagePool(cfg.task.pool_size))

    def more_datasets(self) -> dict:
        return {"dataset_b": self.dataset_b}

    def attach(self, engine) -> None:
        super().attach(engine)
        self.source_a = training_batches(self.dataset, self.cfg, engine)
        self.source_b = training_batches(self.dataset_b, self.cfg, engine, seed=self.cfg.engine.seed + B_STREAM)

    def phases(self) -> list[Phase]:
        return [Phase("G", "G", g_cycle), Phase("D", "D", d_cycle)]

    def learning_rates(self) -> dict[str, float]:
        return {"G": self.cfg.engine.lr_g, "D": self.cfg.engine.lr_d}

    def start(self) -> None:
        device = self.engine.device
        self.fixed_a = IMAGE.to_model(decode_all(self.dataset, held_out_first(self.dataset, self.cfg.engine.split,
                                                                              PREVIEW_IMAGES))).to(device)
        self.fixed_b = IMAGE.to_model(decode_all(self.dataset_b, held_out_first(self.dataset_b, self.cfg.engine.split,
                                                                                PREVIEW_IMAGES))).to(device)
        rng = np.random.default_rng(self.cfg.engine.seed)
        split = self.cfg.engine.split
        pick = [rng.permutation(ds.indices(split))[:QUALITY_IMAGES] for ds in (self.dataset, self.dataset_b)]
        self.quality_a = decode_all(self.dataset, np.sort(pick[0]))
        self.quality_b = IMAGE.to_model(decode_all(self.dataset_b, np.sort(pick[1])))

    def context(self) -> CycleContext:
        cfg, engine = self.cfg, self.engine

        def prepare(images):  # uint8 -> [-1, 1], each image mirrored with probability 1/2
            x = IMAGE.to_model(images, cfg.engine.channels_last)
            if "flip" in cfg.engine.augment:
                flip = (torch.rand(len(x), generator=engine.gen) < 0.5).to(x.device)[:, None, None, None]
                x = torch.where(flip, x.flip(-1), x)
            return x.contiguous(memory_format=torch.channels_last) if cfg.engine.channels_last else x

        loss = get_loss(cfg.engine.loss)
        ctx = CycleContext(engine.nets["G"], engine.nets["D"], loss, self.source_a.batches(engine.draws),
                           self.source_b.batches(engine.draws), prepare, self.pools, engine.gen, cfg.task.cycle_weight,
                           cfg.task.identity_weight)
        ctx.draws = engine.draws
        return ctx

    @torch.no_grad()
    def _ema(self, fn, x: Tensor) -> Tensor:
        with autocast(self.engine.device, self.engine.dtype):
            return fn(x).float()

    def preview(self) -> Tensor:
        """Each fixed image as input | translated | translated back; domain A's first, then B's."""
        G = self.engine.ema_nets["G_ema"]
        ab = self._ema(G.ab, self.fixed_a)
        ba = self._ema(G.ba, self.fixed_b)
        rows_a = torch.cat([self.fixed_a, ab, self._ema(G.ba, ab)], dim=-1)
        rows_b = torch.cat([self.fixed_b, ba, self._ema(G.ab, ba)], dim=-1)
        if rows_a.shape[1] != rows_b.shape[1]:  # one grey domain: show everything in colour
            rows_a, rows_b = (r.expand(-1, 3, -1, -1) if r.shape[1] == 1 else r for r in (rows_a, rows_b))
        return torch.cat([rows_a, rows_b])

    def quality(self) -> dict[str, float]:
        G = self.engine.ema_nets["G_ema"]
        fake = torch.cat([self._ema(G.ab, IMAGE.to_model(chunk).to(self.engine.device)).cpu()
                          for chunk in self.quality_a.split(64)])
        return swd(self.quality_b, fake, patches_per_image=64, directions=256, repeats=1, seed=self.cfg.engine.seed)

    def state_dict(self) -> dict:
        return {"pool_a": self.pools[0].state_dict(), "pool_b": self.pools[1].state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.pools[0].load_state_dict(state["pool_a"], self.engine.device)
        self.pools[1].load_state_dict(state["pool_b"], self.engine.device)

