"""Loading a trained run and sampling from it by seed.

Image i of a request is generated from ``z = randn(z_dim)`` drawn by a generator seeded with its seed
alone, so a seed gives the same image whatever else is in the batch or how many are asked for. The
EMA generator is used, in eval mode and fp32, so results do not depend on the hardware's
reduced-precision kernels.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from . import provenance
from .options import SampleConfig, to_dict
from .draws import filter_left_out
from .errors import CheckpointError, UsageError
from .models.registry import get_architecture, get_family, sampler_weights
from .tasks.specs import task_spec
from .runs import checkpoint as ckpt
from .runs.rundir import RunLayout, resolve_run
from .tasks.selfcond import weighted_label
from .utils.device import pick_device
from .utils.files import atomic_write_json, read_json, sha256_file
from .utils.batching import RENDER_BATCH, padded
from .utils.images import make_grid, to_uint8


@dataclass
class LoadedRun:
    run_dir: Path
    checkpoint: Path
    step: int
    arch: str
    model_config: object
    G: nn.Module
    device: torch.device
    label_names: list[str] = field(default_factory=list)
    label_weights: list[float] = field(default_factory=list)  # self-conditioned: each cluster's share of the data
    extras: dict = field(default_factory=dict)  # what the training data told samplers (a roll format, tempos)
    _mean_styles: dict = field(default_factory=dict, repr=False)  # class (or None) -> mean w, computed once

    @property
    def num_classes(self) -> int:
        return getattr(self.model_config, "num_classes", 0)

    def latents(self, seeds: list[int]) -> torch.Tensor:
        z_dim = self.model_config.z_dim
        return torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds])

    def mean_latent(self) -> torch.Tensor:
        """The centre z-space truncation pulls toward, (z_dim,): for z ~ N(0, I) the zero vector.

        Style-based families truncate in w instead, toward ``mean_style`` (``has_styles``).
        """
        return torch.zeros(self.model_config.z_dim)

    def truncate(self, latents: torch.Tensor, psi: float) -> torch.Tensor:
        """The truncation trick: ``mean + psi * (latents - mean)``; psi=0 gives the mean image, 1 changes nothing."""
        if psi == 1:  # exactly the latents drawn, not a rounding of them
            return latents
        mean = self.mean_latent().to(latents)
        return mean + psi * (latents - mean)

    # ------------------------------------------------------------------ style-based families (w space)

    @property
    def family(self):
        """The model family of ``arch`` (models/family.py): what its networks can do."""
        return get_family(self.arch)

    @property
    def has_styles(self) -> bool:
        """G maps z to styles w and renders them (``G.map``, ``G.synthesis``): mixing, projection, ..."""
        return self.family.styles

    def _require_styles(self, what: str) -> None:
        if not self.has_styles:
            raise UsageError(f"{what} needs a style-based model; {self.run_dir} is a {self.arch} model",
                             "train one with --arch style")

    @torch.no_grad()
    def mean_style(self, label: int | None = None) -> torch.Tensor:
        """The mean w (w_dim,) of ``MEAN_STYLE_DRAWS`` seeded latents, of class ``label`` when conditional.

        Truncation pulls toward it; per class, so psi = 0 gives the class's own average image.
        """
        self._require_styles("truncation in w")
        key = None if not self.num_classes else int(label)
        if key not in self._mean_styles:
            z = torch.randn(MEAN_STYLE_DRAWS, self.model_config.z_dim, generator=torch.Generator().manual_seed(123456))
            c = None if key is None else torch.full((len(z),), key)
            ws = [self.G.map(z[i:i + 1024].to(self.device), None if c is None else c[i:i + 1024].to(self.device))
                  for i in range(0, len(z), 1024)]
            self._mean_styles[key] = torch.cat(ws).float().mean(0).cpu()
        return self._mean_styles[key]

    @torch.no_grad()
    def styles(self, seeds: list[int], truncation: float = 1.0, label: int | str | None = None) -> torch.Tensor:
        """The w+ styles (N, num_ws, w_dim) of ``seeds``, truncated toward their class's mean w; on the CPU."""
        self._require_styles("styles")
        z, c = self.latents(seeds), self.labels(seeds, label)
        w = torch.cat([self.G.map(z[i:i + 256].to(self.device), None if c is None else c[i:i + 256].to(self.device))
                       for i in range(0, len(z), 256)]).float().cpu()
        if truncation != 1:
            classes = c.tolist() if c is not None else [None] * len(seeds)
            means = torch.stack([self.mean_style(k) for k in classes])
            w = torch.lerp(means, w, truncation)  # as sample() does, so both give the same image
        return self.G.broadcast(w).contiguous()

    @torch.no_grad()
    def render(self, ws: torch.Tensor) -> np.ndarray:
        """uint8 images (N, H, W, C) of w (N, w_dim) or w+ (N, num_ws, w_dim) styles (see ``in_fixed_batches``)."""
        self._require_styles("rendering styles")
        return in_fixed_batches(self.G.synthesis, self.device, ws)

    def _generator(self, truncation: float) -> nn.Module:
        """A module (z, c) -> image that applies ``truncation`` where this family truncates."""
        if self.has_styles and truncation != 1:
            return _TruncatedStyles(self, truncation)
        return self.G

    def _inputs(self, seeds: list[int], truncation: float) -> torch.Tensor:
        z = self.latents(seeds)
        return z if self.has_styles else self.truncate(z, truncation)

    def labels(self, seeds: list[int], label: int | str | None) -> torch.Tensor | None:
        if not self.num_classes:
            if label is not None:
                raise UsageError("--label was given but this model is not conditional", "leave --label out")
            return None
        if label is None and self.label_weights:  # clusters in proportion to their share of the data
            return torch.tensor([weighted_label(s, self.label_weights) for s in seeds])
        if label is None:  # cycle through the classes, tied to the seed so it is reproducible
            return torch.tensor([s % self.num_classes for s in seeds])
        return torch.full((len(seeds),), self.label_index(label))

    def label_index(self, label: int | str) -> int:
        if isinstance(label, str) and label in self.label_names:
            return self.label_names.index(label)
        try:
            index = int(label)
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < self.num_classes:
            raise UsageError(f"--label {label!r} is not a class of this model",
                             f"pass one of: {', '.join(self.label_names) or range(self.num_classes)}")
        return index

    def jacobian_norms(self, seeds: list[int], truncation: float = 1.0, label: int | str | None = None,
                       probes: int = 8, batch: int = 16, progress=None) -> np.ndarray:
        """Estimated ||dG/dz||_F of each seed's image; a seed's probes come from its own generator.

        ``progress(k)`` (optional) is called after each batch with the number of seeds it scored.
        """
        from .sample_filters import jacobian_norm_estimate

        z = self._inputs(seeds, truncation)
        c = self.labels(seeds, label)
        G = self._generator(truncation)
        shape = self.image_shape  # G's output for one latent
        out = []
        for start in range(0, len(seeds), batch):
            part = slice(start, start + batch)
            cb = c[part].to(self.device) if c is not None else None
            directions = torch.stack([self._probe_directions(s, probes, shape) for s in seeds[part]], dim=1)
            out.append(jacobian_norm_estimate(G, z[part].to(self.device), cb, directions.to(self.device)).cpu())
            if progress is not None:
                progress(len(out[-1]))
        return torch.cat(out).numpy()

    def _probe_directions(self, seed: int, probes: int, shape) -> torch.Tensor:
        """(probes, *shape) directions of one seed: its generator after its latent, so the two never overlap."""
        gen = torch.Generator().manual_seed(int(seed))
        torch.randn(self.model_config.z_dim, generator=gen)  # skip the seed's latent
        return torch.randn(probes, *shape, generator=gen)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        cfg = self.model_config
        hw = getattr(cfg, "image_shape", (cfg.resolution, cfg.resolution))
        return (cfg.channels, *hw)

    @torch.no_grad()
    def render_latents(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                       truncation: float = 1.0) -> np.ndarray:
        """uint8 images (N, H, W, C) of latents z (N, z_dim) as drawn (truncated here) and class indices.

        ``sample`` for latents that no seed draws: a recorded or varied z (``artforge recreate``).
        """
        z = z.float() if self.has_styles else self.truncate(z.float(), truncation)
        return in_fixed_batches(self._generator(truncation), self.device, z, labels)

    @torch.no_grad()
    def sample(self, n: int | None = None, seed: int = 0, *, seeds: list[int] | None = None,
               truncation: float = 1.0, label: int | str | None = None) -> np.ndarray:
        """uint8 images (N, H, W, C) for ``seeds`` (default: seed, seed+1, ..., n of them)."""
        if seeds is None:
            seeds = list(range(seed, seed + (16 if n is None else n)))
        return in_fixed_batches(self._generator(truncation), self.device, self._inputs(seeds, truncation),
                                self.labels(seeds, label))




