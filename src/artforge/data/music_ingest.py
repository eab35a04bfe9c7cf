"""``artforge prepare music SRC|bach|folk``: MIDI and score files, or a built-in corpus -> piano rolls.

The rules of ``prepare`` (ingest.py), for symbolic music. Each item is one ``bars``-bar piano roll,
uint8 ``(tracks, steps, pitches)`` with 0 silent, 1 held, 2 onset (``pianoroll``), stored as ``.npy``
bytes (``rolls.roll_bytes``); the manifest says ``"modality": "pianoroll"``.

Sources
    * a folder or a .zip of MIDI (.mid, .midi) and score files (MusicXML .xml/.musicxml/.mxl, ABC
      .abc, Humdrum .krn), scanned as ``prepare`` scans images: hidden files skipped, other extensions
      counted as ignored, unsafe zip paths rejected, ``limit`` = the first files in sorted order. Zip
      members are read in memory; a score goes through a private temporary file (music21 reads
      paths), never next to the source. music21's pickle cache is neither read nor written for them.
    * ``bach``: the four-part Bach chorales of music21's corpus, tracks soprano/alto/tenor/bass;
    * ``folk``: the airs of Aird's collection (``music_corpora.folk_tune_scores``), one track "melody".
    A built-in keeps only pieces whose bar is ``beats_per_bar`` quarter notes (the loaders'
    ``quarters_per_bar``), so bar lines fall on the roll's: with the default 4, the chorales in 4/4
    (315) and the airs in 4/4, C or 2/2 (a 2/2 bar is four quarters too; 504 of 1,178). 6/8, 3/4 and
    2/4 airs are left out (two 2/4 bars would make one roll bar: the grid fits, the phrases would
    not), and not listed as rejects. ``limit`` counts the pieces kept.

Pieces, segments, rejects
    A file is one piece, or several for a tune book (an ABC file, a MusicXML opus: ``file#n``). A piece
    is cut into consecutive ``bars``-bar rolls (silent ones dropped), numbered from 0 as its
    ``segment``s; every roll is an item. Rejects, each with a one-line reason, never stopping the
    run: unreadable or empty files, pieces with no notes, and pieces with a time signature whose bar
    is not ``beats_per_bar`` quarter notes (any in the piece; a MIDI file without one is taken as
    fitting). Repeats are not expanded; a MIDI file's bar 1 starts at time 0.

Tracks
    Part i of a score, or the i-th non-drum instrument of a MIDI file, is track i: extra parts are
    dropped, missing ones stay silent, drums are never read. ``tracks`` names them; by default the
    built-in's, or for files the most common part count n of the pieces read (a tie goes to the larger
    n): n = 1 -> ("melody",), n = 4 -> soprano/alto/tenor/bass, else track1..trackN.

Duplicates (the first in source order is kept, the others reported)
    files with identical bytes; pieces whose rolls are all the same as an earlier piece's; single rolls
    identical to an earlier one (a section written out twice, a tune harmonised alike twice). So no
    roll is in two splits.

Measurements and labels
    Per item: the piece's tempo (first tempo mark, 120 when none), the roll's key (``detect_key``:
    ``key`` = tonic pitch class 0-11, ``mode``) and its mood (``data.mood.measure_mood`` at that
    tempo). ``mood_labels`` splits arousal at the dataset's median density; the manifest's arousal and
    mood use that reference (``mood_reference``: give it to ``measure_mood`` to judge generated rolls
    alike). ``labels="mood"``: each item's label is its mood's index in ``MOODS``; ``"none"``: no labels
    (the moods are still measured and recorded).

Split
    By piece, so a held-out piece is really unseen: pieces are ordered by a hash of (seed, their rolls);
    the first round(n * val) go to val, the next round(n * test) to test, the rest (at least one) to
    train. The fractions count pieces, not rolls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import io
import json
import tempfile
import time
import warnings
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import numpy as np

from .._version import __version__
from ..errors import DataError, UsageError
from .mood import MOODS, arousal_of, measure_mood, mood_labels
from ..utils.events import CancelToken, EventSink, Progress
from ..utils.files import atomic_write_text
from .archive import FORMAT, FORMAT_VERSION, ArchiveWriter, archive_name
from .imaging import digest
from .output import PrepareResult, check_output, disk_errors, side_paths, write_rejects
from .music_corpora import bach_chorale_scores, folk_tune_scores
from .music_files import MIDI_SUFFIXES, SCORE_SUFFIXES, midi_to_rolls, score_to_rolls, tempo_of
from .music_key import detect_key
from .pianoroll import RollSpec
from .rolls import roll_bytes
from .scan import Source, scan_folder, scan_zip
from .splits import SPLITS, rank, split_counts

MUSIC_EXTENSIONS = frozenset(MIDI_SUFFIXES + SCORE_SUFFIXES)
SATB = ("soprano", "alto", "tenor", "bass")
BUILTIN_TRACKS = {"bach": SATB, "folk": ("melody",)}
MUSIC_BUILTINS = tuple(BUILTIN_TRACKS)
LABEL_MODES = ("mood", "none")
KIND = "npy"  # the members' file type (archive_name gives their names)

MUSIC21_NOTE = ("music21 (BSD-licensed) distributes its corpus with the encoders' permission; see "
                "music21/corpus/license.txt (some encodings restrict commercial use)")
CREDITS = {
    "bach": {"credits": "J. S. Bach, four-part chorales (Riemenschneider numbering), from the music21 corpus",
             "license": "the chorales are in the public domain; " + MUSIC21_NOTE},
    "folk": {"credits": "James Aird, A Selection of Scotch, English, Irish and Foreign Airs (Glasgow, "
                        "1778-1803), transcribed in ABC by Jack Campin (2009), from the music21 corpus",
             "license": "the airs are in the public domain; " + MUSIC21_NOTE},
}


class _Reject(Exception):
    """A file or piece left out; ``args[0]`` is the one-line reason for the rejects report."""


@dataclass
class _Piece:
    """One piece's rolls, zlib-packed (sparse rolls shrink ~30x) until the dataset's tracks are known."""

    name: str
    parts: int  # parts (scores) or non-drum instruments (MIDI) read
    tempo: float
    shape: tuple[int, int, int]
    packed: list[bytes]

    @classmethod
    def of(cls, name: str, parts: int, tempo: float, rolls: list[np.ndarray]) -> _Piece:
        if not rolls:
            raise _Reject("no notes")
        return cls(name, parts, float(tempo), rolls[0].shape, [zlib.compress(r.tobytes(), 1) for r in rolls])

    def rolls(self) -> Iterator[np.ndarray]:
        for data in self.packed:
            yield np.frombuffer(zlib.decompress(data), np.uint8).reshape(self.shape)


@dataclass
class _Roll:
    """A kept item: its .npy bytes (packed), where it comes from and what was measured."""

    piece: str
    piece_hash: str
    segment: int
    tempo: float
    packed: bytes
    mood: dict
    tonic: int
    mode: str
    label: int | None = None
    split: str = "train"


def _one_line(exc: BaseException) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= 200 else text[:197] + "..."


# ----------------------------------------------------------------------------- options and source

def _grid(bars: int, steps_per_beat: int, beats_per_bar: int, lowest: int, pitches: int) -> RollSpec:
    """The time grid and pitch range (one placeholder track: the tracks are settled later)."""
    try:
        return RollSpec(("track1",), bars=bars, beats_per_bar=beats_per_bar, steps_per_beat=steps_per_beat,
                        lowest=lowest, pitches=pitches)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"bad piano-roll grid: {exc}", "use positive bars, beats per bar and steps per beat, "
                         "and a pitch range of at least 12 rows within MIDI 0..127") from None


def _check_options(labels: str, split: tuple, tracks: tuple[str, ...] | None) -> None:
    if labels not in LABEL_MODES:
        raise UsageError(f"unknown labels {labels!r}", f"use one of {', '.join(LABEL_MODES)}")
    if len(split) != 3 or any(not 0 <= f <= 1 for f in split) or split[1] + split[2] >= 1:
        raise UsageError(f"bad split {tuple(split)}",
                         "give three fractions (train, val, test) in [0, 1] with val + test below 1")
    if tracks is not None and (not tracks or any(not str(t).strip() for t in tracks)):
        raise UsageError(f"bad track names {tracks!r}", "give one non-empty name per track, or none for the default")


def _open_source(source: str) -> Source:
    """A folder or zip of music files, or a built-in; DataError with a fix for anything else."""
    path = Path(source).expanduser()
    if path.is_dir():
        return scan_folder(path.resolve(), MUSIC_EXTENSIONS)
    if path.is_file():
        if zipfile.is_zipfile(path):
            return scan_zip(path.resolve(), MUSIC_EXTENSIONS)
        kind = "a single music file" if path.suffix.lower() in MUSIC_EXTENSIONS else "not a folder or a .zip"
        raise DataError(f"source {path} is {kind}", "put your MIDI or score files in a folder and pass the folder")
    if source in BUILTIN_TRACKS:
        return Source("builtin", source, source, [], credits=dict(CREDITS[source]))
    close = difflib.get_close_matches(source, MUSIC_BUILTINS, n=1)
    hint = f"did you mean the built-in '{close[0]}'?" if close else \
        f"pass an existing folder or .zip of MIDI or score files, or a built-in: {', '.join(MUSIC_BUILTINS)}"
    raise DataError(f"source {source} does not exist", hint)


def _output_path(out: str | None, source: Source, bars: int) -> Path:
    if out is None:
        return Path("datasets") / f"{source.name}-{bars}bars.zip"
    path = Path(out).expanduser()
    return path if path.suffix.lower() == ".zip" else path.with_name(path.name + ".zip")


# ----------------------------------------------------------------------------- reading pieces

def _spec(grid: RollSpec, tracks: tuple[str, ...] | None, parts: int) -> RollSpec:
    """The spec a piece is read with: the dataset's tracks when known, else one track per part."""
    return dataclasses.replace(grid, tracks=tracks or tuple(f"part{i + 1}" for i in range(max(parts, 1))),
                               drums=None)


