"""GAN upscaling (Wang et al. 2018, "ESRGAN"): residual-in-residual dense blocks and a patch D.

G works at the input's resolution: a 3x3 convolution to ``width`` features, ``blocks`` RRDBs (each
three dense blocks of five convolutions whose outputs are concatenated as they go; residuals scaled
by 0.2 and initial weights by 0.1, which keep a deep stack trainable without batch norm, ESRGAN sec.
3.2), a 3x3 convolution plus the long skip, then
x2 steps of nearest-neighbour upsampling and a convolution (no checkerboard from transposed
convolutions), and two convolutions to RGB, added to the input's bicubic upscale (``skip``: G learns
only the detail bicubic misses, so it starts at bicubic quality; ESRGAN has no such skip and needs far
more steps than a CPU gives to learn colour through its 23 blocks: measured in docs/translation.md). No batch norm anywhere: it brings artefacts at
inference, and the PSNR ("fidelity") and GAN models must be interpolable weight by weight.

D: the unconditional PatchGAN (pix2pix.py) on high-resolution images, used relativistically
(tasks/sr.py); its features also give the feature-matching loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .family import Family
from .pix2pix import PatchDiscriminator

SCALES = (2, 4)


@dataclass(frozen=True)
class ESRGANConfig:
    scale: int = 4
    channels: int = 3
    width: int = 64  # the paper's 64 features, 23 blocks, growth 32; "lite" sizes run on a CPU
    blocks: int = 23
    growth: int = 32
    d_width: int = 64
    d_layers: int = 3
    skip: bool = True  # add the input's bicubic upscale to G's output, so G learns only the missing detail

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(map(str, SCALES))}, got {self.scale}")
        for name in ("width", "blocks", "growth", "d_width", "d_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


class DenseBlock(nn.Module):
    """Five 3x3 convolutions, each seeing the input and every earlier output; residual scaled by 0.2."""

    def __init__(self, width: int, growth: int):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(width + i * growth, growth if i < 4 else width, 3, 1, 1) for i in range(5))

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for i, conv in enumerate(self.convs):
            out = conv(torch.cat(features, dim=1))
            if i < 4:
                features.append(F.leaky_relu(out, 0.2))
        return x + 0.2 * out


class RRDB(nn.Module):
    def __init__(self, width: int, growth: int):
        super().__init__()
        self.blocks = nn.Sequential(*(DenseBlock(width, growth) for _ in range(3)))

    def forward(self, x: Tensor) -> Tensor:
        return x + 0.2 * self.blocks(x)


class RRDBNet(nn.Module):
    def __init__(self, cfg: ESRGANConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.head = nn.Conv2d(cfg.channels, w, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(w, cfg.growth) for _ in range(cfg.blocks)))
        self.body_out = nn.Conv2d(w, w, 3, 1, 1)
        self.ups = nn.ModuleList(nn.Conv2d(w, w, 3, 1, 1) for _ in range(int(math.log2(cfg.scale))))
        self.hr = nn.Conv2d(w, w, 3, 1, 1)
        self.to_rgb = nn.Conv2d(w, cfg.channels, 3, 1, 1)
        for m in self.modules():  # ESRGAN's initialization: He-normal scaled by 0.1
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.2)
                m.weight.data *= 0.1
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:  # (B, C, h, w) in [-1, 1] -> (B, C, h*scale, w*scale)
        feat = self.head(x)
        feat = feat + self.body_out(self.body(feat))
        for up in self.ups:
            feat = F.leaky_relu(up(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        out = self.to_rgb(F.leaky_relu(self.hr(feat), 0.2))
        if self.cfg.skip:
            out = out + F.interpolate(x, scale_factor=self.cfg.scale, mode="bicubic", align_corners=False)
        return out


def build(cfg: ESRGANConfig) -> dict[str, nn.Module]:
    return {"G": RRDBNet(cfg), "D": PatchDiscriminator(cfg.channels, cfg.d_width, 8 * cfg.d_width, cfg.d_layers, "none")}


FAMILY = Family("esrgan", ESRGANConfig, build, ema=("G",), sampler="G_ema", inputs=("image",), modality="image",
                summary="ESRGAN (Wang et al. 2018): residual-in-residual dense blocks, x2/x4 upscaling, patch D")


def interpolate_weights(fidelity: dict[str, Tensor], gan: dict[str, Tensor], strength: float) -> dict[str, Tensor]:
    """Network interpolation (ESRGAN sec. 3.4): (1 - strength) * fidelity + strength * GAN, weight by weight."""
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if fidelity.keys() != gan.keys():
        raise ValueError("the two models do not have the same weights: train both with the same sizes")
    return {k: torch.lerp(fidelity[k].float(), gan[k].float(), strength).to(fidelity[k].dtype) for k in fidelity}
