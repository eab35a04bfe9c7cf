"""Upscaling (ESRGAN, Wang et al. 2018) learnt from high-resolution art alone.

Each step draws a batch of the dataset's images, takes a random ``crop`` x ``crop`` window of each
(mirrored half the time), and makes the low-resolution input from it by seeded degradations
(ops/degrade.py: blur, downscaling, noise, JPEG in random order), or with ``degrade`` "clean" by
antialiased bicubic downscaling alone. Then:

fidelity model (``gan_weight`` 0): one phase, G on ``l1_weight`` x |G(lr) - hr| (PSNR-oriented)
GAN model: D     relativistic average loss (the recipe's) on D(hr) against D(G(lr))
           G     ``l1_weight`` x pixel L1 + ``gan_weight`` x the relativistic G loss
                 + ``feature_weight`` x D-feature matching (L1 between D's hidden activations on the
                 real and the upscaled image) + ``vgg_weight`` x a VGG-19 perceptual loss when the
                 user gives its weights (models/vgg.py; none is downloaded)

ESRGAN trains the GAN model starting from the fidelity model (``init``: the run's G and its EMA
start from that run's weights), which also makes the two interpolable weight by weight.
The preview shows eight fixed held-out crops as bicubic input | output | original.
"""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.loader import decode_all
from ..losses import AdversarialLoss, get_loss
from ..modality import IMAGE
from ..ops.degrade import degrade, downscale
from ..training.steps import Phase, Task
from ..utils.device import autocast
from .base import PairStep, held_out_first, training_batches

PREVIEW_IMAGES = 8
QUALITY_IMAGES = 32  # fixed held-out crops the quality signal is computed on


def feature_matching_loss(real: list[Tensor], fake: list[Tensor]) -> Tensor:
    """Mean over layers of the mean absolute difference between D's activations on real and fake images."""
    if len(real) != len(fake) or not real:
        raise ValueError("feature matching needs the same, non-empty list of layers for both")
    return sum((f.float() - r.float().detach()).abs().mean() for r, f in zip(real, fake)) / len(real)


def random_crops(images: Tensor, size: int, gen: torch.Generator) -> Tensor:
    """(B, C, H, W) -> (B, C, size, size): one window per image at a position drawn from ``gen``."""
    b, _, h, w = images.shape
    ys = torch.randint(0, h - size + 1, (b,), generator=gen).tolist()
    xs = torch.randint(0, w - size + 1, (b,), generator=gen).tolist()
    return torch.stack([img[:, y:y + size, x:x + size] for img, y, x in zip(images, ys, xs)])


def center_crops(images: Tensor, size: int) -> Tensor:
    h, w = images.shape[-2:]
    y, x = (h - size) // 2, (w - size) // 2
    return images[..., y:y + size, x:x + size]


