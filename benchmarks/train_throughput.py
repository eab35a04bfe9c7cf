"""Training throughput on the CPU: artforge's default against the official PyTorch DCGAN example.

The reference is the official example's loop (benchmarks/official_dcgan.py: the ngf = ndf = 64
DCGAN at 64 px, batch 64, fp32, fed from memory). artforge runs its real training step (phases,
augmentation, self-conditioning, lazy R1 in its share of steps, EMA, monitoring) on a prepared
dataset zip, with its defaults, at fp32 and at bf16. Each row also gives the FLOPs of one training
image (counted with torch.utils.flop_counter on a step without R1: its double backward, one step in
16, cannot be counted by it and adds a few percent), the rate that makes, and that
rate as a share of this CPU's measured peak (a large matrix multiply at the same precision).

Each measurement runs in its own process (so peak memory is per variant); variants alternate
round by round because the machine is shared and noisy; the table reports medians.

    python benchmarks/train_throughput.py                     # 5 rounds; default and reference
    python benchmarks/train_throughput.py --ablations         # also what each part costs
    python benchmarks/train_throughput.py --isa avx2          # act as an AVX2 CPU (no native bf16)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpuinfo  # noqa: E402
from official_dcgan import BATCH as REF_BATCH  # noqa: E402
from official_dcgan import OfficialDCGAN  # noqa: E402

RES = 64
REFERENCE = "reference: official DCGAN example (width 64, batch 64)"


def make_dataset(path: Path, res: int = RES, n: int = 1024) -> None:
    """A prepared dataset of n smooth random res x res images (content does not matter for speed)."""
    from PIL import Image

    from artforge.data.archive import ArchiveWriter

    rng = np.random.default_rng(0)
    writer = ArchiveWriter(path)
    for _ in range(n):
        arr = rng.integers(0, 256, (res // 8, res // 8, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).resize((res, res), Image.BILINEAR).save(buf, format="PNG")
        writer.add(buf.getvalue())
    writer.close({"name": "bench", "resolution": res, "channels": 3, "label_names": [],
                  "split": {"train": writer.names, "val": [], "test": []}})


def count_flops(step) -> float:
    """FLOPs of one call of ``step()`` (convolutions and matrix products, forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


# ----------------------------------------------------------------------------- the two loops

def reference(steps: int, warmup: int, res: int = RES) -> dict:
    import torch

    model = OfficialDCGAN(res)
    data = torch.rand(8 * REF_BATCH, 3, res, res) * 2 - 1
    batches = [data[i * REF_BATCH:(i + 1) * REF_BATCH] for i in range(8)]
    for i in range(warmup):
        model.step(batches[i % 8])
    start = time.perf_counter()
    for i in range(steps):
        model.step(batches[i % 8])
    seconds = time.perf_counter() - start
    flops = count_flops(lambda: model.step(batches[0]))
    return {"img_per_s": steps * REF_BATCH / seconds, "flops_per_img": flops / REF_BATCH}


def artforge_step(dataset: Path, steps: int, warmup: int, **options) -> dict:
    from artforge.options import TrainConfig
    from artforge.data.archive import open_dataset
    from artforge.commands.trainer import Trainer
    from artforge.runs.monitor import Monitor

    cfg = TrainConfig(dataset=str(dataset), progress=False, tensorboard=False, device="cpu", **options)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    trainer = Trainer(cfg, run_dir, open_dataset(dataset))
    monitor = Monitor(run_dir, tensorboard=False, enabled=False)
    ctx = trainer.make_context()

    def step(log_grads=False):
        trainer.train_step(ctx, monitor, log_grads)
        if trainer.step % trainer.cfg.tick == 0:
            monitor.tick(trainer.step)  # what the loop does: averages the step statistics

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):  # lazy R1 and the other intervals fall in their share of these steps
        step()
    seconds = time.perf_counter() - start
    interval = trainer.options.task.r1_interval if trainer.options.task.r1_gamma else 1
    if trainer.step % interval == 0:
        trainer.step += 1  # a step without R1: FlopCounterMode cannot follow R1's autograd.grad
    flops = count_flops(step)
    batch = trainer.cfg.batch
    return {"img_per_s": steps * batch / seconds, "flops_per_img": flops / batch, "batch": batch,
            "width": trainer.options.family.width, "precision": trainer.precision.reason}


