"""Sizing a run to its time budget: the widest network that still gets enough steps in it.

After a few CPU-minutes, what a GAN has learned depends most on how many steps it has taken. On
OpenMoji at 64 px, in 20 fp32 CPU-minutes of an AVX2 core, a DCGAN of width 32 with batches of 16
takes 5,800 steps and ends at SWD 23 against held-back images; width 48 (same batch) takes 3,100
and ends at 29, and was no better per step either (29 at step 3,137 against 26 at step 2,944);
width 64 with batches of 64 takes 600 and ends at 95 (docs/training.md; benchmarks/quality_per_minute.py
has the recipe comparison). So the default size is the cheapest candidate, and a wider one is taken only
when the budget buys it ``TARGET_STEPS`` steps: a GPU, or a fast CPU given hours.

When a run is given ``--minutes`` and neither ``--width`` nor ``--batch``, ``train()`` times a few
real training steps of candidate sizes on this machine, at the run's precision, cheapest first
until one misses ``TARGET_STEPS`` in the budget, and takes the widest that reaches it; when none
does, the cheapest.

``choose_size`` is the decision (a pure function, unit-tested); ``measure`` does the timing, on a
small synthetic dataset shaped like the real one, with the run's own recipe, so everything a step
does (augmentation, self-conditioning, lazy R1 in its share of steps) is in the figure.
"""

from __future__ import annotations

import dataclasses
import io
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TARGET_STEPS = 20_000  # steps a budget must buy at a width before that width is worth its cost (see above)
PROBE_IMAGES = 128  # synthetic images the timing runs on


@dataclass(frozen=True)
class Size:
    width: int
    batch: int

    def __str__(self) -> str:
        return f"width {self.width}, batch {self.batch}"


def _default_size() -> Size:
    """The dcgan architecture's own --width and the engine's --batch (one source of defaults): the cheapest."""
    from ..options.engine import EngineOptions
    from ..options.families import DCGANOptions

    return Size(DCGANOptions.DEFAULTS["width"], EngineOptions.batch)


CANDIDATES = (Size(64, 32), Size(48, 16), _default_size())  # widest first; the last is the default size


def expected_steps(size: Size, img_per_s: float, seconds: float) -> int:
    return int(img_per_s * seconds / size.batch)


def choose_size(seconds: float, img_per_s: dict[Size, float], target_steps: int = TARGET_STEPS) -> Size:
    """The widest size whose measured speed gives ``target_steps`` in ``seconds``; else the cheapest.

    ``img_per_s`` maps candidate sizes (widest first) to their measured training images per second.
    """
    if not img_per_s:
        raise ValueError("no measured sizes to choose from")
    for size, speed in img_per_s.items():
        if expected_steps(size, speed, seconds) >= target_steps:
            return size
    return min(img_per_s, key=lambda s: (s.width, s.batch))


@dataclass
class Sizing:
    """What ``train()`` decided and why, for the log and the progress line."""

    size: Size
    seconds: float
    measured: dict[Size, float]

    def summary(self) -> str:
        speeds = ", ".join(f"{s.width}/{s.batch}: {v:.0f} img/s" for s, v in self.measured.items())
        steps = expected_steps(self.size, self.measured[self.size], self.seconds)
        return (f"sized for {self.seconds / 60:g} min on this machine (width/batch: {speeds}): {self.size}, "
                f"about {steps:,} steps; --width and --batch override")

    def to_json(self) -> dict:
        return {"width": self.size.width, "batch": self.size.batch, "budget_s": self.seconds,
                "target_steps": TARGET_STEPS,
                "measured_img_per_s": [{"width": s.width, "batch": s.batch, "img_per_s": round(v, 2)}
                                       for s, v in self.measured.items()]}


def _synthetic_dataset(folder: Path, shape: tuple[int, int], channels: int, num_classes: int):
    """A small prepared dataset of smooth random images of ``shape`` (height, width), labelled like the real one."""
    from PIL import Image

    from ..data.archive import ArchiveWriter, open_dataset

    rng = np.random.default_rng(0)
    writer = ArchiveWriter(folder / "probe.zip")
    for i in range(PROBE_IMAGES):
        small = rng.integers(0, 256, (8, 8, channels), dtype=np.uint8)
        image = Image.fromarray(small.squeeze(-1) if channels == 1 else small).resize((shape[1], shape[0]))
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        writer.add(buf.getvalue(), i % num_classes if num_classes else None)
    labels = [f"class-{k}" for k in range(num_classes)]
    writer.close({"name": "probe", "resolution": max(shape), "height": shape[0], "width": shape[1],
                  "channels": channels, "label_names": labels,
                  "split": {"train": writer.names, "val": [], "test": []}})
    return open_dataset(folder / "probe.zip")


def _img_per_s(trainer, steps: int) -> float:
    """Training images per second of ``trainer``: plain steps (median, as the machine may be busy),
    plus a lazy R1 step in its share of steps."""
    from ..runs.monitor import Monitor

    monitor = Monitor(trainer.run_dir, tensorboard=False, enabled=False)
    ctx = trainer.make_context()

    def timed_step() -> float:
        start = time.perf_counter()
        trainer.train_step(ctx, monitor, False)
        return time.perf_counter() - start

    task = trainer.options.task  # the generation task's: sizing is for the families it trains
    interval = task.r1_interval if task.r1_gamma else 0
    with_r1 = timed_step()  # step 0 has R1; it and the next build the kernels
    timed_step()
    plain = statistics.median(timed_step() for _ in range(steps))
    if interval > 1:
        trainer.step = interval * (trainer.step // interval + 1)  # the next lazy R1 step, now warm
        with_r1 = timed_step()
        plain += max(with_r1 - plain, 0.0) / interval
    return trainer.cfg.batch / plain


def measure(cfg, resolution: int | tuple[int, int], channels: int, num_classes: int, sizes=None, steps: int = 5,
            seconds: float | None = None, target_steps: int = TARGET_STEPS, *, trainer) -> dict[Size, float]:
    """Images per second of a training step of ``cfg`` at each size (widest first) on this machine.

    Times the cheapest size first. With ``seconds``, stops at the first size that misses
    ``target_steps``: a wider one would miss it too, and a slow machine only times the cheapest.
    ``resolution``: the side of square images, or (height, width).
    ``trainer(cfg, run_dir, dataset)`` builds the run's trainer: the caller's (trainer.py's
    ``Trainer``), so that this module, which trainer.py imports, does not import it back.
    """

    sizes = list(sizes or CANDIDATES)
    measured: dict[Size, float] = {}
    with tempfile.TemporaryDirectory(prefix="artforge-sizing-") as tmp:
        shape = (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)
        dataset = _synthetic_dataset(Path(tmp), shape, channels, num_classes)
        for size in reversed(sizes):
            probe_cfg = dataclasses.replace(cfg, dataset=str(dataset.path), width=size.width, batch=size.batch,
                                            eval_images=0, progress=False, tensorboard=False, cache_gb=1.0)
            probe = trainer(probe_cfg, Path(tmp), dataset)
            measured[size] = _img_per_s(probe, steps)
            del probe
            if seconds is not None and expected_steps(size, measured[size], seconds) < target_steps:
                break
    return {size: measured[size] for size in sizes if size in measured}  # widest first