def _metre_problem(score, beats_per_bar: int) -> str | None:
    """Why a score's bars do not fit the grid (None when they do, or it has no time signature)."""
    from music21 import meter

    for ts in score.recurse().getElementsByClass(meter.TimeSignature):
        if float(ts.barDuration.quarterLength) != beats_per_bar:
            return f"time signature {ts.ratioString} does not fit bars of {beats_per_bar} quarter notes"
    return None


def _read_midi(name: str, data: bytes, grid: RollSpec, tracks: tuple[str, ...] | None) -> list[_Piece]:
    import pretty_midi

    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # pretty_midi/mido raise anything from EOFError to KeyError on bad files
        raise _Reject(f"unreadable MIDI file ({_one_line(exc)})") from None
    for ts in pm.time_signature_changes:
        if ts.numerator * 4 / ts.denominator != grid.beats_per_bar:
            raise _Reject(f"time signature {ts.numerator}/{ts.denominator} does not fit bars of "
                          f"{grid.beats_per_bar} quarter notes")
    parts = sum(not inst.is_drum for inst in pm.instruments)
    if not any(inst.notes for inst in pm.instruments if not inst.is_drum):
        drums = any(inst.notes for inst in pm.instruments)
        raise _Reject("no notes" + (" (drum tracks are not read)" if drums else ""))
    return [_Piece.of(name, parts, tempo_of(pm), midi_to_rolls(pm, _spec(grid, tracks, parts)))]


