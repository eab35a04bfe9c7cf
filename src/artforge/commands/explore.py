"""``explore ACTION``: creative control of a style-based model (mix, interpolate, project, palette, layout).

Each action is its options dataclass, its help and examples (for the CLI's --help and the studio),
the function that does it, and the lines that summarize what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..options import InterpolateConfig, LayoutConfig, MixConfig, PaletteConfig, ProjectConfig
from ..errors import UsageError


@dataclass(frozen=True)
class Action:
    options: type
    help: str
    examples: str
    run: Callable[[Any], dict]  # the options object -> what it wrote
    summary: Callable[[Any, dict], list[str]]  # (options, result) -> lines


@dataclass
class Explored:
    action: str
    options: Any
    result: dict

    def __getitem__(self, key):  # the action's result, as the functions below return it
        return self.result[key]


def explore(options: dict, events=None, cancel=None) -> Explored:
    name = options.pop("action", None)
    if not name:
        raise UsageError("no explore action given", f"pass one of: {', '.join(ACTIONS)}")
    action = ACTIONS[name]
    cfg = action.options(**options)
    return Explored(name, cfg, action.run(cfg))


def explore_summary(explored: Explored, options: dict | None = None) -> list[str]:
    return ACTIONS[explored.action].summary(explored.options, explored.result)


# --- mix / interpolate

def _mix(cfg) -> dict:
    from ..explore.mixing import mix_to_folder
    return mix_to_folder(cfg)


def _mix_summary(cfg, result) -> list[str]:
    return [f"mixed {len(cfg.row_seeds())}x{len(cfg.col_seeds())} cells (layers {_spans(result['layers'])} from the "
            f"columns) from {result['checkpoint']} (step {result['step']}) in {result['seconds']:.1f} s",
            f"  grid: {result['grid']}; cells: {result['out']}/row*-col*.png"]


def _interpolate(cfg) -> dict:
    from ..explore.interpolate import interpolate_to_folder
    return interpolate_to_folder(cfg)


def _interpolate_summary(cfg, result) -> list[str]:
    videos = [str(result[k]) for k in ("gif", "mp4") if result[k]]
    return [f"rendered {result['frames']} frames through {', '.join(result['keyframes'])} from {result['checkpoint']} "
            f"(step {result['step']}) in {result['seconds']:.1f} s",
            f"  frames: {result['frames_dir']}" + (f"; videos: {', '.join(videos)}" if videos else "")]


def _spans(ids: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5'."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


# --- project / palette / layout

def _project(cfg) -> dict:
    from ..explore.project import project_to_folder
    return project_to_folder(cfg)


def _project_summary(cfg, r) -> list[str]:
    how = "pixels + D features" if r["used_d"] else "pixels only"
    how += " (no D: an exported model)" if cfg.d_weight and not r["used_d"] else ""
    if cfg.held_out:
        return [f"projected {r['held_out']} held-out images of {r['dataset']} into {cfg.space} ({how}) in "
                f"{r['seconds']:.1f} s: mean PSNR {r['psnr']:.2f} dB (the mean image: {r['start_psnr']:.2f} dB)"]
    return [f"projected {cfg.image} into {cfg.space} ({how}) in {r['seconds']:.1f} s: PSNR {r['psnr']:.2f} dB "
            f"(the mean image: {r['start_psnr']:.2f} dB), loss {r['loss'][0]:.4f} -> {r['loss'][1]:.4f}",
            f"  wrote {len(r['files'])} images to {r['out']}; styles: {r['latents']}",
            f"  next: artforge explore interpolate {cfg.run} --latents {r['latents']},..."]


def _palette(cfg) -> dict:
    from ..explore.palette import palette_to_folder
    return palette_to_folder(cfg)


def _palette_summary(cfg, r) -> list[str]:
    return [f"recoloured {_count(len(r['files']) // 2, 'image')} toward {', '.join(r['palette'])} "
            f"(strength {cfg.strength}) in {r['seconds']:.1f} s: palette distance {r['distance_before']:.1f} -> "
            f"{r['distance_after']:.1f} (mean Delta E to the nearest palette colour)",
            f"  wrote {r['out']}: before-*.png, after-*.png, comparison.png"]


def _layout(cfg) -> dict:
    from ..explore.layout import layout_to_folder
    return layout_to_folder(cfg)


def _layout_summary(cfg, r) -> list[str]:
    return [f"steered {_count(len(r['files']) // 2, 'image')} toward the layout (strength {cfg.strength}) in "
            f"{r['seconds']:.1f} s: layout distance {r['distance_before']:.1f} -> {r['distance_after']:.1f} "
            "(mean Delta E over the layout)",
            f"  wrote {r['out']}: layout.png, before-*.png, after-*.png, comparison.png"]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


MIX_EXAMPLES = """examples:
  artforge explore mix runs/00007-faces-64-style                      # rows 0-3 x columns 4-7, coarse layers
  artforge explore mix runs/00007-faces-64-style --rows 1,5,9 --cols 20-25 --layers fine
  artforge explore mix runs/00007-faces-64-style --layers 0-3 --truncation 0.7 --out mixes/
