"""Inception Score (IS; Salimans et al. 2016, "Improved techniques for training GANs").

IS = exp(E_x KL(p(y|x) || p(y))): high when each image is classified confidently (low-entropy
p(y|x)) and the classes are spread evenly (high-entropy marginal p(y)). Between 1 and the number of
classes. As in the original code and torch-fidelity, the N samples are cut into ``splits`` equal
parts, the marginal p(y) is the mean of p(y|x) within a part, and mean and (population) std of the
per-part scores are reported.

Logits: the softmax is taken over the logits exactly as given, all columns. torch-fidelity's
default IS feature is ``logits_unbiased`` of its TF-ported Inception: all 1008 outputs (including
the 8 unused classes), computed as ``pool3 @ W^T`` without the fc bias; pass those unchanged to match
its numbers. Nothing is dropped or re-biased here, so the function also works for any classifier.
"""

from __future__ import annotations

import numpy as np
import torch

from artforge.metrics.fid import ArrayLike, as_float64


def inception_score(logits: ArrayLike, splits: int = 10, shuffle_seed: int | None = None) -> dict:
    """IS of (N, C) logits: {"is": mean over splits, "is_std": std over splits}.

    The order is kept by default (generated samples come in random order). ``shuffle_seed=2020``
    permutes the rows with ``np.random.RandomState(2020)`` first, as torch-fidelity's defaults do,
    which reproduces its numbers exactly. Part i is rows [i N // splits, (i + 1) N // splits).
    """
    x = torch.as_tensor(as_float64(logits))
    n = x.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be in [1, {n}], got {splits}")
    if shuffle_seed is not None:
        x = x[np.random.RandomState(shuffle_seed).permutation(n)]

    log_p = x.log_softmax(dim=1)
    p = x.softmax(dim=1)
    scores = []
    for i in range(splits):
        part = slice(i * n // splits, (i + 1) * n // splits)
        log_marginal = p[part].mean(dim=0, keepdim=True).log()
        terms = p[part] * (log_p[part] - log_marginal)
        # 0 log 0 = 0: a class with p(y|x) == 0 underflowed everywhere in the part would give 0 * inf
        kl = torch.where(p[part] > 0, terms, 0.0).sum(dim=1)  # KL(p(y|x) || p(y)) per image
        # KL is never negative; rounding took the mean a hair below 0 (IS 1 - 1e-16) where every image
        # of a part has the same class distribution
        scores.append(kl.mean().clamp(min=0.0).exp().item())
    return {"is": float(np.mean(scores)), "is_std": float(np.std(scores))}
