"""A style-based generator (Karras et al. 2020, StyleGAN2, arXiv:1912.04958), in pure PyTorch.

G: z (+ a class embedding) -> mapping MLP -> w; a learned 4x4 constant is refined block by block
(2x upsampling, 3x3 convolutions whose weights are *modulated* by an affine map of w and
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
from .dcgan import class_projection, down_block, group_std, whole_map_logit
from .family import Family

GAIN = math.sqrt(2)  # leaky ReLU's gain: activations keep unit variance
OUTPUT_BIAS_LR_MUL = 0.02  # the per-pixel output bias learns at 1/50 of the rate (see StyleGenerator)


D_ARCHS = ("resnet", "strided")
UPSAMPLES = ("bilinear", "transposed")
LAYER_GROUPS = ("coarse", "middle", "fine")  # 4-8 px, 16-32 px, 64 px and up (Karras et al. 2019, sec. 3.1)


@dataclass(frozen=True)
class StyleConfig:  # defaults: the "lite" preset (options/families.py's STYLE_PRESETS)
    resolution: int = 64  # the longer side: the base's longer side times a power of two, 8..1024
    channels: int = 3
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 2
    mapping_lr_mul: float = 0.01  # the mapping network's learning rate relative to G's (StyleGAN2's 1/100)
    width: int = 16  # channels at full resolution; they double as resolution halves
    max_width: int = 64
    num_classes: int = 0
    mbstd_group: int = 4
    aspect: tuple = (1, 1)  # width:height of the output, e.g. (4, 3), (3, 4), (16, 9)
    output_bias: bool = True  # a learned (C, H, W) bias on the output, started at the data's mean image
    output_bias_level: int = -1  # the G level whose shape that bias has, upsampled to the output (-1: the output's)
    noise: bool = True  # per-pixel noise inputs (random in training, a fixed buffer in eval mode)
    convs_per_level: int = 2  # modulated 3x3 convolutions per doubling: StyleGAN2's 2, or 1 (the upsampling one)
    d_arch: str = "resnet"  # "resnet": StyleGAN2's residual D; "strided": residual 4x4 strided blocks with batch norm
    # How a level's first convolution doubles the resolution. "bilinear": bilinear 2x upsampling, then the 3x3
    # convolution. "transposed": the same function computed in StyleGAN2's order, a stride-2 transposed 3x3
    # convolution then the [1, 3, 3, 1] blur (a quarter of the multiply-adds; the two differ only in the
    # 2-pixel border, where bilinear upsampling repeats the edge). The default is what older checkpoints used.
    upsample: str = "bilinear"
    # The class embedding's size at the mapping network's input, relative to z's (both are normalized to unit
    # RMS first). StyleGAN2-ADA's 1 makes G as conditional on the class as on z from the first step: with a
    # few dozen images to a class, each class's images vary less than the data's ("collapse by conditioning",
    # Shahbazi et al. 2022; on OpenMoji's clusters two-thirds of the real variety, 0.2 restored it: docs/style.md).
    class_gain: float = 1.0

    def __post_init__(self):
        aspect = tuple(self.aspect) if isinstance(self.aspect, (list, tuple)) else ()
        if len(aspect) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) and a > 0 for a in aspect):
            raise ValueError(f"aspect must be two positive integers (width, height), got {self.aspect!r}")
        object.__setattr__(self, "aspect", aspect)
        if self.d_arch not in D_ARCHS:
            raise ValueError(f"d_arch must be one of {', '.join(D_ARCHS)}, got {self.d_arch!r}")
        if self.upsample not in UPSAMPLES:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLES)}, got {self.upsample!r}")
        if not isinstance(self.mapping_lr_mul, (int, float)) or not 0 < self.mapping_lr_mul <= 1:
            raise ValueError(f"mapping_lr_mul must be in (0, 1], got {self.mapping_lr_mul!r}")
        if not isinstance(self.class_gain, (int, float)) or not 0 < self.class_gain <= 1:
            raise ValueError(f"class_gain must be in (0, 1], got {self.class_gain!r}")
        if self.convs_per_level not in (1, 2):
            raise ValueError(f"convs_per_level must be 1 or 2, got {self.convs_per_level!r}")
        if not isinstance(self.output_bias_level, int) or self.output_bias_level < -1:
            raise ValueError(f"output_bias_level must be -1 (full resolution) or a level from 0, got "
                             f"{self.output_bias_level!r}")
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

    @property
    def output_bias_shape(self) -> tuple[int, int]:
        """(H, W) of the learned output bias: its level's shape, or the output's when that is coarser."""
        top = self.levels - 1
        return self.shape_at(top if self.output_bias_level < 0 else min(self.output_bias_level, top))

    def width_at(self, level: int) -> int:
        return min(self.width * 2 ** (self.levels - 1 - level), self.max_width)

    @property
    def num_ws(self) -> int:
        """Style vectors the synthesis network takes in w+: one per modulated layer (one at the base,
        convs_per_level at every level above it)."""
        return 1 + (self.levels - 1) * self.convs_per_level

    def layer_level(self, index: int) -> int:
        """The level (0: the base) of style vector ``index``: layer 0 is the base's, then convs_per_level per level."""
        return (index + self.convs_per_level - 1) // self.convs_per_level

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
    """``input_gain`` is the constant the input should have been multiplied by (the previous leaky
    ReLU's sqrt(2)): the convolution is linear in its input, so the gain goes on the small (B, I)
    styles or (B, O) demodulation coefficients instead of the (B, I, H, W) input."""

    def __init__(self, cin: int, cout: int, kernel: int, w_dim: int, demodulate: bool = True,
                 input_gain: float = 1.0):
        super().__init__()
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)  # styles start at 1: the plain convolution
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.scale, self.demodulate, self.padding = 1 / math.sqrt(cin * kernel * kernel), demodulate, kernel // 2
        self.input_gain = input_gain

    def forward(self, x: Tensor, w: Tensor, bias: Tensor | None = None, upsample: str | None = None) -> Tensor:
        """(B, I, H, W), (B, w_dim) [, bias (O,), or (O, 1, 1) or (O, H, W) when demodulating] ->
        (B, O, H, W), or (B, O, 2H, 2W) with ``upsample`` (one of UPSAMPLES; see StyleConfig.upsample)."""
        # Scaling the input by the styles, one shared convolution, then scaling the output by the
        # demodulation coefficients is exactly the per-sample modulated convolution (the weight is
        # linear in both), and a batched convolution is several times faster on CPUs than a grouped
        # one with per-sample weights (StyleGAN2's "fused_modconv=False" path). Upsampling is linear
        # per channel too, so the styles scale the input before it: a quarter of the pixels.
        styles = self.affine(w).to(x.dtype)  # (B, I)
        weight = (self.weight * self.scale).to(x.dtype)
        if not self.demodulate:
            return self._pointwise(x, styles * self.input_gain, weight, bias, upsample)
        x = x * styles[:, :, None, None]
        if upsample == "transposed":
            out = transposed_upsample_conv(x, weight)  # (B, O, 2H, 2W)
        else:
            if upsample:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            out = F.conv2d(x, weight, padding=self.padding)  # (B, O, H, W)
        # The gain goes on the coefficients, not the styles: demodulation would divide it out again.
        demod = (demodulation(weight, styles) * self.input_gain)[:, :, None, None]
        if bias is None:
            return out * demod
        return torch.addcmul(bias.to(x.dtype)[None], out, demod)  # one pass over the output

    def _pointwise(self, x: Tensor, styles: Tensor, weight: Tensor, bias: Tensor | None,
                   upsample: str | None) -> Tensor:
        """Without demodulation (the RGB layers): a 1x1 kernel becomes per-sample (B, O, I) weights and one
        batched matrix product, so the (B, I, H, W) input is never scaled; larger kernels scale it."""
        if upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        if weight.shape[2:] == (1, 1):
            b, _, h, w = x.shape
            per_sample = weight[None, :, :, 0, 0] * styles[:, None, :]  # (B, O, I)
            if x.is_contiguous(memory_format=torch.channels_last):  # as (B, H*W, I) rows: no copy of x
                out = torch.matmul(x.permute(0, 2, 3, 1).reshape(b, h * w, -1), per_sample.transpose(1, 2))
                out = out.view(b, h, w, -1).permute(0, 3, 1, 2)  # (B, O, H, W), channels-last
            else:
                out = torch.matmul(per_sample, x.flatten(2)).view(b, -1, h, w)  # (B, O, H, W)
        else:
            out = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)
        return out if bias is None else out + bias.to(x.dtype)[None, :, None, None]