def in_fixed_batches(G, device: torch.device, *inputs: torch.Tensor | None) -> np.ndarray:
    """uint8 images (N, H, W, C) of ``G(*inputs)`` row by row, computed in passes of exactly ``RENDER_BATCH``.

    A convolution library picks its kernels by batch size, and another kernel may round a pixel
    differently; passes of one fixed size (the last padded with copies of its last row) make an
    image depend only on its own inputs, so a seed or a recorded style renders the same pixels alone,
    among others or at any position (what ``artforge recreate`` relies on). ``None`` inputs pass through.
    """
    n_total = len(next(x for x in inputs if x is not None))
    out = []
    for start in range(0, n_total, RENDER_BATCH):
        parts = [None if x is None else padded(x[start:start + RENDER_BATCH]).to(device) for x in inputs]
        out.append(to_uint8(G(*parts)[:min(RENDER_BATCH, n_total - start)]))
    return torch.cat(out).numpy()




MEAN_STYLE_DRAWS = 10_000  # latents averaged for the mean w truncation pulls toward


class _TruncatedStyles(nn.Module):
    """(z, c) -> G.synthesis(mean_c + psi * (G.map(z, c) - mean_c)): truncation in w, per class."""

    def __init__(self, model: LoadedRun, psi: float):
        super().__init__()
        self.G, self.psi = model.G, psi
        classes = range(model.num_classes) if model.num_classes else [None]
        self.register_buffer("means", torch.stack([model.mean_style(k) for k in classes]).to(model.device))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        w = self.G.map(z, c)
        mean = self.means[c] if c is not None else self.means[0]
        return self.G.synthesis(torch.lerp(mean.to(w.dtype), w, self.psi))


