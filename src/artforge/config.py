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
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable

from .draws import filter_draws, filter_left_out  # noqa: F401 (the filters' arithmetic, as it was here)
from .catalog import EVAL_METRICS_DEFAULT
from .errors import UsageError


def option(default: Any, help: str, *, choices: tuple | Callable[[], tuple] | None = None, metavar: str | None = None,
           positional: bool = False, cli: bool = True, family: str | tuple[str, ...] | None = None,
           network: bool = True):
    """A dataclass field with the metadata the CLI needs; ``family``: an option of that model family (or
    families); ``network``: a family option its networks' config takes (False: one its training reads)."""
    meta = dict(help=help, choices=choices, metavar=metavar, positional=positional, cli=cli, family=family,
                network=network)
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


def _non_negative(value, name: str) -> None:
    if not (_is_number(value) and value >= 0):
        raise UsageError(f"{flag_name(name)} must be a number >= 0, got {value!r}", f"pass e.g. {flag_name(name)} 1")


def _optional_positive(value, name: str, kind=float) -> None:
    if value is not None:
        _positive(value, name, kind)


def _choice(value, name: str, choices) -> None:
    if value not in choices:
        raise UsageError(f"{flag_name(name)} must be one of {', '.join(map(str, choices))}, got {value!r}",
                         f"pass {flag_name(name)} {choices[0]}")


# --filter and --filter-drop mean the same in sample, evaluate and bench: sample filters by name (from
# catalog.SAMPLE_FILTERS), each leaving out the --filter-drop share of its draws.
SAMPLE_FILTER_DROP = 0.1  # the one default of --filter-drop
IMAGE_FILTERS = ("jacobian",)  # the filters a trained image G can be sampled through, seed by seed
FILTER_HELP = ("jacobian leaves out the draws where G's Jacobian is largest, the in-between images (Tanielian "
               "et al. 2020); d those the run's D rates least real (Azadi et al. 2019; bench only); none draws "
               "as usual")
FILTER_DROP_HELP = "share F of its draws a sample filter leaves out, in [0, 1)"


def _sample_filters(cfg, known: tuple[str, ...], single: bool = False) -> None:
    """--filter and --filter-drop, checked alike by sample, evaluate and bench; names stored as a tuple."""
    names = _names(cfg.filter)
    for name in names:
        if name == "d" and "d" not in known:  # a known filter, not a typo: say why it is not offered here
            raise UsageError("--filter d is for artforge bench only: an image D rates each image against the "
                             "rest of its batch (minibatch std), so a seed would not keep its image",
                             "pass --filter jacobian")
        _choice(name, "filter", known)
    if single and len(names) > 1:  # only the benchmark scores several filtered samplers side by side
        raise UsageError(f"--filter names {len(names)} filters; sample and evaluate apply one",
                         f"pass one of them, e.g. --filter {names[0]}")
    if not (_is_number(cfg.filter_drop) and 0 <= cfg.filter_drop < 1):
        raise UsageError(f"--filter-drop must be a fraction in [0, 1), got {cfg.filter_drop!r}",
                         "pass e.g. --filter-drop 0.1 (leave out 10% of the draws)")
    object.__setattr__(cfg, "filter", names)


TRUNCATION_HELP = ("truncation psi: move each latent toward the model's mean latent, mean + psi * (z - mean); "
                   "psi=0 gives the mean image, 1 the latents as drawn, below 1 trades variety for typicality")


def _truncation(psi) -> None:
    if not _is_number(psi) or not 0 <= psi <= 10:
        raise UsageError(f"--truncation must be a number in [0, 10], got {psi!r}", "pass e.g. --truncation 0.7")