BLUR_TAPS = (0.25, 0.75, 0.75, 0.25)  # bilinear 2x upsampling is zero insertion then this filter, per axis


def transposed_upsample_conv(x: Tensor, weight: Tensor) -> Tensor:
    """(B, I, H, W), (O, I, 3, 3) -> (B, O, 2H, 2W): F.conv2d(bilinear_2x(x), weight, padding=1) away from the
    2-pixel border, at a quarter of the multiply-adds.

    Bilinear 2x upsampling is zero insertion followed by BLUR_TAPS along each axis. The blur is the same
    for every channel, so it commutes with the convolution: convolve the zero-inserted input (a stride-2
    transposed convolution with the flipped kernel, which skips the zeros), then blur the O output
    channels (a depthwise 4x4 convolution). This is StyleGAN2's order for its upsampling layers.
    """
    if weight.shape[2:] != (3, 3):
        raise ValueError(f"the transposed upsampling convolution takes 3x3 kernels, got {tuple(weight.shape[2:])}")
    out_channels = weight.shape[0]
    y = F.conv_transpose2d(x, weight.transpose(0, 1).flip(2, 3), stride=2)  # (B, O, 2H + 1, 2W + 1)
    taps = torch.tensor(BLUR_TAPS, dtype=y.dtype, device=y.device)
    blur = (taps[:, None] * taps[None, :]).expand(out_channels, 1, 4, 4)
    return F.conv2d(F.pad(y, (1, 1, 1, 1)), blur, groups=out_channels)  # (B, O, 2H, 2W)


