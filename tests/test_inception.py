"""Tests of the FID Inception-v3 (metrics/inception.py), with made-up weights: nothing is downloaded."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from artforge.errors import ArtforgeError, CheckpointError, MissingDependency
from artforge.metrics import inception as inc
from artforge.metrics.inception import (
    RESIZE,
    WEIGHTS_FILE,
    WEIGHTS_URL,
    FIDInceptionV3,
    find_weights,
    inception_features,
    load_inception,
    preprocess,
)

from conftest import gen

pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------------------- layout

# Keys and shapes of pytorch-fid's pt_inception-2015-12-05-6726825d.pth (torchvision's Inception3
# names with aux_logits=False and num_classes=1008; shapes from its architecture).
KNOWN_KEYS = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_1a_3x3.bn.weight": (32,),
    "Conv2d_1a_3x3.bn.running_var": (32,),
    "Conv2d_2a_3x3.conv.weight": (32, 32, 3, 3),
    "Conv2d_2b_3x3.conv.weight": (64, 32, 3, 3),
    "Conv2d_3b_1x1.conv.weight": (80, 64, 1, 1),
    "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
    "Mixed_5b.branch1x1.conv.weight": (64, 192, 1, 1),
    "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch3x3dbl_3.conv.weight": (96, 96, 3, 3),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
    "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
    "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
    "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
    "Mixed_7b.branch3x3_2b.conv.weight": (384, 384, 3, 1),
    "Mixed_7b.branch3x3dbl_1.conv.weight": (448, 1280, 1, 1),
    "Mixed_7c.branch3x3dbl_3a.bn.running_mean": (384,),
    "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


def _convs() -> list[tuple[int, int, int, int]]:
    """Every convolution as (in, out, kh, kw), written out independently of the module."""
    convs = [(3, 32, 3, 3), (32, 32, 3, 3), (32, 64, 3, 3), (64, 80, 1, 1), (80, 192, 3, 3)]
    for cin, pool in [(192, 32), (256, 64), (288, 64)]:  # Mixed_5b/c/d
        convs += [(cin, 64, 1, 1), (cin, 48, 1, 1), (48, 64, 5, 5),
                  (cin, 64, 1, 1), (64, 96, 3, 3), (96, 96, 3, 3), (cin, pool, 1, 1)]
    convs += [(288, 384, 3, 3), (288, 64, 1, 1), (64, 96, 3, 3), (96, 96, 3, 3)]  # Mixed_6a
    for c7 in (128, 160, 160, 192):  # Mixed_6b..6e
        convs += [(768, 192, 1, 1), (768, c7, 1, 1), (c7, c7, 1, 7), (c7, 192, 7, 1),
                  (768, c7, 1, 1), (c7, c7, 7, 1), (c7, c7, 1, 7), (c7, c7, 7, 1), (c7, 192, 1, 7),
                  (768, 192, 1, 1)]
    convs += [(768, 192, 1, 1), (192, 320, 3, 3),  # Mixed_7a
              (768, 192, 1, 1), (192, 192, 1, 7), (192, 192, 7, 1), (192, 192, 3, 3)]
    for cin in (1280, 2048):  # Mixed_7b, 7c
        convs += [(cin, 320, 1, 1), (cin, 384, 1, 1), (384, 384, 1, 3), (384, 384, 3, 1),
                  (cin, 448, 1, 1), (448, 384, 3, 3), (384, 384, 1, 3), (384, 384, 3, 1), (cin, 192, 1, 1)]
    return convs


def test_state_dict_has_the_pytorch_fid_layout():
    sd = FIDInceptionV3().state_dict()
    for key, shape in KNOWN_KEYS.items():
        assert tuple(sd[key].shape) == shape, key
    assert not any(k.startswith("AuxLogits") for k in sd)
    top = {"Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
           "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
           "Mixed_7a", "Mixed_7b", "Mixed_7c", "fc"}
    assert {k.split(".")[0] for k in sd} == top
    # 94 conv+BN units, each conv.weight + bn.{weight, bias, running_mean, running_var, num_batches_tracked}
    assert len(_convs()) == 94
    assert len(sd) == 94 * 6 + 2
    assert sum(k.endswith("num_batches_tracked") for k in sd) == 94


def test_parameter_count():
    n = sum(p.numel() for p in FIDInceptionV3().parameters())
    # Independent count: conv weights (no bias) + BN gamma/beta per conv, + the 1008-way fc.
    layer_by_layer = sum(o * i * kh * kw + 2 * o for i, o, kh, kw in _convs()) + 2048 * 1008 + 1008
    assert n == layer_by_layer == 23_850_960
    # Cross-check with torchvision's published count for inception_v3 (27,161,264: with the aux
    # classifier and 1000 classes): drop the aux head, widen fc from 1000 to 1008 classes.
    aux = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
    assert 27_161_264 - aux + 8 * (2048 + 1) == n


# ----------------------------------------------------------------------------- pooling variants


@pytest.mark.parametrize("block, in_ch, pool", [
    ("Mixed_5b", 192, "avg"), ("Mixed_6b", 768, "avg"), ("Mixed_7b", 1280, "avg"), ("Mixed_7c", 2048, "max"),
])
def test_pool_branch_matches_the_tf_graph(block, in_ch, pool):
    """A/C/E_1 average without counting the padding; E_2 (Mixed_7c) max-pools."""
    mod = getattr(FIDInceptionV3(), block).eval()
    out_ch = mod.branch_pool.conv.out_channels
    with torch.no_grad():
        w = torch.zeros_like(mod.branch_pool.conv.weight)
        w[:, :out_ch, 0, 0] = torch.eye(out_ch)  # pool branch passes the first channels through
        mod.branch_pool.conv.weight.copy_(w)
        bn = mod.branch_pool.bn
        bn.weight.fill_(1), bn.bias.zero_(), bn.running_mean.zero_(), bn.running_var.fill_(1)
        x = torch.rand(1, in_ch, 6, 6, generator=gen(3)) + 0.1  # positive: the ReLU changes nothing
        got = mod(x)[:, -out_ch:]
        pooled = (F.avg_pool2d(x, 3, 1, 1, count_include_pad=False) if pool == "avg"
                  else F.max_pool2d(x, 3, 1, 1))
        want = pooled[:, :out_ch] / math.sqrt(1 + 0.001)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- weights file


def fake_state_dict(seed: int = 0, with_counters: bool = True) -> dict[str, torch.Tensor]:
    """Random weights of the right shapes, scaled so activations stay O(1) through 94 layers."""
    g = gen(seed)
    sd = {}
    for key, t in FIDInceptionV3().state_dict().items():
        if key.endswith("num_batches_tracked"):
            if with_counters:
                sd[key] = torch.tensor(0)
        elif key.endswith("conv.weight") or key == "fc.weight":
            fan_in = t[0].numel()
            sd[key] = torch.randn(t.shape, generator=g) * math.sqrt(2 / fan_in)
        elif key.endswith("running_var"):
            sd[key] = torch.rand(t.shape, generator=g) + 0.5
        elif key.endswith("bn.weight"):
            sd[key] = 1 + 0.1 * torch.randn(t.shape, generator=g)
        else:  # bn.bias, running_mean, fc.bias
            sd[key] = 0.1 * torch.randn(t.shape, generator=g)
    return sd


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / WEIGHTS_FILE
    torch.save(fake_state_dict(), path)
    return path


@pytest.fixture(scope="module")
def model(weights_file):
    return load_inception(weights_file)


def images_uint8(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), generator=gen(seed), dtype=torch.uint8)


def test_load_gives_a_frozen_eval_model_with_the_file_weights(model):
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    torch.testing.assert_close(model.fc.bias, fake_state_dict()["fc.bias"], rtol=0, atol=0)


def test_features_shapes_determinism_and_batch_independence(model):
    x = images_uint8(4)
    a = inception_features(model, x, batch_size=4)
    assert a["pool"].shape == (4, 2048) and a["logits"].shape == (4, 1008)
    assert a["pool"].dtype == a["logits"].dtype == torch.float32
    assert a["pool"].device.type == "cpu"
    assert torch.isfinite(a["pool"]).all() and a["pool"].abs().max() > 0  # can fail: all-zero features would make the batch check below vacuous
    b = inception_features(model, x, batch_size=2)  # two batches of 2
    torch.testing.assert_close(b["pool"], a["pool"], rtol=0, atol=1e-4)
    torch.testing.assert_close(b["logits"], a["logits"], rtol=0, atol=1e-4)
    again = inception_features(model, x[:2], batch_size=2)  # same input twice -> identical
    assert torch.equal(again["pool"], b["pool"][:2]) and torch.equal(again["logits"], b["logits"][:2])


def test_logits_are_fc_of_pool(model):
    out = inception_features(model, images_uint8(1, seed=5))
    torch.testing.assert_close(out["logits"], model.fc(out["pool"]))


@pytest.mark.parametrize("variant", ["no_batch_counters", "legacy_serialization"])
def test_file_variants_load(tmp_path, variant):
    """With or without BatchNorm's num_batches_tracked, and in the pre-1.6 (non-zip) torch.save
    format that a 2019 file may use."""
    path = tmp_path / f"{variant}.pth"
    if variant == "no_batch_counters":
        torch.save(fake_state_dict(with_counters=False), path)
    else:
        torch.save(fake_state_dict(), path, _use_new_zipfile_serialization=False)
    m = load_inception(path)
    assert int(m.Conv2d_1a_3x3.bn.num_batches_tracked) == 0
    torch.testing.assert_close(m.fc.bias, fake_state_dict()["fc.bias"], rtol=0, atol=0)


def _assert_one_line_naming(exc: ArtforgeError, path):
    text = str(exc)
    assert "\n" not in text
    assert str(path) in text


def test_missing_key_is_a_one_line_error_naming_the_file(tmp_path):
    sd = fake_state_dict()
    del sd["Mixed_6c.branch7x7_2.conv.weight"]
    path = tmp_path / "missing.pth"
    torch.save(sd, path)
    with pytest.raises(CheckpointError) as info:
        load_inception(path)
    _assert_one_line_naming(info.value, path)
    assert "Mixed_6c.branch7x7_2.conv.weight" in str(info.value)


def test_wrong_shape_is_a_one_line_error_naming_the_file(tmp_path):
    sd = fake_state_dict()
    sd["fc.weight"] = torch.zeros(1000, 2048)  # torchvision's 1000-way classifier
    sd["fc.bias"] = torch.zeros(1000)
    path = tmp_path / "torchvision.pth"
    torch.save(sd, path)
    with pytest.raises(CheckpointError) as info:
        load_inception(path)
    _assert_one_line_naming(info.value, path)
    assert "fc.weight" in str(info.value) and "(1008, 2048)" in str(info.value)


def test_extra_keys_are_refused(tmp_path):
    sd = fake_state_dict()
    sd["AuxLogits.fc.weight"] = torch.zeros(1008, 768)
    path = tmp_path / "aux.pth"
    torch.save(sd, path)
    with pytest.raises(CheckpointError, match="AuxLogits"):
        load_inception(path)


@pytest.mark.parametrize("content", ["garbage", "list", "object"])
def test_unreadable_or_non_state_dict_files_are_refused(tmp_path, content):
    path = tmp_path / f"{content}.pth"
    if content == "garbage":
        path.write_bytes(b"this is not a torch file")
    elif content == "list":
        torch.save([torch.zeros(1)], path)
    else:  # a pickled object other than tensors: weights_only refuses to unpickle it
        import fractions
        torch.save({"fc.weight": fractions.Fraction(1, 3)}, path)
    with pytest.raises(CheckpointError) as info:
        load_inception(path)
    _assert_one_line_naming(info.value, path)


# ----------------------------------------------------------------------------- find_weights


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Three candidate files, the hub cache redirected into tmp_path, the env var cleared."""
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.delenv(inc.WEIGHTS_ENV, raising=False)
    cached = hub / "checkpoints" / WEIGHTS_FILE
    explicit = tmp_path / "explicit.pth"
    from_env = tmp_path / "env.pth"
    return explicit, from_env, cached


