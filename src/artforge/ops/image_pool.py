"""A history of generated images for D (Shrivastava et al. 2017; CycleGAN keeps 50).

D sees a mix of the newest fakes and older ones, so it does not chase only G's latest mode. Until
the pool is full every new image goes in and is returned as it is; after that each new image is,
with probability 1/2, swapped for a random stored one (which is returned in its place). Draws come
from the generator the caller passes (the task's stream), and the pool is part of the task's
checkpointed state, so a resumed run sees the same history.
"""

from __future__ import annotations

import torch
from torch import Tensor


class ImagePool:
    def __init__(self, size: int = 50):
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: Tensor | None = None  # (n, C, H, W), detached, n <= size
        self.count = 0

    def query(self, fakes: Tensor, gen: torch.Generator) -> Tensor:
        """(B, C, H, W) new fakes -> (B, C, H, W) images for D: each a new fake or a stored one."""
        if self.size == 0:
            return fakes
        fakes = fakes.detach()
        out = []
        for image in fakes:
            image = image[None]
            if self.count < self.size:
                self._store(self.count, image)
                self.count += 1
                out.append(image)
            elif torch.rand((), generator=gen) < 0.5:
                slot = int(torch.randint(0, self.size, (), generator=gen))
                out.append(self.images[slot:slot + 1].clone())
                self.images[slot] = image[0]
            else:
                out.append(image)
        return torch.cat(out)

    def _store(self, slot: int, image: Tensor) -> None:
        if self.images is None:
            self.images = image.new_empty(self.size, *image.shape[1:])
        self.images[slot] = image[0]

    def state_dict(self) -> dict:
        stored = self.images[:self.count].cpu() if self.images is not None else None
        return {"size": self.size, "count": self.count, "images": stored}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        if state["size"] != self.size:
            raise ValueError(f"the checkpoint's image pool holds {state['size']} images, this run's {self.size}")
        self.count, self.images = state["count"], None
        if state["images"] is not None and self.count:
            stored = state["images"].to(device)
            self.images = stored.new_empty(self.size, *stored.shape[1:])
            self.images[:self.count] = stored
