"""Tests of the adversarial losses (losses.py) against hand-computed values and analytic gradients."""

from __future__ import annotations

import math

import pytest
import torch

from artforge.losses import (
    LOSSES,
    d_loss_hinge,
    d_loss_least_squares,
    d_loss_logistic,
    d_loss_relativistic,
    d_loss_wasserstein,
    g_loss_hinge,
    g_loss_least_squares,
    g_loss_relativistic,
    g_loss_wasserstein,
    discriminator_probabilities,
    g_loss_minimax,
    g_loss_nonsaturating,
    get_loss,
)

LOGITS = [0.0, 2.0, -1.0]


def softplus(x: float) -> float:
    return math.log(1.0 + math.exp(x))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def t(values, grad: bool = False) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, requires_grad=grad)


# ----------------------------------------------------------------------------- values


def test_reference_helpers_are_right():
    # -log(sigmoid(x)) == softplus(-x), the identity the module relies on; hand values for x = 0, 2, -1
    assert softplus(-0.0) == pytest.approx(math.log(2))
    assert softplus(-2.0) == pytest.approx(0.1269280110429725)
    assert softplus(1.0) == pytest.approx(1.3132616875182228)
    for x in LOGITS:
        assert -math.log(sigmoid(x)) == pytest.approx(softplus(-x))
        assert -math.log(1 - sigmoid(x)) == pytest.approx(softplus(x))


def test_g_loss_nonsaturating_value():
    expected = mean(-math.log(sigmoid(x)) for x in LOGITS)  # -log D(G(z))
    assert expected == pytest.approx((math.log(2) + 0.1269280110429725 + 1.3132616875182228) / 3)
    assert g_loss_nonsaturating(t(LOGITS)).item() == pytest.approx(expected, rel=1e-12)


def test_g_loss_minimax_value():
    expected = mean(math.log(1 - sigmoid(x)) for x in LOGITS)  # log(1 - D(G(z))), minimized by G
    assert g_loss_minimax(t(LOGITS)).item() == pytest.approx(expected, rel=1e-12)
    assert expected < 0


def test_d_loss_value():
    real, fake = [0.0, 2.0, -1.0], [1.0, -3.0]
    expected = mean(-math.log(sigmoid(x)) for x in real) + mean(-math.log(1 - sigmoid(x)) for x in fake)
    assert d_loss_logistic(t(real), t(fake)).item() == pytest.approx(expected, rel=1e-12)


def test_d_loss_perfect_discriminator_is_near_zero_and_fooled_one_is_large():
    assert d_loss_logistic(t([30.0, 30.0]), t([-30.0])).item() < 1e-12
    assert d_loss_logistic(t([-30.0]), t([30.0])).item() == pytest.approx(60.0, rel=1e-9)


@pytest.mark.parametrize("s", [0.1, 0.25])
def test_label_smoothing_real_term_is_bce_with_target_one_minus_s(s):
    real, fake = [0.0, 2.0, -1.0], [1.0, -3.0]
    target = 1 - s

    def bce(x, y):
        p = sigmoid(x)
        return -(y * math.log(p) + (1 - y) * math.log(1 - p))

    expected_real = mean(bce(x, target) for x in real)
    expected_fake = mean(bce(x, 0.0) for x in fake)  # unchanged by one-sided smoothing
    got = d_loss_logistic(t(real), t(fake), label_smoothing=s).item()
    assert got == pytest.approx(expected_real + expected_fake, rel=1e-12)
    # and it really differs from the unsmoothed loss
    assert abs(got - d_loss_logistic(t(real), t(fake)).item()) > 1e-3


def test_label_smoothing_leaves_fake_term_alone():
    real = t([0.5, -0.5])
    a = d_loss_logistic(real, t([1.0, -3.0]), label_smoothing=0.2)
    b = d_loss_logistic(real, t([2.0, 0.0]), label_smoothing=0.2)
    expected_diff = mean(softplus(x) for x in [1.0, -3.0]) - mean(softplus(x) for x in [2.0, 0.0])
    assert (a - b).item() == pytest.approx(expected_diff, rel=1e-12)


# ----------------------------------------------------------------------------- gradients


