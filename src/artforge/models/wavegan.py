"""WaveGAN (Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis", arXiv:1802.04208).

DCGAN flattened to one dimension with longer filters: G maps z (+ a label embedding) through a
dense layer to 16 frames of 16d channels, then five transposed 1-D convolutions (kernel 25, stride
4) each quadruple the length and halve the channels, ReLU between them and tanh at the end:
16 -> 64 -> 256 -> 1,024 -> 4,096 -> 16,384 samples. Longer clips start from a longer base (32 or
64 frames). D mirrors it with strided convolutions and leaky ReLUs, and *phase shuffle* after each
of them but the last: every layer's activations move by a random -n..n samples (reflect-padded),
so D cannot judge a sound by the phase artefacts of G's upsampling (sec. 3.3). Conditional models
give G a label embedding beside z and D a projection term (Miyato & Koyama 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .family import Family
from .heads import LogitHead

KERNEL = 25
STRIDE = 4
LAYERS = 5  # upsampling layers: a 4^5 = 1,024x longer output than the base
LENGTHS = (16384, 32768, 65536)


@dataclass(frozen=True)
class WaveGANConfig:
    resolution: int = 16384  # samples per clip (what a sound dataset's "resolution" is)
    channels: int = 1
    sample_rate: int = 16000  # the training sounds' rate: what a clip's samples mean in time
    z_dim: int = 100
    width: int = 16  # WaveGAN's d (64 in the paper); channels run 16d, 8d, 4d, 2d, d
    num_classes: int = 0
    phase_shuffle: int = 2  # D: shift activations by up to this many samples (WaveGAN's n = 2)

    def __post_init__(self):
        if self.resolution not in LENGTHS:
            raise ValueError(f"WaveGAN makes clips of {', '.join(map(str, LENGTHS))} samples, got {self.resolution}")
        if self.channels != 1:
            raise ValueError(f"WaveGAN makes mono sounds, got {self.channels} channels")

    @property
    def base(self) -> int:
        return self.resolution // STRIDE ** LAYERS  # 16 frames for 16,384 samples

    def width_at(self, layer: int) -> int:
        """Channels entering upsampling layer ``layer`` (0: after the dense layer): 16d, 8d, ..., d."""
        return self.width * 2 ** (LAYERS - 1 - layer)


def phase_shuffle(x: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Shift each item of (B, C, L) by its own random -n..n samples, reflecting at the edge it leaves:
    out[b, :, j] = x[b, :, reflect(j - shift_b)]. One gather: cheap to differentiate twice (the
    gradient penalty does), unlike a stack of padded slices."""
    if n <= 0:
        return x
    length = x.shape[-1]
    shifts = torch.randint(-n, n + 1, (x.shape[0], 1), generator=generator).to(x.device)
    index = torch.arange(length, device=x.device)[None] - shifts  # (B, L)
    index = index.abs()  # reflect at the start: -1 -> 1
    index = torch.where(index > length - 1, 2 * (length - 1) - index, index)  # and at the end
    return torch.gather(x, 2, index[:, None].expand(-1, x.shape[1], -1))


class WaveGenerator(nn.Module):
    def __init__(self, cfg: WaveGANConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.num_classes, cfg.z_dim) if cfg.num_classes else None
        in_dim = cfg.z_dim * (2 if cfg.num_classes else 1)
        self.dense = nn.Linear(in_dim, cfg.base * cfg.width_at(0))
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(cfg.width_at(i), cfg.width_at(i + 1) if i < LAYERS - 1 else cfg.channels, KERNEL,
                               STRIDE, padding=(KERNEL - STRIDE + 1) // 2, output_padding=1)  # exactly 4x longer
            for i in range(LAYERS))

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        """(B, z_dim) [, (B,) labels] -> (B, 1, resolution) in [-1, 1]."""
        if self.embed is not None:
            z = torch.cat([z, self.embed(c)], dim=1)
        x = F.relu(self.dense(z).view(len(z), self.cfg.width_at(0), self.cfg.base))  # (B, 16d, base)
        for i, up in enumerate(self.ups):
            x = up(x)  # (B, C/2, 4L)
            x = torch.tanh(x) if i == LAYERS - 1 else F.relu(x)
        return x


class WaveDiscriminator(nn.Module):
    """Strided 1-D convolutions, leaky ReLU, phase shuffle; a dense logit (+ projection when conditional).
    Phase shuffle draws from torch's global stream, which the engine seeds per process and saves in
    checkpoints (as the style family's noise): a resumed run shuffles as the uninterrupted one did."""

    def __init__(self, cfg: WaveGANConfig):
        super().__init__()
        self.cfg = cfg
        widths = [cfg.channels] + [cfg.width_at(LAYERS - 1 - i) for i in range(LAYERS)]  # 1, d, 2d, ..., 16d
        self.convs = nn.ModuleList(nn.Conv1d(a, b, KERNEL, STRIDE, padding=KERNEL // 2 - 1)
                                   for a, b in zip(widths[:-1], widths[1:]))
        features = cfg.base * widths[-1]
        self.head = LogitHead(features, cfg.num_classes)

    def features(self, x: Tensor) -> Tensor:
        """(B, 1, L) -> (B, base * 16d)."""
        for i, conv in enumerate(self.convs):
            x = F.leaky_relu(conv(x), 0.2)  # (B, 2C, L/4)
            if i < LAYERS - 1 and self.training:
                x = phase_shuffle(x, self.cfg.phase_shuffle)
        return x.flatten(1)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        return self.head(self.features(x), c)


def build(cfg: WaveGANConfig) -> dict[str, nn.Module]:
    return {"G": WaveGenerator(cfg), "D": WaveDiscriminator(cfg)}


FAMILY = Family("wavegan", WaveGANConfig, build, ema=("G",), sampler="G_ema", inputs=("latent", "label"),
                modality="audio", summary="WaveGAN: one-shot sounds from latents, 1-D transposed convolutions, phase "
                "shuffle in D (Donahue et al. 2019)", trains_on="audio")
