"""CycleGAN's and ESRGAN's networks: shapes, the residual structure, network interpolation."""

import pytest
import torch

from artforge.models.cyclegan import CycleGANConfig, build as build_cyclegan
from artforge.models.esrgan import ESRGANConfig, RRDBNet, build as build_esrgan, interpolate_weights


def test_cyclegan_builds_two_generators_and_two_patch_discriminators():
    nets = build_cyclegan(CycleGANConfig(resolution=32, width=4, blocks=2, d_width=4, channels_a=1))
    G, D = nets["G"], nets["D"]
    a, b = torch.rand(2, 1, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    assert G(a).shape == b.shape and G.ba(b).shape == a.shape
    assert torch.equal(G(a), G.ab(a)) and torch.equal(D(b), D.b(b))
    assert D.a(a).shape[:2] == (2, 1) and D.b(b).shape[:2] == (2, 1)
    assert G(torch.rand(1, 1, 48, 64)).shape == (1, 3, 48, 64)  # any multiple of 4, non-square


def test_cyclegan_refuses_sizes_it_cannot_make():
    with pytest.raises(ValueError, match="multiple of 4"):
        CycleGANConfig(resolution=30)


@pytest.mark.parametrize("scale", [2, 4])
def test_the_rrdb_net_upscales_by_its_scale(scale):
    G = RRDBNet(ESRGANConfig(scale=scale, width=8, blocks=2, growth=4))
    assert G(torch.rand(2, 3, 12, 20)).shape == (2, 3, 12 * scale, 20 * scale)


def test_a_dense_block_feeds_every_conv_all_earlier_outputs_and_scales_its_residual():
    from torch.nn import functional as F
    from artforge.models.esrgan import RRDB, DenseBlock
    torch.manual_seed(0)
    block, x = DenseBlock(6, 3), torch.randn(2, 6, 5, 5)
    feats = [x]
    for conv in block.convs[:4]:
        feats.append(F.leaky_relu(F.conv2d(torch.cat(feats, 1), conv.weight, conv.bias, padding=1), 0.2))
    last = F.conv2d(torch.cat(feats, 1), block.convs[4].weight, block.convs[4].bias, padding=1)
    torch.testing.assert_close(block(x), x + 0.2 * last)
    rrdb = RRDB(6, 3)
    torch.testing.assert_close(rrdb(x), x + 0.2 * rrdb.blocks[2](rrdb.blocks[1](rrdb.blocks[0](x))))


def test_network_interpolation_is_weightwise_and_ends_at_each_model():
    cfg = ESRGANConfig(width=4, blocks=1, growth=4)
    torch.manual_seed(0)
    a = build_esrgan(cfg)["G"].state_dict()
    b = build_esrgan(cfg)["G"].state_dict()
    assert all(torch.equal(interpolate_weights(a, b, 0.0)[k], a[k]) for k in a)
    assert all(torch.equal(interpolate_weights(a, b, 1.0)[k], b[k]) for k in a)
    mid = interpolate_weights(a, b, 0.25)
    assert all(torch.allclose(mid[k], 0.75 * a[k] + 0.25 * b[k]) for k in a)
    with pytest.raises(ValueError, match="strength"):
        interpolate_weights(a, b, 1.5)
    with pytest.raises(ValueError, match="same weights"):
        interpolate_weights(a, {k: v for k, v in list(b.items())[1:]}, 0.5)


def test_esrgan_refuses_other_scales():
    with pytest.raises(ValueError, match="scale"):
        ESRGANConfig(scale=3)


def test_the_rrdb_net_adds_its_detail_to_the_bicubic_upscale():
    import torch.nn.functional as F
    torch.manual_seed(0)
    G = RRDBNet(ESRGANConfig(scale=4, width=4, blocks=1, growth=4))
    plain = RRDBNet(ESRGANConfig(scale=4, width=4, blocks=1, growth=4, skip=False))
    plain.load_state_dict(G.state_dict())
    x = torch.rand(1, 3, 6, 5) * 2 - 1
    bicubic = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    torch.testing.assert_close(G(x), plain(x) + bicubic)
    with torch.no_grad():
        G.to_rgb.weight.zero_(), G.to_rgb.bias.zero_()
    torch.testing.assert_close(G(x), bicubic)  # no detail learnt yet: exactly bicubic
