"""Judges of a piece's mood that mood steering never sees.

Steering (ops/mood_guide.py) moves a piece's latent until the Krumhansl-Kessler key correlations of
its roll and its onset density, made differentiable, say the asked mood; ``measure_mood`` computes
the same two numbers, so it can only say whether the optimiser converged. These judges measure the
same musical qualities, mode for valence and pace for arousal, by other means:

* ``valence_by_profiles``: music21's key finder with another profile set (Temperley-Kostka-Payne by
  default; Aarden-Essen and Bellman-Budge offered; the Krumhansl profiles are refused) on a music21
  stream of the piece (note durations weight the pitch classes);
* ``valence_by_harmony``: no profile at all: the piece is chordified (music21) and the quality
  (major or minor) of its most-sounded triad, by duration, decides; in a chorale the most-sounded
  triad is usually the tonic's;
* ``arousal_from_audio``: the piece rendered by FluidSynth (as ``artforge sample`` renders it), and
  from the sound, by librosa: onset rate, beat rate (beats the beat tracker finds per second) and
  loudness (mean RMS in dB). Each votes "lively" when it is above the median of REAL training pieces'
  renders (``arousal_thresholds``, computed on a calibration half of the training pieces, by piece,
  that is not used to report agreement); the majority of the three votes is the verdict. librosa's
  tempo estimate is measured and reported but is not a vote: every chorale plays at 120 BPM here and
  on the calibration half of the Bach set the estimate ran against note density (it agreed with the
  arousal labels on 37% of excerpts, worse than chance; onset rate, beat rate and RMS on 67-73%:
  ``python benchmarks/mood_judge_calibration.py``).

Many pieces are rendered in one FluidSynth run (loading the soundfont costs ~0.8 s a run), 3 s apart;
the synthesizer's chorus and reverb state carries over a little, so a piece's features can differ
slightly with its neighbours (a few excerpts near a median can change sides).

The combined verdict (``judged_mood``): valence is positive when both valence judges say major,
negative when both say minor, undecided (so never in the asked quadrant) when they disagree (a piece
without any major or minor triad, e.g. a lone melody, takes the profiles' verdict); arousal is the
audio majority. Heavy imports (music21, librosa, soundfile) are inside the functions.
"""

from __future__ import annotations

import math
import tempfile
import zlib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

PROFILES = ("TemperleyKostkaPayne", "AardenEssen", "BellmanBudge")
STEERING_PROFILES = ("KrumhanslSchmuckler", "KrumhanslKessler")  # what steering optimises: never a judge
AUDIO_FEATURES = ("onset_rate", "beat_rate", "tempo", "rms_db")
ARO_VOTES = ("onset_rate", "beat_rate", "rms_db")  # tempo is reported, not a vote (see the module's doc)
ONSET_DELTA = 0.02
AUDIO_RATE = 22050  # composing.RATE: the rate artforge sample renders at
GAP_S = 3.0  # silence between pieces rendered in one FluidSynth run: the reverb's tail dies in it
TAIL_S = 1.0  # what is kept of it after each piece: the last notes' release, as in a WAV of sample
RENDER_CHUNK = 64  # pieces per FluidSynth run (loading the soundfont takes ~0.8 s)
JUDGES = ("valence_profiles", "valence_harmony", "arousal_audio")
LIBROSA_FIX = "pip install 'artforge[music]' (librosa) for the audio judge of arousal"


def _music21():
    try:
        import music21
    except ImportError:
        raise DataError("the mood judges need music21", "pip install 'artforge[music]'") from None
    return music21


def _librosa():
    try:
        import librosa
    except ImportError:
        raise DataError("the audio judge of arousal needs librosa", LIBROSA_FIX) from None
    return librosa


def roll_stream(roll: np.ndarray, spec):
    """A music21 Stream of one roll's notes (melodic tracks; drums left out), offsets in quarter notes."""
    from ..data.pianoroll import roll_notes

    music21 = _music21()
    s = music21.stream.Stream()
    quarter = 1.0 / spec.steps_per_beat
    for track, row, start, end in roll_notes(np.asarray(roll)):
        if spec.drums[int(track)]:
            continue
        n = music21.note.Note(int(row) + spec.lowest)
        n.quarterLength = float(end - start) * quarter
        s.insert(float(start) * quarter, n)
    return s


