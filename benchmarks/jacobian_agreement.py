"""How well `--filter jacobian`'s cheap estimate ranks seeds, against the exact Jacobian norm.

`artforge sample --filter jacobian` ranks seeds by ||dG/dz||_F estimated from 8 random output
directions per seed (`LoadedRun.jacobian_norms`, one backward pass each). This script computes the
exact norm of the same seeds (forward-mode, one pass per latent dimension: an independent
computation that shares no random direction with the estimate) and prints, as a markdown table,
the Spearman rank correlation of each estimate with it, and how many of the seeds each estimate
would leave out at `--filter-drop F` are also among the exact ranking's. It also times plain
sampling against the 8-direction estimate (the filter's cost).

    python benchmarks/jacobian_agreement.py RUN                       # seeds 0-63, F = 0.1
    python benchmarks/jacobian_agreement.py RUN --seeds 0-255 --probes 8,64
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpuinfo  # noqa: E402


def seed_list(text: str) -> list[int]:
    """'0-63' or '1,5,9-12' -> the seeds, in order."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def dropped(norms: np.ndarray, drop: float) -> set[int]:
    """Indices of the round(drop * n) largest norms: what the filter leaves out."""
    count = round(drop * len(norms))
    return set(np.argsort(-norms, kind="stable")[:count].tolist())


def median_seconds(fn, rounds: int, warm_up: bool = True) -> float:
    """Median wall time of ``rounds`` calls of ``fn`` (after one untimed call, unless already warm)."""
    if warm_up:
        fn()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def exact_jacobian_norms(G, z, c=None):
    """||dG/dz||_F of each latent's output, exactly: its full Jacobian by forward-mode AD, one at a time.

    ``G(z, c)`` maps (N, z_dim) latents (and N labels, or None) to (N, ...) outputs; the Jacobian is
    with respect to z alone.
    """
    from torch.func import jacfwd

    out = []
    for i in range(len(z)):
        ci = c[i:i + 1] if c is not None else None
        jac = jacfwd(lambda v: G(v[None], ci)[0])(z[i])  # (*output, z_dim)
        out.append(float(jac.detach().double().flatten().norm()))
    return np.array(out)


def exact_norms(model, seeds: list[int]) -> np.ndarray:
    """The exact norms of a loaded run's seeds, with the latents and labels its sampler draws."""
    c = model.labels(seeds, None)
    return exact_jacobian_norms(model._generator(1.0), model._inputs(seeds, 1.0).to(model.device),
                                c.to(model.device) if c is not None else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a trained run or exported model")
    parser.add_argument("--seeds", default="0-63")
    parser.add_argument("--probes", default="8,64", help="estimates to compare, directions per seed")
    parser.add_argument("--filter-drop", type=float, default=0.1)
    parser.add_argument("--checkpoint", default="best")
    parser.add_argument("--rounds", type=int, default=3, help="timings are medians of this many calls")
    args = parser.parse_args()

    import torch
    from scipy.stats import spearmanr

    import artforge

    model = artforge.load(args.run, checkpoint=args.checkpoint, device="cpu")
    seeds = seed_list(args.seeds)
    sample_s = median_seconds(lambda: model.sample(seeds=seeds), args.rounds)
    exact = exact_norms(model, seeds)
    rows = []
    for probes in (int(p) for p in args.probes.split(",")):
        estimate = model.jacobian_norms(seeds, probes=probes)  # also the timing's warm-up
        seconds = median_seconds(lambda: model.jacobian_norms(seeds, probes=probes), args.rounds, warm_up=False)
        overlap = len(dropped(estimate, args.filter_drop) & dropped(exact, args.filter_drop))
        rows.append((probes, spearmanr(estimate, exact).statistic, overlap, seconds))

    print(f"CPU: {cpuinfo.describe()}; torch threads: {torch.get_num_threads()}; fp32")
    print(f"run: {args.run} ({args.checkpoint}: step {model.step}); seeds {args.seeds} ({len(seeds)}); "
          f"plain sampling {sample_s:.2f} s (medians of {args.rounds} after a warm-up)")
    left_out = len(dropped(exact, args.filter_drop))
    print()
    print(f"| estimate | Spearman vs exact | seeds left out at F = {args.filter_drop} also left out by the exact "
          f"norm | seconds | vs plain sampling |")
    print("|---|---:|---:|---:|---:|")
    for probes, rho, overlap, seconds in rows:
        print(f"| {probes} directions | {rho:.3f} | {overlap} / {left_out} | {seconds:.2f} "
              f"| {seconds / sample_s:.0f}x |")


if __name__ == "__main__":
    main()
