"""Differentiable augmentation of D's inputs and its adaptive strength (ops/augment.py)."""

from __future__ import annotations

import pytest
import torch

from artforge.ops.augment import (D_AUGMENT_POLICIES, D_AUGMENTS, AdaptiveStrength, AugmentPipe, cutout,
                                       expand_policy)

from conftest import gen

pytestmark = pytest.mark.usefixtures("one_thread")


def images(n=8, size=16, seed=0):
    return torch.rand(n, 3, size, size, generator=gen(seed)) * 2 - 1


def test_probability_zero_is_the_identity_and_one_changes_every_image():
    x = images()
    assert torch.equal(AugmentPipe(("bgc", "cutout"), 0.0, gen(1))(x), x)
    out = AugmentPipe(("brightness",), 1.0, gen(1))(x)
    assert out.shape == x.shape and all(not torch.equal(a, b) for a, b in zip(out, x))


def test_probability_is_per_image():
    x = images(n=2000, size=4)
    out = AugmentPipe(("brightness",), 0.3, gen(2))(x)
    changed = (out - x).flatten(1).abs().amax(1) > 0
    assert changed.float().mean().item() == pytest.approx(0.3, abs=0.04)


@pytest.mark.parametrize("name", sorted(D_AUGMENTS))
def test_each_operation_is_differentiable_and_seeded(name):
    x = images().double().requires_grad_(True)
    out = AugmentPipe((name,), 1.0, gen(3))(x)
    out.square().sum().backward()
    # the gradient's directional derivative equals a central difference with the same draws
    v = images(seed=9).double()
    with torch.no_grad():
        ahead, behind = (AugmentPipe((name,), 1.0, gen(3))(x + e * v).square().sum() for e in (1e-2, -1e-2))
    numeric = float((ahead - behind) / 2e-2)
    assert float((x.grad * v).sum()) == pytest.approx(numeric, rel=1e-3, abs=1e-3)
    assert abs(numeric) > 1  # a guard: the direction moves the output
    again = AugmentPipe((name,), 1.0, gen(3))(x.detach())
    assert torch.equal(out.detach(), again)


def test_rot90_and_translation_move_pixels_exactly():
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 1, 2] = 1.0
    for name in ("rot90", "translation", "xflip"):
        out = AugmentPipe((name,), 1.0, gen(4))(x)
        # whole-pixel moves: the bright pixel lands on exactly one pixel, intact
        assert torch.allclose(out.flatten(1).max(1).values, torch.ones(64), atol=1e-5), name
        assert torch.allclose(out.flatten(1).sum(1), torch.ones(64), atol=1e-4), name


def test_rot90_visits_all_four_orientations():
    x = torch.zeros(200, 1, 8, 8)
    x[:, :, 0, 0] = 1.0
    corners = AugmentPipe(("rot90",), 1.0, gen(5))(x)[:, 0, [0, 0, 7, 7], [0, 7, 0, 7]]
    assert (corners > 0.99).sum(0).min() > 20


def test_cutout_blanks_a_half_side_square_clipped_at_the_edges():
    x = torch.ones(400, 3, 16, 16)
    out = cutout(x, torch.ones(400, dtype=torch.bool), gen(6))
    # centre ~ U(0, 1) per axis, half-width 1/4: expected overlap per axis is 1/2 - 2 * (1/4)^2 / 2
    # = 0.4375, so the blanked share is 0.4375^2 = 0.191 (DiffAugment's cutout does the same)
    assert (out == 0).float().mean().item() == pytest.approx(0.4375 ** 2, abs=0.02)
    assert torch.equal(cutout(x, torch.zeros(400, dtype=torch.bool), gen(6)), x)


def test_policies_expand():
    assert expand_policy(("diffaug",)) == D_AUGMENT_POLICIES["diffaug"]
    assert expand_policy(("xflip", "bgc"))[0] == "xflip" and len(expand_policy(("xflip", "bgc"))) == 8
    assert all(op in D_AUGMENTS for ops in D_AUGMENT_POLICIES.values() for op in ops)  # can fail: a policy naming an unknown op


def test_adaptive_strength_moves_toward_the_target():
    ada = AdaptiveStrength(target=0.6, speed_kimg=1.0)  # 1000 images from 0 to 1
    ada.observe(torch.tensor([1.0, 2.0, 3.0, -1.0]))  # r_t = 0.5 < 0.6: p goes down, clamped at 0
    assert ada.update(100) == 0.0 and ada.rt == 0.5
    ada.observe(torch.ones(10))  # r_t = 1 > 0.6: up by 100 / 1000
    assert ada.update(100) == pytest.approx(0.1)
    ada.observe(torch.ones(10))
    assert ada.update(2000) == 1.0  # clamped at 1
    state = ada.state_dict()
    other = AdaptiveStrength(0.6, 1.0)
    other.load_state_dict(state)
    assert other.p == 1.0 and other.rt == 1.0
    assert other.update(100) == 1.0  # nothing observed since: p stays
