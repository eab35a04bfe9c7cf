"""Model families: a name maps to a config dataclass and the named networks built from it.

A family says which of its networks get an EMA copy (``ema``: "G" gives "G_ema"), which network
samplers use (``sampler``), what it takes (``inputs``) and makes (``modality``), and what its networks
can do (``styles``, ``spectral``, ...: models/family.py), which callers ask instead of probing a network. Checkpoints store the
family name and its config as JSON; ``Family.build`` rebuilds the networks from them, so no code is
ever pickled. A new family is a new file with its config, networks and ``FAMILY``, plus one line here
(and, for an ``--arch`` family, its options in options/families.py).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import UsageError
from ..options.catalog import ARCHITECTURES as CATALOG_ARCHITECTURES
from . import cyclegan, dcgan, esrgan, musegan, pix2pix, specgan, style, toy_mlp, wavegan
from .family import Family


FAMILIES: dict[str, Family] = {f.name: f for f in (dcgan.FAMILY, style.FAMILY, toy_mlp.FAMILY, pix2pix.FAMILY,
                                                 cyclegan.FAMILY, esrgan.FAMILY, wavegan.FAMILY, specgan.FAMILY,
                                                 musegan.FAMILY)}
# The families ``artforge train --arch`` offers: those with options of their own (options/families.py's
# FAMILY_OPTIONS, the torch-free list the CLI reads), in its order.
ARCHITECTURES: dict[str, Family] = {name: FAMILIES[name] for name in CATALOG_ARCHITECTURES}


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise UsageError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}", "use one of them, e.g. dcgan")
    return FAMILIES[name]


def get_architecture(name: str) -> Family:
    if name not in ARCHITECTURES:
        raise UsageError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}",
                         "use one of them, e.g. dcgan")
    return ARCHITECTURES[name]


def sampler_weights(name: str, models: dict[str, dict]) -> dict:
    """The weights of family ``name``'s ``sampler`` among a checkpoint's networks; empty for an unknown
    family, so that loading reports it as it reports every checkpoint that does not fit its family."""
    family = FAMILIES.get(name) if isinstance(name, str) else None
    return family.sampler_weights(models) if family else {}


def make_config(name: str, **options: Any):
    return get_architecture(name).make_config(**options)


def build(name: str, cfg) -> dict[str, nn.Module]:
    """The named networks of family ``name`` built from its config."""
    return get_family(name).build(cfg)
