"""Evaluation speed on the CPU: images/s of each stage, and the SWD target (10k vs 10k at 64 px < 60 s).

Stages are measured on synthetic data of the real shapes (the speed of a network does not depend on
its weights, so the Inception network runs with random weights built here; no download):

    python benchmarks/eval_speed.py              # 10,000 vs 10,000 images at 64x64
    python benchmarks/eval_speed.py --n 2000     # quicker
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def images(n: int, res: int, seed: int) -> torch.Tensor:
    """Smooth random colour fields (uint8), closer to artwork statistics than white noise."""
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(n, 3, res // 8, res // 8, generator=g)
    return (torch.nn.functional.interpolate(small, size=(res, res), mode="bilinear") * 255).to(torch.uint8)


def swd_stage(real: torch.Tensor, fake: torch.Tensor, batch: int = 256) -> tuple[dict, float, float]:
    from artforge.metrics.collect import SWD_PATCHES
    from artforge.ops.swd import PatchDescriptors, swd_from_descriptors

    start = time.perf_counter()
    sets = []
    for data in (real, fake):
        desc = PatchDescriptors(SWD_PATCHES, seed=0)
        for i in range(0, len(data), batch):
            desc.add(data[i:i + batch])
        sets.append(desc)
    extract = time.perf_counter() - start
    result, compute = timed(swd_from_descriptors, *sets)
    return result, extract, compute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--res", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="SWD repetitions; medians are reported")
    parser.add_argument("--inception-images", type=int, default=256, help="images timed through Inception")
    args = parser.parse_args()
    rows = []
    real, fake = images(args.n, args.res, 0), images(args.n, args.res, 1)

    timings = []
    for _ in range(args.rounds):  # the machine is shared: repeat and take medians
        result, extract, compute = swd_stage(real, fake)
        timings.append((extract, compute, extract + compute))
    extract, compute, total = (float(np.median(column)) for column in zip(*timings))
    rows.append(("SWD descriptors (both sets)", 2 * args.n / extract, extract))
    rows.append(("SWD distance (4 x 128 directions, 3 levels)", 2 * args.n / compute, compute))
    rows.append((f"SWD total, {args.n} vs {args.n} at {args.res}px (target < 60 s)", 2 * args.n / total, total))

    from artforge.metrics.inception import FIDInceptionV3, preprocess
    model = FIDInceptionV3().eval()
    x = real[:args.inception_images]
    with torch.no_grad():
        model(preprocess(x[:8]))  # warm-up
        _, seconds = timed(lambda: [model(preprocess(x[i:i + 32])) for i in range(0, len(x), 32)])
    rows.append(("Inception features (299x299, fp32)", len(x) / seconds, seconds))

    from artforge.metrics.encoder import SmallEncoder
    encoder = SmallEncoder().eval()
    with torch.no_grad():
        _, seconds = timed(lambda: [encoder.features(real[i:i + 256]) for i in range(0, len(real), 256)])
    rows.append(("dataset-trained encoder features", args.n / seconds, seconds))

    rng = np.random.default_rng(0)
    fr, ff = rng.normal(size=(args.n, 2048)).astype(np.float32), rng.normal(0.1, 1, size=(args.n, 2048)).astype(np.float32)
    from artforge.metrics.fid import fid_from_features
    from artforge.metrics.kid import kid
    from artforge.metrics.novelty import novelty
    from artforge.metrics.prdc import density_coverage, precision_recall
    for name, fn in (("FID from 2048-d features", lambda: fid_from_features(fr, ff)),
                     ("KID (100 subsets of 1000)", lambda: kid(fr, ff)),
                     ("precision/recall (k=3)", lambda: precision_recall(fr, ff)),
                     ("density/coverage (k=5)", lambda: density_coverage(fr, ff)),
                     ("novelty (nearest neighbours)", lambda: novelty(ff, fr))):
        _, seconds = timed(fn)
        rows.append((name, args.n / seconds, seconds))

    print(f"\nEvaluation stages on the CPU ({os.cpu_count()} cores), {args.n} vs {args.n} images at {args.res}px;"
          f" SWD rows are medians of {args.rounds} rounds\n")
    print(f"| {'stage':<58} | {'images/s':>9} | {'seconds':>8} |")
    print(f"|{'-' * 60}|{'-' * 11}|{'-' * 10}|")
    for name, ips, seconds in rows:
        print(f"| {name:<58} | {ips:9.0f} | {seconds:8.2f} |")
    print(f"\nSWD = {result['swd']:.2f} (x1e3; per level: "
          + ", ".join(f"{k} {v:.2f}" for k, v in result.items() if k != "swd") + ")")


if __name__ == "__main__":
    main()
