"""Regularizers against hand-computed values, including the gradient of each penalty."""

from __future__ import annotations

import math

import pytest
import torch

from artforge.penalties import clip_weights, gradient_penalty, instance_noise, interpolate, r1_penalty

from conftest import gen


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = <w, x>: grad_x D = w everywhere, so the penalty is (||w|| - c)^2 whatever x is.
    w = torch.tensor([3.0, 4.0], requires_grad=True)  # ||w|| = 5
    x = torch.randn(6, 2, generator=gen(0)).requires_grad_(True)
    gp1 = gradient_penalty(x @ w, x, center=1.0)
    assert gp1.item() == pytest.approx(16.0)  # (5 - 1)^2
    gp1.backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * [3, 4] / 5
    assert w.grad.tolist() == pytest.approx([4.8, 6.4])
    x2 = x.detach().requires_grad_(True)
    assert gradient_penalty(x2 @ w.detach(), x2, center=0.0).item() == pytest.approx(25.0)


def test_r1_penalty_of_a_quadratic_critic():
    # D(x) = a * sum(x^2): grad = 2 a x, so R1 = mean 4 a^2 ||x||^2, and dR1/da = 8 a mean ||x||^2.
    a = torch.tensor(0.5, requires_grad=True)
    x = torch.tensor([[1.0, 2.0], [0.0, 3.0]], requires_grad=True)  # ||x||^2 = 5, 9
    r1 = r1_penalty(a * x.square().sum(1), x)
    assert r1.item() == pytest.approx(4 * 0.25 * 7)
    r1.backward()
    assert a.grad.item() == pytest.approx(8 * 0.5 * 7)


def test_penalties_work_on_image_shaped_inputs_in_low_precision():
    x = torch.randn(3, 2, 4, 4, generator=gen(1)).requires_grad_(True)
    w = torch.randn(2, 4, 4, generator=gen(2))
    logits = (x * w).sum((1, 2, 3)).to(torch.bfloat16)
    expected = w.norm().item() ** 2
    assert r1_penalty(logits, x).item() == pytest.approx(expected, rel=1e-2)


def test_interpolates_lie_between_real_and_fake():
    real, fake = torch.zeros(500, 3), torch.ones(500, 3)
    points = interpolate(real, fake, gen(3))
    assert points.requires_grad and points.shape == real.shape
    assert torch.allclose(points[:, 0], points[:, 2])  # one epsilon per sample
    assert points.min() >= 0 and points.max() <= 1  # can fail: an epsilon outside [0, 1] extrapolates
    assert 0.4 < points.mean().item() < 0.6  # epsilon ~ U(0, 1)


def test_clip_weights():
    net = torch.nn.Linear(4, 3)
    with torch.no_grad():
        net.weight.mul_(100)
    clip_weights(net, 0.01)
    assert all(p.abs().max().item() <= 0.01 + 1e-9 for p in net.parameters())


def test_instance_noise():
    x = torch.zeros(20000)
    assert instance_noise(x, 0.0, gen(4)) is x
    noisy = instance_noise(x, 0.3, gen(4))
    assert noisy.std().item() == pytest.approx(0.3, rel=0.03)
    assert torch.equal(noisy, instance_noise(x, 0.3, gen(4)))
    assert not math.isclose(noisy.std().item(), instance_noise(x, 0.1, gen(4)).std().item(), rel_tol=0.1)
