"""Projection quality: mean reconstruction PSNR of held-out (test-split) images, projected in w and in w+.

Projects the first N test images of the run's dataset (images it never trained on) with the same
settings as ``artforge explore project`` and prints one row per space:

    python benchmarks/projection_psnr.py runs/00007-faces-64-style            # 16 images, 300 steps
    python benchmarks/projection_psnr.py runs/00007-faces-64-style --n 4 --steps 100 --json out.json

w+ fits closer (more freedom); w stays among the images the model makes. Higher is better: about
20 dB is a recognisable likeness, 30 dB hard to tell apart at a glance.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def measure(run: str, n: int, steps: int, lr: float, d_weight: float, spaces: list[str], device: str,
            dataset: str | None = None) -> list[dict]:
    import artforge
    from artforge.explore.project import held_out_psnr, load_discriminator, run_dataset

    model = artforge.load(run, device=device)
    model._require_styles("projection")
    dataset = dataset or run_dataset(model)
    D = load_discriminator(model) if d_weight > 0 else None
    rows = []
    for space in spaces:
        started = time.perf_counter()
        result = held_out_psnr(model, dataset, n, space=space, steps=steps, lr=lr, d_weight=d_weight, D=D)
        rows.append({"space": space, "images": len(result.psnr), "psnr_db": float(np.mean(result.psnr)),
                     "psnr_std_db": float(np.std(result.psnr)), "mean_image_psnr_db": float(np.mean(result.start_psnr)),
                     "used_d_features": result.used_d, "seconds": time.perf_counter() - started})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a style-based run (or exported model)")
    parser.add_argument("--n", type=int, default=16, help="held-out images")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--d-weight", type=float, default=0.1)
    parser.add_argument("--spaces", default="w,w+")
    parser.add_argument("--dataset", default=None, help="default: the run's own")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args()
    rows = measure(args.run, args.n, args.steps, args.lr, args.d_weight, args.spaces.split(","), args.device,
                   args.dataset)
    print(f"{'space':6} {'images':>6} {'PSNR dB':>8} {'+-':>5} {'mean img':>9} {'seconds':>8}")
    for r in rows:
        print(f"{r['space']:6} {r['images']:6d} {r['psnr_db']:8.2f} {r['psnr_std_db']:5.2f} "
              f"{r['mean_image_psnr_db']:9.2f} {r['seconds']:8.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"run": args.run, "steps": args.steps, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
