"""What the engine (training/engine.py) and every task read: the batch, the optimizers and their schedule,
the EMA, when to stop, log and save, the device and precision, how the data are read.

Options marked "(recipe)" default to None, "the recipe's": ``TrainConfig.resolved`` fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from .fields import (DEVICES_HELP, PRECISIONS, choice, fraction, names, non_negative, optional_positive, option,
                     positive, positive_int)
from .names import registry


@dataclass(frozen=True)
class EngineOptions:
    loss: str | None = option(None, "adversarial loss (recipe)", choices=lambda: tuple(registry("loss")))
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
    ema_kimg: float | None = option(None, "half-life of the G EMA in thousands of images, 0 disables; with "
                                    "--ema-rampup it is reached only after ema-kimg / ema-rampup thousand images "
                                    "(100 for 5 and 0.05) (recipe)")
    ema_rampup: float = option(0.05, "EMA ramp-up: half-life is at most this fraction of images shown so far "
                               "(0 disables)")
    augment: tuple = option(("flip",), "augmentations of real images, comma separated, or 'none'",
                            metavar="LIST")
    steps: int | None = option(None, "stop after this many steps")
    kimg: float | None = option(None, "stop after this many thousand real images shown to D")
    minutes: float | None = option(None, "stop after this many minutes of training")
    tick: int = option(100, "steps between log lines, health checks and sample grids")
    checkpoint_every: int = option(500, "steps between checkpoints")
    keep: int = option(3, "checkpoints to keep besides the best")
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
        for name in ("batch", "tick", "checkpoint_every", "keep"):
            positive_int(getattr(self, name), name)
        positive_int(self.workers, "workers", minimum=0)
        positive(self.cache_gb, "cache_gb")
        non_negative(self.ema_rampup, "ema_rampup")
        positive_int(self.seed, "seed", minimum=0)
        choice(self.split, "split", ("train", "all"))
        optional_positive(self.steps, "steps", kind=int)
        optional_positive(self.kimg, "kimg")
        optional_positive(self.minutes, "minutes")
        choice(self.precision, "precision", PRECISIONS)
        object.__setattr__(self, "augment", names(self.augment))
        for name in self.augment:
            choice(name, "augment", tuple(registry("augment")))
        if self.loss is not None:
            choice(self.loss, "loss", tuple(registry("loss")))
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) is not None:
                positive(getattr(self, name), name)
        for name in ("beta1", "beta2", "lr_decay", "lr_floor_g", "lr_floor_d"):
            if getattr(self, name) is not None:
                fraction(getattr(self, name), name)
        if self.ema_kimg is not None:
            non_negative(self.ema_kimg, "ema_kimg")

    def stop_given(self) -> bool:
        return any(v is not None for v in (self.steps, self.kimg, self.minutes))
