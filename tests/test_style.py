"""The style-based family: its pieces against direct math, its shapes, and training on the engine."""

import dataclasses
import math

import pytest
import torch
from torch.nn import functional as F

from artforge.models.dcgan import group_std
from artforge.models.style import (EqualLinear, ModulatedConv2d, StridedResidualBlock, StyleConfig,
                                   StyleDiscriminator, StyleGenerator, build, mix_styles, modulated_weight,
                                   transposed_upsample_conv)
from conftest import TINY, gen


def test_modulated_convolution_equals_the_direct_formula():
    """Per sample: w'_oik = s_i w_oik / sqrt(sum_ik (s_i w_oik)^2 + eps), then a plain convolution."""
    torch.manual_seed(0)
    conv = ModulatedConv2d(5, 7, 3, w_dim=6)
    x, w = torch.randn(3, 5, 8, 8, generator=gen(1)), torch.randn(3, 6, generator=gen(2))
    out = conv(x, w)
    styles = conv.affine(w)
    for b in range(3):
        weight = conv.weight * conv.scale * styles[b][None, :, None, None]
        norm = torch.sqrt((weight ** 2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        expected = F.conv2d(x[b:b + 1], weight / norm, padding=1)
        torch.testing.assert_close(out[b:b + 1], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("channels_last", [False, True])
def test_the_transposed_upsampling_convolution_is_bilinear_upsampling_then_the_convolution(channels_last):
    """Away from the 2-pixel border, where bilinear upsampling repeats the edge and the blur sees zeros."""
    x, weight = torch.randn(2, 5, 6, 7, generator=gen(3)), torch.randn(4, 5, 3, 3, generator=gen(4))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    out = transposed_upsample_conv(x, weight)
    expected = F.conv2d(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), weight, padding=1)
    assert out.shape == expected.shape == (2, 4, 12, 14)
    torch.testing.assert_close(out[..., 2:-2, 2:-2], expected[..., 2:-2, 2:-2], rtol=1e-5, atol=1e-5)
    assert (out - expected).abs().amax() > 1e-2  # the border does differ: a different function there


def test_a_modulated_upsampling_layer_gives_the_same_interior_either_way():
    torch.manual_seed(0)
    conv = ModulatedConv2d(5, 7, 3, w_dim=6, input_gain=math.sqrt(2))
    x, w, bias = torch.randn(3, 5, 8, 8, generator=gen(5)), torch.randn(3, 6, generator=gen(6)), torch.randn(7, 1, 1)
    bilinear, transposed = conv(x, w, bias, upsample="bilinear"), conv(x, w, bias, upsample="transposed")
    assert transposed.shape == bilinear.shape == (3, 7, 16, 16)
    torch.testing.assert_close(transposed[..., 2:-2, 2:-2], bilinear[..., 2:-2, 2:-2], rtol=1e-5, atol=1e-5)


def test_the_upsampling_option_is_validated_and_old_configs_keep_bilinear():
    assert StyleConfig().upsample == "bilinear"  # a checkpoint saved before the option rebuilds as it was
    G = StyleGenerator(StyleConfig(resolution=16, width=4, max_width=8, z_dim=8, w_dim=8, upsample="transposed"))
    assert [layer.upsample for layer in G.layers] == [None, "transposed", None, "transposed", None]
    with pytest.raises(ValueError, match="upsample must be one of bilinear, transposed"):
        StyleConfig(upsample="nearest")


def _textbook_synthesis(G: StyleGenerator, ws: torch.Tensor) -> torch.Tensor:
    """StyleGAN2's synthesis written plainly from G's parameters: per-sample modulated weights,
    noise, bias, leaky ReLU times sqrt(2) after every layer, skip RGB outputs (eval-mode noise)."""
    def modconv(conv, x, w, demodulate, pad):
        out = []
        for b in range(len(x)):
            weight = conv.weight * conv.scale * conv.affine(w[b:b + 1])[0][None, :, None, None]
            if demodulate:
                weight = weight / torch.sqrt(weight.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
            out.append(F.conv2d(x[b:b + 1], weight, padding=pad))
        return torch.cat(out)

    x, rgb, i = G.const.expand(len(ws), -1, -1, -1), None, 0
    for level in range(G.cfg.levels):
        for _ in range(2 if level else 1):
            layer = G.layers[i]
            if layer.upsample:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = modconv(layer.conv, x, ws[:, i], True, 1) + layer.noise_const * layer.noise_strength
            x = F.leaky_relu(x + layer.bias[None, :, None, None], 0.2) * math.sqrt(2)
            i += 1
        y = modconv(G.to_rgb[level], x, ws[:, i - 1], False, 0) + G.rgb_bias[level][None, :, None, None]
        rgb = y if rgb is None else F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) + y
    return rgb + G.output_bias * 0.02


def _textbook_discriminator(D: StyleDiscriminator, x: torch.Tensor) -> torch.Tensor:
    """The residual D with its activation gains and 1/sqrt(2) applied to the tensors, as published."""
    def conv(layer, h, stride, pad, bias=True):
        return F.conv2d(h, layer.weight / math.sqrt(layer.weight[0].numel()), layer.bias if bias else None, stride, pad)

    def act(h):
        return F.leaky_relu(h, 0.2) * math.sqrt(2)

    h = act(conv(D.from_rgb, x, 1, 0))
    for block in D.blocks:
        y = act(conv(block.conv2, act(conv(block.conv1, h, 1, 1)), 2, 1))
        h = (y + conv(block.skip, h, 2, 0, bias=False)) / math.sqrt(2)
    std = group_std(h, D.cfg.mbstd_group)[:, None, None, None].expand(len(h), 1, *h.shape[2:])
    h = act(conv(D.conv, torch.cat([h, std], dim=1), 1, 1)).flatten(1)
    h = act(F.linear(h, D.fc.weight / math.sqrt(h.shape[1]), D.fc.bias))
    return F.linear(h, D.out.weight / math.sqrt(h.shape[1]), D.out.bias).flatten()


def test_the_strided_d_reads_the_minibatch_std_as_an_extra_channel_of_its_logit_layer():
    """Its shortcut (std times the channel's weight sum, no concatenation) equals the layer on [features, std map]."""
    D = build(StyleConfig(resolution=32, z_dim=8, w_dim=8, width=4, max_width=8, d_arch="strided"))["D"].eval()
    x = torch.rand(8, 3, 32, 32, generator=gen(3)) * 2 - 1
    with torch.no_grad():
        h = D._trunk(x)
        std = group_std(h, D.cfg.mbstd_group)[:, None, None, None].expand(len(h), 1, *h.shape[2:])
        torch.testing.assert_close(D(x), D.to_logit(torch.cat([h, std], dim=1)).flatten())


def test_rgb_layers_give_the_same_images_from_channels_last_and_default_layouts():
    """The 1x1 RGB layer reads channels-last input as (B, H*W, I) rows; the result must not depend on the layout."""
    rgb = ModulatedConv2d(8, 3, 1, 16, demodulate=False, input_gain=math.sqrt(2))
    x, w = torch.randn(4, 8, 16, 16, generator=gen(4)), torch.randn(4, 16, generator=gen(5))
    with torch.no_grad():
        plain = rgb(x, w)
        channels_last = rgb(x.contiguous(memory_format=torch.channels_last), w)
    assert channels_last.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(channels_last, plain)
    styles = rgb.affine(w) * math.sqrt(2)  # the per-sample 1x1 convolution, written out
    expected = torch.einsum("oi,bi,bihw->bohw", rgb.weight[:, :, 0, 0] * rgb.scale, styles, x)
    torch.testing.assert_close(plain, expected, rtol=1e-4, atol=1e-5)


def test_folded_gains_compute_the_textbook_networks():
    """G and D fold sqrt(2) gains into styles and weight scales; the functions must be unchanged."""
    torch.manual_seed(0)
    cfg = StyleConfig(resolution=16, z_dim=8, w_dim=8, width=4, max_width=8)
    G, D = StyleGenerator(cfg).eval(), StyleDiscriminator(cfg)
    with torch.no_grad():
        for p in [G.rgb_bias, G.output_bias] + [layer.noise_strength for layer in G.layers]:
            p.normal_()
        for layer in G.layers:
            layer.bias.normal_()
        ws = torch.randn(3, cfg.num_ws, cfg.w_dim, generator=gen(3))
        torch.testing.assert_close(G.synthesis(ws), _textbook_synthesis(G, ws), rtol=1e-4, atol=1e-4)
        x = torch.randn(4, 3, 16, 16, generator=gen(4))
        torch.testing.assert_close(D(x), _textbook_discriminator(D, x), rtol=1e-4, atol=1e-4)


def test_demodulation_gives_unit_output_variance_for_unit_input():
    weight = modulated_weight(torch.randn(64, 32, 3, 3, generator=gen(0)), torch.rand(2, 32, generator=gen(1)) + 0.5,
                              demodulate=True)
    assert torch.allclose(weight.square().sum(dim=(2, 3, 4)), torch.ones(2, 64), atol=1e-4)


def test_equalized_learning_rate_scales_at_run_time():
    layer = EqualLinear(16, 4, bias_init=1.0, lr_mul=0.01)
    x = torch.randn(5, 16, generator=gen(0))
    expected = x @ (layer.weight * 0.01 / math.sqrt(16)).T + layer.bias * 0.01
    torch.testing.assert_close(layer(x), expected)
    assert torch.allclose(layer.bias * 0.01, torch.ones(4))  # bias starts at its init, whatever lr_mul


@pytest.mark.parametrize("res", [8, 16, 32])
@pytest.mark.parametrize("classes", [0, 3])
@pytest.mark.parametrize("convs,d_arch,upsample", [(1, "strided", "transposed"), (2, "resnet", "bilinear"),
                                                (2, "strided", "transposed")])
def test_shapes_at_each_resolution(res, classes, convs, d_arch, upsample):
    cfg = StyleConfig(resolution=res, z_dim=8, w_dim=8, width=4, max_width=16, mapping_layers=2, num_classes=classes,
                      convs_per_level=convs, d_arch=d_arch, upsample=upsample)
    G, D = StyleGenerator(cfg), StyleDiscriminator(cfg)
    c = torch.tensor([0, 1, 2, 0]) if classes else None
    images = G(torch.randn(4, 8), c)
    assert images.shape == (4, 3, res, res)
    assert len(G.layers) == cfg.num_ws == 1 + convs * (cfg.levels - 1)
    assert [cfg.layer_level(i) for i in range(cfg.num_ws)] == [0] + [lv for lv in range(1, cfg.levels) for _ in range(convs)]
    assert sorted(sum((cfg.layer_group(g) for g in ("coarse", "middle", "fine")), [])) == list(range(cfg.num_ws))
    assert D(images, c).shape == (4,) and D.features(images).shape[0] == 4


def test_a_strided_residual_block_is_its_strided_branch_plus_a_pooled_skip():
    torch.manual_seed(0)
    block = StridedResidualBlock(3, 5).eval()  # batch norm with its running statistics (0 and 1 at start)
    x = torch.randn(2, 3, 8, 8, generator=gen(0))
    main = F.leaky_relu(F.conv2d(x, block.main[0].weight, stride=2, padding=1) / math.sqrt(1 + 1e-5), 0.2)
    pooled = (x[:, :, 0::2, 0::2] + x[:, :, 1::2, 0::2] + x[:, :, 0::2, 1::2] + x[:, :, 1::2, 1::2]) / 4
    skip = torch.einsum("oi,bihw->bohw", block.skip.weight[:, :, 0, 0], pooled)
    torch.testing.assert_close(block(x), main + skip, rtol=1e-5, atol=1e-5)


def test_eval_mode_is_deterministic_and_training_mode_adds_noise():
    cfg = StyleConfig(resolution=16, z_dim=8, w_dim=8, width=4, mapping_layers=2)
    G = StyleGenerator(cfg)
    for layer in G.layers:
        layer.noise_strength.data.fill_(0.5)
    z = torch.randn(2, 8, generator=gen(0))
    G.eval()
    assert torch.equal(G(z), G(z))  # the same latent, the same image (samplers rely on it)
    G.train()
    assert not torch.equal(G(z), G(z))


def test_without_noise_inputs_training_mode_is_deterministic_too():
    cfg = StyleConfig(resolution=16, z_dim=8, w_dim=8, width=4, mapping_layers=2, noise=False)
    G = StyleGenerator(cfg).train()
    z = torch.randn(2, 8, generator=gen(0))
    assert torch.equal(G(z), G(z))
    assert not any("noise" in name for name, _ in G.named_parameters())
    assert not any("noise" in name for name, _ in G.named_buffers())


def test_bad_resolution_is_refused():
    with pytest.raises(ValueError, match="power-of-two resolution"):
        StyleConfig(resolution=48)
    with pytest.raises(ValueError, match="16 times a power of two"):
        StyleConfig(resolution=48, aspect=(16, 9))


@pytest.mark.parametrize("aspect,res,shape", [((4, 3), 64, (48, 64)), ((3, 4), 32, (32, 24)),
                                              ((16, 9), 64, (36, 64)), ((3, 2), 24, (16, 24)), ((1, 1), 16, (16, 16))])
@pytest.mark.parametrize("upsample", ["bilinear", "transposed"])
def test_non_square_outputs_have_the_aspect_asked_for(aspect, res, shape, upsample):
    cfg = StyleConfig(resolution=res, z_dim=8, w_dim=8, width=4, max_width=16, mapping_layers=2, aspect=aspect,
                      upsample=upsample)
    G, D = StyleGenerator(cfg), StyleDiscriminator(cfg)
    images = G(torch.randn(3, 8, generator=gen(0)))
    assert images.shape == (3, 3, *shape) and cfg.image_shape == shape
    assert D(images).shape == (3,)
    assert build(dataclasses.replace(cfg, d_arch="strided"))["D"](images).shape == (3,)


@pytest.mark.parametrize("aspect,res,level,bias_shape", [((1, 1), 64, 2, (16, 16)), ((4, 3), 64, 2, (12, 16)),
                                                          ((1, 1), 8, 2, (8, 8)), ((1, 1), 32, -1, (32, 32))])
def test_a_coarse_output_bias_is_the_mean_image_averaged_down_and_upsampled_back(aspect, res, level, bias_shape):
    cfg = StyleConfig(resolution=res, z_dim=8, w_dim=8, width=4, max_width=8, aspect=aspect, output_bias_level=level)
    G = StyleGenerator(cfg).eval()
    assert G.output_bias.shape == (3, *bias_shape)
    mean = torch.rand(3, *cfg.image_shape, generator=gen(1)) * 2 - 1
    G.init_output_bias(mean)
    fy, fx = cfg.image_shape[0] // bias_shape[0], cfg.image_shape[1] // bias_shape[1]
    block_means = mean.reshape(3, bias_shape[0], fy, bias_shape[1], fx).mean(dim=(2, 4))  # independent of the pooling op
    torch.testing.assert_close(G.output_bias * 0.02, block_means)
    # Images move by exactly the bias, bilinearly upsampled: a constant bias adds that constant.
    ws = torch.randn(2, cfg.num_ws, cfg.w_dim, generator=gen(2))
    with torch.no_grad():
        before = G.synthesis(ws)
        G.output_bias.fill_(0.5 / 0.02)
        after = G.synthesis(ws)
        G.output_bias.zero_()
        torch.testing.assert_close(after - G.synthesis(ws), torch.full_like(before, 0.5))
        torch.testing.assert_close(G.output_bias_image(torch.float32)[0, :, 0, 0], torch.zeros(3))


def test_an_output_bias_level_below_minus_one_is_refused():
    with pytest.raises(ValueError, match="output_bias_level"):
        StyleConfig(output_bias_level=-2)


def test_w_plus_takes_one_style_per_layer_and_mixing_takes_the_layers_named():
    cfg = StyleConfig(resolution=32, z_dim=8, w_dim=8, width=4, max_width=16, mapping_layers=2)
    G = StyleGenerator(cfg).eval()
    assert cfg.num_ws == len(G.layers) == 7  # 4 px: one layer; 8, 16, 32 px: two each
    w = G.map(torch.randn(2, 8, generator=gen(0)))
    torch.testing.assert_close(G.synthesis(w), G.synthesis(G.broadcast(w)))  # w is w+ with equal rows
    a, b = G.broadcast(w[:1]), G.broadcast(w[1:])
    mixed = mix_styles(a, b, cfg.layer_group("coarse"))
    assert cfg.layer_group("coarse") == [0, 1, 2] and cfg.layer_group("middle") == [3, 4, 5, 6]
    assert torch.equal(mixed[0, :3], b[0, :3]) and torch.equal(mixed[0, 3:], a[0, 3:])
    # changing a fine layer's style leaves the coarse layers' activations alone: the image changes
    assert not torch.equal(G.synthesis(mixed), G.synthesis(a))


def test_layer_groups_cover_every_layer_once():
    for res, aspect in ((64, (1, 1)), (256, (1, 1)), (64, (4, 3))):
        cfg = StyleConfig(resolution=res, aspect=aspect)
        groups = [cfg.layer_group(g) for g in ("coarse", "middle", "fine")]
        assert sorted(i for g in groups for i in g) == list(range(cfg.num_ws))
        assert all(groups)


def test_the_style_family_trains_on_the_engine_and_resumes(blob_dataset, tmp_path):
    """A new family is a new file and one registry line: the engine and the generation task train it."""
    from artforge.options import TrainConfig
    from artforge.data.archive import open_dataset
    from artforge.models.registry import get_family
    from artforge.tasks.generation import GenerationTask
    from artforge.runs import checkpoint as ckpt
    from artforge.training.engine import Engine

    ds = open_dataset(blob_dataset)
    cfg = TrainConfig(dataset=str(blob_dataset), arch="style", steps=4, **{**TINY, "checkpoint_every": 4, "tick": 2}).resolved()
    model_cfg = StyleConfig(resolution=32, z_dim=16, w_dim=16, width=8, max_width=16, mapping_layers=2)

    def engine(resume=None, steps=4):
        import dataclasses
        run_cfg = dataclasses.replace(cfg, steps=steps)
        parts = run_cfg.sections()
        return Engine(parts, get_family("style"), model_cfg, GenerationTask(parts, ds, 0, 0), tmp_path, resume)

    status, path = engine().run()
    assert status == "finished" and path.name == "step-000004"
    assert (tmp_path / "grids" / "000004.png").exists()
    state = ckpt.load_checkpoint(path)["state"]
    assert state["family"] == "style" and state["model_config"]["w_dim"] == 16
    status, path = engine(resume=path, steps=6).run()
    assert path.name == "step-000006"
    weights = ckpt.load_checkpoint(path)["models"]["G_ema"]
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())


def test_path_lengths_equal_the_jacobian_transpose_product_of_a_linear_synthesis():
    """For images = A ws (a linear map), ||J^T y|| is ||A^T y|| per layer: checked against direct math."""
    from artforge.penalties import path_length_penalty, path_lengths
    A = torch.randn(3 * 4 * 4, 2 * 5, generator=gen(0))  # (C*H*W, L*D)
    ws = torch.randn(2, 2, 5, generator=gen(1), requires_grad=True)
    images = (ws.flatten(1) @ A.T).reshape(2, 3, 4, 4)
    noise = torch.randn(2, 3, 4, 4, generator=gen(2))
    lengths = path_lengths(images, ws, noise)
    y = noise.flatten(1) / 4  # / sqrt(H W)
    grad = (y @ A).reshape(2, 2, 5)
    torch.testing.assert_close(lengths, grad.square().sum(2).mean(1).sqrt())
    torch.testing.assert_close(path_length_penalty(lengths, torch.tensor(1.5)), ((lengths - 1.5) ** 2).mean())


def test_style_mixing_switches_to_the_second_latent_at_the_drawn_layer():
    from artforge.tasks.generation import StepContext
    cfg = StyleConfig(resolution=16, z_dim=8, w_dim=8, width=4, mapping_layers=2)
    G = StyleGenerator(cfg).eval()
    ctx = StepContext(G, None, None, iter(()), gen(0), torch.device("cpu"), 6, 8, style_mixing=1.0, shared=gen(5))
    z = torch.randn(6, 8, generator=gen(3))
    ws = ctx._mixed_styles(z, None)
    first = G.broadcast(G.map(z))
    for row in range(6):
        same = (ws[row] == first[row]).all(dim=1)  # which layers kept the first latent's w
        k = int(same.sum())
        assert 1 <= k < cfg.num_ws and same[:k].all() and not same[k:].any()  # a prefix, then the other latent
    never = StepContext(G, None, None, iter(()), gen(0), torch.device("cpu"), 6, 8, style_mixing=0.0, shared=gen(5))
    assert torch.equal(never._mixed_styles(z, None), first)


def test_a_style_run_with_mixing_and_path_length_resumes_exactly(blob_dataset, tmp_path, monkeypatch):
    """Straight to step 8 equals the same 8-step run stopped at step 5 (as Ctrl-C stops it) and resumed: the
    path-length mean is restored, and the recipe's learning-rate schedule (over the 8 steps) continues."""
    import artforge
    from artforge.runs import checkpoint as ckpt
    from artforge.training.engine import Engine
    from conftest import STYLE_TINY
    options = dict(STYLE_TINY, pl_weight=2.0, pl_interval=2, style_mixing=0.9, checkpoint_every=5, eval_images=0)
    straight = artforge.train(blob_dataset, out=tmp_path / "a", steps=8, **options)
    with monkeypatch.context() as m:
        m.setattr(Engine, "_done", lambda self, started: self.step >= 5)
        first = artforge.train(blob_dataset, out=tmp_path / "b", steps=8, **options)
    assert first.step == 5
    resumed = artforge.train(resume=first.run_dir, steps=8, progress=False)
    a, b = (ckpt.load_checkpoint(r.checkpoint) for r in (straight, resumed))
    assert a["state"]["task_state"]["path_length_mean"] == b["state"]["task_state"]["path_length_mean"] > 0
    for name in ("G", "D", "G_ema"):
        assert all(torch.equal(a["models"][name][k], b["models"][name][k]) for k in a["models"][name])


def test_a_style_run_with_minutes_keeps_its_preset_size(blob_dataset, tmp_path):
    """Budget sizing picks among DCGAN widths; a style run takes its --preset's size instead."""
    import json

    import artforge
    from artforge.options.families import STYLE_PRESETS
    options = {k: v for k, v in TINY.items() if k not in ("width", "batch", "z_dim")}
    result = artforge.train(blob_dataset, out=tmp_path, arch="style", minutes=0.01, **options)
    saved = json.loads((result.run_dir / "options.json").read_text())
    assert saved["sizing"] is None and saved["model"]["width"] == STYLE_PRESETS["lite"]["width"]
    assert saved["model"]["mapping_lr_mul"] == STYLE_PRESETS["lite"]["mapping_lr_mul"]


def test_the_mapping_rate_is_the_models_and_old_configs_keep_stylegan2s():
    from artforge.errors import UsageError
    from artforge.models.style import StyleGenerator

    assert StyleConfig().mapping_lr_mul == 0.01  # a checkpoint saved before the option rebuilds as it was
    G = StyleGenerator(StyleConfig(resolution=8, width=4, max_width=8, z_dim=8, w_dim=8, mapping_lr_mul=0.1))
    assert all(layer.lr_mul == 0.1 for layer in G.mapping)
    with pytest.raises(ValueError, match="mapping_lr_mul"):
        StyleConfig(mapping_lr_mul=0.0)
    import artforge
    with pytest.raises(UsageError, match="--mapping-lr-mul must be in"):
        artforge.train("nowhere.zip", arch="style", mapping_lr_mul=2.0)


def test_the_class_embedding_enters_the_mapping_network_at_class_gain_times_zs_size():
    """z and the class embedding are each normalized to unit RMS; the class part is then scaled by class_gain."""
    from artforge.errors import UsageError
    seen = {}
    for gain in (1.0, 0.2):
        G = StyleGenerator(StyleConfig(resolution=8, width=4, max_width=8, z_dim=16, w_dim=8, num_classes=5,
                                       class_gain=gain))
        G.mapping[0].register_forward_hook(lambda module, args, out: seen.update(x=args[0]))
        G.map(torch.randn(6, 16, generator=gen(0)) * 3, torch.arange(6) % 5)
        rms = lambda part: part.square().mean(dim=1).sqrt()
        torch.testing.assert_close(rms(seen["x"][:, :16]), torch.ones(6))
        torch.testing.assert_close(rms(seen["x"][:, 16:]), torch.full((6,), gain))
    assert StyleConfig().class_gain == 1.0  # a checkpoint saved before the option rebuilds as it was
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="class_gain must be in"):
            StyleConfig(class_gain=bad)
    import artforge
    with pytest.raises(UsageError, match="--class-gain must be in"):
        artforge.train("nowhere.zip", arch="style", class_gain=0)


