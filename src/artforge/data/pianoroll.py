"""Piano rolls: the symbolic-music format the music GANs train on (MuseGAN-style).

A roll is a numpy ``uint8`` array of shape ``(tracks, steps, pitches)`` (``RollSpec.shape``):

* ``0`` silent, ``1`` a note held, ``2`` a note's first step (its onset). Marking onsets keeps
  repeated notes of one pitch apart (two crotchets C C are not one minim C).
* The time axis is a grid of ``steps_per_beat`` steps per beat, a beat being a quarter note
  (4 = a 16th-note grid), ``beats_per_bar`` beats per bar and ``bars`` bars per roll.
* Row 0 of the pitch axis is MIDI pitch ``lowest``; notes outside the range are folded by octaves.
* Readers also take binary rolls (0/1, e.g. a thresholded generator output, or any array where
  ``> 0`` means sounding): a note then starts wherever a pitch turns on.

Beside this module: MIDI files and scores in and out of rolls (``music_files.py``), the built-in
corpora (``music_corpora.py``) and the key of a roll or score (``music_key.py``). Pillow is imported
inside ``render_roll_png``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # for the type hints only
    from PIL import Image

SILENT, HELD, ONSET = 0, 1, 2


@dataclass(frozen=True)
class RollSpec:
    """The shape and meaning of a roll: track names, bars, time grid and pitch range."""

    tracks: tuple[str, ...]
    bars: int = 4
    beats_per_bar: int = 4
    steps_per_beat: int = 4
    lowest: int = 24
    pitches: int = 84
    drums: tuple[bool, ...] | None = None

    def __post_init__(self):
        # Normalise lists (from JSON) to tuples so specs compare and hash equal.
        object.__setattr__(self, "tracks", tuple(str(t) for t in self.tracks))
        drums = (False,) * len(self.tracks) if self.drums is None else tuple(bool(d) for d in self.drums)
        object.__setattr__(self, "drums", drums)
        if not self.tracks:
            raise ValueError("a RollSpec needs at least one track")
        if len(drums) != len(self.tracks):
            raise ValueError(f"{len(drums)} drum flags for {len(self.tracks)} tracks")
        if min(self.bars, self.beats_per_bar, self.steps_per_beat) < 1:
            raise ValueError("bars, beats_per_bar and steps_per_beat must be positive")
        # Folding out-of-range notes by octaves needs at least one full octave of rows.
        if self.pitches < 12 or self.lowest < 0 or self.lowest + self.pitches > 128:
            raise ValueError(f"pitch rows {self.lowest}..{self.lowest + self.pitches - 1} must span "
                             f"at least an octave within MIDI 0..127")

    @property
    def steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat

    @property
    def steps(self) -> int:
        return self.bars * self.steps_per_bar

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.tracks), self.steps, self.pitches)

    @property
    def highest(self) -> int:
        """MIDI pitch of the top row."""
        return self.lowest + self.pitches - 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tracks"], d["drums"] = list(self.tracks), list(self.drums)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RollSpec:
        known = {"tracks", "bars", "beats_per_bar", "steps_per_beat", "lowest", "pitches", "drums"}
        return cls(**{k: v for k, v in d.items() if k in known})


# ---------------------------------------------------------------------------------------------
# Notes in and out of rolls


def fold_pitch(pitch: int, spec: RollSpec) -> int:
    """Move ``pitch`` by whole octaves into the spec's range (keeps the pitch class)."""
    if pitch < spec.lowest:
        pitch += 12 * math.ceil((spec.lowest - pitch) / 12)
    elif pitch > spec.highest:
        pitch -= 12 * math.ceil((pitch - spec.highest) / 12)
    return pitch


def blank_roll(spec: RollSpec, steps: int) -> np.ndarray:
    return np.zeros((len(spec.tracks), steps, spec.pitches), np.uint8)


def put_note(roll: np.ndarray, track: int, pitch_row: int, start: int, end: int) -> None:
    """Write one note; existing onsets survive (a held note never hides a new note's start)."""
    end = max(end, start + 1)  # notes shorter than a step still sound for one step
    roll[track, start, pitch_row] = ONSET
    held = roll[track, start + 1:end, pitch_row]
    np.maximum(held, HELD, out=held)


def segments(roll: np.ndarray, spec: RollSpec) -> list[np.ndarray]:
    """Cut a long roll into consecutive ``spec.steps`` segments (the last one padded with silence),
    dropping the silent ones."""
    n = max(1, math.ceil(roll.shape[1] / spec.steps))
    padded = blank_roll(spec, n * spec.steps)
    padded[:, :roll.shape[1]] = roll
    out = []
    for i in range(n):
        seg = padded[:, i * spec.steps:(i + 1) * spec.steps]
        if seg.any():
            out.append(np.ascontiguousarray(seg))
    return out