def build_generator(arch_name: str, model_config: dict, weights: dict[str, torch.Tensor], device: torch.device,
                    what: str, fix: str) -> tuple[object, nn.Module]:
    """(model config, G) rebuilt from an architecture name, its config dict and G's weights, in eval mode.

    Shared by runs (a checkpoint's G_ema) and exported models (model.json + model.safetensors);
    anything that does not fit is a one-line ``CheckpointError`` naming ``what`` (the file read).
    """
    try:
        arch = get_architecture(arch_name)
        model_cfg = arch.config(**model_config)
        G = arch.generator(model_cfg)
        G.load_state_dict(weights)
    except (UsageError, TypeError, KeyError, ValueError, RuntimeError) as exc:
        detail = " ".join((exc.message if isinstance(exc, UsageError) else str(exc)).split())[:120]
        raise CheckpointError(f"{what} does not match its architecture ({detail})", fix) from None
    return model_cfg, G.to(device, memory_format=torch.channels_last).eval().requires_grad_(False)


def load(run: str | Path, checkpoint: str = "best", device: str = "auto", announce=print) -> LoadedRun:
    """A run (its ``checkpoint``), a checkpoint folder, or a model folder made by ``artforge export``."""
    path = Path(run)
    if is_export(path):  # an exported model: model.json beside the weights
        return load_export(path, checkpoint, pick_device(device))
    ckpt_path = path if (path / ckpt.STATE_FILE).exists() else None
    run_dir = resolve_run(path, announce=announce)
    ckpt_path = ckpt_path or resolve_checkpoint(run_dir, checkpoint)
    device = pick_device(device)
    loaded = ckpt.load_checkpoint(ckpt_path, device=device, training=False)
    state = loaded["state"]
    spec = task_spec(state.get("task"))
    if spec.offers != "sample":
        raise CheckpointError(f"{run_dir} is a {spec.name} run: it {spec.makes}, it has no latents to sample from",
                              f"apply it to images: 'artforge {spec.offers} {run_dir} IMAGES... --out DIR'")
    weights = sampler_weights(state["family"], loaded["models"])
    model_cfg, G = build_generator(state["family"], state.get("model_config"), weights, device,
                                   f"checkpoint {ckpt_path}", "use the artforge version that wrote it, or another checkpoint")
    return LoadedRun(run_dir, ckpt_path, loaded["step"], state["family"], model_cfg, G, device,
                     list(state.get("label_names") or []), list(state.get("label_weights") or []),
                     dict(state.get("extras") or {}))