def test_the_style_family_from_the_command_line(blob_dataset, tmp_path, capsys):
    """train --arch style, then export, sample the export, report: the commands a user runs."""
    from artforge.cli import main
    from artforge.sampling import load
    with pytest.raises(SystemExit):
        main(["train", "--arch", "style", "--help"])
    section = capsys.readouterr().out.split("options of --arch style:")[1]
    assert "--preset" in section and "--style-mixing" in section and "--width" in section
    args = ["train", str(blob_dataset), "--arch", "style", "--steps", "3", "--out", str(tmp_path / "runs"),
            "--width", "8", "--max-width", "16", "--w-dim", "16", "--z-dim", "16", "--batch", "8",
            "--eval-images", "16", "--quiet", "--device", "cpu", "--no-tensorboard"]
    assert main(args) == 0
    run = next((tmp_path / "runs").iterdir())
    assert run.name.endswith("-style")
    assert main(["export", str(run), "--out", str(tmp_path / "model")]) == 0
    assert main(["sample", str(tmp_path / "model"), "--seeds", "0-3", "--out", str(tmp_path / "s")]) == 0
    assert len(list((tmp_path / "s").glob("seed*.png"))) == 4
    assert main(["report", str(run)]) == 0 and (run / "report.html").exists()
    assert load(tmp_path / "model").has_styles
    assert main(["train", str(blob_dataset), "--arch", "dcgan", "--w-dim", "16", "--steps", "1"]) != 0
    assert "--w-dim is not an option of --arch dcgan" in capsys.readouterr().err