def demodulation(weight: Tensor, styles: Tensor, eps: float = 1e-8) -> Tensor:
    """(B, O) coefficients 1 / sqrt(sum_ik (s_i w_oik)^2 + eps) (StyleGAN2, eq. 3), without (B, O, I, k, k) weights."""
    return torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).T + eps)


class StyleLayer(nn.Module):
    """Modulated 3x3 convolution, noise, bias, leaky ReLU; optionally 2x upsampling first (``upsample``:
    one of UPSAMPLES, or None)."""

    def __init__(self, cin: int, cout: int, w_dim: int, shape: tuple[int, int], upsample: str | None,
                 input_gain: float = GAIN, noise: bool = True):
        super().__init__()
        self.conv = ModulatedConv2d(cin, cout, 3, w_dim, input_gain=input_gain)
        self.upsample = upsample
        if noise:
            self.noise_strength = nn.Parameter(torch.zeros(()))
            self.register_buffer("noise_const", torch.randn(1, 1, *shape))
        else:
            self.noise_strength = None
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        """Returns the leaky ReLU's output *without* its gain of sqrt(2): every consumer is a
        modulated convolution, which applies it as its ``input_gain``."""
        if self.noise_strength is None or self.training:
            x = self.conv(x, w, self.bias[:, None, None], upsample=self.upsample)
            if self.noise_strength is not None:  # fresh per-pixel noise for every sample
                x = x + torch.randn_like(x[:, :1]) * self.noise_strength.to(x.dtype)
        else:  # the fixed noise map is the same for every sample: it joins the bias, one pass fewer
            # (H, W, O) then viewed as (O, H, W): the layout of the channels-last activations it is added to
            bias = (self.noise_const[0, 0, :, :, None] * self.noise_strength + self.bias).permute(2, 0, 1)
            x = self.conv(x, w, bias, upsample=self.upsample)
        return F.leaky_relu(x, 0.2)


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
        self.mapping = nn.ModuleList(EqualLinear(a, b, lr_mul=cfg.mapping_lr_mul) for a, b in zip(dims[:-1], dims[1:]))
        self.const = nn.Parameter(torch.randn(1, cfg.width_at(0), *cfg.shape_at(0)))
        self.layers = nn.ModuleList()  # w+ index i drives layer i
        self.to_rgb = nn.ModuleList()  # one per level, driven by its level's last style vector
        for level in range(cfg.levels):
            cin, cout = cfg.width_at(max(level - 1, 0)), cfg.width_at(level)
            if level:
                self.layers.append(StyleLayer(cin, cout, cfg.w_dim, cfg.shape_at(level), upsample=cfg.upsample,
                                              noise=cfg.noise))
            if not level or cfg.convs_per_level == 2:
                self.layers.append(StyleLayer(cout, cout, cfg.w_dim, cfg.shape_at(level), upsample=None,
                                              input_gain=GAIN if level else 1.0, noise=cfg.noise))  # the constant needs none
            self.to_rgb.append(ModulatedConv2d(cout, cfg.channels, 1, cfg.w_dim, demodulate=False,
                                              input_gain=GAIN))
        self.rgb_bias = nn.Parameter(torch.zeros(cfg.levels, cfg.channels))
        # As in the DCGAN family: backgrounds and layout are right from the first step (see dcgan.py).
        # Stored at 1/OUTPUT_BIAS_LR_MUL scale: at the style learning rate Adam would move every
        # pixel of a raw per-pixel bias by about that much each step, a random walk that paints
        # high-frequency noise over every image. Held at a coarse level (output_bias_level) and
        # upsampled, it can only carry layout and background: at full resolution it learned a fixed
        # fine pattern that every image carried (the finest SWD level doubled; docs/style.md).
        self.output_bias = nn.Parameter(torch.zeros(cfg.channels, *cfg.output_bias_shape)) if cfg.output_bias else None

    @torch.no_grad()
    def init_output_bias(self, mean_image: Tensor) -> None:
        """Start the output bias at the training images' mean image (C, H, W), in [-1, 1], averaged
        down to the bias's shape."""
        if self.output_bias is not None:
            mean = F.adaptive_avg_pool2d(mean_image[None], self.output_bias.shape[1:])[0]
            self.output_bias.copy_(mean / OUTPUT_BIAS_LR_MUL)

    def output_bias_image(self, dtype: torch.dtype) -> Tensor:
        """(1, C, H, W): the output bias at the output's resolution."""
        bias = (self.output_bias * OUTPUT_BIAS_LR_MUL).to(dtype)[None]
        if bias.shape[2:] != self.cfg.image_shape:
            bias = F.interpolate(bias, size=self.cfg.image_shape, mode="bilinear", align_corners=False)
        return bias

    def map(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        """(B, z_dim) latents (and class indices) -> (B, w_dim) styles."""
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # on the unit sphere (x sqrt(dim))
        if self.embed is not None:
            if c is None:
                raise ValueError("this generator is conditional: pass class indices c")
            y = self.embed(F.one_hot(c, self.cfg.num_classes).to(z.dtype))
            y = y * (self.cfg.class_gain * torch.rsqrt(y.square().mean(dim=1, keepdim=True) + 1e-8))
            x = torch.cat([x, y], dim=1)
        for layer in self.mapping:
            x = F.leaky_relu(layer(x), 0.2) * GAIN
        return x

    def broadcast(self, w: Tensor) -> Tensor:
        """(B, w_dim) -> (B, num_ws, w_dim): the same style at every layer (w+ passes through)."""
        return w if w.dim() == 3 else w[:, None].expand(-1, self.num_ws, -1)

    def synthesis(self, ws: Tensor) -> Tensor:
        """(B, w_dim) styles, or w+ (B, num_ws, w_dim), -> (B, C, H, W) images, about [-1, 1]."""
        ws = self.broadcast(ws)
        # Channels-last from the start: CPUs upsample and convolve it 3-5x faster than the default layout
        # (the bilinear 2x upsampling of a (16, 32, 32, 32) batch: 1.1 ms against 5.6 ms), and every
        # layer keeps the layout of its input.
        x = self.const.to(ws.dtype).expand(len(ws), -1, -1, -1).contiguous(memory_format=torch.channels_last)
        rgb, index = None, 0
        for level in range(self.cfg.levels):
            for _ in range(self.cfg.convs_per_level if level else 1):
                x = self.layers[index](x, ws[:, index])
                index += 1
            y = self.to_rgb[level](x, ws[:, index - 1]) + self.rgb_bias[level].to(x.dtype)[None, :, None, None]
            rgb = y if rgb is None else F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) + y
        return rgb if self.output_bias is None else rgb + self.output_bias_image(rgb.dtype)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        return self.synthesis(self.map(z, c))


