"""k-NN precision/recall and density/coverage (metrics/prdc.py) on sets whose values are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artforge.metrics.prdc import density_coverage, knn_radii, precision_recall

pytestmark = pytest.mark.usefixtures("one_thread")


def cloud(n: int, d: int = 8, seed: int = 0, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, 1.0, size=(n, d))


def brute_force_radii(x: np.ndarray, k: int) -> np.ndarray:
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def reference_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict:
    """Dense numpy version of both papers' definitions, written out independently."""
    d_rf = np.sqrt(((real[:, None, :] - fake[None, :, :]) ** 2).sum(-1))
    r_real_pr, r_fake_pr = brute_force_radii(real, k_pr), brute_force_radii(fake, k_pr)
    r_real_dc = brute_force_radii(real, k_dc)
    return {
        "precision": (d_rf <= r_real_pr[:, None]).any(axis=0).mean(),
        "recall": (d_rf <= r_fake_pr[None, :]).any(axis=1).mean(),
        "density": (d_rf < r_real_dc[:, None]).sum() / (k_dc * len(fake)),
        "coverage": (d_rf.min(axis=1) < r_real_dc).mean(),
    }


def all_metrics(real, fake, **kw) -> dict:
    return {**precision_recall(real, fake, k=3, **kw), **density_coverage(real, fake, k=5, **kw)}


def test_knn_radius_excludes_the_point_itself():
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert knn_radii(x, 1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(x, 2).tolist() == [3.0, 2.0, 3.0, 6.0]
    y = cloud(50, seed=1)
    assert np.allclose(knn_radii(y, 3, dtype=torch.float64).numpy(), brute_force_radii(y, 3))


def test_a_duplicate_is_a_neighbour_at_distance_zero():
    x = np.array([[0.0], [0.0], [5.0]])
    assert knn_radii(x, 1).tolist() == [0.0, 0.0, 5.0]


def test_identical_sets_are_perfect():
    x = cloud(200)
    out = all_metrics(x, x.copy())
    assert out["precision"] == out["recall"] == out["coverage"] == 1.0
    # each real ball holds its own centre and its k - 1 nearer neighbours: density exactly 1
    assert out["density"] == pytest.approx(1.0)


def test_far_away_fakes_score_zero():
    out = all_metrics(cloud(200), cloud(150, seed=1, loc=1000.0))
    assert out == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_fakes_on_one_of_two_clusters():
    """Real: two equal far-apart clusters; fake: exact copies of cluster A. Every fake is a real
    point (precision 1), only cluster A is reached (recall = coverage = 1/2), and within A density
    is exactly 1 as for identical sets."""
    a, b = cloud(100, seed=2), cloud(100, seed=3, loc=100.0)
    out = all_metrics(np.concatenate([a, b]), a.copy())
    assert out["precision"] == 1.0
    assert out["recall"] == 0.5
    assert out["coverage"] == 0.5
    assert out["density"] == pytest.approx(1.0)


def test_partial_overlap_matches_the_dense_reference():
    real, fake = cloud(120, d=4, seed=4), cloud(90, d=4, seed=5, loc=0.7)
    ours = all_metrics(real, fake, dtype=torch.float64)
    ref = reference_prdc(real, fake, k_pr=3, k_dc=5)
    assert 0 < ours["precision"] < 1 and 0 < ours["coverage"] < 1  # can fail: a guard that the overlap is partial
    assert ours == pytest.approx(ref, abs=1e-12)


def test_chunking_does_not_change_the_numbers():
    real, fake = cloud(300, d=16, seed=6), cloud(250, d=16, seed=7, loc=0.3)
    small = all_metrics(real, fake, chunk=7)
    large = all_metrics(real, fake, chunk=4096)
    assert small == large
    assert torch.equal(knn_radii(real, 3, chunk=7), knn_radii(real, 3, chunk=4096))


def test_tensors_and_arrays_agree():
    real, fake = cloud(80, seed=8), cloud(60, seed=9, loc=0.5)
    assert all_metrics(real, fake) == all_metrics(torch.from_numpy(real), torch.from_numpy(fake).float())


def test_k_must_leave_a_neighbour():
    with pytest.raises(ValueError):
        knn_radii(cloud(3), 3)
