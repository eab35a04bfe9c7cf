"""Class coverage and KL of predicted classes to the label distribution (metrics/classes.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from artforge.metrics.classes import class_statistics


def test_predictions_matching_the_label_distribution():
    counts = np.array([50, 30, 15, 5])
    labels = np.repeat(np.arange(4), counts)
    out = class_statistics(labels, counts)
    assert out["kl"] == pytest.approx(0.0, abs=1e-12)
    assert out["coverage"] == 1.0 and out["missing_classes"] == []
    assert out["histogram"] == pytest.approx([0.5, 0.3, 0.15, 0.05])
    assert out["counts"] == counts.tolist() and out["n"] == 100 and out["num_classes"] == 4


@pytest.mark.parametrize("c", [0, 2])
def test_all_predictions_in_one_class(c):
    shares = np.array([0.4, 0.35, 0.25])
    out = class_statistics(np.full(50, c), shares)
    assert out["coverage"] == pytest.approx(1 / 3)
    assert out["kl"] == pytest.approx(math.log(1 / shares[c]), rel=1e-12)
    assert out["covered_classes"] == [c]


def test_probabilities_are_argmaxed():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    out = class_statistics(probs, [2, 1, 1])
    assert out["counts"] == [2, 1, 1] and out["kl"] == pytest.approx(0.0, abs=1e-12)


def test_coverage_needs_a_tenth_of_the_expected_count():
    # 1000 images, 4 equal classes: 250 expected each, so a class needs >= 25 predictions
    labels = np.concatenate([np.full(24, 0), np.full(25, 1), np.full(451, 2), np.full(500, 3)])
    out = class_statistics(labels, [1, 1, 1, 1])
    assert out["covered_classes"] == [1, 2, 3] and out["missing_classes"] == [0]
    assert out["coverage"] == 0.75


def test_small_samples_need_one_prediction_and_empty_data_classes_are_ignored():
    out = class_statistics([0, 1], [10, 10, 0])  # expected counts 1, 1, 0
    assert out["coverage"] == 1.0 and out["missing_classes"] == []
    bad = class_statistics([2, 2], [1, 1, 0])  # predicting a class the data lacks: large, finite KL
    assert bad["coverage"] == 0.0 and math.isfinite(bad["kl"]) and bad["kl"] > 20


def test_invalid_inputs():
    with pytest.raises(ValueError):
        class_statistics([0, 3], [1, 1, 1])
    with pytest.raises(ValueError):
        class_statistics(np.ones((2, 4)), [1, 1, 1])
    with pytest.raises(ValueError):
        class_statistics([0, 1], [-1, 2])