class ResidualBlock(nn.Module):
    """(lrelu(conv2(lrelu(conv1(x)))) * sqrt(2) + skip(x)) / sqrt(2), with the constants folded into
    the convolutions' run-time weight scales, so no full-size tensor is multiplied by one. ``input_gain``
    is the constant x should have been multiplied by (the block before's activation gain)."""

    def __init__(self, cin: int, cout: int, input_gain: float = 1.0):
        super().__init__()
        self.conv1 = EqualConv2d(cin, cin, 3)
        self.conv2 = EqualConv2d(cin, cout, 3, stride=2)
        self.skip = EqualConv2d(cin, cout, 1, stride=2, bias=False)
        self.conv1.scale *= input_gain
        self.conv2.scale *= GAIN  # conv1's activation gain
        self.skip.scale *= input_gain / math.sqrt(2)  # GAIN / sqrt(2) = 1 leaves the main branch as is

    def forward(self, x: Tensor) -> Tensor:
        y = F.leaky_relu(self.conv1(x), 0.2)
        y = F.leaky_relu(self.conv2(y), 0.2)
        return y + self.skip(x)


def with_group_std(h: Tensor, group: int) -> Tensor:
    """(B, C, H, W) features with their minibatch standard deviation as one more channel (none for group 0)."""
    if not group:
        return h
    std = group_std(h, group)[:, None, None, None].expand(len(h), 1, *h.shape[2:])
    return torch.cat([h, std.to(h.dtype)], dim=1)


