"""``artforge prepare`` on a large folder: throughput and peak memory stay bounded as it grows.

Writes N small images (distinct colour gradients, a few formats, in label subfolders) to a
temporary folder, then runs ``artforge prepare`` on the first N/10 and on all N in child
processes and reports files/s and peak resident memory (the largest of the parent and its pool
workers). Bounded memory means the peak barely moves when the folder is 10x larger.

    python benchmarks/prepare_scale.py              # 100,000 images (a few minutes on 2 cores)
    python benchmarks/prepare_scale.py --n 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_folder(root: Path, n: int, size: int = 48) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    for i in range(n):
        folder = root / f"class{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        img = (a[None, None] * ramp[:, None, None] + b[None, None] * ramp[None, :, None]) / 2
        ext = ("png", "jpg", "webp")[i % 3]
        Image.fromarray(img.astype(np.uint8)).save(folder / f"{i:06d}.{ext}")
    return root


def child(source: str, out: str) -> dict:
    import artforge

    start = time.perf_counter()
    result = artforge.prepare(source, out=out, size=32, progress=False, overwrite=True)
    seconds = time.perf_counter() - start
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"count": result.count, "seconds": seconds, "peak_mb": max(peak_self, peak_workers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in (args.n // 10, args.n):
            src = Path(tmp) / f"src{n}"
            t = time.perf_counter()
            make_folder(src, n)
            print(f"wrote {n} source images in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
            out = subprocess.run([sys.executable, __file__, "--child", str(src), str(Path(tmp) / f"out{n}.zip")],
                                 capture_output=True, text=True, check=True)
            rows.append((n, json.loads(out.stdout.strip().splitlines()[-1])))
    print(f"\n| {'images':>8} | {'kept':>8} | {'seconds':>8} | {'files/s':>8} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 13}|")
    for n, r in rows:
        print(f"| {n:>8} | {r['count']:>8} | {r['seconds']:>8.1f} | {n / r['seconds']:>8.0f} | {r['peak_mb']:>11.0f} |")


if __name__ == "__main__":
    main()
