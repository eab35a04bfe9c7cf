"""A style-based generator (Karras et al. 2020, StyleGAN2, arXiv:1912.04958), in pure PyTorch.

G: z (+ a class embedding) -> mapping MLP -> w; a learned 4x4 constant is refined block by block
(2x bilinear upsampling, 3x3 convolutions whose weights are *modulated* by an affine map of w and
*demodulated* to unit output variance, per-pixel noise with a learned strength, leaky ReLU), and
every resolution adds its own RGB output to the upsampled sum of the coarser ones (skip outputs).
Every layer uses an equalized learning rate: weights are stored at unit variance and scaled by
1/sqrt(fan_in) at run time (the mapping network's by a further lr multiplier of 0.01).
D: residual blocks (two 3x3 convolutions, a strided skip, summed and scaled by 1/sqrt(2)) down to
4x4, minibatch standard deviation, a 3x3 convolution, a linear layer and one logit; conditional
models add a projection term <embed(c), features> (Miyato & Koyama 2018).

Noise is random while training and a fixed buffer in eval mode, so an EMA generator (always in eval
mode) gives the same image for the same latent. No custom ops: this runs wherever PyTorch does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..aspect import base_shape, style_trains
from .dcgan import group_std
from .family import Family

GAIN = math.sqrt(2)  # leaky ReLU's gain: activations keep unit variance
OUTPUT_BIAS_LR_MUL = 0.02  # the per-pixel output bias learns at 1/50 of the rate (see StyleGenerator)


LAYER_GROUPS = ("coarse", "middle", "fine")  # 4-8 px, 16-32 px, 64 px and up (Karras et al. 2019, sec. 3.1)


@dataclass(frozen=True)
class StyleConfig:  # defaults: the "lite" preset (config.STYLE_PRESETS)
    resolution: int = 64  # the longer side: the base's longer side times a power of two, 8..1024
    channels: int = 3
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 2
    width: int = 16  # channels at full resolution; they double as resolution halves
    max_width: int = 64
    num_classes: int = 0
    mbstd_group: int = 4
    aspect: tuple = (1, 1)  # width:height of the output, e.g. (4, 3), (3, 4), (16, 9)
    output_bias: bool = True  # a learned (C, H, W) bias on the output, started at the data's mean image

    def __post_init__(self):
        aspect = tuple(self.aspect) if isinstance(self.aspect, (list, tuple)) else ()
        if len(aspect) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) and a > 0 for a in aspect):
            raise ValueError(f"aspect must be two positive integers (width, height), got {self.aspect!r}")
        object.__setattr__(self, "aspect", aspect)
        long_side = max(base_shape(aspect))
        if not style_trains(self.resolution, aspect):  # the rule prepare checks too (aspect.py)
            if aspect == (1, 1):
                raise ValueError(f"the style generator needs a power-of-two resolution from 8 to 1024, got "
                                 f"{self.resolution}")
            raise ValueError(f"at aspect {aspect[0]}:{aspect[1]} the longer side must be {long_side} times a power of "
                             f"two (e.g. {long_side * 16}), got {self.resolution}")

    @property
    def levels(self) -> int:
        """Resolutions G works at: the base shape, then one per doubling up to the output."""
        return int(math.log2(self.resolution // max(base_shape(self.aspect)))) + 1

    def shape_at(self, level: int) -> tuple[int, int]:
        h, w = base_shape(self.aspect)
        return h * 2 ** level, w * 2 ** level

    @property
    def image_shape(self) -> tuple[int, int]:
        return self.shape_at(self.levels - 1)  # (height, width)

    def width_at(self, level: int) -> int:
        return min(self.width * 2 ** (self.levels - 1 - level), self.max_width)

    @property
    def num_ws(self) -> int:
        """Style vectors the synthesis network takes in w+: one per modulated layer (2 per level but the first)."""
        return 2 * self.levels - 1

    def layer_level(self, index: int) -> int:
        """The level (0: the base) of style vector ``index``: layer 0 is the base's, then two per level."""
        return (index + 1) // 2

    def layer_group(self, name: str) -> list[int]:
        """The w+ indices of a named group: coarse (up to 8 px), middle (16-32 px), fine (64 px and up)."""
        if name not in LAYER_GROUPS:
            raise ValueError(f"unknown layer group {name!r}; known: {', '.join(LAYER_GROUPS)}")
        def side(i):  # the shorter side at that layer, as "8 px" means for a square model
            return min(self.shape_at(self.layer_level(i)))
        lo, hi = {"coarse": (0, 8), "middle": (9, 32), "fine": (33, 10**6)}[name]
        base = min(self.shape_at(0))
        return [i for i in range(self.num_ws) if lo <= side(i) * 4 // base <= hi]

class EqualLinear(nn.Module):
    """y = x W^T * (lr_mul / sqrt(in)) + b * lr_mul, with W ~ N(0, 1/lr_mul^2)."""

    def __init__(self, cin: int, cout: int, bias_init: float = 0.0, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)) / lr_mul)
        self.scale, self.lr_mul = lr_mul / math.sqrt(cin), lr_mul

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale, self.stride, self.padding = 1 / math.sqrt(cin * kernel * kernel), stride, kernel // 2

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, self.stride, self.padding)


