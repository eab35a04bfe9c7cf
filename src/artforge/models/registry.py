"""Architecture registry: a name maps to (config class, generator class, discriminator class).

Checkpoints store the architecture name and its config as JSON; ``build`` rebuilds the networks
from them, so no code is ever pickled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..errors import UsageError
from . import dcgan


@dataclass(frozen=True)
class Architecture:
    name: str
    config: type
    generator: type
    discriminator: type
    summary: str


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("dcgan", dcgan.DCGANConfig, dcgan.DCGANGenerator, dcgan.DCGANDiscriminator,
                     "DCGAN (Radford et al. 2015): transposed convolutions, batch norm; 16-512 px"),
    )
}


def get_architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise UsageError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}",
                         "pass --arch dcgan")
    return ARCHITECTURES[name]


def make_config(name: str, **options: Any):
    """The architecture's config from the options it knows (others are ignored)."""
    arch = get_architecture(name)
    known = {f.name for f in dataclasses.fields(arch.config)}
    try:
        return arch.config(**{k: v for k, v in options.items() if k in known})
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--arch {name}: {exc}", "prepare the dataset at a supported --size") from None


def build(name: str, cfg) -> tuple[nn.Module, nn.Module]:
    arch = get_architecture(name)
    return arch.generator(cfg), arch.discriminator(cfg)
