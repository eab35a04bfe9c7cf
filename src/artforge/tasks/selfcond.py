"""Self-conditioning: class labels for unlabeled data from k-means on D's features.

Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs" (arXiv:2006.10728). Every
few thousand steps a fixed sample of real images is embedded with D's features and clustered with
k-means; G and D are then conditional on the cluster, and each fake is asked for the cluster of the
real image beside it in the batch, so clusters are drawn in proportion to their size.

Why it helps: an unconditional G maps one connected latent space onto all of the data, so between
two separate modes it must draw a thin bridge of samples that belong to neither. Conditioned on a
cluster, G draws each cluster from its own label and never has to cross between them, and D judges
each cluster on its own, so no mode can be dropped without the cluster's term noticing.

Each reclustering starts k-means from the previous clusters' means (in the new features) and then
matches the new clusters to the old ones one to one (Hungarian assignment on their overlap), so a
label keeps its meaning for G from one clustering to the next. Between reclusterings, real batches
are labelled by a frozen copy of D taken at the last clustering, so a label means one fixed region.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from scipy.cluster.vq import kmeans2
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn


IMAGES_PER_CLUSTER = 32  # a small dataset gets fewer clusters: G and D need several images to a cluster
# Below this many training images, conditioning collapses G within each cluster ("collapse by
# conditioning", Shahbazi et al. 2022): on 250 OpenMoji images G drew one image per cluster after
# 2,000-3,000 steps, with or without reclustering, while the unconditional G kept its variety.
MIN_IMAGES = 1000


def clusters_for(requested: int, images: int, min_images: int = MIN_IMAGES) -> int:
    """How many clusters a dataset of ``images`` gets when ``requested`` (0: self-conditioning off)."""
    if images < min_images:
        return 0
    clusters = min(requested or 0, images // IMAGES_PER_CLUSTER)
    return clusters if clusters >= 2 else 0


def cluster_means(features: np.ndarray, labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """(k, F) mean feature of each labelled cluster; an empty cluster restarts at a random point."""
    means = np.empty((k, features.shape[1]))
    for i in range(k):
        members = features[labels == i]
        means[i] = members.mean(axis=0) if len(members) else features[rng.integers(len(features))]
    return means


def match_clusters(new: np.ndarray, old: np.ndarray, k: int) -> np.ndarray:
    """``mapping[new_label] = old_label`` that keeps the most points in the same cluster (one to one)."""
    overlap = np.zeros((k, k))
    np.add.at(overlap, (new, old), 1)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def kmeans(features: np.ndarray, k: int, rng: np.random.Generator,
           previous: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(centroids (k, F), labels (N,)): k-means++ the first time, then warm-started and matched."""
    features = features.astype(np.float64)
    if previous is None:
        centroids, labels = kmeans2(features, k, minit="++", seed=rng)
        return centroids, labels
    centroids, labels = kmeans2(features, cluster_means(features, previous, k, rng), minit="matrix")
    mapping = match_clusters(labels, previous, k)
    matched = np.empty_like(centroids)
    matched[mapping] = centroids
    return matched, mapping[labels]


def weighted_label(seed: int, weights: list[float]) -> int:
    """The seed's class, drawn in proportion to ``weights``: the seed's point of the golden-ratio
    sequence (so any run of consecutive seeds covers the classes in proportion) through the inverse CDF."""
    u = (int(seed) * 0.6180339887498949) % 1.0
    cdf = np.cumsum(weights) / np.sum(weights)
    return int(min(np.searchsorted(cdf, u, side="right"), len(weights) - 1))


class SelfConditioner:
    """The clusters of a fixed real sample in D's feature space, and the labels they give new images.

    ``D`` must have ``features(x) -> (B, F)``, the representation its logit is computed from.
    """

    def __init__(self, clusters: int, fixed_real: Tensor, seed: int):
        if clusters < 2:
            raise ValueError(f"self-conditioning needs at least 2 clusters, got {clusters}")
        if len(fixed_real) < clusters:
            raise ValueError(f"{clusters} clusters need at least as many images, got {len(fixed_real)}")
        self.clusters = clusters
        self.fixed_real = fixed_real
        self.seed = seed
        self.reclusterings = 0
        self.labels: np.ndarray | None = None  # (N,) cluster of each fixed real image
        self.centroids: Tensor | None = None  # (k, F)
        self.frozen: nn.Module | None = None  # D as it was at the last clustering

    @torch.no_grad()
    def _features(self, x: Tensor, chunk: int = 512) -> Tensor:
        return torch.cat([self.frozen.features(x[i:i + chunk]).float() for i in range(0, len(x), chunk)])

    def recluster(self, D: nn.Module) -> None:
        self.frozen = copy.deepcopy(D).eval().requires_grad_(False)
        features = self._features(self.fixed_real).cpu().numpy()
        rng = np.random.default_rng([self.seed, self.reclusterings])
        centroids, self.labels = kmeans(features, self.clusters, rng, self.labels)
        self.reclusterings += 1
        device = self.fixed_real.device
        self.centroids = torch.from_numpy(centroids).float().to(device)

    @property
    def frequencies(self) -> Tensor:
        """(k,) the share of the fixed real sample in each cluster."""
        counts = np.bincount(self.labels, minlength=self.clusters)
        return torch.from_numpy(counts / counts.sum()).float()

    @torch.no_grad()
    def assign(self, x: Tensor) -> Tensor:
        """(B,) int64: the cluster whose centroid is nearest to each image's frozen features."""
        features = self._features(x)
        return torch.cdist(features, self.centroids.to(features.device)).argmin(dim=1)

    def sample_labels(self, n: int, gen: torch.Generator) -> Tensor:
        """n cluster labels drawn in proportion to the clusters' sizes."""
        return torch.multinomial(self.frequencies, n, replacement=True, generator=gen)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict:
        return {"clusters": self.clusters, "reclusterings": self.reclusterings,
                "labels": torch.from_numpy(self.labels), "centroids": self.centroids.cpu(),
                "frozen_D": self.frozen.state_dict()}

    def load_state_dict(self, state: dict, D: nn.Module) -> None:
        """Restore the clusters; ``D`` gives the structure the frozen copy's weights are loaded into."""
        if state["clusters"] != self.clusters:
            raise ValueError(f"checkpoint has {state['clusters']} clusters, this run {self.clusters}")
        self.reclusterings = state["reclusterings"]
        self.labels = state["labels"].numpy().astype(np.int64)
        self.centroids = state["centroids"].float().to(self.fixed_real.device)
        self.frozen = copy.deepcopy(D).eval().requires_grad_(False)
        self.frozen.load_state_dict(state["frozen_D"])
