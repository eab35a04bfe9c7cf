"""Sounds from a trained WaveGAN or SpecGAN run: by seed, as WAVs, spectrogram pictures and a page of players.

Sound i of a request comes from ``z = randn(z_dim)`` seeded by its seed alone, as images do
(sampling.py), in passes of a fixed size; a SpecGAN's spectrogram becomes sound by Griffin-Lim with
phases seeded by the same seed, so a seed always gives the same sound. Every WAV has a sidecar JSON
with its provenance (model, checkpoint, seed, label, latent) and its picture (the spectrogram of
what it sounds like); ``index.html`` plays them all.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import torch

from . import provenance
from .data.sound import wav_bytes
from .modality import WAVE
from .models.registry import get_architecture
from .utils.batching import RENDER_BATCH, padded
from .utils.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from .utils.images import png_bytes, to_pil

PAGE = "index.html"


def is_sound_model(model) -> bool:
    """Whether a loaded run (``sampling.LoadedRun``) makes sounds: the items this module writes."""
    return get_architecture(model.arch).trains_on == WAVE.name


def sample_rate(model) -> int:
    return int(getattr(model.model_config, "sample_rate", 16000))


@torch.no_grad()
def render_waves(model, z: torch.Tensor, labels: torch.Tensor | None, seeds: list[int]) -> np.ndarray:
    """float32 (N, L) sounds of latents z (N, z_dim) and class indices, in fixed-size passes; a SpecGAN's
    spectrograms are turned into sound with Griffin-Lim phases seeded by each sound's seed."""
    G, device, out = model.G, model.device, []
    spectral = model.family.spectral  # G makes spectrograms: G.to_wave makes them sound
    for start in range(0, len(z), RENDER_BATCH):
        n = min(RENDER_BATCH, len(z) - start)
        zs = padded(z[start:start + RENDER_BATCH]).to(device)
        cs = None if labels is None else padded(labels[start:start + RENDER_BATCH]).to(device)
        made = G(zs, cs).float()
        if spectral:  # each sound's phases from its own seed, in a pass of the same fixed size
            phase_seeds = [int(seeds[start + min(i, n - 1)]) for i in range(len(made))]
            made = G.to_wave(made, [torch.Generator().manual_seed(s) for s in phase_seeds])
        out.append(made[:n, 0].cpu())
    return torch.cat(out).numpy()


def sample_sounds(model, seeds: list[int], label=None) -> np.ndarray:
    """float32 (N, L) sounds for ``seeds`` (labels cycle through the classes unless ``label`` is given)."""
    return render_waves(model, model.latents(seeds), model.labels(seeds, label), seeds)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation of two latents: the path stays where z ~ N(0, I) puts its mass."""
    omega = torch.arccos(torch.clamp(torch.dot(a / a.norm(), b / b.norm()), -1.0, 1.0))
    if float(omega) < 1e-6:
        return torch.lerp(a, b, t)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def between_latents(model, a: int, b: int, n: int) -> torch.Tensor:
    """(n, z_dim) latents from seed a's to seed b's, evenly spaced on the great circle."""
    za, zb = model.latents([a, b])
    return torch.stack([slerp(za, zb, float(t)) for t in np.linspace(0.0, 1.0, n)])


PROJECT_STEPS = 150
PROJECT_STARTS = 2  # random starting latents per label: the best one is kept


def project_sound(model, target: np.ndarray, label: int | None = None, steps: int = PROJECT_STEPS,
                  seed: int = 0) -> tuple[torch.Tensor, int | None, float]:
    """The latent (and label) whose sound's log spectrogram is closest (L1) to ``target``'s.

    Several starting latents per label (every label, unless one is given) are optimized together with
    Adam; a SpecGAN is compared in its own normalized spectrogram space, a WaveGAN through the STFT of
    its waveform. Returns (z, label, the final mean absolute log-magnitude difference)."""
    from .ops.spectral import log_magnitude

    G, device = model.G, model.device
    labels = [label] if label is not None else (list(range(model.num_classes)) or [None])
    wave = torch.from_numpy(np.asarray(target, dtype=np.float32))[None, None].to(device)
    spectral = model.family.spectral  # compared in G's own spectrogram space (G.encode_real)
    goal = G.encode_real(wave) if spectral else log_magnitude(wave[:, 0])
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(len(labels) * PROJECT_STARTS, model.model_config.z_dim, generator=gen).to(device)
    c = (None if labels == [None] else
         torch.tensor([k for k in labels for _ in range(PROJECT_STARTS)], device=device))
    z.requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.05)
    from tqdm import tqdm
    for _ in tqdm(range(steps), desc="projecting the sound into the latent space", unit="step", leave=False,
                  mininterval=0.5):
        made = G(z, c)
        view = made if spectral else log_magnitude(made[:, 0])
        loss = (view - goal).abs().mean(dim=tuple(range(1, view.dim())))  # per start
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
    loss = loss.detach()
    best = int(loss.argmin())
    return z[best].detach().cpu(), (None if c is None else int(c[best])), float(loss[best])


def spectrogram_png(wave: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) picture of one sound's spectrogram (low frequencies at the bottom)."""
    picture = WAVE.preview_image(torch.from_numpy(np.asarray(wave, dtype=np.float32))[None, None])
    return np.asarray(picture)