def _read_scores(name: str, data: bytes, suffix: str, grid: RollSpec, tracks: tuple[str, ...] | None,
                 tmp: Path, rejects: list[dict]) -> list[_Piece]:
    """The pieces of a score file (several for a tune book); bad pieces in it go to ``rejects``."""
    from music21 import converter, stream

    path = tmp / f"score{suffix}"  # music21 parses paths, and tells formats by their suffix
    path.write_bytes(data)
    try:
        parsed = converter.parse(str(path), forceSource=True, storePickle=False)
    except Exception as exc:  # music21 raises many kinds on bad input
        raise _Reject(f"unreadable score ({_one_line(exc)})") from None
    finally:
        path.unlink(missing_ok=True)
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    pieces = []
    for i, score in enumerate(scores):
        number = getattr(score.metadata, "number", None) if score.metadata is not None else None
        piece = f"{name}#{number or i + 1}" if len(scores) > 1 else name
        try:
            problem = _metre_problem(score, grid.beats_per_bar)
            if problem:
                raise _Reject(problem)
            parts = len(score.parts) if isinstance(score, stream.Score) and score.parts else 1
            try:
                rolls = score_to_rolls(score, _spec(grid, tracks, parts))
            except Exception as exc:
                raise _Reject(f"unreadable score ({_one_line(exc)})") from None
            pieces.append(_Piece.of(piece, parts, tempo_of(score), rolls))
        except _Reject as reject:
            rejects.append({"file": piece, "reason": str(reject)})
    return pieces