def sampling_time(dataset: Path, repeats: int = 5) -> float:
    """Seconds to generate 64 images at 64x64 from a checkpoint, after loading it (median)."""
    import artforge

    with tempfile.TemporaryDirectory() as tmp:
        result = artforge.train(dataset, out=tmp, steps=1, eval_images=0, progress=False, tensorboard=False)
        model = artforge.load(result.run_dir, device="cpu")
        model.sample(n=64, seed=0)  # warm-up
        times = []
        for r in range(repeats):
            t = time.perf_counter()
            model.sample(n=64, seed=r * 64)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


# ----------------------------------------------------------------------------- variants

OLD_SIZE = {"width": 64, "batch": 64}  # the reference's network and batch
VARIANTS = {
    REFERENCE: ("reference", {}, "fp32"),
    "artforge defaults": ("artforge", {"precision": "fp32"}, "fp32"),
    "artforge defaults ": ("artforge", {"precision": "bf16"}, "bf16"),
    "artforge --arch style (lite)": ("artforge", {"arch": "style", "precision": "fp32"}, "fp32"),
    "artforge --arch style (lite) ": ("artforge", {"arch": "style", "precision": "bf16"}, "bf16"),
    "artforge --arch style (lite), --upsample bilinear (the models before 2026-11-30)":
        ("artforge", {"arch": "style", "upsample": "bilinear", "precision": "fp32"}, "fp32"),
    "artforge --arch style (lite), --upsample bilinear (the models before 2026-11-30) ":
        ("artforge", {"arch": "style", "upsample": "bilinear", "precision": "bf16"}, "bf16"),
    "artforge --arch style (lite), --d-arch resnet --recipe stylegan2":
        ("artforge", {"arch": "style", "d_arch": "resnet", "recipe": "stylegan2", "precision": "bf16"}, "bf16"),
}
ABLATIONS = {
    "artforge --recipe dcgan, width 64, batch 64": ("artforge", {"recipe": "dcgan", **OLD_SIZE, "precision": "fp32",
                                                                 "output_bias": False, "mbstd_group": 0}, "fp32"),
    "artforge --recipe dcgan, width 64, batch 64 ": ("artforge", {"recipe": "dcgan", **OLD_SIZE, "precision": "bf16",
                                                                  "output_bias": False, "mbstd_group": 0}, "bf16"),
    "artforge defaults at width 64, batch 64": ("artforge", {**OLD_SIZE, "precision": "fp32"}, "fp32"),
    "artforge defaults, --self-cond 0": ("artforge", {"self_cond": 0, "precision": "fp32"}, "fp32"),
    "artforge defaults, --d-augment none": ("artforge", {"d_augment": "none", "precision": "fp32"}, "fp32"),
    "artforge defaults, --r1-gamma 0": ("artforge", {"r1_gamma": 0, "precision": "fp32"}, "fp32"),
    "artforge defaults, --ema-kimg 0": ("artforge", {"ema_kimg": 0, "precision": "fp32"}, "fp32"),
    "artforge defaults, --mbstd-group 0": ("artforge", {"mbstd_group": 0, "precision": "fp32"}, "fp32"),
    "artforge defaults, --no-channels-last": ("artforge", {"channels_last": False, "precision": "fp32"}, "fp32"),
}