def test_find_weights_order(places, monkeypatch):
    explicit, from_env, cached = places
    for p in places:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    monkeypatch.setenv(inc.WEIGHTS_ENV, str(from_env))
    assert find_weights(explicit) == explicit
    assert find_weights(str(explicit)) == explicit
    assert find_weights() == from_env
    monkeypatch.delenv(inc.WEIGHTS_ENV)
    assert find_weights() == cached


def test_missing_weights_error_says_what_to_download_and_where(places):
    explicit, from_env, cached = places
    with pytest.raises(MissingDependency) as info:
        find_weights()
    text = str(info.value)
    assert "\n" not in text
    assert "Inception weights" in info.value.message and str(cached) in info.value.message
    assert WEIGHTS_URL in info.value.fix and WEIGHTS_FILE in info.value.fix
    assert str(cached) in info.value.fix
    assert inc.WEIGHTS_ENV in info.value.fix and "--inception-weights" in info.value.fix


def test_a_named_location_that_does_not_exist_is_an_error(places, monkeypatch):
    explicit, from_env, cached = places
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")  # present, but the user asked for another file
    with pytest.raises(MissingDependency) as info:
        find_weights(explicit)
    assert str(explicit) in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv(inc.WEIGHTS_ENV, str(from_env))
    with pytest.raises(MissingDependency, match=inc.WEIGHTS_ENV):
        find_weights()


