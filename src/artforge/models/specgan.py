"""SpecGAN (Donahue, McAuley & Puckette 2019, arXiv:1802.04208, sec. 4): a DCGAN on spectrograms.

Sounds become 128 x 128 log-magnitude spectrograms (ops/spectral.py), normalized per frequency bin
by the training data's mean and standard deviation, clipped at 3 standard deviations and scaled to
[-1, 1] (the paper's recipe); G makes such spectrograms and D judges them. Those statistics are
buffers of G (``fit_data`` computes them at the start of a run), so a checkpoint carries them and
``to_wave`` turns what G makes back into sound: un-normalize, exponentiate, Griffin-Lim phases.

G: z (+ a label embedding) -> dense -> 4 x 4k x 16d -> five 5x5 transposed convolutions with stride
2 (ReLU, tanh at the end) -> 128 x 128k, where k = frames / 128 (1 for 16,384 samples). D mirrors
it with strided 5x5 convolutions and leaky ReLUs (no normalization: WGAN-GP); conditional models
add a projection term.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..ops.spectral import full_magnitude, griffin_lim, log_magnitude, spectrogram_shape
from .family import Family
from .heads import LogitHead
from .wavegan import LENGTHS

LAYERS = 5
CLIP = 3.0  # standard deviations kept of the normalized log magnitudes


@dataclass(frozen=True)
class SpecGANConfig:
    resolution: int = 16384  # samples per clip
    channels: int = 1
    sample_rate: int = 16000  # the training sounds' rate
    z_dim: int = 100
    width: int = 16  # SpecGAN's d (64 in the paper)
    num_classes: int = 0
    griffin_lim_iters: int = 32  # phase recovery when turning spectrograms into sound

    def __post_init__(self):
        if self.resolution not in LENGTHS:
            raise ValueError(f"SpecGAN makes clips of {', '.join(map(str, LENGTHS))} samples, got {self.resolution}")
        if self.channels != 1:
            raise ValueError(f"SpecGAN makes mono sounds, got {self.channels} channels")

    @property
    def spec_shape(self) -> tuple[int, int]:
        return spectrogram_shape(self.resolution)  # (128, 128 * k)

    @property
    def base(self) -> tuple[int, int]:
        bins, frames = self.spec_shape
        return bins // 2 ** LAYERS, frames // 2 ** LAYERS

    def width_at(self, layer: int) -> int:
        return self.width * 2 ** (LAYERS - 1 - layer)


class SpecGenerator(nn.Module):
    def __init__(self, cfg: SpecGANConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.num_classes, cfg.z_dim) if cfg.num_classes else None
        in_dim = cfg.z_dim * (2 if cfg.num_classes else 1)
        self.dense = nn.Linear(in_dim, cfg.width_at(0) * cfg.base[0] * cfg.base[1])
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(cfg.width_at(i), cfg.width_at(i + 1) if i < LAYERS - 1 else 1, 5, 2, padding=2,
                               output_padding=1) for i in range(LAYERS))
        bins = cfg.spec_shape[0]
        # The training data's per-bin log-magnitude statistics (fit_data): normalization in both directions.
        self.register_buffer("bin_mean", torch.zeros(bins))
        self.register_buffer("bin_std", torch.ones(bins))

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        """(B, z_dim) [, (B,) labels] -> (B, 1, 128, 128k) normalized log magnitudes in [-1, 1]."""
        if self.embed is not None:
            z = torch.cat([z, self.embed(c)], dim=1)
        x = F.relu(self.dense(z).view(len(z), self.cfg.width_at(0), *self.cfg.base))
        for i, up in enumerate(self.ups):
            x = up(x)  # (B, C/2, 2H, 2W)
            x = torch.tanh(x) if i == LAYERS - 1 else F.relu(x)
        return x

    @torch.no_grad()
    def fit_data(self, waves: Tensor) -> None:
        """Per-bin mean and std of the log magnitudes of real (B, 1, L) waveforms."""
        logs = log_magnitude(waves.float().flatten(1))  # (B, F, T)
        self.bin_mean.copy_(logs.mean(dim=(0, 2)))
        self.bin_std.copy_(logs.std(dim=(0, 2)).clamp(min=1e-3))

    def encode_real(self, waves: Tensor) -> Tensor:
        """(B, 1, L) waveforms -> (B, 1, F, T) spectrograms as G makes them."""
        logs = log_magnitude(waves.float().flatten(1))
        z = (logs - self.bin_mean[:, None]) / self.bin_std[:, None]
        return (z.clamp(-CLIP, CLIP) / CLIP)[:, None].to(waves.dtype)

    @torch.no_grad()
    def to_wave(self, spec: Tensor, generator: torch.Generator | list[torch.Generator] | None = None) -> Tensor:
        """(B, 1, F, T) spectrograms -> (B, 1, L) waveforms by Griffin-Lim, peak-normalized to 0.95; a list
        of generators seeds each item's phases on its own."""
        logs = spec.float()[:, 0] * CLIP * self.bin_std[:, None] + self.bin_mean[:, None]
        wave = griffin_lim(full_magnitude(logs), self.cfg.resolution, self.cfg.griffin_lim_iters, generator=generator)
        peak = wave.abs().amax(dim=1, keepdim=True).clamp(min=1e-6)
        return (wave / peak * 0.95)[:, None]


class SpecDiscriminator(nn.Module):
    def __init__(self, cfg: SpecGANConfig):
        super().__init__()
        widths = [1] + [cfg.width_at(LAYERS - 1 - i) for i in range(LAYERS)]  # 1, d, ..., 16d
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 5, 2, padding=2) for a, b in zip(widths[:-1], widths[1:]))
        features = widths[-1] * cfg.base[0] * cfg.base[1]
        self.head = LogitHead(features, cfg.num_classes)

    def features(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)  # (B, 2C, H/2, W/2)
        return x.flatten(1)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        return self.head(self.features(x), c)


def build(cfg: SpecGANConfig) -> dict[str, nn.Module]:
    return {"G": SpecGenerator(cfg), "D": SpecDiscriminator(cfg)}


FAMILY = Family("specgan", SpecGANConfig, build, ema=("G",), sampler="G_ema", inputs=("latent", "label"),
                modality="spectrogram", summary="SpecGAN: one-shot sounds as spectrograms, a DCGAN with Griffin-Lim "
                "inversion (Donahue et al. 2019)", trains_on="audio", spectral=True)
