"""Training speed of this checkout against another revision, alternated, on the same machine.

For refactors that must not slow training down: checks out REV into a temporary git worktree, then
runs the same short `artforge train` in both checkouts, alternating round by round (the machine is
shared and noisy), each in its own process with the given thread count. A run's speed is the
median of its log's tick speeds after the first tick (warm-up). Prints a table of medians and the
ratio this/base, and whether the final weights are bit-identical (same options, same seed).

    python benchmarks/compare_checkouts.py --base c576c14
    python benchmarks/compare_checkouts.py --base c576c14 --precision bf16 --rounds 5
    python benchmarks/compare_checkouts.py --base c576c14 --isa avx2
"""

from __future__ import annotations

import argparse
import hashlib
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


def run_once(src: Path, dataset: Path, out: Path, args) -> tuple[float, str]:
    """(img/s, sha256 of the final model weights) of one training run with the code in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": str(args.threads)}
    cmd = [sys.executable, "-m", "artforge", "train", str(dataset), "--steps", str(args.steps), "--tick",
           str(args.tick), "--checkpoint-every", str(args.steps), "--eval-images", "0", "--precision",
           args.precision, "--device", "cpu", "--out", str(out), "--quiet", "--no-tensorboard"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=out.parent)
    if done.returncode:
        raise SystemExit(f"training with {src} failed:\n{done.stderr[-2000:]}")
    run = sorted(p for p in out.iterdir() if p.is_dir())[-1]
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    speeds = [r["Speed/img_per_s"] for r in rows if "Speed/img_per_s" in r]
    from safetensors.numpy import load_file  # the tensors, not the file: its header may differ

    weights = load_file(str(next((run / "checkpoints").glob("step-*/model.safetensors"))))
    digest = hashlib.sha256(b"".join(k.encode() + weights[k].tobytes() for k in sorted(weights))).hexdigest()
    return statistics.median(speeds[1:] or speeds), digest


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the git revision to compare against")
    ap.add_argument("--data", type=Path, default=ROOT / "datasets" / "openmoji-64.zip")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--tick", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    ap.add_argument("--isa", choices=("native", "avx2"), default="native", help="act as an AVX2 CPU")
    args = ap.parse_args(argv)
    if args.isa == "avx2":
        os.environ.update(cpuinfo.AVX2_ENV)
    if not args.data.exists():
        raise SystemExit(f"no dataset {args.data}: make it with 'artforge prepare openmoji --size 64', or pass --data")
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
                       check=True, capture_output=True)
        try:
            sources = {"this": ROOT / "src", args.base: base / "src"}
            speeds: dict[str, list[float]] = {k: [] for k in sources}
            hashes: dict[str, set[str]] = {k: set() for k in sources}
            for r in range(args.rounds):
                for name in list(sources) if r % 2 == 0 else list(sources)[::-1]:
                    out = tmp / f"runs-{r}-{len(speeds[name])}-{name}"
                    out.mkdir()
                    speed, digest = run_once(sources[name], args.data, out, args)
                    speeds[name].append(speed)
                    hashes[name].add(digest)
                    print(f"round {r + 1}: {name}: {speed:.1f} img/s", file=sys.stderr, flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)
    ref = statistics.median(speeds[args.base])
    print(f"\nCPU: {cpuinfo.describe()}; isa {args.isa}; {args.threads} threads; {args.precision}; "
          f"{args.data.name}; {args.steps} steps per run; {args.rounds} alternating rounds, medians\n")
    print("| code | img/s (median) | rounds | vs base |")
    print("|---|---:|---|---:|")
    for name, values in speeds.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.1f} | {', '.join(f'{v:.1f}' for v in values)} | {med / ref:.3f}x |")
    same = hashes["this"] == hashes[args.base] and len(hashes["this"]) == 1
    repeatable = {name: len(h) == 1 for name, h in hashes.items()}
    print(f"\nfinal weights bit-identical to {args.base}: {'yes' if same else 'no'} "
          f"(each code's runs agree with each other: {', '.join(f'{k} {v}' for k, v in repeatable.items())}; "
          "several threads can reorder float sums)")


if __name__ == "__main__":
    main()