def test_nonsaturating_gradient_matches_analytic():
    x = t(LOGITS, grad=True)
    g_loss_nonsaturating(x).backward()
    n = len(LOGITS)
    expected = [-sigmoid(-v) / n for v in LOGITS]  # d/dx softplus(-x) = -sigmoid(-x)
    assert x.grad.tolist() == pytest.approx(expected, rel=1e-12)


def test_minimax_gradient_matches_analytic():
    x = t(LOGITS, grad=True)
    g_loss_minimax(x).backward()
    n = len(LOGITS)
    expected = [-sigmoid(v) / n for v in LOGITS]  # d/dx -softplus(x) = -sigmoid(x)
    assert x.grad.tolist() == pytest.approx(expected, rel=1e-12)


def test_d_loss_gradient_matches_analytic_with_smoothing():
    s = 0.1
    real, fake = t([0.0, 2.0, -1.0], grad=True), t([1.0, -3.0], grad=True)
    d_loss_logistic(real, fake, label_smoothing=s).backward()
    # d/dx BCE(x, y) = sigmoid(x) - y
    assert real.grad.tolist() == pytest.approx([(sigmoid(v) - (1 - s)) / 3 for v in [0.0, 2.0, -1.0]], rel=1e-12)
    assert fake.grad.tolist() == pytest.approx([sigmoid(v) / 2 for v in [1.0, -3.0]], rel=1e-12)


def test_minimax_saturates_nonsaturating_does_not():
    """When D confidently rejects fakes (logits -> -inf), minimax's gradient vanishes; NS stays ~ -1/N."""
    grads = {}
    for name, fn in (("minimax", g_loss_minimax), ("nonsaturating", g_loss_nonsaturating)):
        grads[name] = []
        for logit in (-2.0, -5.0, -10.0, -20.0):
            x = t([logit], grad=True)
            fn(x).backward()
            grads[name].append(abs(x.grad.item()))
    mm, ns = grads["minimax"], grads["nonsaturating"]
    assert all(a > b for a, b in zip(mm, mm[1:]))  # shrinking
    assert mm[-1] < 1e-8
    assert mm[-1] == pytest.approx(sigmoid(-20.0), rel=1e-9)
    assert all(g > 0.88 for g in ns)  # sigmoid(2) = 0.88, -> 1
    assert ns[-1] == pytest.approx(1.0, abs=1e-8)


# ----------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_large_logits_are_finite(dtype):
    big = torch.tensor([100.0, -100.0], dtype=dtype, requires_grad=True)
    other = torch.tensor([-100.0, 100.0], dtype=dtype, requires_grad=True)
    for loss in (d_loss_logistic(big, other, 0.1), g_loss_minimax(big), g_loss_nonsaturating(big)):
        assert torch.isfinite(loss).all()
        big.grad = other.grad = None
        loss.backward()
        assert torch.isfinite(big.grad).all()
        assert other.grad is None or torch.isfinite(other.grad).all()


def test_large_logit_values_are_right():
    x = torch.tensor([100.0, -100.0])
    # softplus(-100) ~ 0, softplus(100) = 100
    assert g_loss_nonsaturating(x).item() == pytest.approx(50.0, rel=1e-6)
    assert g_loss_minimax(x).item() == pytest.approx(-50.0, rel=1e-6)
    assert d_loss_logistic(torch.tensor([-100.0]), torch.tensor([100.0])).item() == pytest.approx(200.0, rel=1e-6)
    assert d_loss_logistic(torch.tensor([100.0]), torch.tensor([-100.0])).item() == pytest.approx(0.0, abs=1e-6)


def test_discriminator_probabilities():
    p = discriminator_probabilities(torch.tensor(LOGITS, dtype=torch.bfloat16))
    assert p.dtype == torch.float32
    assert p.item() == pytest.approx(mean(sigmoid(x) for x in LOGITS), abs=5e-3)
    assert discriminator_probabilities(torch.tensor([0.0, 0.0])).item() == 0.5


# ----------------------------------------------------------------------------- registry