def _read_files(source: Source, grid: RollSpec, tracks: tuple[str, ...] | None, limit: int | None,
                events: EventSink | None, cancel: CancelToken | None) -> tuple[list[_Piece], list[dict], list[dict]]:
    """Pieces of every music file in sorted order, with rejects and identical files."""
    items = source.items[:limit] if limit else source.items
    progress = Progress(events, len(items), "files", f"prepare {source.name}", cancel)
    pieces: list[_Piece] = []
    rejects: list[dict] = []
    duplicates: list[dict] = []
    first: dict[str, str] = {}  # file hash -> name of the first file with those bytes
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="artforge-music-")))
        zips: dict[str, zipfile.ZipFile] = {}
        stack.callback(lambda: [zf.close() for zf in zips.values()])
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")  # pretty_midi and music21 warn about harmless oddities, per file
        for item in items:
            progress.raise_if_cancelled()
            progress.advance()  # counted as it starts: a slow score shows which file is in hand
            try:
                data = _item_bytes(item.task, zips)
            except (OSError, zipfile.BadZipFile, KeyError) as exc:
                rejects.append({"file": item.name, "reason": f"unreadable: {getattr(exc, 'strerror', None) or exc}"})
                continue
            if not data:
                rejects.append({"file": item.name, "reason": "empty file"})
                continue
            h = digest(data)
            if h in first:
                duplicates.append({"file": item.name, "duplicate_of": first[h], "reason": "identical file"})
                continue
            first[h] = item.name
            suffix = Path(item.name).suffix.lower()
            try:
                if suffix in MIDI_SUFFIXES:
                    pieces += _read_midi(item.name, data, grid, tracks)
                else:
                    pieces += _read_scores(item.name, data, suffix, grid, tracks, tmp, rejects)
            except _Reject as reject:
                rejects.append({"file": item.name, "reason": str(reject)})
    progress.finish()
    return pieces, rejects, duplicates


def _item_bytes(task: tuple, zips: dict[str, zipfile.ZipFile]) -> bytes:
    if task[0] == "file":
        with open(task[1], "rb") as f:
            return f.read()
    _, path, index = task
    if path not in zips:
        zips[path] = zipfile.ZipFile(path)
    zf = zips[path]
    return zf.read(zf.infolist()[index])


