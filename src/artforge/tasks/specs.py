"""What each training task is to the rest of artforge, as one record: what a trained run of it offers,
how its generator is applied to images of any size, the options that make sense for it, and the words
its commands print. Nothing outside a task's own files branches on its name: it asks this record.

Torch-free, so the CLI and messages can read it without loading a network. Adding a task: its step
(``tasks/NAME.py``), its setup, and one entry in ``TASKS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Tiling:
    """How a translation G is applied to an image of any size (``ops.tiling.tiled``), in input pixels."""

    tile: int  # the default tile side
    overlap: int  # blended border between tiles
    pad: int  # context around each tile, cropped off its output
    multiple: int  # every side G takes must be a multiple of this (its downsamplings)
    exact: bool = False  # tiles are exactly the training square (a U-Net whose bottleneck is 1x1)


@dataclass(frozen=True)
class TaskSpec:
    name: str
    offers: str  # the command that applies a trained run: "sample", "translate" or "upscale"
    makes: str  # what a trained run does, for messages: "makes images from latents"
    previews: tuple[str, str]  # the report's titles: the latest preview, previews over time
    run_name: Callable[[object], str]  # the run folder's suffix, from the resolved TrainConfig
    needs_dataset: bool = True  # False: the data come from options of its own (cyclegan's --a/--b)
    scored_while_training: bool = False  # --eval-every (generated images against real ones)
    sized_to_budget: bool = False  # --size-to-budget may pick the network's width and batch
    tiling: Callable[[object], Tiling] | None = None  # from the model config; None: no image input
    directions: tuple[str, ...] = ()  # generators by direction, the first the default (cyclegan: a2b, b2a)
    blends: bool = False  # --strength: blended with the fidelity model it started from (--init)
    variations: bool = False  # --variations: seeded dropout draws several outputs per input
    scored_on: str = ""  # what `evaluate` compares outputs with: "pairs" or "images" (true high-resolution)
    reference_from_run: bool = True  # evaluate's default reference is the run's own dataset

    @property
    def translates(self) -> bool:
        return self.tiling is not None

    def next_steps(self, run_dir) -> str:
        """The line `artforge train` prints after a run of this task."""
        if self.offers == "sample":
            return f"artforge sample {run_dir} --n 64   |   artforge report {run_dir}"
        return f"artforge {self.offers} {run_dir} IMAGES... --out DIR   |   artforge report {run_dir}"


def _generation_name(cfg) -> str:
    return cfg.arch


def _sr_name(cfg) -> str:
    return f"sr-x{cfg.scale}-{'gan' if cfg.gan_weight else 'fidelity'}"


def _pix2pix_tiling(model_cfg) -> Tiling:
    # pix2pix's U-Net sees its whole training square: tiles are exactly that size, with no context
    res = model_cfg.resolution
    return Tiling(res, res // 4, 0, 2 ** model_cfg.depth, exact=True)


def _cyclegan_tiling(model_cfg) -> Tiling:
    return Tiling(256, 32, 32, 4)  # fully convolutional: large tiles with context around them


def _sr_tiling(model_cfg) -> Tiling:
    return Tiling(128, 16, 24, 1)


TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in (
    TaskSpec("generation", "sample", "makes images from latents, not from images",
             ("Latest samples", "Samples over time (fixed latents)"), _generation_name,
             scored_while_training=True, sized_to_budget=True),
    TaskSpec("pix2pix", "translate", "translates images",
             ("Latest previews: input | output | target", "Previews over time (fixed held-out pairs)"),
             lambda cfg: "pix2pix", tiling=_pix2pix_tiling, variations=True, scored_on="pairs"),
    TaskSpec("cyclegan", "translate", "translates images",
             ("Latest previews: A | A to B | back to A, then B | B to A | back to B",
              "Previews over time (fixed images of both domains)"),
             lambda cfg: "cyclegan", needs_dataset=False, tiling=_cyclegan_tiling, directions=("a2b", "b2a"),
             scored_on="pairs", reference_from_run=False),
    TaskSpec("sr", "upscale", "upscales images",
             ("Latest previews: bicubic | model | original", "Previews over time (fixed held-out crops)"),
             _sr_name, tiling=_sr_tiling, blends=True, scored_on="images"),
)}


def task_spec(name: str) -> TaskSpec:
    """The record of a run's task (runs from before tasks existed are generation runs)."""
    from ..errors import UsageError

    try:
        return TASKS[name or "generation"]
    except KeyError:
        raise UsageError(f"unknown task {name!r}", f"use one of: {', '.join(TASKS)}") from None
