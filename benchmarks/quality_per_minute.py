"""Quality per CPU-minute: artforge's defaults against the official PyTorch DCGAN example's recipe.

Both train for the same CPU budget, in fp32, one thread each (two runs share a 2-core machine), on
the built-in OpenMoji set at 64 px (3,896 training images) and on a seeded subset of 250 of them
(the small-data case). Both are then scored against the same held-back images (the set's 432
validation and test images, which neither trains on): multi-scale SWD x1e3 in pixels, and KID x1e3
in the feature space of the small encoder artforge trains on the set (no download). Lower is better.

artforge runs exactly what ``artforge train DATASET --minutes B`` runs: its defaults, sized for the
budget on this machine (commands/sizing.py), with its ticks, grids, health checks and checkpoints,
all inside the budget; the images scored are G_ema's. The reference is the official example's loop
(benchmarks/official_dcgan.py), scored from its G as it leaves it.

    python benchmarks/quality_per_minute.py                        # 5, 10 and 20 CPU-minutes, both sets (about 75 min)
    python benchmarks/quality_per_minute.py --budgets 2 --data small
    python benchmarks/quality_per_minute.py --isa avx2             # as on an AVX2 CPU without native bf16

Writes ``OUT/quality.md`` (the table), ``OUT/quality.json`` and a grid per set, budget and recipe,
with one figure per set putting them side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpuinfo  # noqa: E402
from official_dcgan import BATCH as REF_BATCH  # noqa: E402
from official_dcgan import OfficialDCGAN  # noqa: E402

RECIPES = ("artforge", "official")
SMALL = 250  # images in the small-data set
EVAL_IMAGES = 1000  # generated images scored at each budget


# ----------------------------------------------------------------------------- data

def datasets(work: Path, full: Path | None) -> dict[str, Path]:
    """The full set (prepared once if not given) and its seeded 250-image subset of training images."""
    import artforge
    from artforge.data.archive import ArchiveWriter, open_dataset

    if full is None:
        full = work / "openmoji-64.zip"
        if not full.exists():
            artforge.prepare("openmoji", size=64, out=full, progress=False)
    small = work / f"openmoji-64-{SMALL}.zip"
    if not small.exists():
        ds = open_dataset(full)
        chosen = np.random.default_rng(0).permutation(ds.indices("train"))[:SMALL]
        writer = ArchiveWriter(small)
        for index in sorted(chosen):
            writer.add(ds._read_bytes(ds.names[index]))
        writer.close({"name": f"openmoji-64-{SMALL}", "resolution": ds.resolution, "channels": ds.channels,
                      "label_names": [], "split": {"train": writer.names, "val": [], "test": []}})
    return {"full": Path(full), "small": small}


def held_back(full: Path):
    """uint8 (N, C, H, W): the full set's validation and test images, which no run trains on, less those in
    the scoring encoder's own training part (it is judged only on images it never saw)."""
    from artforge.data.archive import open_dataset
    from artforge.data.loader import decode_all
    from artforge.metrics.encoder import split_indices

    ds = open_dataset(full)
    held = np.concatenate([ds.indices("val"), ds.indices("test")])
    return decode_all(ds, np.sort(held[np.isin(held, split_indices(ds.names)[1])]))


# ----------------------------------------------------------------------------- scoring

class Scorer:
    def __init__(self, full: Path, encoder_steps: int):
        import torch

        from artforge.data.archive import open_dataset
        from artforge.metrics.encoder import encoder_for

        self.real = held_back(full)
        self.encoder, _ = encoder_for(open_dataset(full), torch.device("cpu"), progress=False,
                                      steps=encoder_steps)
        self.real_features = self.encoder.features(self.real).numpy()

    def __call__(self, fake) -> dict:
        """fake: float images in [-1, 1] (N, C, H, W)."""
        import torch

        from artforge.metrics.kid import kid
        from artforge.ops.swd import swd
        from artforge.utils.images import to_uint8

        with torch.no_grad():
            real = self.real.float() / 127.5 - 1
            scores = swd(real, fake.float(), seed=0)
            features = self.encoder.features(to_uint8(fake).permute(0, 3, 1, 2)).numpy()
        k = kid(self.real_features, features, subsets=50, seed=0)
        return {"swd": scores["swd"], "kid_x1e3": k["kid"] * 1e3}


def save_grid(images, path: Path) -> None:
    from artforge.utils.images import make_grid, to_uint8

    path.parent.mkdir(parents=True, exist_ok=True)
    make_grid(to_uint8(images[:64])).save(path)


# ----------------------------------------------------------------------------- the two trainers (child processes)

