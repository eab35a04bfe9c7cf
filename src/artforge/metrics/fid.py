"""Fréchet distance between feature distributions (FID; Heusel et al. 2017, "GANs trained by a two
time-scale update rule converge to a local Nash equilibrium").

Both feature sets are summarized by a Gaussian (mean and covariance) and compared by the Fréchet
(2-Wasserstein) distance between the two Gaussians,

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

The numbers follow pytorch-fid / clean-fid / torch-fidelity: statistics in float64, covariance with
ddof=1 (``np.cov(rowvar=False)``) and the matrix square root by ``scipy.linalg.sqrtm`` with the same
fallback (eps * I added to both covariances when the product is singular) and the same handling of a
spurious imaginary part. Pure functions of feature arrays: no network, no I/O.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def as_float64(features: ArrayLike) -> np.ndarray:
    """A (N, D) float64 numpy copy of a tensor (any device) or array."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    arr = np.asarray(features, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected an (N, D) feature matrix, got shape {arr.shape}")
    return arr


def feature_stats(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) in float64, the covariance unbiased (ddof=1) as pytorch-fid."""
    x = as_float64(features)
    if len(x) < 2:
        raise ValueError("need at least 2 samples for a covariance")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike,
                     eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), computed as pytorch-fid does.

    ``sqrtm(sigma1 @ sigma2)`` may be non-finite when the product is (nearly) singular, e.g. with
    fewer samples than dimensions; then eps * I is added to both covariances and the root is taken
    again. Round-off can leave a small imaginary part: dropped when the diagonal's imaginary part is
    within 1e-3, otherwise a ValueError (the result would not be meaningful).
    """
    from scipy import linalg  # scipy only for FID; keeps the rest of artforge importable without it

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shape mismatch: means {mu1.shape} vs {mu2.shape}, "
                         f"covariances {sigma1.shape} vs {sigma2.shape}")

    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        warnings.warn(f"FID: singular covariance product; adding {eps} to the diagonals", RuntimeWarning,
                      stacklevel=2)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))

    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FID: imaginary component {np.max(np.abs(covmean.imag))} in sqrtm")
        covmean = covmean.real

    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_from_features(real: ArrayLike, fake: ArrayLike) -> float:
    """FID between two (N, D) feature sets (e.g. Inception pool3, D = 2048)."""
    return frechet_distance(*feature_stats(real), *feature_stats(fake))


def fid_terms(real: ArrayLike, fake: ArrayLike) -> dict:
    """FID and where it comes from: ``mean`` = |mu_r - mu_g|^2, ``covariance`` = FID - mean (the trace
    term: the sets' spread and shape), and each set's ``total_variance`` (trace of its covariance: how
    far its features spread). ``fid`` equals ``fid_from_features``."""
    mu_r, sigma_r = feature_stats(real)
    mu_g, sigma_g = feature_stats(fake)
    fid = frechet_distance(mu_r, sigma_r, mu_g, sigma_g)
    mean = float(np.sum((mu_r - mu_g) ** 2))
    return {"fid": fid, "mean": mean, "covariance": fid - mean, "total_variance_real": float(np.trace(sigma_r)),
            "total_variance_generated": float(np.trace(sigma_g))}


class StatsAccumulator:
    """Streaming mean and covariance in float64, equal to ``feature_stats`` of all batches stacked.

    Keeps only the count, the sum and the sum of outer products (D + D^2 numbers), so 50k x 2048
    features never need to be held at once. Sums are taken of ``x - shift``, with ``shift`` the
    mean of the first batch: the covariance is shift-invariant, and centring near the mean avoids the
    cancellation in ``S2 - n mu mu^T`` when the mean is large relative to the spread.
    """

    def __init__(self) -> None:
        self.n = 0
        self._shift: np.ndarray | None = None
        self._sum: np.ndarray | None = None
        self._outer: np.ndarray | None = None

    def update(self, features: ArrayLike) -> StatsAccumulator:
        """Add a (B, D) batch; returns self so calls can be chained."""
        x = as_float64(features)
        if len(x) == 0:
            return self
        if self._shift is None:
            self._shift = x.mean(axis=0)
            d = x.shape[1]
            self._sum, self._outer = np.zeros(d), np.zeros((d, d))
        elif x.shape[1] != self._shift.shape[0]:
            raise ValueError(f"feature size changed from {self._shift.shape[0]} to {x.shape[1]}")
        x = x - self._shift
        self.n += len(x)
        self._sum += x.sum(axis=0)
        self._outer += x.T @ x
        return self

    def stats(self) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma) of everything seen so far; sigma with ddof=1 as ``np.cov``."""
        if self.n < 2:
            raise ValueError("need at least 2 samples for a covariance")
        mean_shifted = self._sum / self.n
        sigma = (self._outer - self.n * np.outer(mean_shifted, mean_shifted)) / (self.n - 1)
        return self._shift + mean_shifted, (sigma + sigma.T) / 2
