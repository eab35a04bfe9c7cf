"""Tests of the real-image augmentations (ops/augment.py)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from artforge.options import TrainConfig
from artforge.ops.augment import AUGMENTS, augment, crop_matrix, flip_mask, rotate_matrix, scale_matrix
from artforge.errors import UsageError

from conftest import gen

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: threads only cost time

ALL = ("flip", "scale", "crop", "rotate")


def batch(n=8, c=3, size=16, seed=0, dtype=torch.float32) -> torch.Tensor:
    return (torch.rand(n, c, size, size, generator=gen(seed), dtype=dtype) * 2 - 1)


def apply_matrix(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """The resampling augment() does, written out: output -> input coordinates through m."""
    theta = m[:, :2, :].to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


# ----------------------------------------------------------------------------- basics


def test_registry_names():
    assert tuple(AUGMENTS) == ALL + ("transpose",)  # transpose: piano rolls only (modality.RollModality)
    assert AUGMENTS["flip"].matrix is None
    assert AUGMENTS["scale"].matrix is scale_matrix
    assert AUGMENTS["crop"].matrix is crop_matrix
    assert AUGMENTS["rotate"].matrix is rotate_matrix


@pytest.mark.parametrize("names", [("flip",), ("scale",), ("crop",), ("rotate",), ALL])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_range(names, dtype):
    x = batch(dtype=dtype)
    x[:, :, :4] = 1.0  # extreme values too
    x[:, :, -4:] = -1.0
    out = augment(x, names, gen(1))
    assert out.shape == x.shape
    assert out.dtype == dtype
    assert out.min() >= -1 - 1e-5 and out.max() <= 1 + 1e-5  # can fail: bicubic resampling or an outside fill overshoots
    assert torch.isfinite(out).all()


def test_empty_names_is_identity():
    x = batch()
    g = gen(0)
    state = g.get_state()
    out = augment(x, (), g)
    assert out is x or torch.equal(out, x)
    assert torch.equal(g.get_state(), state)  # and draws no random numbers


def test_flip_flips_exactly_the_masked_images():
    x = batch(n=16)
    out = augment(x, ("flip",), gen(5))
    expected_mask = torch.rand(16, generator=gen(5)) < 0.5  # what flip_mask draws
    assert torch.equal(flip_mask(16, gen(5)), expected_mask)
    assert 0 < expected_mask.sum() < 16  # can fail: a guard on the seed, which must give both cases
    for i in range(16):
        want = x[i].flip(2) if expected_mask[i] else x[i]  # flip along W only
        assert torch.equal(out[i], want), i
    assert torch.equal(out[expected_mask], x.flip(3)[expected_mask])
    assert torch.equal(out[~expected_mask], x[~expected_mask])


def test_flip_mask_is_about_half():
    m = flip_mask(10_000, gen(0))
    assert m.dtype == torch.bool
    assert 0.47 < m.float().mean().item() < 0.53


@pytest.mark.parametrize("names", [("flip",), ("scale",), ("crop",), ("rotate",), ALL])
def test_same_seed_same_result_different_seed_differs(names):
    x = batch(n=8)
    a = augment(x, names, gen(11))
    b = augment(x, names, gen(11))
    c = augment(x, names, gen(12))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_geometric_augmentations_change_images():
    x = batch(n=4)
    for name in ("scale", "crop", "rotate"):
        out = augment(x, (name,), gen(3))
        assert (out - x).abs().max() > 1e-3, name


# ----------------------------------------------------------------------------- matrices


def test_zero_strength_matrices_are_identity():
    x = batch(n=4, size=12)
    for m in (scale_matrix(4, gen(0), amount=0.0), crop_matrix(4, gen(0), amount=0.0),
              rotate_matrix(4, gen(0), degrees=0.0)):
        assert m.shape == (4, 3, 3)
        assert torch.allclose(m, torch.eye(3).expand(4, 3, 3), atol=1e-7)
        assert torch.allclose(apply_matrix(x, m), x, atol=1e-5)


def test_scale_matrix_range():
    m = scale_matrix(2000, gen(0), amount=0.1)
    zoom = 1 / m[:, 0, 0]
    assert torch.equal(m[:, 0, 0], m[:, 1, 1])
    assert zoom.min() >= 0.9 - 1e-6 and zoom.max() <= 1.1 + 1e-6
    assert zoom.min() < 0.91 and zoom.max() > 1.09  # the range is used
    assert torch.all(m[:, 0, 1] == 0) and torch.all(m[:, :2, 2] == 0)
    # log-uniform: the median zoom is ~1
    assert zoom.median().item() == pytest.approx(1.0, abs=0.01)


def test_crop_matrix_stays_inside_the_image():
    m = crop_matrix(2000, gen(0), amount=0.1)
    keep = m[:, 0, 0]
    assert torch.equal(keep, m[:, 1, 1])
    assert keep.min() >= 0.9 - 1e-6 and keep.max() <= 1.0
    for axis in (0, 1):  # the output's corners -1 and +1 map inside [-1, 1]
        t = m[:, axis, 2]
        assert torch.all(t.abs() + keep <= 1 + 1e-6)


def test_rotate_matrix_is_a_rotation_within_range():
    m = rotate_matrix(2000, gen(0), degrees=10.0)
    r = m[:, :2, :2]
    eye = torch.eye(2).expand_as(r)
    assert torch.allclose(r @ r.transpose(1, 2), eye, atol=1e-6)
    assert torch.allclose(torch.linalg.det(r), torch.ones(2000), atol=1e-6)
    angles = torch.rad2deg(torch.atan2(m[:, 1, 0], m[:, 0, 0]))
    assert angles.abs().max() <= 10 + 1e-4
    assert angles.min() < -9.5 and angles.max() > 9.5


def test_rotation_moves_a_bright_pixel_where_the_math_says():
    size = 32
    # a seed whose angle is large enough to tell directions apart
    for seed in range(100):
        m = rotate_matrix(1, gen(seed))
        angle = math.atan2(m[0, 1, 0].item(), m[0, 0, 0].item())
        if abs(math.degrees(angle)) > 6:
            break
    row, col = 8, 24
    x = torch.full((1, 1, size, size), -1.0)
    x[0, 0, row, col] = 1.0
    out = augment(x, ("rotate",), gen(seed))  # no flip: the first draw is the rotation

    def to_norm(p):  # pixel index -> normalized coordinate (align_corners=False)
        return (2 * p + 1) / size - 1

    def to_pix(u):
        return ((u + 1) * size - 1) / 2

    # grid_sample reads input at R(a) @ p_out, so the pixel lands at p_out = R(a)^T @ p_in
    c, s = math.cos(angle), math.sin(angle)
    xin, yin = to_norm(col), to_norm(row)
    want_col, want_row = to_pix(c * xin + s * yin), to_pix(-s * xin + c * yin)
    wrong_col, wrong_row = to_pix(c * xin - s * yin), to_pix(s * xin + c * yin)  # the opposite sense

    w = (out[0, 0] + 1) / 2  # 0 background, mass where the pixel went
    assert w.sum().item() == pytest.approx(1.0, abs=0.1)
    rows, cols = torch.meshgrid(torch.arange(size, dtype=torch.float32),
                                torch.arange(size, dtype=torch.float32), indexing="ij")
    got_row = (w * rows).sum().item() / w.sum().item()
    got_col = (w * cols).sum().item() / w.sum().item()
    assert math.hypot(got_row - want_row, got_col - want_col) < 0.25
    assert math.hypot(got_row - wrong_row, got_col - wrong_col) > 1.5
    assert math.hypot(got_row - row, got_col - col) > 1.0  # it moved


# ----------------------------------------------------------------------------- gradients


def test_gradients_flow_through_flip_exactly():
    x = batch(n=8).requires_grad_(True)
    w = batch(n=8, seed=9)
    (augment(x, ("flip",), gen(2)) * w).sum().backward()
    mask = flip_mask(8, gen(2))
    want = torch.where(mask[:, None, None, None], w.flip(3), w)
    assert torch.equal(x.grad, want)


def test_gradients_flow_through_all_augmentations():
    x = batch(n=4, dtype=torch.float64).requires_grad_(True)
    w = batch(n=4, seed=8, dtype=torch.float64)
    (augment(x, ALL, gen(4)) * w).sum().backward()
    # The same draws make the augmentation linear in x: the gradient's directional derivative equals
    # a central difference along a random direction (a detached or wrong backward does not).
    v = batch(n=4, seed=9, dtype=torch.float64)
    with torch.no_grad():
        ahead, behind = ((augment(x + e * v, ALL, gen(4)) * w).sum() for e in (1e-3, -1e-3))
    numeric = float((ahead - behind) / 2e-3)
    assert float((x.grad * v).sum()) == pytest.approx(numeric, rel=1e-6)
    assert abs(numeric) > 1  # can fail: a guard that the direction moves the output at all


def test_gradcheck_geometric():
    x = torch.rand(2, 1, 6, 6, dtype=torch.float64, generator=gen(0)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: augment(t, ("scale", "crop", "rotate"), gen(7)), (x,))


# ----------------------------------------------------------------------------- config


def test_unknown_augmentation_rejected_by_config():
    with pytest.raises(UsageError, match="--augment"):
        TrainConfig(dataset="x", augment=("bogus",))


def test_config_accepts_known_augmentations_and_none():
    assert TrainConfig(dataset="x", augment=ALL).augment == ALL
    assert TrainConfig(dataset="x", augment=("none",)).augment == ()