def test_a_style_run_made_before_the_mapping_rate_upsampling_and_class_gain_resumes_as_it_was(blob_dataset, tmp_path,
                                                                                               monkeypatch):
    """Its options.json has none of the three options: it resumes at the 1/100 mapping rate, with the bilinear
    upsampling and the full-size class embedding it was trained with, whatever the preset's defaults have
    become since (here 1/10, transposed, 0.2)."""
    import json

    import artforge
    from artforge.options.families import STYLE_PRESETS
    monkeypatch.setitem(STYLE_PRESETS, "lite", {**STYLE_PRESETS["lite"], "mapping_lr_mul": 0.1,
                                                "upsample": "transposed", "class_gain": 0.2})
    first = artforge.train(blob_dataset, out=tmp_path, arch="style", steps=2, mapping_lr_mul=0.01,
                           upsample="bilinear", class_gain=1.0, **TINY)
    options_path = first.run_dir / "options.json"
    options = json.loads(options_path.read_text())
    del options["options_format"]  # a run from before the options were split
    for name in ("mapping_lr_mul", "upsample", "class_gain"):
        del options["train"][name]
        options["model"].pop(name)
    options_path.write_text(json.dumps(options))
    resumed = artforge.train(resume=first.run_dir, steps=4, progress=False)
    assert resumed.step == 4
    restored = artforge.load(first.run_dir, checkpoint="latest", device="cpu")  # the resumed part's
    assert restored.model_config.mapping_lr_mul == 0.01 and restored.model_config.upsample == "bilinear"
    assert restored.model_config.class_gain == 1.0