def train_artforge(dataset: Path, budgets: list[float], out: Path, scorer: Scorer, tag: str,
                   sizes: list | None) -> list[dict]:
    """artforge's defaults as ``artforge train --minutes`` sizes them, one run per distinct size."""
    from artforge.options import TrainConfig
    from artforge.data.archive import open_dataset
    from artforge.commands import sizing

    ds = open_dataset(dataset)
    base = TrainConfig(dataset=str(dataset), progress=False, tensorboard=False, device="cpu", precision="fp32")
    candidates = [sizing.Size(*s) for s in sizes] if sizes else None
    from artforge.commands.trainer import Trainer
    measured = sizing.measure(base.resolved(), ds.resolution, ds.channels, 0, candidates, trainer=Trainer)  # all, once
    groups: dict = {}
    for budget in budgets:
        groups.setdefault(sizing.choose_size(budget * 60, measured), []).append(budget)
    rows = []
    for size, marks in groups.items():
        cfg = dataclasses.replace(base, width=size.width, batch=size.batch)
        rows += _artforge_run(cfg, ds, sorted(marks), out, scorer, tag)
    return rows


def _artforge_run(cfg, ds, marks: list[float], out: Path, scorer: Scorer, tag: str) -> list[dict]:
    import torch

    from artforge.commands.trainer import Trainer

    rows: list[dict] = []

    class BudgetTrainer(Trainer):
        """Stops on CPU time instead of wall time, scoring G_ema at each budget (scoring not counted)."""

        def _done(self, started: float) -> bool:
            used = (time.process_time() - self.cpu_start - self.not_counted) / 60
            while self.marks and used >= self.marks[0]:
                begin = time.process_time()
                fake = self.generate_samples(EVAL_IMAGES)
                rows.append(_row(tag, "artforge", self.marks.pop(0), self.step, scorer(fake), fake, out,
                                 {"width": self.options.family.width, "batch": self.cfg.batch}))
                self.not_counted += time.process_time() - begin
            return not self.marks

        @torch.no_grad()
        def generate_samples(self, n: int):
            g = torch.Generator().manual_seed(12345)
            z = torch.randn(n, self.model_cfg.z_dim, generator=g)
            c = None
            task, G_ema = self.task, self.ema_nets[self.family.sampler]
            if task.num_classes:
                weights = torch.tensor(task.label_weights) if task.label_weights else torch.ones(task.num_classes)
                c = torch.multinomial(weights, n, replacement=True, generator=g)
            return torch.cat([G_ema(z[i:i + 64], None if c is None else c[i:i + 64]) for i in range(0, n, 64)])

    with tempfile.TemporaryDirectory(prefix="quality-run-") as tmp:
        trainer = BudgetTrainer(cfg, Path(tmp), ds)
        trainer.marks, trainer.not_counted, trainer.cpu_start = list(marks), 0.0, time.process_time()
        trainer.run()
    return rows


def train_official(dataset: Path, budgets: list[float], out: Path, scorer: Scorer, tag: str,
                   sizes: list | None = None) -> list[dict]:
    """The official example's loop on the dataset: shuffled epochs of batch 64, no flips, fp32."""
    import torch

    from artforge.data.archive import open_dataset
    from artforge.data.loader import decode_all

    ds = open_dataset(dataset)
    images = decode_all(ds, ds.indices("train")).float() / 127.5 - 1
    model = OfficialDCGAN(ds.resolution, ds.channels)
    marks, rows, not_counted = sorted(budgets), [], 0.0
    gen = torch.Generator().manual_seed(0)
    start = time.process_time()
    order = torch.randperm(len(images), generator=gen)
    position = 0
    while marks:
        if position + REF_BATCH > len(order):  # drop_last, a new shuffle each epoch (the example's DataLoader)
            order, position = torch.randperm(len(images), generator=gen), 0
        model.step(images[order[position:position + min(REF_BATCH, len(order))]])
        position += REF_BATCH
        used = (time.process_time() - start - not_counted) / 60
        while marks and used >= marks[0]:
            begin = time.process_time()
            fake = model.generate(EVAL_IMAGES, seed=12345)
            rows.append(_row(tag, "official", marks.pop(0), model.steps, scorer(fake), fake, out,
                             {"width": 64, "batch": REF_BATCH}))
            not_counted += time.process_time() - begin
    return rows


def _row(data: str, recipe: str, budget: float, steps: int, scores: dict, fake, out: Path, size: dict) -> dict:
    grid = out / "grids" / f"{data}-{budget:g}min-{recipe}.png"
    save_grid(fake, grid)
    row = {"data": data, "recipe": recipe, "cpu_minutes": budget, "steps": steps, **size,
           "swd": round(scores["swd"], 2), "kid_x1e3": round(scores["kid_x1e3"], 2), "grid": str(grid)}
    print(json.dumps(row), flush=True)
    return row


def child_main(spec: dict) -> None:
    import torch

    torch.set_num_threads(spec["threads"])
    scorer = Scorer(Path(spec["full"]), spec["encoder_steps"])
    train = train_artforge if spec["recipe"] == "artforge" else train_official
    rows = train(Path(spec["dataset"]), spec["budgets"], Path(spec["out"]), scorer, spec["data"], spec["sizes"])
    print("RESULT " + json.dumps(rows))


# ----------------------------------------------------------------------------- driver

