"""Piano rolls: the symbolic-music format the music GANs train on (MuseGAN-style).

A roll is a numpy ``uint8`` array of shape ``(tracks, steps, pitches)`` (``RollSpec.shape``):

* ``0`` silent, ``1`` a note held, ``2`` a note's first step (its onset). Marking onsets keeps
  repeated notes of one pitch apart (two crotchets C C are not one minim C).
* The time axis is a grid of ``steps_per_beat`` steps per beat, a beat being a quarter note
  (4 = a 16th-note grid), ``beats_per_bar`` beats per bar and ``bars`` bars per roll.
* Row 0 of the pitch axis is MIDI pitch ``lowest``; notes outside the range are folded by octaves.
* Readers also take binary rolls (0/1, e.g. a thresholded generator output, or any array where
  ``> 0`` means sounding): a note then starts wherever a pitch turns on.

Sources: MIDI files (``pretty_midi``) and scores (``music21``: MusicXML, ABC, Humdrum), cut into
consecutive ``bars``-bar segments; ``roll_to_midi`` writes rolls back. The built-in corpora come
from music21's bundled corpus, so nothing is downloaded:

* ``bach_chorale_scores``: the 371 Bach chorales of ``music21.corpus.chorales.Iterator``
  (Riemenschneider numbering), keeping those with exactly four parts (SATB): 351 of them (315 in
  4/4, 35 in 3/4), 1,388 four-bar rolls. Loading all takes about 50 s (music21 parsing).
* ``folk_tune_scores``: single-melody tunes; by default ``airdsAirs`` (James Aird, "A Selection of
  Scotch, English, Irish and Foreign Airs", 1778-1803, transcribed by Jack Campin): 1,178 readable
  tunes in 6 ABC books, nearly all with a tempo mark (40-360 quarter-note BPM, median 132), 86%
  major and 14% minor by ``detect_key``, in 4/4 or 2/2 (504), 6/8 or 3/4 (388), 2/4 (241) and a
  few others; 4,592 four-bar rolls. Loading all takes about 2 minutes. ``essenFolksong`` (8,514
  German/Chinese folksongs, no tempo marks), ``oneills1850`` (2,009 Irish tunes) and
  ``ryansMammoth`` (1,059 American dance tunes) can be chosen instead.

music21 and pretty_midi are imported inside the functions that need them: importing music21 takes
seconds, and most of artforge never touches music.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artforge.errors import DataError

if TYPE_CHECKING:  # for the type hints only: the imports are slow
    import music21
    import pretty_midi
    from PIL import Image

SILENT, HELD, ONSET = 0, 1, 2

MIDI_SUFFIXES = (".mid", ".midi")
SCORE_SUFFIXES = (".xml", ".musicxml", ".mxl", ".abc", ".krn")

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first (C major / C minor).
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# General MIDI programs (0-based) for well-known track names; anything else gets a piano.
# SATB as a string quartet-like choir: distinct timbres keep the voices audible apart.
SATB_PROGRAMS = {"soprano": 40, "alto": 40, "tenor": 41, "bass": 42}  # violin, violin, viola, cello
NAMED_PROGRAMS = {"melody": 73, "lead": 73, "flute": 73, "piano": 0, "guitar": 25, "bass": 33,
                  "strings": 48, "violin": 40, "viola": 41, "cello": 42, "choir": 52, "organ": 19}

DEFAULT_TEMPO = 120.0


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


def _blank(spec: RollSpec, steps: int) -> np.ndarray:
    return np.zeros((len(spec.tracks), steps, spec.pitches), np.uint8)


def _put_note(roll: np.ndarray, track: int, pitch_row: int, start: int, end: int) -> None:
    """Write one note; existing onsets survive (a held note never hides a new note's start)."""
    end = max(end, start + 1)  # notes shorter than a step still sound for one step
    roll[track, start, pitch_row] = ONSET
    held = roll[track, start + 1:end, pitch_row]
    np.maximum(held, HELD, out=held)


def _segments(roll: np.ndarray, spec: RollSpec) -> list[np.ndarray]:
    """Cut a long roll into consecutive ``spec.steps`` segments (the last one padded with silence),
    dropping the silent ones."""
    n = max(1, math.ceil(roll.shape[1] / spec.steps))
    padded = _blank(spec, n * spec.steps)
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


def _seconds_to_quarters(pm: pretty_midi.PrettyMIDI, times: np.ndarray) -> np.ndarray:
    """Map times in seconds to quarter notes through the MIDI's tempo map.

    Piecewise linear between tempo changes: exact under any number of tempo changes, and, unlike
    ``pm.get_beats()`` (whose beats follow the time signature: dotted quarters in 6/8), it always
    counts quarter notes, the unit of ``RollSpec.steps_per_beat``.
    """
    change_times, tempi = pm.get_tempo_changes()
    if len(change_times) == 0:
        change_times, tempi = np.array([0.0]), np.array([DEFAULT_TEMPO])
    quarters_at = np.concatenate([[0.0], np.cumsum(np.diff(change_times) * tempi[:-1] / 60.0)])
    idx = np.clip(np.searchsorted(change_times, times, side="right") - 1, 0, None)
    return quarters_at[idx] + (times - change_times[idx]) * tempi[idx] / 60.0


def default_track_of(spec: RollSpec) -> Callable[[Any, int], int | None]:
    """The default instrument -> track rule: the i-th non-drum instrument goes to the i-th non-drum
    track, drum instruments to the first drum track; the rest are dropped (returns None)."""
    melodic = [i for i, d in enumerate(spec.drums) if not d]
    drum_tracks = [i for i, d in enumerate(spec.drums) if d]
    counter = {"n": 0}

    def track_of(instrument, index: int) -> int | None:
        if instrument.is_drum:
            return drum_tracks[0] if drum_tracks else None
        k = counter["n"]
        counter["n"] += 1
        return melodic[k] if k < len(melodic) else None

    return track_of


def midi_to_rolls(pm: pretty_midi.PrettyMIDI, spec: RollSpec,
                  track_of: Callable[[Any, int], int | None] | None = None) -> list[np.ndarray]:
    """A MIDI piece as ``spec.bars``-bar rolls (consecutive, non-overlapping, silent ones dropped).

    ``track_of(instrument, index)`` gives the track of each ``pm.instruments[index]`` (None drops
    it); by default ``default_track_of(spec)``. Notes are quantised to the step grid in quarter
    notes (tempo changes followed); bar 1 starts at time 0.
    """
    track_of = track_of or default_track_of(spec)
    notes: list[tuple[int, int, float, float]] = []
    for index, inst in enumerate(pm.instruments):
        track = track_of(inst, index)
        if track is None:
            continue
        if not 0 <= track < len(spec.tracks):
            raise ValueError(f"track_of gave track {track} for instrument {index}; the spec has "
                             f"{len(spec.tracks)} tracks")
        notes += [(track, n.pitch, n.start, n.end) for n in inst.notes]
    if not notes:
        return []
    tracks, pitches, starts, ends = (np.array(c) for c in zip(*notes))
    spb = spec.steps_per_beat
    start_steps = np.rint(_seconds_to_quarters(pm, starts.astype(float)) * spb).astype(int)
    end_steps = np.rint(_seconds_to_quarters(pm, ends.astype(float)) * spb).astype(int)
    start_steps = np.clip(start_steps, 0, None)
    end_steps = np.maximum(end_steps, start_steps + 1)
    roll = _blank(spec, int(end_steps.max()))
    for t, p, s, e in zip(tracks, pitches, start_steps, end_steps):
        _put_note(roll, int(t), fold_pitch(int(p), spec) - spec.lowest, int(s), int(e))
    return _segments(roll, spec)


def _pickup_shift(score: music21.stream.Score) -> float:
    """Quarter notes to delay the piece by so that its bar lines fall on roll bar lines: a pickup
    (anacrusis) bar is shorter than a full bar, and is padded at its start to a full bar."""
    for part in score.parts:
        measures = part.getElementsByClass("Measure")
        if not measures:
            continue
        first = measures[0]
        try:
            full = float(first.barDuration.quarterLength)
        except Exception:  # no time signature: no bar to align to
            return 0.0
        have = float(first.duration.quarterLength)
        return full - have if 0 < have < full else 0.0
    return 0.0


def score_to_rolls(score: music21.stream.Score, spec: RollSpec) -> list[np.ndarray]:
    """A music21 score as ``spec.bars``-bar rolls: part i is track i (extra parts are dropped).

    Offsets in quarter notes from the start map to steps; tied notes are merged, a chord gives
    several pitches, rests and grace notes give nothing, and a pickup bar is padded to a full bar.
    Repeats are not expanded (the piece is read as written). Roll bars are ``spec.beats_per_bar``
    quarter notes whatever the score's metre: keep pieces whose ``bar_quarters`` matches (the
    corpus loaders' ``quarters_per_bar``) for bar lines that agree.
    """
    from music21 import stream

    parts = list(score.parts) if isinstance(score, stream.Score) else [score]
    if not parts:  # a bare stream of notes
        parts = [score]
    shift = _pickup_shift(score) if isinstance(score, stream.Score) else 0.0
    spb = spec.steps_per_beat
    notes: list[tuple[int, int, int, int]] = []
    for track, part in enumerate(parts[:len(spec.tracks)]):
        for el in part.stripTies().flatten().notes:
            length = float(el.quarterLength)
            if length <= 0:  # grace notes take no time on the grid
                continue
            start = int(round((float(el.offset) + shift) * spb))
            end = max(int(round((float(el.offset) + shift + length) * spb)), start + 1)
            for p in getattr(el, "pitches", ()):
                notes.append((track, int(round(p.ps)), start, end))
    if not notes:
        return []
    roll = _blank(spec, max(n[3] for n in notes))
    for t, p, s, e in notes:
        _put_note(roll, t, fold_pitch(p, spec) - spec.lowest, s, e)
    return _segments(roll, spec)


def default_programs(spec: RollSpec) -> tuple[int, ...]:
    """A General MIDI program per track from its name (SATB -> strings; unknown -> piano)."""
    names = [t.lower() for t in spec.tracks]
    table = SATB_PROGRAMS if set(names) <= set(SATB_PROGRAMS) else NAMED_PROGRAMS
    return tuple(table.get(n, 0) for n in names)


def roll_to_midi(roll: np.ndarray, spec: RollSpec, tempo: float = DEFAULT_TEMPO,
                 programs: tuple[int, ...] | None = None, velocity: int = 90) -> pretty_midi.PrettyMIDI:
    """Write a roll as MIDI: one instrument per track (drum tracks as drum instruments).

    A value > 0 sounds; a 2, or a rise from 0, starts a note, which ends where the pitch turns off
    or the next onset comes.
    """
    import pretty_midi

    roll = np.asarray(roll)
    if roll.ndim != 3 or roll.shape[0] != len(spec.tracks) or roll.shape[2] != spec.pitches:
        raise ValueError(f"expected a roll of shape (tracks={len(spec.tracks)}, steps, "
                         f"pitches={spec.pitches}), got {roll.shape}")
    programs = programs if programs is not None else default_programs(spec)
    if len(programs) != len(spec.tracks):
        raise ValueError(f"{len(programs)} programs for {len(spec.tracks)} tracks")
    step_s = 60.0 / tempo / spec.steps_per_beat
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    instruments = [pretty_midi.Instrument(program=int(programs[i]), is_drum=spec.drums[i], name=name)
                   for i, name in enumerate(spec.tracks)]
    for track, row, start, end in roll_notes(roll):
        instruments[track].notes.append(pretty_midi.Note(
            velocity=int(velocity), pitch=int(row) + spec.lowest, start=start * step_s, end=end * step_s))
    pm.instruments.extend(instruments)
    return pm


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


# ---------------------------------------------------------------------------------------------
# Files and corpora


def read_music_file(path: str | Path, spec: RollSpec) -> list[np.ndarray]:
    """The rolls of a MIDI (.mid/.midi) or score (.xml/.musicxml/.mxl/.abc/.krn) file.

    A file holding several pieces (an ABC tune book) gives the rolls of all of them, in order.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MIDI_SUFFIXES + SCORE_SUFFIXES:
        raise DataError(f"{path}: not a music file artforge reads",
                        f"use one of {', '.join(MIDI_SUFFIXES + SCORE_SUFFIXES)}")
    if not path.is_file():
        raise DataError(f"{path}: no such file", "check the path")
    fix = "check that the file opens in a music program, or remove it"
    if suffix in MIDI_SUFFIXES:
        import pretty_midi

        try:
            pm = pretty_midi.PrettyMIDI(str(path))
        except Exception as exc:
            raise DataError(f"{path}: unreadable MIDI file ({type(exc).__name__}: {exc})"[:300], fix) from None
        return midi_to_rolls(pm, spec)
    from music21 import converter, stream

    try:
        parsed = converter.parse(str(path))
    except Exception as exc:
        raise DataError(f"{path}: unreadable score ({type(exc).__name__}: {exc})"[:300], fix) from None
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    return [roll for score in scores for roll in score_to_rolls(score, spec)]


def bar_quarters(score: music21.stream.Score) -> float | None:
    """Quarter notes per bar of the score's first time signature (None when it has none)."""
    from music21 import meter

    ts = next(iter(score.recurse().getElementsByClass(meter.TimeSignature)), None)
    return float(ts.barDuration.quarterLength) if ts is not None else None


def bach_chorale_scores(limit: int | None = None,
                        quarters_per_bar: float | None = None) -> Iterator[tuple[str, music21.stream.Score]]:
    """``(name, score)`` for the four-part (SATB) Bach chorales of music21's bundled corpus.

    In Riemenschneider order; 351 of the 371 chorales have exactly four parts (the others add
    instrumental parts). ``quarters_per_bar`` keeps only pieces in that metre (4 = 4/4, 3 = 3/4).
    """
    from music21 import corpus
    from music21.corpus import chorales

    count = 0
    for name in chorales.Iterator(returnType="filename"):
        if limit is not None and count >= limit:
            return
        score = corpus.parse(name)
        if len(score.parts) != 4:
            continue
        if quarters_per_bar is not None and bar_quarters(score) != quarters_per_bar:
            continue
        count += 1
        yield name, score


FOLK_COLLECTIONS = ("airdsAirs", "essenFolksong", "oneills1850", "ryansMammoth")


def folk_tune_scores(limit: int | None = None, collection: str = "airdsAirs",
                     quarters_per_bar: float | None = None) -> Iterator[tuple[str, music21.stream.Score]]:
    """``(name, score)`` for the single-melody tunes of one of music21's bundled ABC collections.

    ``airdsAirs`` by default (1,178 tunes, most with a tempo mark; see the module docstring). Tunes
    are parsed one at a time (by their ``X:`` number) so a small ``limit`` stays fast. The name is
    ``collection/file.abc#number title``. ``quarters_per_bar`` keeps one metre (2/4 = 2, 6/8 = 3).
    """
    from music21 import corpus

    if collection not in FOLK_COLLECTIONS:
        raise ValueError(f"unknown folk collection {collection!r}; one of {', '.join(FOLK_COLLECTIONS)}")
    paths = sorted(Path(p) for p in corpus.getCorePaths() if Path(p).parent.name == collection)
    count = 0
    for path in paths:
        numbers = [int(x) for x in re.findall(r"^X:\s*(\d+)", path.read_text(encoding="latin-1"), re.M)]
        for number in dict.fromkeys(numbers):  # unique, in file order
            if limit is not None and count >= limit:
                return
            try:
                score = corpus.parse(str(path), number=number)
            except Exception:  # a few transcriptions music21 cannot read: skip them
                continue
            if not hasattr(score, "parts") or len(score.parts) != 1 or not score.flatten().notes:
                continue
            if quarters_per_bar is not None and bar_quarters(score) != quarters_per_bar:
                continue
            count += 1
            title = (score.metadata.title if score.metadata is not None else None) or ""
            yield f"{collection}/{path.name}#{number} {title}".strip(), score


# ---------------------------------------------------------------------------------------------
# Key and tempo


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


def tempo_of(x: Any) -> float:
    """Quarter-note BPM of the first tempo mark of a PrettyMIDI or music21 score (120 if none)."""
    if hasattr(x, "get_tempo_changes"):  # pretty_midi
        _, tempi = x.get_tempo_changes()
        # MIDI stores microseconds per quarter note: round away the 99.99999 that comes back
        return round(float(tempi[0]), 3) if len(tempi) else DEFAULT_TEMPO
    from music21 import tempo

    for mark in x.recurse().getElementsByClass(tempo.MetronomeMark):
        bpm = mark.getQuarterBPM()
        if bpm:
            return round(float(bpm), 3)
    return DEFAULT_TEMPO
