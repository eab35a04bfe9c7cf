"""MuseGAN's objective metrics of symbolic music (Dong et al. 2018, "MuseGAN: Multi-track
sequential generative adversarial networks for symbolic music generation and accompaniment",
section "Objective metrics").

Every function takes a batch of piano rolls ``(N, tracks, steps, pitches)`` (a single roll
``(tracks, steps, pitches)`` works too; see ``artforge.data.pianoroll``) and the ``RollSpec``, and
returns one value per track (NaN where the metric does not apply or nothing was played). A bar is
``spec.steps_per_bar`` steps; the roll's length must be a whole number of bars. The values mean
little alone: compare the model's with the training data's, as MuseGAN's tables do.

* EB, empty bar rate: share of bars in which the track plays nothing.
* UPC, used pitch classes: distinct pitch classes per bar, averaged over the bars that play
  (empty bars left out, so that UPC does not double-count EB). Not for drum tracks.
* QN, qualified note rate: share of notes at least a 32nd note long. MuseGAN's grid had 24 steps
  per beat and called notes of 3+ steps qualified; here the threshold is
  ``ceil(3 * steps_per_beat / 24)`` steps, so on a 16th-note grid (4 steps per beat) every note
  qualifies and QN is 1 by construction: it only tells something on finer grids, or with an
  explicit ``min_steps``. Not for drum tracks (drum hits are short by nature).
* DP, drum pattern: share of a drum track's onsets that fall on the 16th-note grid (MuseGAN's
  "ratio of notes in 8- or 16-beat patterns"; the 8th-note grid is a subset of the 16th-note one,
  so "on either" = "on the 16th grid"). MuseGAN's own code also gave partial credit to onsets one
  tick off; we count exact positions only. On a grid no finer than 16ths every onset is on it,
  so ``music_metrics`` also reports DP8, the share on the 8th-note grid, which still tells a
  steady 8-beat from busier or off-beat patterns there.
* TD, tonal distance: per bar, each track's chroma (pitch classes weighted by sounding steps)
  mapped to Harte et al.'s (2006) 6-D tonal centroid (circle of fifths, minor thirds, major thirds;
  radii 1, 1, 0.5); TD of two tracks is the mean Euclidean distance of their centroids over the
  bars where both play. Low = harmonically close. Drum tracks left out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from artforge.data.pianoroll import RollSpec, roll_notes

METRIC_ORDER = ("EB", "UPC", "QN", "DP", "DP8", "TD")

# Harte, Sandler & Gasser (2006), "Detecting harmonic change in musical audio": the tonal centroid
# projects the 12 pitch classes onto three circles (fifths, minor thirds, major thirds).
_R1, _R2, _R3 = 1.0, 1.0, 0.5
_L = np.arange(12)
TONAL_PHI = np.stack([
    _R1 * np.sin(_L * 7 * np.pi / 6), _R1 * np.cos(_L * 7 * np.pi / 6),
    _R2 * np.sin(_L * 3 * np.pi / 2), _R2 * np.cos(_L * 3 * np.pi / 2),
    _R3 * np.sin(_L * 2 * np.pi / 3), _R3 * np.cos(_L * 2 * np.pi / 3),
], axis=1)  # (12 pitch classes, 6)


def _batch(rolls: np.ndarray, spec: RollSpec) -> np.ndarray:
    """(N, tracks, steps, pitches), checked against the spec."""
    a = np.asarray(rolls)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[1] != len(spec.tracks) or a.shape[3] != spec.pitches:
        raise ValueError(f"expected rolls (N, tracks={len(spec.tracks)}, steps, pitches={spec.pitches}), "
                         f"got {np.shape(rolls)}")
    if a.shape[2] % spec.steps_per_bar:
        raise ValueError(f"{a.shape[2]} steps is not a whole number of {spec.steps_per_bar}-step bars")
    return a


def _bars(a: np.ndarray, spec: RollSpec) -> np.ndarray:
    """(N, T, S, P) -> sounding (N, T, bars, steps_per_bar, P) booleans."""
    n, t, s, p = a.shape
    return (a > 0).reshape(n, t, s // spec.steps_per_bar, spec.steps_per_bar, p)


def _pitch_class_matrix(spec: RollSpec) -> np.ndarray:
    """(pitches, 12) one-hot: roll row -> pitch class."""
    m = np.zeros((spec.pitches, 12))
    m[np.arange(spec.pitches), (spec.lowest + np.arange(spec.pitches)) % 12] = 1
    return m


def _chroma(a: np.ndarray, spec: RollSpec) -> np.ndarray:
    """(N, T, bars, 12): sounding steps per pitch class per bar."""
    return _bars(a, spec).sum(axis=3) @ _pitch_class_matrix(spec)


def empty_bar_rate(rolls: np.ndarray, spec: RollSpec) -> np.ndarray:
    """EB (tracks,): share of bars in which each track plays nothing."""
    playing = _bars(_batch(rolls, spec), spec).any(axis=(3, 4))  # (N, T, bars)
    return 1.0 - playing.mean(axis=(0, 2))


def used_pitch_classes(rolls: np.ndarray, spec: RollSpec) -> np.ndarray:
    """UPC (tracks,): distinct pitch classes per non-empty bar; NaN for drums or a silent track."""
    chroma = _chroma(_batch(rolls, spec), spec)
    used = (chroma > 0).sum(axis=-1)  # (N, T, bars)
    out = np.full(len(spec.tracks), np.nan)
    for t in range(len(spec.tracks)):
        playing = used[:, t] > 0
        if not spec.drums[t] and playing.any():
            out[t] = used[:, t][playing].mean()
    return out


def qualified_min_steps(spec: RollSpec) -> int:
    """Steps of a 32nd note, MuseGAN's shortest "qualified" note (3 steps at 24 per beat), at least 1."""
    return max(1, math.ceil(3 * spec.steps_per_beat / 24))


