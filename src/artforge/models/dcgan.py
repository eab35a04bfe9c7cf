"""DCGAN (Radford, Metz & Chintala 2015, arXiv:1511.06434).

G: z -> 4x4 projection -> transposed convolutions that double the resolution, each followed by
batch norm and ReLU -> tanh image. D mirrors it: strided convolutions with LeakyReLU(0.2), batch
norm everywhere but the first layer, and one logit. At 64 px with width 64 this is exactly the
network of the official PyTorch DCGAN example (ngf = ndf = 64).

Normalization in D is configurable (``d_norm``): batch norm as in the paper, layer norm (for
gradient penalties, which need D to treat images independently; Gulrajani et al. 2017), spectral
normalization of every convolution instead (Miyato et al. 2018), or none. ``g_spectral`` adds
spectral normalization to G's convolutions as well (Zhang et al. 2019, SAGAN).

``output_bias`` adds a learned per-pixel bias to G's output before its tanh. Training starts it at
the training images' mean image (``init_output_bias``), so G's first samples already have the
data's background and layout and its convolutions learn only what differs from the mean: on the
white-backed emoji set it halved SWD after five and ten CPU-minutes (docs/training.md, "Every CPU").

Conditional models (num_classes > 0) concatenate a learned class embedding to z in G, and add a
projection term <embed(c), sum_xy h(x)> to D's logit (Miyato & Koyama 2018, arXiv:1802.05637).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .family import Family


D_NORMS = ("batch", "layer", "spectral", "none")


@dataclass(frozen=True)
class DCGANConfig:
    resolution: int = 64  # power of two, 16..512 (tested 32..256)
    channels: int = 3  # 3 for RGB, 1 for grayscale
    z_dim: int = 128
    width: int = 64  # channels next to the image; they double as resolution halves
    max_width: int = 512
    num_classes: int = 0  # 0: unconditional
    embed_dim: int = 64  # class embedding size (conditional models only)
    d_norm: str = "batch"  # batch | layer | spectral | none
    g_spectral: bool = False
    output_bias: bool = False  # a learned (C, R, R) bias before G's tanh (off in checkpoints made before it)
    mbstd_group: int = 0  # D: minibatch standard deviation over groups of this many images; 0: none

    def __post_init__(self):
        ok = isinstance(self.resolution, int) and 16 <= self.resolution <= 512
        if not ok or self.resolution & (self.resolution - 1):
            raise ValueError(f"DCGAN needs a power-of-two resolution from 16 to 512, got {self.resolution}")
        if self.d_norm not in D_NORMS:
            raise ValueError(f"d_norm must be one of {', '.join(D_NORMS)}, got {self.d_norm!r}")

    def widths(self) -> list[int]:
        """Channel count at 4x4, 8x8, ..., resolution/2 (G's order; D walks it backwards)."""
        n = int(math.log2(self.resolution)) - 2
        return [min(self.width * 2 ** (n - 1 - i), self.max_width) for i in range(n)]


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions and embeddings, N(1, 0.02) for batch-norm scales (paper, sec. 4)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


def down_block(cin: int, cout: int, norm: str) -> nn.Sequential:
    """4x4 stride-2 convolution (no bias), the normalization, LeakyReLU(0.2): D's layer (also the style
    family's strided D's)."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
    if norm == "batch":
        layers.append(nn.BatchNorm2d(cout))
    elif norm == "layer":
        layers.append(nn.GroupNorm(1, cout))  # normalizes each image over (C, H, W)
    layers.append(nn.LeakyReLU(0.2, True))
    return nn.Sequential(*layers)


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Wrap every (transposed) convolution and linear layer's weight in spectral normalization."""
    for layer in list(module.modules()):
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(layer)
    return module


class DCGANGenerator(nn.Module):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths()
        self.embed = nn.Embedding(cfg.num_classes, cfg.embed_dim) if cfg.num_classes else None
        in_dim = cfg.z_dim + (cfg.embed_dim if cfg.num_classes else 0)
        self.project = nn.Sequential(  # (B, in_dim, 1, 1) -> (B, w[0], 4, 4)
            nn.ConvTranspose2d(in_dim, w[0], 4, 1, 0, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(True))
        self.blocks = nn.Sequential(*[_up(a, b) for a, b in zip(w[:-1], w[1:])])  # -> (B, w[-1], R/2, R/2)
        self.to_image = nn.Sequential(  # -> (B, channels, R, R), before the tanh
            nn.ConvTranspose2d(w[-1], cfg.channels, 4, 2, 1, bias=False))
        shape = (cfg.channels, cfg.resolution, cfg.resolution)
        self.output_bias = nn.Parameter(torch.zeros(shape)) if cfg.output_bias else None
        self.apply(init_dcgan_weights)
        if cfg.g_spectral:
            spectral_normalize(self)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        # z: (B, z_dim); c: (B,) int64 class indices for conditional models
        if self.embed is not None:
            if c is None:
                raise ValueError("this generator is conditional: pass class indices c")
            z = torch.cat([z, self.embed(c).to(z.dtype)], dim=1)
        x = self.project(z[:, :, None, None])
        x = self.to_image(self.blocks(x))  # (B, C, R, R)
        if self.output_bias is not None:
            x = x + self.output_bias.to(x.dtype)
        return torch.tanh(x)  # in [-1, 1]

    @torch.no_grad()
    def init_output_bias(self, mean_image: Tensor) -> None:
        """Start the output at ``mean_image`` (C, R, R) in [-1, 1]: tanh(bias) is the mean, 2% from saturation."""
        if self.output_bias is not None:
            self.output_bias.copy_(torch.atanh(mean_image.to(self.output_bias).clamp(-0.98, 0.98)))


def group_std(h: Tensor, group: int) -> Tensor:
    """(B, C, H, W) -> (B,): the std of each feature across a group of images, averaged over features.

    Karras et al. 2018 (Progressive GAN, sec. 3): a collapsed G makes batches whose images agree, and
    this lets D see it, which batch norm (normalizing each channel over the batch) hides from it.
    Image i is in group i mod (B/G) (as in StyleGAN2); G shrinks to the largest divisor of B not above ``group``.
    """
    b = h.shape[0]
    g = max(d for d in range(1, min(group, b) + 1) if b % d == 0)
    y = h.float().reshape(g, b // g, -1)  # (G, B/G, C*H*W): image j of every group
    # The variance spelled out: Tensor.var over the leading dim ran 6x slower on CPUs (3.7 ms at 16x256x4x4)
    y = y - y.mean(dim=0)
    std = (y.square().mean(dim=0) + 1e-8).sqrt().mean(dim=1)  # (B/G,)
    return std.repeat(g).to(h.dtype)


def minibatch_std(h: Tensor, group: int) -> Tensor:
    """(B, C, H, W) -> (B, 1, H, W): ``group_std`` as the extra feature map D's last layer reads."""
    b, _, height, width = h.shape
    return group_std(h, group)[:, None, None, None].expand(b, 1, height, width)


def whole_map_logit(to_logit: nn.Conv2d, h: Tensor, group: int) -> Tensor:
    """(B,) logits of a bias-free convolution whose kernel covers all of the (B, C, H, W) map ``h``, read on
    [h, minibatch_std(h)] when ``group`` > 0. The std map is constant, so its channel adds std times that
    channel's weight sum: no (B, C + 1, H, W) concatenation, which cost 15 ms a step on a 2-core CPU."""
    if not group:
        return to_logit(h).flatten()
    weight = to_logit.weight  # (1, C + 1, H, W)
    return F.conv2d(h, weight[:, :-1]).flatten() + group_std(h, group) * weight[:, -1].sum().to(h.dtype)


class DCGANDiscriminator(nn.Module):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths()[::-1]  # R/2 ... 4x4
        norm = cfg.d_norm if cfg.d_norm in ("batch", "layer") else "none"
        self.from_image = down_block(cfg.channels, w[0], "none")  # (B, C, R, R) -> (B, w[0], R/2, R/2)
        self.blocks = nn.Sequential(*[down_block(a, b, norm) for a, b in zip(w[:-1], w[1:])])  # -> (B, w[-1], 4, 4)
        self.to_logit = nn.Conv2d(w[-1] + (1 if cfg.mbstd_group else 0), 1, 4, 1, 0, bias=False)  # -> (B, 1, 1, 1)
        self.embed = nn.Embedding(cfg.num_classes, w[-1]) if cfg.num_classes else None
        self.apply(init_dcgan_weights)
        if cfg.d_norm == "spectral":
            spectral_normalize(self)

    def features(self, x: Tensor) -> Tensor:
        """(B, w[-1]): the pooled features the class projection reads (self-conditioning clusters them)."""
        return self.blocks(self.from_image(x)).sum(dim=(2, 3))

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        h = self.blocks(self.from_image(x))  # (B, w[-1], 4, 4)
        logits = whole_map_logit(self.to_logit, h, self.cfg.mbstd_group)
        if self.embed is not None:
            logits = logits + class_projection(self.embed, c, h.sum(dim=(2, 3)))
        return logits


def class_projection(embed: nn.Embedding, c: Tensor | None, pooled: Tensor) -> Tensor:
    """(B,) projection term <embed(c), pooled features> of a conditional D (Miyato & Koyama 2018)."""
    if c is None:
        raise ValueError("this discriminator is conditional: pass class indices c")
    return (embed(c).to(pooled.dtype) * pooled).sum(dim=1)


def build(cfg: DCGANConfig) -> dict[str, nn.Module]:
    return {"G": DCGANGenerator(cfg), "D": DCGANDiscriminator(cfg)}


FAMILY = Family("dcgan", DCGANConfig, build, ema=("G",), sampler="G_ema", inputs=("latent", "label"),
                modality="image", summary="DCGAN (Radford et al. 2015): transposed convolutions, batch norm; 16-512 px",
                output_bias=True, sized_to_budget=True)
