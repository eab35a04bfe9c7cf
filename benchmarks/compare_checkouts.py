"""Every family and task trained by this checkout and by another revision: speed, alternated, and the weights.

For refactors that must neither change what training computes nor slow it down: checks out REV into
a temporary git worktree, prepares one tiny dataset per kind of data with REV's code (so both
checkouts train on the same bytes), then for each case runs the same short training command in both
checkouts, alternating which goes first round by round (the machine is shared and noisy; an even
--rounds lets each go first equally often, and the second of a pair often ran slower here), each
in its own process with the given thread count. A run's speed is the median of its log's tick speeds
after the first tick (warm-up). Prints one markdown row per case: the medians, the ratio this/base,
and whether the final weights are bit-identical (same options, same seed).

The cases (``--cases``, default all): dcgan, style (``--arch style``), pix2pix, cyclegan, sr,
wavegan, specgan, musegan, and toy (``artforge bench toy`` on the grid, one seed, whose saved
samples are compared instead of weights, and whose speed is 2-D points per CPU second); each with
tiny networks, so a run takes seconds. Outside "all", dcgan-default: DCGAN at its default size, as
timed before (``--cases dcgan-default --data datasets/openmoji-64.zip --steps 100 --tick 20``).

    python benchmarks/compare_checkouts.py --base ca4152c --rounds 3
    python benchmarks/compare_checkouts.py --base ca4152c --cases dcgan,sr --rounds 1 --steps 8
    python benchmarks/compare_checkouts.py --base c576c14 --cases dcgan-default --data datasets/openmoji-64.zip \
        --steps 100 --tick 20
    python benchmarks/compare_checkouts.py --base ca4152c --precision bf16 --isa avx2
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
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpuinfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = ("--batch", "8", "--width", "8")  # tiny networks: each run takes seconds on 2 cores


@dataclass(frozen=True)
class Case:
    """One family or task: the data it trains on (a key of DATASETS), its training options and steps."""

    data: tuple[str, ...]  # datasets, in the order the options below expect them
    options: tuple[str, ...]  # `artforge train` options after the data; {0}, {1}: the datasets' paths
    steps: int
    positional: bool = True  # the first dataset is train's positional argument (cyclegan passes --a/--b)


CASES = {
    "dcgan": Case(("images",), TINY + ("--z-dim", "16"), 400),
    "style": Case(("images",), TINY + ("--arch", "style", "--z-dim", "16", "--w-dim", "16", "--mapping-layers", "2",
                                       "--max-width", "32"), 160),
    "pix2pix": Case(("pairs",), ("--task", "pix2pix", "--batch", "4", "--width", "8"), 300),
    "cyclegan": Case(("images", "images_b"), ("--task", "cyclegan", "--a", "{0}", "--b", "{1}", "--batch", "2",
                                               "--width", "4", "--blocks", "1", "--pool-size", "3"), 32,
                     positional=False),
    "sr": Case(("images",), ("--task", "sr", "--batch", "2", "--width", "4", "--blocks", "1", "--crop", "32",
                             "--scale", "4"), 48),
    "wavegan": Case(("sounds",), TINY + ("--arch", "wavegan", "--z-dim", "16"), 60),
    "specgan": Case(("sounds",), TINY + ("--arch", "specgan", "--z-dim", "16"), 80),
    "musegan": Case(("music",), TINY + ("--arch", "musegan"), 200),
    "toy": Case((), (), 400),  # `artforge bench toy`: see run_toy
    # Not in "all": DCGAN at its default size, what the figures before issue 38 timed (on openmoji-64 via --data).
    "dcgan-default": Case(("images",), (), 100),
}
ALL = tuple(name for name in CASES if name != "dcgan-default")  # every family and task, once


# ----------------------------------------------------------------------------- tiny source material

def write_discs(folder: Path, n: int, seed: int) -> None:
    """``n`` PNGs of a coloured disc on white, 48 px (prepared to 32)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:48, :48]
    for i in range(n):
        arr = np.full((48, 48, 3), 255, np.uint8)
        r, cx, cy = rng.integers(5, 16), *rng.integers(16, 32, 2)
        arr[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(0, 200, 3)
        Image.fromarray(arr).save(folder / f"disc{i:03d}.png")


def write_tones(folder: Path, rate: int = 16000) -> None:
    """Decaying tones in two labelled subfolders (kick: low, snare: high), 16-bit WAVs written by the stdlib."""
    import numpy as np

    for label, freq in (("kick", 60.0), ("snare", 900.0)):
        (folder / label).mkdir(parents=True)
        for i in range(6):
            t = np.arange(int(0.4 * rate)) / rate
            tone = 0.8 * np.sin(2 * np.pi * freq * (1 + 0.1 * i) * t) * np.exp(-6 * t)
            with wave.open(str(folder / label / f"{label}{i}.wav"), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(rate)
                out.writeframes((tone * 32767).astype("<i2").tobytes())


# Eight bars each (two pieces of 4 bars): a fast major line and a slow minor one, so both moods occur.
MAJOR_FAST = [[60, 64, 67, 72, 67, 64, 60, 64], [65, 69, 72, 69, 65, 64, 62, 60], [67, 71, 74, 71, 67, 65, 64, 62],
              [60, 64, 67, 64, 60, 67, 72, 67], [72, 67, 64, 60, 64, 67, 72, 76], [77, 72, 69, 65, 69, 72, 77, 72],
              [74, 71, 67, 62, 67, 71, 74, 67], [72, 67, 64, 67, 72, 64, 60, 60]]
MINOR_SLOW = [[57, 60], [64, 57], [62, 65], [64, 57], [57, 64], [60, 57], [56, 59], [57, 57]]


def write_songs(folder: Path) -> None:
    """Six MIDI files (transposed copies of a major and a minor tune), written with pretty_midi."""
    import pretty_midi

    folder.mkdir(parents=True)
    for i in range(3):
        for name, bars, tempo in (("major", MAJOR_FAST, 150), ("minor", MINOR_SLOW, 60)):
            song = pretty_midi.PrettyMIDI(initial_tempo=tempo)
            piano = pretty_midi.Instrument(program=0)
            beat = 60.0 / tempo
            for b, pitches in enumerate(bars):
                length = 4 * beat / len(pitches)
                for j, pitch in enumerate(pitches):
                    start = b * 4 * beat + j * length
                    piano.notes.append(pretty_midi.Note(velocity=80, pitch=pitch + i, start=start, end=start + length))
            song.instruments.append(piano)
            song.write(str(folder / f"{name}{i}.mid"))


@dataclass(frozen=True)
class Dataset:
    """A tiny dataset: how to write its source material, and the `artforge prepare` that turns it into a zip."""

    write: Callable[[Path], None]
    prepare: tuple[str, ...]  # `artforge prepare` arguments before SRC: a kind of data (pairs, audio, music) or none
    options: tuple[str, ...]  # after SRC
    zip_name: str


IMAGE_OPTIONS = ("--size", "32", "--workers", "1")
DATASETS = {
    "images": Dataset(lambda d: write_discs(d, 40, seed=0), (), IMAGE_OPTIONS, "discs-32.zip"),
    "images_b": Dataset(lambda d: write_discs(d, 20, seed=1), (), IMAGE_OPTIONS, "other-discs-32.zip"),
    "pairs": Dataset(lambda d: write_discs(d, 24, seed=2), ("pairs",), ("--derive", "gray") + IMAGE_OPTIONS,
                     "pairs-32.zip"),
    "sounds": Dataset(write_tones, ("audio",), ("--workers", "1"), "tones-16k.zip"),
    "music": Dataset(write_songs, ("music",), ("--split", "0.7,0.15,0.15"), "songs-4bars.zip"),
}


def prepare_datasets(names: set[str], src: Path, tmp: Path, data: Path | None) -> dict[str, Path]:
    """The zips the cases train on, prepared once by the code in ``src`` (the base's)."""
    paths = {}
    for name in sorted(names):
        if name == "images" and data is not None:
            paths[name] = data
            continue
        dataset = DATASETS[name]
        source, out = tmp / "sources" / name, tmp / "datasets" / dataset.zip_name
        dataset.write(source)
        artforge(src, ["prepare", *dataset.prepare, str(source), "--out", str(out), *dataset.options], cwd=tmp,
                 what=f"preparing {name}")
        paths[name] = out
    return paths


# ----------------------------------------------------------------------------- one run in one checkout

class RunFailed(Exception):
    pass


def artforge(src: Path, argv: list[str], cwd: Path, threads: int | None = None, what: str = "") -> None:
    env = {**os.environ, "PYTHONPATH": str(src)}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    done = subprocess.run([sys.executable, "-m", "artforge", *argv], env=env, capture_output=True, text=True, cwd=cwd)
    if done.returncode:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise RunFailed(f"{what or argv[0]} with {src} failed: {lines[-1] if lines else f'exit {done.returncode}'}")


def tensors_digest(arrays: dict) -> str:
    """sha256 of named arrays' names and bytes, in name order (the tensors, not a file: headers may differ)."""
    return hashlib.sha256(b"".join(k.encode() + arrays[k].tobytes() for k in sorted(arrays))).hexdigest()


def run_train(case: Case, src: Path, data: dict[str, Path], out: Path, steps: int, tick: int,
              args) -> tuple[float, str]:
    """(img/s, digest of the final model weights) of one `artforge train` with the code in ``src``."""
    paths = [str(data[name]) for name in case.data]
    options = [o.format(*paths) for o in case.options]
    argv = ["train", *(paths[:1] if case.positional else []), *options, "--steps", str(steps), "--tick", str(tick),
            "--checkpoint-every", str(steps), "--eval-images", "0", "--precision", args.precision, "--device", "cpu",
            "--seed", "0", "--out", str(out), "--quiet", "--no-tensorboard"]
    artforge(src, argv, out.parent, args.threads)
    run = sorted(p for p in out.iterdir() if p.is_dir())[-1]
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    speeds = [r["Speed/img_per_s"] for r in rows if "Speed/img_per_s" in r]
    from safetensors.numpy import load_file

    final = sorted((run / "checkpoints").glob("step-*/model.safetensors"))[-1]
    return statistics.median(speeds[1:] or speeds), tensors_digest(load_file(str(final)))


def run_toy(src: Path, out: Path, steps: int, args) -> tuple[float, str]:
    """(2-D points per CPU second, digest of the saved samples) of one `artforge bench toy` run: the toy
    family on the engine, the stable recipe on the grid, seed 0; the samples are all it keeps."""
    import numpy as np

    samples = out / "samples"
    artforge(src, ["bench", "toy", "--dataset", "grid", "--recipe", "stable", "--seeds", "1", "--steps", str(steps),
                   "--jobs", "1", "--out", str(out), "--save-samples", str(samples)], out.parent, args.threads)
    report = json.loads((out / "toy-bench.json").read_text())
    run = report["runs"][0]
    points = report["protocol"]["steps"] * report["protocol"]["batch"]
    return points / run["seconds"], tensors_digest({p.name: np.load(p) for p in samples.glob("*.npy")})


# ----------------------------------------------------------------------------- the comparison

def parse_cases(text: str) -> list[str]:
    names = list(ALL) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown or not names:
        raise SystemExit(f"compare_checkouts.py: error: unknown case {','.join(unknown) or text!r} in --cases; "
                         f"fix: pass all or some of {','.join(CASES)}")
    return names


def identical(hashes: dict[str, set[str]], base: str) -> str:
    """yes when every run of both codes ended with the same bytes; otherwise no, and whose runs disagree."""
    unsteady = [name for name, h in hashes.items() if len(h) > 1]
    if unsteady:  # several threads can reorder float sums
        return f"no ({' and '.join(unsteady)}: runs differ among themselves)"
    return "yes" if hashes["this"] == hashes[base] else "no"


def compare_case(name: str, sources: dict[str, Path], data: dict[str, Path], tmp: Path, args) -> str:
    """Both codes' runs of one case, alternating which goes first; its markdown row."""
    case = CASES[name]
    steps = args.steps or case.steps
    tick = args.tick or max(1, steps // 4)  # 4 ticks: the first is warm-up, the speed is the median of the rest
    speeds: dict[str, list[float]] = {k: [] for k in sources}
    hashes: dict[str, set[str]] = {k: set() for k in sources}
    try:
        for r in range(args.rounds):
            for code in list(sources) if r % 2 == 0 else list(sources)[::-1]:
                out = tmp / f"{name}-{r}-{code}"
                out.mkdir()
                started = time.time()
                if name == "toy":
                    speed, digest = run_toy(sources[code], out, steps, args)
                else:
                    speed, digest = run_train(case, sources[code], data, out, steps, tick, args)
                speeds[code].append(speed)
                hashes[code].add(digest)
                print(f"{name} round {r + 1}: {code}: {speed:.1f}/s ({time.time() - started:.0f} s)",
                      file=sys.stderr, flush=True)
    except RunFailed as exc:
        return f"| {name} | {steps} | | | | failed: {exc} |"
    base, this = (statistics.median(speeds[k]) for k in sources)
    return (f"| {name} | {steps} | {base:.1f} | {this:.1f} | {this / base:.3f} | "
            f"{identical(hashes, list(sources)[0])} |")


def check_out(rev: str, dest: Path) -> Path:
    """A detached worktree of ``rev`` at ``dest`` (removed by the caller)."""
    added = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(dest), rev],
                           capture_output=True, text=True)
    if added.returncode:
        reason = (added.stderr.strip().splitlines() or ["git failed"])[-1]
        raise SystemExit(f"compare_checkouts.py: error: cannot check out --base {rev}: {reason}; "
                         "fix: pass a revision of this repository")
    return dest


def print_header(args) -> None:
    print(f"CPU: {cpuinfo.describe()}; isa {args.isa}; {args.threads} threads; {args.precision}; {args.rounds} "
          "alternating rounds, medians; speed in training images/s (toy: 2-D points per CPU second)\n")
    print(f"| case | steps | img/s {args.base} | img/s this | this/base | bit-identical |")
    print("|---|---:|---:|---:|---:|---|", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the git revision to compare against")
    ap.add_argument("--cases", default="all",
                    help=f"comma separated: {','.join(CASES)}; or all (every one but dcgan-default)")
    ap.add_argument("--family", dest="cases", help="the same as --cases")
    ap.add_argument("--data", type=Path, default=None,
                    help="a prepared image dataset for the image cases (dcgan, style, sr, cyclegan's A) "
                         "instead of the tiny discs")
    ap.add_argument("--steps", type=int, default=None, help="steps per run for every case (default: each case's own)")
    ap.add_argument("--tick", type=int, default=None, help="steps per log line (default: a quarter of the steps)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    ap.add_argument("--isa", choices=("native", "avx2"), default="native", help="act as an AVX2 CPU")
    args = ap.parse_args(argv)
    names = parse_cases(args.cases)
    for option in ("steps", "tick", "rounds", "threads"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise SystemExit(f"compare_checkouts.py: error: --{option} must be at least 1, got {value}; "
                             "fix: pass 1 or more")
    if args.isa == "avx2":
        os.environ.update(cpuinfo.AVX2_ENV)
    if args.data is not None and not args.data.exists():
        raise SystemExit(f"compare_checkouts.py: error: no dataset {args.data}; "
                         "fix: make it with 'artforge prepare openmoji --size 64', or leave out --data")
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        tmp = Path(tmp)
        base = check_out(args.base, tmp / "base")
        try:
            sources = {args.base: base / "src", "this": ROOT / "src"}
            print_header(args)
            try:
                data = prepare_datasets({d for n in names for d in CASES[n].data}, base / "src", tmp, args.data)
            except RunFailed as exc:
                raise SystemExit(f"compare_checkouts.py: error: {exc}") from None
            rows = []
            for name in names:
                rows.append(compare_case(name, sources, data, tmp, args))
                print(rows[-1], flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)
    return 1 if any("| failed:" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
