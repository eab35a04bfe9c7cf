"""Is one model better than another, or within seed-to-seed noise? Per-seed scores of two groups.

A model's score moves from seed to seed (the DCGAN default's SWD spans 14.4-16.4 over three seeds
on OpenMoji), so a difference of means says nothing until it is set against that spread. Each
group's resampled mean (a percentile bootstrap: seeds drawn with replacement, ``resamples`` times,
seeded) gives an interval for the difference; only an interval that excludes zero names a better
model. With few seeds the percentile bootstrap is too narrow (three seeds have ten distinct
resampled means), so Welch's t interval is reported beside it: the stricter of the two is the
honest reading.
"""

from __future__ import annotations

import numpy as np

RESAMPLES = 10_000


def group_summary(scores) -> dict:
    """n, mean and sample standard deviation (ddof 1; 0 for a single score) of one group's per-seed scores."""
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError("a group needs at least one score")
    return {"n": len(x), "mean": float(x.mean()), "std": float(x.std(ddof=1)) if len(x) > 1 else 0.0,
            "scores": x.tolist()}


def bootstrap_difference(a, b, resamples: int = RESAMPLES, seed: int = 0,
                         confidence: float = 0.95) -> tuple[float, float, float]:
    """mean(a) - mean(b) and its percentile-bootstrap interval (low, high), each group resampled on its own."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means_a = a[rng.integers(0, len(a), (resamples, len(a)))].mean(axis=1)
    means_b = b[rng.integers(0, len(b), (resamples, len(b)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means_a - means_b, [tail, 1 - tail])
    return float(a.mean() - b.mean()), float(low), float(high)


def welch_interval(a, b, confidence: float = 0.95) -> tuple[float, float] | None:
    """Welch's t interval of mean(a) - mean(b) (Welch-Satterthwaite degrees of freedom); None when a group
    has fewer than two scores or neither has any spread."""
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if min(len(a), len(b)) < 2:
        return None
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return None
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = stats.t.ppf(0.5 + confidence / 2, df) * np.sqrt(va + vb)
    difference = a.mean() - b.mean()
    return float(difference - half), float(difference + half)


def verdict(low: float, high: float, better: str = "lower", names: tuple[str, str] = ("A", "B")) -> str:
    """'<A> better', '<B> better' or 'within noise' from an interval of mean(A) - mean(B)."""
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', not {better!r}")
    if low <= 0 <= high:
        return "within noise"
    a_lower = high < 0
    return f"{names[0] if a_lower == (better == 'lower') else names[1]} better"


def compare_groups(a, b, better: str = "lower", names: tuple[str, str] = ("A", "B"),
                   resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """Both groups' summaries, the difference of means (A - B), its bootstrap and Welch intervals, the verdict
    (by the bootstrap interval)."""
    difference, low, high = bootstrap_difference(a, b, resamples, seed)
    return {"a": group_summary(a), "b": group_summary(b), "names": list(names), "better": better,
            "difference": difference, "bootstrap_ci95": [low, high], "resamples": resamples, "seed": seed,
            "welch_ci95": welch_interval(a, b), "verdict": verdict(low, high, better, names)}
