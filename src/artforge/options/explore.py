"""The options of `artforge explore` (project, palette, layout, mix, interpolate)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import UsageError
from .fields import (DEVICES_HELP, choice, flag_name, fraction, names, non_negative, option, paths_to_str, positive,
                     positive_int)
from .sample import parse_seeds
from .shared import TRUNCATION_HELP, truncation


STYLE_SPACES = ("w+", "w")  # what an optimization moves: one style per layer (w+), or one for all (w)
SPACE_HELP = ("what the optimization moves: w+ (one style per layer: closer fits) or w (one style for every "
              "layer: stays nearer the images the model makes)")
STRENGTH_HELP = ("how hard to pull toward the target, in [0, 1]: 0 keeps the seed's image, 1 ignores it; in "
                 "between, the loss weighs the target by S and closeness to the seed's styles by 1 - S")
RUN_HELP = "run folder (or a folder of runs: the newest is used), checkpoint folder or exported model"


def _explore_common(cfg, *paths: str) -> None:
    """What every explore action checks alike: a run, the optimization's size, seeds, strength."""
    paths_to_str(cfg, "run", "out", *paths)
    if not cfg.run:
        raise UsageError("no run given", "pass a run folder such as runs/00000-openmoji-64-style")
    if cfg.out == "":
        raise UsageError("--out is empty", "pass a folder, e.g. --out picks/")
    positive_int(cfg.steps, "steps")
    positive(cfg.lr, "lr")
    choice(cfg.space, "space", STYLE_SPACES)
    object.__setattr__(cfg, "checkpoint", str(cfg.checkpoint))
    if hasattr(cfg, "strength"):
        fraction(cfg.strength, "strength")
    if hasattr(cfg, "seeds"):
        parse_seeds(cfg.seeds)
    if hasattr(cfg, "truncation"):
        truncation(cfg.truncation)


def _image_file(path: str | None, name: str) -> None:
    if path is not None and not os.path.isfile(path):
        raise UsageError(f"{flag_name(name) if name != 'image' else 'IMAGE'} {path} is not a file",
                         "check the path")


@dataclass(frozen=True)
class ProjectConfig:
    run: str = option("", RUN_HELP, positional=True, metavar="RUN")
    image: str | None = option(None, "the real image to project (fitted to the model's size)", positional=True,
                               metavar="IMAGE")
    space: str = option("w+", SPACE_HELP, choices=STYLE_SPACES)
    steps: int = option(300, "optimization steps (about 300 fit well; more sharpen slowly)")
    lr: float = option(0.1, "Adam's learning rate for the styles (warmed up, then ramped down)")
    d_weight: float = option(0.1, "weight of the distance between D's features of the target and the render, "
                             "beside the pixel loss; 0 uses pixels alone (as for exported models, which have no D)")
    pixel_loss: str = option("mse", "pixel loss, at full and at quarter resolution", choices=("mse", "l1"))
    vary: int = option(0, "also write N variations: the projection moved a little toward random seeds' styles")
    vary_strength: float = option(0.3, "how far each variation moves, in [0, 1]")
    held_out: int = option(0, "instead of IMAGE: project N test-split images of the run's dataset and report "
                           "their mean reconstruction PSNR")
    dataset: str | None = option(None, "dataset for --held-out (default: the run's own)")
    label: str | None = option(None, "class to project into, for conditional models (default: their mean)")
    seed: int = option(0, "first seed of the variations' random styles")
    out: str | None = option(None, "output folder (default: RUN/explore/project-<image name>)")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    device: str = option("auto", DEVICES_HELP)
    quiet: bool = option(False, "no progress bar")

    def __post_init__(self):
        _explore_common(self, "image", "dataset")
        non_negative(self.d_weight, "d_weight")
        positive_int(self.vary, "vary", minimum=0)
        fraction(self.vary_strength, "vary_strength")
        positive_int(self.held_out, "held_out", minimum=0)
        positive_int(self.seed, "seed", minimum=0)
        if not self.image and not self.held_out:
            raise UsageError("no image given", "pass IMAGE, or --held-out N to project test images of the dataset")
        if self.image and self.held_out:
            raise UsageError("IMAGE and --held-out both given", "pass one of them")
        _image_file(self.image, "image")


@dataclass(frozen=True)
class _SteeringOptions:
    """What palette and layout share: the seeds they start from and how the styles are steered."""

    run: str = option("", RUN_HELP, positional=True, metavar="RUN")
    seeds: str = option("0", "seeds of the images to steer, e.g. 0-3")
    strength: float = option(0.5, STRENGTH_HELP)
    steps: int = option(100, "optimization steps")
    lr: float = option(0.05, "Adam's learning rate for the styles")
    space: str = option("w+", SPACE_HELP, choices=STYLE_SPACES)
    truncation: float = option(1.0, TRUNCATION_HELP)
    label: str | None = option(None, "class name or index for conditional models")
    out: str | None = option(None, "output folder (default: RUN/explore/<action>-seed<first seed>)")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    device: str = option("auto", DEVICES_HELP)
    quiet: bool = option(False, "no progress bar")