def _names(value) -> tuple[str, ...]:
    """'a,b' or ('a', 'b') -> ('a', 'b'); 'none' and blanks dropped, duplicates removed."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(dict.fromkeys(a.strip() for a in items if a.strip() and a.strip() != "none"))


def _fraction(value, name: str, *, allow_zero: bool = True) -> None:
    if not _is_number(value) or not ((value >= 0 if allow_zero else value > 0) and value <= 1):
        raise UsageError(f"{flag_name(name)} must be a number in {'[0' if allow_zero else '(0'}, 1], got {value!r}",
                         f"pass e.g. {flag_name(name)} 0.5")


# ----------------------------------------------------------------------------- prepare

FITS = ("crop", "pad", "stretch")
COLORS = ("rgb", "gray")
LABEL_MODES = ("auto", "folders", "none")
RESAMPLE_FILTERS = ("lanczos", "bicubic", "bilinear", "box")


def _aspect(cfg) -> None:
    """--aspect W:H, stored in lowest terms ("4:3"); a non-square one only at a --size the style family trains."""
    from .aspect import aspect_shape, base_shape, nearest_style_sizes, parse_aspect, shape_text, style_trains
    try:
        aspect = parse_aspect(cfg.aspect)
    except ValueError:
        raise UsageError(f"--aspect must be two positive integers W:H, got {cfg.aspect!r}",
                         "pass e.g. --aspect 4:3 (or 1:1 for square images)") from None
    given = cfg.aspect
    object.__setattr__(cfg, "aspect", f"{aspect[0]}:{aspect[1]}")
    if aspect == (1, 1) or style_trains(cfg.size, aspect):
        return  # square sizes stay free, as they always were (each architecture checks its own when training)
    sizes = " or ".join(str(s) for s in nearest_style_sizes(cfg.size, aspect))
    raise UsageError(f"--size {cfg.size} --aspect {given} gives {shape_text(aspect_shape(cfg.size, aspect))} images, "
                     f"not a multiple of the base {shape_text(base_shape(aspect))} that --arch style trains",
                     f"use --size {sizes}")


@dataclass(frozen=True)
class PrepareConfig:
    source: str = option("", "image folder (searched recursively), a .zip of images, or a built-in "
                         "dataset name: openmoji, openmoji-pairs, openmoji-lineart, openmoji-colour",
                         positional=True, metavar="SRC")
    out: str | None = option(None, "output dataset .zip (default: datasets/<source name>-<size>.zip)")
    size: int = option(64, "output size in pixels: the longer side (both sides when square); a power of two for "
                       "training, or with --aspect its base's longer side times one (e.g. 48 or 96 at 3:2)")
    aspect: str = option("1:1", "output aspect ratio W:H, e.g. 4:3, 3:4 or 16:9 (with --size 64, 4:3 gives 64x48 "
                         "images); non-square datasets train with --arch style", metavar="W:H")
    fit: str = option("crop", "how to fit each image to the aspect: center-crop, pad with the background colour, "
                      "or stretch", choices=FITS)
    color: str = option("rgb", "output colour mode", choices=COLORS)
    background: str = option("white", "colour composited under transparency and used for padding "
                             "(a name or #rrggbb)")
    resample: str = option("lanczos", "resampling filter for resizing", choices=RESAMPLE_FILTERS)
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
    pairs: bool = option(False, "a paired dataset for image-to-image translation (what 'artforge prepare pairs "
                         "SRC' sets): each item is (input, target) side by side; from two subfolders matched by "
                         "file name, from side-by-side images, or with --derive from one folder of art")
    sides: tuple | None = option(None, "the two subfolders of SRC holding the inputs and the targets, matched by "
                                 "file name (default: the only two subfolders there are)", metavar="INPUT,TARGET")
    derive: str | None = option(None, "make each input from its art: edges, xdog (a line drawing), blur (a "
                                "colour layout) or gray (for colorization); implies --pairs",
                                choices=("edges", "xdog", "blur", "gray"))

    def __post_init__(self):
        _paths_to_str(self, "source", "out")
        if not self.source:
            raise UsageError("no source given", "pass a folder, a .zip or 'openmoji'")
        _positive_int(self.size, "size", minimum=4)
        _aspect(self)
        _choice(self.fit, "fit", FITS)
        _choice(self.color, "color", COLORS)
        _choice(self.resample, "resample", RESAMPLE_FILTERS)
        _choice(self.labels, "labels", LABEL_MODES)
        _fraction(self.subset, "subset", allow_zero=False)
        _positive_int(self.min_size, "min_size")
        _positive_int(self.max_pixels, "max_pixels")
        _positive_int(self.workers, "workers", minimum=0)
        if self.derive is not None:
            _choice(self.derive, "derive", ("edges", "xdog", "blur", "gray"))
            object.__setattr__(self, "pairs", True)
        if self.sides is not None:
            sides = _names(self.sides)
            if len(sides) != 2 or sides[0] == sides[1]:
                raise UsageError(f"--sides takes two different subfolder names, got {','.join(sides)!r}",
                                 "pass e.g. --sides lineart,color")
            object.__setattr__(self, "sides", sides)
            object.__setattr__(self, "pairs", True)
        if self.pairs and self.derive and self.sides:
            raise UsageError("--derive makes the inputs, --sides names folders of them: pass one",
                             "drop --sides to derive inputs, or --derive to pair two folders")
        _split_fractions(self)
        from PIL import ImageColor
        try:
            ImageColor.getrgb(self.background)
        except (ValueError, TypeError, AttributeError):
            raise UsageError(f"--background {self.background!r} is not a colour",
                             "pass a name like white or a hex code like #ffffff") from None


def _split_fractions(cfg) -> None:
    split = tuple(cfg.split)
    if len(split) != 3 or any(not _is_number(s) or s < 0 for s in split) \
            or abs(sum(split) - 1) > 1e-6 or split[0] <= 0:
        raise UsageError(f"--split must be three non-negative fractions summing to 1 with train > 0, "
                         f"got {cfg.split!r}", "pass e.g. --split 0.9,0.05,0.05")
    object.__setattr__(cfg, "split", split)


AUDIO_SAMPLE_RATES = (16000, 22050, 44100)
MOODS = ("joyful", "tender", "sombre", "tense")  # data.mood.MOODS (tests/test_mood.py keeps them equal)
MOOD_STEPS = 50  # latent steering steps toward the asked mood (composing.steer_latents), sample and evaluate
MOOD_STEPS_HELP = ("music models: at most this many steps of steering each piece's latent until its measured mode "
                   "and note density land in the mood asked for (pieces already there do not move); 0: the "
                   "mood label alone")
AUDIO_LENGTHS = (16384, 32768, 65536)


@dataclass(frozen=True)
class AudioPrepareConfig:
    """``artforge prepare audio SRC``: one-shot sounds -> a dataset of 16-bit mono WAVs (data/audio_ingest.py)."""

    source: str = option("", "folder of sounds (searched recursively; WAV, FLAC, OGG, AIFF), a .zip of them, or the "
                         "built-in 'drums' (General MIDI drum hits rendered with FluidSynth)", positional=True,
                         metavar="SRC")
    out: str | None = option(None, "output dataset .zip (default: datasets/<source name>-<rate/1000>k.zip)")
    sample_rate: int = option(16000, "output sample rate in Hz (resampled with a polyphase filter)",
                              choices=AUDIO_SAMPLE_RATES)
    length: int = option(16384, "samples per clip: 16384 is about 1 s at 16 kHz (WaveGAN's); clips are cropped "
                         "(with a short fade) or padded with silence", choices=AUDIO_LENGTHS)
    labels: str = option("auto", "class labels from first-level subfolder names: 'auto' uses them when every "
                         "sound sits in one of two or more subfolders", choices=LABEL_MODES)
    split: tuple = option((0.9, 0.05, 0.05), "train, val and test fractions (comma separated)",
                          metavar="TRAIN,VAL,TEST")
    seed: int = option(0, "seed for the train/val/test split and --subset")
    subset: float = option(1.0, "keep this fraction of the valid sounds (seeded)")
    min_ms: float = option(20.0, "reject clips with less sound than this many milliseconds after trimming silence")
    workers: int = option(0, "decoding processes (0: one per CPU core)")
    overwrite: bool = option(False, "replace an existing output dataset")

    def __post_init__(self):
        _paths_to_str(self, "source", "out")
        if not self.source:
            raise UsageError("no source given", "pass a folder of sounds, a .zip or 'drums'")
        _choice(self.sample_rate, "sample_rate", AUDIO_SAMPLE_RATES)
        _choice(self.length, "length", AUDIO_LENGTHS)
        _choice(self.labels, "labels", LABEL_MODES)
        _fraction(self.subset, "subset", allow_zero=False)
        _non_negative(self.min_ms, "min_ms")
        _positive_int(self.workers, "workers", minimum=0)
        _split_fractions(self)


@dataclass(frozen=True)
class MusicPrepareConfig:
    """``artforge prepare music SRC``: MIDI, MusicXML or ABC files (or a built-in corpus) -> a dataset of
    multi-track piano rolls with mood labels (data/music_ingest.py)."""

    source: str = option("", "folder or .zip of MIDI, MusicXML, ABC or kern files, or a built-in corpus that "
                         "ships with music21: bach (the chorales, 4 tracks: soprano, alto, tenor, bass) or folk "
                         "(Aird's airs, one melody track)", positional=True, metavar="SRC")
    out: str | None = option(None, "output dataset .zip (default: datasets/<source name>-<bars>bars.zip)")
    bars: int = option(4, "bars per piece (each source piece is cut into pieces of this many bars)")
    steps_per_beat: int = option(4, "time steps per quarter note: 4 is a sixteenth-note grid")
    labels: str = option("mood", "labels of the pieces: mood (the valence-arousal quadrant measured from each "
                         "piece: joyful, tender, sombre, tense) or none", choices=("mood", "none"))
    split: tuple = option((0.9, 0.05, 0.05), "train, val and test fractions of the source pieces (a piece's parts "
                          "stay together)", metavar="TRAIN,VAL,TEST")
    seed: int = option(0, "seed for the split")
    limit: int | None = option(None, "use only the first N files or pieces (a quick look at a big source)")
    overwrite: bool = option(False, "replace an existing output dataset")

    def __post_init__(self):
        _paths_to_str(self, "source", "out")
        if not self.source:
            raise UsageError("no source given", "pass a folder of MIDI files, a .zip, 'bach' or 'folk'")
        _positive_int(self.bars, "bars")
        _positive_int(self.steps_per_beat, "steps_per_beat")
        _choice(self.labels, "labels", ("mood", "none"))
        if self.limit is not None:
            _positive_int(self.limit, "limit")
        _split_fractions(self)


# ----------------------------------------------------------------------------- train

def _registry(kind: str) -> tuple[str, ...]:
    """A registry's names, from the torch-free catalog: --help and validation must not import torch."""
    from .catalog import NAMES
    return NAMES[kind]


PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES_HELP = "auto picks cuda, then mps, then cpu; or name one, e.g. cuda:1"


# Options two families share (z_dim, width, max_width, mbstd_group) default to None: "this
# architecture's own value", DCGAN_DEFAULTS for dcgan and the --preset's for style.
DCGAN_DEFAULTS = {"z_dim": 128, "width": 32, "max_width": 512, "mbstd_group": 4}
# --preset of --arch style: lite learns something useful at 64 px in the demo's CPU minutes; small
# and base are GPU sizes (base is StyleGAN2's config-e scale). Options given win over the preset.
STYLE_PRESETS: dict[str, dict] = {
    "lite": dict(z_dim=128, w_dim=128, mapping_layers=2, width=16, max_width=64, mbstd_group=4, pl_weight=0.0,
                 convs_per_level=2, d_arch="strided", output_bias_level=2, mapping_lr_mul=0.01,
                 upsample="transposed", class_gain=1.0),
    "small": dict(z_dim=256, w_dim=256, mapping_layers=4, width=64, max_width=256, mbstd_group=4, pl_weight=2.0,
                  convs_per_level=2, d_arch="resnet", output_bias_level=2, mapping_lr_mul=0.01,
                  upsample="transposed", class_gain=1.0),
    "base": dict(z_dim=512, w_dim=512, mapping_layers=8, width=128, max_width=512, mbstd_group=4, pl_weight=2.0,
                  convs_per_level=2, d_arch="resnet", output_bias_level=2, mapping_lr_mul=0.01,
                  upsample="transposed", class_gain=1.0),
}
# The recipe each architecture (and style preset) trains with when --recipe is not given.
# Sounds: the paper's WGAN-GP (--recipe wavegan) learnt nothing in 4 CPU minutes on the drums; wavegan-cpu did.
FAMILY_RECIPES = {"dcgan": "stable", "style": "stylegan2", "wavegan": "wavegan-cpu", "specgan": "wavegan-cpu",
                  "musegan": "musegan-cpu"}
PRESET_RECIPES = {"lite": "style-cpu"}  # the style presets whose recipe is not the family's


