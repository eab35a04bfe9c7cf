"""Interpolation videos: a path through a style-based model's latent space, rendered frame by frame.

Two spaces: in w (the default) the keyframes are the seeds' truncated styles (or saved styles) and the
path runs in straight lines between them; w is the space the synthesis network sees, so a straight
line there changes the image evenly. In z the path follows great circles between the seeds' latents
(slerp: z ~ N(0, I) lies near a sphere, and the mapping network normalises z onto it), and each
frame is mapped to w and truncated. Every keyframe is a frame exactly; a looped path returns to the
first keyframe without repeating it, so the video loops seamlessly.

    model = artforge.load("runs/00007-faces-64-style")
    path = interpolate(model, seeds=[0, 5, 9], frames=30, loop=True, ease="smooth")
    frames = model.render(path.ws)           # uint8 (T, H, W, C)
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .. import provenance
from ..options import InterpolateConfig, to_dict
from ..options.explore import EASES
from ..errors import UsageError, require
from ._output import default_folder, remove_stale, slug

FRAMES_DIR = "frames"
FRAME_PATTERN = r"frame\d{5}\.png"  # the only names a later call may delete (with their sidecars)
GIF_NAME = "interpolation.gif"
MP4_NAME = "interpolation.mp4"
VIDEO_MIN_SIDE = 256  # frames are scaled up (nearest) until their shorter side reaches this, for players


# ----------------------------------------------------------------------------- the math

def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """a + t (b - a), exactly a at t=0 and exactly b at t=1 (torch.lerp computes from the nearer end)."""
    t = torch.as_tensor(t, dtype=a.dtype)
    return torch.lerp(a, b, t)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float, eps: float = 1e-6) -> torch.Tensor:
    """Spherical interpolation along the last dim: sin((1-t)O)/sin(O) a + sin(tO)/sin(O) b, O the angle of a, b.

    Exactly a at t=0 and b at t=1. Where a and b are (nearly) parallel, sin(O) -> 0 and the formula loses
    all precision, so the straight line is used there (the two paths agree to first order). Computed in
    float64, returned in a's dtype; ``t`` broadcasts against a[..., :1].
    """
    a64, b64 = a.double(), b.double()
    t = torch.as_tensor(t, dtype=torch.float64)
    t = t.reshape(t.shape + (1,) * (a.dim() - t.dim())) if t.dim() and t.dim() < a.dim() else t
    cos = (a64 * b64).sum(-1, keepdim=True) / (a64.norm(dim=-1, keepdim=True) * b64.norm(dim=-1, keepdim=True))
    omega = torch.arccos(cos.clamp(-1, 1).nan_to_num(1.0))  # a zero vector has no angle: the line
    sin = torch.sin(omega)
    spherical = (torch.sin((1 - t) * omega) * a64 + torch.sin(t * omega) * b64) / sin.clamp_min(eps)
    straight = torch.lerp(a64, b64, t.expand_as(a64) if t.dim() else t)
    return torch.where(sin > eps, spherical, straight).to(a.dtype)


def _smoothstep(t: torch.Tensor) -> torch.Tensor:
    return t * t * (3 - 2 * t)


def _cosine(t: torch.Tensor) -> torch.Tensor:
    return (1 - torch.cos(math.pi * t)) / 2


# name -> f: [0, 1] -> [0, 1] with f(0) = 0 and f(1) = 1 exactly; smooth and cosine have zero speed at both ends
EASINGS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda t: t, "smooth": _smoothstep, "cosine": _cosine}
assert tuple(EASINGS) == EASES


@dataclass
class LatentPath:
    latents: torch.Tensor  # (T, *key shape) the latent of each frame
    segment: list[int]  # (T,) the segment each frame lies on: from keyframe s to s+1 (to 0 when looping)
    t: list[float]  # (T,) the eased position along its segment, 0 at its start


def path(keys: torch.Tensor, frames: int, *, loop: bool = False, ease: str = "linear",
         spherical: bool = False) -> LatentPath:
    """Frames through keyframes ``keys`` (N, ...): ``frames`` per segment, the first at each keyframe.

    Not looping: (N-1) * frames + 1 frames, the last exactly keys[-1]. Looping: N * frames, the last
    segment heads back to keys[0] and stops a step short of it, so the video repeats without a stall.
    """
    if len(keys) < 2:
        raise UsageError("interpolation needs two or more keyframes", "pass e.g. --seeds 0,1")
    if ease not in EASINGS:
        raise UsageError(f"--ease must be one of {', '.join(EASINGS)}, got {ease!r}", "pass --ease linear")
    ends = list(range(1, len(keys))) + ([0] if loop else [])
    u = EASINGS[ease](torch.arange(frames, dtype=torch.float64) / frames)
    mix = slerp if spherical else lerp
    parts, segment, ts = [], [], []
    for s, e in enumerate(ends):
        shape = (frames,) + (1,) * (keys.dim() - 1)
        a, b = keys[s].expand(frames, *keys.shape[1:]), keys[e].expand(frames, *keys.shape[1:])
        parts.append(mix(a, b, u.reshape(shape)))
        segment += [s] * frames
        ts += u.tolist()
    if not loop:  # the path ends on the last keyframe itself
        parts.append(keys[-1:])
        segment.append(len(keys) - 2)
        ts.append(1.0)
    return LatentPath(torch.cat(parts), segment, ts)


# ----------------------------------------------------------------------------- on a model

@dataclass
class Interpolation:
    ws: torch.Tensor  # (T, num_ws, w_dim) each frame's styles, as rendered
    segment: list[int]  # (T,)
    t: list[float]  # (T,)
    keys: list[str]  # names of the keyframes: 'seed 3' or 'file.json', in order
    z: torch.Tensor | None = None  # (T, z_dim) each frame's latent, for --space z


def interpolate(model, seeds: Sequence[int] | None = None, ws: torch.Tensor | None = None, *, space: str = "w",
                frames: int = 30, loop: bool = False, ease: str = "linear", truncation: float = 1.0,
                label: int | str | None = None, names: list[str] | None = None) -> Interpolation:
    """Each frame's styles for a path through ``seeds``, or through saved styles ``ws`` (N, [num_ws,] w_dim)."""
    model._require_styles("interpolation")
    if (seeds is None) == (ws is None):
        raise UsageError("pass seeds or saved styles to interpolate, not both or neither", "pass --seeds 0,1")
    if ws is not None:
        if space != "w":
            raise UsageError("saved styles are in w", "pass --space w with --latents")
        keys = model.G.broadcast(torch.as_tensor(ws, dtype=torch.float32)).contiguous()
        p = path(keys, frames, loop=loop, ease=ease)
        return Interpolation(p.latents, p.segment, p.t, names or [f"latent {i}" for i in range(len(keys))])
    seeds = [int(s) for s in seeds]
    names = [f"seed {s}" for s in seeds]
    if space == "w":
        p = path(model.styles(seeds, truncation, label), frames, loop=loop, ease=ease)
        return Interpolation(p.latents, p.segment, p.t, names)
    if space != "z":
        raise UsageError(f"--space must be w or z, got {space!r}", "pass --space w")
    return _interpolate_z(model, seeds, names, frames, loop, ease, truncation, label)


