"""One-shot sounds: reading, resampling and conditioning a clip into a training item, and WAV bytes.

A clip becomes an item by fixed steps, each a small pure function of a float32 mono signal:
decode (``soundfile``: WAV, FLAC, OGG/Vorbis, AIFF, ...; channels averaged to mono), resample with
a polyphase filter (``scipy.signal.resample_poly``: a windowed-sinc low-pass, no aliasing), align
the onset to t = 0 (the first sample whose short-time energy reaches a share of the clip's peak
energy, backed off a little so the attack is kept), trim trailing silence, pad with zeros or crop
to the item length (16,384 samples by default: about 1 s at 16 kHz, WaveGAN's), then
peak-normalize. Items are stored as 16-bit PCM WAVs, so a prepared dataset is a zip of playable
files.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

AUDIO_EXTENSIONS = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".aifc"})
SAMPLE_RATES = (16000, 22050, 44100)
LENGTHS = (16384, 32768, 65536)  # WaveGAN's 16,384 samples and two longer options (x2, x4)
SILENCE_DB = -60.0  # a clip whose peak is below this (dBFS) is silent
ONSET_SHARE = 0.05  # the onset: the first frame whose RMS reaches this share of the loudest frame's
ONSET_FRAME = 64  # samples per frame of the onset and silence detectors (4 ms at 16 kHz)
PEAK = 0.95  # the peak after normalization: headroom for 16-bit rounding


class AudioReject(Exception):
    """A clip that cannot become an item; the message is the one-line reason for the rejects report."""


@dataclass(frozen=True)
class AudioOptions:
    sample_rate: int = 16000
    length: int = 16384
    min_seconds: float = 0.02  # shorter clips (after trimming silence) are rejected
    max_seconds: float = 600.0  # longer files are rejected before decoding all of them (a 10-minute limit)


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Audio file bytes -> (float32 mono samples, sample rate); AudioReject when unreadable."""
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            rate, frames = f.samplerate, f.frames
            if frames > 600 * rate * 4:  # guard before reading: an hour-long file is not a one-shot
                raise AudioReject(f"too long ({frames / rate:.0f} s)")
            x = f.read(dtype="float32", always_2d=True)
    except AudioReject:
        raise
    except (RuntimeError, ValueError, TypeError, EOFError) as exc:  # soundfile's LibsndfileError is a RuntimeError
        raise AudioReject(f"not a readable audio file ({str(exc).splitlines()[0][:120]})") from None
    if x.size == 0:
        raise AudioReject("empty (no samples)")
    if not np.all(np.isfinite(x)):
        raise AudioReject("corrupt (samples that are not finite numbers)")
    return x.mean(axis=1), int(rate)


def resample(x: np.ndarray, rate_from: int, rate_to: int) -> np.ndarray:
    """Polyphase resampling by the exact ratio rate_to / rate_from (windowed-sinc anti-aliasing)."""
    if rate_from == rate_to:
        return x.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    ratio = Fraction(rate_to, rate_from)
    return resample_poly(x, ratio.numerator, ratio.denominator).astype(np.float32)


def frame_rms(x: np.ndarray, frame: int = ONSET_FRAME) -> np.ndarray:
    """RMS of consecutive frames of ``frame`` samples (the last one zero-padded)."""
    n = math.ceil(len(x) / frame)
    padded = np.zeros(n * frame, dtype=np.float64)
    padded[:len(x)] = x
    return np.sqrt(np.mean(padded.reshape(n, frame) ** 2, axis=1))


def onset_sample(x: np.ndarray, share: float = ONSET_SHARE, frame: int = ONSET_FRAME) -> int:
    """The first sample of the first frame whose RMS reaches ``share`` of the loudest frame's, less one
    frame of lead-in (an attack starts a little before it is loud)."""
    rms = frame_rms(x, frame)
    first = int(np.argmax(rms >= share * rms.max()))
    return max(0, (first - 1) * frame)


def sound_end(x: np.ndarray, threshold_db: float = SILENCE_DB, frame: int = ONSET_FRAME) -> int:
    """One past the last sample of the last frame louder than ``threshold_db`` below the clip's peak."""
    rms = frame_rms(x, frame)
    loud = np.nonzero(rms > rms.max() * 10 ** (threshold_db / 20))[0]
    return min(len(x), (int(loud[-1]) + 1) * frame) if len(loud) else 0


def fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """Crop to ``length`` samples, or pad the end with zeros; a short fade-out where a clip is cut."""
    if len(x) >= length:
        out = x[:length].copy()
        fade = min(length // 16, 256)  # ~16 ms at 16 kHz: no click at the cut
        out[length - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return out
    out = np.zeros(length, dtype=np.float32)
    out[:len(x)] = x
    return out


def condition(x: np.ndarray, rate: int, opts: AudioOptions) -> np.ndarray:
    """A decoded clip -> a training item: float32 (length,), onset at 0, peak ``PEAK``; AudioReject if unusable."""
    if len(x) > opts.max_seconds * rate:
        raise AudioReject(f"too long ({len(x) / rate:.0f} s; one-shots up to {opts.max_seconds:.0f} s)")
    peak = float(np.abs(x).max())
    if peak <= 10 ** (SILENCE_DB / 20):
        raise AudioReject(f"silent (peak {20 * math.log10(max(peak, 1e-12)):.0f} dBFS)")
    x = resample(x, rate, opts.sample_rate)
    x = x[onset_sample(x):]
    x = x[:sound_end(x)]
    if len(x) < opts.min_seconds * opts.sample_rate:
        raise AudioReject(f"too short ({len(x) / opts.sample_rate * 1000:.0f} ms of sound)")
    x = fit_length(x, opts.length)
    return (x * (PEAK / max(float(np.abs(x).max()), 1e-12))).astype(np.float32)


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def wav_bytes(x: np.ndarray, rate: int) -> bytes:
    """float samples in [-1, 1] (or int16) -> a 16-bit PCM mono WAV file's bytes."""
    import soundfile as sf

    pcm = x if x.dtype == np.int16 else to_pcm16(np.asarray(x, dtype=np.float32))
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def read_pcm16(data: bytes) -> tuple[np.ndarray, int]:
    """A stored item's WAV bytes -> (int16 samples, sample rate)."""
    import soundfile as sf

    pcm, rate = sf.read(io.BytesIO(data), dtype="int16", always_2d=False)
    return pcm, int(rate)


def write_wav(path, x: np.ndarray, rate: int) -> None:
    """Write float samples as a 16-bit WAV atomically."""
    from ..utils.files import atomic_write_bytes

    atomic_write_bytes(path, wav_bytes(x, rate))
