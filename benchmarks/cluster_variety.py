"""How varied a self-conditioned model's images are inside one cluster, against the training images'.

A conditional generator can draw every cluster well on average yet make each cluster's images too
alike ("collapse by conditioning", Shahbazi et al. 2022). This prints, per run, the mean pixel
distance between two images of the same cluster (``--per-cluster`` drawn per cluster, the clusters
weighted alike) and between two images drawn over all clusters in proportion to their sizes; then
the same for the training images, assigned to the run's clusters with its own frozen D and
centroids (saved in every checkpoint). Pixels are in [0, 1]; distances are Euclidean over the image.

    python benchmarks/cluster_variety.py runs/00003-openmoji-64-style runs/00004-openmoji-64-dcgan \
        --real datasets/openmoji-64.zip
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpuinfo  # noqa: E402


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """(N, F) -> the mean Euclidean distance over the N (N - 1) ordered pairs of distinct rows."""
    n = len(x)
    return float(torch.cdist(x.double(), x.double()).sum() / (n * (n - 1)))


def within_cluster(images: torch.Tensor, labels: torch.Tensor, per_cluster: int) -> float:
    """The mean pairwise distance inside a cluster of (N, ...) images with (N,) labels, over the clusters
    with 3 or more images (the first ``per_cluster`` of each), the clusters weighted alike."""
    flat = images.flatten(1)
    return float(np.mean([mean_pairwise_distance(flat[labels == k][:per_cluster]) for k in labels.unique().tolist()
                          if int((labels == k).sum()) >= 3]))


def run_clusters(model, real: torch.Tensor):
    """The run's clusters (tasks/selfcond.py's SelfConditioner, restored from its checkpoint: the frozen D
    and centroids) over ``real`` images in [-1, 1], or a one-line error for a run without them."""
    from artforge.models.registry import get_family
    from artforge.runs.checkpoint import load_checkpoint
    from artforge.tasks.selfcond import SelfConditioner
    state = load_checkpoint(model.checkpoint)["state"].get("task_state", {}).get("self_cond")
    if state is None:
        raise SystemExit(f"{model.run_dir} was not trained with self-conditioning clusters (--self-cond)")
    clusters = SelfConditioner(state["clusters"], real, seed=0)
    clusters.load_state_dict(state, get_family(model.arch).build(model.model_config)["D"])
    return clusters


@torch.no_grad()
def generated(model, labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Images in [0, 1] of the run's EMA generator for the (N,) cluster ``labels``, from seeded latents."""
    z = torch.randn(len(labels), model.model_config.z_dim, generator=torch.Generator().manual_seed(seed))
    x = torch.cat([model.G(z[i:i + 256].to(model.device), labels[i:i + 256].to(model.device)).float().cpu()
                   for i in range(0, len(z), 256)])
    return (x.clamp(-1, 1) + 1) / 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="self-conditioned training runs (their best checkpoint)")
    parser.add_argument("--real", required=True, help="the dataset they trained on")
    parser.add_argument("--per-cluster", type=int, default=24)
    parser.add_argument("--overall", type=int, default=400)
    parser.add_argument("--real-images", type=int, default=1500, help="training images assigned to clusters")
    args = parser.parse_args(argv)
    from artforge.data.archive import open_dataset
    from artforge.sampling import load

    dataset = open_dataset(args.real)
    index = dataset.indices("train")[:args.real_images]
    real = torch.from_numpy(np.stack([dataset.read(int(i)) for i in index])).permute(0, 3, 1, 2).float() / 255
    print(f"CPU: {cpuinfo.describe()}")
    print("| run | step | clusters | within a cluster | over all | real within | real over all |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    real_all = mean_pairwise_distance(real[:args.overall].flatten(1))
    for run in args.runs:
        model = load(run, "best", device="cpu", announce=lambda *a, **k: None)
        clusters = run_clusters(model, real * 2 - 1)  # first: it refuses a run without clusters
        k, g = model.num_classes, torch.Generator().manual_seed(0)
        weights = torch.tensor(model.label_weights, dtype=torch.float64)
        each = torch.arange(k).repeat_interleave(args.per_cluster)
        drawn = torch.multinomial(weights / weights.sum(), args.overall, replacement=True, generator=g)
        within = within_cluster(generated(model, each), each, args.per_cluster)
        overall = mean_pairwise_distance(generated(model, drawn, seed=1).flatten(1))
        real_within = within_cluster(real, clusters.assign(clusters.fixed_real), args.per_cluster)
        print(f"| {run} | {model.step} | {k} | {within:.2f} | {overall:.2f} | "
              f"{real_within:.2f} | {real_all:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
