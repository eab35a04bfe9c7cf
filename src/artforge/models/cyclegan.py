"""Unpaired image-to-image translation (Zhu et al. 2017, "CycleGAN"): two ResNet generators, two PatchGANs.

G_ab turns domain A (e.g. line art) into domain B (coloured art) and G_ba the other way; D_a and
D_b tell each domain's real images from translated ones. Neither direction ever sees a pair: the
cycle losses (A -> B -> A returns the input) tie them together (tasks/unpaired.py).

A generator: a 7x7 convolution, two stride-2 downsamplings, ``blocks`` residual blocks at a quarter
of the resolution, two transposed-convolution upsamplings and a 7x7 convolution to the image, with
reflection padding (no border artefacts) and instance normalization, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .family import Family
from .pix2pix import NORMS, PatchDiscriminator, init_weights, norm_layer


@dataclass(frozen=True)
class CycleGANConfig:
    resolution: int = 64  # square training crops, a multiple of 4
    channels_a: int = 3
    channels_b: int = 3
    width: int = 64  # G's first convolution; 2x and 4x after the downsamplings
    blocks: int = 6  # residual blocks: the paper's 6 at 128 px, 9 at 256 px
    d_width: int = 64
    d_layers: int = 3  # PatchGAN layers: 70x70 patches
    norm: str = "instance"

    def __post_init__(self):
        if self.resolution < 16 or self.resolution % 4:
            raise ValueError(f"cyclegan needs a resolution that is a multiple of 4 and at least 16, got {self.resolution}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        if self.blocks < 1:
            raise ValueError(f"blocks must be >= 1, got {self.blocks}")


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), norm_layer(norm, channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), norm_layer(norm, channels))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    def __init__(self, cin: int, cout: int, width: int, blocks: int, norm: str):
        super().__init__()
        w = width
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(cin, w, 7), norm_layer(norm, w), nn.ReLU(True)]
        for mult in (1, 2):  # (B, w, H, W) -> (B, 4w, H/4, W/4)
            layers += [nn.Conv2d(w * mult, w * mult * 2, 3, 2, 1), norm_layer(norm, w * mult * 2), nn.ReLU(True)]
        layers += [ResidualBlock(4 * w, norm) for _ in range(blocks)]
        for mult in (4, 2):  # back to (B, w, H, W)
            layers += [nn.ConvTranspose2d(w * mult, w * mult // 2, 3, 2, 1, output_padding=1),
                       norm_layer(norm, w * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, cout, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, x: Tensor) -> Tensor:  # (B, Cin, H, W) -> (B, Cout, H, W), H and W multiples of 4
        return self.net(x)


class TwoWayGenerator(nn.Module):
    """Both generators as one network (one optimizer and one EMA copy, as the paper's single Adam over
    both): calling it translates A -> B; ``.ba`` translates back."""

    def __init__(self, cfg: CycleGANConfig):
        super().__init__()
        self.ab = ResnetGenerator(cfg.channels_a, cfg.channels_b, cfg.width, cfg.blocks, cfg.norm)
        self.ba = ResnetGenerator(cfg.channels_b, cfg.channels_a, cfg.width, cfg.blocks, cfg.norm)

    def forward(self, a: Tensor) -> Tensor:  # (B, Ca, H, W) -> (B, Cb, H, W)
        return self.ab(a)


class TwoDiscriminators(nn.Module):
    """D_a (real A vs translated B -> A) and D_b (real B vs translated A -> B), one optimizer for both."""

    def __init__(self, cfg: CycleGANConfig):
        super().__init__()
        self.a = PatchDiscriminator(cfg.channels_a, cfg.d_width, 8 * cfg.d_width, cfg.d_layers, cfg.norm)
        self.b = PatchDiscriminator(cfg.channels_b, cfg.d_width, 8 * cfg.d_width, cfg.d_layers, cfg.norm)

    def forward(self, b: Tensor) -> Tensor:  # D_b's patch logits: is this a real B image?
        return self.b(b)


def build(cfg: CycleGANConfig) -> dict[str, nn.Module]:
    return {"G": TwoWayGenerator(cfg), "D": TwoDiscriminators(cfg)}


FAMILY = Family("cyclegan", CycleGANConfig, build, ema=("G",), sampler="G_ema", inputs=("image",), modality="image",
                summary="CycleGAN (Zhu et al. 2017): ResNet generators both ways, PatchGAN Ds; unpaired translation")