def _interpolate_z(model, seeds, names, frames, loop, ease, truncation, label) -> Interpolation:
    """Slerp the seeds' z, then map each frame (with the seeds' class) to w and truncate as ``styles`` does."""
    c = model.labels(seeds, label)
    if c is not None and len(set(c.tolist())) > 1:  # z carries no class: a path in z keeps one
        raise UsageError(f"--space z needs seeds of one class; these are of classes {sorted(set(c.tolist()))}",
                         "pass --label NAME, or --space w (it blends the classes' styles)")
    p = path(model.latents(seeds), frames, loop=loop, ease=ease, spherical=True)
    z = p.latents.float()
    cls = None if c is None else torch.full((len(z),), int(c[0]))
    with torch.no_grad():
        w = torch.cat([model.G.map(z[i:i + 256].to(model.device),
                                   None if cls is None else cls[i:i + 256].to(model.device))
                       for i in range(0, len(z), 256)]).float().cpu()
    if truncation != 1:
        mean = model.mean_style(None if cls is None else int(cls[0]))
        w = mean + truncation * (w - mean)  # as LoadedRun.styles
    return Interpolation(model.G.broadcast(w).contiguous(), p.segment, p.t, names, z=z)


# ----------------------------------------------------------------------------- saved styles

def load_latents(paths: Sequence[str | Path], num_ws: int, w_dim: int) -> tuple[torch.Tensor, list[str]]:
    """Keyframe styles (N, num_ws, w_dim) from .npy and .json files, and a name for each.

    .npy: w (w_dim,) or (N, w_dim), or w+ (N, num_ws, w_dim). .json: an image's provenance record (its
    ``ws``: one image's styles), an encoded array ({"shape", "float32_b64"}) or nested lists of numbers.
    """
    keys, names = [], []
    for file in map(Path, paths):
        ws = _read_latent_file(file, num_ws, w_dim)
        keys.append(ws)
        names += [file.name] if len(ws) == 1 else [f"{file.name}[{i}]" for i in range(len(ws))]
    return torch.cat(keys), names


