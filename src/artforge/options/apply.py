"""The options of `artforge translate` and `artforge upscale` (a trained run applied to images)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import UsageError
from .fields import DEVICES_HELP, fraction, option, paths_to_str, positive_int


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
        positive_int(self.variations, "variations", minimum=0)
        positive_int(self.seed, "seed", minimum=0)


def _image_command(cfg, run_example: str, out_example: str) -> None:
    """What translate and upscale check alike: a run, inputs, an output folder, the tile size."""
    paths_to_str(cfg, "run", "out")
    object.__setattr__(cfg, "inputs", tuple(os.fspath(p) for p in cfg.inputs))
    if not cfg.run:
        raise UsageError("no run given", f"pass {run_example}")
    if not cfg.inputs:
        raise UsageError("no input images given", "pass image files or folders after the run")
    if not cfg.out:
        raise UsageError("--out is empty", f"pass a folder, e.g. --out {out_example}")
    if cfg.tile is not None:
        positive_int(cfg.tile, "tile", minimum=16)


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
            fraction(self.strength, "strength")