def _valence_of_mode(mode: str | None) -> int:
    return {"major": 1, "minor": -1}.get(mode or "", 0)


def valence_by_profiles(stream, profile: str = "TemperleyKostkaPayne") -> dict[str, Any]:
    """music21's key of the stream with ``profile``: ``mode``, ``key`` and ``valence`` (+1 major, -1
    minor, 0 for a stream without notes)."""
    if profile in STEERING_PROFILES:
        raise ValueError(f"{profile} is what mood steering optimises; judge with one of {', '.join(PROFILES)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown key profile {profile!r}; use one of {', '.join(PROFILES)}")
    music21 = _music21()
    if not stream.recurse().notes:
        return {"mode": None, "key": None, "valence": 0}
    key = getattr(music21.analysis.discrete, profile)().getSolution(stream)
    return {"mode": key.mode, "key": f"{key.tonic.name} {key.mode}", "valence": _valence_of_mode(key.mode)}


def most_sounded_triad(chords: Sequence[tuple[int, str, float]]) -> tuple[int, str] | None:
    """(root pitch class, quality) of the major or minor triad sounding longest in total, from
    (root, quality, quarter notes) per chord; None when there is none. Ties: the first to sound."""
    total: dict[tuple[int, str], float] = defaultdict(float)
    for root, quality, length in chords:
        if quality in ("major", "minor"):
            total[(int(root), quality)] += float(length)
    return max(total, key=total.get) if total else None


def valence_by_harmony(stream) -> dict[str, Any]:
    """The mode of the harmony, with no key profile: chordify the stream and take the quality of its
    most-sounded major or minor triad (by duration). ``valence`` +1 major, -1 minor, 0 without one."""
    chords = [(c.root().pitchClass, c.quality, float(c.quarterLength))
              for c in stream.chordify().recurse().getElementsByClass("Chord")]
    top = most_sounded_triad(chords)
    if top is None:
        return {"mode": None, "triad": None, "valence": 0}
    from ..data.music_key import PITCH_NAMES

    return {"mode": top[1], "triad": f"{PITCH_NAMES[top[0]]} {top[1]}", "valence": _valence_of_mode(top[1])}


def audio_features(wave: np.ndarray, rate: int) -> dict[str, float]:
    """By librosa, over the whole wave: onset rate and beat rate (onsets and tracked beats per second),
    tempo (the beat tracker's estimate, BPM) and mean RMS (dB). A silent wave: 0, 0, 0, -120 dB."""
    librosa = _librosa()
    y = np.asarray(wave, np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if not len(y) or float(np.abs(y).max()) < 1e-6:
        return {"onset_rate": 0.0, "beat_rate": 0.0, "tempo": 0.0, "rms_db": -120.0}
    seconds = len(y) / rate
    envelope = librosa.onset.onset_strength(y=y, sr=rate)
    # delta 0.02, not librosa's 0.07: bowed strings (the SATB programs) start notes softly and at 0.07
    # librosa misses most note changes (chosen on the calibration half: benchmarks/mood_judge_calibration.py)
    onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=rate, delta=ONSET_DELTA)
    tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=rate)
    rms = float(librosa.feature.rms(y=y).mean())
    return {"onset_rate": len(onsets) / seconds, "beat_rate": len(beats) / seconds,
            "tempo": float(np.atleast_1d(tempo)[0]), "rms_db": 20 * math.log10(max(rms, 1e-6))}


def arousal_thresholds(features: Sequence[dict[str, float]]) -> dict[str, float]:
    """The median of each audio feature over real pieces' renders: the line between calm and lively."""
    if not features:
        raise ValueError("no real pieces to calibrate the arousal judge on")
    return {k: float(np.median([f[k] for f in features])) for k in AUDIO_FEATURES}


def arousal_from_audio(features: dict[str, float], thresholds: dict[str, float]) -> dict[str, Any]:
    """Onset rate, beat rate and RMS each vote lively (+1) above their threshold, else calm (-1);
    ``arousal`` is the majority."""
    votes = {k: 1 if features[k] > thresholds[k] else -1 for k in ARO_VOTES}
    return {**features, "votes": votes, "arousal": 1 if sum(votes.values()) > 0 else -1}