SR_DEGRADATIONS = ("random", "clean")
CYCLE_DATASET = "-"  # the positional dataset of a cyclegan run, whose data are --a and --b
TASKS = ("generation", "pix2pix", "cyclegan", "sr")
# pix2pix's optimizer is DCGAN's: Adam(0.5, 0.999) at 2e-4; CycleGAN's the same with least squares and a
# linear decay over the second half; ESRGAN's relativistic D at 1e-4 with Adam(0.9, 0.99).
TASK_RECIPES = {"pix2pix": "dcgan", "cyclegan": "cyclegan", "sr": "esrgan"}
# The image-to-image tasks' own options (refused with another task) and their defaults where they differ.
TASK_OPTIONS = {
    "pix2pix": ("l1_weight", "gan_weight", "dropout"),
    "cyclegan": ("a", "b", "cycle_weight", "identity_weight", "pool_size", "blocks"),
    "sr": ("scale", "crop", "degrade", "l1_weight", "gan_weight", "feature_weight", "vgg_weights", "vgg_weight", "init",
           "blocks"),
}
TASK_DEFAULTS = {"pix2pix": {"l1_weight": 100.0, "gan_weight": 1.0, "width": 32},
                 "cyclegan": {"blocks": 6, "width": 32},
                 "sr": {"l1_weight": 1.0, "gan_weight": 0.1, "blocks": 4, "width": 32}}


def task_option_error(task: str, given) -> str | None:
    """The first option in ``given`` that only another image-to-image task takes, or None."""
    own = set(TASK_OPTIONS.get(task, ()))
    for name in given:
        if name not in own and any(name in names for names in TASK_OPTIONS.values()):
            return name
    return None


def default_recipe(cfg) -> str:
    if cfg.task in TASK_RECIPES:
        return TASK_RECIPES[cfg.task]
    if cfg.arch == "style" and cfg.preset in PRESET_RECIPES:
        return PRESET_RECIPES[cfg.preset]
    return FAMILY_RECIPES[cfg.arch]
SHARED_HELP = "(default: the architecture's: dcgan {dcgan}; style: its --preset's{audio})"
# WaveGAN's and SpecGAN's: the paper's z, and d = 16 (the paper's 64 is a GPU size)
AUDIO_DEFAULTS = {"z_dim": 100, "width": 16}
AUDIO_ARCHS = ("wavegan", "specgan")
MUSEGAN_DEFAULTS = {"width": 32}  # its z is made of --part-dim parts


def _shared(name: str, text: str):
    audio = f"; wavegan and specgan {AUDIO_DEFAULTS[name]}" if name in AUDIO_DEFAULTS else ""
    audio += f"; musegan {MUSEGAN_DEFAULTS[name]}" if name in MUSEGAN_DEFAULTS else ""
    families = (("dcgan", "style") + (AUDIO_ARCHS if name in AUDIO_DEFAULTS else ())
                + (("musegan",) if name in MUSEGAN_DEFAULTS else ()))
    return option(None, f"{text} {SHARED_HELP.format(dcgan=DCGAN_DEFAULTS[name], audio=audio)}", family=families)


@dataclass(frozen=True)
class DCGANOptions:
    """The options of ``--arch dcgan`` (models/dcgan.py): the sizes and normalization of its networks.

    Each family's options are a section of their own: the CLI lists them under the family
    (``artforge train --arch dcgan --help``), a run saves them under "model" in options.json, and
    options of a family the run does not use are refused. The API takes them as keywords beside the
    training options (``artforge.train(ds, width=48)``). Options two families share are listed under both.
    """

    z_dim: int | None = _shared("z_dim", "latent size")
    width: int | None = _shared("width", "base channel count of G and D (channels double as resolution halves); "
                                "with --minutes, dcgan is sized to the machine unless given (see --size-to-budget)")
    max_width: int | None = _shared("max_width", "cap on channel count")
    mbstd_group: int | None = _shared("mbstd_group", "D sees the standard deviation of its features across groups "
                                      "of this many images, so it can tell a collapsed G (0: off)")
    output_bias: bool = option(True, "G adds a learned per-pixel bias to its output, started at the training "
                               "images' mean image, so backgrounds and layout are right from the first step",
                               family="dcgan")
    d_norm: str | None = option(None, "normalization in D (recipe)", choices=("batch", "layer", "spectral", "none"),
                                family="dcgan")
    g_spectral: bool | None = option(None, "spectral normalization in G too (recipe)", family="dcgan")

    def _validate_dcgan(self) -> None:
        for name in ("z_dim", "width", "max_width"):
            if getattr(self, name) is not None:
                _positive_int(getattr(self, name), name)
        if self.mbstd_group is not None:
            _positive_int(self.mbstd_group, "mbstd_group", minimum=0)
        if self.d_norm is not None:
            _choice(self.d_norm, "d_norm", ("batch", "layer", "spectral", "none"))


@dataclass(frozen=True)
class StyleOptions:
    """The options of ``--arch style`` (models/style.py) besides the shared ones above."""

    preset: str = option("lite", "named size: lite (CPU minutes at 64 px), small, base (GPU sizes); the "
                         "options below given explicitly win", choices=tuple(STYLE_PRESETS), family="style", network=False)
    w_dim: int | None = option(None, "style vector size (default: the preset's)", family="style")
    mapping_layers: int | None = option(None, "layers of the mapping network z -> w (default: the preset's)",
                                        family="style")
    mapping_lr_mul: float | None = option(None, "the mapping network's learning rate as a share of G's "
                                          "(default: the preset's, StyleGAN2's 0.01 for all three)",
                                          family="style")
    class_gain: float | None = option(None, "size of the class (or self-conditioning cluster) embedding at the "
                                      "mapping network's input relative to z's: 1 (StyleGAN2-ADA's) conditions G "
                                      "on the class as strongly as on z from the first step; less leaves each class "
                                      "more variety (default: the preset's, 1 for all three; docs/style.md)",
                                      family="style")
    convs_per_level: int | None = option(None, "modulated 3x3 convolutions per resolution: 2 as in StyleGAN2, "
                                         "1 (the upsampling one only) for half the cost (default: the preset's)",
                                         choices=(1, 2), family="style")
    d_arch: str | None = option(None, "D design: resnet (StyleGAN2's residual D, equalized learning rate) or "
                                "strided (residual 4x4 strided blocks with batch norm at DCGAN's learning rate; "
                                "fast on CPUs) (default: the preset's)", choices=("resnet", "strided"), family="style")
    upsample: str | None = option(None, "how G doubles the resolution: transposed (a stride-2 transposed 3x3 "
                                  "convolution then a [1,3,3,1] blur, StyleGAN2's order: a quarter of the work) or "
                                  "bilinear (bilinear upsampling then the 3x3 convolution; the same function but "
                                  "at the 2-pixel border) (default: the preset's)",
                                  choices=("bilinear", "transposed"), family="style")
    output_bias_level: int | None = option(None, "resolution level of G's learned output bias, bilinearly "
                                           "upsampled to the image: 0 is the 4x4 base, 2 is 16x16 (layout and "
                                           "background only), -1 full resolution (default: the preset's, 2)",
                                           family="style")
    noise: bool = option(True, "per-pixel noise inputs with learned strengths in every G layer (random in "
                         "training, fixed when sampling)", family="style")
    style_mixing: float = option(0.9, "probability that a training image takes its styles from two latents, "
                                 "switching at a random layer (style-mixing regularization)", family="style", network=False)
    pl_weight: float | None = option(None, "path-length regularization weight, 0 off (default: the preset's: "
                                     "lite 0, small and base 2)", family="style", network=False)
    pl_interval: int = option(4, "steps between lazy path-length regularization steps", family="style", network=False)

    def _validate_style(self) -> None:
        _choice(self.preset, "preset", tuple(STYLE_PRESETS))
        for name in ("w_dim", "mapping_layers"):
            if getattr(self, name) is not None:
                _positive_int(getattr(self, name), name)
        if self.output_bias_level is not None:
            _positive_int(self.output_bias_level, "output_bias_level", minimum=-1)
        if self.mapping_lr_mul is not None and (not _is_number(self.mapping_lr_mul)
                                                or not 0 < self.mapping_lr_mul <= 1):
            raise UsageError(f"--mapping-lr-mul must be in (0, 1], got {self.mapping_lr_mul!r}",
                             "pass e.g. --mapping-lr-mul 0.01 (StyleGAN2's)")
        if self.class_gain is not None and (not _is_number(self.class_gain) or not 0 < self.class_gain <= 1):
            raise UsageError(f"--class-gain must be in (0, 1], got {self.class_gain!r}",
                             "pass e.g. --class-gain 0.2, or 1 (StyleGAN2-ADA's)")
        _fraction(self.style_mixing, "style_mixing")
        if self.pl_weight is not None:
            _non_negative(self.pl_weight, "pl_weight")
        _positive_int(self.pl_interval, "pl_interval")


