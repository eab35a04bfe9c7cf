"""Spectrograms of waveforms and back: the STFT on torch.stft, log magnitudes, Griffin-Lim phase recovery.

SpecGAN's layout (Donahue et al. 2019, sec. 3): 16,384 samples, a 256-sample Hann window every 128
samples -> 129 frequency bins x 129 frames; the Nyquist bin and the last frame are dropped, leaving
128 x 128. Longer clips give proportionally more frames (32,768 samples: 128 x 256).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

N_FFT = 256
HOP = 128
LOG_EPS = 1e-6  # log(|X| + eps): silence is a finite floor, about -14


def spectrogram_shape(length: int, n_fft: int = N_FFT, hop: int = HOP) -> tuple[int, int]:
    """(frequency bins, frames) of a ``length``-sample clip, as ``log_magnitude`` returns it."""
    return n_fft // 2, length // hop


def _window(n_fft: int, x: Tensor) -> Tensor:
    return torch.hann_window(n_fft, device=x.device, dtype=torch.float32)


def stft(x: Tensor, n_fft: int = N_FFT, hop: int = HOP) -> Tensor:
    """(B, L) real -> (B, n_fft/2 + 1, L/hop + 1) complex (centred frames, reflect padding)."""
    return torch.stft(x.float(), n_fft, hop, window=_window(n_fft, x), center=True, return_complex=True)


def istft(spec: Tensor, length: int, n_fft: int = N_FFT, hop: int = HOP) -> Tensor:
    return torch.istft(spec, n_fft, hop, window=_window(n_fft, spec), center=True, length=length)


def log_magnitude(x: Tensor, n_fft: int = N_FFT, hop: int = HOP) -> Tensor:
    """(B, L) waveforms -> (B, n_fft/2, L/hop) log magnitudes (Nyquist bin and last frame dropped)."""
    frames = x.shape[-1] // hop
    return torch.log(stft(x, n_fft, hop).abs()[:, :n_fft // 2, :frames] + LOG_EPS)


def full_magnitude(log_mag: Tensor) -> Tensor:
    """(B, F, T) log magnitudes -> (B, F + 1, T + 1) magnitudes for inversion: a silent Nyquist bin,
    the last frame repeated."""
    mag = torch.exp(log_mag.float()) - LOG_EPS
    mag = torch.nn.functional.pad(mag.clamp(min=0), (0, 0, 0, 1))  # Nyquist bin: 0
    return torch.cat([mag, mag[:, :, -1:]], dim=2)


def griffin_lim(magnitude: Tensor, length: int, iters: int = 32, momentum: float = 0.99, n_fft: int = N_FFT,
                hop: int = HOP, generator: torch.Generator | list[torch.Generator] | None = None) -> Tensor:
    """(B, F + 1, T + 1) magnitudes -> (B, length) waveforms whose STFT magnitude is close to them.

    Griffin & Lim (1984) with Perraudin et al.'s (2013) momentum ("fast Griffin-Lim"): alternate
    between the consistent signal of the current phases and the given magnitude. Phases start random
    (seeded by ``generator``, or one generator per item, so an item's sound does not depend on the
    batch it is in): zero phases make every frame's partials start together, a buzz.
    """
    mag = magnitude.float()
    if isinstance(generator, (list, tuple)):
        angles = torch.stack([torch.rand(mag.shape[1:], generator=g) for g in generator]).to(mag.device) * 2 * math.pi
    else:
        angles = torch.rand(mag.shape, generator=generator).to(mag.device) * 2 * math.pi
    phase = torch.polar(torch.ones_like(mag), angles)
    previous = torch.zeros_like(phase)
    for _ in range(iters):
        rebuilt = stft(istft(mag * phase, length, n_fft, hop), n_fft, hop)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        previous = rebuilt
        phase = accelerated / accelerated.abs().clamp(min=1e-16)
    return istft(mag * phase, length, n_fft, hop)


def spectral_convergence(target: Tensor, estimate: Tensor) -> float:
    """||S - S'||_F / ||S||_F of two magnitude spectrograms: 0 when equal."""
    return float(torch.linalg.vector_norm(target - estimate) / torch.linalg.vector_norm(target).clamp(min=1e-12))
