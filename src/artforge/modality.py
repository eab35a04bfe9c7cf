"""What one item is: tensor layout, value range, how it is read, written and previewed.

Training and inference ask the modality instead of assuming 2-D images: the engine saves a task's
preview through ``preview_image``, health statistics compare ``summary`` vectors, and readers and
writers turn stored items into model tensors and back. Images come first; 2-D points (the toy
benchmark) show that nothing else assumes pixels. A waveform and a piano roll come next.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from .data.augment import augment


class _IdentityPipe:
    p = 0.0

    def __call__(self, x: Tensor) -> Tensor:
        return x

    def __bool__(self) -> bool:
        return False


_identity_pipe = _IdentityPipe()


@dataclass(frozen=True)
class Modality:
    name: str
    layout: str  # the model tensor's axes, batch first
    value_range: tuple[float, float]

    def summary(self, x: Tensor) -> Tensor:
        """(B, ...) -> (B, F): a small vector per item, for diversity and health statistics."""
        return x.float().flatten(1)

    def diversity(self, x: Tensor) -> float:
        """Mean pairwise L2 distance of the items' summaries."""
        small = self.summary(x)
        return torch.pdist(small).mean().item() if len(small) > 1 else 0.0

    def preview_image(self, x: Tensor):
        """A PIL image showing a batch of items (a grid of images, a scatter of points, ...)."""
        raise NotImplementedError

    def augment(self, x: Tensor, names: tuple[str, ...], gen: torch.Generator) -> Tensor:
        """The dataset augmentations ``names`` of a batch of real items (none by default)."""
        if names:
            raise ValueError(f"{self.name} items have no augmentations; asked for {', '.join(names)}")
        return x

    def d_view_pipe(self, names: tuple[str, ...], p: float, gen: torch.Generator):
        """The differentiable augmentation of everything D sees (identity by default)."""
        if names:
            raise ValueError(f"{self.name} items have no differentiable augmentations; asked for {', '.join(names)}")
        return _identity_pipe


class ImageModality(Modality):
    def to_model(self, images: Tensor, channels_last: bool = False) -> Tensor:
        """uint8 (B, C, H, W) as stored -> float32 in [-1, 1]."""
        x = images.float().div_(127.5).sub_(1.0)
        return x.contiguous(memory_format=torch.channels_last) if channels_last else x

    def to_uint8(self, x: Tensor) -> Tensor:
        from .utils.images import to_uint8
        return to_uint8(x)

    def augment(self, x: Tensor, names: tuple[str, ...], gen: torch.Generator) -> Tensor:
        return augment(x, names, gen)  # every training step: imported once, at the top

    def d_view_pipe(self, names: tuple[str, ...], p: float, gen: torch.Generator):
        from .training.diffaug import AugmentPipe
        return AugmentPipe(names, p, gen)

    def summary(self, x: Tensor) -> Tensor:
        # shrunk to 16x16: cheap, and blind to pixel noise
        return F.adaptive_avg_pool2d(x.float(), 16).flatten(1)

    def preview_image(self, x: Tensor):
        from .utils.images import make_grid, to_uint8
        return make_grid(to_uint8(x))


class PointModality(Modality):
    """2-D points (B, 2): previewed as a scatter plot on a white square."""

    def preview_image(self, x: Tensor, size: int = 256, lim: float | None = None):
        from PIL import Image, ImageDraw

        points = x.detach().float().cpu()
        lim = lim or max(float(points.abs().max()) * 1.1, 1e-3)
        canvas = Image.new("RGB", (size, size), "white")
        draw = ImageDraw.Draw(canvas)
        for px, py in points.tolist():
            draw.point(((px + lim) / (2 * lim) * size, size - (py + lim) / (2 * lim) * size), fill=(30, 80, 200))
        return canvas


IMAGE = ImageModality("image", "B, C, H, W", (-1.0, 1.0))
POINTS = PointModality("points", "B, 2", (float("-inf"), float("inf")))
MODALITIES = {m.name: m for m in (IMAGE, POINTS)}
