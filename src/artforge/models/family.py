"""The ``Family`` record every model family file fills in (see registry.py).

Besides its networks, a family declares what they can do (``styles``, ``spectral``, ``output_bias``,
``classifier``, ``sized_to_budget``), so that tasks and samplers ask the family of the run, never probe a
network with ``hasattr``; tests/test_family.py checks each declaration against the networks it builds.
"""

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
    # What its networks can do (each False unless declared):
    styles: bool = False  # G maps z to per-layer styles and renders them: G.map, .synthesis, .broadcast, .num_ws
    spectral: bool = False  # G makes spectrograms of its own space: G.fit_data, .encode_real (real sounds), .to_wave
    output_bias: bool = False  # G may hold a learned output bias (G.init_output_bias), on when its config's is
    classifier: bool = False  # D has an auxiliary-classifier head, D.classify (AC-GAN)
    sized_to_budget: bool = False  # --size-to-budget's candidates (commands/sizing.py) are sizes of this family

    def __post_init__(self) -> None:
        # A declaration the networks cannot keep is a programming error, caught when the family is defined.
        if self.sampler.endswith("_ema") and self.sampler.removesuffix("_ema") not in self.ema:
            raise ValueError(f"family {self.name}: sampler {self.sampler!r} is an EMA copy that ema={self.ema} "
                             "does not make")
        if self.output_bias and "output_bias" not in {f.name for f in dataclasses.fields(self.config)}:
            raise ValueError(f"family {self.name}: output_bias needs an output_bias field in {self.config.__name__}")

    def make_config(self, **options: Any):
        """The family's config from the options it knows (others are ignored)."""
        known = {f.name for f in dataclasses.fields(self.config)}
        try:
            return self.config(**{k: v for k, v in options.items() if k in known})
        except (ValueError, TypeError) as exc:
            raise UsageError(f"architecture {self.name}: {exc}", "prepare the dataset at a size this architecture supports") from None

    def config_dict(self, cfg) -> dict:
        return dataclasses.asdict(cfg)

    def has_output_bias(self, cfg) -> bool:
        """Whether the G that ``cfg`` builds holds a learned output bias (checkpoints before it have none)."""
        return self.output_bias and bool(cfg.output_bias)

    def sampler_weights(self, models: dict[str, dict]) -> dict:
        """The weights of the network inference uses among a checkpoint's networks (empty when absent)."""
        return models.get(self.sampler, {})

    def generator(self, cfg) -> nn.Module:
        """A fresh network of the kind inference uses (its weights are the ``sampler`` entry)."""
        return self.build(cfg)[self.sampler.removesuffix("_ema")]