@dataclass(frozen=True)
class PaletteConfig(_SteeringOptions):
    colors: str | None = option(None, "the palette as colours, e.g. '#1d3557,#e63946,#f1faee' (names work too)")
    palette_image: str | None = option(None, "or a reference image: its --k main colours are the palette",
                                       metavar="IMAGE")
    k: int = option(5, "colours taken from --palette-image")

    def __post_init__(self):
        _explore_common(self, "palette_image")
        if (self.colors is None) == (self.palette_image is None):
            raise UsageError("give the palette once: --colors or --palette-image",
                             "pass e.g. --colors '#1d3557,#e63946,#f1faee'")
        positive_int(self.k, "k")
        _image_file(self.palette_image, "palette_image")


@dataclass(frozen=True)
class LayoutConfig(_SteeringOptions):
    blobs: str | None = option(None, "coloured discs 'x,y,r,#hex;...': centre and radius as fractions of the "
                               "width, height and shorter side, e.g. '0.5,0.6,0.25,#e63946'")
    mask: str | None = option(None, "or a mask image: its bright part should take --color", metavar="IMAGE")
    color: str = option("#000000", "colour of the mask's bright part")
    background: str | None = option(None, "colour of the rest of the mask (default: left free)")

    def __post_init__(self):
        _explore_common(self, "mask")
        if (self.blobs is None) == (self.mask is None):
            raise UsageError("give the layout once: --blobs or --mask", "pass e.g. --blobs '0.5,0.5,0.3,#e63946'")
        if self.background is not None and self.mask is None:
            raise UsageError("--background colours the rest of a --mask", "pass --mask, or drop --background")
        _image_file(self.mask, "mask")


# --- explore mix / interpolate

LAYERS_HELP = ("the w+ layers the column seeds give (the row seeds give the rest): coarse (the 4-8 px layers: "
               "pose, outline, layout), middle (16-32 px: features, parts), fine (64 px and up: colour, "
               "texture, finish), several joined by commas, or layer indices and ranges like 0-3")
LAYER_GROUP_NAMES = ("coarse", "middle", "fine")  # models.style.LAYER_GROUPS, without importing torch here
MAX_GRID_SEEDS = 64  # rows or columns of a mixing grid
EASES = ("linear", "smooth", "cosine")
SPACES = ("w", "z")
VIDEO_FORMATS = ("gif", "mp4")
MAX_FRAMES = 20_000  # frames of one interpolation


def split_layer_spec(text) -> tuple:
    """'coarse,6-7,9' -> ('coarse', (6, 7), (9, 9)): names and inclusive index ranges, checked for form only.

    Which indices a name means, and whether they exist, depends on the model (``explore.mixing.parse_layers``).
    """
    parts = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        if part in LAYER_GROUP_NAMES:
            parts.append(part)
            continue
        lo, dash, hi = part.partition("-")
        try:
            lo, hi = int(lo), int(hi if dash else lo)
        except ValueError:
            lo, hi = 0, -1
        if not 0 <= lo <= hi:
            raise UsageError(f"--layers {text!r}: {part!r} is not a layer group or a range of layer indices",
                             "pass coarse, middle, fine or a range like 0-3")
        parts.append((lo, hi))
    if not parts:
        raise UsageError(f"--layers {text!r} names no layer", "pass coarse, middle, fine or a range like 0-3")
    return tuple(parts)


def _grid_seeds(text, name: str) -> None:
    seeds = parse_seeds(text)
    if len(seeds) > MAX_GRID_SEEDS:
        raise UsageError(f"{flag_name(name)} names {len(seeds)} seeds; a grid takes at most {MAX_GRID_SEEDS}",
                         f"pass fewer, e.g. {flag_name(name)} 0-7")


@dataclass(frozen=True)
class MixConfig:
    run: str = option("", "run folder (or a folder of runs: the newest is used), checkpoint or exported model of "
                      "a style-based model (--arch style)", positional=True, metavar="RUN")
    rows: str = option("0-3", "seeds of the grid's rows: each row's seed gives the layers --layers does not name, "
                       "e.g. 1,5,10-12")
    cols: str = option("4-7", "seeds of the grid's columns: each column's seed gives the layers --layers names")
    layers: str = option("coarse", LAYERS_HELP)
    truncation: float = option(1.0, TRUNCATION_HELP + "; in w, toward the class's mean style")
    label: str | None = option(None, "class name or index for conditional models (default: cycle through "
                               "classes by seed)")
    out: str | None = option(None, "output folder (default: RUN/explore/mix-<layers>-rows<rows>-cols<cols>); holds "
                             "grid.png and each cell as row<seed>-col<seed>.png")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    device: str = option("auto", DEVICES_HELP)
    quiet: bool = option(False, "no progress bar")

    def __post_init__(self):
        paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder of a style-based model")
        _grid_seeds(self.rows, "rows")
        _grid_seeds(self.cols, "cols")
        split_layer_spec(self.layers)
        truncation(self.truncation)
        object.__setattr__(self, "checkpoint", str(self.checkpoint))

    def row_seeds(self) -> list[int]:
        return parse_seeds(self.rows)

    def col_seeds(self) -> list[int]:
        return parse_seeds(self.cols)


