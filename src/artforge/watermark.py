"""An invisible, zero-bit watermark: "made by artforge", present or absent.

How it works (numbers are the module constants below):

* **The mark.** A keyed pseudo-random pattern on a canonical ``CANON`` x ``CANON`` frame, band-limited
  to ``BAND`` cycles per image (low-mid frequencies: they survive halving and JPEG), is stretched
  over the whole image, whatever its size or aspect, and added to the luminance (the same amount to
  R, G and B). The pattern lives in image-relative coordinates, so any resize keeps it aligned.
* **The detector** estimates the mark as the image minus an edge-preserving (bilateral) smoothing
  of itself: the smoothing keeps the picture's flat areas and edges, so the residual is mostly the
  mark plus texture, and the art itself barely interferes. It then correlates the residual with the
  pattern over every crop it allows (the visible part covering ``CROP_FRACTIONS`` of each axis, at
  every offset, to half a canonical pixel), normalised so that for an unmarked image each position's
  score is a standard normal variable. The largest score is compared with ``THRESHOLD``, calibrated
  by benchmarks/watermark_calibration.py on real pictures artforge never made nor trained on: on
  its held-out half, 3 false positives in 19,453 checks (0.015%, 95% upper bound 0.040%; see
  docs/provenance.md).
* **Strength** is informed: ``embed`` marks with ``STRENGTH``, measures the score that the hardest
  expected attack (half size, then JPEG quality 75) would leave, and rescales the mark once to
  reach ``TARGET`` within [``MIN_STRENGTH``, ``MAX_STRENGTH``]: busy images that hide the mark
  poorly get more, easy ones less; an image under ``SMALL`` pixels where even the most would not do
  (half of 32 px is 16) gets ``FALLBACK_STRENGTH``, enough for each attack alone. Everything is
  deterministic: the same image in gives the same marked image out (the embedder's JPEG trial uses
  Pillow's encoder).

The key (``KEY``) is public and fixed: anyone can detect the mark, and anyone who reads this file can
also estimate and subtract it. It marks outputs as generated for honest pipelines; it is not proof
against a determined remover, and its absence proves nothing (see docs/provenance.md).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
from PIL import Image

from .options.shared import WATERMARK_THRESHOLD

KEY = "artforge-watermark-v1"  # the project key: the pattern is drawn from its hash
CANON = 64  # the canonical frame the pattern is drawn on, stretched over the image
BAND = (2.0, 8.0)  # cycles per image: low enough to survive half size + JPEG 75, high enough to miss shading
CROP_FRACTIONS = tuple(np.round(np.arange(1.0, 0.849, -0.025), 3))  # share of each axis a crop may keep
WORK_SIZE = 70  # the detector works on the image resized to about this many pixels (a bit over CANON)
BILATERAL = (3.5, 5.0)  # spatial sigma (working pixels), range sigma (grey levels) of the smoothing
THRESHOLD = WATERMARK_THRESHOLD  # score above which an image is called watermarked (verify --threshold)
STRENGTH, MIN_STRENGTH, MAX_STRENGTH = 2.5, 1.2, 5.0  # RMS of the mark in grey levels
FALLBACK_STRENGTH, SMALL = 3.0, 48  # for images under SMALL px that even MAX_STRENGTH would not get through
# half size + JPEG 75
TARGET = 7.0  # the score embed aims for after half size + JPEG 75
_UPSAMPLE = 2  # correlation positions every 1/2 canonical pixel


# ----------------------------------------------------------------------------- the pattern

@lru_cache(maxsize=4)
def _pattern(key: str = KEY) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pattern (CANON, CANON) of unit RMS, its FFT, its power spectrum S) of ``key``."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    white = np.random.default_rng(seed).standard_normal((CANON, CANON))
    shape = _band_shape(CANON)
    pattern = np.real(np.fft.ifft2(np.fft.fft2(white) * shape))
    pattern /= pattern.std()
    return pattern, np.fft.fft2(pattern), shape ** 2


def _band_shape(n: int) -> np.ndarray:
    """A soft band-pass over ``BAND`` (cycles per frame) on an n x n FFT grid."""
    f = np.fft.fftfreq(n) * n
    r = np.hypot(f[:, None], f[None, :])
    lo, hi = BAND
    return 1 / (1 + np.exp(-(r - lo) / 0.5)) / (1 + np.exp((r - hi) / 1.5))


@lru_cache(maxsize=16)
def _pattern_at(height: int, width: int) -> np.ndarray:
    """The pattern stretched over an image of this size."""
    pattern = _pattern()[0]
    if (height, width) == pattern.shape:
        return pattern
    return _resize(pattern, width, height)


# ----------------------------------------------------------------------------- helpers

def _as_array(image) -> np.ndarray:
    """uint8 (H, W, C) from an array (H, W), (H, W, C) or a PIL image (any mode)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("L" if image.mode in ("1", "L", "I", "I;16", "F") else "RGB"))
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image (H, W, 1|3|4), got {array.dtype} {array.shape}")
    return array