@dataclass(frozen=True)
class SoundMusicOptions:
    """The options of ``--arch wavegan``, ``specgan`` and ``musegan`` (models/wavegan.py, specgan.py,
    musegan.py) besides the shared z_dim and width."""

    phase_shuffle: int = option(2, "D shifts its activations by a random -n..n samples after each layer, so it "
                                "cannot judge sounds by G's upsampling artefacts (0: off)", family="wavegan")
    griffin_lim_iters: int = option(32, "iterations of Griffin-Lim phase recovery when turning spectrograms into "
                                    "sound (more: cleaner, slower)", family="specgan")

    part_dim: int = option(32, "size of each of MuseGAN's latent parts: shared, shared over time, and per track "
                           "a private and a temporal one (z has part-dim x (2 + 2 x tracks) numbers)", family="musegan")

    def _validate_sound_music(self) -> None:
        _positive_int(self.part_dim, "part_dim")
        _positive_int(self.phase_shuffle, "phase_shuffle", minimum=0)
        _positive_int(self.griffin_lim_iters, "griffin_lim_iters")


# Each family --arch offers, and the dataclasses of its options (catalog.ARCHITECTURES, in order).
FAMILY_OPTIONS: dict[str, tuple[type, ...]] = {"dcgan": (DCGANOptions,), "style": (DCGANOptions, StyleOptions),
                                               "wavegan": (DCGANOptions, SoundMusicOptions),
                                               "specgan": (DCGANOptions, SoundMusicOptions),
                                               "musegan": (DCGANOptions, SoundMusicOptions)}


def _families(meta) -> tuple[str, ...]:
    name = meta.get("family")
    return (name,) if isinstance(name, str) else tuple(name or ())


def family_option_names(family: str, network_only: bool = False) -> tuple[str, ...]:
    """The options of ``family`` (only those its networks' config takes, with ``network_only``)."""
    return tuple(f.name for cls in FAMILY_OPTIONS[family] for f in dataclasses.fields(cls)
                 if family in _families(f.metadata) and (f.metadata["network"] or not network_only))


def foreign_options(family: str, given) -> list[str]:
    """The options in ``given`` that belong to another family's section, not to ``family``'s."""
    own = set(family_option_names(family))
    others = {name for other in FAMILY_OPTIONS if other != family for name in family_option_names(other)}
    return [name for name in given if name in others and name not in own]


def family_defaults(cfg) -> dict:
    """The values a run's family options take when left unset (None): its architecture's or preset's."""
    if cfg.arch == "style":
        return dict(STYLE_PRESETS[cfg.preset])
    if cfg.arch in AUDIO_ARCHS:
        return dict(AUDIO_DEFAULTS)
    if cfg.arch == "musegan":
        return dict(MUSEGAN_DEFAULTS)
    return dict(DCGAN_DEFAULTS)


