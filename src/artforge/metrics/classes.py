"""Class balance of generated images on labeled datasets.

A classifier trained on the dataset labels the generated images; the histogram of its decisions is
compared with the dataset's label distribution. Two numbers summarize it:

* class coverage: share of the dataset's classes the generator still produces. Rule: class c is
  covered when at least max(1, ``min_fraction`` * expected count) generated images are predicted
  as c, the expected count being N_generated * p_data(c), ``min_fraction`` = 0.1 by default. Why:
  a class predicted a handful of times where thousands are expected has in effect been dropped
  (mode collapse), which "at least one image" would miss on large samples; 10% of the expected
  count leaves ample room for classifier confusion and sampling noise (for an expected count of
  100, a count below 10 by chance alone is practically impossible), and the floor of 1 keeps the
  rule meaningful for rare classes and small samples (though with an expected count below ~5 a
  class can be missed by chance: P(0) ~ exp(-expected)). Classes with no data (p = 0) are left out.
  Cf. the mode counts of Srivastava et al. 2017 (VEEGAN) and Metz et al. 2017 (Unrolled GAN).
* KL(p_generated || p_data) of the predicted-class histogram to the label distribution, in nats:
  0 when the generator keeps the class proportions; log(1 / p_data(c)) when everything is class c.
  Empty generated classes contribute 0 (0 log 0 = 0); p_data is floored at ``eps`` so a class the
  data lacks gives a large finite value rather than inf.
"""

from __future__ import annotations

import numpy as np
import torch


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _predicted_labels(predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(N,) integer labels, or (N, C) probabilities/logits -> argmax labels."""
    if predictions.ndim == 2:
        if predictions.shape[1] != num_classes:
            raise ValueError(f"{predictions.shape[1]} predicted classes vs {num_classes} in the distribution")
        return predictions.argmax(axis=1)
    if predictions.ndim != 1 or (predictions.size and not np.all(np.mod(predictions, 1) == 0)):
        raise ValueError("expected (N,) integer labels or (N, C) probabilities")
    labels = predictions.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels outside [0, {num_classes})")
    return labels


def class_statistics(predicted_probs_or_labels, label_distribution, min_fraction: float = 0.1,
                     eps: float = 1e-10) -> dict:
    """Class coverage and KL to the data's label distribution of generated images' predicted classes.

    ``predicted_probs_or_labels``: (N,) predicted labels, or (N, C) class probabilities or logits
    (the argmax is taken: the histogram counts the classifier's decisions). ``label_distribution``:
    (C,) counts or shares of each class in the dataset. Returns ``coverage``, ``kl``, ``histogram``
    (predicted share per class), ``counts``, ``expected`` (counts the data proportions would give),
    ``covered_classes``, ``missing_classes``, ``num_classes`` and ``n``.
    """
    p_data = _numpy(label_distribution).astype(np.float64)
    if p_data.ndim != 1 or p_data.size == 0 or (p_data < 0).any() or p_data.sum() <= 0:
        raise ValueError("label_distribution must be non-negative (C,) counts or shares with a positive sum")
    p_data = p_data / p_data.sum()
    num_classes = len(p_data)

    labels = _predicted_labels(_numpy(predicted_probs_or_labels), num_classes)
    n = len(labels)
    if n == 0:
        raise ValueError("no predictions")
    counts = np.bincount(labels, minlength=num_classes)
    hist = counts / n
    expected = n * p_data

    in_data = p_data > 0
    covered = in_data & (counts >= np.maximum(1.0, min_fraction * expected))
    nonzero = hist > 0
    kl = float(np.sum(hist[nonzero] * np.log(hist[nonzero] / np.maximum(p_data[nonzero], eps))))

    return {
        "coverage": float(covered.sum() / in_data.sum()),
        "kl": kl,
        "histogram": hist.tolist(),
        "counts": counts.tolist(),
        "expected": expected.tolist(),
        "covered_classes": np.flatnonzero(covered).tolist(),
        "missing_classes": np.flatnonzero(in_data & ~covered).tolist(),
        "num_classes": num_classes,
        "n": n,
    }
