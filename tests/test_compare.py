"""Two groups of per-seed scores: the bootstrap interval of the difference and the verdict."""

from __future__ import annotations

import pytest

from artforge.metrics.compare import bootstrap_difference, compare_groups, group_summary, verdict, welch_interval


def test_clearly_separated_groups_exclude_zero_and_name_the_better():
    a, b = [1.0, 1.1, 0.9, 1.05, 0.95], [2.0, 2.1, 1.9, 2.05, 1.95]
    out = compare_groups(a, b, better="lower", names=("style", "dcgan"))
    low, high = out["bootstrap_ci95"]
    assert out["difference"] == pytest.approx(-1.0) and low < -0.9 and high < -0.9
    assert out["verdict"] == "style better"
    assert compare_groups(a, b, better="higher", names=("style", "dcgan"))["verdict"] == "dcgan better"


def test_overlapping_groups_are_within_noise():
    a, b = [12.15, 12.70, 18.86], [15.15, 14.36, 16.43]  # interleaved: a's spread covers b's mean
    out = compare_groups(a, b)
    low, high = out["bootstrap_ci95"]
    assert low < 0 < high and out["verdict"] == "within noise"
    w_low, w_high = out["welch_ci95"]
    assert w_low < low and w_high > high  # with three seeds Welch's interval is the wider one


def test_bootstrap_matches_a_direct_enumeration():
    """Two seeds a group: a's resampled mean is 0, 1 or 2 (probabilities 1/4, 1/2, 1/4), b's 10, 12 or 14,
    so the difference's extremes, -14 and -8, each carry 1/16 = 6.25% of the mass: more than the 2.5% tails,
    so the interval's ends are exactly those extremes."""
    diff, low, high = bootstrap_difference([0.0, 2.0], [10.0, 14.0], resamples=20_000, seed=1)
    assert (diff, low, high) == (-11.0, -14.0, -8.0)
    assert bootstrap_difference([3.0, 3.0, 3.0], [1.0, 1.0], resamples=100) == (2.0, 2.0, 2.0)


def test_seeded_and_summaries():
    a, b = [1.0, 3.0, 2.0, 5.0], [2.0, 2.5, 4.0]
    assert bootstrap_difference(a, b, seed=7) == bootstrap_difference(a, b, seed=7)
    s = group_summary([1.0, 2.0, 3.0])
    assert (s["n"], s["mean"], s["std"]) == (3, 2.0, 1.0)
    assert welch_interval([1.0], [2.0, 3.0]) is None
    assert verdict(-2, -1, "higher", ("x", "y")) == "y better" and verdict(-1, 0, "lower") == "within noise"
    with pytest.raises(ValueError):
        verdict(0, 1, "smaller")


def test_welch_interval_equals_scipys():
    from scipy import stats

    a, b = [0.55, 0.52, 0.68], [0.667, 0.729, 0.795, 0.70]
    result = stats.ttest_ind(a, b, equal_var=False)
    if not hasattr(result, "confidence_interval"):  # scipy < 1.11
        pytest.skip("this scipy has no ttest_ind confidence interval to compare with")
    ci = result.confidence_interval(0.95)
    assert welch_interval(a, b) == pytest.approx((ci.low, ci.high), rel=1e-9)
