"""The options of `artforge recreate` and `artforge verify`."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import UsageError
from .fields import DEVICES_HELP, option, paths_to_str, positive, positive_int
from .shared import WATERMARK_THRESHOLD



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
        paths_to_str(self, "image", "out", "model")
        if not self.image:
            raise UsageError("no image given", "pass a PNG written by artforge, e.g. samples/seed0007.png")
        if self.out == "":
            raise UsageError("--out is empty", "pass a file, e.g. --out again.png")
        if self.model == "":
            raise UsageError("--model is empty", "pass the run's new folder, e.g. --model runs/00003-emoji")
        positive_int(self.vary, "vary", minimum=0)
        positive(self.vary_strength, "vary_strength")
        positive_int(self.seed, "seed", minimum=0)


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
        positive(self.threshold, "threshold")
