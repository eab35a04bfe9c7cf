"""Is a feature extractor fit to rank models? Distortions whose order is known, and a copying generator.

A distance between image sets is trustworthy only if it gets worse as the images get worse in ways
everyone agrees on. For held-out real images, FID (and KID) against clean real images must rise with
each step of Gaussian blur, additive noise and JPEG compression, and as more modes (clusters) of the
data go missing; and a "generator" that returns near-copies of the reference images must be flagged
by the novelty metric, not rewarded (FID itself rewards it: copies are the data).

A row passes when every step up is larger than the sampling noise: each step's difference is
recomputed on bootstrap resamples of both image sets (the same resampled positions at every level),
and the 2.5% quantile of each step's difference must be above zero. The pure pieces live here;
``benchmarks/extractor_sanity.py`` runs them on a dataset and prints the table.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch import Tensor

from ..utils.images import jpeg_roundtrip

# ----------------------------------------------------------------------------- distortions (uint8 in, uint8 out)


def _per_image(images: Tensor, fn: Callable[[Image.Image], Image.Image]) -> Tensor:
    """Apply a Pillow function to each image of a uint8 (N, C, H, W) batch."""
    arrays = images.permute(0, 2, 3, 1).numpy()
    out = [np.asarray(fn(Image.fromarray(a.squeeze(-1) if a.shape[-1] == 1 else a))) for a in arrays]
    stacked = np.stack(out)
    if stacked.ndim == 3:
        stacked = stacked[..., None]
    return torch.from_numpy(stacked).permute(0, 3, 1, 2).contiguous()


def blur(images: Tensor, sigma: float) -> Tensor:
    """Gaussian blur of standard deviation ``sigma`` pixels (Pillow's GaussianBlur); 0 leaves them as they are."""
    if sigma == 0:
        return images.clone()
    return _per_image(images, lambda im: im.filter(ImageFilter.GaussianBlur(sigma)))


def noise(images: Tensor, std: float, seed: int = 0) -> Tensor:
    """Additive Gaussian noise of ``std`` grey levels (of 255), seeded, clipped to [0, 255]."""
    gen = torch.Generator().manual_seed(seed)
    noisy = images.float() + std * torch.randn(images.shape, generator=gen)
    return noisy.round().clamp(0, 255).to(torch.uint8)


def jpeg(images: Tensor, quality: int | None) -> Tensor:
    """JPEG-compressed at ``quality`` (Pillow, 4:2:0) and decoded again; None leaves them as they are."""
    if quality is None:
        return images.clone()
    return _per_image(images, lambda im: jpeg_roundtrip(im, quality))


def thumbnails(images: Tensor, size: int = 16) -> np.ndarray:
    """Pixel features for clustering: images area-averaged to size x size, flattened, in [0, 1]."""
    small = torch.nn.functional.interpolate(images.float() / 255, size=(size, size), mode="area")
    return small.flatten(1).numpy().astype(np.float64)


def kmeans_labels(points: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k-means (scipy's kmeans2, k-means++ start, seeded) cluster of each row."""
    from scipy.cluster.vq import kmeans2

    _, labels = kmeans2(points, k, minit="++", seed=seed)
    return labels


def drop_modes(labels: np.ndarray, dropped: int, order: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Positions of ``n`` items drawn (without replacement, seeded) from those whose cluster is not among the
    first ``dropped`` of ``order``."""
    kept = np.flatnonzero(~np.isin(labels, order[:dropped]))
    if len(kept) < n:
        raise ValueError(f"only {len(kept)} items left after dropping {dropped} clusters; {n} asked")
    return np.sort(np.random.default_rng(seed).choice(kept, n, replace=False))


# ----------------------------------------------------------------------------- scores and their noise


def fid_symmetric(real: np.ndarray, fake: np.ndarray) -> float:
    """FID through symmetric eigendecompositions, for the many bootstrap resamples: tr sqrt(S1 S2) equals the
    sum of the square roots of the eigenvalues of sqrt(S1) S2 sqrt(S1), a symmetric PSD matrix, so two
    ``eigh`` replace scipy's ``sqrtm`` (about 100x faster at 256 dimensions). Equal to fid_from_features
    to round-off (tested)."""
    from .fid import feature_stats

    mu1, s1 = feature_stats(real)
    mu2, s2 = feature_stats(fake)
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(root1 @ s2 @ root1)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(middle, 0, None)).sum())


def fid_and_kid(real: np.ndarray, fake: np.ndarray, kid_subsets: int = 10, kid_subset_size: int = 500,
                seed: int = 0) -> tuple[float, float]:
    from .fid import fid_from_features
    from .kid import kid

    k = kid(real, fake, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)["kid"]
    return fid_from_features(real, fake), k


def bootstrap_levels(real: np.ndarray, fakes: list[np.ndarray], score: Callable[[np.ndarray, np.ndarray], float],
                     resamples: int = 50, seed: int = 0) -> np.ndarray:
    """(resamples, levels): ``score(real*, fake_level*)`` on bootstrap resamples; each resample draws one set of
    positions for the real set and one for the fakes, shared by every level (the levels are paired)."""
    rng = np.random.default_rng(seed)
    sizes = {len(f) for f in fakes}
    if len(sizes) != 1:
        raise ValueError(f"every level needs the same number of images, got {sorted(sizes)}")
    n_fake = sizes.pop()
    out = np.empty((resamples, len(fakes)))
    for r in range(resamples):
        real_rows = rng.integers(0, len(real), len(real))
        fake_rows = rng.integers(0, n_fake, n_fake)
        out[r] = [score(real[real_rows], f[fake_rows]) for f in fakes]
    return out


def monotone_check(values, resampled: np.ndarray | None = None, increasing: bool = True) -> dict:
    """Does each level's score exceed the previous one's, beyond the noise?

    ``values``: the scores per level; ``resampled``: (resamples, levels) bootstrap scores (None: the point
    values alone decide). Per step: the difference, and the 2.5% quantile of its resampled differences
    (its lower bound); ``passed`` when every step's difference and lower bound are above zero (below, with
    ``increasing=False``).
    """
    values = np.asarray(values, dtype=np.float64)
    sign = 1.0 if increasing else -1.0
    steps = sign * np.diff(values)
    if resampled is None:
        lower = steps.copy()
    else:
        lower = np.quantile(sign * np.diff(np.asarray(resampled, dtype=np.float64), axis=1), 0.025, axis=0)
    return {"steps": steps.tolist(), "lower_bounds": lower.tolist(),
            "passed": bool(np.all(steps > 0) and np.all(lower > 0))}


def near_copy_shares(fakes: list[np.ndarray], reference: np.ndarray, quantile: float = 0.01,
                     resamples: int = 50, seed: int = 0) -> tuple[list[float], np.ndarray, float]:
    """novelty.py's near-copy rule on each level's fakes against ``reference``: the shares, their bootstrap
    resamples over the fakes (the threshold, a property of the reference, held fixed) and the threshold."""
    from .novelty import nearest_neighbours, train_nn_distances

    threshold = float(np.quantile(train_nn_distances(reference, seed=seed), quantile))
    flagged = [nearest_neighbours(f, reference, 1)[0][:, 0] <= threshold for f in fakes]
    rng = np.random.default_rng(seed)
    n = len(flagged[0])
    rows = rng.integers(0, n, (resamples, n))
    resampled = np.stack([[flags[r].mean() for flags in flagged] for r in rows])
    return [float(f.mean()) for f in flagged], resampled, threshold


def mix_copies(fresh: Tensor, copies: Tensor, share: float, seed: int = 0) -> Tensor:
    """A memorising "generator": ``len(fresh)`` images of which round(share * n) are taken from ``copies``
    (distinct, seeded) and the rest from ``fresh``."""
    n = len(fresh)
    k = int(round(share * n))
    if k > len(copies):
        raise ValueError(f"{k} copies asked of {len(copies)} images")
    rng = np.random.default_rng(seed)
    chosen = torch.from_numpy(rng.choice(len(copies), k, replace=False))
    return torch.cat([copies[chosen], fresh[k:]])