def write_sound(path: Path, wave: np.ndarray, rate: int, record: dict) -> Path:
    """``path``.wav (16-bit), its spectrogram ``path``.png and the provenance sidecar ``path``.json."""
    atomic_write_bytes(path.with_suffix(".wav"), wav_bytes(wave, rate))
    atomic_write_bytes(path.with_suffix(".png"), png_bytes(to_pil(spectrogram_png(wave))))
    atomic_write_json(path.with_suffix(".json"), {**record, "sample_rate": rate, "seconds": len(wave) / rate})
    return path.with_suffix(".wav")


def player_page(out: Path, title: str, entries: list[dict], note: str = "") -> Path:
    """``out/index.html``: one card per sound (spectrogram, player, caption); ``entries`` have
    "stem" and "caption". Relative links, so the folder can be moved or zipped."""
    cards = "\n".join(
        f'<figure><img src="{html.escape(e["stem"])}.png" alt="spectrogram of {html.escape(e["stem"])}">'
        f'<audio controls preload="none" src="{html.escape(e["stem"])}.wav"></audio>'
        f'<figcaption>{html.escape(e["caption"])}</figcaption></figure>' for e in entries)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; background: #fafafa; color: #222; }}
main {{ display: flex; flex-wrap: wrap; gap: 12px; }}
figure {{ margin: 0; padding: 8px; background: #fff; border: 1px solid #ddd; border-radius: 6px; width: 272px; }}
figure img {{ width: 256px; image-rendering: pixelated; display: block; }}
audio {{ width: 256px; margin-top: 4px; }}
figcaption {{ font-size: 0.85em; color: #555; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(note)}</p>
<main>
{cards}
</main></body></html>
"""
    return atomic_write_text(out / PAGE, page)


def _plan(cfg, model) -> tuple[list[str], list[int | None], torch.Tensor, torch.Tensor | None, dict]:
    """(file stems, seeds, latents, labels, notes) of what ``sample`` makes: seeds, a row --between two
    seeds, or neighbours of a projected sound (--like). A row's first half takes seed A's Griffin-Lim
    phases and the second half B's (``notes["phase_seeds"]``), so its ends are those seeds' sounds."""
    if cfg.between:
        from .options import parse_seeds
        a, b = parse_seeds(cfg.between)
        labels = model.labels([a] * cfg.n, cfg.label)
        phases = [a if 2 * i < cfg.n - 1 else b for i in range(cfg.n)]
        return ([f"step{i:02d}" for i in range(cfg.n)], [None] * cfg.n, between_latents(model, a, b, cfg.n), labels,
                {"between": [a, b], "phase_seeds": phases})
    if cfg.like:
        return _like_plan(cfg, model)
    seeds = cfg.seed_list()
    return [f"seed{s:04d}" for s in seeds], seeds, model.latents(seeds), model.labels(seeds, cfg.label), {}


VARIATION = 0.35  # std of the latent steps that make neighbours of a projected sound


def _like_plan(cfg, model):
    from .data.sound import AudioOptions, condition, decode

    with open(cfg.like, "rb") as f:
        samples, rate = decode(f.read())
    target = condition(samples, rate, AudioOptions(sample_rate=sample_rate(model), length=model.model_config.resolution))
    label = model.label_index(cfg.label) if cfg.label is not None else None
    z, label, distance = project_sound(model, target, label, seed=cfg.seed)
    seeds = cfg.seed_list()
    steps = torch.stack([torch.randn(len(z), generator=torch.Generator().manual_seed(s)) for s in seeds])
    latents = torch.cat([z[None], z[None] + VARIATION * steps])
    labels = None if label is None else torch.full((len(latents),), label)
    notes = {"like": str(cfg.like), "projection_l1": distance, "target": target}
    return ["like"] + [f"seed{s:04d}" for s in seeds], [None] + seeds, latents, labels, notes


def sample_sounds_to_folder(cfg, model, out: Path, settings: dict, replace_previous) -> dict:
    """The ``artforge sample`` command for a sound model: seedNNNN.wav/.png/.json (or a row stepNN, or like
    plus neighbours), grid.png, index.html."""
    started = time.perf_counter()
    stems, seeds, latents, labels, notes = _plan(cfg, model)
    phase_seeds = notes.get("phase_seeds") or [s if s is not None else cfg.seed for s in seeds]
    waves = render_waves(model, latents, labels, phase_seeds)
    sampled = time.perf_counter()
    rate = sample_rate(model)
    names = [f"{stem}.{ext}" for stem in stems for ext in ("wav", "png", "json")] + [PAGE]
    if "target" in notes:
        names += ["target.wav", "target.png", "target.json"]
    if cfg.grid:
        names += ["grid.png"]
    removed = replace_previous(out, names)
    files, entries = [], []
    if "target" in notes:
        write_sound(out / "target", notes["target"], rate, {"kind": "projection-target", "source": notes["like"]})
        entries.append({"stem": "target", "caption": f"your sound ({Path(notes['like']).name}), prepared"})
    for i, (stem, seed, wave) in enumerate(zip(stems, seeds, waves)):
        label = None if labels is None else int(labels[i])
        extra = {k: v for k, v in notes.items() if k not in ("target", "phase_seeds")}
        record = provenance.describe(model, "sample-sound", seed=seed, label=label, z=latents[i],
                                     settings={**settings, **extra})
        files.append(write_sound(out / stem, wave, rate, record))
        name = model.label_names[label] if label is not None and label < len(model.label_names) else None
        caption = {"like": f"re-made (spectral L1 {notes.get('projection_l1', 0):.2f})"}.get(
            stem, f"seed {seed}" if seed is not None else f"step {i} of {len(stems) - 1}")
        entries.append({"stem": stem, "caption": caption + (f" · {name}" if name else "")})
    grid = None
    if cfg.grid:
        grid = out / "grid.png"
        to_pil(np.asarray(WAVE.preview_image(torch.from_numpy(waves)[:, None]))).save(grid)
    seconds = len(waves) * waves.shape[1] / rate
    page = player_page(out, f"{model.run_dir.name}: {len(seeds)} sounds",
                       entries, f"{model.arch}, step {model.step}, {rate} Hz; {seconds:.1f} s of sound made in "
                       f"{sampled - started:.2f} s ({seconds / max(sampled - started, 1e-9):.0f}x real time)")
    return {"files": files, "grid": grid, "page": page, "removed": removed, "sample_s": sampled - started,
            "seconds_of_sound": seconds}
