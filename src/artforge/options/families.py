"""Each model family's own options (``--arch NAME``): one dataclass a family, its defaults and presets beside it.

A family's options are a section of their own: ``artforge train --arch NAME --help`` lists them, a run
saves them (and only them) beside the engine's and its task's, and an option of another family is
refused. The API takes them as keywords beside the training options (``artforge.train(ds, width=48)``).
Options two families share (``z_dim``, ``width``, ...) default to None, "this family's own value", which
``defaults()`` gives: DCGAN's numbers, the style ``--preset``'s, the sound families'. ``network=False``
marks an option the family's training reads (``pl_weight``) rather than its networks' config.

Adding a family: a dataclass here (or in a module of its own) and one line in ``FAMILY_OPTIONS``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ..errors import UsageError
from .fields import choice, fraction, is_number, non_negative, option, positive_int


def _size(text: str, default):
    return option(None, f"{text} (default: {default})")


def _check_sizes(opts, *names: str) -> None:
    for name in names:
        value = getattr(opts, name)
        if value is not None:
            positive_int(value, name, minimum=0 if name == "mbstd_group" else 1)


class FamilyOptions:
    """What every family's options dataclass offers the train command."""

    recipe: ClassVar[str]  # the recipe the family trains with when --recipe is not given
    makes: ClassVar[tuple[str, ...]] = ("image",)  # the modalities it makes and learns from (catalog.py)
    DEFAULTS: ClassVar[dict] = {}

    def defaults(self) -> dict:
        """The values its options take when left unset (None)."""
        return dict(self.DEFAULTS)

    def default_recipe(self) -> str:
        return self.recipe

    def network_options(self) -> dict:
        """The options its networks' config takes (what options.json keeps under "model"), unset ones filled."""
        defaults = self.defaults()
        return {f.name: defaults.get(f.name) if getattr(self, f.name) is None else getattr(self, f.name)
                for f in dataclasses.fields(self) if f.metadata["network"]}


@dataclass(frozen=True)
class DCGANOptions(FamilyOptions):
    """``--arch dcgan`` (models/dcgan.py): the sizes and normalization of its networks."""

    DEFAULTS: ClassVar[dict] = {"z_dim": 128, "width": 32, "max_width": 512, "mbstd_group": 4}
    recipe: ClassVar[str] = "stable"

    z_dim: int | None = _size("latent size", 128)
    width: int | None = _size("base channel count of G and D (channels double as resolution halves); "
                              "with --minutes, dcgan is sized to the machine unless given (see --size-to-budget)", 32)
    max_width: int | None = _size("cap on channel count", 512)
    mbstd_group: int | None = _size("D sees the standard deviation of its features across groups "
                                    "of this many images, so it can tell a collapsed G (0: off)", 4)
    output_bias: bool = option(True, "G adds a learned per-pixel bias to its output, started at the training "
                               "images' mean image, so backgrounds and layout are right from the first step")
    d_norm: str | None = option(None, "normalization in D (recipe)", choices=("batch", "layer", "spectral", "none"))
    g_spectral: bool | None = option(None, "spectral normalization in G too (recipe)")

    def __post_init__(self):
        _check_sizes(self, "z_dim", "width", "max_width", "mbstd_group")
        if self.d_norm is not None:
            choice(self.d_norm, "d_norm", ("batch", "layer", "spectral", "none"))


# --preset of --arch style: lite learns something useful at 64 px in the demo's CPU minutes; small
# and base are GPU sizes (base is StyleGAN2's config-e scale). Options given win over the preset.
STYLE_PRESETS: dict[str, dict] = {
    "lite": dict(z_dim=128, w_dim=128, mapping_layers=2, width=16, max_width=64, mbstd_group=4, pl_weight=0.0,
                 convs_per_level=2, d_arch="strided", output_bias_level=2, mapping_lr_mul=0.01,
                 upsample="transposed", class_gain=1.0),
    "small": dict(z_dim=256, w_dim=256, mapping_layers=4, width=64, max_width=256, mbstd_group=4, pl_weight=2.0,
                  convs_per_level=2, d_arch="resnet", output_bias_level=2, mapping_lr_mul=0.01,
                  upsample="transposed", class_gain=1.0),
    "base": dict(z_dim=512, w_dim=512, mapping_layers=8, width=128, max_width=512, mbstd_group=4, pl_weight=2.0,
                 convs_per_level=2, d_arch="resnet", output_bias_level=2, mapping_lr_mul=0.01,
                 upsample="transposed", class_gain=1.0),
}
PRESET_RECIPES = {"lite": "style-cpu"}  # the presets whose recipe is not the family's (stylegan2)
PRESET_DEFAULT = "the preset's"


