"""``artforge prepare music``: MIDI folders and zips, the built-in chorales, rejects, duplicates, mood
labels, the split by piece, the manifest, and the .npy roll reader."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from artforge.data.music_ingest import prepare_music, summary
from artforge.data.music_files import midi_to_rolls
from artforge.data.pianoroll import RollSpec
from artforge.data.rolls import read_roll_bytes, roll_bytes
from artforge.errors import DataError, UsageError
from artforge.data.mood import MOODS, arousal_of, measure_mood, quadrant

pretty_midi = pytest.importorskip("pretty_midi")

STEP = 4  # steps per beat


def write_midi(path, bars, tempo, instruments=1, time_signature=None, step_len=2):
    """A MIDI file: ``bars`` is a list of per-bar pitch lists played as notes of ``step_len`` 16ths;
    every instrument plays them (an octave lower per instrument)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    if time_signature:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(*time_signature, 0.0))
    step = 60.0 / tempo / STEP
    for k in range(instruments):
        inst = pretty_midi.Instrument(program=0)
        for b, pitches in enumerate(bars):
            for j, p in enumerate(pitches):
                start = b * 16 + j * step_len
                inst.notes.append(pretty_midi.Note(velocity=80, pitch=p - 12 * k, start=start * step,
                                                   end=(start + step_len) * step))
        pm.instruments.append(inst)
    pm.write(str(path))
    return path


# Eight bars each, the second four different from the first (so both segments are kept).
MAJOR_FAST = [[60, 64, 67, 72, 67, 64, 60, 64], [65, 69, 72, 69, 65, 64, 62, 60],
              [67, 71, 74, 71, 67, 65, 64, 62], [60, 64, 67, 64, 60, 67, 72, 67],
              [72, 67, 64, 60, 64, 67, 72, 76], [77, 72, 69, 65, 69, 72, 77, 72],
              [74, 71, 67, 62, 67, 71, 74, 67], [72, 67, 64, 67, 72, 64, 60, 60]]
MINOR_SLOW = [[57, 60], [64, 57], [62, 65], [64, 57], [57, 64], [60, 57], [56, 59], [57, 57]]


@pytest.fixture()
def music_folder(tmp_path):
    src = tmp_path / "songs"
    src.mkdir()
    write_midi(src / "a_major_fast.mid", MAJOR_FAST, tempo=150)
    write_midi(src / "b_minor_slow.mid", MINOR_SLOW, tempo=60, step_len=8)
    shutil.copy(src / "a_major_fast.mid", src / "c_copy.mid")
    (src / "d_corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06 this is not a MIDI file")
    write_midi(src / "e_waltz.mid", MAJOR_FAST, tempo=120, time_signature=(3, 4))
    silent = pretty_midi.PrettyMIDI()
    silent.instruments.append(pretty_midi.Instrument(program=0))
    silent.write(str(src / "f_silent.mid"))
    (src / "notes.txt").write_text("not music")
    return src


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))}


def _members(result):
    """(manifest, labels by member name, roll by member name) read back from the zip."""
    with zipfile.ZipFile(result.path) as zf:
        manifest = json.loads(zf.read("artforge.json"))
        labels = json.loads(zf.read("dataset.json"))["labels"]
        names = [n for n in zf.namelist() if n.endswith(".npy")]
        rolls = {n: read_roll_bytes(zf.read(n), n) for n in names}
    return manifest, ({n: l for n, l in labels} if labels else None), rolls


def _member_order(manifest):
    return sorted(n for names in manifest["split"].values() for n in names)


