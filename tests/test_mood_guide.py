"""Mood guidance: the differentiable mood agrees with the measurement it copies, and the optimiser reaches
its objective (mechanics). Whether steered pieces are *heard* in the asked mood is not judged here by
the objective itself: where a test asks that, an independent judge (metrics/mood_judges.py) answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artforge.data.pianoroll import RollSpec
from artforge.data.mood import measure_mood, quadrant
from artforge.ops.mood_guide import (
    MoodGuide,
    arousal_argument,
    key_correlations,
    onset_steps,
    steering_loss,
    straight_through_notes,
    valence_argument,
)
from tests.test_mood import A_MINOR, C_MAJOR, FAST, SLOW, SPEC, piece

REFERENCE = {"density": 2.0, "octaves": 1.0, "mode_scale": 0.1, "consonance": 0.75, "consonance_weight": 0.0}
EXTRAS = {"roll_spec": SPEC.to_dict(), "mood_reference": REFERENCE,
          "label_tempos": {"joyful": 150.0, "tender": 60.0, "sombre": 60.0, "tense": 150.0}}
MOODS = ["joyful", "tender", "sombre", "tense"]


def as_model(rolls: np.ndarray) -> torch.Tensor:
    return torch.from_numpy((np.asarray(rolls) > 0).astype(np.float32) * 2 - 1)


def test_straight_through_is_the_binary_roll_forward_and_the_soft_one_backward():
    x = torch.tensor([-0.9, -0.1, 0.2, 0.95], requires_grad=True)
    notes = straight_through_notes(x)
    assert notes.tolist() == [0, 0, 1, 1]
    notes.sum().backward()
    assert torch.allclose(x.grad, torch.full((4,), 0.5))  # d((x + 1) / 2) / dx


def test_key_correlations_match_numpy_pearson():
    from artforge.data.music_key import KK_MAJOR, KK_MINOR

    hist = torch.rand(3, 12, generator=torch.Generator().manual_seed(0))
    r = key_correlations(hist)
    for b in range(3):
        for m, profile in enumerate((KK_MAJOR, KK_MINOR)):
            for tonic in (0, 5, 11):
                want = np.corrcoef(hist[b].numpy(), np.roll(profile, tonic))[0, 1]
                assert abs(float(r[b, m, tonic]) - want) < 1e-5


def test_onset_steps_count_steps_with_a_start_and_share_the_gradient():
    roll = np.zeros((1, 2, 8, 12), np.uint8)
    roll[0, 0, 0, 0] = 1  # one-step notes: nothing is held into the next step
    roll[0, 1, 0, 4] = 1  # starts at 0 too: the same step
    roll[0, 1, 5, 7] = 1  # starts at 5
    x = as_model(roll).requires_grad_(True)
    count = onset_steps(straight_through_notes(x))
    assert count.tolist() == [2.0]
    count.sum().backward()
    # step 0 has two onsets: each gets half of its gradient (the soft roll's 0.5 times 1/2)
    assert float(x.grad[0, 0, 0, 0]) == pytest.approx(0.25) and float(x.grad[0, 1, 0, 4]) == pytest.approx(0.25)
    assert float(x.grad[0, 1, 5, 7]) == pytest.approx(0.5)
    assert float(x.grad[0, 0, 2, 9]) == pytest.approx(0.5)  # a step without onsets: any note would add one


@pytest.mark.parametrize("melody, chord, steps, tempo", [
    (C_MAJOR, [48, 52, 55], FAST, 150), (C_MAJOR, [48, 52, 55], SLOW, 60),
    (A_MINOR, [45, 48, 52], SLOW, 60), (A_MINOR, [45, 48, 52], FAST, 150),
])
def test_the_soft_measure_equals_measure_mood_on_hand_written_pieces(melody, chord, steps, tempo):
    roll = piece(melody, chord, steps)
    binary = (roll > 0).astype(np.uint8)  # what G can say: a note sounds or not (onsets where it turns on)
    want = measure_mood(binary, SPEC, tempo, REFERENCE)
    notes = straight_through_notes(as_model(binary[None]))
    valence = torch.tanh(valence_argument(notes, SPEC.lowest, REFERENCE["mode_scale"]))
    arousal = torch.tanh(arousal_argument(notes, SPEC.steps_per_beat, torch.tensor([float(tempo)]),
                                          REFERENCE["density"], REFERENCE["octaves"]))
    assert float(valence) == pytest.approx(want["valence"], abs=1e-5)
    assert float(arousal) == pytest.approx(want["arousal"], abs=1e-5)


def test_the_soft_measure_equals_measure_mood_on_random_rolls():
    rng = np.random.default_rng(3)
    rolls = (rng.random((6, 2, SPEC.steps, SPEC.pitches)) < 0.04).astype(np.uint8)
    notes = straight_through_notes(as_model(rolls))
    tempo = torch.full((6,), 90.0)
    valence = torch.tanh(valence_argument(notes, SPEC.lowest, 0.1)).numpy()
    arousal = torch.tanh(arousal_argument(notes, SPEC.steps_per_beat, tempo, 2.0, 1.0)).numpy()
    for i, roll in enumerate(rolls):
        m = measure_mood(roll, SPEC, 90.0, REFERENCE)
        assert valence[i] == pytest.approx(m["valence"], abs=1e-5)
        assert arousal[i] == pytest.approx(m["arousal"], abs=1e-5)


def test_steering_loss_is_zero_within_the_tolerance_and_squared_beyond():
    v, a = torch.atanh(torch.tensor([0.7, 0.2])), torch.atanh(torch.tensor([-0.9, 0.4]))
    targets = torch.tensor([[1.0, -1.0], [-1.0, 0.0]])
    loss = steering_loss(v, a, targets, 0.5)
    assert float(loss[0]) == pytest.approx(0.0, abs=1e-12)  # 0.7 of 1 and -0.9 of -1: both within 0.5
    assert float(loss[1]) == pytest.approx((1.2 - 0.5) ** 2, rel=1e-5)  # valence 0.2 asked -1; arousal 0.4 of 0 ok


def test_targets_and_tempos_follow_the_labels_and_the_plane():
    from artforge.composing import mood_weights

    guide = MoodGuide.for_model(MOODS, EXTRAS)
    assert guide.targets(torch.tensor([0, 2])).tolist() == [[1.0, 1.0], [-1.0, -1.0]]
    point = mood_weights(0.5, -0.25)[None]
    assert torch.allclose(guide.targets(point), torch.tensor([[0.5, -0.25]]))  # a point asks for itself
    assert torch.allclose(guide.tempos(torch.tensor([0, 1])), torch.tensor([150.0, 60.0]))
    middle = guide.tempos(mood_weights(0.0, 0.0)[None])
    assert float(middle) == pytest.approx((150 * 60) ** 0.5, rel=1e-5)  # the geometric mean


def _descend_towards(mood: str, start: torch.Tensor, steps: int = 200) -> torch.Tensor:
    guide = MoodGuide.for_model(MOODS, EXTRAS)
    asked = torch.tensor([MOODS.index(mood)])
    logits = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        guide.loss(torch.tanh(logits), asked, 0.5).sum().backward()
        opt.step()
    return logits.detach()


def test_mechanics_descending_the_guide_reaches_its_objective():
    """Mechanics only (not a judgement of mood): the loss reaches 0, i.e. the steering objective's own
    measure says the asked quadrant."""
    guide = MoodGuide.for_model(MOODS, EXTRAS)
    start = as_model(piece(C_MAJOR, [48, 52, 55], FAST)[None]) * 3  # logits-like: tanh keeps it in [-1, 1]
    asked = torch.tensor([MOODS.index("sombre")])
    assert float(guide.loss(torch.tanh(start), asked, 0.5)) > 0  # can fail: a fast C major piece is not sombre yet
    logits = _descend_towards("sombre", start)
    assert float(guide.loss(torch.tanh(logits), asked, 0.5)) == 0.0
    objective = measure_mood((logits[0] > 0).numpy().astype(np.uint8), SPEC, EXTRAS["label_tempos"]["sombre"],
                             REFERENCE)  # the function the guide copies: the objective, not a judge
    assert quadrant(objective["valence"], objective["arousal"]) == "sombre"


def test_an_independent_key_judge_hears_the_descended_piece_turn_minor():
    """Judged by music21's Temperley-Kostka-Payne key finder, which the guide never sees."""
    pytest.importorskip("music21")
    from artforge.metrics.mood_judges import roll_stream, valence_by_profiles

    start = as_model(piece(C_MAJOR, [48, 52, 55], FAST)[None]) * 3
    before = valence_by_profiles(roll_stream((start[0] > 0).numpy().astype(np.uint8), SPEC))
    after = valence_by_profiles(roll_stream((_descend_towards("sombre", start)[0] > 0).numpy().astype(np.uint8),
                                            SPEC))
    assert before["key"] == "C major" and after["valence"] == -1  # (the profile-free harmony judge still
    # hears the C major triad here: the guide adds notes around it rather than changing it)


