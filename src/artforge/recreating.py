"""``artforge recreate`` (re-make an image from its provenance record, or neighbours of it) and
``artforge verify`` (is the invisible watermark there, is there a record).

A style model's image is re-rendered from the exact styles in its record, so images made from
edited styles (mixing, projection, palette, layout) recreate as well as samples; a DCGAN image from
its latent z (or seed), class and truncation. The watermark is deterministic, so a recreated image
is pixel-identical to the original when the same model renders on the same kind of hardware.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from . import provenance
from . import watermark as wm
from .options import RecreateConfig, VerifyConfig
from .errors import ArtforgeError, DataError, UsageError


# ----------------------------------------------------------------------------- reading

def read_image(path: str | Path) -> np.ndarray:
    """uint8 (H, W, C) pixels of ``path``, or a one-line DataError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file", "check the path")
    try:
        return provenance.read_pixels(path)
    except (OSError, ValueError, SyntaxError) as exc:  # PIL raises all three for damaged or foreign files
        detail = " ".join(str(exc).split())[:100]
        raise DataError(f"{path} cannot be read as an image ({detail})", "pass a PNG or JPEG file") from None


def record_of(path: str | Path) -> dict:
    """The provenance record of ``path``; a one-line DataError when it has none this version reads."""
    path = Path(path)
    record = provenance.read_record(path)
    if record is None or not provenance.is_record(record):
        raise DataError(f"{path} has no artforge record (no '{provenance.PNG_KEY}' PNG metadata and no "
                        f"{provenance.sidecar_path(path).name} beside it)",
                        "pass a PNG written by artforge, or put its .json sidecar back beside it")
    version = record.get("format_version")
    if version != provenance.FORMAT_VERSION:
        raise DataError(f"{path} has a record of format version {version}; this artforge reads version "
                        f"{provenance.FORMAT_VERSION}", "use the artforge version that wrote it")
    return record


def load_model(record: dict, model_path: str | None, device: str):
    """The model a record names: its checkpoint, or ``model_path`` (a moved run) at the recorded step."""
    from .sampling import load

    named = record["model"]
    try:
        if model_path:
            model = load(model_path, str(named.get("step")), device, announce=lambda *_: None)
        else:
            model = load(named["checkpoint"], "best", device, announce=lambda *_: None)
    except ArtforgeError as exc:
        if model_path:
            raise
        raise type(exc)(f"the model this image was made with cannot be loaded ({exc.message})",
                        "pass --model with the run's (or export's) current folder") from None
    if named.get("arch") and model.arch != named["arch"]:
        raise UsageError(f"the image was made by a {named['arch']} model; {model.run_dir} is a {model.arch} model",
                         "pass --model with the run the image came from")
    return model


# ----------------------------------------------------------------------------- rendering

def _labels(model, record: dict) -> torch.Tensor | None:
    """The class index tensor (1,) a record's image used (its seed's default class when none was named)."""
    if not model.num_classes:
        return None
    return model.labels([record.get("seed") or 0], record.get("label"))


def _styles(model, record: dict) -> torch.Tensor:
    """The record's styles as w+ (1, num_ws, w_dim)."""
    ws = torch.from_numpy(provenance.decode_array(record["ws"]))
    return model.G.broadcast(ws if ws.dim() == 3 else ws[None])


def _latent(model, record: dict) -> torch.Tensor:
    """The record's latent z (1, z_dim): as recorded, else drawn from its seed."""
    if "z" in record:
        return torch.from_numpy(provenance.decode_array(record["z"])).reshape(1, -1)
    return model.latents([int(record["seed"])])


def render(model, record: dict) -> np.ndarray:
    """The unmarked uint8 (H, W, C) image a record describes, rendered the way the command rendered it."""
    kind = record.get("kind")
    if kind == "sample-grid":
        from .sampling import sample_images
        from .utils.images import make_grid

        settings = record.get("settings") or {}
        images, _ = sample_images(model, list(settings["seeds"]), settings.get("truncation", 1.0),
                                   settings.get("label"))
        picture = np.asarray(make_grid(images))
        return picture[:, :, None] if picture.ndim == 2 else picture
    if "ws" in record and model.has_styles:
        return model.render(_styles(model, record))[0]
    if "z" in record or record.get("seed") is not None:
        truncation = record.get("truncation")
        return model.render_latents(_latent(model, record), _labels(model, record),
                                    1.0 if truncation is None else truncation)[0]
    raise DataError(f"the record of this {kind} image holds no styles, latent or seed to render it from"
                    + (" (a grid: recreate its cells)" if str(kind).endswith("grid") else ""),
                    "recreate an image that has one, such as a sample or a grid's cell")


TRANSLATED = ("translate", "upscale")  # kinds made from a source image by an image-to-image run


def load_translator_of(record: dict, model_path: str | None, device: str):
    """The image-to-image model a translate or upscale record names, with the direction or strength it used."""
    from .translating import load_translator

    named, settings = record["model"], record.get("settings") or {}
    options = dict(reverse=settings.get("direction") == "b2a", strength=settings.get("strength"),
                   announce=lambda *_: None)
    try:
        if model_path:
            return load_translator(model_path, str(named.get("step")), device, **options)
        return load_translator(named["checkpoint"], "best", device, **options)
    except ArtforgeError as exc:
        if model_path:
            raise
        raise type(exc)(f"the model this image was made with cannot be loaded ({exc.message})",
                        "pass --model with the run's current folder") from None