def test_load_inception_without_weights_raises_missing_dependency(places):
    with pytest.raises(MissingDependency):
        load_inception()


# ----------------------------------------------------------------------------- preprocess


def test_preprocess_shape_and_range():
    images = images_uint8(2, size=64)
    x = preprocess(images)
    assert x.shape == (2, 3, 299, 299) and x.dtype == torch.float32
    # pytorch-fid's path written out: bytes / 255, bilinear without antialiasing nor corner alignment, 2x - 1
    spec = torch.nn.functional.interpolate(images.float() / 255, size=(299, 299), mode="bilinear",
                                           align_corners=False, antialias=False) * 2 - 1
    torch.testing.assert_close(x, spec, rtol=0, atol=1e-6)
    # Black and white reach -1 and 1, up to the float rounding of the bilinear weights (which
    # pytorch-fid has too: no clamping, to stay bit-identical with it).
    extremes = preprocess(torch.tensor([0, 255], dtype=torch.uint8).view(1, 1, 1, 2).expand(1, 3, 8, 2))
    assert abs(extremes.min() + 1) < 1e-6 and abs(extremes.max() - 1) < 1e-6


def test_preprocess_at_299_only_rescales_exactly():
    x = images_uint8(2, size=299, seed=1)
    assert torch.equal(preprocess(x), 2 * (x.float() / 255) - 1)


