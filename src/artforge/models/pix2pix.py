"""Paired image-to-image translation (Isola et al. 2017, "pix2pix"): a U-Net G and a PatchGAN D.

G maps an input image (a line drawing, an edge map, a blurred layout) to an output image. It halves
the resolution with 4x4 stride-2 convolutions down to 1x1 (at most ``max_depth`` times) and doubles
it back with transposed convolutions, each up level concatenating the down level of the same size
(the skips carry the drawing's exact edges to the output). Dropout in the inner up levels is the
only noise: pix2pix keeps it on when translating, which gives varied outputs for one input.

D is conditional and fully convolutional: it sees the input and an output side by side (as
channels) and scores every overlapping patch of ``receptive_field`` pixels as real or fake, so it
judges local texture and sharpness and leaves the global layout to G's L1 term.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .family import Family

NORMS = ("batch", "instance", "none")


@dataclass(frozen=True)
class Pix2PixConfig:
    resolution: int = 64  # the images' side (square), a power of two
    channels_in: int = 3
    channels_out: int = 3
    width: int = 64  # channels of G's first level and D's first layer; they double per level
    max_width: int = 512
    max_depth: int = 8  # G's down levels at most (down to 1x1 when the resolution allows)
    dropout: float = 0.5  # in G's three innermost up levels below the bottleneck, as in the paper
    norm: str = "batch"
    d_layers: int = 3  # strided layers of D: 3 gives 70x70 patches

    def __post_init__(self):
        if self.resolution < 8 or self.resolution & (self.resolution - 1):
            raise ValueError(f"pix2pix needs a power-of-two resolution of 8 or more, got {self.resolution}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        if self.resolution < 2 ** (self.d_layers + 2):  # D's last two 4x4 convolutions need a few pixels left
            raise ValueError(f"a {self.d_layers}-layer PatchGAN needs images of {2 ** (self.d_layers + 2)} px or more, "
                             f"got {self.resolution}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def depth(self) -> int:
        return min(int(math.log2(self.resolution)), self.max_depth)

    def width_at(self, level: int) -> int:
        return min(self.width * 2 ** level, self.max_width)


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


class UNetGenerator(nn.Module):
    def __init__(self, cfg: Pix2PixConfig):
        super().__init__()
        self.cfg = cfg
        n, widths = cfg.depth, [cfg.width_at(i) for i in range(cfg.depth)]
        self.down = nn.ModuleList()
        for i in range(n):  # level i: (B, widths[i-1], R/2^i) -> (B, widths[i], R/2^(i+1))
            cin = cfg.channels_in if i == 0 else widths[i - 1]
            layers = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(cin, widths[i], 4, 2, 1, bias=cfg.norm != "batch"))
            if 0 < i < n - 1:  # not the outermost (raw input) nor the 1x1 bottleneck
                layers.append(norm_layer(cfg.norm, widths[i]))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in range(n):  # up level i: (B, in, R/2^(i+1)) -> (B, out, R/2^i)
            cin = widths[i] * (1 if i == n - 1 else 2)  # the innermost takes the bottleneck alone
            cout = cfg.channels_out if i == 0 else widths[i - 1]
            layers = [nn.ReLU(), nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=i == 0 or cfg.norm != "batch")]
            if i == 0:
                layers.append(nn.Tanh())
            else:
                layers.append(norm_layer(cfg.norm, cout))
                if cfg.dropout and n - 4 <= i < n - 1:  # the paper's three dropout levels under the bottleneck
                    layers.append(nn.Dropout(cfg.dropout))
            self.up.append(nn.Sequential(*layers))
        self.apply(init_weights)

    def forward(self, x: Tensor) -> Tensor:  # (B, Cin, R, R) -> (B, Cout, R, R) in [-1, 1]
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        x = self.up[-1](skips[-1])
        for i in range(len(self.up) - 2, -1, -1):
            x = self.up[i](torch.cat([x, skips[i]], dim=1))
        return x


def receptive_field(layers: list[tuple[int, int]]) -> int:
    """Input pixels one output pixel sees through (kernel, stride) layers, first layer first."""
    field = 1
    for kernel, stride in reversed(layers):
        field = field * stride + (kernel - stride)
    return field


class PatchDiscriminator(nn.Module):
    """Scores overlapping patches: (B, channels, H, W) -> (B, 1, h, w) logits. ``layers`` strided
    4x4 convolutions (the last of stride 1) after the first; pix2pix's D takes (input, output) pairs
    as 6 channels, CycleGAN's one domain's images."""

    def __init__(self, channels: int, width: int = 64, max_width: int = 512, layers: int = 3, norm: str = "batch"):
        super().__init__()
        net: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        self.kernels = [(4, 2)]
        cin = width
        for i in range(1, layers + 1):
            stride = 2 if i < layers else 1
            cout = min(width * 2 ** i, max_width)
            net += [nn.Conv2d(cin, cout, 4, stride, 1, bias=norm != "batch"), norm_layer(norm, cout), nn.LeakyReLU(0.2)]
            self.kernels.append((4, stride))
            cin = cout
        net.append(nn.Conv2d(cin, 1, 4, 1, 1))
        self.kernels.append((4, 1))
        self.net = nn.Sequential(*net)
        self.apply(init_weights)

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.kernels)

    def forward(self, pair: Tensor) -> Tensor:
        return self.net(pair)

    def features(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """The logits and every hidden activation (after each leaky ReLU), for feature matching."""
        feats = []
        for layer in self.net:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                feats.append(x)
        return x, feats


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) convolutions, N(1, 0.02) norm scales: the paper's initialization."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build(cfg: Pix2PixConfig) -> dict[str, nn.Module]:
    D = PatchDiscriminator(cfg.channels_in + cfg.channels_out, cfg.width, cfg.max_width, cfg.d_layers, cfg.norm)
    return {"G": UNetGenerator(cfg), "D": D}


FAMILY = Family("pix2pix", Pix2PixConfig, build, ema=("G",), sampler="G_ema", inputs=("image",), modality="image",
                summary="pix2pix (Isola et al. 2017): U-Net G with skips, conditional PatchGAN D; paired translation")
