"""Training throughput of one process against N processes under torchrun (gloo on CPUs, NCCL on GPUs).

The same command, `artforge train DATASET --steps S --batch B` (B the global batch), runs as one
process with every core's threads, and as `torchrun --nproc_per_node N` with the cores split
between the processes. Each run's img/s is the median of its log's tick speeds after the first
tick (warm-up); rows alternate round by round (the machine is shared and noisy); the table gives
medians and the ratio to one process measured in the same rounds.

    python benchmarks/distributed_throughput.py                       # 1 vs 2 processes, 3 rounds
    python benchmarks/distributed_throughput.py --procs 1,2,4 --batch 64 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpuinfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _synthetic(folder: Path, resolution: int) -> Path:
    """A dataset when none is given: 512 seeded random images (speed does not depend on content)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import write_blob_dataset
    return write_blob_dataset(folder / f"blobs-{resolution}.zip", n=512, res=resolution)


def run_once(dataset: Path, procs: int, steps: int, batch: int, tick: int, precision: str, out: Path) -> float:
    """img/s of one training run with ``procs`` processes: median tick speed after the first tick."""
    cores = os.cpu_count() or 1
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, cores // procs))}
    options = ["train", str(dataset), "--steps", str(steps), "--batch", str(batch), "--tick", str(tick),
               "--checkpoint-every", str(steps), "--eval-images", "0", "--precision", precision,
               "--out", str(out), "--quiet", "--no-tensorboard"]
    if procs == 1:
        cmd = [sys.executable, "-m", "artforge", *options]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
               "-m", "artforge", *options]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"training with {procs} process(es) failed:\n{done.stderr[-2000:]}")
    run = sorted(p for p in out.iterdir() if p.is_dir())[-1]
    speeds = [row["Speed/img_per_s"] for row in map(json.loads, (run / "log.jsonl").read_text().splitlines())
              if "Speed/img_per_s" in row]
    return statistics.median(speeds[1:] or speeds)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="a prepared dataset (default: datasets/openmoji-64.zip, else synthetic)")
    ap.add_argument("--procs", default="1,2", help="process counts, comma separated (first is the reference)")
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--tick", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16, help="the global batch (must divide by every process count)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "auto"))
    ap.add_argument("--isa", choices=("native", "avx2"), default="native", help="act as an AVX2 CPU")
    args = ap.parse_args(argv)
    if args.isa == "avx2":
        os.environ.update(cpuinfo.AVX2_ENV)
    procs = [int(p) for p in args.procs.split(",")]
    with tempfile.TemporaryDirectory(prefix="dist-bench-") as tmp:
        tmp = Path(tmp)
        default = ROOT / "datasets" / "openmoji-64.zip"
        dataset = args.data or (default if default.exists() else _synthetic(tmp, 64))
        speeds: dict[int, list[float]] = {p: [] for p in procs}
        for r in range(args.rounds):
            for p in procs if r % 2 == 0 else procs[::-1]:  # alternate the order round by round
                speeds[p].append(run_once(dataset, p, args.steps, args.batch, args.tick, args.precision,
                                          tmp / f"r{r}-p{p}"))
                print(f"round {r + 1}: {p} process(es): {speeds[p][-1]:.1f} img/s", file=sys.stderr, flush=True)
    ref = statistics.median(speeds[procs[0]])
    print(f"\nCPU: {cpuinfo.describe()}; isa {args.isa}; {os.cpu_count()} cores; dataset {dataset.name}; "
          f"global batch {args.batch}; {args.precision}; {args.rounds} rounds, medians\n")
    print("| processes | threads each | img/s (median) | rounds | vs 1 process |")
    print("|---:|---:|---:|---|---:|")
    for p in procs:
        med = statistics.median(speeds[p])
        cells = ", ".join(f"{s:.1f}" for s in speeds[p])
        print(f"| {p} | {max(1, (os.cpu_count() or 1) // p)} | {med:.1f} | {cells} | {med / ref:.2f}x |")


if __name__ == "__main__":
    main()
