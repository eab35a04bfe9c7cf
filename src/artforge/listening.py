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
from .utils.images import to_pil

PAGE = "index.html"


def is_sound_model(model) -> bool:
    """Whether a loaded run (``sampling.LoadedRun``) makes sounds."""
    return get_architecture(model.arch).trains_on == "audio"


def sample_rate(model) -> int:
    return int(getattr(model.model_config, "sample_rate", 16000))


@torch.no_grad()
def render_waves(model, z: torch.Tensor, labels: torch.Tensor | None, seeds: list[int]) -> np.ndarray:
    """float32 (N, L) sounds of latents z (N, z_dim) and class indices, in fixed-size passes; a SpecGAN's
    spectrograms are turned into sound with Griffin-Lim phases seeded by each sound's seed."""
    G, device, out = model.G, model.device, []
    for start in range(0, len(z), RENDER_BATCH):
        n = min(RENDER_BATCH, len(z) - start)
        zs = padded(z[start:start + RENDER_BATCH]).to(device)
        cs = None if labels is None else padded(labels[start:start + RENDER_BATCH]).to(device)
        made = G(zs, cs).float()[:n]
        if hasattr(G, "to_wave"):
            made = torch.cat([G.to_wave(made[i:i + 1], torch.Generator().manual_seed(int(seeds[start + i])))
                              for i in range(n)])
        out.append(made[:, 0].cpu())
    return torch.cat(out).numpy()


def sample_sounds(model, seeds: list[int], label=None) -> np.ndarray:
    """float32 (N, L) sounds for ``seeds`` (labels cycle through the classes unless ``label`` is given)."""
    return render_waves(model, model.latents(seeds), model.labels(seeds, label), seeds)


def spectrogram_png(wave: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) picture of one sound's spectrogram (low frequencies at the bottom)."""
    picture = WAVE.preview_image(torch.from_numpy(np.asarray(wave, dtype=np.float32))[None, None])
    return np.asarray(picture)


def write_sound(path: Path, wave: np.ndarray, rate: int, record: dict) -> Path:
    """``path``.wav (16-bit), its spectrogram ``path``.png and the provenance sidecar ``path``.json."""
    atomic_write_bytes(path.with_suffix(".wav"), wav_bytes(wave, rate))
    tmp = path.with_name(f".{path.stem}.png.tmp")
    to_pil(spectrogram_png(wave)).save(tmp, format="PNG")
    tmp.replace(path.with_suffix(".png"))
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


def sample_sounds_to_folder(cfg, model, out: Path, settings: dict, replace_previous) -> dict:
    """The ``artforge sample`` command for a sound model: seedNNNN.wav/.png/.json, grid.png, index.html."""
    started = time.perf_counter()
    seeds = cfg.seed_list()
    waves = sample_sounds(model, seeds, cfg.label)
    sampled = time.perf_counter()
    rate = sample_rate(model)
    stems = [f"seed{s:04d}" for s in seeds]
    names = [f"{stem}.{ext}" for stem in stems for ext in ("wav", "png", "json")] + [PAGE]
    if cfg.grid:
        names += ["grid.png"]
    removed = replace_previous(out, names)
    latents, labels = model.latents(seeds), model.labels(seeds, cfg.label)
    files, entries = [], []
    for i, (seed, wave) in enumerate(zip(seeds, waves)):
        label = None if labels is None else int(labels[i])
        record = provenance.describe(model, "sample-sound", seed=seed, label=label, z=latents[i], settings=settings)
        files.append(write_sound(out / stems[i], wave, rate, record))
        name = model.label_names[label] if label is not None and label < len(model.label_names) else None
        entries.append({"stem": stems[i], "caption": f"seed {seed}" + (f" · {name}" if name else "")})
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
