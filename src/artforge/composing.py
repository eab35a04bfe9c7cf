"""Music from a trained MuseGAN run: by seed and mood, as MIDI, a WAV rendering, piano-roll pictures
and a page of players.

A piece comes from ``z = randn(z_dim)`` seeded by its seed alone (sampling.py) and a mood: a label
(``--mood sombre``), or a point on the valence-arousal plane (``--valence -0.5 --arousal 0.8``),
which G takes as weights over the four mood quadrants (bilinear: the corner moods' embeddings mixed
by how close the point is to each corner). Then, unless ``--mood-steps 0``, the piece's latent is
steered (``steer_latents``) until the piece's measured mode and density land where the mood asks (that
measure is the steering objective; metrics/mood_judges.py has the independent judges). A note sounds where G's
output is positive; a note starts where a pitch turns on. The piece plays at the median tempo of the training pieces of its mood,
is written as MIDI, rendered to a WAV by FluidSynth with a General MIDI soundfont when installed
(else by pretty_midi's sine synthesizer), drawn as a piano roll, and measured: its mode, note
density and the mood they put it in, by the thresholds the training data was labelled with.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from . import provenance
from .errors import UsageError
from .data.mood import MOODS  # the label order prepare music writes
from .modality import PIANOROLL
from .models.registry import get_architecture
from .utils.batching import RENDER_BATCH, padded
from .utils.files import atomic_write_bytes, atomic_write_json

RATE = 22050


def is_music_model(model) -> bool:
    """Whether a loaded run makes piano rolls: the items this module writes."""
    return get_architecture(model.arch).trains_on == PIANOROLL.name


def roll_spec(model):
    """The run's roll format (from its training data), else one derived from the model's shape."""
    from .data.pianoroll import RollSpec

    saved = model.extras.get("roll_spec")
    if saved:
        return RollSpec.from_dict(saved)
    cfg = model.model_config
    return RollSpec(tracks=tuple(f"track{i + 1}" for i in range(cfg.channels)), bars=cfg.bars, pitches=cfg.pitches)


def mood_weights(valence: float, arousal: float) -> torch.Tensor:
    """(4,) weights over MOODS for a point of the plane, in [-1, 1]^2: bilinear in the corners."""
    v, a = (1 + valence) / 2, (1 + arousal) / 2
    return torch.tensor([v * a, v * (1 - a), (1 - v) * (1 - a), (1 - v) * a])


def conditions(model, seeds: list[int], mood: str | None, valence: float | None, arousal: float | None):
    """G's label input for ``seeds``: hard labels (a mood, or cycling through them) or soft mood weights."""
    if (mood is not None or valence is not None or arousal is not None) and list(model.label_names) != list(MOODS):
        raise UsageError(f"{model.run_dir.name} is not conditioned on the four moods; --mood, --valence and "
                         "--arousal steer mood models", "train on a dataset from 'artforge prepare music' "
                         "(mood labels) without --conditional false")
    if valence is not None or arousal is not None:
        w = mood_weights(valence or 0.0, arousal or 0.0)
        return w[None].expand(len(seeds), -1).clone()
    return model.labels(seeds, mood)


def to_stored(on: np.ndarray) -> np.ndarray:
    """Boolean (..., steps, pitches) -> uint8 rolls: 2 where a note starts, 1 where it is held."""
    previous = np.zeros_like(on)
    previous[..., 1:, :] = on[..., :-1, :]
    return np.where(on & ~previous, 2, np.where(on, 1, 0)).astype(np.uint8)


@torch.no_grad()
def render_rolls(model, z: torch.Tensor, c: torch.Tensor | None) -> np.ndarray:
    """uint8 rolls (N, tracks, steps, pitches) of latents and labels (hard or soft), in fixed-size passes."""
    out = []
    for start in range(0, len(z), RENDER_BATCH):
        n = min(RENDER_BATCH, len(z) - start)
        zs = padded(z[start:start + RENDER_BATCH]).to(model.device)
        cs = None if c is None else padded(c[start:start + RENDER_BATCH]).to(model.device)
        out.append((model.G(zs, cs)[:n] > 0).cpu().numpy())
    return to_stored(np.concatenate(out))


