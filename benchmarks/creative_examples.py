"""The before/after pictures of docs/creative-project-palette-layout.md, from any style-based run.

    python benchmarks/creative_examples.py runs/00007-faces-64-style               # -> docs/images/creative/
    python benchmarks/creative_examples.py runs/00007-faces-64-style --seeds 0-3 --steps 200 --out /tmp/ex

Writes layout.png (rows: the layout, before, after), palette.png (rows: before, after, the palette)
and projection.png (a held-out image, its projection in w and in w+, then variations of the w+ one),
and prints the numbers each step reports. Every image comes from the commands' own functions, so
the pictures show what ``artforge explore`` does with the same settings.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

BLOBS = "0.5,0.62,0.3,#e63946;0.5,0.18,0.16,#1d3557"
PALETTE = "#264653,#2a9d8f,#e9c46a,#f4a261,#e76f51"


def layout_example(run: str, seeds: str, steps: int, strength: float, work: Path, out: Path) -> None:
    from artforge.options import LayoutConfig
    from artforge.explore.layout import layout_to_folder

    r = layout_to_folder(LayoutConfig(run=run, blobs=BLOBS, seeds=seeds, steps=steps, strength=strength,
                                      out=str(work / "layout"), quiet=True))
    shutil.copy(r["out"] / "comparison.png", out / "layout.png")
    print(f"layout {BLOBS!r}: distance {r['distance_before']:.1f} -> {r['distance_after']:.1f} Delta E")


def palette_example(run: str, seeds: str, steps: int, strength: float, work: Path, out: Path) -> None:
    from artforge.options import PaletteConfig
    from artforge.explore.palette import palette_to_folder

    r = palette_to_folder(PaletteConfig(run=run, colors=PALETTE, seeds=seeds, steps=steps, strength=strength,
                                        out=str(work / "palette"), quiet=True))
    shutil.copy(r["out"] / "comparison.png", out / "palette.png")
    print(f"palette {PALETTE}: distance {r['distance_before']:.1f} -> {r['distance_after']:.1f} Delta E")


def projection_example(run: str, steps: int, out: Path) -> None:
    import artforge
    from artforge.explore.project import (held_out_images, load_discriminator, project, run_dataset,
                                          variations)
    from artforge.utils.images import make_grid

    model = artforge.load(run, device="auto")
    target = held_out_images(model, run_dataset(model), 1)
    D = load_discriminator(model)
    row = [target[0]]
    for space in ("w", "w+"):
        result = project(model, target, space=space, steps=steps, D=D)
        row.append(result.images[0])
        print(f"projection in {space}: PSNR {result.psnr[0]:.2f} dB (mean image {result.start_psnr[0]:.2f} dB)")
    row += list(model.render(variations(model, result.ws, 3, strength=0.3)))
    images = np.stack(row)
    make_grid(np.repeat(images, 3, -1) if images.shape[-1] == 1 else images, cols=len(row)).save(
        out / "projection.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a style-based run")
    parser.add_argument("--seeds", default="0-3")
    parser.add_argument("--steps", type=int, default=150, help="steps of the layout and palette optimizations")
    parser.add_argument("--project-steps", type=int, default=300)
    parser.add_argument("--strength", type=float, default=0.6)
    parser.add_argument("--out", default="docs/images/creative")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        layout_example(args.run, args.seeds, args.steps, args.strength, Path(tmp), out)
        palette_example(args.run, args.seeds, args.steps, args.strength, Path(tmp), out)
        projection_example(args.run, args.project_steps, out)
    print(f"wrote {out}/layout.png, palette.png, projection.png")


if __name__ == "__main__":
    main()
