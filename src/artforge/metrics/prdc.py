"""k-NN manifold metrics: precision/recall and density/coverage of generated features.

Each feature set's manifold is estimated as the union of balls around its samples, the radius of a
sample's ball being the distance to its k-th nearest neighbour within the same set (the sample
itself excluded). Then:

* precision (Kynkäänniemi et al. 2019, "Improved precision and recall metric for assessing
  generative models"): share of fakes inside the real manifold (within the ball of some real);
  fidelity. Recall: share of reals inside the fake manifold; diversity. Default k = 3, and a point
  on a ball's boundary counts as inside (``<=``), as in the authors' code.
* density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity metrics for generative
  models", the ``prdc`` package): only real balls are used, as the fake manifold is unreliable
  with outliers. Density = (1 / kN_fake) * sum over fakes of the number of real balls containing
  it (~1 when the two distributions match; can exceed 1); coverage = share of reals whose ball
  contains at least one fake. Default k = 5 and strict ``<``, as in ``prdc``.

Distances are Euclidean, computed by ``torch.cdist`` in row chunks so that at most ``chunk x N``
distances exist at once (10k x 10k x 2048 in a few hundred MB). float32 by default, as both
reference implementations; pass ``dtype=torch.float64`` for ties that matter.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

DEFAULT_CHUNK = 4096


def as_matrix(x: np.ndarray | Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """(N, ...) array or tensor -> (N, D) tensor of ``dtype`` (trailing dimensions flattened)."""
    t = torch.as_tensor(x)
    if t.ndim < 2:
        raise ValueError(f"expected (N, D) features, got shape {tuple(t.shape)}")
    return t.reshape(t.shape[0], -1).to(dtype)


def distance_blocks(query: Tensor, reference: Tensor, chunk: int = DEFAULT_CHUNK) -> Iterator[tuple[int, Tensor]]:
    """Yield (start, distances of query[start:start + chunk] to every reference row)."""
    for start in range(0, len(query), chunk):
        # Always the matrix-product form (cdist would switch forms by size): chunking only batches rows.
        yield start, torch.cdist(query[start:start + chunk], reference,
                                 compute_mode="use_mm_for_euclid_dist")


def knn_radii(features: np.ndarray | Tensor, k: int, chunk: int = DEFAULT_CHUNK,
              dtype: torch.dtype = torch.float32) -> Tensor:
    """Distance of each sample to its k-th nearest neighbour in the same set, itself excluded.

    The sample is excluded by index (its own column is set to inf), not by skipping the smallest
    distance, so a duplicate of the sample still counts as a neighbour at distance 0, as in the
    reference implementations.
    """
    x = as_matrix(features, dtype)
    if not 1 <= k < len(x):
        raise ValueError(f"k must be in [1, {len(x) - 1}] for {len(x)} samples, got {k}")
    radii = torch.empty(len(x), dtype=x.dtype, device=x.device)
    for start, d in distance_blocks(x, x, chunk):
        rows = torch.arange(len(d), device=d.device)
        d[rows, start + rows] = float("inf")
        radii[start:start + len(d)] = d.kthvalue(k, dim=1).values
    return radii


def precision_recall(real: np.ndarray | Tensor, fake: np.ndarray | Tensor, k: int = 3,
                     chunk: int = DEFAULT_CHUNK, dtype: torch.dtype = torch.float32) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of fake vs real (N, D) features."""
    x, y = as_matrix(real, dtype), as_matrix(fake, dtype)
    radii_real, radii_fake = knn_radii(x, k, chunk, dtype), knn_radii(y, k, chunk, dtype)
    fake_inside = torch.zeros(len(y), dtype=torch.bool, device=y.device)  # in the ball of some real
    reals_inside = 0  # reals in the ball of some fake
    for start, d in _real_by_fake_blocks(x, y, chunk):
        fake_inside |= (d <= radii_real[start:start + len(d), None]).any(dim=0)
        reals_inside += int((d <= radii_fake[None, :]).any(dim=1).sum())
    return {"precision": int(fake_inside.sum()) / len(y), "recall": reals_inside / len(x)}


def density_coverage(real: np.ndarray | Tensor, fake: np.ndarray | Tensor, k: int = 5,
                     chunk: int = DEFAULT_CHUNK, dtype: torch.dtype = torch.float32) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020) of fake vs real (N, D) features."""
    x, y = as_matrix(real, dtype), as_matrix(fake, dtype)
    radii = knn_radii(x, k, chunk, dtype)
    balls_containing = 0  # sum over fakes of the number of real balls that contain the fake
    covered = 0  # reals whose nearest fake is inside their own ball
    for start, d in _real_by_fake_blocks(x, y, chunk):
        r = radii[start:start + len(d), None]
        balls_containing += int((d < r).sum())
        covered += int((d.min(dim=1, keepdim=True).values < r).sum())
    return {"density": balls_containing / (k * len(y)), "coverage": covered / len(x)}


def _real_by_fake_blocks(x: Tensor, y: Tensor, chunk: int) -> Iterator[tuple[int, Tensor]]:
    """Real-to-fake distances with the reals as rows, as in ``knn_radii``. A fake that copies a real
    then gets the same distances that set the real radii (a transposed product can round
    differently), so a copy on a ball's boundary is not counted inside by round-off."""
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: {x.shape[1]} vs {y.shape[1]}")
    return distance_blocks(x, y, chunk)
