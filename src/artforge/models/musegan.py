"""A MuseGAN-style multi-track piano-roll GAN (Dong et al. 2018, "MuseGAN", arXiv:1709.06298).

A piece is ``bars`` bars of ``tracks`` piano rolls: (B, tracks, steps, pitches) in [-1, 1] (a note
sounds where > 0). G follows the paper's *hybrid* model: four latents per piece,

* shared and time-independent (the piece's character, every track and bar),
* shared and time-dependent (the harmony's course: one code per bar from a temporal generator),
* per track and time-independent (each voice's style),
* per track and time-dependent (each voice's course: a temporal generator per track),

so bars follow each other (the temporal generators) and tracks fit each other (the shared codes).
A bar generator, shared by the tracks but told which track it draws (a learned track code), turns
one bar's codes into a (steps per bar, pitches) roll: transposed convolutions over time, then over
pitch with a kernel of an octave (12 semitones). D is bar-level as in the paper's ablations: one
convolutional encoder reads every bar (tracks as channels, pitch convolutions an octave wide), a
temporal convolution over the bars' features judges how they follow each other, and one logit.

Conditioning (moods): G embeds a label beside the codes; D adds a projection term. A label can also
be *soft*, a (B, classes) vector of weights (rows summing to 1): G's embedding is linear, so a soft
label mixes the classes' embeddings. With the four mood quadrants that is a continuous
valence/arousal control (``mood_weights`` in data/mood.py gives the weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .family import Family
from .heads import LogitHead


@dataclass(frozen=True)
class MuseGANConfig:
    resolution: int = 64  # time steps of a piece: bars x steps per bar (what a roll dataset's "resolution" is)
    channels: int = 4  # tracks
    pitches: int = 84
    bars: int = 4
    part_dim: int = 32  # each latent part: shared, shared temporal, and per track a private and a temporal one
    z_dim: int = 0  # the flat z samplers draw: part_dim x (2 + 2 x tracks) (0: that)
    width: int = 32  # base channel count of the bar generator and the bar encoder
    num_classes: int = 0

    def __post_init__(self):
        if not self.z_dim:
            object.__setattr__(self, "z_dim", self.part_dim * (2 + 2 * self.channels))
        if self.z_dim != self.part_dim * (2 + 2 * self.channels):
            raise ValueError(f"z_dim must be part_dim x (2 + 2 x tracks) = {self.part_dim * (2 + 2 * self.channels)}, "
                             f"got {self.z_dim}")
        if self.resolution % self.bars or (self.resolution // self.bars) % 4:
            raise ValueError(f"a piece of {self.resolution} steps in {self.bars} bars needs a multiple of 4 steps per "
                             "bar")
        if self.pitches % 12:
            raise ValueError(f"the pitch range must be whole octaves (a multiple of 12), got {self.pitches}")

    @property
    def steps_per_bar(self) -> int:
        return self.resolution // self.bars


class TemporalGenerator(nn.Module):
    """z (B, d) -> one code per bar (B, bars, d): a transposed convolution over the bars."""

    def __init__(self, z_dim: int, bars: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, z_dim * bars), nn.ReLU())
        self.mix = nn.Conv1d(z_dim, z_dim, 3, padding=1)  # neighbouring bars' codes inform each other
        self.bars = bars

    def forward(self, z: Tensor) -> Tensor:
        h = self.net(z).view(len(z), -1, self.bars)  # (B, d, bars)
        return (h + self.mix(h)).transpose(1, 2)  # (B, bars, d)


class BarGenerator(nn.Module):
    """(N, codes) -> (N, steps per bar, pitches) in [-1, 1]."""

    def __init__(self, cfg: MuseGANConfig, code_dim: int):
        super().__init__()
        w, self.cfg = cfg.width, cfg
        self.base = cfg.steps_per_bar // 4
        self.octaves = cfg.pitches // 12
        self.dense = nn.Linear(code_dim, 4 * w * self.base * self.octaves)
        self.time = nn.Sequential(  # (4w, s/4, octaves) -> (w, s, octaves)
            nn.ConvTranspose2d(4 * w, 2 * w, (4, 1), (2, 1), (1, 0)), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, (4, 1), (2, 1), (1, 0)), nn.BatchNorm2d(w), nn.ReLU())
        self.pitch = nn.ConvTranspose2d(w, 1, (1, 12), (1, 12))  # each octave cell -> its 12 semitones
        self.norm = nn.BatchNorm1d(4 * w * self.base * self.octaves)

    def forward(self, codes: Tensor) -> Tensor:
        h = F.relu(self.norm(self.dense(codes))).reshape(len(codes), -1, self.base, self.octaves)
        return torch.tanh(self.pitch(self.time(h)))[:, 0]  # (N, steps per bar, pitches)


class MuseGenerator(nn.Module):
    def __init__(self, cfg: MuseGANConfig):
        super().__init__()
        self.cfg = cfg
        d, t = cfg.part_dim, cfg.channels
        self.shared_time = TemporalGenerator(d, cfg.bars)
        self.track_time = nn.ModuleList(TemporalGenerator(d, cfg.bars) for _ in range(t))
        self.track_code = nn.Parameter(torch.randn(t, d) * 0.5)  # which voice the shared bar generator draws
        self.embed = nn.Linear(cfg.num_classes, d, bias=False) if cfg.num_classes else None
        code_dim = d * (5 + (1 if cfg.num_classes else 0))
        self.bar = BarGenerator(cfg, code_dim)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        """(B, z_dim) [, labels (B,) or soft labels (B, classes)] -> (B, tracks, steps, pitches)."""
        cfg, d, t, bars = self.cfg, self.cfg.part_dim, self.cfg.channels, self.cfg.bars
        b = len(z)
        shared, shared_t = z[:, :d], z[:, d:2 * d]
        private = z[:, 2 * d:2 * d + t * d].view(b, t, d)
        private_t = z[:, 2 * d + t * d:].view(b, t, d)
        per_bar = self.shared_time(shared_t)  # (B, bars, d)
        track_bars = torch.stack([g(private_t[:, i]) for i, g in enumerate(self.track_time)], dim=1)  # (B, t, bars, d)
        parts = [shared[:, None, None].expand(b, t, bars, d), per_bar[:, None].expand(b, t, bars, d),
                 private[:, :, None].expand(b, t, bars, d), track_bars,
                 self.track_code[None, :, None].expand(b, t, bars, d)]
        if self.embed is not None:
            weights = c if c is not None and c.dim() == 2 else F.one_hot(c, cfg.num_classes)
            parts.append(self.embed(weights.to(z.dtype))[:, None, None].expand(b, t, bars, d))
        codes = torch.cat(parts, dim=3).reshape(b * t * bars, -1)
        out = self.bar(codes).reshape(b, t, bars, cfg.steps_per_bar, cfg.pitches)
        return out.reshape(b, t, cfg.resolution, cfg.pitches)


class MuseDiscriminator(nn.Module):
    def __init__(self, cfg: MuseGANConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.bar_encoder = nn.Sequential(  # (tracks, s, 84) per bar -> (4w,)
            nn.Conv2d(cfg.channels, w, (1, 12), (1, 12)), nn.LeakyReLU(0.2),  # octaves: (w, s, 7)
            nn.Conv2d(w, 2 * w, (1, cfg.pitches // 12)), nn.LeakyReLU(0.2),  # across octaves: (2w, s, 1)
            nn.Conv2d(2 * w, 4 * w, (4, 1), (2, 1), (1, 0)), nn.LeakyReLU(0.2),  # (4w, s/2, 1)
            nn.Conv2d(4 * w, 4 * w, (4, 1), (2, 1), (1, 0)), nn.LeakyReLU(0.2))  # (4w, s/4, 1)
        features = 4 * w * (cfg.steps_per_bar // 4)
        self.temporal = nn.Sequential(nn.Conv1d(features, 4 * w, 3, padding=1), nn.LeakyReLU(0.2))
        self.head = LogitHead(4 * w * cfg.bars, cfg.num_classes)
        # AC-GAN's classifier of the labels (the moods), used when the recipe gives it a weight
        self.aux = nn.Linear(4 * w * cfg.bars, cfg.num_classes) if cfg.num_classes else None

    def features(self, x: Tensor) -> Tensor:
        cfg = self.cfg
        b = len(x)
        bars = x.reshape(b, cfg.channels, cfg.bars, cfg.steps_per_bar, cfg.pitches).transpose(1, 2)
        h = self.bar_encoder(bars.reshape(b * cfg.bars, cfg.channels, cfg.steps_per_bar, cfg.pitches))
        h = h.reshape(b, cfg.bars, -1).transpose(1, 2)  # (B, F, bars)
        return self.temporal(h).flatten(1)  # (B, 4w * bars)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        return self.head(self.features(x), c)

    def classify(self, x: Tensor) -> Tensor:
        """(B, classes) label logits of pieces (the auxiliary classifier, AC-GAN)."""
        if self.aux is None:
            raise ValueError("this discriminator is unconditional: it has no label classifier")
        return self.aux(self.features(x))


def build(cfg: MuseGANConfig) -> dict[str, nn.Module]:
    return {"G": MuseGenerator(cfg), "D": MuseDiscriminator(cfg)}


FAMILY = Family("musegan", MuseGANConfig, build, ema=("G",), sampler="G_ema", inputs=("latent", "label"),
                modality="pianoroll", summary="MuseGAN: multi-track piano rolls, shared and per-track temporal "
                "generators, a bar-level D (Dong et al. 2018)", trains_on="pianoroll",
                classifier=True)
