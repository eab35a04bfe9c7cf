"""Mood steering: the mood measurement of data/mood.py made differentiable, on G's output.

A mood label asks for a target on each axis of the valence-arousal plane. The measurement that judges
a piece (``measure_mood``) reads a binary roll: valence from the Krumhansl-Kessler correlations of
its pitch-class histogram (best major minus best minor, over ``mode_scale``), arousal from the steps
on which some note starts (``log2(density / reference) / octaves``). Here the same formulas run on
G's output with a *straight-through* binarization: the forward pass sees exactly the roll that will
be played (a note where G's output is > 0), so the values equal the measured ones (tested against
``measure_mood``); the backward pass takes the gradient of the soft roll ``(x + 1) / 2``.
"Some note starts on step t" is ``S_t / max(S_t, 1)`` with ``S_t`` the step's onsets and the
denominator detached: exactly 0 or 1 on a binary roll, and every onset of a busy step shares the
gradient (a product ``1 - prod(1 - o)`` would give none of them any while another one sounds).

``composing.steer_latents`` descends ``MoodGuide.loss`` in each piece's latent at sampling time.
As a training loss on G it was tried and dropped: at weights 0.03 to 1 on the Bach chorales its
gradient swamped the adversarial one and G fell into dotted, noisy rolls (docs/sound-music.md).
Each piece plays at its label's tempo (the median of its mood's training pieces, as sampling does),
so a faster mood needs fewer notes per beat for the same density, as the measurement judges it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

from ..data.music_key import KK_MAJOR, KK_MINOR
from ..data.mood import MOOD_SIGNS


def straight_through_notes(x: Tensor) -> Tensor:
    """G's output in [-1, 1] -> 1 where a note sounds (x > 0), else 0; gradient of (x + 1) / 2."""
    soft = (x + 1) / 2
    return (x > 0).to(x.dtype) + soft - soft.detach()


def pitch_class_histogram(notes: Tensor, lowest: int, melodic: Tensor | None = None) -> Tensor:
    """(B, tracks, steps, pitches) notes -> (B, 12) sounding steps per pitch class (drums left out)."""
    if melodic is not None:
        notes = notes[:, melodic]
    per_pitch = notes.sum(dim=(1, 2))  # (B, pitches)
    classes = (lowest + torch.arange(per_pitch.shape[1], device=notes.device)) % 12
    return torch.zeros(len(notes), 12, device=notes.device, dtype=notes.dtype).index_add_(1, classes, per_pitch)


def key_profiles(device=None, dtype=torch.float32) -> Tensor:
    """(2, 12, 12): the major and minor Krumhansl-Kessler profiles rotated to each tonic."""
    rows = [[torch.roll(torch.tensor(p, dtype=dtype), t) for t in range(12)] for p in (KK_MAJOR, KK_MINOR)]
    return torch.stack([torch.stack(r) for r in rows]).to(device)


def key_correlations(hist: Tensor) -> Tensor:
    """(B, 12) histograms -> (B, 2, 12) Pearson correlations with every major and minor key."""
    profiles = key_profiles(hist.device, hist.dtype)
    h = hist - hist.mean(dim=1, keepdim=True)
    p = profiles - profiles.mean(dim=2, keepdim=True)
    cov = torch.einsum("bk,mtk->bmt", h, p)
    return cov / (h.norm(dim=1)[:, None, None] * p.norm(dim=2)[None] + 1e-8)


def valence_argument(notes: Tensor, lowest: int, mode_scale: float, melodic: Tensor | None = None) -> Tensor:
    """(B,) best major minus best minor correlation over ``mode_scale``: valence is its tanh."""
    r = key_correlations(pitch_class_histogram(notes, lowest, melodic))
    return (r[:, 0].max(dim=1).values - r[:, 1].max(dim=1).values) / mode_scale


def onset_steps(notes: Tensor) -> Tensor:
    """(B, tracks, steps, pitches) notes -> (B,) steps on which at least one note starts."""
    before = F.pad(notes[:, :, :-1], (0, 0, 1, 0))  # the previous step (silence before the first)
    starts = (notes * (1 - before)).sum(dim=(1, 3))  # (B, steps): notes starting on each step
    return (starts / starts.detach().clamp(min=1)).sum(dim=1)


def arousal_argument(notes: Tensor, steps_per_beat: int, tempo: Tensor, reference_density: float,
                     octaves: float) -> Tensor:
    """(B,) ``log2(density / reference) / octaves`` at each piece's tempo (BPM): arousal is its tanh.
    A silent piece counts as half an onset, so the logarithm stays finite."""
    beats = notes.shape[2] / steps_per_beat
    density = onset_steps(notes).clamp(min=0.5) / beats * tempo / 60.0
    return torch.log2(density / reference_density) / octaves


