"""Memorization analysis: how close is each generated image to its nearest training image?

A GAN that copies its training set scores well on FID, so the nearest training neighbour of each
generated item is found, in feature space (e.g. Inception pool3) and optionally in pixel space
(flattened images, e.g. downscaled to 32x32), and summarized.

Near-copy rule. A fake is a near-copy when its nearest-neighbour distance to the training set is at
most the ``near_copy_quantile`` (default 1%) quantile of the training set's own leave-one-out
nearest-neighbour distances (each training item to its nearest *other* training item; for speed at
most 5000 training items are queried, each against the full training set). Why: the rule is
scale-free, so one setting works for any feature space, resolution or pixel range; a near-copy is
closer to a training image than 99% of training images are to each other. A generator that draws
fresh samples from the data distribution lands below the threshold about ``near_copy_quantile`` of
the time (its NN distances are distributed like the training set's own), so the share to worry
about is one well above that baseline, not above 0. The comparison is ``<=`` so exact copies count
even when the training set holds duplicates (threshold 0). Related: the nearest-neighbour checks of
Brock et al. 2019 (BigGAN, app.) and Karras et al. 2020 (StyleGAN2-ADA), and the copy detection of
Meehan et al. 2020 ("A non-parametric test to detect data-copying in generative models").
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from artforge.metrics.prdc import DEFAULT_CHUNK, as_matrix, distance_blocks
from artforge.utils.images import make_grid

ArrayLike = np.ndarray | Tensor


def nearest_neighbours(query: ArrayLike, reference: ArrayLike, k: int = 1, chunk: int = DEFAULT_CHUNK,
                       exclude: ArrayLike | None = None,
                       dtype: torch.dtype = torch.float32) -> tuple[np.ndarray, np.ndarray]:
    """k nearest reference rows of each query row: (distances (Q, k) float64, indices (Q, k) int64).

    Inputs are (N, ...) arrays, trailing dimensions flattened (so images can be passed directly).
    The search runs on ``chunk`` query rows at a time in ``dtype``; the returned distances are then
    recomputed exactly in float64 for the chosen pairs (the fast matrix-product form has round-off
    that would put an exact copy at a small positive distance). ``exclude[i]`` is a reference index
    to skip for query i (leave-one-out when the queries are reference rows). Sorted nearest first.
    """
    q, r = as_matrix(query, dtype), as_matrix(reference, dtype)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"dimensions differ: {q.shape[1]} vs {r.shape[1]}")
    if not 1 <= k <= len(r) - (exclude is not None):
        raise ValueError(f"k = {k} neighbours asked of {len(r)} reference items")
    skip = None if exclude is None else torch.as_tensor(exclude, device=q.device).long()
    if skip is not None and skip.shape != (len(q),):
        raise ValueError(f"exclude needs one reference index per query ({len(q)}), got shape {tuple(skip.shape)}")
    query_t, reference_t = _rows(query), _rows(reference)

    distances, indices = np.empty((len(q), k)), np.empty((len(q), k), dtype=np.int64)
    for start, d in distance_blocks(q, r, chunk):
        end = start + len(d)
        if skip is not None:
            d[torch.arange(len(d), device=d.device), skip[start:end]] = float("inf")
        idx = d.topk(k, dim=1, largest=False).indices
        exact = (query_t[start:end].double()[:, None, :] - reference_t[idx.to(reference_t.device)].double()
                 ).norm(dim=-1).cpu()
        order = exact.argsort(dim=1, stable=True)
        distances[start:end] = exact.gather(1, order).numpy()
        indices[start:end] = idx.cpu().gather(1, order).numpy()
    return distances, indices


def _rows(x: ArrayLike) -> Tensor:
    """(N, ...) -> (N, D) tensor view, dtype unchanged."""
    t = torch.as_tensor(x)
    return t.reshape(t.shape[0], -1)


def train_nn_distances(train: ArrayLike, max_queries: int = 5000, seed: int = 0,
                       chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """Leave-one-out nearest-neighbour distance of (at most ``max_queries``) training items to the
    rest of the training set: the yardstick of the near-copy rule."""
    n = len(train)
    if n < 2:
        raise ValueError("need at least 2 training items")
    sample = np.sort(np.random.default_rng(seed).choice(n, min(n, max_queries), replace=False))
    queries = train[torch.as_tensor(sample)] if isinstance(train, Tensor) else np.asarray(train)[sample]
    return nearest_neighbours(queries, train, 1, chunk, exclude=sample)[0][:, 0]


def _space_report(fake: ArrayLike, train: ArrayLike, quantile: float, top: int, max_queries: int,
                  seed: int, chunk: int) -> dict:
    dist, idx = (a[:, 0] for a in nearest_neighbours(fake, train, 1, chunk))
    train_nn = train_nn_distances(train, max_queries, seed, chunk)
    threshold = float(np.quantile(train_nn, quantile))
    near = dist <= threshold
    closest = np.argsort(dist, kind="stable")[:top]
    return {
        "distances": dist,  # (n_fake,) float64: each fake's distance to its nearest training item
        "indices": idx,  # (n_fake,) int64: that training item
        "min": float(dist.min()),
        **{f"q{round(p * 100):02d}": float(np.quantile(dist, p)) for p in (0.01, 0.05, 0.25, 0.5)},
        "train_nn_median": float(np.median(train_nn)),
        "threshold": threshold,
        "near_copies": int(near.sum()),
        "near_copy_share": float(near.mean()),
        "closest_pairs": [(int(f), int(idx[f]), float(dist[f])) for f in closest],
    }


def novelty(fake_features: ArrayLike, train_features: ArrayLike, fake_pixels: ArrayLike | None = None,
            train_pixels: ArrayLike | None = None, near_copy_quantile: float = 0.01, *, top: int = 16,
            max_queries: int = 5000, seed: int = 0, chunk: int = DEFAULT_CHUNK) -> dict:
    """Nearest-training-neighbour report of generated items, per space ("feature", and "pixel" when
    both pixel sets are given, else None).

    Each space's report: ``distances`` and ``indices`` (numpy, one per fake), ``min``, quantiles
    ``q01 q05 q25 q50`` of the distances, ``train_nn_median``, the near-copy ``threshold`` (see the
    module docstring), ``near_copies`` and ``near_copy_share``, and ``closest_pairs``: the ``top``
    (fake index, train index, distance) triples, closest first, for ``closest_pairs_grid``.
    """
    if (fake_pixels is None) != (train_pixels is None):
        raise ValueError("give both fake_pixels and train_pixels, or neither")
    if not 0 <= near_copy_quantile <= 1:
        raise ValueError("near_copy_quantile must be in [0, 1]")
    spaces = {"feature": (fake_features, train_features), "pixel": (fake_pixels, train_pixels)}
    report = {name: None if fake is None else
              _space_report(fake, train, near_copy_quantile, top, max_queries, seed, chunk)
              for name, (fake, train) in spaces.items()}
    return {**report, "near_copy_quantile": near_copy_quantile, "n_fake": len(fake_features),
            "n_train": len(train_features), "n_train_queried": min(len(train_features), max_queries)}


def _hwc_uint8(images: ArrayLike) -> np.ndarray:
    arr = np.asarray(images.cpu() if isinstance(images, Tensor) else images)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 (B, H, W, C) or (B, H, W) images, got {arr.dtype} {arr.shape}")
    return arr


def closest_pairs_grid(fake_images_uint8: ArrayLike, train_images_uint8: ArrayLike, pairs, pairs_per_row: int = 4,
                       pad: int = 2, background: int = 255) -> Image.Image:
    """One picture of (fake | nearest training image) pairs, ``pairs_per_row`` pairs a row.

    ``pairs`` holds (fake index, train index, ...) tuples, e.g. ``novelty(...)["pixel"]["closest_pairs"]``;
    the images are uint8 (B, H, W, C) (or (B, H, W)) of the same size, as ``utils.images.to_uint8`` gives.
    """
    fake, train = _hwc_uint8(fake_images_uint8), _hwc_uint8(train_images_uint8)
    if fake.shape[1:] != train.shape[1:]:
        raise ValueError(f"image sizes differ: {fake.shape[1:]} vs {train.shape[1:]}")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("no pairs to draw")
    tiles = np.stack([img for f, t, *_ in pairs for img in (fake[f], train[t])])
    per_row = min(pairs_per_row, len(pairs))
    return make_grid(tiles, cols=2 * per_row, pad=pad, background=background)