def _read_builtin(name: str, grid: RollSpec, tracks: tuple[str, ...], limit: int | None,
                  events: EventSink | None, cancel: CancelToken | None) -> tuple[list[_Piece], list[dict], list[dict]]:
    """The built-in's pieces in the grid's metre (slow: music21 parses every piece, see the module doc)."""
    quarters = float(grid.beats_per_bar)
    scores = (bach_chorale_scores(limit, quarters_per_bar=quarters) if name == "bach"
              else folk_tune_scores(limit, quarters_per_bar=quarters))
    spec = _spec(grid, tracks, len(tracks))
    pieces: list[_Piece] = []
    rejects: list[dict] = []
    progress = Progress(events, limit, "pieces", f"prepare {name}", cancel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for piece, score in scores:
            progress.raise_if_cancelled()
            progress.advance()
            try:
                problem = _metre_problem(score, grid.beats_per_bar)  # a change of metre later in the piece
                if problem:
                    raise _Reject(problem)
                pieces.append(_Piece.of(piece, len(score.parts), tempo_of(score), score_to_rolls(score, spec)))
            except _Reject as reject:
                rejects.append({"file": piece, "reason": str(reject)})
    progress.finish()
    return pieces, rejects, []


def _default_tracks(pieces: list[_Piece]) -> tuple[str, ...]:
    """Track names for files: the most common part count (ties to the larger), named as the module doc says."""
    counts = Counter(p.parts for p in pieces)
    n = max(counts, key=lambda k: (counts[k], k)) if counts else 1
    return ("melody",) if n == 1 else SATB if n == 4 else tuple(f"track{i + 1}" for i in range(n))


# ----------------------------------------------------------------------------- items

def _fit(roll: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` tracks of a roll, silent tracks added when it has fewer."""
    if roll.shape[0] >= n:
        return np.ascontiguousarray(roll[:n])
    out = np.zeros((n,) + roll.shape[1:], np.uint8)
    out[:roll.shape[0]] = roll
    return out


def _items(pieces: list[_Piece], spec: RollSpec, rejects: list[dict], duplicates: list[dict]) -> list[_Roll]:
    """Every distinct roll with the dataset's tracks, measured; pieces and rolls seen before are duplicates."""
    n = len(spec.tracks)
    by_piece: dict[str, str] = {}
    by_roll: dict[str, str] = {}
    kept: list[_Roll] = []
    for piece in pieces:
        rolls = [(i, _fit(r, n)) for i, r in enumerate(piece.rolls())]
        rolls = [(i, r) for i, r in rolls if r.any()]
        if not rolls:
            rejects.append({"file": piece.name, "reason": f"no notes in its first {n} part(s)"})
            continue
        piece_hash = digest(*(r.tobytes() for _, r in rolls))
        if piece_hash in by_piece:
            duplicates.append({"file": piece.name, "duplicate_of": by_piece[piece_hash], "reason": "identical piece"})
            continue
        by_piece[piece_hash] = piece.name
        for segment, roll in rolls:
            data = roll_bytes(roll)
            where = f"{piece.name} [segment {segment}]"
            h = digest(data)
            if h in by_roll:
                duplicates.append({"file": where, "duplicate_of": by_roll[h], "reason": "identical roll"})
                continue
            by_roll[h] = where
            tonic, mode, _ = detect_key(roll, spec)
            kept.append(_Roll(piece.name, piece_hash, segment, piece.tempo, zlib.compress(data, 1),
                              measure_mood(roll, spec, piece.tempo), tonic, mode))
    return kept


def _assign_splits(kept: list[_Roll], fractions: tuple, seed: int) -> dict[str, int]:
    """splits.assign_splits over pieces: every roll of a piece goes where its piece goes."""
    hashes = list(dict.fromkeys(k.piece_hash for k in kept))
    n_val, n_test = split_counts(len(hashes), fractions)
    order = sorted(hashes, key=lambda h: rank(seed, "split", h))
    where = {h: "val" if i < n_val else "test" if i < n_val + n_test else "train" for i, h in enumerate(order)}
    for k in kept:
        k.split = where[k.piece_hash]
    return {s: sum(v == s for v in where.values()) for s in SPLITS}


def _label(kept: list[_Roll], labels: str) -> dict[str, float]:
    """Mood labels from the dataset's own measurements; returns the reference used."""
    moods, reference = mood_labels([k.mood for k in kept])
    for k, mood in zip(kept, moods):
        k.mood = {**k.mood, "arousal": arousal_of(k.mood["density"], reference), "mood": mood}
        k.label = MOODS.index(mood) if labels == "mood" else None
    return reference


# ----------------------------------------------------------------------------- output

def _manifest(options: dict, source: Source, out: Path, spec: RollSpec, kept: list[_Roll],
              piece_splits: dict[str, int], labels: str, reference: dict, rejects: list[dict],
              duplicates: list[dict]) -> dict:
    members: dict[str, list[str]] = {s: [] for s in SPLITS}
    for index, k in enumerate(kept):  # written in this order, see _write_archive
        members[k.split].append(archive_name(index, KIND))
    label_names = list(MOODS) if labels == "mood" else []
    moods = Counter(k.mood["mood"] for k in kept)
    r = lambda x: round(float(x), 4)  # noqa: E731 - enough digits for a manifest
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "modality": "pianoroll",
        "name": out.name[:-len(out.suffix)], "source": source.origin, "source_kind": source.kind,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "artforge_version": __version__,
        "options": options, "roll_spec": spec.to_dict(),
        # the shape every dataset has: rows are pitches, columns time steps, channels tracks
        "resolution": spec.steps, "height": spec.pitches, "width": spec.steps, "channels": len(spec.tracks),
        "count": len(kept), "pieces": sum(piece_splits.values()),
        "piece_split_counts": piece_splits,
        "split_counts": {s: len(members[s]) for s in SPLITS}, "split": members,
        "label_names": label_names, "label_counts": {name: moods[name] for name in label_names},
        "mood_counts": {name: moods[name] for name in MOODS},
        "items": [{"piece": k.piece, "segment": k.segment, "tempo": r(k.tempo), "key": k.tonic, "mode": k.mode,
                   "valence": r(k.mood["valence"]), "arousal": r(k.mood["arousal"]),
                   "density": r(k.mood["density"]), "mood": k.mood["mood"]} for k in kept],
        "mood_reference": reference,
        "ignored": sum(source.ignored.values()), "ignored_extensions": dict(sorted(source.ignored.items())),
        "rejects": rejects, "duplicates": duplicates, **source.credits,
    }


def _write_archive(out: Path, kept: list[_Roll], manifest: dict) -> None:
    ArchiveWriter(out, kind=KIND).write_all(((zlib.decompress(k.packed), k.label) for k in kept), manifest)


# ----------------------------------------------------------------------------- prepare

def prepare_music(source: str, out: str | None = None, *, bars: int = 4, steps_per_beat: int = 4,
                  beats_per_bar: int = 4, lowest: int = 24, pitches: int = 84,
                  tracks: tuple[str, ...] | None = None, labels: str = "mood", split=(0.9, 0.05, 0.05),
                  seed: int = 0, limit: int | None = None, overwrite: bool = False,
                  events: EventSink | None = None, cancel: CancelToken | None = None) -> PrepareResult:
    """Build a piano-roll dataset from ``source`` (a folder, a .zip, ``bach`` or ``folk``); see the module
    docstring for the rules. ``limit``: the first files of a folder or zip, or pieces of a built-in.
    Returns ``output.PrepareResult``; raises DataError or UsageError with a fix, and ``Cancelled`` when
    ``cancel`` is cancelled before the pieces are all read (nothing is written then)."""
    started = time.monotonic()
    tracks = tuple(str(t) for t in tracks) if tracks is not None else None
    options = dict(source=source, out=None if out is None else str(out), bars=bars, steps_per_beat=steps_per_beat,
                   beats_per_bar=beats_per_bar, lowest=lowest, pitches=pitches,
                   tracks=list(tracks) if tracks is not None else None, labels=labels, split=list(split),
                   seed=seed, limit=limit, overwrite=overwrite)
    grid = _grid(bars, steps_per_beat, beats_per_bar, lowest, pitches)
    _check_options(labels, tuple(split), tracks)
    src = _open_source(source)
    out_path = _output_path(out, src, bars)
    manifest_path, rejects_path = side_paths(out_path)
    check_output(out_path, SimpleNamespace(overwrite=overwrite), src)
    if src.kind != "builtin" and not src.items and not src.rejects:
        ignored = sum(src.ignored.values())
        raise DataError(f"source {src.origin} holds no music files" + (f" ({ignored:,} other files ignored)"
                                                                          if ignored else ""),
                        f"add MIDI or score files ({', '.join(sorted(MUSIC_EXTENSIONS))}), or point at the "
                        "folder that has them")

    if src.kind == "builtin":
        pieces, rejects, duplicates = _read_builtin(src.name, grid, tracks or BUILTIN_TRACKS[src.name], limit,
                                                    events, cancel)
    else:
        pieces, rejects, duplicates = _read_files(src, grid, tracks, limit, events, cancel)
    spec = dataclasses.replace(grid, tracks=tracks or (BUILTIN_TRACKS.get(src.name) if src.kind == "builtin"
                                                       else _default_tracks(pieces)), drums=None)
    kept = _items(pieces, spec, rejects, duplicates)
    rejects = sorted(src.rejects + rejects, key=lambda r: r["file"])
    if not kept:
        with disk_errors(out_path):
            write_rejects(rejects_path, rejects, duplicates)
        raise DataError(f"no usable piece in {src.origin}: {len(rejects):,} rejected, {len(duplicates):,} "
                        "duplicates", f"see the reasons in {rejects_path}")
    piece_splits = _assign_splits(kept, tuple(split), seed)
    reference = _label(kept, labels)
    manifest = _manifest(options, src, out_path, spec, kept, piece_splits, labels, reference, rejects, duplicates)
    with disk_errors(out_path):
        _write_archive(out_path, kept, manifest)
        atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        write_rejects(rejects_path, rejects, duplicates)
    return PrepareResult(path=out_path, manifest=manifest, count=len(kept), rejects=rejects,
                         duplicates=duplicates, manifest_path=manifest_path, rejects_path=rejects_path,
                         seconds=time.monotonic() - started)


def summary(result: PrepareResult) -> str:
    """A few lines for the terminal."""
    m = result.manifest
    spec = RollSpec.from_dict(m["roll_spec"])
    counts, pieces = m["split_counts"], m["piece_split_counts"]
    if m["label_names"]:
        labels = "mood labels: " + ", ".join(f"{name} {m['label_counts'][name]:,}" for name in m["label_names"])
    else:
        labels = "no labels"
    lines = [
        f"prepared {result.count:,} rolls of {spec.bars} bars ({len(spec.tracks)} track{'s' if len(spec.tracks) > 1 else ''}: "
        f"{', '.join(spec.tracks)}; "
        f"{spec.steps} steps x {spec.pitches} pitches) from {m['pieces']:,} pieces of {m['source']} -> "
        f"{result.path} in {result.seconds:.1f} s",
        f"  split {counts['train']:,} train / {counts['val']:,} val / {counts['test']:,} test rolls "
        f"({pieces['train']:,} / {pieces['val']:,} / {pieces['test']:,} pieces); {labels}",
        f"  {len(result.rejects):,} rejected, {len(result.duplicates):,} duplicates, {m['ignored']:,} other files "
        "ignored" + (f" (reasons: {result.rejects_path})" if result.rejects or result.duplicates else ""),
    ]
    return "\n".join(lines)
