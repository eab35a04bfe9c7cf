"""The key of a roll, a batch of rolls or a score, by the Krumhansl-Kessler method."""

from __future__ import annotations

from typing import Any

import numpy as np

from .pianoroll import RollSpec

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first (C major / C minor).
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def pitch_class_histogram(x: Any, spec: RollSpec | None = None) -> np.ndarray:
    """Duration-weighted pitch-class histogram (12,) of a roll, a batch of rolls, or a music21 score.

    For rolls: sounding steps per pitch class (drum tracks of ``spec`` left out; without a spec the
    rows start at MIDI 24, a C). For scores: quarter notes per pitch class. A (12,) array is
    returned as it is.
    """
    if hasattr(x, "flatten") and hasattr(x, "recurse"):  # a music21 stream
        hist = np.zeros(12)
        for el in x.stripTies().flatten().notes:
            for p in getattr(el, "pitches", ()):
                hist[int(round(p.ps)) % 12] += float(el.quarterLength)
        return hist
    a = np.asarray(x)
    if a.shape == (12,):
        return a.astype(float)
    if a.ndim < 2:
        raise ValueError(f"expected a roll (..., steps, pitches), a score or a (12,) histogram, got {a.shape}")
    if spec is not None and a.ndim >= 3:
        a = a[..., ~np.array(spec.drums, bool), :, :]
    lowest = spec.lowest if spec is not None else 24
    per_row = (a > 0).reshape(-1, a.shape[-1]).sum(axis=0).astype(float)
    hist = np.zeros(12)
    np.add.at(hist, (lowest + np.arange(a.shape[-1])) % 12, per_row)
    return hist


def key_scores(x: Any, spec: RollSpec | None = None) -> np.ndarray:
    """Correlations (2, 12) of the pitch-class histogram with the Krumhansl-Kessler major (row 0)
    and minor (row 1) profiles rotated to each tonic. NaN for silence."""
    hist = pitch_class_histogram(x, spec)
    out = np.full((2, 12), np.nan)
    if hist.std() == 0:  # silence, or all 12 classes equally: no key
        return out
    for m, profile in enumerate((KK_MAJOR, KK_MINOR)):
        for tonic in range(12):
            out[m, tonic] = np.corrcoef(hist, np.roll(profile, tonic))[0, 1]
    return out


def detect_key(x: Any, spec: RollSpec | None = None) -> tuple[int, str, float]:
    """Key by the Krumhansl-Kessler method: ``(tonic pitch class 0-11, "major"|"minor", r)``.

    ``x`` is a roll, a batch of rolls (generated ones too), a music21 score or a (12,) histogram;
    ``r`` is the correlation of the best key (NaN for silence, with C major returned).
    """
    scores = key_scores(x, spec)
    if np.isnan(scores).all():
        return 0, "major", float("nan")
    mode, tonic = np.unravel_index(np.nanargmax(scores), scores.shape)
    return int(tonic), ("major", "minor")[mode], float(scores[mode, tonic])


def key_name(tonic: int, mode: str) -> str:
    """``(9, "minor")`` -> ``"A minor"``."""
    return f"{PITCH_NAMES[tonic % 12]} {mode}"
