"""One streaming pass over a source of images, collecting what the chosen metrics need.

Network features, Inception logits, SWD patch descriptors, small pixel copies for the pixel-space novelty
check, predicted classes: only what ``needs`` asks for. The reference side is cached by content hash
(``cache.py``). ``events`` receives a "progress" event per batch (at most twice a second) and a last one;
a ``cancel`` token stops the pass between batches with ``Cancelled``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..ops.swd import PatchDescriptors
from ..utils.events import CancelToken, EventSink, Progress

PIXEL_SIZE = 32  # novelty in pixel space compares images shrunk to 32x32
SWD_PATCHES = 64  # per image and level: 10k images give 640k descriptors, plenty for SWD
CACHE_VERSION = 1

# The command's options: an ``artforge.options.EvaluateConfig``, read by field name; this layer does not
# import config (the training loop and the CLI build the options and pass them in).
EvaluateOptions = Any


@dataclass
class Collected:
    """What one pass over a source produced."""

    count: int = 0
    features: np.ndarray | None = None
    logits: np.ndarray | None = None
    pixels: np.ndarray | None = None  # uint8 (N, C*32*32)
    labels: np.ndarray | None = None  # predicted classes (or the dataset's labels)
    requested: np.ndarray | None = None  # classes a conditional generator was asked for
    swd: PatchDescriptors | None = None
    seconds: float = 0.0



def _pixels(images: torch.Tensor) -> np.ndarray:
    small = F.interpolate(images.float(), size=(PIXEL_SIZE, PIXEL_SIZE), mode="area")
    return small.round().clamp(0, 255).to(torch.uint8).flatten(1).numpy()


def collect(source, needs: set, extractor=None, batch: int = 64, seed: int = 0, classifier=None,
            desc: str = "", events: EventSink | None = None, cancel: CancelToken | None = None) -> Collected:
    """One pass over ``source``, gathering only what ``needs`` asks for; ``desc`` names the pass in its
    "progress" events."""
    started = time.time()
    parts: dict[str, list] = {k: [] for k in ("features", "logits", "pixels", "labels", "requested")}
    descriptors = PatchDescriptors(SWD_PATCHES, seed) if "swd" in needs else None
    progress = Progress(events, len(source), "images", desc, cancel)
    for images, labels in source.batches(batch):
        _gather(parts, descriptors, needs, images, labels, extractor, classifier)
        progress.advance(len(images))
        progress.raise_if_cancelled()
    progress.finish()
    joined = {k: np.concatenate(v) if v else None for k, v in parts.items()}
    return Collected(len(source), joined["features"], joined["logits"], joined["pixels"], joined["labels"],
                     joined["requested"], descriptors, time.time() - started)


def _gather(parts: dict[str, list], descriptors, needs: set, images, labels, extractor, classifier) -> None:
    """What ``needs`` asks for of one batch, appended to ``parts`` (and ``descriptors``)."""
    if needs & {"features", "logits"}:
        out = extractor(images)
        parts["features"].append(out["features"].numpy())
        if "logits" in out:
            parts["logits"].append(out["logits"].numpy())
    if "pixels" in needs:
        parts["pixels"].append(_pixels(images))
    if "labels" in needs:
        predicted = classifier(images) if classifier is not None else labels
        if predicted is not None:
            parts["labels"].append(np.asarray(predicted))
        if labels is not None:
            parts["requested"].append(np.asarray(labels))
    if descriptors is not None:
        descriptors.add(images)


def _cache_arrays(c: Collected) -> dict[str, np.ndarray]:
    arrays = {k: v for k, v in (("features", c.features), ("logits", c.logits), ("pixels", c.pixels),
                                ("labels", c.labels)) if v is not None}
    if c.swd is not None:
        for size, desc in c.swd.arrays().items():
            arrays[f"swd{size}"] = desc.numpy()
        arrays["swd_channels"] = np.array(c.swd.channels)
    arrays["count"] = np.array(c.count)
    return arrays


def _from_cache(arrays: dict[str, np.ndarray], seed: int) -> Collected:
    c = Collected(int(arrays["count"]), arrays.get("features"), arrays.get("logits"), arrays.get("pixels"),
                  arrays.get("labels"))
    sizes = [k for k in arrays if k.startswith("swd") and k[3:].isdigit()]
    if sizes:
        c.swd = PatchDescriptors(SWD_PATCHES, seed)
        c.swd.channels = int(arrays["swd_channels"])
        c.swd.levels = {int(k[3:]): [torch.from_numpy(arrays[k])] for k in sizes}
    return c


def collect_reference(source, needs: set, extractor, cfg: EvaluateOptions, classifier=None,
                      events: EventSink | None = None, cancel: CancelToken | None = None) -> tuple[Collected, bool]:
    """The reference side, from the cache when this exact computation was done before."""
    from .cache import cache_key, load_arrays, save_arrays

    key = None
    if cfg.cache and source.fingerprint is not None:
        key = cache_key(version=CACHE_VERSION, source=source.fingerprint, needs=sorted(needs),
                        extractor=extractor.identity if extractor else None, seed=cfg.seed, batch=cfg.batch,
                        swd_patches=SWD_PATCHES, pixel_size=PIXEL_SIZE)
        arrays = load_arrays(key)
        if arrays is not None:
            return _from_cache(arrays, cfg.seed), True
    collected = collect(source, needs, extractor, cfg.batch, cfg.seed, classifier, "reference images", events, cancel)
    if key is not None:
        save_arrays(key, _cache_arrays(collected))
    return collected, False
