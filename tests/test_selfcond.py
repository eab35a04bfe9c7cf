"""Self-conditioning: k-means on D's features, labels that keep their meaning, resumable state."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from artforge.options import TrainConfig
from artforge.errors import UsageError
from artforge.losses import get_loss
from artforge.tasks.generation import StepContext
from artforge.tasks.selfcond import SelfConditioner, clusters_for, kmeans, match_clusters

CORNERS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])


def blobs(n_per: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(4), n_per)
    return CORNERS[truth] + 0.3 * rng.standard_normal((4 * n_per, 2)), truth


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when the labelings group the points identically (up to renaming)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_kmeans_finds_separated_clusters():
    x, truth = blobs()
    centroids, labels = kmeans(x, 4, np.random.default_rng(0))
    assert same_partition(labels, truth)
    assert np.allclose(np.sort(centroids, axis=0), np.sort(CORNERS, axis=0), atol=0.15)


def test_match_clusters_undoes_a_renaming():
    old = np.array([0, 0, 1, 1, 2, 2, 2])
    new = np.array([2, 2, 0, 0, 1, 1, 0])  # renamed, and the last point moved
    mapping = match_clusters(new, old, 3)
    assert mapping.tolist() == [1, 2, 0]  # new 0 -> old 1, new 1 -> old 2, new 2 -> old 0
    assert (mapping[new] == old).sum() == 6


def test_reclustering_keeps_each_label_on_the_same_points():
    x, _ = blobs()
    _, first = kmeans(x, 4, np.random.default_rng(0))
    moved = 3.0 * x[:, ::-1] + 7.0  # new features (as after D trains): same groups, different coordinates
    _, again = kmeans(moved, 4, np.random.default_rng(1), previous=first)
    assert np.array_equal(again, first)


def test_clusters_for_small_datasets():
    assert clusters_for(50, 1000) == 31  # at most one cluster per 32 images
    assert clusters_for(50, 4000) == 50
    assert clusters_for(50, 999) == 0  # below 1,000 images: off (collapse by conditioning)
    assert clusters_for(50, 389, min_images=64) == 12
    assert clusters_for(50, 64, min_images=64) == 2
    assert clusters_for(50, 63, min_images=0) == 0 and clusters_for(0, 1000) == 0  # one cluster is no conditioning


class PointD(nn.Module):
    """A 'discriminator' whose features are the points themselves, scaled."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale))

    def features(self, x):
        return x * self.scale


def test_conditioner_labels_new_points_by_the_frozen_features_and_round_trips():
    x, truth = blobs()
    D = PointD()
    sc = SelfConditioner(4, torch.tensor(x, dtype=torch.float32), seed=0)
    sc.recluster(D)
    assert same_partition(sc.labels, truth)
    near = torch.tensor(CORNERS + 0.1, dtype=torch.float32)
    expected = sc.assign(near)
    assert sorted(expected.tolist()) == [0, 1, 2, 3]
    with torch.no_grad():
        D.scale.fill_(-5.0)  # D trains on: labels still come from the copy frozen at the clustering
    assert torch.equal(sc.assign(near), expected)
    assert torch.allclose(sc.frequencies, torch.full((4,), 0.25))
    restored = SelfConditioner(4, torch.tensor(x, dtype=torch.float32), seed=0)
    restored.load_state_dict(sc.state_dict(), D)
    assert torch.equal(restored.assign(near), expected) and np.array_equal(restored.labels, sc.labels)
    with pytest.raises(ValueError, match="checkpoint has 4 clusters"):
        SelfConditioner(3, torch.tensor(x, dtype=torch.float32), seed=0).load_state_dict(sc.state_dict(), D)


def test_sampled_labels_follow_the_cluster_sizes():
    x, _ = blobs()
    sc = SelfConditioner(2, torch.tensor(x, dtype=torch.float32), seed=0)
    sc.labels = np.repeat([0, 1], [160, 40])  # cluster sizes 80% and 20%
    drawn = sc.sample_labels(20_000, torch.Generator().manual_seed(0))
    assert abs(drawn.float().mean().item() - 0.2) < 0.01


def test_fakes_are_asked_for_the_labels_of_the_real_batch():
    G = lambda z, c: z[:, :2] + c[:, None].float()  # noqa: E731
    batches = iter([(torch.zeros(6, 2), None)])
    labeler = lambda x: torch.tensor([0, 1, 2, 2, 1, 0])  # noqa: E731
    ctx = StepContext(G, None, get_loss("nonsaturating"), batches, torch.Generator().manual_seed(0),
                      torch.device("cpu"), 6, 4, num_classes=3, labeler=labeler)
    real, c_real = ctx.real()
    fake, c_fake = ctx.fake()
    assert c_real.tolist() == [0, 1, 2, 2, 1, 0] and torch.equal(c_fake, c_real)


@pytest.mark.parametrize("value", [1, -2, 2.5])
def test_bad_cluster_counts_are_usage_errors(value):
    with pytest.raises(UsageError, match="--self-cond"):
        TrainConfig(dataset="d.zip", self_cond=value)


def test_bad_recluster_interval_is_a_usage_error():
    with pytest.raises(UsageError, match="--self-cond-every must be an integer >= 1, got 0"):
        TrainConfig(dataset="d.zip", self_cond_every=0)