def modulated_weight(weight: Tensor, styles: Tensor, demodulate: bool, eps: float = 1e-8) -> Tensor:
    """(O, I, k, k) weights and (B, I) styles -> (B, O, I, k, k) per-sample weights (StyleGAN2, eq. 1-3)."""
    w = weight[None] * styles[:, None, :, None, None]
    if demodulate:
        w = w * torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + eps)
    return w


class ModulatedConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)  # styles start at 1: the plain convolution
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.scale, self.demodulate, self.padding = 1 / math.sqrt(cin * kernel * kernel), demodulate, kernel // 2

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        # Scaling the input by the styles, one shared convolution, then scaling the output by the
        # demodulation coefficients is exactly the per-sample modulated convolution (the weight is
        # linear in both), and a batched convolution is several times faster on CPUs than a grouped
        # one with per-sample weights (StyleGAN2's "fused_modconv=False" path).
        styles = self.affine(w).to(x.dtype)  # (B, I)
        weight = (self.weight * self.scale).to(x.dtype)
        out = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)  # (B, O, H, W)
        if self.demodulate:
            out = out * demodulation(weight, styles)[:, :, None, None]
        return out


def demodulation(weight: Tensor, styles: Tensor, eps: float = 1e-8) -> Tensor:
    """(B, O) coefficients 1 / sqrt(sum_ik (s_i w_oik)^2 + eps) (StyleGAN2, eq. 3), without (B, O, I, k, k) weights."""
    return torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).T + eps)


class StyleLayer(nn.Module):
    """Modulated 3x3 convolution, noise, bias, leaky ReLU; optionally 2x upsampling first."""

    def __init__(self, cin: int, cout: int, w_dim: int, shape: tuple[int, int], upsample: bool):
        super().__init__()
        self.conv = ModulatedConv2d(cin, cout, 3, w_dim)
        self.upsample = upsample
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, *shape))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = self.conv(x, w)
        noise = torch.randn_like(x[:, :1]) if self.training else self.noise_const.to(x.dtype)
        x = x + noise * self.noise_strength.to(x.dtype) + self.bias.to(x.dtype)[None, :, None, None]
        return F.leaky_relu(x, 0.2) * GAIN


def mix_styles(ws: Tensor, other: Tensor, layers: list[int] | Tensor) -> Tensor:
    """w+ ``ws`` (B, num_ws, w_dim) with the style vectors at ``layers`` taken from ``other``."""
    mask = torch.zeros(ws.shape[1], dtype=torch.bool, device=ws.device)
    mask[torch.as_tensor(layers, dtype=torch.long, device=ws.device)] = True
    return torch.where(mask[None, :, None], other, ws)