The column seeds give the layers --layers names; the row seeds give the rest."""
INTERPOLATE_EXAMPLES = """examples:
  artforge explore interpolate runs/00007-faces-64-style --seeds 3,17,42 --loop   # GIF, MP4 and frames/
  artforge explore interpolate runs/00007-faces-64-style --seeds 0,1 --space z --ease smooth --frames 60
  artforge explore interpolate runs/00007-faces-64-style --latents a.json,b.json --format gif
MP4 needs imageio-ffmpeg: pip install 'artforge[video]'."""
PROJECT_EXAMPLES = """examples:
  artforge explore project runs/00007-faces-64-style photo.jpg              # w+, 300 steps -> projected.png
  artforge explore project runs/00007-faces-64-style photo.jpg --space w --vary 8   # plus 8 variations
  artforge explore project runs/00007-faces-64-style --held-out 16          # mean PSNR on test images
The styles are saved in projected.json: artforge explore interpolate RUN --latents projected.json,..."""
PALETTE_EXAMPLES = """examples:
  artforge explore palette runs/00007-faces-64-style --colors '#264653,#2a9d8f,#e9c46a,#f4a261' --seeds 0-3
  artforge explore palette runs/00007-faces-64-style --palette-image sunset.jpg --k 4 --strength 0.8"""
LAYOUT_EXAMPLES = """examples:
  artforge explore layout runs/00007-faces-64-style --blobs '0.5,0.65,0.3,#e63946;0.5,0.15,0.2,#1d3557'
  artforge explore layout runs/00007-faces-64-style --mask mask.png --color '#ffd166' --background '#073b4c'
Blobs: x,y,r,#colour with x, y in [0, 1] from the top left and r a fraction of the shorter side."""

ACTIONS: dict[str, Action] = {
    "mix": Action(MixConfig, "style mixing grid: row seeds' images with the named layers (coarse, middle, fine or "
                  "indices) from the column seeds'", MIX_EXAMPLES, _mix, _mix_summary),
    "interpolate": Action(InterpolateConfig, "interpolation video through seeds or saved styles (linear in w or "
                          "spherical in z, looping, eased): frames, GIF and MP4", INTERPOLATE_EXAMPLES, _interpolate,
                          _interpolate_summary),
    "project": Action(ProjectConfig, "project a real image into the model (w or w+), then re-render, vary and mix "
                      "it; or report reconstruction PSNR on held-out images", PROJECT_EXAMPLES, _project,
                      _project_summary),
    "palette": Action(PaletteConfig, "recolour seeds' images toward a palette (colours or a reference image) by "
                      "moving their styles", PALETTE_EXAMPLES, _palette, _palette_summary),
    "layout": Action(LayoutConfig, "steer seeds' images toward a rough layout (coloured blobs or a mask)",
                     LAYOUT_EXAMPLES, _layout, _layout_summary),
}