STEER_TOLERANCE = 0.5  # a piece is where it was asked to be when each axis is within this of the target
STEER_LR = 0.05


def steer_latents(model, z: torch.Tensor, c: torch.Tensor | None, steps: int) -> torch.Tensor:
    """Latents moved until G's pieces measure as their labels ask (mood steering).

    For each piece, Adam on its latent descends the mood guide's loss (ops/mood_guide.py: the mode and
    note density of the very roll that will be played, made differentiable) for at most ``steps``
    steps; a piece stops moving as soon as it is within ``STEER_TOLERANCE`` of its target on both axes
    (a piece that already is never moves), else the lowest-loss latent is kept. Pieces are independent
    (G in eval mode, fixed-size passes), so a seed's piece does not depend on its neighbours.
    """
    from .ops.mood_guide import MoodGuide

    guide = MoodGuide.for_model(model.label_names, model.extras) if c is not None and steps > 0 else None
    if guide is None:
        return z
    out = []
    for start in range(0, len(z), RENDER_BATCH):
        n = min(RENDER_BATCH, len(z) - start)
        zs = padded(z[start:start + RENDER_BATCH]).to(model.device)
        cs = padded(c[start:start + RENDER_BATCH]).to(model.device)
        out.append(_steer_batch(model.G, guide, zs, cs, steps)[:n].to(z.device))
    return torch.cat(out)


def _steer_batch(G, guide, z: torch.Tensor, c: torch.Tensor, steps: int) -> torch.Tensor:
    z = z.detach().clone().requires_grad_(True)
    best, best_loss = z.detach().clone(), torch.full((len(z),), float("inf"), device=z.device)
    opt = torch.optim.Adam([z], lr=STEER_LR)
    radius = z.detach().norm(dim=1, keepdim=True)
    with torch.no_grad():
        keep = guide.sounding_bars(G(z, c))  # the bars each track plays in: they should stay played
    with torch.enable_grad():
        for step in range(steps + 1):
            loss = guide.loss(G(z, c), c, STEER_TOLERANCE, keep)
            better = loss.detach() < best_loss
            best[better], best_loss[better] = z.detach()[better], loss.detach()[better]
            if step == steps or bool((best_loss == 0).all()):
                break
            opt.zero_grad()
            loss.sum().backward()
            opt.step()
            with torch.no_grad():
                z.mul_(radius / z.norm(dim=1, keepdim=True))  # stay as typical a latent as the seed's
                done = best_loss == 0  # pieces already there stay put
                z[done] = best[done]
    return best


def tempo_for(model, label: int | None, weights: torch.Tensor | None) -> float:
    """The median tempo of the training pieces of the mood (weighted, for a point of the plane)."""
    tempos = model.extras.get("label_tempos") or {}
    names = list(model.label_names)
    if weights is not None and names:
        known = [(float(w), tempos.get(name, 120.0)) for w, name in zip(weights.tolist(), names)]
        return float(np.exp(sum(w * np.log(t) for w, t in known) / max(sum(w for w, _ in known), 1e-9)))
    if label is not None and label < len(names):
        return float(tempos.get(names[label], 120.0))
    return 120.0


def render_wav(midi_path: Path, wav_path: Path) -> str:
    """A WAV of the MIDI: FluidSynth and a GM soundfont when installed, else pretty_midi's sine waves.
    Returns what rendered it."""
    from .utils.synth import can_render, render_midi_file

    if can_render():
        render_midi_file(midi_path, wav_path, RATE)
        return "fluidsynth"
    import pretty_midi

    from .data.sound import wav_bytes

    audio = pretty_midi.PrettyMIDI(str(midi_path)).synthesize(fs=RATE)
    peak = float(np.abs(audio).max()) if len(audio) else 0.0
    atomic_write_bytes(wav_path, wav_bytes(audio / peak * 0.8 if peak > 0 else audio, RATE))
    return "sine synthesizer (FluidSynth or a soundfont is not installed)"