class StyleDiscriminator(nn.Module):
    def __init__(self, cfg: StyleConfig):
        super().__init__()
        self.cfg = cfg
        top = cfg.levels - 1
        self.from_rgb = EqualConv2d(cfg.channels, cfg.width_at(top), 1)
        self.blocks = nn.Sequential(*[ResidualBlock(cfg.width_at(level), cfg.width_at(level - 1),
                                                    input_gain=GAIN if level == top else 1.0)  # from_rgb's
                                      for level in range(top, 0, -1)])
        c0, (h0, w0) = cfg.width_at(0), cfg.shape_at(0)
        self.conv = EqualConv2d(c0 + (1 if cfg.mbstd_group else 0), c0, 3)
        self.fc = EqualLinear(c0 * h0 * w0, c0)
        self.out = EqualLinear(c0, 1)
        self.embed = nn.Embedding(cfg.num_classes, c0) if cfg.num_classes else None

    def _trunk(self, x: Tensor) -> Tensor:
        h = self.blocks(F.leaky_relu(self.from_rgb(x), 0.2))  # (B, c0, h0, w0); the gain is block 1's
        h = F.leaky_relu(self.conv(with_group_std(h, self.cfg.mbstd_group)), 0.2) * GAIN
        return F.leaky_relu(self.fc(h.flatten(1)), 0.2) * GAIN  # (B, c0)

    def features(self, x: Tensor) -> Tensor:
        return self._trunk(x)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        h = self._trunk(x)
        logits = self.out(h).flatten()
        if self.embed is not None:
            logits = logits + class_projection(self.embed, c, h) / math.sqrt(h.shape[1])
        return logits


class StridedResidualBlock(nn.Module):
    """Halves the resolution: DCGAN's D layer, lrelu(BN(4x4 stride-2 conv(x))), plus 1x1 conv(avg_pool(x))."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.main = down_block(cin, cout, "batch")
        self.skip = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:  # (B, cin, H, W) -> (B, cout, H/2, W/2)
        return self.main(x) + self.skip(F.avg_pool2d(x, 2))


class StridedDiscriminator(nn.Module):
    """A fast residual D for short CPU budgets (``d_arch="strided"``): DCGAN's D (4x4 stride-2
    convolutions, batch norm, N(0, 0.02) weights: it learns at the DCGAN learning rate, 2e-4, not at an
    equalized one) with a pooled 1x1 skip around every block, then minibatch std and a 4x4 logit.
    Widths double from 2x G's full-resolution width as the resolution halves, up to 4x max_width.
    The skips start near zero (small weights), so training starts as DCGAN's D does: at the demo's
    budget it beat StyleGAN2's D, which spends most of its time in 3x3 convolutions at full
    resolution (docs/style.md)."""

    def __init__(self, cfg: StyleConfig):
        super().__init__()
        self.cfg = cfg
        top = cfg.levels - 1
        widths = [min(cfg.width * 2 ** (top - level), 4 * cfg.max_width) for level in range(top, -1, -1)]
        self.from_rgb = down_block(cfg.channels, widths[1], "none")  # (B, C, H, W) -> level top-1
        self.blocks = nn.Sequential(*[StridedResidualBlock(a, b) for a, b in zip(widths[1:-1], widths[2:])])
        c0, (h0, w0) = widths[-1], cfg.shape_at(0)
        self.to_logit = nn.Conv2d(c0 + (1 if cfg.mbstd_group else 0), 1, (h0, w0), bias=False)
        self.embed = nn.Embedding(cfg.num_classes, c0) if cfg.num_classes else None
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)

    def _trunk(self, x: Tensor) -> Tensor:
        return self.blocks(self.from_rgb(x))  # (B, c0, h0, w0)

    def features(self, x: Tensor) -> Tensor:
        return self._trunk(x).sum(dim=(2, 3))  # (B, c0)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        h = self._trunk(x)
        logits = whole_map_logit(self.to_logit, h, self.cfg.mbstd_group)  # (B,)
        if self.embed is not None:
            logits = logits + class_projection(self.embed, c, h.sum(dim=(2, 3)))
        return logits


def build(cfg: StyleConfig) -> dict[str, nn.Module]:
    D = StridedDiscriminator(cfg) if cfg.d_arch == "strided" else StyleDiscriminator(cfg)
    return {"G": StyleGenerator(cfg), "D": D}


FAMILY = Family("style", StyleConfig, build, ema=("G",), sampler="G_ema", inputs=("latent", "label"),
                modality="image", summary="style-based generator (StyleGAN2): mapping network, modulated "
                "convolutions, noise, skip outputs; residual D", styles=True, output_bias=True)
