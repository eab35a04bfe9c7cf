"""Tests of the DCGAN networks (models/dcgan.py) and the architecture registry (models/registry.py)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from artforge.errors import UsageError
from artforge.models import registry
from artforge.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, init_dcgan_weights

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: threads only cost time


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def seeded(seed=0):
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("resolution", [16, 32, 64, 128, 256])
@pytest.mark.parametrize("channels", [3, 1])
def test_output_shapes(resolution, channels):
    seeded()
    cfg = DCGANConfig(resolution=resolution, channels=channels, z_dim=16, width=8)
    g, d = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    z = torch.randn(2, 16)
    with torch.no_grad():
        x = g(z)
        assert x.shape == (2, channels, resolution, resolution)
        logits = d(x)
    assert logits.shape == (2,)  # one logit per image
    assert torch.isfinite(logits).all()


def test_generator_output_is_bounded_even_for_huge_z():
    seeded()
    g = DCGANGenerator(DCGANConfig(resolution=32, z_dim=8, width=8))
    with torch.no_grad():
        x = g(torch.randn(4, 8) * 1e3)
    assert x.min() >= -1 and x.max() <= 1  # can fail: without its tanh, G's output at z * 1e3 is far outside
    assert x.std() > 0  # can fail: not a constant image, though saturated


def test_widths():
    assert DCGANConfig(resolution=64, width=64).widths() == [512, 256, 128, 64]
    assert DCGANConfig(resolution=16, width=8).widths() == [16, 8]
    assert DCGANConfig(resolution=256, width=64, max_width=512).widths() == [512, 512, 512, 256, 128, 64]


def test_max_width_caps_channels():
    cfg = DCGANConfig(resolution=64, width=64, max_width=128, z_dim=10)
    g, d = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            assert m.in_channels <= 128 and m.out_channels <= 128
    assert g.project[0].out_channels == 128
    assert d.to_logit.in_channels == 128
    assert cfg.widths() == [128, 128, 128, 64]


# ----------------------------------------------------------------------------- parameter count


def convt_params(cin, cout, k=4):
    return cin * cout * k * k  # bias=False


def conv_params(cin, cout, k=4):
    return cin * cout * k * k  # bias=False


def bn_params(c):
    return 2 * c  # weight and bias (running stats are buffers)


def test_parameter_counts_match_official_pytorch_dcgan_example():
    # github.com/pytorch/examples dcgan/main.py with nz=100, ngf=ndf=64, nc=3
    g_expected = (convt_params(100, 512) + bn_params(512) + convt_params(512, 256) + bn_params(256)
                  + convt_params(256, 128) + bn_params(128) + convt_params(128, 64) + bn_params(64)
                  + convt_params(64, 3))
    d_expected = (conv_params(3, 64) + conv_params(64, 128) + bn_params(128) + conv_params(128, 256)
                  + bn_params(256) + conv_params(256, 512) + bn_params(512) + conv_params(512, 1))
    assert g_expected == 3_576_704  # the numbers the official example prints
    assert d_expected == 2_765_568
    cfg = DCGANConfig(resolution=64, channels=3, z_dim=100, width=64)
    g, d = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    assert n_params(g) == g_expected
    assert n_params(d) == d_expected
    # same layer list: no conv has a bias
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            assert m.bias is None


# ----------------------------------------------------------------------------- config validation


@pytest.mark.parametrize("resolution", [48, 8, 1024, 0, -64, 100])
def test_invalid_resolution_raises(resolution):
    with pytest.raises(ValueError):
        DCGANConfig(resolution=resolution)
    with pytest.raises(UsageError, match="architecture dcgan"):
        registry.make_config("dcgan", resolution=resolution)


@pytest.mark.parametrize("resolution", [16, 32, 512])
def test_valid_resolution_accepted(resolution):
    assert DCGANConfig(resolution=resolution).resolution == resolution


# ----------------------------------------------------------------------------- conditional


def cond_models(num_classes=3):
    seeded(1)
    cfg = DCGANConfig(resolution=16, z_dim=8, width=8, num_classes=num_classes, embed_dim=4)
    return cfg, DCGANGenerator(cfg), DCGANDiscriminator(cfg)


def test_conditional_models_need_labels():
    cfg, g, d = cond_models()
    z = torch.randn(2, 8)
    with pytest.raises(ValueError):
        g(z)
    with pytest.raises(ValueError):
        d(torch.zeros(2, 3, 16, 16))


def test_conditional_labels_change_outputs():
    cfg, g, d = cond_models()
    g.eval(), d.eval()  # batch norm from running stats: outputs are per sample
    z = torch.randn(1, 8).repeat(3, 1)
    c = torch.tensor([0, 1, 2])
    with torch.no_grad():
        x = g(z, c)
        assert not torch.allclose(x[0], x[1]) and not torch.allclose(x[1], x[2])
        # the same label gives the same image
        assert torch.allclose(g(z, torch.tensor([1, 1, 1]))[0], x[1])
        img = x[:1].repeat(3, 1, 1, 1)
        logits = d(img, c)
        assert logits.shape == (3,)
        assert len(set(logits.tolist())) == 3
    # the embedding table has the expected size
    assert g.embed.weight.shape == (3, 4)
    assert g.project[0].in_channels == 8 + 4


def test_conditional_d_logit_is_unconditional_logit_plus_projection():
    cfg, g, d = cond_models()
    d.eval()
    x = torch.randn(2, 3, 16, 16)
    c = torch.tensor([2, 0])
    with torch.no_grad():
        h = d.blocks(d.from_image(x))
        base = d.to_logit(h).flatten()
        proj = (d.embed.weight[c] * h.sum(dim=(2, 3))).sum(dim=1)
        assert torch.allclose(d(x, c), base + proj, atol=1e-5)


def test_unconditional_models_have_no_embedding():
    cfg = DCGANConfig(resolution=16, z_dim=8, width=8)
    assert DCGANGenerator(cfg).embed is None and DCGANDiscriminator(cfg).embed is None


# ----------------------------------------------------------------------------- init


def test_weight_init_statistics():
    seeded(0)
    cfg = DCGANConfig(resolution=64, z_dim=100, width=64)
    for net in (DCGANGenerator(cfg), DCGANDiscriminator(cfg)):
        conv = [m.weight.detach().flatten() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        w = torch.cat(conv)
        assert w.std().item() == pytest.approx(0.02, rel=0.02)
        assert abs(w.mean().item()) < 1e-3
        bn = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        bw = torch.cat([m.weight.detach() for m in bn])
        assert bw.mean().item() == pytest.approx(1.0, abs=0.005)
        assert bw.std().item() == pytest.approx(0.02, rel=0.15)
        assert all(torch.all(m.bias == 0) for m in bn)


def test_init_function_on_single_layers():
    seeded(0)
    emb = nn.Embedding(1000, 100)
    init_dcgan_weights(emb)
    assert emb.weight.std().item() == pytest.approx(0.02, rel=0.03)
    lin = nn.Linear(10, 10)
    before = lin.weight.clone()
    init_dcgan_weights(lin)  # not touched
    assert torch.equal(before, lin.weight)


# ----------------------------------------------------------------------------- registry


def test_registry_unknown_arch():
    with pytest.raises(UsageError, match="stylegan9"):
        registry.get_architecture("stylegan9")
    with pytest.raises(UsageError):
        registry.make_config("stylegan9", resolution=64)
    with pytest.raises(UsageError):
        registry.build("stylegan9", DCGANConfig())


def test_make_config_ignores_unknown_options():
    cfg = registry.make_config("dcgan", resolution=32, channels=1, z_dim=12, width=8, lr_g=0.1, dataset="x")
    assert cfg == DCGANConfig(resolution=32, channels=1, z_dim=12, width=8)


def test_build_returns_the_family_s_named_networks():
    nets = registry.build("dcgan", DCGANConfig(resolution=16, z_dim=8, width=8))
    assert list(nets) == ["G", "D"]
    assert isinstance(nets["G"], DCGANGenerator) and isinstance(nets["D"], DCGANDiscriminator)  # can fail: miswired family
    family = registry.get_family("dcgan")
    assert family.ema == ("G",) and family.sampler == "G_ema" and family.modality == "image"
    assert isinstance(family.generator(DCGANConfig(resolution=16, z_dim=8, width=8)), DCGANGenerator)  # can fail: miswired
    assert "dcgan" in registry.ARCHITECTURES  # can fail: a family the CLI does not offer


# Each family's smallest config, for the tests that build every family.
TINY = {"dcgan": dict(resolution=16, z_dim=8, width=8), "toy": dict(z_dim=8, hidden=8),
        "style": dict(resolution=16, z_dim=8, w_dim=8, width=8, mapping_layers=2),
        "pix2pix": dict(resolution=32, width=8), "cyclegan": dict(resolution=32, width=4, blocks=1, d_width=4),
        "esrgan": dict(scale=2, width=4, blocks=1, growth=4, d_width=4),
        "wavegan": dict(width=2, z_dim=8), "specgan": dict(width=2, z_dim=8),
        "musegan": dict(resolution=16, bars=2, channels=2, pitches=24, part_dim=4, width=4)}


def test_every_family_builds_what_it_declares():
    """The shared test every family passes: its networks, EMA sources and sampler exist and run."""
    import torch
    from artforge.modality import MODALITIES
    small = TINY
    assert set(small) == set(registry.FAMILIES)  # a new family adds its tiny config here
    for name, family in registry.FAMILIES.items():
        cfg = family.config(**small[name])
        nets = family.build(cfg)
        assert set(family.ema) <= set(nets) and family.sampler.removesuffix("_ema") in nets  # can fail: a declared net not built
        assert family.modality in MODALITIES and family.config_dict(cfg) == dataclasses.asdict(cfg)
        G, D = family.generator(cfg), nets["D"]
        if "latent" in family.inputs:
            out = G(torch.randn(3, cfg.z_dim))
            assert out.shape[0] == 3 and torch.isfinite(out).all()
            assert D(out).shape == (3,)
        else:  # image to image: G maps an input image; D scores patches of (input, output) pairs or outputs
            channels_in = getattr(cfg, "channels_in", None) or getattr(cfg, "channels_a", None) or cfg.channels
            side, scale = getattr(cfg, "resolution", 16), getattr(cfg, "scale", 1)
            x = torch.rand(3, channels_in, side, side) * 2 - 1
            out = G(x)
            assert out.shape[0] == 3 and out.shape[2:] == (side * scale, side * scale) and torch.isfinite(out).all()
            scored = torch.cat([x, out], dim=1) if name == "pix2pix" else out
            assert D(scored).shape[:2] == (3, 1)


# Each capability a Family declares, the network that has it and the attributes callers then use; a
# family that does not declare it has none of them (so no caller needs to probe a network).
CAPABILITIES = {
    "styles": ("G", ("map", "synthesis", "broadcast", "num_ws")),
    "spectral": ("G", ("fit_data", "encode_real", "to_wave")),
    "output_bias": ("G", ("init_output_bias", "output_bias")),
    "classifier": ("D", ("classify",)),
}


def test_every_family_declares_what_its_networks_can_do():
    """A declaration cannot drift from the networks: each capability <=> its network's attributes."""
    assert set(CAPABILITIES) | {"sized_to_budget"} == {
        f.name for f in dataclasses.fields(registry.Family) if f.type in (bool, "bool")}  # a new capability adds its row
    for name, family in registry.FAMILIES.items():
        nets = family.build(family.config(**TINY[name]))
        for capability, (net, attributes) in CAPABILITIES.items():
            found = {attr: hasattr(nets[net], attr) for attr in attributes}
            declared = getattr(family, capability)
            assert found == dict.fromkeys(attributes, declared), f"{name}: {capability}={declared} but {net} has {found}"
        if family.styles:
            assert nets["G"].num_ws == family.config(**TINY[name]).num_ws > 0  # what style mixing needs