def test_folder_of_midi_files(music_folder, tmp_path):
    before = _snapshot(music_folder)
    result = prepare_music(str(music_folder), str(tmp_path / "out" / "songs.zip"), split=(0.5, 0.5, 0.0))
    assert _snapshot(music_folder) == before  # the source is never touched
    m = result.manifest
    spec = RollSpec.from_dict(m["roll_spec"])
    assert spec.tracks == ("melody",) and spec.shape == (1, 64, 84)  # one instrument each: "melody"
    assert (m["modality"], m["resolution"], m["height"], m["width"], m["channels"]) == ("pianoroll", 64, 84, 64, 1)
    # two pieces of eight bars: two rolls each
    assert result.count == m["count"] == 4 and m["pieces"] == 2
    assert [(i["piece"], i["segment"]) for i in m["items"]] == [
        ("a_major_fast.mid", 0), ("a_major_fast.mid", 1), ("b_minor_slow.mid", 0), ("b_minor_slow.mid", 1)]
    reasons = {r["file"]: r["reason"] for r in result.rejects}
    assert set(reasons) == {"d_corrupt.mid", "e_waltz.mid", "f_silent.mid"}
    assert reasons["d_corrupt.mid"].startswith("unreadable MIDI file")
    assert reasons["e_waltz.mid"].startswith("time signature 3/4 does not fit")
    assert reasons["f_silent.mid"] == "no notes"
    assert all("\n" not in r for r in reasons.values())
    assert result.duplicates == [{"file": "c_copy.mid", "duplicate_of": "a_major_fast.mid", "reason": "identical file"}]
    assert m["ignored_extensions"] == {".txt": 1}
    csv = result.rejects_path.read_text()
    assert "d_corrupt.mid,unreadable MIDI file" in csv and "c_copy.mid,duplicate of a_major_fast.mid" in csv

    # labels: the fast major piece is joyful, the slow minor one sombre, as measure_mood says
    assert m["label_names"] == list(MOODS)
    assert [i["mood"] for i in m["items"]] == ["joyful", "joyful", "sombre", "sombre"]
    assert m["label_counts"] == {"joyful": 2, "tender": 0, "sombre": 2, "tense": 0}
    assert [i["tempo"] for i in m["items"]] == [150, 150, 60, 60]
    assert [i["mode"] for i in m["items"]] == ["major", "major", "minor", "minor"]
    assert m["items"][0]["key"] == 0 and m["items"][2]["key"] == 9  # C major, A minor
    reference = m["mood_reference"]
    manifest, labels, rolls = _members(result)
    assert manifest == json.loads(result.manifest_path.read_text())
    names = _member_order(m)
    assert names == sorted(rolls) and len(names) == 4
    for name, item in zip(names, m["items"]):
        roll = rolls[name]
        assert roll.shape == (1, 64, 84) and roll.dtype == np.uint8 and set(np.unique(roll)) <= {0, 1, 2}
        mood = measure_mood(roll, spec, item["tempo"], reference)
        assert item["valence"] == pytest.approx(mood["valence"], abs=1e-4)
        assert item["arousal"] == pytest.approx(arousal_of(mood["density"], reference), abs=1e-4)
        assert item["mood"] == quadrant(mood["valence"], mood["arousal"])
        assert labels[name] == MOODS.index(item["mood"])
    # member bytes are the piece's rolls, in order
    expected = midi_to_rolls(pretty_midi.PrettyMIDI(str(music_folder / "a_major_fast.mid")), spec)
    assert np.array_equal(rolls[names[0]], expected[0]) and np.array_equal(rolls[names[1]], expected[1])

    # the split is by piece: one piece in val, the other in train, with all its rolls
    split_of = {n: s for s, members in m["split"].items() for n in members}
    by_piece = {}
    for name, item in zip(names, m["items"]):
        by_piece.setdefault(item["piece"], set()).add(split_of[name])
    assert all(len(s) == 1 for s in by_piece.values())
    assert sorted(s.pop() for s in by_piece.values()) == ["train", "val"]
    assert m["split_counts"] == {"train": 2, "val": 2, "test": 0}
    assert m["piece_split_counts"] == {"train": 1, "val": 1, "test": 0}

    assert m["options"]["bars"] == 4 and m["options"]["labels"] == "mood" and m["options"]["source"] == str(music_folder)
    assert m["source_kind"] == "folder" and m["format"] == "artforge-dataset" and m["name"] == "songs"
    text = summary(result)
    assert "4 rolls" in text and "2 pieces" in text and "3 rejected, 1 duplicates" in text

    with pytest.raises(UsageError, match="already exists"):
        prepare_music(str(music_folder), str(tmp_path / "out" / "songs.zip"))