def test_registry_names_and_functions():
    assert set(LOSSES) == {"minimax", "nonsaturating", "hinge", "wasserstein", "least-squares", "relativistic"}
    for name, loss in LOSSES.items():
        assert loss.name == name and get_loss(name) is loss
        assert "arXiv" in loss.paper
    assert LOSSES["minimax"].d_loss is d_loss_logistic and LOSSES["nonsaturating"].d_loss is d_loss_logistic
    assert LOSSES["minimax"].g_loss is g_loss_minimax
    assert LOSSES["nonsaturating"].g_loss is g_loss_nonsaturating
    assert [n for n, l in LOSSES.items() if l.g_needs_real] == ["relativistic"]


# ----------------------------------------------------------------------------- the other losses

REAL, FAKE = [1.5, -0.5, 0.25], [0.0, 2.0, -1.0]


def test_hinge_values_and_gradient():
    # relu(1 - r) + relu(1 + f), means: real [0, 1.5, 0.75] -> 0.75; fake [1, 3, 0] -> 4/3
    assert d_loss_hinge(t(REAL), t(FAKE)).item() == pytest.approx(0.75 + 4 / 3)
    # smoothing 0.5 shrinks the real margin: relu(0.5 - r) = [0, 1, 0.25] -> 1.25/3
    assert d_loss_hinge(t(REAL), t(FAKE), 0.5).item() == pytest.approx(1.25 / 3 + 4 / 3)
    f = t(FAKE, grad=True)
    g_loss_hinge(f).backward()
    assert f.grad.tolist() == pytest.approx([-1 / 3] * 3)


def test_wasserstein_values():
    assert d_loss_wasserstein(t(REAL), t(FAKE)).item() == pytest.approx(mean(FAKE) - mean(REAL))
    assert g_loss_wasserstein(t(FAKE)).item() == pytest.approx(-mean(FAKE))


def test_least_squares_values_and_gradient():
    expected_d = 0.5 * mean((r - 1) ** 2 for r in REAL) + 0.5 * mean(f ** 2 for f in FAKE)
    assert d_loss_least_squares(t(REAL), t(FAKE)).item() == pytest.approx(expected_d)
    assert g_loss_least_squares(t(FAKE)).item() == pytest.approx(0.5 * mean((f - 1) ** 2 for f in FAKE))
    f = t(FAKE, grad=True)
    g_loss_least_squares(f).backward()
    assert f.grad.tolist() == pytest.approx([(x - 1) / 3 for x in FAKE])  # d/dx (x-1)^2/2 / N


def test_relativistic_values():
    mr, mf = mean(REAL), mean(FAKE)
    expected_d = mean(softplus(-(r - mf)) for r in REAL) + mean(softplus(f - mr) for f in FAKE)
    assert d_loss_relativistic(t(REAL), t(FAKE)).item() == pytest.approx(expected_d)
    expected_g = mean(softplus(-(f - mr)) for f in FAKE) + mean(softplus(r - mf) for r in REAL)
    assert g_loss_relativistic(t(FAKE), t(REAL)).item() == pytest.approx(expected_g)
    with pytest.raises(ValueError, match="real logits"):
        g_loss_relativistic(t(FAKE))


def test_relativistic_g_gradient_does_not_reach_real_logits():
    r, f = t(REAL, grad=True), t(FAKE, grad=True)
    g_loss_relativistic(f, r).backward()
    assert r.grad is None
    # d/df_i of mean softplus(mean(r) - f) + mean softplus(r - mean(f)), by hand
    m_r, m_f = mean(REAL), mean(FAKE)
    expected = [-(sigmoid(m_r - v) + mean(sigmoid(x - m_f) for x in REAL)) / 3 for v in FAKE]
    assert f.grad.tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["hinge", "wasserstein", "least-squares", "relativistic"])
def test_d_prefers_real_high_and_fake_low(name):
    loss = LOSSES[name]
    good = loss.d_loss(t([3.0, 3.0]), t([-3.0, -3.0]))
    bad = loss.d_loss(t([-3.0, -3.0]), t([3.0, 3.0]))
    assert good.item() < bad.item()
    assert loss.g_loss(t([3.0, 3.0]), t([0.0, 0.0])).item() < loss.g_loss(t([-3.0, -3.0]), t([0.0, 0.0])).item()


def test_get_loss_unknown_name():
    from artforge.errors import UsageError
    with pytest.raises(UsageError, match="unknown loss 'bogus'"):
        get_loss("bogus")