@pytest.mark.parametrize("name", [n for n, f in registry.FAMILIES.items() if f.output_bias])
def test_has_output_bias_follows_the_config_as_g_does(name):
    family = registry.get_family(name)
    for on in (True, False):
        cfg = family.config(**TINY[name], output_bias=on)
        assert family.has_output_bias(cfg) is on
        G = family.build(cfg)["G"]
        assert [p.shape[0] for n, p in G.named_parameters() if n == "output_bias"] == ([cfg.channels] if on else [])


def test_budget_sizing_applies_to_dcgan_alone_and_its_candidates_build():
    from artforge.commands import sizing
    sized = [name for name, family in registry.FAMILIES.items() if family.sized_to_budget]
    assert sized == ["dcgan"]  # as before the declaration: a style run takes its --preset's size
    params = [n_params(registry.build("dcgan", registry.make_config("dcgan", **{**TINY["dcgan"], "width": c.width}))["G"])
              for c in sizing.CANDIDATES]  # widest first
    assert params == sorted(params, reverse=True) and len(set(params)) == len(params)


def test_sampler_weights_are_the_family_s_sampler_entry():
    models = {"G": {"w": 1}, "D": {"w": 2}, "G_ema": {"w": 3}}
    assert registry.sampler_weights("dcgan", models) == {"w": 3}
    assert registry.sampler_weights("stylegan9", models) == {}  # unknown: the loader names it
    assert registry.sampler_weights(["dcgan"], models) == {}  # a damaged checkpoint's family
    assert registry.get_family("toy").sampler_weights({"G": {}}) == {}


