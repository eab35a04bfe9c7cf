"""What the tasks share besides the step machinery (training/steps.py: ``Phase``, ``Task``, ``run_step``):
fixed preview items, a step context over (input, target) pairs, a process's training batches."""

from __future__ import annotations

import numpy as np
from torch import Tensor


def held_out_first(dataset, split: str, n: int) -> np.ndarray:
    """``n`` fixed item indices for previews: validation and test items first, topped up from ``split``;
    spread evenly over each (a dataset's order groups alike items: the first few could all be flags)."""
    def spread(indices: np.ndarray, k: int) -> list[int]:
        if len(indices) <= k:
            return indices.tolist()
        return indices[np.linspace(0, len(indices) - 1, k).round().astype(int)].tolist()

    held_out = np.array(list(dict.fromkeys(np.concatenate([dataset.indices("val"), dataset.indices("test")]).tolist())),
                        dtype=np.int64)
    chosen = spread(held_out, n)
    taken = set(chosen)
    rest = np.array([i for i in dataset.indices(split).tolist() if i not in taken], dtype=np.int64)
    return np.array(chosen + spread(rest, n - len(chosen)), dtype=np.int64)


class PairStep:
    """A step context over (input, target) batches: one batch drawn per repeat and G's output for it,
    both cached, so every phase of a step sees the same ones. ``prepare`` turns a drawn batch into the
    (input, target) tensors."""

    def __init__(self, G, batches, prepare):
        self.G, self.batches, self.prepare = G, batches, prepare
        self.draws = 0
        self._pair = self._fake = None

    def new_repeat(self) -> None:
        self._pair = self._fake = None

    def pair(self) -> tuple[Tensor, Tensor]:
        if self._pair is None:
            images, _ = next(self.batches)
            self.draws += 1
            self._pair = self.prepare(images)
        return self._pair

    def fake(self) -> Tensor:
        if self._fake is None:
            self._fake = self.G(self.pair()[0])
        return self._fake


def training_batches(dataset, cfg, engine, seed: int | None = None, what: str = "images"):
    """A ``BatchSource`` of ``dataset``'s training split for this process (its slice of every batch)."""
    from ..data.loader import BatchSource
    from ..errors import UsageError

    indices = dataset.indices(cfg.engine.split)
    if len(indices) == 0:
        raise UsageError(f"dataset {dataset.path} has no {what} in the {cfg.engine.split!r} split",
                         "use the 'all' split, or prepare the dataset with a larger train fraction")
    dist = engine.dist
    opts = cfg.engine
    return BatchSource(dataset, indices, opts.batch, opts.seed if seed is None else seed, engine.device, opts.cache_gb,
                       opts.workers, progress=opts.progress and dist.is_writer, rank=dist.rank, world=dist.world)
