"""FID, KID and IS math (metrics/fid.py, kid.py, inception_score.py) against independent references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from artforge.metrics.fid import StatsAccumulator, feature_stats, fid_from_features, frechet_distance
from artforge.metrics.inception_score import inception_score
from artforge.metrics.kid import kid

pytestmark = pytest.mark.usefixtures("one_thread")


def random_spd(d: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.5 * np.eye(d)


def psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_eig(mu1, s1, mu2, s2) -> float:
    """Scipy-free closed form: Tr (S1 S2)^(1/2) = Tr (S1^(1/2) S2 S1^(1/2))^(1/2), a symmetric PSD root."""
    r = psd_sqrt(s1)
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(r @ s2 @ r), 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


# ----------------------------------------------------------------------------- Fréchet distance


def test_frechet_distance_diagonal_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    s1, s2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_full_covariance_matches_eigen_form():
    rng = np.random.default_rng(1)
    for d in (2, 5, 16):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = random_spd(d, rng), random_spd(d, rng)
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_eig(mu1, s1, mu2, s2), rel=1e-8)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_singular_product_falls_back_to_eps_offset(monkeypatch):
    """As pytorch-fid: a non-finite sqrtm is retried on (S1 + eps I)(S2 + eps I)."""
    from scipy import linalg
    calls, real_sqrtm = [], linalg.sqrtm

    def fake_sqrtm(a):
        calls.append(a.copy())
        return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(linalg, "sqrtm", fake_sqrtm)
    s = np.diag([1.0, 2.0])
    with pytest.warns(RuntimeWarning, match="singular"):
        d = frechet_distance(np.zeros(2), s, np.zeros(2), s, eps=1e-3)
    assert np.allclose(calls[1], (s + 1e-3 * np.eye(2)) @ (s + 1e-3 * np.eye(2)))
    assert d == pytest.approx(2 * np.trace(s) - 2 * np.trace(s + 1e-3 * np.eye(2)), abs=1e-9)  # sqrtm = S + eps I


def test_large_imaginary_part_raises(monkeypatch):
    from scipy import linalg
    monkeypatch.setattr(linalg, "sqrtm", lambda a: np.eye(len(a)) * (1 + 0.5j))
    with pytest.raises(ValueError, match="maginary"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))


def test_fid_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(2).normal(size=(500, 8))
    assert abs(fid_from_features(x, x)) < 1e-8
    assert abs(fid_from_features(torch.from_numpy(x).float(), torch.from_numpy(x).float())) < 1e-5


def test_feature_stats_matches_numpy_and_is_float64():
    x = np.random.default_rng(3).normal(size=(50, 4)).astype(np.float32)
    mu, sigma = feature_stats(torch.from_numpy(x))
    assert mu.dtype == sigma.dtype == np.float64
    x64 = x.astype(np.float64)
    centred = x64 - x64.mean(0)
    assert np.allclose(mu, x64.mean(0))
    assert np.allclose(sigma, centred.T @ centred / (len(x) - 1))  # ddof = 1


def test_fid_from_samples_converges_to_the_analytic_value():
    rng = np.random.default_rng(4)
    d, n = 4, 20_000
    mu1, mu2 = np.zeros(d), np.array([1.0, -0.5, 0.0, 0.25])
    s1, s2 = random_spd(d, rng), random_spd(d, rng)
    x = rng.multivariate_normal(mu1, s1, size=n)
    y = rng.multivariate_normal(mu2, s2, size=n)
    analytic = frechet_eig(mu1, s1, mu2, s2)
    assert fid_from_features(x, y) == pytest.approx(analytic, abs=0.1)  # ~2.43; sampling std ~0.03 here


def test_fid_grows_monotonically_with_the_shift():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    fids = [fid_from_features(x, y + s) for s in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(fids, fids[1:]))
    # a pure mean shift adds exactly ||shift||^2 = D s^2 to the FID of the unshifted sets
    assert fids[-1] - fids[0] == pytest.approx(16 * 16 + 2 * 4 * np.sum(y.mean(0) - x.mean(0)), rel=1e-6)


# ----------------------------------------------------------------------------- streaming statistics


def test_accumulator_equals_one_shot_stats_for_any_batching():
    rng = np.random.default_rng(6)
    x = rng.normal(loc=50.0, scale=0.1, size=(1001, 12))  # large mean, small spread: cancellation-prone
    mu, sigma = feature_stats(x)
    for batch in (1, 7, 128, 1001):
        acc = StatsAccumulator()
        for i in range(0, len(x), batch):
            acc.update(torch.from_numpy(x[i:i + batch]) if i % 2 else x[i:i + batch])
        m, s = acc.stats()
        assert acc.n == len(x)
        assert np.allclose(m, mu, rtol=0, atol=1e-12)
        assert np.allclose(s, sigma, rtol=1e-9, atol=1e-15)


def test_accumulator_needs_two_samples_and_a_fixed_width():
    acc = StatsAccumulator().update(np.zeros((1, 3)))
    with pytest.raises(ValueError):
        acc.stats()
    with pytest.raises(ValueError):
        acc.update(np.zeros((2, 4)))


# ----------------------------------------------------------------------------- KID


def naive_unbiased_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Double-loop MMD^2_u with k(a, b) = (a.b / D + 1)^3 (Bińkowski et al. 2018, eq. 2)."""
    m, d = len(x), x.shape[1]
    k = lambda a, b: (float(np.dot(a, b)) / d + 1.0) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / (m * m)