def qualified_note_rate(rolls: np.ndarray, spec: RollSpec, min_steps: int | None = None) -> np.ndarray:
    """QN (tracks,): share of notes at least ``min_steps`` long (default ``qualified_min_steps``);
    NaN for drums or a track without notes."""
    min_steps = qualified_min_steps(spec) if min_steps is None else int(min_steps)
    notes = roll_notes(_batch(rolls, spec))  # rows: sample, track, pitch, start, end
    out = np.full(len(spec.tracks), np.nan)
    for t in range(len(spec.tracks)):
        mine = notes[notes[:, 1] == t]
        if not spec.drums[t] and len(mine):
            out[t] = np.mean(mine[:, 4] - mine[:, 3] >= min_steps)
    return out


def drum_pattern(rolls: np.ndarray, spec: RollSpec, resolution: int = 16) -> np.ndarray:
    """DP (tracks,): share of a drum track's onsets on the grid of ``resolution`` notes per whole
    note (16: 16th notes, 8: 8th notes); NaN for non-drum tracks or drum tracks without onsets."""
    notes = roll_notes(_batch(rolls, spec))
    whole = 4 * spec.steps_per_beat  # steps per whole note (a beat is a quarter note)
    out = np.full(len(spec.tracks), np.nan)
    for t in range(len(spec.tracks)):
        starts = notes[notes[:, 1] == t, 3]
        if spec.drums[t] and len(starts):
            # Step s lies on the grid when s / whole is a multiple of 1 / resolution.
            out[t] = np.mean((starts * resolution) % whole == 0)
    return out


def tonal_centroids(rolls: np.ndarray, spec: RollSpec) -> np.ndarray:
    """(N, tracks, bars, 6) tonal centroids of each bar's chroma (NaN for empty bars)."""
    chroma = _chroma(_batch(rolls, spec), spec)
    total = chroma.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (chroma / total) @ TONAL_PHI  # L1-normalised chroma, as in Harte et al.


