"""The torch-free catalog names exactly what each registry holds, in the same order."""

from __future__ import annotations

from artforge.options import catalog


def test_each_catalog_tuple_is_its_registry_keys():
    from artforge.ops.augment import AUGMENTS
    from artforge.losses import LOSSES
    from artforge.recipes import RECIPES
    from artforge.sample_filters import SCORERS
    from artforge.ops.augment import D_AUGMENT_POLICIES, D_AUGMENTS

    assert catalog.LOSSES == tuple(LOSSES)
    assert catalog.RECIPES == tuple(RECIPES)
    assert catalog.SAMPLE_FILTERS == tuple(SCORERS)
    assert catalog.D_AUGMENT_POLICIES == tuple(D_AUGMENT_POLICIES)
    assert catalog.D_AUGMENTS == tuple(D_AUGMENTS)
    assert catalog.AUGMENTS == tuple(AUGMENTS)


def test_the_arch_families_are_families_that_make_latent_driven_items():
    """models.registry.ARCHITECTURES is read from the catalog (the families with options of their own): each
    is a family whose networks draw from latents, as --arch's generation task trains them."""
    from artforge.models.registry import ARCHITECTURES, FAMILIES

    assert tuple(ARCHITECTURES) == catalog.ARCHITECTURES == ("dcgan", "style", "wavegan", "specgan", "musegan")
    assert all(FAMILIES[name].inputs[0] == "latent" for name in catalog.ARCHITECTURES)


def test_family_modalities_are_the_records():
    from artforge.models.registry import FAMILIES

    made_and_learned = {name: tuple(dict.fromkeys((f.modality, f.trains_on))) for name, f in FAMILIES.items()}
    assert catalog.FAMILY_MODALITIES == made_and_learned


def test_config_choices_come_from_the_catalog():
    from artforge.options import TrainConfig
    from artforge.options.names import registry

    assert registry("d_augment") == catalog.D_AUGMENT_POLICIES + catalog.D_AUGMENTS
    assert TrainConfig(dataset="x", d_augment="bgc,cutout").d_augment == ("bgc", "cutout")