def _read_latent_file(path: Path, num_ws: int, w_dim: int) -> torch.Tensor:
    if not path.is_file():
        raise UsageError(f"--latents {path} does not exist", "pass a .npy or .json file of saved styles")
    single = False  # a provenance record holds one image's styles, whatever its array's shape
    try:
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            data = json.loads(path.read_text())
            if isinstance(data, dict) and isinstance(data.get("ws"), dict):
                data, single = data["ws"], True
            array = provenance.decode_array(data) if isinstance(data, dict) else np.asarray(data, dtype=np.float32)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"--latents {path} cannot be read ({' '.join(str(exc).split())[:80]})",
                         "pass a .npy array or an image's provenance .json") from None
    array = np.asarray(array, dtype=np.float32)
    if single and array.size == num_ws * w_dim:
        array = array.reshape(1, num_ws, w_dim)
    elif array.ndim == 1:
        array = array[None]
    ok = array.ndim in (2, 3) and array.shape[-1] == w_dim and (array.ndim == 2 or array.shape[1] == num_ws)
    if not ok or not len(array):
        raise UsageError(f"--latents {path} holds an array of shape {tuple(array.shape)}, not styles of this model",
                         f"pass w of shape (N, {w_dim}) or w+ of shape (N, {num_ws}, {w_dim})")
    if not np.isfinite(array).all():
        raise UsageError(f"--latents {path} holds NaN or infinite values", "pass another file")
    ws = torch.from_numpy(array.copy())
    return ws[:, None].expand(-1, num_ws, -1).contiguous() if ws.dim() == 2 else ws


# ----------------------------------------------------------------------------- video files

def video_frame(image: np.ndarray, min_side: int = VIDEO_MIN_SIDE) -> np.ndarray:
    """uint8 (H, W, C) -> RGB (H', W', 3) with even sides, as H.264 in yuv420p needs: scaled up by a whole
    factor (nearest, so pixels stay crisp) until the shorter side reaches ``min_side``, then edge-padded."""
    k = max(1, math.ceil(min_side / min(image.shape[:2])))
    out = image.repeat(k, axis=0).repeat(k, axis=1)
    out = np.repeat(out, 3, axis=2) if out.shape[2] == 1 else out[..., :3]
    pad = ((0, out.shape[0] % 2), (0, out.shape[1] % 2), (0, 0))
    return np.pad(out, pad, mode="edge") if any(p[1] for p in pad) else out


def write_gif(path: str | Path, frames: Sequence[np.ndarray], fps: int) -> Path:
    """An endlessly looping GIF (Pillow) of uint8 (H, W, C) frames. GIF timing is in 1/100 s, so fps above 50
    plays slower; Pillow merges consecutive identical frames into one longer one."""
    from ..utils.images import to_pil

    path = Path(path)
    images = [to_pil(f) for f in frames]
    tmp = path.with_name(f".{path.name}.tmp")
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    tmp.replace(path)
    return path