def test_a_guide_needs_mood_labels_and_the_mood_extras():
    assert MoodGuide.for_model(["kick", "snare", "hat", "tom"], EXTRAS) is None
    assert MoodGuide.for_model(MOODS, {"roll_spec": SPEC.to_dict()}) is None
    guide = MoodGuide.for_model(MOODS, EXTRAS)
    rolls = as_model(np.stack([piece(A_MINOR, [45, 48, 52], SLOW)] * 2))
    loss = guide.loss(rolls, torch.tensor([2, 0]), 0.5)  # a sombre piece asked to be sombre, then joyful
    assert float(loss[0]) == 0.0 and float(loss[1]) > 0  # can fail: a sombre piece is not joyful
    with pytest.raises(ValueError, match="four mood labels"):
        MoodGuide(["a", "b"], SPEC.to_dict(), REFERENCE, {})


def test_drum_tracks_stay_out_of_the_key():
    spec = RollSpec(("melody", "drums"), bars=2, drums=(False, True))
    roll = piece(C_MAJOR, [], FAST)
    roll[1] = 0
    roll[1, :, :12] = 1  # drum hits on every low row: noise to the histogram if counted
    melodic = torch.tensor([True, False])
    with_drums = valence_argument(straight_through_notes(as_model(roll[None])), spec.lowest, 0.1, melodic)
    roll[1] = 0
    without = valence_argument(straight_through_notes(as_model(roll[None])), spec.lowest, 0.1)
    assert torch.allclose(with_drums, without)