def combined_valence(by_profiles: int, by_harmony: int) -> int:
    """+1 or -1 when both valence judges say so, 0 (undecided) when they disagree; where no major or
    minor triad sounds at all (a lone melody: the harmony judge has nothing to say), the profiles'."""
    if by_harmony == 0:
        return by_profiles
    return by_profiles if by_profiles == by_harmony else 0


MOOD_OF_SIGNS = {(1, 1): "joyful", (1, -1): "tender", (-1, -1): "sombre", (-1, 1): "tense"}


def judged_mood(valence: int, arousal: int) -> str | None:
    """The quadrant of a verdict; None when valence is undecided."""
    return MOOD_OF_SIGNS.get((valence, arousal))


# ---------------------------------------------------------------------------------------------
# Rendering many pieces: one FluidSynth run for a chunk of pieces, cut apart afterwards


def render_pieces(rolls: np.ndarray, spec, tempos: Sequence[float], rate: int = AUDIO_RATE) -> list[np.ndarray]:
    """Mono waves of the rolls as ``artforge sample`` renders them (roll_to_midi's instruments and
    velocity, FluidSynth with the first General MIDI soundfont installed), ``RENDER_CHUNK`` pieces per
    FluidSynth run, ``GAP_S`` of silence between pieces. DataError with the fix without FluidSynth."""
    from ..utils.synth import HOW_TO_GET, can_render

    if not can_render():
        raise DataError("the audio judge of arousal renders pieces with FluidSynth, which is not installed", HOW_TO_GET)
    waves: list[np.ndarray] = []
    for start in range(0, len(rolls), RENDER_CHUNK):
        waves += _render_chunk(rolls[start:start + RENDER_CHUNK], spec, tempos[start:start + RENDER_CHUNK], rate)
    return waves


def _render_chunk(rolls, spec, tempos, rate: int) -> list[np.ndarray]:
    import pretty_midi
    import soundfile

    from ..data.music_files import roll_to_midi
    from ..utils.synth import render_midi_file

    merged = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    tracks: dict[tuple[int, bool, str], Any] = {}
    spans, offset = [], 0.0
    for roll, tempo in zip(rolls, tempos):
        pm = roll_to_midi(roll, spec, tempo=float(tempo))
        length = spec.steps_per_bar * spec.bars / spec.steps_per_beat * 60.0 / float(tempo)
        for inst in pm.instruments:  # one instrument per track for all pieces: 16 MIDI channels at most
            key = (inst.program, inst.is_drum, inst.name)
            if key not in tracks:
                tracks[key] = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
            for n in inst.notes:
                tracks[key].notes.append(pretty_midi.Note(n.velocity, n.pitch, n.start + offset, n.end + offset))
        spans.append((offset, offset + length + TAIL_S))
        offset += length + GAP_S
    merged.instruments.extend(tracks.values())
    if not any(t.notes for t in tracks.values()):
        return [np.zeros(int((b - a) * rate), np.float32) for a, b in spans]
    with tempfile.TemporaryDirectory(prefix="artforge-judge-") as tmp:
        midi, wav = Path(tmp) / "pieces.mid", Path(tmp) / "pieces.wav"
        merged.write(str(midi))
        render_midi_file(midi, wav, rate)
        audio, got_rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if got_rate != rate:
        raise DataError(f"FluidSynth rendered at {got_rate} Hz, asked {rate}", "update FluidSynth")
    audio = np.pad(audio, (0, max(0, int(spans[-1][1] * rate) - len(audio))))
    return [audio[int(a * rate):int(b * rate)] for a, b in spans]


# ---------------------------------------------------------------------------------------------
# Judging pieces, and the figures


def judge_pieces(rolls: np.ndarray, spec, tempos: Sequence[float], thresholds: dict[str, float] | None,
                 profile: str = "TemperleyKostkaPayne", progress=None) -> list[dict[str, Any]]:
    """Every judge's verdict on each roll. Without ``thresholds`` (calibration) the audio features are
    returned without a verdict. ``progress`` (optional) wraps the loop over pieces."""
    waves = render_pieces(np.asarray(rolls), spec, list(tempos))
    out = []
    pieces = range(len(rolls)) if progress is None else progress(range(len(rolls)))
    for i in pieces:
        stream = roll_stream(rolls[i], spec)
        by_profiles = valence_by_profiles(stream, profile)
        by_harmony = valence_by_harmony(stream)
        features = audio_features(waves[i], AUDIO_RATE)
        verdict: dict[str, Any] = {"valence_profiles": by_profiles["valence"], "valence_harmony": by_harmony["valence"],
                                   "audio": features}
        if thresholds is not None:
            verdict["arousal_audio"] = arousal_from_audio(features, thresholds)["arousal"]
            verdict["valence"] = combined_valence(by_profiles["valence"], by_harmony["valence"])
            verdict["mood"] = judged_mood(verdict["valence"], verdict["arousal_audio"])
        out.append(verdict)
    return out


