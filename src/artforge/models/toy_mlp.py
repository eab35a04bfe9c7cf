"""MLP generator and discriminator for 2-D points: the toy benchmark's family (bench/toy.py).

G: z (+ a class embedding) -> ``g_layers`` hidden ReLU layers -> (x, y). D: (x, y) -> ``d_layers``
hidden LeakyReLU(0.2) layers -> one logit, or one logit per class of which the asked one is
returned when conditional (self-conditioning's clusters). Normalization in D is layer norm,
spectral norm or none; batch norm, part of the DCGAN architecture, is offered but the toy maps a
recipe's batch norm to none (across a minibatch of 2-D points it lets D judge the batch).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .dcgan import spectral_normalize
from .family import Family


@dataclass(frozen=True)
class ToyConfig:
    z_dim: int = 16
    hidden: int = 96
    g_layers: int = 4  # hidden layers of G: a 4th sharpens the cuts between modes (fewer bridge samples)
    d_layers: int = 3  # hidden layers of D
    d_norm: str = "none"  # batch | layer | spectral | none
    g_spectral: bool = False
    num_classes: int = 0  # > 0: conditional G and D (self-conditioning's clusters)
    embed_dim: int = 16  # size of G's class embedding


def _mlp(sizes: list[int], act: nn.Module, norm: str = "none") -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if norm == "batch":
                layers.append(nn.BatchNorm1d(b))
            elif norm == "layer":
                layers.append(nn.LayerNorm(b))
            layers.append(copy.deepcopy(act))
    return nn.Sequential(*layers)


class ToyGenerator(nn.Module):
    def __init__(self, cfg: ToyConfig):
        super().__init__()
        self.embed = nn.Embedding(cfg.num_classes, cfg.embed_dim) if cfg.num_classes else None
        in_dim = cfg.z_dim + (cfg.embed_dim if cfg.num_classes else 0)
        self.net = _mlp([in_dim] + [cfg.hidden] * cfg.g_layers + [2], nn.ReLU())  # (B, z [+ e]) -> (B, 2)
        if cfg.g_spectral:
            spectral_normalize(self)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(c)], dim=1)  # (B, z) -> (B, z + e)
        return self.net(z)


class ToyDiscriminator(nn.Module):
    """An MLP; conditional on k classes it has one logit per class and returns the asked one's."""

    def __init__(self, cfg: ToyConfig):
        super().__init__()
        norm = cfg.d_norm if cfg.d_norm in ("batch", "layer") else "none"
        net = _mlp([2] + [cfg.hidden] * cfg.d_layers + [max(cfg.num_classes, 1)], nn.LeakyReLU(0.2), norm)
        self.trunk, self.head = net[:-1], net[-1]  # (B, 2) -> (B, hidden) -> (B, k or 1)
        if cfg.d_norm == "spectral":
            spectral_normalize(self)

    def features(self, x: Tensor) -> Tensor:
        return self.trunk(x)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        logits = self.head(self.trunk(x))
        if c is None:
            return logits.flatten()
        return logits.gather(1, c[:, None]).flatten()


def build(cfg: ToyConfig) -> dict[str, nn.Module]:
    return {"G": ToyGenerator(cfg), "D": ToyDiscriminator(cfg)}


FAMILY = Family("toy", ToyConfig, build, ema=("G",), sampler="G_ema", inputs=("latent", "label"),
                modality="points", summary="MLP G and D for 2-D points (the toy mode-collapse benchmark)")