def test_files_are_counted_and_a_cancelled_prepare_writes_nothing(music_folder, tmp_path):
    from artforge.utils.events import CancelToken, Cancelled

    seen = []
    prepare_music(str(music_folder), str(tmp_path / "done" / "songs.zip"), events=seen.append)
    counts = [e.fields for e in seen if e.kind == "progress"]
    assert counts[-1] == {"done": 6, "total": 6, "what": "files", "stage": "prepare songs"}  # notes.txt is no music
    token = CancelToken()
    with pytest.raises(Cancelled):
        prepare_music(str(music_folder), str(tmp_path / "stopped" / "songs.zip"), cancel=token,
                      events=lambda e: token.cancel())
    assert not (tmp_path / "stopped").exists()  # stopped while reading, before any output


def test_zip_source_no_labels_and_repeated_rolls(music_folder, tmp_path):
    # a piece that repeats its first 4 bars, then plays the first 4 bars of another piece: kept once each
    d_major = [[p + 2 for p in bar] for bar in MAJOR_FAST[:4]]
    write_midi(music_folder / "g_repeat.mid", d_major * 2 + MAJOR_FAST[:4], tempo=100)
    archive = tmp_path / "songs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(music_folder.iterdir()):
            zf.write(p, f"songs/{p.name}")
    before = archive.read_bytes()
    result = prepare_music(str(archive), str(tmp_path / "rolls.zip"), labels="none")
    assert archive.read_bytes() == before
    m = result.manifest
    assert m["source_kind"] == "zip" and m["label_names"] == [] and m["label_counts"] == {}
    assert result.count == 5 and m["pieces"] == 3
    assert {"file": "songs/g_repeat.mid [segment 1]", "duplicate_of": "songs/g_repeat.mid [segment 0]",
            "reason": "identical roll"} in result.duplicates
    assert {"file": "songs/g_repeat.mid [segment 2]", "duplicate_of": "songs/a_major_fast.mid [segment 0]",
            "reason": "identical roll"} in result.duplicates
    assert [(i["piece"], i["segment"]) for i in m["items"]][-1] == ("songs/g_repeat.mid", 0)
    _, labels, rolls = _members(result)
    assert labels is None and len(rolls) == 5
    assert all(i["mood"] in MOODS for i in m["items"])  # measured all the same


ABC_BOOK = """X:1
T:Four in a bar
M:4/4
L:1/8
Q:1/4=100
K:G
GABc d2B2|c2A2 B2G2|GABc d2B2|c2A2 G4|

X:2
T:A jig
M:6/8
L:1/8
K:D
DFA dAF|GBd gdB|DFA dAF|E3 E3|
"""


def test_abc_tune_book_gives_one_piece_per_tune(tmp_path):
    pytest.importorskip("music21")
    src = tmp_path / "abc"
    src.mkdir()
    (src / "tunes.abc").write_text(ABC_BOOK)
    result = prepare_music(str(src), str(tmp_path / "abc.zip"))
    m = result.manifest
    assert [(i["piece"], i["segment"], i["tempo"]) for i in m["items"]] == [("tunes.abc#1", 0, 100)]
    assert m["items"][0]["key"] == 7 and m["items"][0]["mode"] == "major"  # G major
    assert result.rejects == [{"file": "tunes.abc#2",
                               "reason": "time signature 6/8 does not fit bars of 4 quarter notes"}]


