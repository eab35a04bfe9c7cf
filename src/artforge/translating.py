"""Applying an image-to-image run to new images: ``artforge translate`` and ``artforge upscale``.

``load_translator`` rebuilds a pix2pix, cyclegan or sr run's EMA generator from a checkpoint (for
cyclegan, either direction; for an upscaler trained from a fidelity model, blended with it at a
``strength``). ``Translator.apply`` runs it on an image of any size: images larger than the network's
tile go through ``ops.tiling.tiled`` (overlapping tiles, blended), smaller ones and sides the network
cannot take are padded by repeating the border and cropped back. ``translate_files`` does files and
folders, skipping and reporting unreadable ones as prepare does, and writes every output with its
provenance record (model, checkpoint, settings, source file) and the invisible watermark.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .errors import CheckpointError, UsageError
from .runs import checkpoint as ckpt
from .runs.rundir import resolve_run, read_run_options
from .runs.sampler import build_sampler, load_sampler_weights
from .tasks.specs import TASKS, TaskSpec, Tiling, task_spec
from .utils.device import pick_device
from .utils.events import CancelToken, EventSink, Progress

@dataclass
class Translator:
    run_dir: Path
    checkpoint: Path
    step: int
    task: str
    arch: str  # the model family (provenance records call it arch)
    model_cfg: object
    G: nn.Module
    device: torch.device
    settings: dict = field(default_factory=dict)  # how G was made from the run: direction, strength

    @property
    def family(self) -> str:
        return self.arch

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self.task]

    @property
    def scale(self) -> int:
        return getattr(self.model_cfg, "scale", 1)

    @property
    def channels(self) -> int:
        """Channels of the images G takes."""
        cfg, direction = self.model_cfg, self.settings.get("direction")
        if direction:  # a two-way family's channels per domain: a2b takes a's
            return getattr(cfg, f"channels_{direction[0]}")
        return getattr(cfg, "channels_in", None) or cfg.channels

    def _layout(self) -> Tiling:
        return self.spec.tiling(self.model_cfg)

    def __call__(self, x: Tensor) -> Tensor:
        return self.G(x)

    @torch.no_grad()
    def apply(self, image: np.ndarray, *, tile: int | None = None, seed: int | None = None, progress=None) -> np.ndarray:
        """uint8 (H, W, C) -> uint8 (H * scale, W * scale, C'). ``seed``: pix2pix's dropout on, drawn from it
        (a variation); else G is deterministic. ``progress(done, total)`` after each tile."""
        from .ops.tiling import tiled
        from .utils.images import to_uint8

        layout = self._layout()
        size, overlap, pad, multiple = layout.tile, layout.overlap, layout.pad, layout.multiple
        if tile is not None and tile % multiple:
            raise UsageError(f"--tile {tile} is not a multiple of {multiple}, which this {self.task} model's "
                             "downsamplings need", f"pass --tile {max(multiple, tile // multiple * multiple)}")
        size = tile or size
        overlap = min(overlap, size // 4)
        x = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)[None].float().div(127.5).sub(1)
        x = _match_channels(x, self.channels).to(self.device)
        h, w = x.shape[2:]
        need_h, need_w = _padded_side(h, size, multiple, layout.exact), _padded_side(w, size, multiple, layout.exact)
        x = F.pad(x, (0, need_w - w, 0, need_h - h), mode="replicate") if (need_h, need_w) != (h, w) else x
        with _dropout(self.G, seed):
            out = tiled(self.G, x, tile=size, overlap=overlap, pad=pad, scale=self.scale, progress=progress)
        out = out[:, :, :h * self.scale, :w * self.scale]
        return to_uint8(out)[0].numpy()


def _padded_side(side: int, tile: int, multiple: int, exact: bool) -> int:
    """The side an image is padded to: at least one tile where tiles are exact (pix2pix), and a multiple
    of what G's downsamplings need."""
    if exact:
        side = max(side, tile)
    return -(-side // multiple) * multiple


def _match_channels(x: Tensor, channels: int) -> Tensor:
    if x.shape[1] == channels:
        return x
    if channels == 1:  # ITU-R 601 luma, as Pillow's convert("L")
        return (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return x.expand(-1, channels, -1, -1)


@contextlib.contextmanager
def _dropout(G: nn.Module, seed: int | None):
    """Dropout layers on and seeded for a pix2pix variation; nothing changes when ``seed`` is None."""
    layers = [m for m in G.modules() if isinstance(m, nn.Dropout)]
    if seed is None or not layers:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in layers:
            m.train(True)
        try:
            yield
        finally:
            for m in layers:
                m.train(False)


# ----------------------------------------------------------------------------- loading

def _load_g(run_dir: Path, which: str, device: torch.device) -> tuple[Path, dict, dict, int]:
    """(checkpoint path, its state, the weights of its family's sampler, step) of a run."""
    from .sampling import resolve_checkpoint
    path = run_dir if (run_dir / ckpt.STATE_FILE).exists() else resolve_checkpoint(run_dir, which)
    return (path, *load_sampler_weights(path, device))


def load_translator(run: str | os.PathLike, checkpoint: str = "best", device: str = "auto", *,
                    reverse: bool = False, strength: float | None = None, announce=print) -> Translator:
    """A translation run's EMA generator, ready to apply. ``reverse``: cyclegan's B -> A generator.
    ``strength`` (sr runs started from a fidelity model with --init): 0 is the fidelity model, 1 this one."""
    path = Path(run)
    ckpt_dir = path if (path / ckpt.STATE_FILE).exists() else None
    run_dir = resolve_run(path, announce=announce)
    device = pick_device(device)
    ckpt_path, state, weights, step = _load_g(ckpt_dir or run_dir, checkpoint, device)
    spec = task_spec(state.get("task"))
    task = spec.name
    if not spec.translates:
        raise UsageError(f"{run_dir} is a {task} run: it {spec.makes}",
                         f"sample it with 'artforge {spec.offers} {run_dir}'")
    if reverse and len(spec.directions) < 2:
        raise UsageError(f"--reverse is for {_tasks_with('directions')} runs; {run_dir} is a {task} run", "leave it out")
    settings: dict = {}
    if spec.directions:
        settings["direction"] = spec.directions[1 if reverse else 0]
    if strength is not None:
        weights = _blend(run_dir, spec, weights, strength, device, announce)
        settings["strength"] = strength
    family, model_cfg, G = build_sampler(ckpt_path, state, weights)
    if spec.directions:  # the family's generator holds one network per direction
        G = getattr(G, settings["direction"].replace("2", ""))
    G = G.to(device).eval().requires_grad_(False)
    return Translator(run_dir, ckpt_path, step, task, family.name, model_cfg, G, device, settings)


def _tasks_with(feature: str) -> str:
    """The tasks that have a feature of TaskSpec, for messages: 'cyclegan', 'pix2pix or sr'."""
    return " or ".join(name for name, spec in TASKS.items() if getattr(spec, feature))


def _blend(run_dir: Path, spec: TaskSpec, weights: dict, strength: float, device, announce) -> dict:
    """The GAN upscaler's weights moved toward the fidelity model it started from (ESRGAN sec. 3.4)."""
    from .models.esrgan import interpolate_weights
    if not spec.blends:
        raise UsageError(f"--strength is for upscalers ({_tasks_with('blends')} runs); {run_dir} is a {spec.name} run",
                         "leave it out")
    if not 0 <= strength <= 1:
        raise UsageError(f"--strength must be in [0, 1], got {strength}", "pass e.g. --strength 0.8")
    saved, _ = read_run_options(run_dir)
    init = (saved.get("train") or {}).get("init")
    if not init:
        raise UsageError(f"--strength blends a GAN upscaler with the fidelity model it started from; {run_dir} was "
                         "not started from one (--init)", "train the GAN model with --init FIDELITY_RUN, or leave "
                         "--strength out")
    fidelity_dir = resolve_run(init, announce=announce)
    _, _, fidelity, _ = _load_g(fidelity_dir, "best", device)
    try:
        return interpolate_weights(fidelity, weights, strength)
    except ValueError as exc:
        raise CheckpointError(f"{fidelity_dir} and {run_dir}: {exc}", "blend runs of the same sizes") from None


# ----------------------------------------------------------------------------- files

@dataclass
class Translated:
    written: list[Path]
    skipped: list[dict]  # {"file", "reason"}
    out: Path | None = None  # the folder written to
    status: str = "finished"  # or "interrupted": cancelled between images; ``written`` holds the finished ones


def input_files(inputs: list[str]) -> tuple[list[tuple[Path, str]], list[dict]]:
    """(path, name relative to its input) of every image among files and folders (searched recursively),
    and the inputs that are neither."""
    from .data.scan import IMAGE_EXTENSIONS
    files, missing = [], []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.is_file() and found.suffix.lower() in IMAGE_EXTENSIONS and not found.name.startswith("."):
                    files.append((found, found.relative_to(path).as_posix()))
        elif path.is_file():
            files.append((path, path.name))
        else:
            missing.append({"file": str(path), "reason": "no such file or folder"})
    return files, missing


def output_name(rel: str, suffix: str = "") -> str:
    return str(Path(rel).with_suffix("")) + suffix + ".png"


def translate_files(translator: Translator, inputs: list[str], out: Path, *, kind: str, variations: int = 0,
                    seed: int = 0, tile: int | None = None, watermark: bool = True, settings: dict | None = None,
                    events: EventSink | None = None, cancel: CancelToken | None = None) -> Translated:
    """Every image among ``inputs`` through ``translator`` into ``out`` (the inputs' folder structure kept);
    ``variations`` > 0: that many seeded pix2pix variations of each, named -v01, -v02, ...

    ``events`` receives a "progress" event per input (and how a big image's tiles go); cancelling stops
    between inputs with the status "interrupted" (each image is written whole, or not at all)."""
    from .data.imaging import Reject, decode_native

    files, skipped = input_files(inputs)
    if not files and not skipped:
        raise UsageError("no images among the inputs", "pass image files or folders holding PNG, JPEG, WebP, ...")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    progress = Progress(events, len(files), "images", kind, cancel)
    for path, rel in files:
        if progress.cancelled:
            break
        try:
            data = path.read_bytes()
            image = decode_native(data, gray=translator.channels == 1)
        except (OSError, Reject) as exc:
            skipped.append({"file": str(path), "reason": exc.args[0] if isinstance(exc, Reject) else str(exc)})
        else:
            source = {"file": str(path.resolve()), "sha256": hashlib.sha256(data).hexdigest(),
                      "size": [image.shape[1], image.shape[0]]}
            written += _translate_one(translator, image, source, out, rel, kind=kind, variations=variations,
                                      seed=seed, tile=tile, watermark=watermark, settings=settings, progress=progress)
        progress.advance()
    stopped = progress.done < len(files)  # cancelled before the last input
    if not stopped:
        progress.finish()
    if skipped:
        _write_skipped(out, skipped)
    return Translated(written, skipped, out, "interrupted" if stopped else "finished")


def _translate_one(translator: Translator, image: np.ndarray, source: dict, out: Path, rel: str, *, kind: str,
                   variations: int, seed: int, tile: int | None, watermark: bool, settings: dict | None,
                   progress: Progress) -> list[Path]:
    """One decoded input through ``translator`` (once, or as seeded variations) into ``out`` as PNGs named
    after ``rel``, with their provenance."""
    from . import provenance

    written = []
    draws = [(None, "")] if variations == 0 else [(seed + i, f"-v{i + 1:02d}") for i in range(variations)]
    for draw, suffix in draws:
        result = translator.apply(image, tile=tile, seed=draw, progress=_tiles(progress, image))
        record = provenance.describe(translator, kind, seed=draw, settings={
            **translator.settings, **(settings or {}), "task": translator.task, "source": source,
            "tile": tile or translator._layout().tile})
        path = out / output_name(rel, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        written.append(provenance.save_image(path, result, record, watermark=watermark))
    return written


def _write_skipped(out: Path, skipped: list[dict]) -> None:
    import csv
    import io

    from .utils.files import atomic_write_text
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["file", "reason"])
    writer.writeheader()
    writer.writerows(skipped)
    atomic_write_text(out / "skipped.csv", buffer.getvalue())


def _tiles(progress: Progress, image: np.ndarray):
    """A tile callback for ``ops.tiling.tiled``: how an image of more than one tile goes, as the progress's detail."""
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        if total > 1:
            progress.note(f"tile {done}/{total} of {image.shape[1]}x{image.shape[0]}, "
                          f"{time.monotonic() - started:.0f}s")
    return report


# ----------------------------------------------------------------------------- commands

def translate(cfg, announce=print, events: EventSink | None = None, cancel: CancelToken | None = None) -> Translated:
    """``artforge translate RUN INPUT... --out DIR`` (a ``config.TranslateConfig``)."""
    translator = load_translator(cfg.run, cfg.checkpoint, cfg.device, reverse=cfg.reverse, announce=announce)
    if cfg.variations and not translator.spec.variations:
        raise UsageError(f"--variations draws {_tasks_with('variations')}'s dropout; {translator.run_dir} is a "
                         f"{translator.task} run", "leave it out")
    if cfg.variations and not any(isinstance(m, nn.Dropout) for m in translator.G.modules()):
        raise UsageError(f"--variations needs G's dropout; {translator.run_dir} was trained with --dropout 0",
                         "leave it out")
    return translate_files(translator, list(cfg.inputs), Path(cfg.out), kind="translate", variations=cfg.variations,
                           seed=cfg.seed, tile=cfg.tile, watermark=cfg.watermark, events=events, cancel=cancel)


def upscale(cfg, announce=print, events: EventSink | None = None, cancel: CancelToken | None = None) -> Translated:
    """``artforge upscale RUN IMAGE... --out DIR`` (a ``config.UpscaleConfig``)."""
    translator = load_translator(cfg.run, cfg.checkpoint, cfg.device, strength=cfg.strength, announce=announce)
    if translator.spec.offers != "upscale":
        raise UsageError(f"{translator.run_dir} is a {translator.task} run, not an upscaler",
                         f"use 'artforge {translator.spec.offers} {translator.run_dir} ...', or an sr run")
    return translate_files(translator, list(cfg.inputs), Path(cfg.out), kind="upscale", tile=cfg.tile,
                           watermark=cfg.watermark, settings={"scale": translator.scale}, events=events, cancel=cancel)