def _luma(array: np.ndarray) -> np.ndarray:
    if array.shape[2] == 1:
        return array[:, :, 0].astype(np.float64)
    return array[:, :, :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """A float array resized (antialiased when shrinking, as Pillow does)."""
    method = Image.LANCZOS if width < a.shape[1] or height < a.shape[0] else Image.BICUBIC
    return np.asarray(Image.fromarray(a.astype(np.float32), "F").resize((width, height), method), dtype=np.float64)


def _bilateral(y: np.ndarray) -> np.ndarray:
    """Edge-preserving smoothing: neighbours weighted by distance and by how close their value is."""
    sigma_s, sigma_r = BILATERAL
    r = int(np.ceil(2 * sigma_s))
    pad = np.pad(y, r, mode="reflect")
    h, w = y.shape
    num, den = np.zeros_like(y), np.zeros_like(y)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx > r * r:
                continue
            other = pad[r + dy:r + dy + h, r + dx:r + dx + w]
            weight = np.exp(-(dy * dy + dx * dx) / (2 * sigma_s ** 2) - (other - y) ** 2 / (2 * sigma_r ** 2))
            num += weight * other
            den += weight
    return num / den


def _residual(array: np.ndarray) -> np.ndarray:
    """The mark's estimate: luminance at working size minus its bilateral smoothing."""
    y = _luma(array)
    h, w = y.shape
    scale = WORK_SIZE / max(h, w)
    y = _resize(y, max(8, round(w * scale)), max(8, round(h * scale)))
    return y - _bilateral(y)


# ----------------------------------------------------------------------------- detect

def _score_at(residual: np.ndarray, fy: float, fx: float, centre_only: bool = False) -> float:
    """The best score of a crop keeping fractions (fy, fx) of the frame, over its possible offsets."""
    _, pattern_fft, power = _pattern()
    hh, ww = max(8, round(fy * CANON)), max(8, round(fx * CANON))
    z = _resize(residual, ww, hh)
    frame = np.zeros((CANON, CANON))
    frame[:hh, :ww] = z - z.mean()
    zf = np.fft.fft2(frame)
    variance = np.sum(np.abs(zf) ** 2 * power) / power.sum()  # of sum(z * pattern) over keys: N(0, variance)
    if variance <= 1e-12:  # a flat image: nothing to correlate
        return 0.0
    if centre_only:  # the uncropped frame, offset 0: what embed checks
        return float(np.sum(frame * _pattern()[0]) / np.sqrt(variance))
    cross = np.conj(zf) * pattern_fft  # corr(o) = sum_x z(x) pattern(x + o)
    n, k = CANON * _UPSAMPLE, CANON // 2
    big = np.zeros((n, n), complex)  # zero-padded spectrum: the correlation at half-pixel offsets
    big[:k, :k], big[:k, -k:], big[-k:, :k], big[-k:, -k:] = cross[:k, :k], cross[:k, -k:], cross[-k:, :k], cross[-k:, -k:]
    corr = np.real(np.fft.ifft2(big)) * _UPSAMPLE ** 2
    rows = np.arange(-_UPSAMPLE, int(np.ceil((CANON - hh + 1) * _UPSAMPLE)) + 1) % n
    cols = np.arange(-_UPSAMPLE, int(np.ceil((CANON - ww + 1) * _UPSAMPLE)) + 1) % n
    return float(corr[np.ix_(rows, cols)].max() / np.sqrt(variance))


def score(image) -> float:
    """The detection score of ``image`` (array or PIL): the largest normalised correlation over crops."""
    residual = _residual(_as_array(image))
    return max(_score_at(residual, fy, fx) for fy in CROP_FRACTIONS for fx in CROP_FRACTIONS)


def detect(image, threshold: float = THRESHOLD) -> tuple[bool, float]:
    """(watermarked?, score) of ``image``: a uint8 (H, W, C) array or a PIL image."""
    s = score(image)
    return s > threshold, s


# ----------------------------------------------------------------------------- embed

def _add(array: np.ndarray, strength: float) -> np.ndarray:
    """``array`` with the pattern at RMS ``strength`` added to each colour channel (not alpha)."""
    h, w = array.shape[:2]
    delta = strength * _pattern_at(h, w)
    out = array.astype(np.float64)
    colours = min(array.shape[2], 3)
    out[:, :, :colours] += delta[:, :, None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _half_jpeg(array: np.ndarray) -> np.ndarray:
    """The hardest attack embed plans for: half size (Lanczos), then JPEG quality 75."""
    im = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array[:, :, :3])
    from .utils.images import jpeg_roundtrip  # only embed needs it; verify stays light

    im = im.resize((max(1, im.width // 2), max(1, im.height // 2)), Image.LANCZOS)
    return _as_array(jpeg_roundtrip(im, 75))


def _planned_score(marked: np.ndarray) -> float:
    return _score_at(_residual(_half_jpeg(marked)), 1.0, 1.0, centre_only=True)


def embed(image, strength: float | None = None) -> np.ndarray:
    """``image`` (uint8 (H, W, C) or PIL) marked; same shape. Deterministic.

    ``strength`` (RMS grey levels) fixes the mark's strength; by default it is chosen per image so
    the mark survives half size + JPEG 75 (``TARGET``) within [MIN_STRENGTH, MAX_STRENGTH].
    """
    array = _as_array(image)
    if strength is not None:
        return _add(array, strength)
    marked = _add(array, STRENGTH)
    planned = _planned_score(marked)  # about proportional to the strength
    wanted = STRENGTH * TARGET / max(planned, 0.1)
    if min(array.shape[:2]) < SMALL and planned * MAX_STRENGTH / STRENGTH < THRESHOLD + 0.5:
        # half size + JPEG is out of reach for a tiny image (half of 32 px is 16): stay invisible,
        # and strong enough for each attack alone
        wanted = FALLBACK_STRENGTH
    wanted = float(np.clip(wanted, MIN_STRENGTH, MAX_STRENGTH))
    return marked if abs(wanted - STRENGTH) < 0.05 else _add(array, wanted)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (inf when identical)."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255 ** 2 / mse))