def test_tracks_follow_the_most_common_part_count(tmp_path, monkeypatch):
    src = tmp_path / "duets"
    src.mkdir()
    write_midi(src / "one.mid", MAJOR_FAST, tempo=120, instruments=2)
    write_midi(src / "two.mid", MINOR_SLOW, tempo=80, instruments=2, step_len=8)
    write_midi(src / "solo.mid", MAJOR_FAST[2:6], tempo=120)
    result = prepare_music(str(src), str(tmp_path / "duets.zip"), bars=2)
    spec = RollSpec.from_dict(result.manifest["roll_spec"])
    assert spec.tracks == ("track1", "track2") and spec.shape == (2, 32, 84)
    _, _, rolls = _members(result)
    solo = [n for n, i in zip(_member_order(result.manifest), result.manifest["items"]) if i["piece"] == "solo.mid"]
    assert solo and all(rolls[n][0].any() and not rolls[n][1].any() for n in solo)  # missing part: silent
    # explicit names: only the first part of each file; the default output path
    monkeypatch.chdir(tmp_path)
    result = prepare_music(str(src), tracks=("melody",))
    assert result.manifest["roll_spec"]["tracks"] == ["melody"] and result.manifest["channels"] == 1
    assert result.path == Path("datasets") / "duets-4bars.zip" and result.path.is_file()


def test_bad_sources_and_options(tmp_path):
    with pytest.raises(DataError) as info:
        prepare_music("bahc", str(tmp_path / "x.zip"))
    assert "did you mean the built-in 'bach'" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(DataError, match="does not exist"):
        prepare_music(str(tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match="holds no music files"):
        prepare_music(str(empty), str(tmp_path / "e.zip"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.mid").write_bytes(b"garbage")
    with pytest.raises(DataError, match="no usable piece") as info:
        prepare_music(str(bad), str(tmp_path / "bad.zip"))
    assert (tmp_path / "bad.rejects.csv").is_file() and not (tmp_path / "bad.zip").exists()
    with pytest.raises(UsageError):
        prepare_music(str(bad), str(tmp_path / "b.zip"), labels="genre")
    with pytest.raises(UsageError):
        prepare_music(str(bad), str(tmp_path / "b.zip"), pitches=5)


def test_roll_bytes_round_trip_and_refusals():
    roll = np.zeros((2, 16, 12), np.uint8)
    roll[0, 0, 3], roll[0, 1, 3] = 2, 1
    assert np.array_equal(read_roll_bytes(roll_bytes(roll)), roll)
    with pytest.raises(ValueError):
        roll_bytes(roll.astype(np.float32))
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for data in (buf.getvalue(), b"not npy at all", roll_bytes(roll)[:40]):
        with pytest.raises(DataError, match="member.npy is not a piano roll"):
            read_roll_bytes(data, "member.npy")
    buf = io.BytesIO()
    np.save(buf, roll[0])  # two dimensions
    with pytest.raises(DataError, match="expected uint8"):
        read_roll_bytes(buf.getvalue())


def test_builtin_bach_chorales(tmp_path):
    pytest.importorskip("music21")
    result = prepare_music("bach", str(tmp_path / "bach.zip"), limit=3)
    m = result.manifest
    assert m["roll_spec"]["tracks"] == ["soprano", "alto", "tenor", "bass"] and m["channels"] == 4
    assert m["source_kind"] == "builtin" and "public domain" in m["license"] and "Bach" in m["credits"]
    assert m["pieces"] == 3 and result.count >= 6
    assert all(i["piece"].startswith("bach/") and i["tempo"] == 120 for i in m["items"])
    _, labels, rolls = _members(result)
    assert len(rolls) == result.count and all(r.shape == (4, 64, 84) for r in rolls.values())
    assert sum(r[t].any() for r in rolls.values() for t in range(4)) == 4 * result.count  # all voices sing
    assert sorted(labels.values()) == sorted(MOODS.index(i["mood"]) for i in m["items"])
