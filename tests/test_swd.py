"""Tests of the multi-scale sliced Wasserstein distance (ops/swd.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from artforge.ops.swd import (
    _normalize,
    laplacian_pyramid,
    pyramid_down,
    pyramid_up,
    random_patches,
    sliced_wasserstein,
    swd,
)

from conftest import gen

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: threads only cost time

FAST = dict(patches_per_image=32, directions=64, repeats=1)


def images(n=8, c=3, size=32, seed=0, amplitude=1.0) -> torch.Tensor:
    """Smooth-ish random images in [-amplitude, amplitude]."""
    x = torch.rand(n, c, size, size, generator=gen(seed)) * 2 - 1
    return F.avg_pool2d(x, 3, 1, 1) * amplitude


# ----------------------------------------------------------------------------- pyramid


@pytest.mark.parametrize("size", [16, 32, 64])
def test_laplacian_pyramid_reconstructs_the_image(size):
    x = images(n=3, size=size, seed=1)
    levels = laplacian_pyramid(x, 16)
    assert [lv.shape[-1] for lv in levels] == [s for s in (64, 32, 16) if s <= size]
    y = levels[-1]
    for band in reversed(levels[:-1]):
        y = pyramid_up(y) + band
    assert y.shape == x.shape
    assert (y - x).abs().max().item() < 1e-5


def test_pyramid_level_shapes_and_lowpass():
    x = images(n=2, size=64, seed=2)
    levels = laplacian_pyramid(x, 8)
    assert [tuple(lv.shape) for lv in levels] == [(2, 3, 64, 64), (2, 3, 32, 32), (2, 3, 16, 16), (2, 3, 8, 8)]
    # the last level is the low-pass image: two blur-and-subsample steps of the input's 32 px level
    assert torch.allclose(levels[-1], pyramid_down(pyramid_down(pyramid_down(x))), atol=1e-6)


def test_constant_image_is_preserved_by_down_and_up():
    x = torch.full((1, 2, 16, 16), 0.37)
    assert torch.allclose(pyramid_down(x), torch.full((1, 2, 8, 8), 0.37), atol=1e-6)
    assert torch.allclose(pyramid_up(pyramid_down(x)), x, atol=1e-6)  # the x4 gain is right
    levels = laplacian_pyramid(x, 4)
    for band in levels[:-1]:
        assert band.abs().max() < 1e-6  # a flat image has no detail
    assert torch.allclose(levels[-1], torch.full((1, 2, 4, 4), 0.37), atol=1e-6)


def test_pyramid_down_is_a_binomial_blur_then_subsample():
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 8, 8] = 1.0
    k = np.array([1, 4, 6, 4, 1]) / 16
    want = np.zeros((16, 16))
    want[6:11, 6:11] = np.outer(k, k)  # the impulse response, away from the border
    assert np.allclose(pyramid_down(x)[0, 0].numpy(), want[::2, ::2], atol=1e-7)


# ----------------------------------------------------------------------------- patches


def test_random_patches_are_real_neighbourhoods():
    x = torch.arange(2 * 3 * 10 * 10, dtype=torch.float32).view(2, 3, 10, 10)
    p = random_patches(x, per_image=5, gen=gen(0))
    assert p.shape == (10, 3 * 7 * 7)
    for row, patch in enumerate(p):
        b = row // 5
        patch = patch.view(3, 7, 7)
        # locate it: its top-left value tells where it came from
        flat = int(patch[0, 0, 0].item()) - b * 300
        y, xx = divmod(flat, 10)
        assert torch.equal(patch, x[b, :, y:y + 7, xx:xx + 7])


def test_normalize_per_channel():
    d = torch.randn(500, 2 * 4, generator=gen(0)) * torch.tensor([3.0] * 4 + [0.5] * 4) + 7
    out = _normalize(d, 2).view(500, 2, 4)
    for c in range(2):
        assert out[:, c].mean().item() == pytest.approx(0.0, abs=1e-5)
        assert out[:, c].std().item() == pytest.approx(1.0, abs=1e-4)


# ----------------------------------------------------------------------------- sliced Wasserstein


def w1_numpy(a: np.ndarray, b: np.ndarray) -> float:
    """Exact 1-D Wasserstein-1 distance of two equal-size empirical distributions."""
    return float(np.mean(np.abs(np.sort(a) - np.sort(b))))


def test_sliced_wasserstein_hand_value_1d():
    a = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    b = torch.tensor([[5.0], [0.5], [1.0], [1.0]])
    # sorted b = 0.5, 1, 1, 5: |0-.5| + |1-1| + |2-1| + |3-5| = 3.5, / 4
    assert sliced_wasserstein(a, b, directions=8, repeats=3, gen=gen(0)) == pytest.approx(0.875, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sliced_wasserstein_matches_exact_w1_for_1d_descriptors(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, 300)
    b = rng.normal(0.7, 2, 300)
    got = sliced_wasserstein(torch.tensor(a)[:, None], torch.tensor(b)[:, None], 16, 2, gen(seed))
    assert got == pytest.approx(w1_numpy(a, b), rel=1e-9)


def test_sliced_wasserstein_uses_the_first_n_of_the_larger_set():
    a = torch.tensor([[0.0], [10.0], [20.0]])
    b = torch.tensor([[1.0], [11.0]])
    assert sliced_wasserstein(a, b, 4, 1, gen(0)) == pytest.approx(1.0)


def test_sliced_wasserstein_of_a_translation_is_mean_abs_projection():
    # b = a + v: each projection moves by d.v, so W1 = |d.v|; for d uniform on the sphere,
    # E|d.v| = 2|v|/pi in 2-D and |v|/2 in 3-D
    a2 = torch.randn(64, 2, generator=gen(0), dtype=torch.float64)
    v2 = torch.tensor([3.0, 4.0], dtype=torch.float64)
    got2 = sliced_wasserstein(a2, a2 + v2, directions=20_000, repeats=1, gen=gen(1))
    assert got2 == pytest.approx(2 * 5 / math.pi, rel=0.02)
    a3 = torch.randn(64, 3, generator=gen(0), dtype=torch.float64)
    v3 = torch.tensor([2.0, -1.0, 2.0], dtype=torch.float64)
    got3 = sliced_wasserstein(a3, a3 + v3, directions=20_000, repeats=1, gen=gen(1))
    assert got3 == pytest.approx(3 / 2, rel=0.02)


def test_sliced_wasserstein_identical_and_permuted_sets_are_zero():
    a = torch.randn(100, 10, generator=gen(0))
    assert sliced_wasserstein(a, a, 32, 2, gen(0)) == pytest.approx(0.0, abs=1e-7)
    assert sliced_wasserstein(a, a[torch.randperm(100, generator=gen(1))], 32, 2, gen(0)) == pytest.approx(0.0, abs=1e-6)


# ----------------------------------------------------------------------------- swd


def test_output_keys_per_level():
    assert set(swd(images(n=2, size=64), images(n=2, size=64, seed=1), **FAST)) == {"swd64", "swd32", "swd16", "swd"}
    assert set(swd(images(size=32), images(size=32, seed=1), **FAST)) == {"swd32", "swd16", "swd"}
    assert set(swd(images(size=16), images(size=16, seed=1), **FAST)) == {"swd16", "swd"}
    assert set(swd(images(size=32), images(size=32, seed=1), min_size=8, **FAST)) == {"swd32", "swd16", "swd8", "swd"}


def test_swd_is_the_mean_of_the_levels():
    out = swd(images(n=2, size=64), images(n=2, size=64, seed=1), **FAST)
    assert out["swd"] == pytest.approx((out["swd64"] + out["swd32"] + out["swd16"]) / 3)
    assert set(out) == {"swd64", "swd32", "swd16", "swd"}
    same = swd(images(n=2, size=64), images(n=2, size=64), **FAST)  # a set against itself: 0 at every level
    assert all(v == pytest.approx(0.0, abs=1e-9) for v in same.values()), same


def test_swd_deterministic_for_a_fixed_seed():
    a, b = images(seed=0), images(seed=1)
    assert swd(a, b, seed=5, **FAST) == swd(a, b, seed=5, **FAST)
    assert swd(a, b, seed=5, **FAST) != swd(a, b, seed=6, **FAST)


def test_swd_accepts_other_dtypes():
    a, b = images(seed=0), images(seed=1)
    assert swd(a.double(), b.half(), **FAST) == pytest.approx(swd(a, b, **FAST), rel=1e-2)


def test_swd_grows_with_noise():
    x = images(n=16, size=32, seed=0)
    noise = torch.randn(x.shape, generator=gen(1))
    values = [swd(x, x + s * noise, **FAST)["swd"] for s in (0.0, 0.3, 1.0, 3.0)]
    assert all(a < b for a, b in zip(values, values[1:])), values


def test_swd_unrelated_sets_far_apart():
    smooth = images(n=16, size=32, seed=0)
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2 * 2.0 - 1
    stripes = checker.expand(16, 3, 32, 32) + 0.1 * torch.randn(16, 3, 32, 32, generator=gen(2))
    same_kind = swd(smooth, images(n=16, size=32, seed=7), **FAST)["swd"]
    other = swd(smooth, stripes, **FAST)["swd"]
    assert other > 3 * same_kind


def test_swd_of_a_set_with_itself_is_zero():
    x = images(n=8, size=32, seed=3)
    out = swd(x, x.clone(), **FAST)
    assert out["swd"] < 1e-3, out


def test_swd_ignores_a_global_brightness_shift_like_the_reference():
    # Karras et al. normalize each descriptor set by its own per-channel statistics: a uniform
    # brightness shift then changes no level. Guard that design (and the same-positions fix).
    x = images(n=8, size=32, seed=4, amplitude=0.35)  # shifts up to 0.6 stay inside [-1, 1]
    values = [swd(x, x + s, **FAST)["swd"] for s in (0.0, 0.1, 0.3, 0.6)]
    assert values[0] == 0 and max(values) < 2.0, values  # float16 descriptors: rounding only (typical SWD: 20-300)