def compose_to_folder(cfg, model, out: Path, settings: dict, replace_previous) -> dict:
    """The ``artforge sample`` command for a music model: seedNNNN.mid/.wav/.png/.json and index.html."""
    from .data.music_files import roll_to_midi
    from .data.pianoroll import render_roll_png, roll_notes
    from .listening import PAGE, player_page
    from .data.mood import measure_mood, quadrant

    from .listening import between_latents

    if cfg.like:
        raise UsageError(f"--like projects a sound; {model.run_dir.name} makes music", "leave it out")
    spec = roll_spec(model)
    started = time.perf_counter()
    if cfg.between:  # a row from seed A's piece to seed B's, in A's mood (or the one asked for)
        from .options import parse_seeds
        a, b = parse_seeds(cfg.between)
        seeds, latents = [a] * cfg.n, between_latents(model, a, b, cfg.n)
        stems = [f"step{i:02d}" for i in range(cfg.n)]
    else:
        seeds = cfg.seed_list()
        latents, stems = model.latents(seeds), [f"seed{s:04d}" for s in seeds]
    c = conditions(model, seeds, cfg.mood, cfg.valence, cfg.arousal)
    steered = steer_latents(model, latents, c, cfg.mood_steps)
    moved = (steered - latents).norm(dim=1).tolist()  # how far steering took each piece's latent (0: not at all)
    rolls = render_rolls(model, steered, c)
    sampled = time.perf_counter()
    names = [f"{stem}.{ext}" for stem in stems for ext in ("mid", "wav", "png", "json")] + [PAGE]
    removed = replace_previous(out, names)
    reference = model.extras.get("mood_reference")
    soft = c is not None and c.dim() == 2
    files, entries, rendered = [], [], ""
    for i, (seed, roll) in enumerate(zip(seeds, rolls)):
        label = None if c is None or soft else int(c[i])
        tempo = tempo_for(model, label, c[i] if soft else None)
        midi = roll_to_midi(roll, spec, tempo=tempo)
        midi.write(str(out / f"{stems[i]}.mid"))
        rendered = render_wav(out / f"{stems[i]}.mid", out / f"{stems[i]}.wav")
        render_roll_png(roll, spec, out / f"{stems[i]}.png")
        measured = measure_mood(roll, spec, tempo, reference)
        asked = (quadrant(cfg.valence or 0.0, cfg.arousal or 0.0) if soft
                 else model.label_names[label] if label is not None and label < len(model.label_names) else None)
        record = provenance.describe(model, "sample-music", seed=None if cfg.between else seed, label=label,
                                     z=latents[i], settings=settings)
        record.update(asked_mood=asked, valence=cfg.valence, arousal=cfg.arousal, tempo=tempo,
                      notes=int(len(roll_notes(roll))),
                      measured={k: v for k, v in measured.items() if k in ("valence", "arousal", "mode", "density")},
                      measured_mood=quadrant(measured["valence"], measured["arousal"]),
                      measured_by="the steering objective (Krumhansl-Kessler mode, onset density), not an "
                                  "independent judge: artforge evaluate reports those", rendered_by=rendered,
                      steered_by=round(moved[i], 4))
        atomic_write_json(out / f"{stems[i]}.json", record)
        files.append(out / f"{stems[i]}.mid")
        where = f"step {i}" if cfg.between else f"seed {seed}"
        entries.append({"stem": stems[i], "caption": f"{where} · asked {asked or '-'} · steering objective "
                        f"{record['measured_mood']} ({measured['mode'] or 'silent'}, {measured['density']:.1f} "
                        f"notes/s) · {tempo:.0f} BPM"})
    page = player_page(out, f"{model.run_dir.name}: {len(seeds)} pieces", entries,
                       f"{model.arch}, step {model.step}; {len(spec.tracks)} tracks ({', '.join(spec.tracks)}), "
                       f"{spec.bars} bars; WAVs by {rendered}")
    return {"files": files, "page": page, "removed": removed, "sample_s": sampled - started, "grid": None}