def test_preprocess_repeats_grayscale():
    gray = images_uint8(2, size=40, seed=2)[:, :1]
    out = preprocess(gray)
    assert out.shape == (2, 3, 299, 299)
    assert torch.equal(out, preprocess(gray.repeat(1, 3, 1, 1)))
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])


def test_preprocess_keeps_a_constant_image_constant():
    x = torch.full((1, 3, 37, 53), 200, dtype=torch.uint8)
    out = preprocess(x)
    torch.testing.assert_close(out, torch.full_like(out, 2 * 200 / 255 - 1), rtol=0, atol=1e-6)


def test_preprocess_is_pytorch_fids_bilinear_resize():
    x = images_uint8(1, size=128, seed=4)
    ref = F.interpolate(x.float() / 255, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
    assert torch.equal(preprocess(x), ref)
    assert RESIZE == "bilinear-torch-align_corners=False"


@pytest.mark.parametrize("bad", [
    torch.zeros(1, 3, 8, 8),  # float, not uint8
    torch.zeros(1, 8, 8, 3, dtype=torch.uint8),  # channels last
    torch.zeros(3, 8, 8, dtype=torch.uint8),  # no batch dimension
])
def test_preprocess_refuses_other_layouts(bad):
    with pytest.raises(ValueError):
        preprocess(bad)
