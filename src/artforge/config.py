"""The one source of defaults for the Python API and the CLI.

Each user-facing command has a frozen dataclass here. A field's metadata carries its help text (and
choices), so ``cli.py`` builds its argparse options from these classes and the API functions build
the same dataclass from keyword arguments: a default changed here changes both. Validation lives in
``__post_init__`` and raises ``UsageError`` naming the CLI flag, so both entry points report bad
values the same way.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import UsageError


def option(default: Any, help: str, *, choices: tuple | Callable[[], tuple] | None = None, metavar: str | None = None,
           positional: bool = False, cli: bool = True):
    """A dataclass field with the metadata the CLI needs."""
    meta = dict(help=help, choices=choices, metavar=metavar, positional=positional, cli=cli)
    if isinstance(default, (list, dict, set)):
        raise TypeError("use tuples for sequence defaults: options are frozen")
    return field(default=default, metadata=meta)


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def to_dict(cfg) -> dict:
    """JSON-ready dict of a config dataclass (tuples become lists)."""
    return dataclasses.asdict(cfg)


def from_dict(cls, data: dict):
    """Rebuild a config from ``to_dict`` output, ignoring keys this version does not know."""
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
    return cls(**kwargs)


# ----------------------------------------------------------------------------- validation helpers

def _paths_to_str(cfg, *names: str) -> None:
    """Accept pathlib paths from API callers; store strings so configs stay JSON-ready."""
    for name in names:
        value = getattr(cfg, name)
        if value is not None and not isinstance(value, str):
            object.__setattr__(cfg, name, os.fspath(value))


def _positive_int(value, name: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{flag_name(name)} must be an integer >= {minimum}, got {value!r}",
                         f"pass e.g. {flag_name(name)} {max(minimum, 1) * 64 if name == 'size' else max(minimum, 1)}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value, name: str, kind=float) -> None:
    ok = _is_number(value) and value > 0
    if not ok or (kind is int and int(value) != value):
        raise UsageError(f"{flag_name(name)} must be a positive number, got {value!r}",
                         f"pass e.g. {flag_name(name)} 10")


def _optional_positive(value, name: str, kind=float) -> None:
    if value is not None:
        _positive(value, name, kind)


def _choice(value, name: str, choices) -> None:
    if value not in choices:
        raise UsageError(f"{flag_name(name)} must be one of {', '.join(map(str, choices))}, got {value!r}",
                         f"pass {flag_name(name)} {choices[0]}")


def _fraction(value, name: str, *, allow_zero: bool = True) -> None:
    if not _is_number(value) or not ((value >= 0 if allow_zero else value > 0) and value <= 1):
        raise UsageError(f"{flag_name(name)} must be a number in {'[0' if allow_zero else '(0'}, 1], got {value!r}",
                         f"pass e.g. {flag_name(name)} 0.5")


# ----------------------------------------------------------------------------- prepare

FITS = ("crop", "pad", "stretch")
COLORS = ("rgb", "gray")
LABEL_MODES = ("auto", "folders", "none")
FILTERS = ("lanczos", "bicubic", "bilinear", "box")


@dataclass(frozen=True)
class PrepareConfig:
    source: str = option("", "image folder (searched recursively), a .zip of images, or a built-in "
                         "dataset name: openmoji", positional=True, metavar="SRC")
    out: str | None = option(None, "output dataset .zip (default: datasets/<source name>-<size>.zip)")
    size: int = option(64, "output width and height in pixels (a power of two for training)")
    fit: str = option("crop", "how to make images square: center-crop, pad with the background colour, "
                      "or stretch", choices=FITS)
    color: str = option("rgb", "output colour mode", choices=COLORS)
    background: str = option("white", "colour composited under transparency and used for padding "
                             "(a name or #rrggbb)")
    filter: str = option("lanczos", "resampling filter for resizing", choices=FILTERS)
    labels: str = option("auto", "class labels from first-level subfolder names: 'auto' uses them when "
                         "every image sits in one of two or more subfolders", choices=LABEL_MODES)
    split: tuple = option((0.9, 0.05, 0.05), "train, val and test fractions (comma separated)",
                          metavar="TRAIN,VAL,TEST")
    seed: int = option(0, "seed for the train/val/test split and --subset")
    subset: float = option(1.0, "keep this fraction of the valid images (seeded), e.g. 0.1 for a small-data run")
    min_size: int = option(16, "reject images whose shorter side is below this many pixels")
    max_pixels: int = option(89_478_485, "reject images with more pixels than this (decompression bombs)")
    workers: int = option(0, "decoding processes (0: one per CPU core)")
    overwrite: bool = option(False, "replace an existing output dataset")

    def __post_init__(self):
        _paths_to_str(self, "source", "out")
        if not self.source:
            raise UsageError("no source given", "pass a folder, a .zip or 'openmoji'")
        _positive_int(self.size, "size", minimum=4)
        _choice(self.fit, "fit", FITS)
        _choice(self.color, "color", COLORS)
        _choice(self.filter, "filter", FILTERS)
        _choice(self.labels, "labels", LABEL_MODES)
        _fraction(self.subset, "subset", allow_zero=False)
        _positive_int(self.min_size, "min_size")
        _positive_int(self.max_pixels, "max_pixels")
        _positive_int(self.workers, "workers", minimum=0)
        split = tuple(self.split)
        if len(split) != 3 or any(not _is_number(s) or s < 0 for s in split) \
                or abs(sum(split) - 1) > 1e-6 or split[0] <= 0:
            raise UsageError(f"--split must be three non-negative fractions summing to 1 with train > 0, "
                             f"got {self.split!r}", "pass e.g. --split 0.9,0.05,0.05")
        object.__setattr__(self, "split", split)
        from PIL import ImageColor
        try:
            ImageColor.getrgb(self.background)
        except (ValueError, TypeError, AttributeError):
            raise UsageError(f"--background {self.background!r} is not a colour",
                             "pass a name like white or a hex code like #ffffff") from None


# ----------------------------------------------------------------------------- train

def _registry(kind: str) -> dict:
    """The validated registries, imported late: they pull in torch, which config.py must not."""
    if kind == "arch":
        from .models.registry import ARCHITECTURES
        return ARCHITECTURES
    if kind == "loss":
        from .losses import LOSSES
        return LOSSES
    from .data.augment import AUGMENTS
    return AUGMENTS


PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES_HELP = "auto picks cuda, then mps, then cpu; or name one, e.g. cuda:1"


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = option("", "prepared dataset (.zip or folder) from 'artforge prepare'",
                          positional=True, metavar="DATASET")
    out: str = option("runs", "folder that gets one numbered subfolder per run")
    arch: str = option("dcgan", "model architecture", choices=lambda: tuple(_registry("arch")))
    loss: str = option("nonsaturating", "adversarial loss", choices=lambda: tuple(_registry("loss")))
    z_dim: int = option(128, "latent size")
    width: int = option(64, "base channel count of G and D (channels double as resolution halves)")
    max_width: int = option(512, "cap on channel count")
    batch: int = option(64, "images per step")
    lr_g: float = option(2e-4, "generator learning rate")
    lr_d: float = option(2e-4, "discriminator learning rate")
    beta1: float = option(0.5, "Adam beta1")
    beta2: float = option(0.999, "Adam beta2")
    label_smoothing: float = option(0.0, "one-sided label smoothing: real target is 1 - this")
    ema_kimg: float = option(10.0, "half-life of the G EMA in thousands of images (0 disables)")
    ema_rampup: float = option(0.05, "EMA ramp-up: half-life is at most this fraction of images shown so far (0 disables)")
    augment: tuple = option(("flip",), "augmentations of real images, comma separated, or 'none'",
                            metavar="LIST")
    conditional: bool = option(True, "condition G and D on dataset labels when the dataset has them")
    steps: int | None = option(None, "stop after this many steps")
    kimg: float | None = option(None, "stop after this many thousand real images shown to D")
    minutes: float | None = option(None, "stop after this many minutes of training")
    tick: int = option(100, "steps between log lines, health checks and sample grids")
    checkpoint_every: int = option(500, "steps between checkpoints")
    keep: int = option(3, "checkpoints to keep besides the best")
    eval_images: int = option(512, "images used for the quality signal that picks the best checkpoint (0 disables)")
    seed: int = option(0, "seed for weights, data order, noise and augmentation")
    device: str = option("auto", DEVICES_HELP)
    precision: str = option("auto", "compute precision: auto uses bf16 where the hardware runs it fast",
                            choices=PRECISIONS)
    channels_last: bool = option(True, "use the channels-last memory layout (faster convolutions on CPU and GPU)")
    workers: int = option(0, "data loading processes for datasets too big to hold in memory (0: auto)")
    cache_gb: float = option(2.0, "hold the dataset in memory when it is at most this large")
    split: str = option("train", "dataset split to train on", choices=("train", "all"))
    tensorboard: bool = option(True, "also log to TensorBoard when it is installed")
    progress: bool = option(True, "show a progress bar", cli=False)

    def __post_init__(self):
        _paths_to_str(self, "dataset", "out")
        if not self.dataset:
            raise UsageError("no dataset given", "pass a dataset made by 'artforge prepare'")
        for name in ("z_dim", "width", "max_width", "batch", "tick", "checkpoint_every", "keep"):
            _positive_int(getattr(self, name), name)
        _positive_int(self.eval_images, "eval_images", minimum=0)
        _positive_int(self.workers, "workers", minimum=0)
        for name in ("lr_g", "lr_d", "cache_gb"):
            _positive(getattr(self, name), name)
        _positive_int(self.seed, "seed", minimum=0)
        _choice(self.split, "split", ("train", "all"))
        _optional_positive(self.steps, "steps", kind=int)
        _optional_positive(self.kimg, "kimg")
        _optional_positive(self.minutes, "minutes")
        for name in ("beta1", "beta2", "label_smoothing"):
            _fraction(getattr(self, name), name)
        for name in ("ema_kimg", "ema_rampup"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise UsageError(f"{flag_name(name)} must be >= 0, got {v!r}", f"pass e.g. {flag_name(name)} 10")
        _choice(self.precision, "precision", PRECISIONS)
        names = self.augment.split(",") if isinstance(self.augment, str) else self.augment
        augment = tuple(dict.fromkeys(a.strip() for a in names if a.strip() and a.strip() != "none"))
        object.__setattr__(self, "augment", augment)
        _choice(self.arch, "arch", tuple(_registry("arch")))
        _choice(self.loss, "loss", tuple(_registry("loss")))
        for name in augment:
            _choice(name, "augment", tuple(_registry("augment")))

    def stop_given(self) -> bool:
        return any(v is not None for v in (self.steps, self.kimg, self.minutes))


# ----------------------------------------------------------------------------- sample

@dataclass(frozen=True)
class SampleConfig:
    run: str = option("", "run folder (or a folder of runs: the newest is used) or a checkpoint folder",
                      positional=True, metavar="RUN")
    out: str | None = option(None, "output folder (default: RUN/samples/<checkpoint>-seed<first>)")
    n: int = option(64, "number of images (seeds seed, seed+1, ...)")
    seed: int = option(0, "first seed; image i uses seed + i, so the same seed always gives the same image")
    seeds: str | None = option(None, "explicit seeds instead of --n/--seed, e.g. 1,5,10-20")
    truncation: float = option(1.0, "scale of the latent z: below 1 trades variety for typicality")
    label: str | None = option(None, "class name or index for conditional models (default: cycle through classes)")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    device: str = option("auto", DEVICES_HELP)
    grid: bool = option(True, "also write grid.png")

    def __post_init__(self):
        _paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder such as runs/00000-openmoji-64-dcgan")
        _positive_int(self.n, "n")
        if self.n > MAX_SEEDS:
            raise UsageError(f"--n {self.n} is more than {MAX_SEEDS} images", "sample in smaller batches")
        _positive_int(self.seed, "seed", minimum=0)
        if self.seeds is not None:
            parse_seeds(self.seeds)
        if not _is_number(self.truncation) or not (0 <= self.truncation <= 10):
            raise UsageError(f"--truncation must be a number in [0, 10], got {self.truncation!r}",
                             "pass e.g. --truncation 0.7")

    def seed_list(self) -> list[int]:
        if self.seeds is None:
            return list(range(self.seed, self.seed + self.n))
        return parse_seeds(self.seeds)


MAX_SEEDS = 100_000


def parse_seeds(text: str) -> list[int]:
    """'1,5,10-12' -> [1, 5, 10, 11, 12]."""
    seeds: list[int] = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            lo, dash, hi = part.partition("-")
            lo, hi = int(lo), int(hi if dash else lo)
            if hi < lo:
                raise ValueError
            if len(seeds) + hi - lo + 1 > MAX_SEEDS:
                raise UsageError(f"--seeds {text!r} asks for more than {MAX_SEEDS} images", "sample in smaller batches")
            seeds.extend(range(lo, hi + 1))
    except ValueError:
        raise UsageError(f"--seeds {text!r} is not a list of seeds", "pass e.g. --seeds 1,5,10-20") from None
    if not seeds:
        raise UsageError(f"--seeds {text!r} names no seed", "pass e.g. --seeds 1,5,10-20")
    return seeds
