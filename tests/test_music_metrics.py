"""MuseGAN's music metrics on hand-made rolls with known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artforge.data.pianoroll import RollSpec
from artforge.metrics.music import (
    drum_pattern,
    empty_bar_rate,
    metrics_table,
    music_metrics,
    qualified_min_steps,
    qualified_note_rate,
    tonal_distance,
    used_pitch_classes,
)

SPEC = RollSpec(("lead", "bass"), bars=4)  # 16 steps per bar, rows from MIDI 24 (a C)
C = 36  # row of MIDI 60


def note(roll, track, row, start, end):
    roll[track, start, row] = 2
    roll[track, start + 1:end, row] = 1


def chord_bar(pcs, steps=16, base=C):
    bar = np.zeros((steps, 84), np.uint8)
    for pc in pcs:
        note(bar[None], 0, base + pc, 0, steps)
    return bar


def test_empty_bar_rate():
    roll = np.zeros(SPEC.shape, np.uint8)
    note(roll, 0, C, 0, 4)  # bar 1
    note(roll, 0, C, 40, 44)  # bar 3; bars 2 and 4 empty
    eb = empty_bar_rate(roll, SPEC)
    assert eb.tolist() == [0.5, 1.0]
    # Over a batch the rate is over all bars of all samples.
    full = np.zeros(SPEC.shape, np.uint8)
    full[:, :, C] = 1
    assert empty_bar_rate(np.stack([roll, full]), SPEC).tolist() == [0.25, 0.5]


def test_used_pitch_classes():
    roll = np.zeros(SPEC.shape, np.uint8)
    for pc in (0, 4, 7, 12):  # C E G and the C an octave up: 3 classes
        note(roll, 0, C + pc, 0, 16)
    note(roll, 0, C + 2, 16, 20)  # bar 2: one class; bars 3-4 empty and not counted
    upc = used_pitch_classes(roll, SPEC)
    assert upc[0] == pytest.approx(2.0)  # (3 + 1) / 2
    assert math.isnan(upc[1])  # the bass never plays
    drums = RollSpec(("lead", "drums"), bars=4, drums=(False, True))
    assert math.isnan(used_pitch_classes(roll, drums)[1])


def test_qualified_note_rate():
    roll = np.zeros(SPEC.shape, np.uint8)
    note(roll, 0, C, 0, 1)  # 1 step
    note(roll, 0, C, 1, 5)  # 4 steps, same pitch right after: a separate note
    assert qualified_note_rate(roll, SPEC, min_steps=2)[0] == pytest.approx(0.5)
    assert math.isnan(qualified_note_rate(roll, SPEC, min_steps=2)[1])
    # Default threshold: a 32nd note, MuseGAN's 3 steps at 24 steps per beat.
    assert qualified_min_steps(SPEC) == 1
    assert qualified_min_steps(RollSpec(("a",), steps_per_beat=24)) == 3
    assert qualified_min_steps(RollSpec(("a",), steps_per_beat=12)) == 2
    assert qualified_note_rate(roll, SPEC)[0] == 1.0


def test_drum_pattern():
    spec = RollSpec(("lead", "drums"), bars=1, steps_per_beat=8, drums=(False, True))  # 32nd grid
    roll = np.zeros(spec.shape, np.uint8)
    for s in (0, 2, 4, 5):  # 16th grid = even steps; 8th grid = multiples of 4
        roll[1, s, 12] = 2
    note(roll, 0, C, 0, 3)
    assert drum_pattern(roll, spec)[1] == pytest.approx(0.75)
    assert drum_pattern(roll, spec, resolution=8)[1] == pytest.approx(0.5)
    assert math.isnan(drum_pattern(roll, spec)[0])  # not a drum track


def _pair(upper_pcs, lower_pcs, spec=RollSpec(("a", "b"), bars=1)):
    return np.stack([chord_bar(upper_pcs), chord_bar(lower_pcs, base=C - 12)]), spec


def test_tonal_distance():
    same, spec = _pair([0, 4, 7], [0, 4, 7])
    assert tonal_distance(same, spec)[("a", "b")] == pytest.approx(0.0, abs=1e-12)
    c_g = tonal_distance(*_pair([0, 4, 7], [7, 11, 2]))[("a", "b")]
    c_fsharp = tonal_distance(*_pair([0, 4, 7], [6, 10, 1]))[("a", "b")]
    assert 0 < c_g < c_fsharp
    # Only bars where both play count; no such bar -> NaN.
    spec2 = RollSpec(("a", "b"), bars=2)
    roll = np.zeros(spec2.shape, np.uint8)
    roll[0, :16] = chord_bar([0, 4, 7])
    roll[1, :16] = chord_bar([0, 4, 7])
    roll[0, 16:] = chord_bar([6, 10, 1])  # bar 2: b is silent
    assert tonal_distance(roll, spec2)[("a", "b")] == pytest.approx(0.0, abs=1e-12)
    roll[1, :16] = 0
    assert math.isnan(tonal_distance(roll, spec2)[("a", "b")])


def test_tonal_distance_pairs_skip_drums():
    spec = RollSpec(("a", "b", "drums"), bars=1, drums=(False, False, True))
    roll = np.zeros(spec.shape, np.uint8)
    assert list(tonal_distance(roll, spec)) == [("a", "b")]


def test_music_metrics_and_table():
    spec = RollSpec(("lead", "bass", "drums"), bars=2, drums=(False, False, True))
    roll = np.zeros(spec.shape, np.uint8)
    note(roll, 0, C, 0, 8)
    note(roll, 1, C - 12, 0, 16)
    roll[2, ::4, 12] = 2
    m = music_metrics(roll[None], spec)
    assert m["EB/lead"] == 0.5 and m["EB/drums"] == 0.0
    assert m["UPC/lead"] == 1.0 and "UPC/drums" not in m and "DP/lead" not in m
    assert m["DP/drums"] == 1.0 and m["DP8/drums"] == 1.0
    assert m["TD/lead-bass"] == pytest.approx(0.0, abs=1e-12)
    table = metrics_table({"training data": m, "model": {**m, "EB/lead": 0.25, "UPC/bass": float("nan")}}, spec)
    lines = table.splitlines()
    assert lines[0].startswith("| source | EB lead | EB bass | EB drums | UPC lead")
    assert len(lines) == 4 and lines[2].startswith("| training data | 0.500 |")
    assert "| model | 0.250 |" in lines[3] and "n/a" in lines[3]


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        empty_bar_rate(np.zeros((2, 3, 64, 84)), SPEC)  # 3 tracks for a 2-track spec
    with pytest.raises(ValueError):
        empty_bar_rate(np.zeros((2, 2, 60, 84)), SPEC)  # not whole bars