@dataclass(frozen=True)
class TrainConfig(SoundMusicOptions, StyleOptions, DCGANOptions):  # each family's options are a section of their own (above)
    dataset: str = option("", "prepared dataset (.zip or folder) from 'artforge prepare'",
                          positional=True, metavar="DATASET")
    out: str = option("runs", "folder that gets one numbered subfolder per run")
    arch: str = option("dcgan", "model family; its options are listed under it ('artforge train --arch NAME "
                       "--help')", choices=lambda: tuple(_registry("arch")))
    task: str = option("generation", "what the run learns: generation (images from latents, with --arch); "
                       "pix2pix (paired translation: U-Net and PatchGAN, Isola et al. 2017, on a dataset from "
                       "'artforge prepare pairs'); cyclegan (unpaired translation between the datasets --a and --b, "
                       "Zhu et al. 2017); sr (upscaling learnt from high-resolution art, ESRGAN)", choices=TASKS)
    l1_weight: float | None = option(None, "pix2pix and sr: weight of the L1 distance of G's output to the target "
                                     "(default: pix2pix 100, the paper's; sr 1)")
    gan_weight: float | None = option(None, "pix2pix and sr: weight of the adversarial loss in G's objective; 0 "
                                      "trains G on its pixel loss alone, with no D (default: pix2pix 1, sr 0.1)")
    dropout: float = option(0.5, "pix2pix: dropout rate in G's three innermost up levels, kept on when translating "
                            "(the only noise: varied outputs for one input); 0 makes G deterministic")
    a: str | None = option(None, "cyclegan: domain A, a prepared dataset (e.g. line art)", metavar="DATASET")
    b: str | None = option(None, "cyclegan: domain B, a prepared dataset (e.g. coloured art)", metavar="DATASET")
    cycle_weight: float = option(10.0, "cyclegan: weight of the cycle losses A->B->A and B->A->B (the paper's 10)")
    identity_weight: float = option(0.5, "cyclegan: weight of the identity losses, as a share of --cycle-weight "
                                    "(the paper's 0.5; 0 disables)")
    pool_size: int = option(50, "cyclegan: generated images kept in each D's history pool (0: none)")
    blocks: int | None = option(None, "cyclegan and sr: residual blocks of G (default: cyclegan 6, sr 4 RRDBs)")
    scale: int = option(4, "sr: upscaling factor", choices=(2, 4))
    crop: int = option(64, "sr: side of the high-resolution training crops (a multiple of --scale)")
    degrade: str = option("random", "sr: how the low-resolution inputs are made from the art: random (blur, "
                          "resizing, noise and JPEG in random order and strength: for photos, scans and shared "
                          "images) or clean (antialiased bicubic downscaling only: for clean digital art)",
                          choices=SR_DEGRADATIONS)
    feature_weight: float = option(1.0, "sr: weight of the D-feature matching loss in the GAN model")
    vgg_weights: str | None = option(None, "sr: a VGG-19 state dict (.safetensors or .pth from torchvision) for a "
                                     "perceptual loss; none is downloaded")
    vgg_weight: float = option(1.0, "sr: weight of the VGG perceptual loss when --vgg-weights is given")
    init: str | None = option(None, "sr: start G from this run's weights (the fidelity model, for the GAN model: "
                              "ESRGAN's two-stage training); 'artforge upscale --strength' then blends the two",
                              metavar="RUN")
    recipe: str | None = option(None, "training recipe: loss, regularizers and optimizer settings in one "
                                "(options below marked 'recipe' override it); default: the architecture's, "
                                "stable for dcgan; for style, style-cpu with --preset lite and stylegan2 with small and base; "
                                "wavegan-cpu for wavegan and specgan (--recipe wavegan: WaveGAN's WGAN-GP); musegan-cpu for musegan", choices=lambda: tuple(_registry("recipe")))
    loss: str | None = option(None, "adversarial loss (recipe)", choices=lambda: tuple(_registry("loss")))
    batch: int = option(16, "images per step; with --minutes, sized to the machine unless given")
    lr_g: float | None = option(None, "generator learning rate (recipe)")
    lr_d: float | None = option(None, "discriminator learning rate (recipe)")
    lr_decay: float | None = option(None, "learning rates fall linearly to 0 over this last share of the run "
                                    "(of --steps, --kimg or --minutes, whichever ends it first); 0 keeps them "
                                    "constant (recipe)")
    lr_floor_g: float | None = option(None, "with --lr-decay: G's rate falls to this share of --lr-g, not to 0 "
                                      "(1: it stays as set) (recipe)")
    lr_floor_d: float | None = option(None, "with --lr-decay: D's rate falls to this share of --lr-d, not to 0 "
                                      "(1: it stays as set) (recipe)")
    beta1: float | None = option(None, "Adam beta1 (recipe)")
    beta2: float | None = option(None, "Adam beta2 (recipe)")
    n_critic: int | None = option(None, "D steps per G step (recipe)")
    gp_weight: float | None = option(None, "gradient penalty weight on real/fake interpolates (recipe)")
    gp_center: float | None = option(None, "gradient penalty centre: 1 as in WGAN-GP, 0 zero-centred (recipe)")
    r1_gamma: float | None = option(None, "R1 penalty weight gamma on real images (recipe)")
    r1_interval: int = option(16, "steps between lazy R1 penalty steps")
    clip: float | None = option(None, "clip D's weights to [-clip, clip], as in the original WGAN (recipe)")
    label_smoothing: float | None = option(None, "one-sided label smoothing: real target is 1 - this (recipe)")
    aux_weight: float | None = option(None, "conditional models whose D can classify (musegan): weight of the "
                                      "auxiliary classifier loss, AC-GAN: D learns to tell the labels of real items "
                                      "and G to make the asked label heard; 0 off (recipe)")
    mode_seeking: float | None = option(None, "weight of the mode-seeking term in G's loss (MSGAN): pairs of fakes "
                                        "with one label are pushed to differ as much as their latents do, for "
                                        "more variety; 0 off (recipe)")
    mode_seeking_size: int = option(16, "the side that --mode-seeking's pairs of images are average-pooled to "
                                    "before their distance, so that layouts and colours differ, not pixel noise; "
                                    "0: full resolution")
    instance_noise: float | None = option(None, "std of Gaussian noise added to D's inputs, annealed to 0 "
                                          "over --instance-noise-kimg (recipe)")
    instance_noise_kimg: float = option(100.0, "thousands of images over which instance noise fades out")
    d_augment: tuple | None = option(None, "differentiable augmentations of everything D sees: a policy "
                                     "(diffaug, bgc) or operations, comma separated, or none (recipe)",
                                     metavar="LIST")
    d_augment_p: float | None = option(None, "probability of each D augmentation when not adaptive (recipe)")
    ada_target: float | None = option(None, "adaptive augmentation: tune the probability so that "
                                      "E[sign(D(real))] approaches this; 0 disables (recipe)")
    ada_kimg: float = option(500.0, "thousands of images for the adaptive probability to go from 0 to 1")
    ema_kimg: float | None = option(None, "half-life of the G EMA in thousands of images, 0 disables; with "
                                    "--ema-rampup it is reached only after ema-kimg / ema-rampup thousand images "
                                    "(100 for 5 and 0.05) (recipe)")
    ema_rampup: float = option(0.05, "EMA ramp-up: half-life is at most this fraction of images shown so far (0 disables)")
    augment: tuple = option(("flip",), "augmentations of real images, comma separated, or 'none'",
                            metavar="LIST")
    conditional: bool = option(True, "condition G and D on dataset labels when the dataset has them")
    self_cond: int | None = option(None, "self-conditioning for data without labels: condition G and D on up to "
                                   "this many clusters of D's features (at most one per 32 training images), "
                                   "found again every --self-cond-every steps; 0 disables (recipe)")
    self_cond_every: int = option(2000, "steps between the reclusterings of --self-cond")
    self_cond_min_images: int = option(1000, "no self-conditioning below this many training images: with few "
                                       "images, conditioning makes G draw one image per cluster")
    steps: int | None = option(None, "stop after this many steps")
    kimg: float | None = option(None, "stop after this many thousand real images shown to D")
    minutes: float | None = option(None, "stop after this many minutes of training")
    size_to_budget: bool = option(True, "--arch dcgan with --minutes and neither --width nor --batch: time a few "
                                  "steps of each candidate network on this machine and train the widest one that gets "
                                  "enough steps in the budget")
    tick: int = option(100, "steps between log lines, health checks and sample grids")
    checkpoint_every: int = option(500, "steps between checkpoints")
    keep: int = option(3, "checkpoints to keep besides the best")
    eval_images: int = option(512, "images used for the quality signal (SWD) computed at each checkpoint (0 disables)")
    eval_every: int = option(0, "steps between evaluations with --eval-metrics (a checkpoint is saved with each; "
                             "the first metric then picks the best checkpoint); 0: off")
    eval_metrics: tuple = option(("fid",), "metrics for --eval-every (see 'artforge evaluate --help')", metavar="LIST")
    eval_n: int = option(5000, "generated images per --eval-every evaluation")
    eval_extractor: str = option("inception", "feature network for --eval-every: inception, encoder, random or a "
                                 "TorchScript file")
    inception_weights: str | None = option(None, "the Inception weights file for FID/KID/IS (see 'artforge evaluate --help')")
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
        if not self.dataset and self.task == "cyclegan":
            object.__setattr__(self, "dataset", CYCLE_DATASET)  # its domains --a and --b are the data
        if not self.dataset:
            raise UsageError("no dataset given", "pass a dataset made by 'artforge prepare'")
        self._validate_dcgan()
        self._validate_style()
        self._validate_sound_music()
        for name in ("batch", "tick", "checkpoint_every", "keep"):
            _positive_int(getattr(self, name), name)
        _positive_int(self.eval_images, "eval_images", minimum=0)
        _positive_int(self.eval_every, "eval_every", minimum=0)
        _positive_int(self.self_cond_min_images, "self_cond_min_images", minimum=0)
        _positive_int(self.eval_n, "eval_n")
        object.__setattr__(self, "eval_metrics", _metric_list(self.eval_metrics, "eval_metrics"))
        _positive_int(self.workers, "workers", minimum=0)
        _positive(self.cache_gb, "cache_gb")
        _positive_int(self.r1_interval, "r1_interval")
        _positive_int(self.mode_seeking_size, "mode_seeking_size", minimum=0)
        _positive_int(self.self_cond_every, "self_cond_every")
        _positive(self.instance_noise_kimg, "instance_noise_kimg")
        _positive(self.ada_kimg, "ada_kimg")
        _non_negative(self.ema_rampup, "ema_rampup")
        _positive_int(self.seed, "seed", minimum=0)
        _choice(self.split, "split", ("train", "all"))
        _optional_positive(self.steps, "steps", kind=int)
        _optional_positive(self.kimg, "kimg")
        _optional_positive(self.minutes, "minutes")
        _choice(self.precision, "precision", PRECISIONS)
        object.__setattr__(self, "augment", _names(self.augment))
        _choice(self.arch, "arch", tuple(_registry("arch")))
        _choice(self.task, "task", TASKS)
        self._validate_tasks()
        if self.recipe is not None:
            _choice(self.recipe, "recipe", tuple(_registry("recipe")))
        for name in self.augment:
            _choice(name, "augment", tuple(_registry("augment")))
        self._validate_recipe_options()

    def _validate_tasks(self) -> None:
        """The image-to-image tasks' options; cyclegan's dataset is its domain A."""
        _paths_to_str(self, "a", "b", "vgg_weights", "init")
        for name in ("l1_weight", "gan_weight"):
            if getattr(self, name) is not None:
                _non_negative(getattr(self, name), name)
        for name in ("cycle_weight", "identity_weight", "feature_weight", "vgg_weight"):
            _non_negative(getattr(self, name), name)
        _positive_int(self.pool_size, "pool_size", minimum=0)
        if not (_is_number(self.dropout) and 0 <= self.dropout < 1):
            raise UsageError(f"--dropout must be a number in [0, 1), got {self.dropout!r}", "pass e.g. --dropout 0.5")
        if self.blocks is not None:
            _positive_int(self.blocks, "blocks")
        _choice(self.scale, "scale", (2, 4))
        _choice(self.degrade, "degrade", SR_DEGRADATIONS)
        _positive_int(self.crop, "crop", minimum=8)
        if self.crop % self.scale:
            raise UsageError(f"--crop {self.crop} is not a multiple of --scale {self.scale}",
                             f"pass e.g. --crop {self.crop // self.scale * self.scale or 4 * self.scale}")
        if self.task == "cyclegan":
            if self.a is None and self.dataset != CYCLE_DATASET:
                object.__setattr__(self, "a", self.dataset)
            if not self.a or not self.b:
                raise UsageError("--task cyclegan needs two domains", "pass --a DATASET_A --b DATASET_B "
                                 "(e.g. datasets/openmoji-lineart-64.zip and datasets/openmoji-colour-64.zip)")
            object.__setattr__(self, "dataset", self.a)
        if self.mode_seeking and self.task != "generation":
            raise UsageError(f"--mode-seeking is for generation from latents, not --task {self.task}",
                             "leave --mode-seeking out")

    def task_value(self, name: str):
        """An image-to-image option's value: the given one, else this task's default."""
        value = getattr(self, name)
        return TASK_DEFAULTS.get(self.task, {}).get(name) if value is None else value

    def _validate_recipe_options(self) -> None:
        """Options a recipe fills: checked when given (None means 'the recipe's')."""
        def given(name):
            return getattr(self, name) is not None
        if given("loss"):
            _choice(self.loss, "loss", tuple(_registry("loss")))
        for name in ("lr_g", "lr_d"):
            if given(name):
                _positive(getattr(self, name), name)
        if given("n_critic"):
            _positive_int(self.n_critic, "n_critic")
        if given("self_cond"):
            _positive_int(self.self_cond, "self_cond", minimum=0)
            if self.self_cond == 1:
                raise UsageError("--self-cond 1 makes a single cluster", "pass --self-cond 0 (off) or 2 and more")
        for name in ("beta1", "beta2", "label_smoothing", "d_augment_p", "ada_target", "lr_decay",
                     "lr_floor_g", "lr_floor_d"):
            if given(name):
                _fraction(getattr(self, name), name)
        for name in ("gp_weight", "gp_center", "r1_gamma", "clip", "instance_noise", "ema_kimg", "aux_weight",
                     "mode_seeking"):
            if given(name):
                _non_negative(getattr(self, name), name)
        if given("d_augment"):
            object.__setattr__(self, "d_augment", _names(self.d_augment))
            known = tuple(_registry("d_augment"))
            for name in self.d_augment:
                _choice(name, "d_augment", known)

    def family_options(self) -> dict:
        """This run's family's options (what options.json keeps under "model"), unset ones filled in."""
        defaults = family_defaults(self)
        values = {name: getattr(self, name) for name in family_option_names(self.arch)}
        return {name: defaults.get(name) if value is None and name in defaults else value
                for name, value in values.items()}

    def resolved(self) -> "TrainConfig":
        """This config with its recipe named and every option left to the recipe (or family) filled in."""
        from .recipes import RECIPES, recipe_fields
        name = self.recipe or default_recipe(self)
        recipe = RECIPES[name]
        fill = {name: getattr(recipe, name) for name in recipe_fields() if getattr(self, name) is None}
        family = {}  # an image-to-image task's networks take its own defaults (TASK_DEFAULTS), not --arch's
        if self.task == "generation":
            family = {k: v for k, v in self.family_options().items() if getattr(self, k) is None and v is not None}
        return dataclasses.replace(self, recipe=name, **{**fill, **family})

    def stop_given(self) -> bool:
        return any(v is not None for v in (self.steps, self.kimg, self.minutes))


