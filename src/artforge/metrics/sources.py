"""Where evaluated images come from: a prepared dataset, a folder of images, or a run's generator.

Each source streams uint8 batches (B, C, H, W) so that no metric needs every image in memory, and
can hand back particular images (for the nearest-neighbour grid). A source with a ``fingerprint``
(datasets and folders) can have its features cached; a generator cannot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Protocol, runtime_checkable

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from ..data.archive import IMAGE_EXTENSIONS, ImageDataset
from ..data.loader import decode_all
from ..errors import DataError
from .cache import dataset_fingerprint


@runtime_checkable
class Source(Protocol):
    """What every metric reads: the protocol the three sources below (and any other) follow."""

    resolution: int  # the longer side
    shape: tuple[int, int]  # (height, width)
    channels: int
    fingerprint: Callable[[], str] | None  # a cache key for its features, or None (never cached)

    def __len__(self) -> int: ...

    def batches(self, batch: int) -> Iterator[tuple[Tensor, Tensor | None]]:
        """uint8 (B, C, H, W) batches and their labels (or None), in a fixed order."""
        ...

    def images(self, positions) -> Tensor:
        """uint8 (N, C, H, W): the items at these positions of that order."""
        ...

    def describe(self) -> dict:
        """What it is, for reports (kind, path, split, count)."""
        ...


class DatasetSource:
    """Images of one split of a prepared dataset (also StyleGAN2-ADA datasets); with ``keep``, only those of
    its items (an extractor's held-out part, named ``part`` in reports and cache keys)."""

    def __init__(self, dataset: ImageDataset, split: str = "all", max_images: int | None = None,
                 keep: np.ndarray | None = None, part: str | None = None):
        self.dataset = dataset
        self.split = split
        self.part = part
        indices = dataset.indices(split)
        if keep is not None:
            indices = indices[np.isin(indices, keep)]
        self.indices = indices[:max_images]
        if len(self.indices) == 0:
            where = f"its {split!r} split" + (f" and the {part}" if part else "")
            raise DataError(f"dataset {dataset.path} has no images in {where}",
                            "use the 'all' split, or another split that has images")
        self.resolution, self.channels, self.shape = dataset.resolution, dataset.channels, dataset.shape

    def __len__(self) -> int:
        return len(self.indices)

    def batches(self, batch: int) -> Iterator[tuple[Tensor, Tensor | None]]:
        for start in range(0, len(self.indices), batch):
            idx = self.indices[start:start + batch]
            labels = torch.from_numpy(self.dataset.labels[idx]) if self.dataset.labels is not None else None
            yield decode_all(self.dataset, idx), labels

    def images(self, positions) -> Tensor:
        return decode_all(self.dataset, self.indices[np.asarray(positions)])

    @property
    def fingerprint(self) -> str:
        part = f":{self.part}" if self.part else ""  # sources without a part keep the key they always had
        return f"{dataset_fingerprint(self.dataset.path)}:{self.split}{part}:{len(self.indices)}"

    def restricted(self, keep: np.ndarray, part: str, max_images: int | None = None) -> "DatasetSource":
        """The same split, only the items in ``keep``."""
        return DatasetSource(self.dataset, self.split, max_images, keep=keep, part=part)

    def describe(self) -> dict:
        described = {"kind": "dataset", "path": str(self.dataset.path), "split": self.split, "images": len(self),
                     "resolution": self.resolution}
        return {**described, "part": self.part} if self.part else described


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """RGB, centre-cropped to the aspect of ``size`` (width, height) and resized with Lanczos (only when
    it is not that size already)."""
    image = ImageOps.exif_transpose(image).convert("RGB")
    if image.size != size:
        image = ImageOps.fit(image, size, Image.Resampling.LANCZOS)
    return image


class FolderSource:
    """Every image file under a folder (sorted by path), as RGB at one size.

    ``resolution``: the side of square images, or (height, width) for non-square ones (a run's image
    shape); by default the first image's shorter side, square.
    """

    def __init__(self, folder: str | Path, resolution: int | tuple[int, int] | None = None,
                 max_images: int | None = None):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataError(f"image folder {self.folder} does not exist", "pass a folder of PNG or JPEG images")
        self.files = sorted(p for p in self.folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)[:max_images]
        if not self.files:
            raise DataError(f"folder {self.folder} holds no images", "pass a folder of PNG, JPEG or WebP images")
        if resolution is None:
            with Image.open(self.files[0]) as first:
                resolution = min(first.size)
        self.shape = (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)
        self.resolution, self.channels = max(self.shape), 3
        self.resized = False

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, path: Path) -> np.ndarray:
        try:
            with Image.open(path) as image:
                size = self.shape[::-1]  # (width, height), as Pillow says sizes
                if image.size != size:
                    self.resized = True
                return np.asarray(_fit(image, size))
        except OSError as exc:
            raise DataError(f"cannot read image {path} ({exc})", "remove or replace the file") from None

    def batches(self, batch: int) -> Iterator[tuple[Tensor, None]]:
        for start in range(0, len(self.files), batch):
            yield self.images(range(start, min(start + batch, len(self.files)))), None

    def images(self, positions) -> Tensor:
        return torch.from_numpy(np.stack([self._load(self.files[i]) for i in positions])).permute(0, 3, 1, 2)

    @property
    def fingerprint(self) -> str:
        height, width = self.shape  # square folders keep the key they always had
        size = self.resolution if height == width else f"{width}x{height}"
        return f"{dataset_fingerprint(self.folder)}:{size}:{len(self.files)}"

    def describe(self) -> dict:
        return {"kind": "folder", "path": str(self.folder), "images": len(self), "resolution": self.resolution,
                "resized_to_match": self.resized}


class GeneratorSource:
    """Images of a loaded run's EMA generator: ``n`` seeds from ``seed``, or the ``seeds`` given.

    ``sampler`` describes how the seeds were chosen when a sample filter picked them (for the report).
    """

    fingerprint = None  # never cached: the generator changes

    def __init__(self, model, n: int = 0, seed: int = 0, truncation: float = 1.0, seeds: list[int] | None = None,
                 sampler: dict | None = None):
        self.model = model
        self.seeds = list(seeds) if seeds is not None else list(range(seed, seed + n))
        self.truncation = truncation
        self.sampler = sampler
        self.channels, height, width = model.image_shape
        self.shape, self.resolution = (height, width), max(height, width)

    def __len__(self) -> int:
        return len(self.seeds)

    def batches(self, batch: int) -> Iterator[tuple[Tensor, Tensor | None]]:
        for start in range(0, len(self.seeds), batch):
            seeds = self.seeds[start:start + batch]
            yield self._generate(seeds), self.model.labels(seeds, None)

    def _generate(self, seeds: list[int]) -> Tensor:
        images = self.model.sample(seeds=seeds, truncation=self.truncation)  # (B, H, W, C) uint8
        return torch.from_numpy(images).permute(0, 3, 1, 2)

    def images(self, positions) -> Tensor:
        return self._generate([self.seeds[i] for i in positions])

    def describe(self) -> dict:
        described = {"kind": "generator", "run": str(self.model.run_dir), "checkpoint": self.model.checkpoint.name
                     if self.model.checkpoint else None, "step": self.model.step, "images": len(self),
                     "seeds": [min(self.seeds), max(self.seeds)], "truncation": self.truncation}
        if self.sampler is not None:
            described["sampler"] = self.sampler
        return described
