"""The names in each registry, without importing torch.

The registries themselves (models.registry, losses, recipes, sample_filters, ops.augment) hold networks
and functions and import torch, which takes seconds. Option choices and validation only need the names,
so ``artforge --help`` and ``--version`` read them from here. tests/test_catalog.py checks every tuple
against its registry's keys, in order, so they cannot drift.
"""

from __future__ import annotations

from .families import FAMILY_OPTIONS

ARCHITECTURES = tuple(FAMILY_OPTIONS)  # models.registry.ARCHITECTURES: the families --arch offers, by their options
LOSSES = ("minimax", "nonsaturating", "hinge", "wasserstein", "least-squares", "relativistic")  # losses.LOSSES
RECIPES = ("dcgan", "lsgan", "ragan", "wgan", "wgan-gp", "hinge-sn", "stable", "stylegan2", "style-cpu", "cyclegan",
           "esrgan", "wavegan", "wavegan-cpu", "musegan-cpu")  # recipes.RECIPES
SAMPLE_FILTERS = ("d", "jacobian")  # sample_filters.SCORERS
D_AUGMENT_POLICIES = ("diffaug", "bgc")  # ops.augment.D_AUGMENT_POLICIES
D_AUGMENTS = ("xflip", "rot90", "translation", "scale", "rotate", "brightness", "contrast", "saturation",
              "cutout")  # ops.augment.D_AUGMENTS
AUGMENTS = ("flip", "scale", "crop", "rotate", "transpose")  # ops.augment.AUGMENTS
EXTRACTORS = ("inception", "encoder", "random")  # metrics.extractors.make_extractor's names (or a network file)

# What options/names.py's ``registry(kind)`` looks up; d_augment takes a policy or an operation.
NAMES: dict[str, tuple[str, ...]] = {
    "arch": ARCHITECTURES,
    "loss": LOSSES,
    "recipe": RECIPES,
    "filter": SAMPLE_FILTERS,
    "d_augment": D_AUGMENT_POLICIES + D_AUGMENTS,
    "augment": AUGMENTS,
}

# What each model family makes and learns from (models.registry.FAMILIES: ``modality`` and ``trains_on``):
# what ``needs.py`` reads to find a run's modalities (and so its extras, modality.MODALITIES' ``extras``)
# before a command starts, without importing torch.
# The --arch families say it in their options (``makes``); the task families and the toy's are here.
FAMILY_MODALITIES: dict[str, tuple[str, ...]] = {
    **{name: options.makes for name, options in FAMILY_OPTIONS.items()},
    "toy": ("points", "image"), "pix2pix": ("image",), "cyclegan": ("image",), "esrgan": ("image",),
}