def bicubic_up(x: Tensor, scale: int) -> Tensor:
    return F.interpolate(x.float(), scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


class SRContext(PairStep):
    """What phase losses see: this step's (low-res input, high-res target) batch and G's output (cached)."""

    def __init__(self, G, D, loss: AdversarialLoss, batches: Iterator, prepare, weights: dict, perceptual=None):
        super().__init__(G, batches, prepare)
        self.D, self.adv = D, loss
        self.weights, self.perceptual = weights, perceptual


def g_pixel(ctx: SRContext) -> dict[str, Tensor]:
    """The fidelity model's objective: L1 to the original."""
    l1 = (ctx.fake().float() - ctx.pair()[1].float()).abs().mean()
    return {"loss": ctx.weights["l1"] * l1, "Loss/L1": l1.detach()}


def d_sr(ctx: SRContext) -> dict[str, Tensor]:
    hr = ctx.pair()[1]
    real, fake = ctx.D(hr).float(), ctx.D(ctx.fake().detach()).float()
    return {"loss": ctx.adv.d_loss(real, fake)}


def g_sr(ctx: SRContext) -> dict[str, Tensor]:
    """The GAN model's objective: pixel L1 + relativistic adversarial + D-feature matching (+ VGG)."""
    hr, fake, w = ctx.pair()[1], ctx.fake(), ctx.weights
    with torch.no_grad():
        real_logits, real_feats = ctx.D.features(hr)
    fake_logits, fake_feats = ctx.D.features(fake)
    l1 = (fake.float() - hr.float()).abs().mean()
    adversarial = ctx.adv.g_loss(fake_logits.float(), real_logits.float())
    matching = feature_matching_loss(real_feats, fake_feats)
    loss = w["l1"] * l1 + w["gan"] * adversarial + w["feature"] * matching
    stats = {"Loss/L1": l1.detach(), "Loss/G_adv": adversarial.detach(), "Loss/features": matching.detach()}
    if ctx.perceptual is not None:
        perceptual = ctx.perceptual(fake, hr)
        loss = loss + w["vgg"] * perceptual
        stats["Loss/vgg"] = perceptual.detach()
    return {"loss": loss, **stats}


class SRTask(Task):
    name = "sr"
    modality = IMAGE
    progress_keys = {"G": "Loss/G", "L1": "Loss/L1"}
    quality_metric = "l1"  # the fidelity model's; the GAN model's is "swd" (a sharper output has a larger L1)

    def __init__(self, cfg, dataset, init_weights: dict[str, Tensor] | None = None, perceptual=None):
        self.cfg, self.dataset = cfg, dataset
        self.init_weights, self.perceptual = init_weights, perceptual
        self.gan = cfg.task.gan_weight > 0
        if self.gan:
            self.quality_metric = "swd"

    def attach(self, engine) -> None:
        super().attach(engine)
        self.source = training_batches(self.dataset, self.cfg, engine)
        if self.perceptual is not None:
            self.perceptual = self.perceptual.to(engine.device)

    def phases(self) -> list[Phase]:
        if not self.gan:
            return [Phase("G", "G", g_pixel)]
        return [Phase("D", "D", d_sr, keeps_graph=("G",)), Phase("G", "G", g_sr)]

    def learning_rates(self) -> dict[str, float]:
        return {"G": self.cfg.engine.lr_g, "D": self.cfg.engine.lr_d} if self.gan else {"G": self.cfg.engine.lr_g}

    def init_from_data(self) -> None:
        """The GAN model starts from the fidelity model (--init): G and its EMA copy take its weights."""
        if self.init_weights is not None:
            with torch.no_grad():
                self.engine.nets["G"].load_state_dict(self.init_weights)
                self.engine.ema_nets["G_ema"].load_state_dict(self.init_weights)

    def start(self) -> None:
        cfg = self.cfg
        fixed = held_out_first(self.dataset, cfg.engine.split, QUALITY_IMAGES)
        hr = center_crops(IMAGE.to_model(decode_all(self.dataset, fixed)), cfg.task.crop)
        gen = torch.Generator().manual_seed(cfg.engine.seed)  # the same degraded inputs at every preview
        self.fixed_lr = self.make_inputs(hr, gen).to(self.engine.device)
        self.fixed_hr = hr.to(self.engine.device)

    def make_inputs(self, hr: Tensor, gen: torch.Generator) -> Tensor:
        """Low-resolution inputs of (B, C, H, W) crops: the random degradation chain, or a clean downscale."""
        if self.cfg.task.degrade == "clean":
            with torch.autocast(hr.device.type, enabled=False):  # data preparation, in float32
                return downscale(hr.float(), self.cfg.task.scale, "bicubic").clamp(-1, 1)
        return degrade(hr, self.cfg.task.scale, gen)

    def context(self) -> SRContext:
        cfg, engine = self.cfg, self.engine

        def prepare(images):  # uint8 full images -> (degraded low-res crop, crop) in [-1, 1]
            hr = IMAGE.to_model(random_crops(images, cfg.task.crop, engine.gen))
            if "flip" in cfg.engine.augment:
                flip = (torch.rand(len(hr), generator=engine.gen) < 0.5).to(hr.device)[:, None, None, None]
                hr = torch.where(flip, hr.flip(-1), hr)
            lr = self.make_inputs(hr.cpu(), engine.gen).to(hr.device)
            memory = torch.channels_last if cfg.engine.channels_last else torch.contiguous_format
            return lr.contiguous(memory_format=memory), hr.contiguous(memory_format=memory)

        weights = {"l1": cfg.task.l1_weight, "gan": cfg.task.gan_weight,
                   "feature": cfg.task.feature_weight, "vgg": cfg.task.vgg_weight}
        D = engine.nets["D"] if self.gan else None
        loss = get_loss(cfg.engine.loss)
        ctx = SRContext(engine.nets["G"], D, loss, self.source.batches(engine.draws), prepare, weights, self.perceptual)
        ctx.draws = engine.draws
        return ctx

    @torch.no_grad()
    def _upscale(self, lr: Tensor) -> Tensor:
        with autocast(self.engine.device, self.engine.dtype):
            return self.engine.ema_nets["G_ema"](lr).float().clamp(-1, 1)

    def preview(self) -> Tensor:
        """The first fixed crops as bicubic | model | original, at the high resolution."""
        shown = slice(None, None, max(1, len(self.fixed_lr) // PREVIEW_IMAGES))  # spread over the fixed crops
        lr, hr = self.fixed_lr[shown], self.fixed_hr[shown]
        return torch.cat([bicubic_up(lr, self.cfg.task.scale), self._upscale(lr), hr], dim=-1)

    def quality(self) -> dict[str, float]:
        """L1 to the originals of the fixed held-out crops; and their SWD (how alike the textures are)."""
        from ..ops.swd import swd
        out = self._upscale(self.fixed_lr)
        texture = swd(self.fixed_hr.cpu(), out.cpu(), patches_per_image=64, directions=256, repeats=1,
                      seed=self.cfg.engine.seed)
        return {"l1": (out - self.fixed_hr).abs().mean().item(), **texture}
