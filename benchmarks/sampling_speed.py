"""Sampling speed: 1,000 images at 64 px, and one image (the interactive path), per architecture.

Both go through ``artforge.load(RUN).sample`` exactly as ``artforge sample`` and the Python API do:
the EMA generator in eval mode, fp32, fixed-size passes (sampling.RENDER_BATCH) so that a seed's
image never depends on what else is drawn with it. Weights do not change the time, so by default
each architecture's default network is trained for one step on a synthetic 64 px dataset; pass
``--run`` to time trained runs instead. Rounds alternate the architectures; medians are reported.

    python benchmarks/sampling_speed.py                 # style (lite) and dcgan defaults
    python benchmarks/sampling_speed.py --run runs/00003-openmoji-64-style
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpuinfo  # noqa: E402
from train_throughput import make_dataset  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", help="a trained run to time (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=1000, help="images in the batch measurement")
    args = parser.parse_args()

    import artforge
    import torch

    tmp = Path(tempfile.mkdtemp(prefix="bench-sampling-"))
    names = [Path(r).name for r in args.run or []]
    # Each row is named by its run's folder, or by the path given where two folders share a name.
    runs = {(name if names.count(name) == 1 else r): r for name, r in zip(names, args.run or [])}
    if not runs:
        make_dataset(tmp / "synthetic-64.zip", n=64)
        for arch in ("style", "dcgan"):
            result = artforge.train(tmp / "synthetic-64.zip", out=tmp / "runs", arch=arch, steps=1, eval_images=0,
                                    self_cond=0, progress=False, tensorboard=False, device="cpu")
            runs[f"{arch} (default size)"] = result.run_dir
    models = {name: artforge.load(path, device="cpu") for name, path in runs.items()}
    for model in models.values():  # warm-up: kernels picked, the mean style computed once
        model.sample(seeds=list(range(64)), truncation=0.7)
    batch = {name: [] for name in models}
    single = {name: [] for name in models}
    for r in range(args.rounds):
        for name, model in models.items():
            seeds = list(range(r * args.n, (r + 1) * args.n))
            batch[name].append(timed(lambda: model.sample(seeds=seeds)))
            single[name].append(statistics.median(timed(lambda s=s: model.sample(seeds=[s])) for s in range(20)))
    print(f"CPU: {cpuinfo.describe()}; torch threads: {torch.get_num_threads()}; fp32, eval mode")
    print(f"| model | {args.n:,} images (s) | images/s | one image (ms) |")
    print("|---|---|---|---|")
    for name in models:
        b, s = statistics.median(batch[name]), statistics.median(single[name])
        print(f"| {name} | {b:.2f} | {args.n / b:,.0f} | {1000 * s:.1f} |")


if __name__ == "__main__":
    main()