@dataclass(frozen=True)
class StyleOptions(FamilyOptions):
    """``--arch style`` (models/style.py): a ``--preset`` of sizes, each option given wins over it."""

    recipe: ClassVar[str] = "stylegan2"

    z_dim: int | None = _size("latent size", PRESET_DEFAULT)
    width: int | None = _size("base channel count of G and D (channels double as resolution halves)",
                              PRESET_DEFAULT)
    max_width: int | None = _size("cap on channel count", PRESET_DEFAULT)
    mbstd_group: int | None = _size("D sees the standard deviation of its features across groups "
                                    "of this many images, so it can tell a collapsed G (0: off)", PRESET_DEFAULT)
    preset: str = option("lite", "named size: lite (CPU minutes at 64 px), small, base (GPU sizes); the "
                         "options below given explicitly win", choices=tuple(STYLE_PRESETS), network=False)
    w_dim: int | None = option(None, "style vector size (default: the preset's)")
    mapping_layers: int | None = option(None, "layers of the mapping network z -> w (default: the preset's)")
    mapping_lr_mul: float | None = option(None, "the mapping network's learning rate as a share of G's "
                                          "(default: the preset's, StyleGAN2's 0.01 for all three)")
    class_gain: float | None = option(None, "size of the class (or self-conditioning cluster) embedding at the "
                                      "mapping network's input relative to z's: 1 (StyleGAN2-ADA's) conditions G "
                                      "on the class as strongly as on z from the first step; less leaves each class "
                                      "more variety (default: the preset's, 1 for all three; docs/style.md)")
    convs_per_level: int | None = option(None, "modulated 3x3 convolutions per resolution: 2 as in StyleGAN2, "
                                         "1 (the upsampling one only) for half the cost (default: the preset's)",
                                         choices=(1, 2))
    d_arch: str | None = option(None, "D design: resnet (StyleGAN2's residual D, equalized learning rate) or "
                                "strided (residual 4x4 strided blocks with batch norm at DCGAN's learning rate; "
                                "fast on CPUs) (default: the preset's)", choices=("resnet", "strided"))
    upsample: str | None = option(None, "how G doubles the resolution: transposed (a stride-2 transposed 3x3 "
                                  "convolution then a [1,3,3,1] blur, StyleGAN2's order: a quarter of the work) or "
                                  "bilinear (bilinear upsampling then the 3x3 convolution; the same function but "
                                  "at the 2-pixel border) (default: the preset's)", choices=("bilinear", "transposed"))
    output_bias_level: int | None = option(None, "resolution level of G's learned output bias, bilinearly "
                                           "upsampled to the image: 0 is the 4x4 base, 2 is 16x16 (layout and "
                                           "background only), -1 full resolution (default: the preset's, 2)")
    noise: bool = option(True, "per-pixel noise inputs with learned strengths in every G layer (random in "
                         "training, fixed when sampling)")
    style_mixing: float = option(0.9, "probability that a training image takes its styles from two latents, "
                                 "switching at a random layer (style-mixing regularization)", network=False)
    pl_weight: float | None = option(None, "path-length regularization weight, 0 off (default: the preset's: "
                                     "lite 0, small and base 2)", network=False)
    pl_interval: int = option(4, "steps between lazy path-length regularization steps", network=False)

    def __post_init__(self):
        _check_sizes(self, "z_dim", "width", "max_width", "mbstd_group", "w_dim", "mapping_layers")
        choice(self.preset, "preset", tuple(STYLE_PRESETS))
        if self.output_bias_level is not None:
            positive_int(self.output_bias_level, "output_bias_level", minimum=-1)
        if self.mapping_lr_mul is not None and (not is_number(self.mapping_lr_mul)
                                                or not 0 < self.mapping_lr_mul <= 1):
            raise UsageError(f"--mapping-lr-mul must be in (0, 1], got {self.mapping_lr_mul!r}",
                             "pass e.g. --mapping-lr-mul 0.01 (StyleGAN2's)")
        if self.class_gain is not None and (not is_number(self.class_gain) or not 0 < self.class_gain <= 1):
            raise UsageError(f"--class-gain must be in (0, 1], got {self.class_gain!r}",
                             "pass e.g. --class-gain 0.2, or 1 (StyleGAN2-ADA's)")
        fraction(self.style_mixing, "style_mixing")
        if self.pl_weight is not None:
            non_negative(self.pl_weight, "pl_weight")
        positive_int(self.pl_interval, "pl_interval")

    def defaults(self) -> dict:
        return dict(STYLE_PRESETS[self.preset])

    def default_recipe(self) -> str:
        return PRESET_RECIPES.get(self.preset, self.recipe)