def run_one(kind: str, options: dict, dataset: Path, steps: int, warmup: int, res: int) -> dict:
    """Child-process entry: one measurement, printed as JSON."""
    result = reference(steps, warmup, res) if kind == "reference" else artforge_step(dataset, steps, warmup, **options)
    return {**result, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(args_list: list[str], env: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, *args_list], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement (the reference's: a "
                        "half of these: its steps take longer)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--ablations", action="store_true", help="also measure what each part of a step costs")
    parser.add_argument("--isa", choices=("native", "avx2"), default="native",
                        help="avx2: run every measurement as an AVX2 CPU without native bf16 would")
    parser.add_argument("--resolution", type=int, default=RES, help="image size (the issue's figures: 64)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--peak", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        steps = max(2, args.steps // 2) if spec["kind"] == "reference" else args.steps
        print(json.dumps(run_one(spec["kind"], spec["options"], Path(spec["dataset"]), steps, args.warmup,
                                 spec["resolution"])))
        return
    if args.peak:
        print(json.dumps({"gflops": cpuinfo.peak_gflops(args.peak), "cpu": cpuinfo.describe()}))
        return

    env = {**os.environ, **(cpuinfo.AVX2_ENV if args.isa == "avx2" else {})}
    ablations = {name: v for name, v in ABLATIONS.items()  # bf16 without native support: minutes a step
                 if args.isa == "native" or v[2] == "fp32"} if args.ablations else {}
    variants = {**VARIANTS, **ablations}
    peaks = {p: child(["--peak", p], env) for p in ("fp32", "bf16")}
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "bench-64.zip"
        make_dataset(dataset, args.resolution)
        results: dict[str, list[dict]] = {name: [] for name in variants}
        for r in range(args.rounds):
            for name, (kind, options, _) in variants.items():  # alternate variants within each round
                spec = json.dumps({"kind": kind, "options": options, "dataset": str(dataset),
                                   "resolution": args.resolution})
                results[name].append(child(["--child", spec, "--steps", str(args.steps), "--warmup",
                                            str(args.warmup)], env))
                print(f"round {r + 1}/{args.rounds} {name.strip()} ({variants[name][2]}): "
                      f"{results[name][-1]['img_per_s']:.1f} img/s", file=sys.stderr, flush=True)
        sample_s = sampling_time(dataset)
    for p, again in ((p, child(["--peak", p], env)) for p in ("fp32", "bf16")):  # the better of before and after
        peaks[p]["gflops"] = max(peaks[p]["gflops"], again["gflops"])
    print(table(results, variants, peaks, args))
    print(f"\nsampling 64 images at {args.resolution}x{args.resolution} after load (median of 5): {sample_s * 1000:.0f} ms (target < 200 ms)")


def table(results: dict, variants: dict, peaks: dict, args) -> str:
    ref = statistics.median(x["img_per_s"] for x in results[REFERENCE])
    lines = [f"CPU: {peaks['fp32']['cpu']}",
             f"peak (largest square matrix multiply up to 2048 that runs in seconds): fp32 {peaks['fp32']['gflops']:.0f} GFLOP/s, "
             f"bf16 {peaks['bf16']['gflops']:.0f} GFLOP/s; torch threads: default",
             f"{args.rounds} alternating rounds of {args.steps} steps (reference: {max(2, args.steps // 2)}), medians",
             "",
             "| variant | precision | img/s | vs reference | GFLOP/img | GFLOP/s | share of peak | peak RSS |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, rows in results.items():
        precision = variants[name][2]
        ips = statistics.median(x["img_per_s"] for x in rows)
        gflop = rows[0]["flops_per_img"] / 1e9
        size = f" (width {rows[0]['width']}, batch {rows[0]['batch']})" if "width" in rows[0] else ""
        rate = ips * gflop
        lines.append(f"| {name.strip()}{size} | {precision} | {ips:.1f} | {ips / ref:.2f}x | {gflop:.3f} | "
                     f"{rate:.0f} | {rate / peaks[precision]['gflops']:.0%} | "
                     f"{max(x['peak_mb'] for x in rows):.0f} MB |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