class StyleGenerator(nn.Module):
    def __init__(self, cfg: StyleConfig):
        super().__init__()
        self.cfg = cfg
        self.num_ws = cfg.num_ws
        self.embed = EqualLinear(cfg.num_classes, cfg.z_dim) if cfg.num_classes else None
        in_dim = cfg.z_dim * (2 if cfg.num_classes else 1)
        dims = [in_dim] + [cfg.w_dim] * cfg.mapping_layers
        self.mapping = nn.ModuleList(EqualLinear(a, b, lr_mul=0.01) for a, b in zip(dims[:-1], dims[1:]))
        self.const = nn.Parameter(torch.randn(1, cfg.width_at(0), *cfg.shape_at(0)))
        self.layers = nn.ModuleList()  # w+ index i drives layer i
        self.to_rgb = nn.ModuleList()  # one per level, driven by its level's last style vector
        for level in range(cfg.levels):
            cin, cout = cfg.width_at(max(level - 1, 0)), cfg.width_at(level)
            if level:
                self.layers.append(StyleLayer(cin, cout, cfg.w_dim, cfg.shape_at(level), upsample=True))
            self.layers.append(StyleLayer(cout, cout, cfg.w_dim, cfg.shape_at(level), upsample=False))
            self.to_rgb.append(ModulatedConv2d(cout, cfg.channels, 1, cfg.w_dim, demodulate=False))
        self.rgb_bias = nn.Parameter(torch.zeros(cfg.levels, cfg.channels))
        # As in the DCGAN family: backgrounds and layout are right from the first step (see dcgan.py).
        # Stored at 1/OUTPUT_BIAS_LR_MUL scale: at the style learning rate (0.0025) Adam would move
        # every pixel of a raw per-pixel bias by about that much each step, a random walk that
        # paints high-frequency noise over every image.
        self.output_bias = nn.Parameter(torch.zeros(cfg.channels, *cfg.image_shape)) if cfg.output_bias else None

    @torch.no_grad()
    def init_output_bias(self, mean_image: Tensor) -> None:
        """Start the output bias at the training images' mean image (C, H, W), in [-1, 1]."""
        if self.output_bias is not None:
            self.output_bias.copy_(mean_image / OUTPUT_BIAS_LR_MUL)

    def map(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        """(B, z_dim) latents (and class indices) -> (B, w_dim) styles."""
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # on the unit sphere (x sqrt(dim))
        if self.embed is not None:
            if c is None:
                raise ValueError("this generator is conditional: pass class indices c")
            y = self.embed(F.one_hot(c, self.cfg.num_classes).to(z.dtype))
            x = torch.cat([x, y * torch.rsqrt(y.square().mean(dim=1, keepdim=True) + 1e-8)], dim=1)
        for layer in self.mapping:
            x = F.leaky_relu(layer(x), 0.2) * GAIN
        return x

    def broadcast(self, w: Tensor) -> Tensor:
        """(B, w_dim) -> (B, num_ws, w_dim): the same style at every layer (w+ passes through)."""
        return w if w.dim() == 3 else w[:, None].expand(-1, self.num_ws, -1)

    def synthesis(self, ws: Tensor) -> Tensor:
        """(B, w_dim) styles, or w+ (B, num_ws, w_dim), -> (B, C, H, W) images, about [-1, 1]."""
        ws = self.broadcast(ws)
        x = self.const.to(ws.dtype).expand(len(ws), -1, -1, -1)
        rgb, index = None, 0
        for level in range(self.cfg.levels):
            for _ in range(2 if level else 1):
                x = self.layers[index](x, ws[:, index])
                index += 1
            y = self.to_rgb[level](x, ws[:, index - 1]) + self.rgb_bias[level].to(x.dtype)[None, :, None, None]
            rgb = y if rgb is None else F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) + y
        return rgb if self.output_bias is None else rgb + (self.output_bias * OUTPUT_BIAS_LR_MUL).to(rgb.dtype)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        return self.synthesis(self.map(z, c))


class ResidualBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = EqualConv2d(cin, cin, 3)
        self.conv2 = EqualConv2d(cin, cout, 3, stride=2)
        self.skip = EqualConv2d(cin, cout, 1, stride=2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        y = F.leaky_relu(self.conv1(x), 0.2) * GAIN
        y = F.leaky_relu(self.conv2(y), 0.2) * GAIN
        return (y + self.skip(x)) / math.sqrt(2)


class StyleDiscriminator(nn.Module):
    def __init__(self, cfg: StyleConfig):
        super().__init__()
        self.cfg = cfg
        top = cfg.levels - 1
        self.from_rgb = EqualConv2d(cfg.channels, cfg.width_at(top), 1)
        self.blocks = nn.Sequential(*[ResidualBlock(cfg.width_at(level), cfg.width_at(level - 1))
                                      for level in range(top, 0, -1)])
        c0, (h0, w0) = cfg.width_at(0), cfg.shape_at(0)
        self.conv = EqualConv2d(c0 + (1 if cfg.mbstd_group else 0), c0, 3)
        self.fc = EqualLinear(c0 * h0 * w0, c0)
        self.out = EqualLinear(c0, 1)
        self.embed = nn.Embedding(cfg.num_classes, c0) if cfg.num_classes else None

    def _trunk(self, x: Tensor) -> Tensor:
        h = self.blocks(F.leaky_relu(self.from_rgb(x), 0.2) * GAIN)  # (B, c0, h0, w0)
        if self.cfg.mbstd_group:
            std = group_std(h, self.cfg.mbstd_group)[:, None, None, None].expand(len(h), 1, *h.shape[2:])
            h = torch.cat([h, std], dim=1)
        h = F.leaky_relu(self.conv(h), 0.2) * GAIN
        return F.leaky_relu(self.fc(h.flatten(1)), 0.2) * GAIN  # (B, c0)

    def features(self, x: Tensor) -> Tensor:
        return self._trunk(x)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        h = self._trunk(x)
        logits = self.out(h).flatten()
        if self.embed is not None:
            if c is None:
                raise ValueError("this discriminator is conditional: pass class indices c")
            logits = logits + (self.embed(c).to(h.dtype) * h).sum(dim=1) / math.sqrt(h.shape[1])
        return logits


def build(cfg: StyleConfig) -> dict[str, nn.Module]:
    return {"G": StyleGenerator(cfg), "D": StyleDiscriminator(cfg)}


FAMILY = Family("style", StyleConfig, build, ema=("G",), sampler="G_ema", inputs=("latent", "label"),
                modality="image", summary="style-based generator (StyleGAN2): mapping network, modulated "
                "convolutions, noise, skip outputs; residual D")