def roll_notes(roll: np.ndarray) -> np.ndarray:
    """Every note of a roll (or a batch of rolls) as rows ``(*lead, pitch_row, start, end)``.

    ``roll`` has shape ``(..., steps, pitches)``; a row holds the leading indices (e.g. track, or
    sample and track), the pitch row, the start step and the end step (exclusive). A note starts at
    a ``2`` or where a pitch turns on, and ends where the pitch turns off or the next onset comes.
    Rows are sorted by leading indices, then pitch, then start.
    """
    a = np.asarray(roll)
    if a.ndim < 2:
        raise ValueError(f"expected a (..., steps, pitches) roll, got shape {a.shape}")
    cols = np.moveaxis(a, -1, -2)  # (..., pitches, steps): each row one pitch over time
    lead, steps = cols.shape[:-1], cols.shape[-1]
    cols = cols.reshape(-1, steps)
    sounding = cols > 0
    before = np.zeros_like(sounding)
    before[:, 1:] = sounding[:, :-1]
    onset = sounding & ((cols >= ONSET) | ~before)
    # A note runs until the first later step that is silent or another onset. A padding column that
    # counts as such a boundary keeps every search inside its own row.
    width = steps + 1
    boundary = np.concatenate([onset | ~sounding, np.ones((len(cols), 1), bool)], axis=1).ravel()
    starts = np.flatnonzero(np.concatenate([onset, np.zeros((len(cols), 1), bool)], axis=1))
    bounds = np.flatnonzero(boundary)
    ends = bounds[np.searchsorted(bounds, starts, side="right")]
    if len(starts) == 0:
        return np.zeros((0, len(lead) + 2), np.int64)
    row, start = np.divmod(starts, width)
    end = ends - row * width
    return np.stack([*np.unravel_index(row, lead), start, end], axis=1).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Transposition


def _drum_mask(roll: np.ndarray, spec: RollSpec | None) -> np.ndarray:
    tracks = roll.shape[-3]
    if spec is None:
        return np.zeros(tracks, bool)
    if len(spec.drums) != tracks:
        raise ValueError(f"roll has {tracks} tracks, the spec {len(spec.drums)}")
    return np.array(spec.drums, bool)


def transpose(roll: np.ndarray, semitones: int, spec: RollSpec | None = None) -> np.ndarray:
    """Shift a roll (or a batch, ``(..., tracks, steps, pitches)``) up by ``semitones`` rows.

    Rows shifted past either end are lost and the vacated rows are silent; drum tracks (from
    ``spec``) are left as they are, since their rows are instruments, not pitches.
    """
    roll = np.asarray(roll)
    out = np.zeros_like(roll)
    s, n = int(semitones), roll.shape[-1]
    if s >= 0:
        out[..., s:] = roll[..., :n - s] if s < n else 0
    else:
        out[..., :n + s] = roll[..., -s:] if -s < n else 0
    drums = _drum_mask(roll, spec)
    out[..., drums, :, :] = roll[..., drums, :, :]
    return out


def transpositions_that_fit(roll: np.ndarray, spec: RollSpec | None = None) -> range:
    """The semitone shifts that keep every (non-drum) note inside the pitch range."""
    roll = np.asarray(roll)
    melodic = roll[..., ~_drum_mask(roll, spec), :, :]
    rows = np.flatnonzero((melodic > 0).reshape(-1, roll.shape[-1]).any(axis=0))
    n = roll.shape[-1]
    if len(rows) == 0:
        return range(-(n - 1), n)
    return range(-int(rows[0]), n - int(rows[-1]))


# ---------------------------------------------------------------------------------------------
# Picture

TRACK_COLOURS = ((255, 110, 80), (80, 170, 255), (120, 220, 100), (255, 205, 70),
                 (200, 130, 255), (255, 130, 200), (80, 225, 215), (235, 235, 235))
BACKGROUND, BEAT_LINE, BAR_LINE, OCTAVE_LINE = (18, 18, 26), (34, 34, 46), (80, 80, 96), (30, 30, 40)


def render_roll_png(roll: np.ndarray, spec: RollSpec, path: str | Path | None = None,
                    cell: int = 2) -> Image.Image:
    """A picture of a roll: time left to right, low pitches at the bottom, one colour per track.

    ``cell`` pixels per step and per pitch (at least 2). Onsets are drawn brighter than held steps
    so repeated notes stay visible; where tracks overlap their colours mix (channel-wise maximum).
    Saved as PNG when ``path`` is given.
    """
    from PIL import Image

    roll = np.asarray(roll)
    if roll.ndim != 3 or roll.shape[0] != len(spec.tracks):
        raise ValueError(f"expected a (tracks={len(spec.tracks)}, steps, pitches) roll, got {roll.shape}")
    cell = max(2, int(cell))
    _, steps, pitches = roll.shape
    img = np.empty((pitches, steps, 3), np.uint8)
    img[:] = BACKGROUND
    c_rows = [r for r in range(pitches) if (spec.lowest + r) % 12 == 0]
    img[c_rows] = OCTAVE_LINE  # faint C rows help reading pitches
    img[:, ::spec.steps_per_beat] = BEAT_LINE
    img[:, ::spec.steps_per_bar] = BAR_LINE
    notes = np.zeros((pitches, steps, 3), np.uint8)
    for t in range(roll.shape[0]):
        colour = np.array(TRACK_COLOURS[t % len(TRACK_COLOURS)], np.float32)
        values = roll[t].T  # (pitches, steps)
        layer = np.where((values >= ONSET)[..., None], colour, colour * 0.6)
        layer = np.where((values > 0)[..., None], layer, 0).astype(np.uint8)
        np.maximum(notes, layer, out=notes)
    sounding = notes.any(axis=2)
    img[sounding] = notes[sounding]
    img = img[::-1]  # row 0 (lowest pitch) at the bottom
    img = img.repeat(cell, axis=0).repeat(cell, axis=1)
    image = Image.fromarray(img, "RGB")
    if path is not None:
        image.save(path, format="PNG")
    return image