# ----------------------------------------------------------------------------- bench

# The published protocol takes CPU-hours; the default is a quick look at the harder mixture, 1/67 of
# its training steps, that finishes in minutes on two cores (estimated from 1,000-step runs of each
# recipe: 4-9 minutes of CPU, most of it wgan-gp's). Options given explicitly win over either.
TOY_QUICK = {"dataset": "grid", "seeds": 2, "steps": 3_000}
TOY_FULL = {"dataset": "both", "seeds": 10, "steps": 20_000}


@dataclass(frozen=True)
class ToyBenchConfig:
    target: str = option("toy", "the benchmark to run", positional=True, choices=("toy",), metavar="BENCHMARK")
    full: bool = option(False, "run the published protocol, 10 seeds x 20,000 steps on both mixtures (hours of "
                        "CPU), instead of the quick look, 2 seeds x 3,000 steps on the grid (minutes); --dataset, "
                        "--seeds and --steps still override either")
    dataset: str | None = option(None, "2-D mixture: ring of 8 Gaussians, 5x5 grid of 25, or both "
                                 "(default: grid; with --full, both)", choices=("ring", "grid", "both"))
    recipe: str = option("all", "training recipes, comma separated, or all")
    seeds: int | None = option(None, "runs per recipe and dataset, seeds 0..N-1 (default: 2; with --full, 10)")
    steps: int | None = option(None, "training steps per run (default: 3,000; with --full, 20,000)")
    batch: int = option(256, "samples per step")
    width: int = option(96, "units in each hidden layer of G (4 layers) and D (3 layers); 128 takes about 1.5x the time")
    jobs: int = option(0, "runs in parallel (0: one per CPU core)")
    out: str = option("runs/bench-toy", "folder for the table (toy-bench.md), results (.json) and plot (.png)")
    save_samples: str | None = option(None, "also write each run's 2,500 samples as an (N, 2) .npy file here")
    filter: tuple = option((), "sample filters, comma separated: " + FILTER_HELP + "; each adds rows for the same trained G sampled through it, "
                           "2,500 kept of 2,500 / (1 - F) draws", metavar="LIST")
    filter_drop: float = option(SAMPLE_FILTER_DROP, FILTER_DROP_HELP)
    r1_gamma: float | None = option(None, "a study option: R1 penalty weight for every recipe instead of its own")
    self_cond: int | None = option(None, "a study option: self-conditioning clusters for every recipe instead of "
                                         "its own (stable: 50; 0: off, the unconditional G)")
    progress: bool = option(True, "show a progress bar", cli=False)

    def __post_init__(self):
        _paths_to_str(self, "out", "save_samples")
        if not isinstance(self.full, bool):
            raise UsageError(f"--full takes no value, got {self.full!r}", "pass --full or leave it out")
        for name, value in (TOY_FULL if self.full else TOY_QUICK).items():
            if getattr(self, name) is None:  # not given: the protocol's value
                object.__setattr__(self, name, value)
        for name in ("seeds", "steps", "batch", "width"):
            _positive_int(getattr(self, name), name)
        _sample_filters(self, _registry("filter"))
        _positive_int(self.jobs, "jobs", minimum=0)
        if self.r1_gamma is not None:
            _non_negative(self.r1_gamma, "r1_gamma")
        if self.self_cond is not None:
            TrainConfig(dataset="toy", self_cond=self.self_cond)  # the same checks as for training
        _choice(self.dataset, "dataset", ("ring", "grid", "both"))
        if self.recipe != "all":
            for name in _names(self.recipe):
                _choice(name, "recipe", tuple(_registry("recipe")) + ("all",))

    def overrides(self) -> dict:
        """Training options that replace every recipe's own, for studies (none by default)."""
        options = {"r1_gamma": self.r1_gamma, "self_cond": self.self_cond}
        return {name: value for name, value in options.items() if value is not None}

    def datasets(self) -> list[str]:
        return ["ring", "grid"] if self.dataset == "both" else [self.dataset]

    def recipes(self) -> list[str]:
        return list(_registry("recipe")) if self.recipe == "all" else list(_names(self.recipe))


# ----------------------------------------------------------------------------- evaluate

METRIC_NAMES = ("fid", "kid", "is", "pr", "dc", "swd", "novelty", "classes")
METRICS_HELP = ("fid, kid (with a confidence interval), is (Inception Score), pr (precision/recall), "
                "dc (density/coverage), swd (sliced Wasserstein, no network needed), novelty (nearest "
                "training images), classes (class coverage and KL, labeled datasets)")


def _metric_list(value, flag: str) -> tuple[str, ...]:
    names = _names(value)
    for name in names:
        _choice(name, flag, METRIC_NAMES)
    if not names:
        raise UsageError(f"{flag_name(flag)} names no metric", f"pass e.g. {flag_name(flag)} fid,kid,swd")
    return names