def bars_sounding(notes: Tensor, bars: int) -> Tensor:
    """(B, tracks, steps, pitches) notes -> (B, tracks, bars): 1 where the track plays in the bar, else 0
    (on a binary roll; the gradient shared by the bar's notes, as in ``onset_steps``)."""
    b, t, steps, p = notes.shape
    count = notes.reshape(b, t, bars, steps // bars * p).sum(dim=3)
    return count / count.detach().clamp(min=1)


def steering_loss(valence: Tensor, arousal: Tensor, targets: Tensor, tolerance: float) -> Tensor:
    """(B,) loss of each piece: per axis, how far its value (the tanh of the argument) is from the
    target (B, 2) beyond ``tolerance``, squared. Zero once both axes are within it: a piece asked for
    +1 with tolerance 0.5 is done at 0.5, one asked for 0 anywhere in (-0.5, 0.5)."""
    values = torch.tanh(torch.stack([valence, arousal], dim=1))
    return F.relu((values - targets).abs() - tolerance).square().sum(dim=1)


class MoodGuide:
    """The mood measurement of one dataset, on G's output: its roll format, thresholds and tempos.

    Labels are hard (B,) mood indices or soft (B, moods) weights (``composing.mood_weights``); a
    label's target on each axis is its weights times the moods' signs (a mood: its corner, +-1; a
    point of the plane: that point), its tempo the weighted geometric mean of the moods' tempos.
    """

    def __init__(self, label_names: Sequence[str], spec: dict, reference: dict, label_tempos: dict):
        unknown = [n for n in label_names if n not in MOOD_SIGNS]
        if unknown:
            raise ValueError(f"mood guidance needs the four mood labels; the data has {', '.join(unknown)}")
        self.signs = torch.tensor([MOOD_SIGNS[n] for n in label_names], dtype=torch.float32)  # (moods, 2)
        self.log_tempos = torch.log(torch.tensor([float(label_tempos.get(n, 120.0)) for n in label_names]))
        drums = spec.get("drums") or [False] * len(spec["tracks"])
        self.melodic = torch.tensor([not d for d in drums])
        self.lowest, self.steps_per_beat = int(spec["lowest"]), int(spec["steps_per_beat"])
        self.bars = int(spec["bars"])
        self.mode_scale, self.octaves = float(reference["mode_scale"]), float(reference["octaves"])
        self.density = float(reference["density"])

    @classmethod
    def for_model(cls, label_names: Sequence[str], extras: dict) -> "MoodGuide | None":
        """The guide for a run's saved data extras, or None when its labels are not the four moods."""
        if not extras.get("mood_reference") or not extras.get("roll_spec"):
            return None
        if sorted(label_names) != sorted(MOOD_SIGNS):
            return None
        return cls(label_names, extras["roll_spec"], extras["mood_reference"], extras.get("label_tempos") or {})

    def weights(self, labels: Tensor) -> Tensor:
        """(B,) labels or (B, moods) weights -> (B, moods) weights summing to 1."""
        labels = labels.detach().cpu()
        w = F.one_hot(labels.long(), len(self.signs)).float() if labels.dim() == 1 else labels.float()
        return w / w.sum(dim=1, keepdim=True).clamp(min=1e-9)

    def targets(self, labels: Tensor) -> Tensor:
        """(B, 2): the valence and arousal asked for."""
        return self.weights(labels) @ self.signs

    def tempos(self, labels: Tensor) -> Tensor:
        """(B,) BPM each piece plays at."""
        return torch.exp(self.weights(labels) @ self.log_tempos)

    def arguments(self, x: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """G's output (B, tracks, steps, pitches) -> the valence and arousal arguments (tanh of each is
        what ``measure_mood`` reports for the binary roll played at the label's tempo)."""
        notes = straight_through_notes(x.float())
        melodic = None if bool(self.melodic.all()) else self.melodic.to(x.device)
        valence = valence_argument(notes, self.lowest, self.mode_scale, melodic)
        arousal = arousal_argument(notes, self.steps_per_beat, self.tempos(labels).to(x.device), self.density,
                                   self.octaves)
        return valence, arousal

    def loss(self, x: Tensor, labels: Tensor, tolerance: float, keep_bars: Tensor | None = None,
             bar_weight: float = 0.1) -> Tensor:
        """(B,) steering loss of G's output toward the labels' targets (zero: the piece is there).

        ``keep_bars`` (B, tracks, bars), a piece's ``sounding_bars`` before steering: each of those bars
        that falls silent costs ``bar_weight``, so that a calmer mood is reached with longer notes
        rather than by leaving bars empty (the cheapest way to fewer onsets)."""
        valence, arousal = self.arguments(x, labels)
        loss = steering_loss(valence, arousal, self.targets(labels).to(x.device), tolerance)
        if keep_bars is not None:
            emptied = F.relu(keep_bars - self.sounding_bars(x)).sum(dim=(1, 2))
            loss = loss + bar_weight * emptied
        return loss

    def sounding_bars(self, x: Tensor) -> Tensor:
        """(B, tracks, bars): where each track plays in each bar of G's output."""
        return bars_sounding(straight_through_notes(x.float()), self.bars)
