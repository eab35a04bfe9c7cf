"""Mood from the music: valence from mode, arousal from pace; labels and accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artforge.data.pianoroll import RollSpec
from artforge.data.mood import (
    MOODS,
    arousal_of,
    consonance,
    measure_mood,
    mood_accuracy,
    mood_labels,
    note_density,
    quadrant,
)

SPEC = RollSpec(("melody", "chords"), bars=2)  # 32 steps, 8 beats

C_MAJOR = [60, 64, 67, 72, 71, 67, 65, 64, 62, 67, 65, 62, 60, 64, 67, 60]
A_MINOR = [57, 60, 64, 69, 68, 64, 62, 60, 59, 64, 62, 59, 57, 60, 64, 57]


def piece(melody, chord, note_steps):
    """A melody with notes of ``note_steps`` steps (cycled to fill the roll) over a held chord."""
    roll = np.zeros(SPEC.shape, np.uint8)
    for i, start in enumerate(range(0, SPEC.steps, note_steps)):
        row = melody[i % len(melody)] - SPEC.lowest
        roll[0, start:start + note_steps, row] = 1
        roll[0, start, row] = 2
    for p in chord:
        roll[1, :, p - 12 - SPEC.lowest] = 1
        roll[1, 0, p - 12 - SPEC.lowest] = 2
    return roll


FAST, SLOW = 2, 8  # eighth notes, half notes


@pytest.mark.parametrize("melody, chord, steps, tempo, mood", [
    (C_MAJOR, [48, 52, 55], FAST, 150, "joyful"),
    (C_MAJOR, [48, 52, 55], SLOW, 60, "tender"),
    (A_MINOR, [45, 48, 52], SLOW, 60, "sombre"),
    (A_MINOR, [45, 48, 52], FAST, 150, "tense"),
])
def test_hand_written_pieces_land_in_their_quadrant(melody, chord, steps, tempo, mood):
    m = measure_mood(piece(melody, chord, steps), SPEC, tempo)
    assert quadrant(m["valence"], m["arousal"]) == mood
    assert m["mode"] == ("major" if melody is C_MAJOR else "minor")
    assert m["tonic"] == (0 if melody is C_MAJOR else 9)
    assert abs(m["valence"]) > 0.3 and abs(m["arousal"]) > 0.3  # clearly, not by a hair


def test_density_and_arousal_scale():
    roll = piece(C_MAJOR, [], 4)  # quarter notes: 1 onset per beat
    assert note_density(roll, SPEC, 120) == pytest.approx(2.0)
    # Two voices starting together count once.
    both = roll.copy()
    both[1] = roll[0]
    assert note_density(both, SPEC, 120) == pytest.approx(2.0)
    assert arousal_of(2.0) == pytest.approx(0.0)
    assert arousal_of(4.0) == pytest.approx(math.tanh(1.0))
    assert arousal_of(1.0) == pytest.approx(-math.tanh(1.0))
    assert arousal_of(4.0, {"density": 4.0}) == pytest.approx(0.0)
    assert arousal_of(0.0) == -1.0
    assert measure_mood(roll, SPEC, 120)["arousal"] == pytest.approx(0.0)


def test_consonance():
    roll = np.zeros(SPEC.shape, np.uint8)
    roll[1, :, [36, 40, 43]] = 1  # C E G: 4, 3 and 7 semitones, all consonant
    assert consonance(roll, SPEC) == pytest.approx(1.0)
    roll[0, :, 37] = 1  # add C#: against C (1), E (3), G (6): 1 and 6 dissonant
    assert consonance(roll, SPEC) == pytest.approx(4 / 6)
    assert math.isnan(consonance(piece(C_MAJOR, [], 4), SPEC))  # a lone melody: no intervals


def test_consonance_can_move_valence():
    roll = piece(C_MAJOR, [48, 49, 50], SLOW)  # a cluster under the tune
    plain = measure_mood(roll, SPEC, 60)
    weighted = measure_mood(roll, SPEC, 60, {"consonance_weight": 0.5, "consonance": 0.9})
    assert weighted["valence"] < plain["valence"]


def test_quadrants():
    assert quadrant(0.5, 0.5) == "joyful"
    assert quadrant(-0.5, 0.5) == "tense"
    assert quadrant(-0.5, -0.5) == "sombre"
    assert quadrant(0.5, -0.5) == "tender"
    assert quadrant(0.0, 0.0) == "joyful"
    assert set(MOODS) == {"joyful", "tender", "sombre", "tense"}


def test_mood_labels_split_arousal_at_the_median():
    measured = [dict(valence=0.5, density=1.0), dict(valence=-0.5, density=2.0),
                dict(valence=0.5, density=3.0), dict(valence=-0.5, density=4.0)]
    labels, reference = mood_labels(measured)
    assert reference["density"] == pytest.approx(2.5)
    assert labels == ["tender", "sombre", "joyful", "tense"]
    # All pieces faster than the default reference: still split in two halves.
    fast = [dict(valence=0.5, density=d) for d in (8.0, 9.0, 10.0, 11.0)]
    labels, reference = mood_labels(fast)
    assert labels.count("joyful") == 2 and labels.count("tender") == 2
    # The reference judges new pieces on the same scale.
    assert measure_mood(piece(C_MAJOR, [], 1), SPEC, 120, reference)["arousal"] < 0  # 8/s < 9.5/s


def test_mood_accuracy_confusion():
    requested = ["joyful", "joyful", "tender", "sombre", "tense"]
    measured = [dict(valence=0.4, arousal=0.4),  # joyful: right
                dict(valence=0.4, arousal=-0.4),  # tender: right valence, wrong arousal
                dict(valence=0.2, arousal=-0.9),  # tender: right
                "tense",  # right valence, wrong arousal
                dict(valence=-0.3, arousal=0.1)]  # tense: right
    acc = mood_accuracy(requested, measured)
    assert acc["n"] == 5
    assert acc["accuracy"] == pytest.approx(3 / 5)
    assert acc["per_mood"] == {"joyful": 0.5, "tender": 1.0, "sombre": 0.0, "tense": 1.0}
    assert acc["valence_accuracy"] == pytest.approx(1.0)
    assert acc["arousal_accuracy"] == pytest.approx(3 / 5)
    # rows requested, columns measured, MOODS order: joyful, tender, sombre, tense
    assert acc["confusion"] == [[1, 1, 0, 0],
                                [0, 1, 0, 0],
                                [0, 0, 0, 1],
                                [0, 0, 0, 1]]
    assert math.isnan(mood_accuracy(["joyful"], ["joyful"])["per_mood"]["sombre"])
    with pytest.raises(ValueError):
        mood_accuracy(["happy"], ["joyful"])
    with pytest.raises(ValueError):
        mood_accuracy(["joyful", "tense"], ["joyful"])