@dataclass(frozen=True)
class InterpolateConfig:
    run: str = option("", "run folder (or a folder of runs: the newest is used), checkpoint or exported model of "
                      "a style-based model (--arch style)", positional=True, metavar="RUN")
    seeds: str | None = option(None, "the seeds to pass through, in order, e.g. 3,17,42 (default: 0,1 unless "
                               "--latents is given)")
    latents: tuple = option((), "instead of --seeds: files of saved styles to pass through, in order: .npy of "
                            "w (N, w_dim) or w+ (N, num_ws, w_dim), or .json (an image's provenance sidecar, e.g. "
                            "of a projected image, or an encoded array); comma separated", metavar="FILE[,FILE]")
    space: str = option("w", "w: straight lines between the styles; z: great circles (slerp) between the seeds' "
                        "latents, each frame then mapped to w and truncated", choices=SPACES)
    frames: int = option(30, "frames from one seed (or latent) to the next")
    loop: bool = option(False, "return from the last to the first, for a seamless loop (no frame repeated)")
    ease: str = option("linear", "speed along each segment: linear (constant), smooth (smoothstep) or cosine: "
                       "both ease in and out, pausing at each seed", choices=EASES)
    fps: int = option(24, "frames per second of the GIF and MP4")
    format: tuple = option(VIDEO_FORMATS, "videos to write besides the frames: gif, mp4 (needs imageio-ffmpeg), "
                           "or none", metavar="FMT[,FMT]")
    truncation: float = option(1.0, TRUNCATION_HELP + "; in w, toward the class's mean style (--seeds only)")
    label: str | None = option(None, "class name or index for conditional models (default: cycle through "
                               "classes by seed; --seeds only)")
    out: str | None = option(None, "output folder (default: RUN/explore/interpolate-<space>-<seeds>); holds "
                             "frames/ (PNGs), interpolation.gif and interpolation.mp4")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    device: str = option("auto", DEVICES_HELP)
    quiet: bool = option(False, "no progress bar")

    def __post_init__(self):
        paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder of a style-based model")
        latents = (self.latents,) if isinstance(self.latents, (str, os.PathLike)) else tuple(self.latents)
        object.__setattr__(self, "latents", tuple(os.fspath(p) for p in latents if str(p).strip()))
        if self.latents:
            self._check_latents()
        else:
            self.keyframe_seeds()
        choice(self.space, "space", SPACES)
        choice(self.ease, "ease", EASES)
        positive_int(self.frames, "frames")
        positive_int(self.fps, "fps")
        truncation(self.truncation)
        formats = names(self.format)
        for name in formats:
            choice(name, "format", VIDEO_FORMATS)
        object.__setattr__(self, "format", formats)
        object.__setattr__(self, "checkpoint", str(self.checkpoint))
        segments = len(self.latents or self.keyframe_seeds()) - (0 if self.loop else 1)
        if segments * self.frames > MAX_FRAMES:
            raise UsageError(f"--frames {self.frames} makes {segments * self.frames} frames; at most {MAX_FRAMES}",
                             "pass fewer --frames or fewer seeds")

    def _check_latents(self) -> None:
        if self.seeds is not None:
            raise UsageError("--seeds and --latents were both given", "pass one of them")
        if self.space == "z":
            raise UsageError("--space z interpolates seeds' latents; saved styles are in w",
                             "pass --space w with --latents")
        if self.truncation != 1 or self.label is not None:
            raise UsageError("--truncation and --label apply to --seeds; --latents are used as saved",
                             "leave them out")
        for path in self.latents:
            if os.path.splitext(path)[1].lower() not in (".npy", ".json"):
                raise UsageError(f"--latents {path!r} is not a .npy or .json file", "pass e.g. --latents a.json,b.json")

    def keyframe_seeds(self) -> list[int]:
        """The seeds passed through (with --latents: none)."""
        if self.latents:
            return []
        seeds = parse_seeds("0,1" if self.seeds is None else self.seeds)
        if len(seeds) < 2:
            raise UsageError(f"--seeds {self.seeds!r} names one seed; interpolation needs two or more",
                             "pass e.g. --seeds 0,1")
        return seeds