def resolve_checkpoint(run_dir: Path, which: str) -> Path:
    """``checkpoint.resolve_checkpoint`` for the checkpoint the commands were given, named as they name it."""
    try:
        return ckpt.resolve_checkpoint(run_dir, which)
    except ckpt.CheckpointNameError as exc:
        raise CheckpointError(f"--checkpoint {exc.name!r} is not best, latest or a step number",
                              "pass --checkpoint best") from None


# ----------------------------------------------------------------------------- exported models

# ``artforge export`` (exporting.py) writes a model folder; reading one is part of loading, here, so
# that exporting builds on this module and not the other way round.
FORMAT = "artforge-model"
FORMAT_VERSION = 1
# The one place for the names of an exported folder's files.
MODEL_JSON = "model.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"  # the model card
PREFIX = "G."  # as in checkpoints, where the EMA generator is G_ema.*
REEXPORT = "export it again: artforge export RUN --out DIR --force"


def is_export(path: str | os.PathLike) -> bool:
    return (Path(path) / MODEL_JSON).is_file()


def load_export(path: str | os.PathLike, checkpoint: str = "best", device: torch.device = torch.device("cpu")):
    """The ``LoadedRun`` of an exported folder: run_dir and checkpoint are the folder itself."""
    path = Path(path)
    json_path, weights_path = path / MODEL_JSON, path / WEIGHTS_FILE
    meta = _read_meta(json_path)
    step = meta["step"]
    if str(checkpoint) not in ("best", "latest", str(step), ckpt.checkpoint_name(step), meta["source"]["checkpoint"]):
        raise CheckpointError(f"exported model {path} holds one checkpoint, step {step}; --checkpoint {checkpoint!r} "
                              "is not it", "leave --checkpoint out")
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path} is missing", REEXPORT)
    if meta.get("weights_sha256") and sha256_file(weights_path) != meta["weights_sha256"]:
        raise CheckpointError(f"{weights_path} does not match {json_path} (checksum differs: damaged or replaced)",
                              REEXPORT)
    try:
        tensors = load_file(str(weights_path), device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:120]
        raise CheckpointError(f"{weights_path} is damaged ({detail})", REEXPORT) from None
    weights = {k[len(PREFIX):]: v for k, v in tensors.items() if k.startswith(PREFIX)}
    model_cfg, G = build_generator(meta["arch"], meta["model_config"], weights, device, str(weights_path), REEXPORT)
    extras = meta.get("extras")  # exports from before sounds and music have none
    return LoadedRun(path, path, step, meta["arch"], model_cfg, G, device,
                     list(meta["label_names"]), [float(w) for w in meta["label_weights"]],
                     dict(extras) if isinstance(extras, dict) else {})


def _read_meta(json_path: Path) -> dict:
    """model.json, checked field by field: a damaged one is a one-line CheckpointError naming it."""
    try:
        meta = read_json(json_path)
    except ValueError:  # also bytes that are not UTF-8
        raise CheckpointError(f"{json_path} is damaged (not valid JSON)", REEXPORT) from None
    except OSError as exc:
        raise CheckpointError(f"{json_path} cannot be read ({exc.strerror or exc})", REEXPORT) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{json_path} is not an artforge model file (no \"format\": \"{FORMAT}\")",
                              "pass a folder made by 'artforge export', or a run")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{json_path} has format version {version}; this artforge reads version {FORMAT_VERSION}",
                              "use the artforge version that wrote it (see its artforge_version)")
    expected = {"arch": str, "model_config": dict, "step": int, "label_names": list, "label_weights": list,
                "source": dict}
    for key, kind in expected.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(f"{json_path} is damaged ({key!r} is missing or not a {kind.__name__})", REEXPORT)
    names, weights = meta["label_names"], meta["label_weights"]
    if not all(isinstance(n, str) for n in names) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights):
        raise CheckpointError(f"{json_path} is damaged (label_names or label_weights hold the wrong kind of value)",
                              REEXPORT)
    meta["source"].setdefault("checkpoint", ckpt.checkpoint_name(meta["step"]))
    return meta


