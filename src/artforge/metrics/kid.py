"""Kernel Inception Distance (KID; Bińkowski et al. 2018, "Demystifying MMD GANs").

KID is the squared maximum mean discrepancy between the two feature distributions under the
polynomial kernel k(x, y) = (gamma x.y + coef0)^degree, gamma = 1/D by default. Unlike FID it has an
unbiased estimator, so it is comparable across sample sizes and ~0 (possibly slightly negative) for
two samples of one distribution. As torch-fidelity and clean-fid, the estimate is averaged over
``subsets`` random subsets of ``subset_size`` items of each set (sampled without replacement); the
defaults (100 x 1000, degree 3, coef0 1) are theirs. Kernels are computed in float64.
"""

from __future__ import annotations

import math

import numpy as np

from artforge.metrics.fid import ArrayLike, as_float64


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None,
                      coef0: float = 1.0) -> np.ndarray:
    """(n, m) matrix of (gamma x_i.y_j + coef0)^degree; gamma defaults to 1 / D."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_xy: np.ndarray, k_yy: np.ndarray) -> float:
    """Unbiased MMD^2 estimate from kernel matrices of two equal-size samples (Gretton et al. 2012):
    within-set sums leave out the diagonal (i != j), the cross term keeps all m^2 pairs."""
    m = k_xx.shape[0]
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def kid(real: ArrayLike, fake: ArrayLike, subsets: int = 100, subset_size: int = 1000, degree: int = 3,
        gamma: float | None = None, coef0: float = 1.0, seed: int = 0) -> dict:
    """KID between two (N, D) feature sets, averaged over random subsets.

    ``subset_size`` is clipped to the smaller set (as clean-fid does). Returns ``kid`` (mean over
    subsets), ``kid_std`` (population std over subsets, as torch-fidelity), ``kid_ci95`` = mean +-
    1.96 std / sqrt(subsets): the Monte-Carlo uncertainty of the subset average only; subsets are
    redrawn from the same finite sets, so it does not include the sampling noise of the sets
    themselves. Also the ``subsets`` and ``subset_size`` actually used.
    """
    x, y = as_float64(real), as_float64(fake)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: {x.shape[1]} vs {y.shape[1]}")
    m = min(subset_size, len(x), len(y))
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    if subsets < 1:
        raise ValueError("subsets must be >= 1")

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return polynomial_kernel(a, b, degree, gamma, coef0)

    rng = np.random.default_rng(seed)
    mmds = np.empty(subsets)
    for i in range(subsets):
        xs = x[rng.choice(len(x), m, replace=False)]
        ys = y[rng.choice(len(y), m, replace=False)]
        mmds[i] = mmd2_unbiased(kernel(xs, xs), kernel(xs, ys), kernel(ys, ys))

    mean, std = float(mmds.mean()), float(mmds.std())
    half = 1.96 * std / math.sqrt(subsets)
    return {"kid": mean, "kid_std": std, "kid_ci95": (mean - half, mean + half),
            "subsets": subsets, "subset_size": m}
