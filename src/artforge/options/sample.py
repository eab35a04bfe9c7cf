"""The options of `artforge sample` (and the seed lists every command reads)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from pathlib import Path
from .fields import DEVICES_HELP, choice, is_number, option, paths_to_str, positive_int
from .shared import (FILTER_DROP_HELP, FILTER_HELP, IMAGE_FILTERS, MOODS, MOOD_STEPS, MOOD_STEPS_HELP,
                     SAMPLE_FILTER_DROP, TRUNCATION_HELP, WATERMARK_HELP, sample_filters, truncation)



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
        paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder such as runs/00000-openmoji-64-dcgan")
        positive_int(self.n, "n")
        if self.n > MAX_SEEDS:
            raise UsageError(f"--n {self.n} is more than {MAX_SEEDS} images", "sample in smaller batches")
        positive_int(self.seed, "seed", minimum=0)
        if self.seeds is not None:
            parse_seeds(self.seeds)
        truncation(self.truncation)
        sample_filters(self, IMAGE_FILTERS, single=True)
        if self.mood is not None:
            choice(self.mood, "mood", MOODS)
            if self.label is not None:
                raise UsageError("--mood is a music model's label: pass --mood or --label, not both", "drop one")
        positive_int(self.mood_steps, "mood_steps", minimum=0)
        for name in ("valence", "arousal"):
            value = getattr(self, name)
            if value is not None and (not is_number(value) or not -1 <= value <= 1):
                raise UsageError(f"--{name} must be between -1 and 1, got {value!r}", f"pass e.g. --{name} 0.5")
        if self.between is not None:
            seeds = parse_seeds(self.between)
            if len(seeds) != 2 or "," not in self.between:
                raise UsageError(f"--between takes two seeds A,B, got {self.between!r}", "pass e.g. --between 3,7")
            if self.n < 2:
                raise UsageError("--between needs --n 2 or more (the row's length)", "pass e.g. --n 8")
        if self.like is not None:
            paths_to_str(self, "like")
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