# ----------------------------------------------------------------------------- sample

SAMPLES_RECORD = "samples.json"  # in each folder sample writes: its settings and the files it wrote
# the only names a record may make sample delete: images and their provenance sidecars
_WRITTEN = re.compile(r"(seed\d+|step\d+|grid|like|target)\.(png|json|wav|mid)|index\.html")


def sample_folder(cfg: SampleConfig, model: LoadedRun) -> Path:
    """--out, or RUN/samples/<checkpoint>-seed<first seed asked for>."""
    if cfg.out:
        return Path(cfg.out)
    return RunLayout(model.run_dir).samples / f"{model.checkpoint.name}-seed{cfg.seed_list()[0]:04d}"


def _previous_files(out: Path) -> list[str]:
    """The images an earlier call wrote into ``out``, by its record; never names outside the folder."""
    try:
        names = read_json(out / SAMPLES_RECORD).get("files", [])
    except (OSError, ValueError, AttributeError):  # no record, or not ours: delete nothing
        return []
    return [n for n in names if isinstance(n, str) and _WRITTEN.fullmatch(n)]


def _replace_previous(out: Path, names: list[str], record: dict) -> list[str]:
    """Delete the earlier call's images that this call does not rewrite, then record this call's.

    The record is written before the images, so a call that dies half-way still lists what it wrote.
    """
    removed = []
    for name in _previous_files(out):
        path = out / name
        if name not in names and path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(name)
    atomic_write_json(out / SAMPLES_RECORD, {**record, "files": names})
    return removed


def sample_to_folder(cfg: SampleConfig, announce=print) -> dict:
    """The ``artforge sample`` command: PNGs named by seed, plus a grid, replacing an earlier call's.

    Each PNG carries its provenance (``provenance.save_image``: in its metadata and a sidecar JSON)
    and, unless ``cfg.watermark`` is off, the invisible watermark.
    """
    started = time.perf_counter()
    model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    loaded = time.perf_counter()
    from .composing import is_music_model
    from .listening import is_sound_model
    if is_sound_model(model) or is_music_model(model):
        return _sample_sounds(cfg, model, loaded - started)
    if cfg.mood or cfg.valence is not None or cfg.arousal is not None:
        raise UsageError(f"--mood, --valence and --arousal steer music models; {model.run_dir.name} makes images",
                         "leave them out")
    seeds, dropped = cfg.seed_list(), []
    if cfg.filter:  # the config allows one filter, jacobian, for images
        seeds, dropped = jacobian_filter(model, seeds, cfg.filter_drop, cfg.truncation, cfg.label)
    images, styles = sample_images(model, seeds, cfg.truncation, cfg.label)
    sampled = time.perf_counter()
    out = sample_folder(cfg, model)
    out.mkdir(parents=True, exist_ok=True)
    stems = [f"seed{s:04d}" for s in seeds] + (["grid"] if cfg.grid else [])
    names = [f"{stem}.{ext}" for stem in stems for ext in ("png", "json")]
    record = {"checkpoint": str(model.checkpoint), "step": model.step, "seeds": seeds, "dropped_seeds": dropped,
              "truncation": cfg.truncation, "label": cfg.label, "filter": list(cfg.filter),
              "filter_drop": cfg.filter_drop, "watermark": cfg.watermark}
    removed = [n for n in _replace_previous(out, names, record) if n.endswith(".png")]
    settings = {**to_dict(cfg), "seeds": seeds, "dropped_seeds": dropped}
    latents, labels = model.latents(seeds), model.labels(seeds, cfg.label)
    files = []
    for i, (s, image) in enumerate(zip(seeds, images)):
        described = provenance.describe(model, "sample", seed=s, label=None if labels is None else int(labels[i]),
                                        truncation=cfg.truncation, z=latents[i],
                                        ws=None if styles is None else styles[i], settings=settings)
        files.append(provenance.save_image(out / f"seed{s:04d}.png", image, described, watermark=cfg.watermark))
    grid = None
    if cfg.grid:  # a picture of its own: marked and recorded as a whole
        described = provenance.describe(model, "sample-grid", label=cfg.label, truncation=cfg.truncation,
                                        settings=settings)
        grid = provenance.save_image(out / "grid.png", np.asarray(make_grid(images)), described,
                                     watermark=cfg.watermark)
    return {"out": out, "files": files, "grid": grid, "checkpoint": model.checkpoint, "step": model.step,
            "load_s": loaded - started, "sample_s": sampled - loaded, "dropped": dropped, "removed": removed}