def run_child(spec: dict, env: dict) -> list[dict]:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                         env=env)
    if out.returncode:
        raise SystemExit(f"{spec['recipe']} on {spec['data']} failed:\n{out.stderr[-3000:]}")
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line.removeprefix("RESULT "))


def figure(rows: list[dict], data: str, path: Path) -> Path:
    """The grids of one set side by side: a row per budget, artforge left, the official recipe right."""
    from PIL import Image, ImageDraw

    budgets = sorted({r["cpu_minutes"] for r in rows if r["data"] == data})
    cells = {(r["cpu_minutes"], r["recipe"]): Image.open(r["grid"]) for r in rows if r["data"] == data}
    w, h = next(iter(cells.values())).size
    label = 28
    canvas = Image.new("RGB", (2 * w + 10, len(budgets) * (h + label)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, budget in enumerate(budgets):
        for j, recipe in enumerate(RECIPES):
            row = next(r for r in rows if (r["data"], r["cpu_minutes"], r["recipe"]) == (data, budget, recipe))
            x, y = j * (w + 10), i * (h + label)
            draw.text((x + 4, y + 6), f"{recipe}, {budget:g} CPU-min, {row['steps']} steps: SWD {row['swd']:.1f}",
                      fill="black")
            canvas.paste(cells[(budget, recipe)], (x, y + label))
    canvas.save(path)
    return path


def table(rows: list[dict]) -> str:
    lines = ["| data | CPU-minutes | recipe | size | steps | SWD x1e3 | KID x1e3 (encoder) | SWD vs official |",
             "|---|---:|---|---|---:|---:|---:|---:|"]
    for row in sorted(rows, key=lambda r: (r["data"], r["cpu_minutes"], RECIPES.index(r["recipe"]))):
        ref = next(r for r in rows if (r["data"], r["cpu_minutes"], r["recipe"]) ==
                   (row["data"], row["cpu_minutes"], "official"))
        lines.append(f"| {row['data']} | {row['cpu_minutes']:g} | {row['recipe']} | width {row['width']}, "
                     f"batch {row['batch']} | {row['steps']:,} | {row['swd']:.1f} | {row['kid_x1e3']:.1f} | "
                     f"{row['swd'] / ref['swd']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", default="5,10,20", help="CPU-minutes, comma separated")
    parser.add_argument("--data", default="full,small", help="full, small or both")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--jobs", type=int, default=0, help="runs at once (default: cores / threads)")
    parser.add_argument("--isa", choices=("native", "avx2"), default="native",
                        help="avx2: run as an AVX2 CPU without native bf16 would")
    parser.add_argument("--full", help="a prepared OpenMoji 64 px dataset (default: prepare it into OUT)")
    parser.add_argument("--out", default="runs/bench-quality")
    parser.add_argument("--sizes", help="candidate WIDTHxBATCH sizes for artforge's sizing, widest first "
                        "(default: commands/sizing.py's)")
    parser.add_argument("--encoder-steps", type=int, default=1500, help="training steps of the KID encoder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(json.loads(args.child))
        return {}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budgets = sorted(float(b) for b in args.budgets.split(","))
    sizes = [[int(v) for v in s.split("x")] for s in args.sizes.split(",")] if args.sizes else None
    sets = datasets(out, Path(args.full) if args.full else None)
    wanted = [d.strip() for d in args.data.split(",")]
    env = {**os.environ, **(cpuinfo.AVX2_ENV if args.isa == "avx2" else {})}
    specs = [{"recipe": recipe, "data": data, "dataset": str(sets[data]), "full": str(sets["full"]),
              "budgets": budgets, "threads": args.threads, "out": str(out),
              "encoder_steps": args.encoder_steps, "sizes": sizes} for data in wanted for recipe in RECIPES]
    jobs = args.jobs or max(1, (os.cpu_count() or 1) // args.threads)
    started = time.time()
    Scorer(sets["full"], args.encoder_steps)  # trains the set's encoder once (cached), before the runs race to
    with ThreadPoolExecutor(jobs) as pool:
        rows = [row for result in pool.map(lambda s: run_child(s, env), specs) for row in result]
    cpu = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import cpuinfo; "
                          "print(cpuinfo.describe())" % str(Path(__file__).parent)], capture_output=True, text=True,
                         env=env).stdout.strip()
    report = {"cpu": cpu, "threads_per_run": args.threads, "budgets_cpu_minutes": budgets, "rows": rows,
              "wall_s": round(time.time() - started)}
    text = (f"CPU: {cpu}\n{args.threads} thread(s) per run, {jobs} run(s) at once, fp32; scored against the "
            f"{len(held_back(sets['full']))} held-back images; {report['wall_s']} s in all\n\n{table(rows)}\n")
    figures = [str(figure(rows, data, out / f"quality-{data}.png")) for data in wanted]
    (out / "quality.md").write_text(text)
    (out / "quality.json").write_text(json.dumps({**report, "figures": figures}, indent=2))
    print(text + "\nfigures: " + ", ".join(figures))
    return report


if __name__ == "__main__":
    main()
