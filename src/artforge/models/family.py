"""The ``Family`` record every model family file fills in (see registry.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from torch import nn

from ..errors import UsageError


@dataclass(frozen=True)
class Family:
    name: str
    config: type
    build: Callable[[Any], dict[str, nn.Module]]  # config -> {"G": ..., "D": ...}
    ema: tuple[str, ...]  # networks that get an EMA copy, named "<name>_ema"
    sampler: str  # the network inference uses, e.g. "G_ema"
    inputs: tuple[str, ...]  # what the sampler takes: "latent", "label", "image", ...
    modality: str  # what it makes (modality.MODALITIES)
    summary: str
    trains_on: str = "image"  # the datasets it learns from: "image" or "audio" (a dataset's ``modality``)

    def make_config(self, **options: Any):
        """The family's config from the options it knows (others are ignored)."""
        known = {f.name for f in dataclasses.fields(self.config)}
        try:
            return self.config(**{k: v for k, v in options.items() if k in known})
        except (ValueError, TypeError) as exc:
            raise UsageError(f"architecture {self.name}: {exc}", "prepare the dataset at a size this architecture supports") from None

    def config_dict(self, cfg) -> dict:
        return dataclasses.asdict(cfg)

    def generator(self, cfg) -> nn.Module:
        """A fresh network of the kind inference uses (its weights are the ``sampler`` entry)."""
        return self.build(cfg)[self.sampler.removesuffix("_ema")]