def test_kid_matches_the_naive_unbiased_mmd():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(25, 5)), rng.normal(0.3, 1.2, size=(25, 5))
    out = kid(x, y, subsets=1, subset_size=25)
    assert out["kid"] == pytest.approx(naive_unbiased_mmd2(x, y), rel=1e-10)
    assert out["kid_std"] == 0 and out["kid_ci95"] == (out["kid"], out["kid"])
    assert out["subsets"] == 1 and out["subset_size"] == 25


def test_kid_same_distribution_is_near_zero_and_shift_is_positive():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(1000, 16)), rng.normal(size=(1000, 16))
    same = kid(x, y, subsets=20, subset_size=500)
    shifted = kid(x, y + 0.5, subsets=20, subset_size=500)
    assert abs(same["kid"]) < 0.005  # unbiased: no positive offset at finite n
    assert shifted["kid"] > 0.5 and shifted["kid_ci95"][0] > 100 * abs(same["kid"])


def test_kid_subset_size_is_clipped_and_seeded():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(40, 4)), rng.normal(size=(30, 4))
    a, b = kid(x, y, subsets=5, seed=3), kid(x, y, subsets=5, seed=3)
    assert a["subset_size"] == 30 and a == b
    lo, hi = a["kid_ci95"]
    assert (hi - lo) / 2 == pytest.approx(1.96 * a["kid_std"] / math.sqrt(5))


# ----------------------------------------------------------------------------- Inception Score


def test_is_of_uniform_predictions_is_one():
    out = inception_score(np.zeros((100, 10)), splits=5)
    assert out["is"] == pytest.approx(1.0, abs=1e-12) and out["is_std"] == pytest.approx(0.0, abs=1e-12)


def test_is_of_identical_non_uniform_predictions_is_never_below_one():
    """Every image with the same class distribution: KL is 0 exactly, but the log terms round (to IS
    1 - 1e-16 in about 40% of these cases before the clamp); IS >= 1 must hold."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, c = int(rng.integers(2, 64)), int(rng.choice([10, 100, 1008]))
        row = rng.normal(size=(1, c)) * rng.choice([0.01, 0.1, 1, 3, 10])
        score = inception_score(np.tile(row, (n, 1)), splits=1)["is"]
        assert 1.0 <= score <= 1.0 + 1e-12  # can fail: a known value, 1 to 1e-12, never below (the clamp)


@pytest.mark.parametrize("c", [2, 10, 1008])
def test_is_of_confident_evenly_spread_predictions_is_the_class_count(c):
    logits = np.zeros((3 * c, c))
    logits[np.arange(3 * c), np.arange(3 * c) % c] = 100.0
    assert inception_score(logits, splits=1)["is"] == pytest.approx(c, rel=1e-12)


def test_is_matches_a_direct_formula_per_split():
    rng = np.random.default_rng(10)
    logits = rng.normal(scale=3, size=(60, 7))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    scores = []
    for part in np.split(p, 3):
        marginal = part.mean(0)
        scores.append(math.exp(np.mean(np.sum(part * np.log(part / marginal), axis=1))))
    out = inception_score(torch.from_numpy(logits).float(), splits=3)
    assert out["is"] == pytest.approx(np.mean(scores), rel=1e-6)
    assert out["is_std"] == pytest.approx(np.std(scores), rel=1e-5)
    shuffled = inception_score(logits, splits=3, shuffle_seed=2020)
    assert shuffled["is"] != pytest.approx(out["is"], rel=1e-9)
    assert inception_score(logits, splits=1, shuffle_seed=2020)["is"] == pytest.approx(
        inception_score(logits, splits=1)["is"], rel=1e-12)


def test_fid_terms_split_a_shift_from_a_spread():
    from artforge.metrics.fid import fid_from_features, fid_terms

    rng = np.random.default_rng(0)
    real = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    real -= real.mean(axis=0)
    shifted = fid_terms(real, real + np.array([1.0, 2.0, 0, 0, 0, 2.0]))
    assert shifted["mean"] == pytest.approx(9.0) and shifted["covariance"] == pytest.approx(0, abs=1e-6)
    spread = fid_terms(real, 2 * real)  # covariance 4S: FID = tr S + 4 tr S - 2 tr 2S = tr S, all from the trace term
    trace = np.trace(np.cov(real, rowvar=False))
    assert spread["mean"] == pytest.approx(0, abs=1e-12) and spread["covariance"] == pytest.approx(trace, rel=1e-6)
    assert spread["total_variance_generated"] == pytest.approx(4 * spread["total_variance_real"])
    assert spread["fid"] == fid_from_features(real, 2 * real)