def retranslate(translator, record: dict) -> np.ndarray:
    """The unmarked image a translate or upscale record describes, made again from its source file."""
    import hashlib

    from .data.imaging import decode_native

    source = (record.get("settings") or {}).get("source") or {}
    path = Path(source.get("file", ""))
    if not path.is_file():
        raise DataError(f"the image this one was made from, {path}, is not there any more",
                        "put the source image back at that path")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != source.get("sha256"):
        raise DataError(f"the source image {path} has changed since this image was made from it",
                        "restore the original source image")
    image = decode_native(data, gray=translator.channels == 1)
    settings = record.get("settings") or {}
    return translator.apply(image, tile=settings.get("tile"), seed=record.get("seed"))


def neighbours(model, record: dict, n: int, strength: float, seed: int) -> list[tuple[np.ndarray, dict]]:
    """``n`` variations of the record's image: (unmarked image, the describe() keywords that make it again).

    Neighbour i moves the styles ``strength`` of the way along a random draw's offset from the mean
    style (directions the model itself takes, so neighbours stay plausible), or for models without
    styles the latent by ``strength`` times a random latent; draw i is seeded with ``seed + i``.
    """
    seeds = list(range(seed, seed + n))
    truncation = record.get("truncation")
    truncation = 1.0 if truncation is None else truncation
    labels = _labels(model, record)
    label = None if labels is None else int(labels[0])  # the parent's class, kept by every neighbour
    out = []
    if "ws" in record and model.has_styles:
        ws = _styles(model, record)
        centre = torch.stack([model.mean_style(label) for _ in seeds])[:, None]
        moved = ws + strength * (model.styles(seeds, label=label) - centre)
        for i, s in enumerate(seeds):
            out.append((model.render(moved[i:i + 1])[0], dict(seed=s, label=label, truncation=truncation,
                                                               ws=moved[i])))
        return out
    if "z" not in record and record.get("seed") is None:
        render(model, record)  # raises the reason
    z = _latent(model, record)
    moved = z + strength * model.latents(seeds)
    for i, s in enumerate(seeds):
        out.append((model.render_latents(moved[i:i + 1], labels, truncation)[0], dict(seed=s, label=label,
                                                                                  truncation=truncation, z=moved[i])))
    return out


# ----------------------------------------------------------------------------- the commands

def recreate(cfg: RecreateConfig, announce=print) -> dict:
    """``artforge recreate``: re-make IMAGE from its record, say whether it is pixel-identical, and vary it."""
    started = time.perf_counter()
    image_path = Path(cfg.image)
    given = read_image(image_path)
    record = record_of(image_path)
    translated = record.get("kind") in TRANSLATED
    if translated and cfg.vary:
        raise UsageError("--vary draws neighbours of a generated image's latent; a translated or upscaled image has "
                         "none", "leave --vary out (pix2pix variations: artforge translate --variations N)")
    model = load_translator_of(record, cfg.model, cfg.device) if translated else load_model(record, cfg.model, cfg.device)
    marked = bool((record.get("watermark") or {}).get("applied"))
    out = Path(cfg.out) if cfg.out else image_path.with_name(f"{image_path.stem}-recreated.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    again = {k: v for k, v in record.items() if k != "watermark"}
    again.update(created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), recreated_from=str(image_path.resolve()))
    if cfg.model:  # where the model is now
        again["model"] = {**record["model"], "path": str(Path(model.run_dir).resolve()),
                          "checkpoint": str(model.checkpoint)}
    picture = retranslate(model, record) if translated else render(model, record)
    provenance.save_image(out, picture, again, watermark=marked)
    written = provenance.read_pixels(out)
    same_shape = written.shape == given.shape
    max_diff = int(np.abs(written.astype(int) - given.astype(int)).max()) if same_shape else None
    varied = []
    if cfg.vary:
        parent = {"image": str(image_path.resolve()), "kind": record.get("kind"), "seed": record.get("seed")}
        settings = {"vary": cfg.vary, "vary_strength": cfg.vary_strength, "vary_seed": cfg.seed, "parent": parent}
        for i, (image, keywords) in enumerate(neighbours(model, record, cfg.vary, cfg.vary_strength, cfg.seed)):
            described = provenance.describe(model, "vary", settings=settings, **keywords)
            described["parent"] = parent
            path = out.with_name(f"{image_path.stem}-vary{i + 1:02d}.png")
            varied.append(provenance.save_image(path, image, described, watermark=marked))
    return {"out": out, "identical": same_shape and max_diff == 0, "max_diff": max_diff, "shape": written.shape,
            "given_shape": given.shape, "kind": record.get("kind"), "model": model.checkpoint, "vary": varied,
            "watermark": marked, "seconds": time.perf_counter() - started}


def verify(cfg: VerifyConfig):
    """``artforge verify``: for each image in turn, a dict of the watermark's verdict and score, and its
    record's kind (None without one); an unreadable image stops it with a one-line DataError."""
    for path in cfg.images:
        pixels = read_image(path)
        found, score = wm.detect(pixels, cfg.threshold)
        record = provenance.read_record(path)
        yield {"image": str(path), "watermarked": bool(found), "score": round(float(score), 2),
               "record": record.get("kind") if provenance.is_record(record) else None}