def wilson_interval(hits: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (scipy); (nan, nan) for n = 0."""
    if n == 0:
        return (float("nan"), float("nan"))
    from scipy.stats import binomtest

    ci = binomtest(int(hits), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return (float(ci.low), float(ci.high))


def difference_interval(hits_a: int, n_a: int, hits_b: int, n_b: int) -> tuple[float, float, float]:
    """The difference of two proportions a - b and its 95% interval by Newcombe's (1998) hybrid score
    method (from the two Wilson intervals). For the same seeds judged twice (paired) it is conservative."""
    p_a, p_b = hits_a / n_a, hits_b / n_b
    (low_a, high_a), (low_b, high_b) = wilson_interval(hits_a, n_a), wilson_interval(hits_b, n_b)
    d = p_a - p_b
    return (d, d - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2),
            d + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2))


def _share(hits: Sequence[bool]) -> dict[str, Any]:
    k, n = int(sum(hits)), len(hits)
    low, high = wilson_interval(k, n)
    return {"share": k / n if n else float("nan"), "low": low, "high": high, "hits": k, "n": n}


def judged_accuracy(requested: Sequence[str], verdicts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """How often the independent judges put pieces where they were asked, with 95% Wilson intervals.

    For each of ``in_quadrant`` (the combined verdict), ``valence`` (both valence judges right),
    ``valence_profiles``, ``valence_harmony`` and ``arousal_audio``: ``overall`` and ``per_mood``
    {share, low, high, hits, n}; ``confusion`` rows asked, columns judged (MOODS, then undecided)."""
    from ..data.mood import MOOD_SIGNS, MOODS

    if len(requested) != len(verdicts):
        raise ValueError(f"{len(requested)} requested moods vs {len(verdicts)} verdicts")
    checks = {
        "in_quadrant": lambda want, v: v["mood"] == want,
        "valence": lambda want, v: v["valence"] == MOOD_SIGNS[want][0],
        "valence_profiles": lambda want, v: v["valence_profiles"] == MOOD_SIGNS[want][0],
        "valence_harmony": lambda want, v: v["valence_harmony"] == MOOD_SIGNS[want][0],
        "arousal_audio": lambda want, v: v["arousal_audio"] == MOOD_SIGNS[want][1],
    }
    out: dict[str, Any] = {"n": len(requested)}
    for name, check in checks.items():
        hits = [check(w, v) for w, v in zip(requested, verdicts)]
        out[name] = {"overall": _share(hits),
                     "per_mood": {m: _share([h for w, h in zip(requested, hits) if w == m]) for m in MOODS}}
    columns = list(MOODS) + [None]
    confusion = np.zeros((4, 5), int)
    for want, v in zip(requested, verdicts):
        confusion[MOODS.index(want), columns.index(v["mood"])] += 1
    out["confusion"] = confusion.tolist()
    out["confusion_columns"] = list(MOODS) + ["undecided"]
    return out


def calibration_split(pieces: Sequence[str], eligible: Sequence[bool] | None = None) -> np.ndarray:
    """True for the items of the calibration half: of the eligible items' pieces, sorted by a stable
    hash of their names, the first half (a piece's items stay together). The audio thresholds come from
    these; the judges' agreement with the labels is reported on the other items."""
    pieces = [str(p) for p in pieces]
    eligible = np.ones(len(pieces), bool) if eligible is None else np.asarray(eligible, bool)
    names = sorted({p for p, e in zip(pieces, eligible) if e}, key=lambda p: (zlib.crc32(p.encode()), p))
    chosen = set(names[:len(names) // 2])
    return np.array([e and p in chosen for p, e in zip(pieces, eligible)], bool)