def write_mp4(path: str | Path, frames: Sequence[np.ndarray], fps: int) -> Path:
    """An H.264 MP4 of uint8 (H, W, C) frames through imageio-ffmpeg's bundled ffmpeg, scaled by ``video_frame``."""
    imageio_ffmpeg = require_ffmpeg()
    path = Path(path)
    first = video_frame(frames[0])
    tmp = path.with_name(f".{path.name}.tmp.mp4")  # ffmpeg picks the container by extension
    writer = imageio_ffmpeg.write_frames(str(tmp), (first.shape[1], first.shape[0]), fps=fps, codec="libx264",
                                         macro_block_size=1, ffmpeg_log_level="error",
                                         output_params=["-movflags", "+faststart"])
    writer.send(None)  # start ffmpeg
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(video_frame(frame)).tobytes())
    finally:
        writer.close()
    tmp.replace(path)
    return path


def require_ffmpeg():
    return require("imageio_ffmpeg", "video", "writing MP4 (--format mp4)")


# ----------------------------------------------------------------------------- the command

def interpolate_to_folder(cfg: InterpolateConfig, announce=print) -> dict:
    """``artforge explore interpolate``: frames/frame00000.png ... (each with its record) and the videos."""
    from tqdm import tqdm

    from ..sampling import load

    started = time.perf_counter()
    if "mp4" in cfg.format:
        require_ffmpeg()  # before any work: a missing encoder is known now
    model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
    model._require_styles("interpolation")
    seeds = cfg.keyframe_seeds()
    if cfg.latents:
        ws, names = load_latents(cfg.latents, model.G.num_ws, model.model_config.w_dim)
        interp = interpolate(model, ws=ws, names=names, frames=cfg.frames, loop=cfg.loop, ease=cfg.ease)
        source = Path(cfg.latents[0]).stem + (f"-and-{len(cfg.latents) - 1}" if len(cfg.latents) > 1 else "")
    else:
        interp = interpolate(model, seeds, space=cfg.space, frames=cfg.frames, loop=cfg.loop, ease=cfg.ease,
                             truncation=cfg.truncation, label=cfg.label)
        source = cfg.seeds or "0,1"
    out = Path(cfg.out) if cfg.out else default_folder(model, f"interpolate-{cfg.space}-{slug(source)}")
    frames_dir = out / FRAMES_DIR
    frames_dir.mkdir(parents=True, exist_ok=True)
    names = [f"frame{i:05d}.png" for i in range(len(interp.ws))]
    removed = remove_stale(frames_dir, FRAME_PATTERN, set(names))
    settings = {**to_dict(cfg), "keyframes": interp.keys, "frame_count": len(names)}
    images = []
    with tqdm(total=len(names), desc="rendering frames", unit="frame", disable=cfg.quiet, mininterval=1.0,
              leave=False) as bar:
        for start in range(0, len(names), 16):
            batch = model.render(interp.ws[start:start + 16])
            for i, image in enumerate(batch, start):
                provenance.save_image(frames_dir / names[i], image, _frame_record(model, cfg, interp, i, settings))
                images.append(image)
            bar.update(len(batch))
    gif = write_gif(out / GIF_NAME, images, cfg.fps) if "gif" in cfg.format else None
    mp4 = write_mp4(out / MP4_NAME, images, cfg.fps) if "mp4" in cfg.format else None
    return {"out": out, "frames_dir": frames_dir, "frames": len(images), "gif": gif, "mp4": mp4, "removed": removed,
            "keyframes": interp.keys, "checkpoint": model.checkpoint, "step": model.step,
            "seconds": time.perf_counter() - started}


def _frame_record(model, cfg: InterpolateConfig, interp: Interpolation, i: int, settings: dict) -> dict:
    """One frame's provenance: its exact styles (num_ws, w_dim) (and z), and where on the path it lies."""
    s = interp.segment[i]
    end = (s + 1) % len(interp.keys)
    frame = {"frame": i, "segment": s, "t": interp.t[i], "from": interp.keys[s], "to": interp.keys[end]}
    return provenance.describe(model, "interpolate", label=cfg.label,
                               truncation=None if cfg.latents else cfg.truncation, ws=interp.ws[i],
                               z=None if interp.z is None else interp.z[i], settings={**settings, **frame})