def test_family_refuses_declarations_its_networks_cannot_keep():
    base = dict(name="x", build=None, inputs=("latent",), modality="image", summary="")
    with pytest.raises(ValueError, match="sampler 'D_ema'"):
        registry.Family(config=DCGANConfig, ema=("G",), sampler="D_ema", **base)
    from artforge.models.wavegan import WaveGANConfig
    with pytest.raises(ValueError, match="output_bias field in WaveGANConfig"):
        registry.Family(config=WaveGANConfig, ema=("G",), sampler="G_ema", output_bias=True, **base)
    assert registry.Family(config=DCGANConfig, ema=("G",), sampler="G_ema", output_bias=True, **base).output_bias


# ----------------------------------------------------------------------------- memory format


@pytest.mark.parametrize("train", [False, True])
def test_channels_last_matches_contiguous(train):
    seeded(3)
    cfg = DCGANConfig(resolution=32, z_dim=16, width=8)
    g, d = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    g.train(train), d.train(train)
    z = torch.randn(4, 16)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        x_ref, d_ref = g(z), d(x)
    g_cl = g.to(memory_format=torch.channels_last)
    d_cl = d.to(memory_format=torch.channels_last)
    with torch.no_grad():
        x_cl = g_cl(z)
        d_out = d_cl(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(x_cl, x_ref, atol=1e-5)
    assert torch.allclose(d_out, d_ref, atol=1e-5)
    assert d_out.shape == (4,)


def test_backward_reaches_every_parameter():
    seeded(4)
    cfg = DCGANConfig(resolution=16, z_dim=8, width=8, num_classes=2, embed_dim=4)
    g, d = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    c = torch.tensor([0, 1, 1])
    d(g(torch.randn(3, 8), c), c).sum().backward()
    for net in (g, d):
        for name, p in net.named_parameters():
            assert p.grad is not None, name  # can fail: a parameter off the graph has no gradient