@dataclass(frozen=True)
class EvaluateConfig:
    run: str | None = option(None, "run folder whose generator to score (a folder of runs: the newest)",
                             positional=True, metavar="RUN")
    checkpoint: str = option("best", "which checkpoint of the run: best, latest, or a step number")
    real: str | None = option(None, "reference images: a prepared dataset or a folder of images "
                              "(default: the run's dataset, or the one an exported model records)",
                              metavar="DIR_OR_DATASET")
    fake: str | None = option(None, "a folder of generated images to score instead of a run (any tool's)",
                              metavar="DIR")
    metrics: tuple = option(EVAL_METRICS_DEFAULT, METRICS_HELP, metavar="LIST")
    extractor: str = option("inception", "feature network: inception (pytorch-fid weights), encoder (trained "
                            "on a seeded half of the dataset, offline; scored against the other half), random "
                            "(fixed-seed random weights, offline), or your own network saved with torch.export "
                            "(.pt2) or TorchScript (.pt)")
    inception_weights: str | None = option(None, "the file pt_inception-2015-12-05-6726825d.pth (default: "
                                           "$ARTFORGE_INCEPTION_WEIGHTS, then the torch hub cache)")
    classifier: str | None = option(None, "your classifier (.pt2 or TorchScript .pt) for the classes metric "
                                    "(default: one trained on the dataset)")
    n: int = option(10_000, "generated images to score (seeds seed .. seed+n-1)")
    max_real: int = option(50_000, "use at most this many reference images")
    split: str | None = option(None, "split of a prepared reference dataset (default: all; a translation run's "
                               "held-out test split)", choices=("train", "val", "test", "all"))
    seed: int = option(0, "first seed of the generated images; also seeds subsets and patches")
    truncation: float = option(1.0, TRUNCATION_HELP)
    mood_steps: int = option(MOOD_STEPS, MOOD_STEPS_HELP + "; the label alone is scored beside it")
    filter: tuple = option((), "sample filter: " + FILTER_HELP + "; scores the n images artforge sample --filter "
                           "keeps, from n / (1 - F) seeds", metavar="NAME")
    filter_drop: float = option(SAMPLE_FILTER_DROP, FILTER_DROP_HELP)
    batch: int = option(64, "images per batch through the feature network")
    kid_subsets: int = option(100, "KID subsets")
    kid_subset_size: int = option(1000, "KID subset size")
    device: str = option("auto", DEVICES_HELP)
    out: str | None = option(None, "results JSON (default: RUN/eval/<checkpoint>.json, or none for --fake)")
    json: bool = option(False, "print the results as JSON on stdout")
    cache: bool = option(True, "reuse cached reference features (keyed by content hash)")
    progress: bool = option(True, "show progress bars", cli=False)

    def __post_init__(self):
        _paths_to_str(self, "run", "real", "fake", "out", "inception_weights", "classifier")
        object.__setattr__(self, "metrics", _metric_list(self.metrics, "metrics"))
        if self.run is None and self.fake is None:
            raise UsageError("nothing to evaluate", "pass a run folder, or --real DIR_OR_DATASET --fake DIR")
        if self.run is not None and self.fake is not None:
            raise UsageError("pass a run or --fake, not both", "drop one of them")
        if self.fake is not None and self.real is None:
            raise UsageError("--fake needs --real to compare with", "pass --real DIR_OR_DATASET")
        if "is" in self.metrics and self.extractor != "inception":
            raise UsageError("--metrics is (Inception Score) needs --extractor inception", "drop is, or use inception")
        for name in ("n", "max_real", "batch", "kid_subsets", "kid_subset_size"):
            _positive_int(getattr(self, name), name)
        _positive_int(self.seed, "seed", minimum=0)
        _positive_int(self.mood_steps, "mood_steps", minimum=0)
        if self.split is not None:
            _choice(self.split, "split", ("train", "val", "test", "all"))
        _truncation(self.truncation)
        _sample_filters(self, IMAGE_FILTERS, single=True)
        if self.filter and self.run is None:
            raise UsageError("--filter picks among a run's seeds; it cannot filter a --fake folder",
                             "evaluate a run, or drop --filter")
        if self.filter and filter_draws(self.n, self.filter_drop) > MAX_SEEDS:
            raise UsageError(f"--filter {self.filter[0]} would score {filter_draws(self.n, self.filter_drop):,} "
                             f"seeds to keep {self.n:,}, more than {MAX_SEEDS:,}", "lower --filter-drop or --n")


# ----------------------------------------------------------------------------- sample

WATERMARK_HELP = ("add the invisible watermark that 'artforge verify' detects, marking the images as generated; "
                  "--no-watermark leaves it out (the provenance record is written either way)")

@dataclass(frozen=True)
class SampleConfig:
    run: str = option("", "run folder (or a folder of runs: the newest is used) or a checkpoint folder",
                      positional=True, metavar="RUN")
    out: str | None = option(None, "output folder (default: RUN/samples/<checkpoint>-seed<first seed>); a later "
                             "call into the same folder replaces the images an earlier one wrote there (listed "
                             "in its samples.json) and no other file")
    n: int = option(64, "number of images (seeds seed, seed+1, ...)")
    seed: int = option(0, "first seed; image i uses seed + i, so the same seed always gives the same image")
    seeds: str | None = option(None, "explicit seeds instead of --n/--seed, e.g. 1,5,10-20")
    truncation: float = option(1.0, TRUNCATION_HELP)
    label: str | None = option(None, "class name or index for conditional models (default: cycle through classes)")
    mood: str | None = option(None, "music models: the mood of the pieces (a label of the data: joyful, tender, "
                              "sombre, tense); default: cycle through them", choices=MOODS)
    valence: float | None = option(None, "music models: a continuous mood instead, valence from -1 (sombre, "
                                   "tense: minor) to 1 (joyful, tender: major), with --arousal")
    arousal: float | None = option(None, "music models: arousal from -1 (calm: sombre, tender) to 1 (lively: "
                                   "joyful, tense), with --valence")
    mood_steps: int = option(MOOD_STEPS, MOOD_STEPS_HELP)
    between: str | None = option(None, "sound and music models: instead of --n seeds, a row of --n outputs walking "
                                 "from seed A to seed B (spherical interpolation of z), e.g. 3,7", metavar="A,B")
    like: str | None = option(None, "sound models: variations of your own sound: the WAV is projected into the "
                              "latent space, re-made, and --n neighbours of it are drawn", metavar="WAV")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    device: str = option("auto", DEVICES_HELP)
    grid: bool = option(True, "also write grid.png")
    filter: tuple = option((), "sample filter: " + FILTER_HELP + "; the draws are the seeds asked for, so the "
                           "F share of them is left out", metavar="NAME")
    filter_drop: float = option(SAMPLE_FILTER_DROP, FILTER_DROP_HELP)
    watermark: bool = option(True, WATERMARK_HELP)

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
        _truncation(self.truncation)
        _sample_filters(self, IMAGE_FILTERS, single=True)
        if self.mood is not None:
            _choice(self.mood, "mood", MOODS)
            if self.label is not None:
                raise UsageError("--mood is a music model's label: pass --mood or --label, not both", "drop one")
        _positive_int(self.mood_steps, "mood_steps", minimum=0)
        for name in ("valence", "arousal"):
            value = getattr(self, name)
            if value is not None and (not _is_number(value) or not -1 <= value <= 1):
                raise UsageError(f"--{name} must be between -1 and 1, got {value!r}", f"pass e.g. --{name} 0.5")
        if self.between is not None:
            seeds = parse_seeds(self.between)
            if len(seeds) != 2 or "," not in self.between:
                raise UsageError(f"--between takes two seeds A,B, got {self.between!r}", "pass e.g. --between 3,7")
            if self.n < 2:
                raise UsageError("--between needs --n 2 or more (the row's length)", "pass e.g. --n 8")
        if self.like is not None:
            _paths_to_str(self, "like")
            if not Path(self.like).is_file():
                raise UsageError(f"--like {self.like} is not a file", "pass a WAV, FLAC, OGG or AIFF file")
            if self.between is not None:
                raise UsageError("--like and --between are two ways of choosing the latents", "pass one")
        if (self.valence is not None or self.arousal is not None) and (self.mood or self.label):
            raise UsageError("--valence/--arousal set the mood continuously; --mood and --label set it by name",
                             "pass one of them")

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


# ----------------------------------------------------------------------------- export

@dataclass(frozen=True)
class ExportConfig:
    run: str = option("", "run folder (or a folder of runs: the newest is used) or a checkpoint folder",
                      positional=True, metavar="RUN")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    out: str | None = option(None, "output folder, written whole or not at all "
                             "(default: exports/<run folder name>)", metavar="DIR")
    force: bool = option(False, "replace the output folder if it exists and is not empty")

    def __post_init__(self):
        _paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder such as runs/00000-openmoji-64-dcgan")
        if self.out == "":
            raise UsageError("--out is empty", "pass a folder, e.g. --out exports/my-model")
        object.__setattr__(self, "checkpoint", str(self.checkpoint))  # a step number from the API


# --- explore project / palette / layout

STYLE_SPACES = ("w+", "w")  # what an optimization moves: one style per layer (w+), or one for all (w)
SPACE_HELP = ("what the optimization moves: w+ (one style per layer: closer fits) or w (one style for every "
              "layer: stays nearer the images the model makes)")
