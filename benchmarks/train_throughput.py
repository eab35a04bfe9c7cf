"""Training throughput of DCGAN-64 at batch 64: artforge against a plain PyTorch reference loop.

The reference is written here in the style of the official PyTorch DCGAN example (fp32, Sigmoid +
BCELoss, D on real, D on fake.detach(), D on fake for G, default Adam), on the same architecture
(artforge's DCGAN at 64 px, width 64: the example's ngf = ndf = 64 network), fed from an in-memory
tensor so data loading costs it nothing. artforge runs its real training step (phases, augmentation,
EMA, monitoring) on a prepared dataset zip.

Each measurement runs in its own process (so peak memory is per variant); variants alternate
round by round because the machine is shared and noisy, and the table reports medians.

    python benchmarks/train_throughput.py                 # default: 5 rounds
    python benchmarks/train_throughput.py --rounds 3 --steps 10 --ablations
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

BATCH = 64
RES = 64


def make_dataset(path: Path, n: int = 1024) -> None:
    """A prepared dataset of n random-blob 64x64 images (content does not matter for speed)."""
    from PIL import Image

    from artforge.data.archive import ArchiveWriter

    rng = np.random.default_rng(0)
    writer = ArchiveWriter(path)
    for _ in range(n):
        arr = rng.integers(0, 256, (RES // 8, RES // 8, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).resize((RES, RES), Image.BILINEAR).save(buf, format="PNG")
        writer.add(buf.getvalue())
    writer.close({"name": "bench", "resolution": RES, "channels": 3, "label_names": [],
                  "split": {"train": writer.names, "val": [], "test": []}})


# ----------------------------------------------------------------------------- the reference loop

def reference(steps: int, warmup: int) -> float:
    import torch
    from torch import nn

    from artforge.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(0)
    cfg = DCGANConfig(resolution=RES, z_dim=128, width=64)
    netG = DCGANGenerator(cfg)
    netD = nn.Sequential(DCGANDiscriminator(cfg), nn.Sigmoid())  # the example's D ends in Sigmoid
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = torch.rand(8 * BATCH, 3, RES, RES) * 2 - 1
    ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)

    def step(i: int) -> None:
        real = data[(i % 8) * BATCH:(i % 8 + 1) * BATCH]
        netD.zero_grad()
        errD_real = criterion(netD(real), ones)
        errD_real.backward()
        fake = netG(torch.randn(BATCH, 128))
        errD_fake = criterion(netD(fake.detach()), zeros)
        errD_fake.backward()
        optD.step()
        netG.zero_grad()
        errG = criterion(netD(fake), ones)
        errG.backward()
        optG.step()

    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * BATCH / (time.perf_counter() - start)


# ----------------------------------------------------------------------------- artforge

def artforge_step(dataset: Path, steps: int, warmup: int, **options) -> float:
    from artforge.config import TrainConfig
    from artforge.data.archive import open_dataset
    from artforge.training.loop import Trainer
    from artforge.training.monitor import Monitor

    cfg = TrainConfig(dataset=str(dataset), batch=BATCH, progress=False, tensorboard=False, eval_images=0,
                      device="cpu", **options)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    trainer = Trainer(cfg, run_dir, open_dataset(dataset))
    monitor = Monitor(run_dir, tensorboard=False)
    ctx = trainer.make_context()
    for _ in range(warmup):
        trainer.train_step(ctx, monitor, log_grads=False)
    start = time.perf_counter()
    for i in range(steps):
        trainer.train_step(ctx, monitor, log_grads=(i + 1) % 100 == 0)
    return steps * BATCH / (time.perf_counter() - start)


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


DCGAN = {"recipe": "dcgan"}  # the same training as the reference: alternating BCE steps, no regularizers
VARIANTS = {
    "reference (official-example style, fp32)": ("reference", {}),
    "artforge --recipe dcgan (bf16 autocast, channels-last, fused Adam)": ("artforge", DCGAN),
}
ABLATIONS = {
    "artforge --recipe dcgan, fp32, channels-first": ("artforge", {**DCGAN, "precision": "fp32", "channels_last": False}),
    "artforge --recipe dcgan, fp32, channels-last": ("artforge", {**DCGAN, "precision": "fp32"}),
    "artforge --recipe dcgan, bf16, channels-first": ("artforge", {**DCGAN, "precision": "bf16", "channels_last": False}),
    "artforge --recipe stable (adds lazy R1, adaptive augmentation)": ("artforge", {}),
}


def run_one(kind: str, options: dict, dataset: Path, steps: int, warmup: int) -> dict:
    """Child-process entry: one measurement, printed as JSON."""
    ips = reference(steps, warmup) if kind == "reference" else artforge_step(dataset, steps, warmup, **options)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"img_per_s": ips, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--ablations", action="store_true", help="also measure which optimizations help")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(run_one(spec["kind"], spec["options"], Path(spec["dataset"]), args.steps, args.warmup)))
        return

    variants = {**VARIANTS, **(ABLATIONS if args.ablations else {})}
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "bench-64.zip"
        make_dataset(dataset)
        results: dict[str, list[dict]] = {name: [] for name in variants}
        for r in range(args.rounds):
            for name, (kind, options) in variants.items():  # alternate variants within each round
                spec = json.dumps({"kind": kind, "options": options, "dataset": str(dataset)})
                out = subprocess.run([sys.executable, __file__, "--child", spec, "--steps", str(args.steps),
                                      "--warmup", str(args.warmup)], capture_output=True, text=True, check=True)
                results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(f"round {r + 1}/{args.rounds} {name}: {results[name][-1]['img_per_s']:.1f} img/s",
                      file=sys.stderr, flush=True)
        sample_s = sampling_time(dataset)

    ref = statistics.median(x["img_per_s"] for x in results["reference (official-example style, fp32)"])
    print(f"\nDCGAN-64, batch {BATCH}, CPU, {os.cpu_count()} cores, torch threads default; "
          f"{args.rounds} alternating rounds of {args.steps} steps, medians\n")
    print(f"| {'variant':<62} | {'img/s':>7} | {'vs reference':>12} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 64}|{'-' * 9}|{'-' * 14}|{'-' * 13}|")
    for name, rows in results.items():
        ips = statistics.median(x["img_per_s"] for x in rows)
        mem = max(x["peak_mb"] for x in rows)
        print(f"| {name:<62} | {ips:7.1f} | {ips / ref:11.2f}x | {mem:11.0f} |")
    print(f"\nsampling 64 images at 64x64 after load (median of 5): {sample_s * 1000:.0f} ms (target < 200 ms)")


if __name__ == "__main__":
    main()
