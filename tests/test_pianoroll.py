"""Piano rolls: MIDI and score reading and writing, transposition, key, tempo, pictures, corpora."""

from __future__ import annotations

import numpy as np
import pytest

from artforge.data.music_corpora import bach_chorale_scores, folk_tune_scores
from artforge.data.music_files import midi_to_rolls, read_music_file, roll_to_midi, score_to_rolls, tempo_of
from artforge.data.music_key import detect_key, key_name
from artforge.data.pianoroll import HELD, ONSET, RollSpec, render_roll_png, roll_notes, transpose, transpositions_that_fit
from artforge.errors import DataError

pretty_midi = pytest.importorskip("pretty_midi")

MELODY = RollSpec(("melody",), bars=2)  # 32 steps, rows = MIDI 24..107


def make_midi(notes_by_instrument, tempo=90.0, drums=()):
    """PrettyMIDI from [(pitch, start_step, end_step)] per instrument, on a 16th grid."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    step = 60.0 / tempo / 4
    for i, notes in enumerate(notes_by_instrument):
        inst = pretty_midi.Instrument(program=0, is_drum=i in drums)
        inst.notes = [pretty_midi.Note(velocity=80, pitch=p, start=s * step, end=e * step) for p, s, e in notes]
        pm.instruments.append(inst)
    return pm


def midi_notes(pm, tempo, instrument=0):
    step = 60.0 / tempo / 4
    return sorted((n.pitch, round(n.start / step), round(n.end / step)) for n in pm.instruments[instrument].notes)


# Repeated same-pitch notes (C C), a chord (C E G), a held note, a short note.
PIECE = [(60, 0, 2), (60, 2, 4), (60, 4, 8), (60, 8, 16), (64, 8, 16), (67, 8, 16), (71, 16, 17), (72, 20, 32)]


def test_spec_shape_and_dict_round_trip():
    spec = RollSpec(("soprano", "alto", "tenor", "bass"), bars=2, steps_per_beat=4)
    assert spec.steps_per_bar == 16 and spec.steps == 32 and spec.shape == (4, 32, 84)
    assert spec.drums == (False,) * 4
    back = RollSpec.from_dict(spec.to_dict())
    assert back == spec
    with pytest.raises(ValueError):
        RollSpec(("a", "b"), drums=(True,))


def test_midi_round_trip_keeps_notes():
    pm = make_midi([PIECE])
    rolls = midi_to_rolls(pm, MELODY)
    assert len(rolls) == 1 and rolls[0].shape == MELODY.shape and rolls[0].dtype == np.uint8
    roll = rolls[0]
    # The repeated C's are separate notes: onsets at steps 0, 2, 4, 8.
    c_row = 60 - MELODY.lowest
    assert list(np.flatnonzero(roll[0, :, c_row] == ONSET)) == [0, 2, 4, 8]
    assert roll[0, 1, c_row] == HELD
    back = roll_to_midi(roll, MELODY, tempo=90.0)
    assert midi_notes(back, 90.0) == sorted(PIECE)


def test_midi_file_round_trip(tmp_path):
    path = tmp_path / "piece.mid"
    roll = midi_to_rolls(make_midi([PIECE]), MELODY)[0]
    roll_to_midi(roll, MELODY, tempo=75.0).write(str(path))
    again = read_music_file(path, MELODY)
    assert len(again) == 1 and np.array_equal(again[0], roll)


def test_binary_roll_starts_notes_where_pitch_turns_on():
    binary = np.zeros((1, 32, 84), np.uint8)
    binary[0, 0:4, 36] = 1
    binary[0, 6:8, 36] = 1
    notes = roll_notes(binary)
    assert notes.tolist() == [[0, 36, 0, 4], [0, 36, 6, 8]]
    pm = roll_to_midi(binary, MELODY, tempo=120.0)
    assert midi_notes(pm, 120.0) == [(60, 0, 4), (60, 6, 8)]


def test_tempo_changes_are_followed():
    # 120 BPM for the first 4 beats (2 s), then 60 BPM: beat 4 is at 2 s, beat 5 at 3 s.
    mido = pytest.importorskip("mido")
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track += [mido.MetaMessage("set_tempo", tempo=500000, time=0),
              mido.Message("note_on", note=60, velocity=80, time=0),
              mido.Message("note_off", note=60, velocity=0, time=480),
              mido.MetaMessage("set_tempo", tempo=1000000, time=3 * 480),
              mido.Message("note_on", note=62, velocity=80, time=0),
              mido.Message("note_off", note=62, velocity=0, time=480)]
    pm = pretty_midi.PrettyMIDI(mido_object=mid)
    assert pm.instruments[0].notes[1].start == pytest.approx(2.0)
    roll = midi_to_rolls(pm, MELODY)[0]
    assert roll_notes(roll)[:, 1:].tolist() == [[36, 0, 4], [38, 16, 20]]
    assert tempo_of(pm) == pytest.approx(120.0)


def test_folding_short_notes_and_segments():
    spec = RollSpec(("melody",), bars=1)  # 16-step segments
    # 110 folds down an octave to 98, 10 folds up to 34; a 16th/10 note still takes one step;
    # bar 2 is silent and dropped, so bars 1 and 3 remain.
    step = 4
    pm = make_midi([[(110, 0, 4), (10, 4, 8), (60, 8.0, 8.1), (62, 2 * 16, 2 * 16 + step)]])
    rolls = midi_to_rolls(pm, spec)
    assert len(rolls) == 2
    assert roll_notes(rolls[0])[:, 1:].tolist() == [[34 - 24, 4, 8], [36, 8, 9], [98 - 24, 0, 4]]
    assert roll_notes(rolls[1])[:, 1:].tolist() == [[38, 0, 4]]


def test_instruments_go_to_tracks_and_drums_to_the_drum_track():
    spec = RollSpec(("lead", "bass", "drums"), bars=1, drums=(False, False, True))
    pm = make_midi([[(36, 0, 4)], [(72, 0, 16)], [(48, 4, 8)], [(40, 0, 1)]], drums=(0,), tempo=120)
    roll = midi_to_rolls(pm, spec)[0]
    # Instrument 0 is a drum; the next two melodic ones are lead and bass; the fourth is dropped.
    assert roll_notes(roll).tolist() == [[0, 72 - 24, 0, 16], [1, 48 - 24, 4, 8], [2, 36 - 24, 0, 4]]
    out = roll_to_midi(roll, spec)
    assert [i.is_drum for i in out.instruments] == [False, False, True]
    only_last = midi_to_rolls(pm, spec, track_of=lambda inst, i: 0 if i == 3 else None)[0]
    assert roll_notes(only_last).tolist() == [[0, 40 - 24, 0, 1]]


def _two_part_score():
    from music21 import chord, meter, note, stream, tempo, tie

    score = stream.Score()
    upper, lower = stream.Part(), stream.Part()
    upper.append(meter.TimeSignature("4/4"))
    upper.append(tempo.MetronomeMark(number=72))
    tied_a = note.Note("E4", quarterLength=2)
    tied_a.tie = tie.Tie("start")
    tied_b = note.Note("E4", quarterLength=1)
    tied_b.tie = tie.Tie("stop")
    upper.append([note.Note("C4", quarterLength=1), tied_a, tied_b,  # tied E: one 3-quarter note
                  note.Rest(quarterLength=1), chord.Chord(["C4", "E4", "G4"], quarterLength=2)])
    lower.append(meter.TimeSignature("4/4"))
    lower.append([note.Note("C3", quarterLength=0.5), note.Note("C3", quarterLength=0.5),
                  note.Note("G2", quarterLength=3), note.Rest(quarterLength=4)])
    score.insert(0, upper)
    score.insert(0, lower)
    return score


DUET = RollSpec(("upper", "lower"), bars=2)


def test_score_to_roll_notes():
    rolls = score_to_rolls(_two_part_score(), DUET)
    assert len(rolls) == 1
    got = sorted(map(tuple, roll_notes(rolls[0]).tolist()))
    want = sorted([
        (0, 60 - 24, 0, 4), (0, 64 - 24, 4, 16),  # C quarter, E tied: 3 quarters in one note
        (0, 60 - 24, 20, 28), (0, 64 - 24, 20, 28), (0, 67 - 24, 20, 28),  # after the rest, a chord
        (1, 48 - 24, 0, 2), (1, 48 - 24, 2, 4), (1, 43 - 24, 4, 16),  # repeated C3 eighths stay apart
    ])
    assert got == want
    assert tempo_of(_two_part_score()) == 72.0


def test_musicxml_and_abc_files(tmp_path):
    path = tmp_path / "duet.musicxml"
    _two_part_score().write("musicxml", fp=str(path))
    rolls = read_music_file(path, DUET)
    assert len(rolls) == 1
    assert (0, 64 - 24, 4, 16) in set(map(tuple, roll_notes(rolls[0]).tolist()))
    abc = tmp_path / "tune.abc"
    # A pickup of one quarter in 3/4: padded to a full bar so bar 2 starts at step 12.
    abc.write_text("X:1\nT:Pickup\nM:3/4\nL:1/4\nK:C\nG | c2 e | g3 |]\n")
    waltz = RollSpec(("melody",), bars=2, beats_per_bar=3)
    rolls = read_music_file(abc, waltz)
    got = roll_notes(rolls[0])[:, 1:].tolist()
    assert got == [[67 - 24, 8, 12], [72 - 24, 12, 20], [76 - 24, 20, 24]]


def test_unreadable_files_raise_data_error_naming_the_file(tmp_path):
    bad_midi = tmp_path / "broken.mid"
    bad_midi.write_bytes(b"MThd\x00\x00garbage" * 3)
    with pytest.raises(DataError, match="broken.mid"):
        read_music_file(bad_midi, MELODY)
    bad_xml = tmp_path / "broken.musicxml"
    bad_xml.write_text("<score-partwise><part id='P1'><measure")
    with pytest.raises(DataError, match="broken.musicxml") as err:
        read_music_file(bad_xml, MELODY)
    assert err.value.fix
    with pytest.raises(DataError, match="notes.txt"):
        read_music_file(tmp_path / "notes.txt", MELODY)
    with pytest.raises(DataError, match="missing.mid"):
        read_music_file(tmp_path / "missing.mid", MELODY)


def test_transpose_and_fitting_range():
    spec = RollSpec(("melody", "drums"), bars=1, drums=(False, True))
    roll = np.zeros(spec.shape, np.uint8)
    roll[0, 0:4, 10] = [2, 1, 1, 1]
    roll[0, 4:8, 20] = [2, 1, 1, 1]
    roll[1, 0, 12] = 2
    up = transpose(roll, 3, spec)
    assert up[0, 0, 13] == 2 and up[0, 4, 23] == 2 and up[0, :, 10].sum() == 0
    assert np.array_equal(up[1], roll[1])  # drums stay
    assert np.array_equal(transpose(up, -3, spec), roll)
    fits = transpositions_that_fit(roll, spec)
    assert fits == range(-10, 84 - 20)
    assert transpose(roll, fits[-1], spec)[0].sum() == roll[0].sum()  # nothing lost at the edge
    assert transpose(roll, fits[-1] + 1, spec)[0].sum() < roll[0].sum()  # one more loses a note
    batch = np.stack([roll, roll])
    assert np.array_equal(transpose(batch, 3, spec)[1], up)


def _melody_roll(pitches, step_len=2, spec=MELODY):
    roll = np.zeros(spec.shape, np.uint8)
    for i, p in enumerate(pitches):
        s = i * step_len
        roll[0, s:s + step_len, p - spec.lowest] = HELD
        roll[0, s, p - spec.lowest] = ONSET
    return roll


def test_detect_key_on_hand_written_pieces():
    c_major = _melody_roll([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 67, 65, 64, 62, 60])
    tonic, mode, r = detect_key(c_major, MELODY)
    assert (tonic, mode) == (0, "major") and r > 0.7
    a_minor = _melody_roll([57, 59, 60, 62, 64, 65, 68, 69, 64, 60, 57, 64, 62, 60, 59, 57])
    assert detect_key(a_minor, MELODY)[:2] == (9, "minor")
    assert key_name(9, "minor") == "A minor"
    # Transposing the piece moves the key with it.
    assert detect_key(transpose(c_major, 7), MELODY)[:2] == (7, "major")
    assert np.isnan(detect_key(np.zeros(MELODY.shape), MELODY)[2])


def test_detect_key_on_a_score():
    from music21 import note, stream

    part = stream.Part([note.Note(p, quarterLength=1) for p in
                        ["A3", "C4", "E4", "A4", "G#4", "A4", "E4", "D4", "C4", "B3", "A3"]])
    assert detect_key(stream.Score([part]))[:2] == (9, "minor")
    assert tempo_of(stream.Score([part])) == 120.0


def test_render_roll_png(tmp_path):
    spec = RollSpec(("a", "b"), bars=1)
    roll = np.zeros(spec.shape, np.uint8)
    roll[0, 0:4, 0] = [2, 1, 1, 1]  # lowest row: must be at the bottom
    roll[1, 8:12, 83] = [2, 1, 1, 1]  # highest row: top
    path = tmp_path / "roll.png"
    img = render_roll_png(roll, spec, path, cell=3)
    assert path.is_file() and img.size == (16 * 3, 84 * 3)
    px = np.asarray(img)
    bottom, top = px[-1, 3 * 1], px[0, 3 * 9]  # inside the held steps of each note
    background = px[40, 3 * 5 + 1]
    assert bottom.sum() > background.sum() + 100 and top.sum() > background.sum() + 100
    assert not np.array_equal(bottom, top)  # one colour per track
    assert px[-1, 0].sum() > px[-1, 3].sum()  # the onset is brighter than the held step


def test_corpus_loaders_give_chorales_and_folk_tunes():
    chorales = list(bach_chorale_scores(limit=3))
    assert len(chorales) == 3
    satb = RollSpec(("soprano", "alto", "tenor", "bass"))
    for name, score in chorales:
        assert name.startswith("bach/") and len(score.parts) == 4
        rolls = score_to_rolls(score, satb)
        assert rolls and all(r.shape == satb.shape for r in rolls)
        assert all(r[t].any() for r in rolls[:1] for t in range(4))  # all four voices sing
    tunes = list(folk_tune_scores(limit=4))
    assert len(tunes) == 4
    assert len({name for name, _ in tunes}) == 4
    for name, score in tunes:
        assert name.startswith("airdsAirs/") and len(score.parts) == 1
        assert score_to_rolls(score, RollSpec(("melody",)))
    assert len({tempo_of(score) for _, score in tunes}) > 1  # the tunes carry their own tempi
    waltzes = list(folk_tune_scores(limit=2, quarters_per_bar=3.0))
    assert len(waltzes) == 2