STRENGTH_HELP = ("how hard to pull toward the target, in [0, 1]: 0 keeps the seed's image, 1 ignores it; in "
                 "between, the loss weighs the target by S and closeness to the seed's styles by 1 - S")
RUN_HELP = "run folder (or a folder of runs: the newest is used), checkpoint folder or exported model"


def _explore_common(cfg, *paths: str) -> None:
    """What every explore action checks alike: a run, the optimization's size, seeds, strength."""
    _paths_to_str(cfg, "run", "out", *paths)
    if not cfg.run:
        raise UsageError("no run given", "pass a run folder such as runs/00000-openmoji-64-style")
    if cfg.out == "":
        raise UsageError("--out is empty", "pass a folder, e.g. --out picks/")
    _positive_int(cfg.steps, "steps")
    _positive(cfg.lr, "lr")
    _choice(cfg.space, "space", STYLE_SPACES)
    object.__setattr__(cfg, "checkpoint", str(cfg.checkpoint))
    if hasattr(cfg, "strength"):
        _fraction(cfg.strength, "strength")
    if hasattr(cfg, "seeds"):
        parse_seeds(cfg.seeds)
    if hasattr(cfg, "truncation"):
        _truncation(cfg.truncation)


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
        _non_negative(self.d_weight, "d_weight")
        _positive_int(self.vary, "vary", minimum=0)
        _fraction(self.vary_strength, "vary_strength")
        _positive_int(self.held_out, "held_out", minimum=0)
        _positive_int(self.seed, "seed", minimum=0)
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
        _positive_int(self.k, "k")
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
        _paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder of a style-based model")
        _grid_seeds(self.rows, "rows")
        _grid_seeds(self.cols, "cols")
        split_layer_spec(self.layers)
        _truncation(self.truncation)
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
        _paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder of a style-based model")
        latents = (self.latents,) if isinstance(self.latents, (str, os.PathLike)) else tuple(self.latents)
        object.__setattr__(self, "latents", tuple(os.fspath(p) for p in latents if str(p).strip()))
        if self.latents:
            self._check_latents()
        else:
            self.keyframe_seeds()
        _choice(self.space, "space", SPACES)
        _choice(self.ease, "ease", EASES)
        _positive_int(self.frames, "frames")
        _positive_int(self.fps, "fps")
        _truncation(self.truncation)
        formats = _names(self.format)
        for name in formats:
            _choice(name, "format", VIDEO_FORMATS)
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


# --- recreate / verify

WATERMARK_THRESHOLD = 4.65  # above it verify says "watermarked"; calibrated by benchmarks/watermark_calibration.py (docs/provenance.md)


@dataclass(frozen=True)
class RecreateConfig:
    image: str = option("", "a PNG written by artforge (its record is in the PNG, or in IMAGE's .json beside it)",
                        positional=True, metavar="IMAGE")
    out: str | None = option(None, "where to write the recreated PNG (default: <IMAGE name>-recreated.png beside "
                             "IMAGE); --vary neighbours go beside it", metavar="PATH")
    model: str | None = option(None, "the run, checkpoint folder or exported model to render with, when the one "
                               "the record names has moved (its checkpoint is picked by the recorded step)",
                               metavar="PATH")
    vary: int = option(0, "also write N neighbours of the image: its styles (or latent) moved at random", metavar="N")
    vary_strength: float = option(0.3, "how far --vary moves: the share S of a random draw's offset from the mean "
                                  "style (style models) or of a random latent (dcgan)", metavar="S")
    seed: int = option(0, "seed of the first --vary neighbour's random draw (neighbour i uses seed + i)")
    device: str = option("auto", DEVICES_HELP)

    def __post_init__(self):
        _paths_to_str(self, "image", "out", "model")
        if not self.image:
            raise UsageError("no image given", "pass a PNG written by artforge, e.g. samples/seed0007.png")
        if self.out == "":
            raise UsageError("--out is empty", "pass a file, e.g. --out again.png")
        if self.model == "":
            raise UsageError("--model is empty", "pass the run's new folder, e.g. --model runs/00003-emoji")
        _positive_int(self.vary, "vary", minimum=0)
        _positive(self.vary_strength, "vary_strength")
        _positive_int(self.seed, "seed", minimum=0)


@dataclass(frozen=True)
class VerifyConfig:
    images: tuple = option((), "images to check", cli=False)  # positional IMAGE..., added by the CLI itself
    threshold: float = option(WATERMARK_THRESHOLD, "score above which an image counts as watermarked (lower finds "
                              "more marked images and more false alarms)")
    json: bool = option(False, "print one JSON object per image instead of text")

    def __post_init__(self):
        object.__setattr__(self, "images", tuple(os.fspath(p) for p in self.images))
        if not self.images:
            raise UsageError("no image given", "pass one or more images, e.g. artforge verify picture.png")
        _positive(self.threshold, "threshold")


# ----------------------------------------------------------------------------- translate, upscale

@dataclass(frozen=True)
class TranslateConfig:
    run: str = option("", "a pix2pix, cyclegan or sr run (or one of its checkpoints)", positional=True, metavar="RUN")
    inputs: tuple = option((), "images or folders to translate", cli=False)  # positional INPUT..., added by the CLI
    out: str = option("translated", "folder for the outputs (the inputs' subfolders are kept), with a "
                      "skipped.csv of files that could not be read", metavar="DIR")
    checkpoint: str = option("best", "which checkpoint: best, latest or a step number")
    reverse: bool = option(False, "cyclegan: translate B -> A (the default is A -> B, as --a and --b were given)")
    variations: int = option(0, "pix2pix: write N variations of each image with G's dropout on (seeded), "
                             "instead of the one deterministic output", metavar="N")
    seed: int = option(0, "seed of the first variation (variation i uses seed + i)")
    tile: int | None = option(None, "tile side in input pixels for large images (default: the model's: "
                              "pix2pix its training size, cyclegan 256, sr 128)")
    watermark: bool = option(True, "add artforge's invisible watermark to every output (see 'artforge verify')")
    device: str = option("auto", DEVICES_HELP)
    progress: bool = option(True, "show a progress bar", cli=False)

    def __post_init__(self):
        _image_command(self, "a pix2pix, cyclegan or sr run, e.g. runs/00004-pairs-pix2pix", "translated")
        _positive_int(self.variations, "variations", minimum=0)
        _positive_int(self.seed, "seed", minimum=0)


def _image_command(cfg, run_example: str, out_example: str) -> None:
    """What translate and upscale check alike: a run, inputs, an output folder, the tile size."""
    _paths_to_str(cfg, "run", "out")
    object.__setattr__(cfg, "inputs", tuple(os.fspath(p) for p in cfg.inputs))
    if not cfg.run:
        raise UsageError("no run given", f"pass {run_example}")
    if not cfg.inputs:
        raise UsageError("no input images given", "pass image files or folders after the run")
    if not cfg.out:
        raise UsageError("--out is empty", f"pass a folder, e.g. --out {out_example}")
    if cfg.tile is not None:
        _positive_int(cfg.tile, "tile", minimum=16)


@dataclass(frozen=True)
class UpscaleConfig:
    run: str = option("", "an sr run (artforge train ART --task sr), or one of its checkpoints", positional=True,
                      metavar="RUN")
    inputs: tuple = option((), "images or folders to upscale", cli=False)  # positional IMAGE..., added by the CLI
    out: str = option("upscaled", "folder for the outputs, with a skipped.csv of files that could not be read",
                      metavar="DIR")
    checkpoint: str = option("best", "which checkpoint: best, latest or a step number")
    strength: float | None = option(None, "for a GAN upscaler trained with --init FIDELITY_RUN: blend the two "
                                    "weight by weight, 0 the fidelity model (smooth) to 1 the GAN model (sharp "
                                    "detail); default: the run as trained", metavar="S")
    tile: int | None = option(None, "tile side in input pixels for large images (default 128)")
    watermark: bool = option(True, "add artforge's invisible watermark to every output (see 'artforge verify')")
    device: str = option("auto", DEVICES_HELP)
    progress: bool = option(True, "show a progress bar", cli=False)

    def __post_init__(self):
        _image_command(self, "an sr run, e.g. runs/00005-openmoji-256-sr-x4-gan", "upscaled")
        if self.strength is not None:
            _fraction(self.strength, "strength")
