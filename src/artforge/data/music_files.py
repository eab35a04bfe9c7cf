"""MIDI files and scores in and out of piano rolls (``pianoroll.py`` says what a roll is).

Sources: MIDI files (``pretty_midi``) and scores (``music21``: MusicXML, ABC, Humdrum), cut into
consecutive ``bars``-bar segments; ``roll_to_midi`` writes rolls back. music21 and pretty_midi are
imported inside the functions that need them: importing music21 takes seconds, and most of artforge
never touches music.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artforge.errors import DataError

from .pianoroll import RollSpec, blank_roll, fold_pitch, put_note, roll_notes, segments

if TYPE_CHECKING:  # for the type hints only: the imports are slow
    import music21
    import pretty_midi

MIDI_SUFFIXES = (".mid", ".midi")
SCORE_SUFFIXES = (".xml", ".musicxml", ".mxl", ".abc", ".krn")

# General MIDI programs (0-based) for well-known track names; anything else gets a piano.
# SATB as a string quartet-like choir: distinct timbres keep the voices audible apart.
SATB_PROGRAMS = {"soprano": 40, "alto": 40, "tenor": 41, "bass": 42}  # violin, violin, viola, cello
NAMED_PROGRAMS = {"melody": 73, "lead": 73, "flute": 73, "piano": 0, "guitar": 25, "bass": 33,
                  "strings": 48, "violin": 40, "viola": 41, "cello": 42, "choir": 52, "organ": 19}

DEFAULT_TEMPO = 120.0


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
    roll = blank_roll(spec, int(end_steps.max()))
    for t, p, s, e in zip(tracks, pitches, start_steps, end_steps):
        put_note(roll, int(t), fold_pitch(int(p), spec) - spec.lowest, int(s), int(e))
    return segments(roll, spec)


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
    roll = blank_roll(spec, max(n[3] for n in notes))
    for t, p, s, e in notes:
        put_note(roll, t, fold_pitch(p, spec) - spec.lowest, s, e)
    return segments(roll, spec)


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