def _sample_sounds(cfg: SampleConfig, model: LoadedRun, load_s: float) -> dict:
    """``sample`` for a sound or music model: WAVs (and MIDI), pictures and a page of players
    (listening.py, composing.py)."""
    from .composing import compose_to_folder, is_music_model
    from .listening import sample_sounds_to_folder

    music = is_music_model(model)
    what = "music" if music else "sounds"
    if cfg.filter or cfg.truncation != 1.0:
        option = "--filter" if cfg.filter else "--truncation"
        raise UsageError(f"{option} applies to image models; {model.run_dir.name} makes {what}", "leave it out")
    if not music and (cfg.mood or cfg.valence is not None or cfg.arousal is not None):
        raise UsageError(f"--mood, --valence and --arousal steer music models; {model.run_dir.name} makes sounds",
                         "leave them out (--label picks the kind of sound)")
    out = sample_folder(cfg, model)
    out.mkdir(parents=True, exist_ok=True)
    record = {"checkpoint": str(model.checkpoint), "step": model.step, "seeds": cfg.seed_list(), "label": cfg.label}

    def replace_previous(folder: Path, names: list[str]) -> list[str]:
        return _replace_previous(folder, names, record)

    settings = {**to_dict(cfg), "seeds": cfg.seed_list()}
    make = compose_to_folder if music else sample_sounds_to_folder
    result = make(cfg, model, out, settings, replace_previous)
    return {**result, "out": out, "checkpoint": model.checkpoint, "step": model.step, "load_s": load_s,
            "dropped": [], "kind": "music" if music else "sounds"}


def sample_images(model: LoadedRun, seeds: list[int], truncation: float,
                   label: int | str | None) -> tuple[np.ndarray, torch.Tensor | None]:
    """(uint8 images, their w+ styles or None) of ``seeds``, made the way ``artforge recreate`` makes them.

    A style model's images are rendered from the styles recorded (``render``: fixed-size passes, so
    each image is the one recreate renders from its styles alone).
    """
    if not model.has_styles:
        return model.sample(seeds=seeds, truncation=truncation, label=label), None
    styles = model.styles(seeds, truncation, label)
    return model.render(styles), styles


def jacobian_filter(model: LoadedRun, seeds: list[int], drop: float, truncation: float = 1.0,
                    label: int | str | None = None) -> tuple[list[int], list[int]]:
    """Split ``seeds`` into the kept and the ``drop`` share where G stretches its latent space most.

    Jacobian-based truncation (Tanielian et al. 2020): a continuous G jumps between separate kinds of
    image through thin regions of the latent space where its Jacobian is large, and the images drawn
    there are the in-between ones. Depends only on the seeds asked for, not on batching.
    """
    return jacobian_keep(model, seeds, len(seeds) - filter_left_out(len(seeds), drop), truncation, label)


def jacobian_keep(model: LoadedRun, seeds: list[int], keep: int, truncation: float = 1.0,
                  label: int | str | None = None, progress=None) -> tuple[list[int], list[int]]:
    """The ``keep`` seeds with the smallest Jacobian norm, and the rest; both in the order given."""
    norms = model.jacobian_norms(seeds, truncation, label, progress=progress)
    worst = set(np.argsort(-norms, kind="stable")[:len(seeds) - keep].tolist())
    kept = [s for i, s in enumerate(seeds) if i not in worst]
    return kept, [s for i, s in enumerate(seeds) if i in worst]
