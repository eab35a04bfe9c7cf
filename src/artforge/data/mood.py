"""Mood of a piece measured from its notes, on Russell's (1980) valence-arousal plane.

Valence (pleasant vs unpleasant) follows mode, the strongest cue to happy vs sad in Western music:
``tanh((r_major - r_minor) / mode_scale)``, where ``r_major`` and ``r_minor`` are the correlations
of the best major and the best minor key (Krumhansl-Kessler, ``music_key.key_scores``). A clear
major piece scores about +0.1 to +0.3 on the difference (relative keys share their notes, so the
difference is small), hence ``mode_scale = 0.1``: difference 0.1 -> valence 0.76.
Optionally (``consonance_weight`` > 0 in the reference) the share of consonant simultaneous
intervals moves valence too; it is measured always and reported as ``consonance``.

Arousal (calm vs excited) follows pace: note density in onsets per second, counting time steps on
which at least one note starts (so four voices moving together count once), times tempo:
``density = onset steps per beat * tempo / 60``. Perception of pace is roughly logarithmic, so
``arousal = tanh(log2(density / reference density) / octaves)``: twice the reference density ->
+0.76, half -> -0.76. The default reference is 2 onsets per second (quarter notes at 120 BPM,
eighths at 60), a moderate pace; ``mood_labels`` replaces it by a dataset's median density so the
dataset splits into two equal halves, and returns that reference to judge generated pieces with.

The four quadrants are the moods: joyful (+valence, +arousal), tense (-, +), sombre (-, -),
tender (+, -). A value of exactly 0 counts as positive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .music_key import key_scores
from .pianoroll import RollSpec, roll_notes

MOODS = ("joyful", "tender", "sombre", "tense")
MOOD_SIGNS = {"joyful": (1, 1), "tender": (1, -1), "sombre": (-1, -1), "tense": (-1, 1)}  # (valence, arousal)

DEFAULT_REFERENCE: dict[str, float] = {
    "density": 2.0,  # onsets per second at arousal 0
    "octaves": 1.0,  # doublings of density from the reference that give arousal tanh(1) = 0.76
    "mode_scale": 0.1,  # major-minor correlation difference that gives valence tanh(1) = 0.76
    "consonance": 0.75,  # consonance at which it neither raises nor lowers valence
    "consonance_weight": 0.0,  # share of valence from consonance (0: mode only)
}

# Interval classes (semitones mod 12) heard as consonant: unison/octave, thirds, fourth, fifth, sixths.
CONSONANT = frozenset({0, 3, 4, 5, 7, 8, 9})


def consonance(roll: np.ndarray, spec: RollSpec) -> float:
    """Share of consonant intervals among all pairs of pitches sounding together (over every step,
    all non-drum tracks together); NaN when nothing ever sounds with anything else."""
    a = np.asarray(roll)
    if a.ndim == 3:  # one roll: all melodic tracks sound together
        sounding = (a[~np.array(spec.drums, bool)] > 0).any(axis=0)
    elif a.ndim == 2:
        sounding = a > 0
    else:
        raise ValueError(f"expected one roll (tracks, steps, pitches), got shape {a.shape}")
    good = total = 0
    for d in range(1, sounding.shape[1]):  # pairs a distance d apart, at every step
        pairs = int((sounding[:, :-d] & sounding[:, d:]).sum())
        total += pairs
        good += pairs if d % 12 in CONSONANT else 0
    return good / total if total else float("nan")


def note_density(roll: np.ndarray, spec: RollSpec, tempo: float) -> float:
    """Onsets per second: steps on which some note starts, per beat, times beats per second."""
    a = np.asarray(roll)
    notes = roll_notes(a)
    onset_steps = len(np.unique(notes[:, -2])) if len(notes) else 0
    beats = a.shape[-2] / spec.steps_per_beat
    return onset_steps / beats * tempo / 60.0


def arousal_of(density: float, reference: dict[str, float] | None = None) -> float:
    """Arousal in [-1, 1] of a density (onsets per second), log-scaled around the reference."""
    ref = {**DEFAULT_REFERENCE, **(reference or {})}
    if density <= 0:
        return -1.0
    return float(np.tanh(math.log2(density / ref["density"]) / ref["octaves"]))


def measure_mood(roll: np.ndarray, spec: RollSpec, tempo: float,
                 reference: dict[str, float] | None = None) -> dict[str, Any]:
    """Valence and arousal of one roll played at ``tempo`` quarter-note BPM.

    Returns ``valence`` and ``arousal`` in [-1, 1], ``mode`` ("major"/"minor", None for silence),
    ``tonic`` (pitch class), ``density`` (onsets per second), ``consonance`` and ``tempo``.
    ``reference`` overrides entries of ``DEFAULT_REFERENCE`` (e.g. the one ``mood_labels`` returns).
    """
    ref = {**DEFAULT_REFERENCE, **(reference or {})}
    scores = key_scores(roll, spec)  # (2 modes, 12 tonics)
    if np.isnan(scores).all():
        mode, tonic, valence = None, None, 0.0
    else:
        best_major, best_minor = np.nanmax(scores[0]), np.nanmax(scores[1])
        mode = "major" if best_major >= best_minor else "minor"
        tonic = int(np.nanargmax(scores[0 if mode == "major" else 1]))
        valence = float(np.tanh((best_major - best_minor) / ref["mode_scale"]))
    cons = consonance(roll, spec)
    w = float(ref["consonance_weight"])
    if w > 0 and not math.isnan(cons):
        # 0.1 of consonance share away from the reference ~ a clear step in valence.
        valence = (1 - w) * valence + w * float(np.tanh((cons - ref["consonance"]) / 0.1))
    density = note_density(roll, spec, tempo)
    return dict(valence=valence, arousal=arousal_of(density, ref), mode=mode, tonic=tonic,
                density=density, consonance=cons, tempo=float(tempo))


def quadrant(valence: float, arousal: float) -> str:
    """The mood of a point on the valence-arousal plane (0 counts as positive)."""
    if valence >= 0:
        return "joyful" if arousal >= 0 else "tender"
    return "tense" if arousal >= 0 else "sombre"


def mood_labels(measurements: Sequence[dict[str, Any]]) -> tuple[list[str], dict[str, float]]:
    """Mood labels for a dataset from its own measurements (``measure_mood`` dicts).

    Arousal is recomputed around the dataset's median density, so that the faster and the slower
    half land on opposite sides (both halves populated unless every piece has the same density);
    valence is taken as measured. Returns the labels and the reference used: pass it to
    ``measure_mood`` for generated pieces so they are judged by the same thresholds.
    """
    if not measurements:
        raise ValueError("no measurements to label")
    densities = np.array([m["density"] for m in measurements], float)
    cons = np.array([m.get("consonance", np.nan) for m in measurements], float)
    reference = dict(DEFAULT_REFERENCE)
    positive = densities[densities > 0]
    if len(positive):
        reference["density"] = float(np.median(positive))
    if not np.isnan(cons).all():
        reference["consonance"] = float(np.nanmedian(cons))
    labels = [quadrant(m["valence"], arousal_of(m["density"], reference)) for m in measurements]
    return labels, reference


def _mood_of(m: str | dict[str, Any]) -> str:
    return m if isinstance(m, str) else quadrant(m["valence"], m["arousal"])


def mood_accuracy(requested: Sequence[str], measured: Sequence[dict[str, Any] | str]) -> dict[str, Any]:
    """How often generated pieces land in the mood they were asked for.

    ``measured`` holds ``measure_mood`` dicts (or mood names). Returns ``n``, ``accuracy`` (share
    in the requested quadrant), ``per_mood`` (that share per requested mood, NaN if never
    requested), ``valence_accuracy`` and ``arousal_accuracy`` (share with the right sign on each
    axis), ``moods`` and ``confusion``: 4x4 counts, rows requested, columns measured, in ``MOODS``
    order.
    """
    if len(requested) != len(measured):
        raise ValueError(f"{len(requested)} requested moods vs {len(measured)} measurements")
    unknown = sorted(set(requested) - set(MOODS))
    if unknown:
        raise ValueError(f"unknown moods {unknown}; the moods are {', '.join(MOODS)}")
    got = [_mood_of(m) for m in measured]
    confusion = np.zeros((4, 4), int)
    for want, have in zip(requested, got):
        confusion[MOODS.index(want), MOODS.index(have)] += 1
    n = len(requested)
    nan = float("nan")
    per_mood = {mood: (float(confusion[i, i] / confusion[i].sum()) if confusion[i].sum() else nan)
                for i, mood in enumerate(MOODS)}
    valence_ok = [MOOD_SIGNS[w][0] == MOOD_SIGNS[h][0] for w, h in zip(requested, got)]
    arousal_ok = [MOOD_SIGNS[w][1] == MOOD_SIGNS[h][1] for w, h in zip(requested, got)]
    return dict(
        n=n,
        accuracy=float(np.trace(confusion) / n) if n else nan,
        per_mood=per_mood,
        valence_accuracy=float(np.mean(valence_ok)) if n else nan,
        arousal_accuracy=float(np.mean(arousal_ok)) if n else nan,
        moods=list(MOODS),
        confusion=confusion.tolist(),
    )
