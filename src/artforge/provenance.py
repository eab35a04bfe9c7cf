"""Where an output came from: a record in every PNG's metadata and in a sidecar JSON beside it.

A record names the model (run or export, checkpoint, step, family), how the image was made (``kind``:
sample, mix, interpolate, project, palette, layout, vary, ...), its seed, class and truncation, the
latent z and the exact styles it was rendered from (float32, base64), the settings of the command,
and whether the invisible watermark (``watermark.py``) was added. ``artforge recreate`` re-renders
the image from the record alone; docs/provenance.md lists the fields.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np

from ._version import __version__

FORMAT = "artforge-provenance"
FORMAT_VERSION = 1
PNG_KEY = "artforge"  # the PNG iTXt chunk holding the record
SIDECAR_SUFFIX = ".json"
WATERMARK_SCHEME = "artforge-watermark-v1"  # watermark.KEY (a test keeps them equal): the mark records carry


def encode_array(array) -> dict:
    """A float32 array as JSON, exactly: shape and little-endian base64 bytes."""
    a = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
    return {"shape": list(a.shape), "float32_b64": base64.b64encode(a.tobytes()).decode("ascii")}


def decode_array(data: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data["float32_b64"]), dtype="<f4").reshape(data["shape"]).copy()


def describe(model, kind: str, *, seed: int | None = None, label=None, truncation: float | None = None,
             ws=None, z=None, settings: dict | None = None) -> dict:
    """The provenance record of one output of ``model`` (a ``sampling.LoadedRun``)."""
    record = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "artforge_version": __version__,
        "model": {"path": str(Path(model.run_dir).resolve()), "checkpoint": str(model.checkpoint),
                  "step": model.step, "arch": model.arch},
        "seed": seed, "label": label, "truncation": truncation,
        "settings": dict(settings or {}),
    }
    if z is not None:
        record["z"] = encode_array(z.detach().cpu() if hasattr(z, "detach") else z)
    if ws is not None:
        record["ws"] = encode_array(ws.detach().cpu() if hasattr(ws, "detach") else ws)
    return record


def sidecar_path(image_path: str | Path) -> Path:
    return Path(image_path).with_suffix(SIDECAR_SUFFIX)


def save_image(path: str | Path, image: np.ndarray, record: dict, watermark: bool = True) -> Path:
    """Write uint8 (H, W, C) ``image`` as a PNG carrying ``record``, and the record as a sidecar JSON.

    ``watermark``: add the invisible watermark first (deterministic, so a recreated image is
    pixel-identical); the record says whether it was added.
    """
    from PIL.PngImagePlugin import PngInfo

    from .utils.files import atomic_write_json
    from .utils.images import to_pil

    path = Path(path)
    image = np.asarray(image)
    image = image[:, :, None] if image.ndim == 2 else image
    if watermark:
        from . import watermark as wm
        image = wm.embed(image)
    record = {**record, "watermark": {"applied": bool(watermark), "scheme": WATERMARK_SCHEME}}
    info = PngInfo()
    info.add_itxt(PNG_KEY, json.dumps(record, separators=(",", ":")))
    tmp = path.with_name(f".{path.name}.tmp")
    to_pil(image).save(tmp, format="PNG", pnginfo=info)
    tmp.replace(path)
    atomic_write_json(sidecar_path(path), record)
    return path


def read_record(path: str | Path) -> dict | None:
    """The record in a PNG's metadata, else in its sidecar JSON; None when there is neither."""
    from PIL import Image

    path = Path(path)
    try:
        with Image.open(path) as im:
            text = im.info.get(PNG_KEY) or getattr(im, "text", {}).get(PNG_KEY)
        if text:
            return json.loads(text)
    except (OSError, ValueError):
        pass
    side = sidecar_path(path)
    if side.is_file():
        try:
            return json.loads(side.read_text())
        except (OSError, ValueError):
            return None
    return None


def is_record(record) -> bool:
    """Whether ``record`` (from ``read_record``) is an artforge provenance record this version reads."""
    return isinstance(record, dict) and record.get("format") == FORMAT and isinstance(record.get("model"), dict)


def read_pixels(path: str | Path) -> np.ndarray:
    """A picture's pixels as uint8 (H, W, C), C = 1 for grayscale and 3 otherwise (alpha dropped)."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        gray = im.mode in ("1", "L", "LA", "I", "I;16", "F")
        array = np.asarray(im.convert("L" if gray else "RGB"))
    return array[:, :, None] if array.ndim == 2 else array
