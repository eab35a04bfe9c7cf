"""The pix2pix networks: U-Net shapes and skips, the PatchGAN's receptive field measured, dropout noise."""

import pytest
import torch

from artforge.models.pix2pix import Pix2PixConfig, PatchDiscriminator, UNetGenerator, build, receptive_field


@pytest.mark.parametrize("res,depth", [(8, 3), (64, 6), (256, 8), (512, 8)])
def test_the_unet_keeps_the_shape_and_goes_down_to_its_depth(res, depth):
    cfg = Pix2PixConfig(resolution=res, width=4, max_width=16, channels_in=1, channels_out=3, d_layers=1)
    G = UNetGenerator(cfg).eval()
    assert cfg.depth == depth and len(G.down) == len(G.up) == depth
    x = torch.rand(2, 1, res, res) * 2 - 1
    y = G(x)
    assert y.shape == (2, 3, res, res) and y.abs().max() <= 1


def test_the_skips_carry_the_input_to_the_output():
    """The outermost skip concatenates the first level's features: with every deeper level's output
    zeroed, the output still depends on the input."""
    cfg = Pix2PixConfig(resolution=32, width=4, max_width=8)
    G = UNetGenerator(cfg).eval()
    with torch.no_grad():
        for p in G.up[1].parameters():
            p.zero_()
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    G(x).sum().backward()
    assert x.grad.abs().sum() > 0  # can fail: without the outer skip no gradient reaches x


@pytest.mark.parametrize("layers,field", [(3, 70), (1, 16), (2, 34), (4, 142)])
def test_the_patch_receptive_field_is_the_stated_one_and_what_gradients_show(layers, field):
    D = PatchDiscriminator(6, width=4, max_width=8, layers=layers, norm="none")
    assert D.receptive_field == field
    with torch.no_grad():  # positive weights and slopes: no cancellation hides a pixel's influence
        for p in D.parameters():
            p.abs_().add_(0.01)
    x = torch.rand(1, 6, 256, 256, requires_grad=True)
    out = D(x)
    cy, cx = out.shape[2] // 2, out.shape[3] // 2
    out[0, 0, cy, cx].backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero()
    assert rows.max() - rows.min() + 1 == field


def test_receptive_field_formula():
    assert receptive_field([(3, 1)]) == 3
    assert receptive_field([(4, 2), (4, 2)]) == 10


def test_dropout_is_the_noise_two_passes_in_training_mode_differ_in_eval_mode_agree():
    cfg = Pix2PixConfig(resolution=64, width=4, max_width=16)
    G = UNetGenerator(cfg)
    x = torch.rand(2, 3, 64, 64)
    G.train()
    assert not torch.equal(G(x), G(x))
    G.eval()
    assert torch.equal(G(x), G(x))
    assert sum(isinstance(m, torch.nn.Dropout) for m in G.modules()) == 3  # can fail: a count
    assert not any(isinstance(m, torch.nn.Dropout) for m in UNetGenerator(Pix2PixConfig(resolution=64, dropout=0)).modules())  # can fail: dropout 0 keeps none


def test_build_names_G_and_D_and_bad_configs_are_refused():
    nets = build(Pix2PixConfig(resolution=32, width=4))
    assert set(nets) == {"G", "D"}
    with pytest.raises(ValueError, match="power-of-two"):
        Pix2PixConfig(resolution=48)
    with pytest.raises(ValueError, match="norm"):
        Pix2PixConfig(norm="group")
    with pytest.raises(ValueError, match="3-layer PatchGAN needs images of 32 px"):
        Pix2PixConfig(resolution=16)
