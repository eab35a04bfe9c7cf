"""Batches of real images for training, in a deterministic, resumable order.

The order of images is a pure function of (seed, step): the index stream is the concatenation of
one seeded permutation per epoch, and step s takes items [s*B, (s+1)*B). Resuming at step k needs no
saved loader state, and datasets smaller than a batch just span epochs. With several processes, B is
the global batch and process r of N takes its r-th slice of it: (seed, step, rank, world) fix a
process's images, and a run resumed on another number of processes sees the same global batches.

Small datasets (the usual case for art) are decoded once into one uint8 tensor, on the training
device when it is a GPU. Larger ones stream from the zip through DataLoader worker processes.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from .archive import ImageDataset


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def batch_positions(n: int, batch: int, seed: int, step: int) -> np.ndarray:
    """Positions (into the training indices) of the images of one step."""
    start = step * batch
    out = []
    while len(out) < batch:
        epoch, offset = divmod(start + len(out), n)
        perm = epoch_permutation(n, seed, epoch)
        out.extend(perm[offset:offset + batch - len(out)].tolist())
    return np.asarray(out, dtype=np.int64)


def to_model_range(images: Tensor, channels_last: bool) -> Tensor:
    """uint8 (B, C, H, W) -> float32 in [-1, 1]."""
    x = images.float().div_(127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def decode_all(dataset: ImageDataset, indices: np.ndarray, progress: bool = False) -> Tensor:
    """The given items, stacked as stored: uint8 (N, C, H, W) images, int16 (N, 1, L) sounds; threads
    overlap zip reads and decoding."""
    out = torch.empty((len(indices), *dataset.item_shape), dtype=getattr(torch, dataset.item_dtype))
    bar = None
    if progress and len(indices) > 2000:
        from tqdm import tqdm
        bar = tqdm(total=len(indices), desc="loading dataset", unit="img", leave=False)

    def load(item):
        slot, index = item
        out[slot] = torch.from_numpy(dataset.read_item(int(index)))

    # One zip handle per thread is not needed: ZipFile.read is guarded by its own lock, and the
    # PNG decoding (the expensive part) runs without the GIL.
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(load, enumerate(indices), chunksize=64):
            if bar:
                bar.update()
    if bar:
        bar.close()
    return out


class _StreamDataset(torch.utils.data.Dataset):
    def __init__(self, dataset: ImageDataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return torch.from_numpy(self.dataset.read_item(index))


class BatchSource:
    """Real training batches: ``batches(start_step)`` yields (uint8 images, labels or None) forever."""

    def __init__(self, dataset: ImageDataset, indices: np.ndarray, batch: int, seed: int,
                 device: torch.device, cache_gb: float = 2.0, workers: int = 0, progress: bool = False,
                 rank: int = 0, world: int = 1):
        self.dataset = dataset
        per = batch // world
        self.part = slice(rank * per, (rank + 1) * per)  # this process's slice of every global batch
        self.indices = np.asarray(indices, dtype=np.int64)
        self.batch = batch
        self.seed = seed
        self.device = device
        self.workers = workers or min(4, os.cpu_count() or 1)
        size = len(self.indices) * int(np.prod(dataset.item_shape)) * np.dtype(dataset.item_dtype).itemsize
        self.in_memory = size <= cache_gb * 2**30
        labels = dataset.labels[self.indices] if dataset.labels is not None else None
        self.labels = torch.from_numpy(labels).to(device) if labels is not None else None
        self.images: Tensor | None = None
        if self.in_memory:
            images = decode_all(dataset, self.indices, progress)
            # On a GPU, keep the whole set there: a batch is then one gather, no host transfer.
            self.images = images.to(device) if device.type == "cuda" else images

    def __len__(self) -> int:
        return len(self.indices)

    def _labels(self, positions: np.ndarray) -> Tensor | None:
        if self.labels is None:
            return None
        return self.labels[torch.from_numpy(positions).to(self.labels.device)]

    def positions(self, step: int) -> np.ndarray:
        """Positions of this process's images of ``step``."""
        return batch_positions(len(self.indices), self.batch, self.seed, step)[self.part]

    def batches(self, start_step: int) -> Iterator[tuple[Tensor, Tensor | None]]:
        if self.in_memory:
            step = start_step
            while True:
                pos = self.positions(step)
                images = self.images[torch.from_numpy(pos).to(self.images.device)]
                yield images.to(self.device, non_blocking=True), self._labels(pos)
                step += 1
        else:
            yield from self._stream(start_step)

    def _stream(self, start_step: int):
        def sampler():
            step = start_step
            while True:
                yield self.indices[self.positions(step)].tolist()
                step += 1

        loader = torch.utils.data.DataLoader(
            _StreamDataset(self.dataset), batch_sampler=sampler(), num_workers=self.workers,
            pin_memory=self.device.type == "cuda", persistent_workers=False, prefetch_factor=4)
        step = start_step
        for images in loader:
            pos = self.positions(step)
            yield images.to(self.device, non_blocking=True), self._labels(pos)
            step += 1

    def fixed_sample(self, n: int, seed: int) -> tuple[Tensor, Tensor | None]:
        """n real images (uint8, on CPU) chosen by seed, for the quality signal."""
        pos = np.random.default_rng([seed, 7919]).permutation(len(self.indices))[:n]
        if self.images is not None:
            images = self.images[torch.from_numpy(pos).to(self.images.device)].cpu()
        else:
            images = decode_all(self.dataset, self.indices[pos])
        return images, self._labels(pos)