class _TinyMusicModel:
    """What steering needs of a loaded run: a G of (z, labels), the mood labels and the data's extras."""

    def __init__(self):
        torch.manual_seed(0)
        self.net = torch.nn.Linear(16, 2 * SPEC.steps * SPEC.pitches)
        self.label_names, self.extras, self.device = MOODS, EXTRAS, torch.device("cpu")

    def G(self, z, c):
        return torch.tanh(self.net(z) - 1.5).reshape(len(z), 2, SPEC.steps, SPEC.pitches)


def test_mechanics_steering_reaches_the_objective_and_leaves_pieces_already_there():
    """Mechanics only (not a judgement of mood): more pieces reach zero steering loss, i.e. the
    objective's own measure; the independent judges' figures come from artforge evaluate."""
    from artforge.composing import steer_latents

    model = _TinyMusicModel()
    guide = MoodGuide.for_model(MOODS, EXTRAS)
    z = torch.randn(40, 16, generator=torch.Generator().manual_seed(1))
    c = torch.arange(40) % 4
    with torch.no_grad():
        steered = steer_latents(model, z, c, 50)
        loss_before, loss_after = guide.loss(model.G(z, c), c, 0.5), guide.loss(model.G(steered, c), c, 0.5)
    reached_before, reached_after = int((loss_before == 0).sum()), int((loss_after == 0).sum())
    assert reached_after >= reached_before + 8, (reached_before, reached_after)
    assert torch.equal(steered[loss_before == 0], z[loss_before == 0])  # already there: not moved at all
    assert torch.equal(steer_latents(model, z, c, 0), z)
    # a piece's steering does not depend on the others in its pass
    assert torch.allclose(steer_latents(model, z[5:6], c[5:6], 50), steered[5:6], atol=1e-5)


def test_a_bar_falling_silent_costs_the_bar_weight():
    from artforge.ops.mood_guide import bars_sounding

    roll = np.zeros((1, 2, SPEC.steps, SPEC.pitches), np.uint8)
    roll[0, 0, 0:4, 40] = 1  # track 0 plays in bar 0 only (16 steps a bar)
    roll[0, 1, 16:20, 30] = roll[0, 1, 20:22, 31] = 1  # track 1 in bar 1 (two notes)
    notes = straight_through_notes(as_model(roll))
    assert bars_sounding(notes, SPEC.bars).tolist() == [[[1.0, 0.0], [0.0, 1.0]]]
    guide = MoodGuide.for_model(MOODS, EXTRAS)
    x = as_model(roll)
    keep = torch.ones(1, 2, 2)  # both tracks were playing in both bars
    plain = guide.loss(x, torch.tensor([0]), 0.5)
    kept = guide.loss(x, torch.tensor([0]), 0.5, keep, bar_weight=0.1)
    assert float(kept - plain) == pytest.approx(0.2)  # two track-bars fell silent