# WaveGAN's and SpecGAN's: the paper's z, and d = 16 (the paper's 64 is a GPU size). Sounds: the paper's
# WGAN-GP (--recipe wavegan) learnt nothing in 4 CPU minutes on the drums; wavegan-cpu did.
SOUND_DEFAULTS = {"z_dim": 100, "width": 16}


@dataclass(frozen=True)
class WaveGANOptions(FamilyOptions):
    """``--arch wavegan`` (models/wavegan.py): one-shot sounds as waveforms."""

    DEFAULTS: ClassVar[dict] = SOUND_DEFAULTS
    recipe: ClassVar[str] = "wavegan-cpu"
    makes: ClassVar[tuple[str, ...]] = ("audio",)

    z_dim: int | None = _size("latent size", SOUND_DEFAULTS["z_dim"])
    width: int | None = _size("base channel count of G and D", SOUND_DEFAULTS["width"])
    phase_shuffle: int = option(2, "D shifts its activations by a random -n..n samples after each layer, so it "
                                "cannot judge sounds by G's upsampling artefacts (0: off)")

    def __post_init__(self):
        _check_sizes(self, "z_dim", "width")
        positive_int(self.phase_shuffle, "phase_shuffle", minimum=0)


@dataclass(frozen=True)
class SpecGANOptions(FamilyOptions):
    """``--arch specgan`` (models/specgan.py): one-shot sounds as spectrograms."""

    DEFAULTS: ClassVar[dict] = SOUND_DEFAULTS
    recipe: ClassVar[str] = "wavegan-cpu"
    makes: ClassVar[tuple[str, ...]] = ("spectrogram", "audio")  # it learns spectrograms and makes sounds

    z_dim: int | None = _size("latent size", SOUND_DEFAULTS["z_dim"])
    width: int | None = _size("base channel count of G and D", SOUND_DEFAULTS["width"])
    griffin_lim_iters: int = option(32, "iterations of Griffin-Lim phase recovery when turning spectrograms into "
                                    "sound (more: cleaner, slower)")

    def __post_init__(self):
        _check_sizes(self, "z_dim", "width")
        positive_int(self.griffin_lim_iters, "griffin_lim_iters")


@dataclass(frozen=True)
class MuseGANOptions(FamilyOptions):
    """``--arch musegan`` (models/musegan.py): multi-track piano rolls; its z is made of --part-dim parts."""

    DEFAULTS: ClassVar[dict] = {"width": 32}
    recipe: ClassVar[str] = "musegan-cpu"
    makes: ClassVar[tuple[str, ...]] = ("pianoroll",)

    width: int | None = _size("base channel count of G and D", 32)
    part_dim: int = option(32, "size of each of MuseGAN's latent parts: shared, shared over time, and per track "
                           "a private and a temporal one (z has part-dim x (2 + 2 x tracks) numbers)")

    def __post_init__(self):
        _check_sizes(self, "width")
        positive_int(self.part_dim, "part_dim")


# Each family --arch offers and its options; catalog.ARCHITECTURES is its keys (models/registry.py's
# ARCHITECTURES, in order: tests/test_catalog.py checks). A new family: its dataclass and one line here.
FAMILY_OPTIONS: dict[str, type] = {"dcgan": DCGANOptions, "style": StyleOptions, "wavegan": WaveGANOptions,
                                   "specgan": SpecGANOptions, "musegan": MuseGANOptions}
