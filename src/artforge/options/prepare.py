"""The options of `artforge prepare` (images, pairs), `prepare audio` and `prepare music`."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .fields import choice, fraction, is_number, names, non_negative, option, paths_to_str, positive_int


FITS = ("crop", "pad", "stretch")
COLORS = ("rgb", "gray")
LABEL_MODES = ("auto", "folders", "none")
RESAMPLE_FILTERS = ("lanczos", "bicubic", "bilinear", "box")


def _aspect(cfg) -> None:
    """--aspect W:H, stored in lowest terms ("4:3"); a non-square one only at a --size the style family trains."""
    from ..aspect import aspect_shape, base_shape, nearest_style_sizes, parse_aspect, shape_text, style_trains
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
        paths_to_str(self, "source", "out")
        if not self.source:
            raise UsageError("no source given", "pass a folder, a .zip or 'openmoji'")
        positive_int(self.size, "size", minimum=4)
        _aspect(self)
        choice(self.fit, "fit", FITS)
        choice(self.color, "color", COLORS)
        choice(self.resample, "resample", RESAMPLE_FILTERS)
        choice(self.labels, "labels", LABEL_MODES)
        fraction(self.subset, "subset", allow_zero=False)
        positive_int(self.min_size, "min_size")
        positive_int(self.max_pixels, "max_pixels")
        positive_int(self.workers, "workers", minimum=0)
        if self.derive is not None:
            choice(self.derive, "derive", ("edges", "xdog", "blur", "gray"))
            object.__setattr__(self, "pairs", True)
        if self.sides is not None:
            sides = names(self.sides)
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
    if len(split) != 3 or any(not is_number(s) or s < 0 for s in split) \
            or abs(sum(split) - 1) > 1e-6 or split[0] <= 0:
        raise UsageError(f"--split must be three non-negative fractions summing to 1 with train > 0, "
                         f"got {cfg.split!r}", "pass e.g. --split 0.9,0.05,0.05")
    object.__setattr__(cfg, "split", split)


AUDIO_SAMPLE_RATES = (16000, 22050, 44100)
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
        paths_to_str(self, "source", "out")
        if not self.source:
            raise UsageError("no source given", "pass a folder of sounds, a .zip or 'drums'")
        choice(self.sample_rate, "sample_rate", AUDIO_SAMPLE_RATES)
        choice(self.length, "length", AUDIO_LENGTHS)
        choice(self.labels, "labels", LABEL_MODES)
        fraction(self.subset, "subset", allow_zero=False)
        non_negative(self.min_ms, "min_ms")
        positive_int(self.workers, "workers", minimum=0)
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
        paths_to_str(self, "source", "out")
        if not self.source:
            raise UsageError("no source given", "pass a folder of MIDI files, a .zip, 'bach' or 'folk'")
        positive_int(self.bars, "bars")
        positive_int(self.steps_per_beat, "steps_per_beat")
        choice(self.labels, "labels", ("mood", "none"))
        if self.limit is not None:
            positive_int(self.limit, "limit")
        _split_fractions(self)