def tonal_distance(rolls: np.ndarray, spec: RollSpec) -> dict[tuple[str, str], float]:
    """TD ``{(track_a, track_b): mean centroid distance}`` for each pair of non-drum tracks, over
    the bars where both play (NaN if there are none)."""
    centroids = tonal_centroids(rolls, spec)
    melodic = [t for t in range(len(spec.tracks)) if not spec.drums[t]]
    out = {}
    for i, a in enumerate(melodic):
        for b in melodic[i + 1:]:
            d = np.linalg.norm(centroids[:, a] - centroids[:, b], axis=-1)  # (N, bars), NaN unless both play
            both = ~np.isnan(d)
            out[(spec.tracks[a], spec.tracks[b])] = float(d[both].mean()) if both.any() else float("nan")
    return out


def music_metrics(rolls: np.ndarray, spec: RollSpec, min_steps: int | None = None) -> dict[str, float]:
    """All metrics as one flat dict, ready for a table or JSON: ``"EB/<track>"``, ``"UPC/<track>"``,
    ``"QN/<track>"`` (non-drum tracks), ``"DP/<track>"``, ``"DP8/<track>"`` (drum tracks) and
    ``"TD/<a>-<b>"``; NaN where nothing was played."""
    out: dict[str, float] = {}
    eb, upc = empty_bar_rate(rolls, spec), used_pitch_classes(rolls, spec)
    qn = qualified_note_rate(rolls, spec, min_steps)
    dp, dp8 = drum_pattern(rolls, spec, 16), drum_pattern(rolls, spec, 8)
    for t, name in enumerate(spec.tracks):
        out[f"EB/{name}"] = float(eb[t])
    for metric, values in (("UPC", upc), ("QN", qn)):
        out.update({f"{metric}/{n}": float(values[t]) for t, n in enumerate(spec.tracks) if not spec.drums[t]})
    for metric, values in (("DP", dp), ("DP8", dp8)):
        out.update({f"{metric}/{n}": float(values[t]) for t, n in enumerate(spec.tracks) if spec.drums[t]})
    out.update({f"TD/{a}-{b}": v for (a, b), v in tonal_distance(rolls, spec).items()})
    return out


def _format(key: str, value: Any) -> str:
    if isinstance(value, (int, float, np.floating, np.integer)):
        if isinstance(value, (float, np.floating)) and math.isnan(value):
            return "n/a"
        return f"{value:.2f}" if key.startswith("UPC") else f"{value:.3f}"
    return str(value)


def metrics_table(rows: dict[str, dict[str, Any]], spec: RollSpec | None = None) -> str:
    """A Markdown table with one row per source (e.g. "training data", "model") and one column per
    metric and track, in the order EB, UPC, QN, DP, DP8, TD (tracks in ``spec`` order)."""
    keys: list[str] = []
    for row in rows.values():
        keys += [k for k in row if k not in keys]
    track_rank = {name: i for i, name in enumerate(spec.tracks)} if spec is not None else {}
    seen = {k: i for i, k in enumerate(keys)}  # ties keep first-seen order

    def rank(key: str) -> tuple:
        metric, _, rest = key.partition("/")
        m = METRIC_ORDER.index(metric) if metric in METRIC_ORDER else len(METRIC_ORDER)
        first = rest.split("-")[0] if metric == "TD" else rest
        return (m, track_rank.get(first, len(track_rank)), seen[key])

    keys = sorted(keys, key=rank)
    lines = ["| source | " + " | ".join(k.replace("/", " ") for k in keys) + " |",
             "|---|" + "---:|" * len(keys)]
    for source, row in rows.items():
        lines.append(f"| {source} | " + " | ".join(_format(k, row.get(k, float("nan"))) for k in keys) + " |")
    return "\n".join(lines)
