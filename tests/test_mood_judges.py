"""The independent mood judges: each on constructed inputs with a known answer, and the figures' math."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artforge.data.pianoroll import RollSpec

pytest.importorskip("music21")
from artforge.metrics import mood_judges as J  # noqa: E402

SPEC = RollSpec(("piano",), bars=4)  # one track that plays chords; a bar is 16 steps
RATE = 22050

C_MAJOR_CADENCE = [[48, 64, 67, 72], [53, 65, 69, 72], [43, 62, 67, 71], [48, 64, 67, 72]]  # I IV V I
A_MINOR_CADENCE = [[45, 64, 69, 72], [50, 65, 69, 74], [40, 64, 68, 71], [45, 64, 69, 72]]  # i iv V i (G#)


def chord_roll(chords, steps: int = 16) -> np.ndarray:
    roll = np.zeros(SPEC.shape, np.uint8)
    for i, chord in enumerate(chords):
        for p in chord:
            roll[0, i * steps:(i + 1) * steps, p - SPEC.lowest] = 1
            roll[0, i * steps, p - SPEC.lowest] = 2
    return roll


@pytest.mark.parametrize("profile", J.PROFILES)
def test_profiles_hear_a_major_cadence_as_major_and_a_harmonic_minor_one_as_minor(profile):
    major = J.valence_by_profiles(J.roll_stream(chord_roll(C_MAJOR_CADENCE), SPEC), profile)
    minor = J.valence_by_profiles(J.roll_stream(chord_roll(A_MINOR_CADENCE), SPEC), profile)
    assert (major["key"], major["valence"]) == ("C major", 1)
    assert (minor["key"], minor["valence"]) == ("A minor", -1)


def test_the_steering_profiles_are_refused_as_judges():
    stream = J.roll_stream(chord_roll(C_MAJOR_CADENCE), SPEC)
    for profile in J.STEERING_PROFILES:
        with pytest.raises(ValueError, match="what mood steering optimises"):
            J.valence_by_profiles(stream, profile)


def test_harmony_hears_the_tonic_triad_without_profiles():
    assert J.valence_by_harmony(J.roll_stream(chord_roll(C_MAJOR_CADENCE), SPEC)) == {
        "mode": "major", "triad": "C major", "valence": 1}
    assert J.valence_by_harmony(J.roll_stream(chord_roll(A_MINOR_CADENCE), SPEC)) == {
        "mode": "minor", "triad": "A minor", "valence": -1}
    silent = J.roll_stream(np.zeros(SPEC.shape, np.uint8), SPEC)
    assert J.valence_by_harmony(silent)["valence"] == 0 and J.valence_by_profiles(silent)["valence"] == 0


def test_the_most_sounded_triad_sums_durations_per_root_and_quality():
    chords = [(9, "minor", 1.0), (4, "major", 1.5), (9, "minor", 1.0), (2, "diminished", 4.0), (4, "major", 0.25)]
    assert J.most_sounded_triad(chords) == (9, "minor")  # 2.0 beats 1.75; the diminished one is no triad of a mode
    assert J.most_sounded_triad([(0, "other", 1.0)]) is None


def clicks(per_second: float, seconds: float = 4.0, amp: float = 0.5) -> np.ndarray:
    """Decaying noise bursts of 10 ms every 1 / per_second seconds from 0.25 s."""
    burst = np.random.default_rng(0).standard_normal(220) * np.exp(-np.arange(220) / 40)
    y = np.zeros(int(seconds * RATE), np.float32)
    for t in np.arange(0.25, seconds - 0.1, 1 / per_second):
        y[int(t * RATE):int(t * RATE) + 220] += amp * burst
    return y


def test_dense_clicks_have_a_higher_onset_rate_than_sparse_ones():
    pytest.importorskip("librosa", reason="the audio judge needs librosa (the music extra)")
    sparse, dense = J.audio_features(clicks(2), RATE), J.audio_features(clicks(8), RATE)
    assert dense["onset_rate"] > 3 * sparse["onset_rate"]
    assert dense["onset_rate"] * 4 == pytest.approx(len(np.arange(0.25, 3.9, 1 / 8)), abs=1)  # every click, once
    assert sparse["tempo"] == pytest.approx(120, rel=0.05)  # a click every half second
    assert dense["beat_rate"] > sparse["beat_rate"]


def test_twice_the_amplitude_is_six_decibels_louder():
    pytest.importorskip("librosa", reason="the audio judge needs librosa (the music extra)")
    t = np.arange(2 * RATE) / RATE
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    quiet, loud = J.audio_features(tone, RATE), J.audio_features(2 * tone, RATE)
    assert loud["rms_db"] - quiet["rms_db"] == pytest.approx(20 * math.log10(2), abs=0.01)
    assert quiet["rms_db"] == pytest.approx(20 * math.log10(0.2 / math.sqrt(2)), abs=0.1)  # a sine's RMS


def test_arousal_is_the_majority_of_the_features_against_the_real_medians():
    real = [{"onset_rate": r, "beat_rate": b, "tempo": t, "rms_db": d}
            for r, b, t, d in ((1, 1.5, 80, -30), (3, 2.5, 120, -20), (2, 2.0, 100, -25))]
    thresholds = J.arousal_thresholds(real)
    assert thresholds == {"onset_rate": 2.0, "beat_rate": 2.0, "tempo": 100.0, "rms_db": -25.0}
    lively = J.arousal_from_audio({"onset_rate": 2.5, "beat_rate": 1.0, "tempo": 90, "rms_db": -24}, thresholds)
    assert lively["votes"] == {"onset_rate": 1, "beat_rate": -1, "rms_db": 1} and lively["arousal"] == 1
    fast_tempo = {"onset_rate": 2.5, "beat_rate": 1.0, "tempo": 300, "rms_db": -25}  # at the RMS median: calm
    assert J.arousal_from_audio(fast_tempo, thresholds)["arousal"] == -1  # the tempo estimate has no vote


def test_the_combined_verdict_needs_both_valence_judges():
    assert J.combined_valence(1, 1) == 1 and J.combined_valence(-1, -1) == -1
    assert J.combined_valence(1, -1) == 0 and J.combined_valence(0, 1) == 0
    assert J.combined_valence(-1, 0) == -1  # no triad sounds (a lone melody): the key profiles decide
    assert J.judged_mood(1, -1) == "tender" and J.judged_mood(-1, 1) == "tense" and J.judged_mood(0, 1) is None


def test_wilson_interval_matches_the_formula():
    k, n, z = 37, 50, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = J.wilson_interval(k, n)
    assert low == pytest.approx(centre - half, abs=1e-9) and high == pytest.approx(centre + half, abs=1e-9)


def test_difference_interval_matches_newcombes_worked_example():
    d, low, high = J.difference_interval(56, 70, 48, 80)  # Newcombe (1998), Table II, method 10
    assert d == pytest.approx(0.2) and low == pytest.approx(0.0524, abs=5e-4) and high == pytest.approx(0.3339, abs=5e-4)


def test_judged_accuracy_counts_per_judge_and_mood():
    def verdict(vp, vh, a):
        v = J.combined_valence(vp, vh)
        return {"valence_profiles": vp, "valence_harmony": vh, "arousal_audio": a, "valence": v,
                "mood": J.judged_mood(v, a)}

    asked = ["joyful", "joyful", "sombre", "sombre"]
    got = [verdict(1, 1, 1), verdict(1, -1, 1), verdict(-1, -1, 1), verdict(-1, -1, -1)]
    acc = J.judged_accuracy(asked, got)
    assert acc["in_quadrant"]["overall"]["hits"] == 2 and acc["in_quadrant"]["per_mood"]["joyful"]["share"] == 0.5
    assert acc["valence_profiles"]["overall"]["share"] == 1.0 and acc["valence_harmony"]["overall"]["share"] == 0.75
    assert acc["arousal_audio"]["per_mood"]["sombre"]["share"] == 0.5
    assert acc["confusion"][0] == [1, 0, 0, 0, 1] and acc["confusion"][2] == [0, 0, 1, 1, 0]  # the last: undecided


def test_the_calibration_half_is_chosen_by_piece_among_the_eligible():
    pieces = [f"bach/bwv{i}" for i in range(200) for _ in range(3)]  # three rolls a piece
    train = np.array([i < 150 for i in range(200) for _ in range(3)])
    half = J.calibration_split(pieces, train)
    per_piece = half.reshape(200, 3)
    assert (per_piece == per_piece[:, :1]).all()  # a piece's rolls stay together
    assert per_piece[:, 0].sum() == 75 and not per_piece[150:].any()  # half the training pieces, no others
    assert J.calibration_split(["a", "a", "b"]).tolist() in ([True, True, False], [False, False, True])
    assert not J.calibration_split(["only"]).any()  # one piece cannot be split


def test_fluidsynth_renders_pieces_in_one_run_and_cuts_them_apart():
    from artforge.utils.synth import can_render

    if not can_render():
        pytest.skip("FluidSynth or a General MIDI soundfont is not installed (apt-get install fluidsynth fluid-soundfont-gm)")
    pytest.importorskip("librosa", reason="the audio judge needs librosa (the music extra)")
    slow = chord_roll(C_MAJOR_CADENCE)  # four whole-bar chords
    fast = chord_roll([c for c in C_MAJOR_CADENCE for _ in range(4)], steps=4)  # the same, a chord a beat
    together = J.render_pieces(np.stack([slow, fast]), SPEC, [120.0, 120.0])
    alone = J.render_pieces(fast[None], SPEC, [120.0])
    assert [len(w) for w in together] == [int((8 + J.TAIL_S) * RATE)] * 2  # 16 beats at 120 BPM, then the tail
    f_slow, f_fast = (J.audio_features(w, RATE) for w in together)
    assert f_fast["onset_rate"] > 2 * f_slow["onset_rate"]
    assert J.audio_features(alone[0], RATE)["onset_rate"] == pytest.approx(f_fast["onset_rate"], rel=0.05)
