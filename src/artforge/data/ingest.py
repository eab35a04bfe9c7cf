"""``artforge prepare``: turn a folder, a zip or a built-in dataset into a training dataset.

The output is one zip in the StyleGAN2-ADA ``dataset_tool`` layout (see ``archive.py``): PNGs of
one size, aspect (square unless ``--aspect`` says otherwise) and colour mode, their labels, and a
manifest with the split, label names, per-channel mean/std and every file that was left out and why. Beside it go
``<stem>.manifest.json`` (the same manifest, pretty) and ``<stem>.rejects.csv`` (file, reason).

Sources
    * a folder, searched recursively (symlinked folders are followed, each real folder once);
    * a .zip, read in memory and never extracted, so member names such as ``../x.png`` cannot
      write anywhere (they are rejected as unsafe all the same). If every member sits under one
      top-level folder (a zipped folder), that folder is not taken as a label;
    * a built-in dataset name (``builtin.BUILTINS``, e.g. ``openmoji``) when no such path exists.

What happens to each file
    * Hidden files and folders (names starting with "."), ``__MACOSX``, ``Thumbs.db`` and
      ``desktop.ini`` are skipped silently: they are never data.
    * Files whose extension is not an image extension (``IMAGE_EXTENSIONS``) are not read; the
      manifest counts them as ``ignored``, per extension, so a folder of .heic or .psd files does
      not silently turn into an empty dataset without a hint.
    * Files with an image extension are decoded by Pillow, restricted to PNG, JPEG, WebP, GIF, BMP
      and TIFF (the content decides the format, so a PNG named .jpg is fine; no other decoder is
      ever run on user files) and fully loaded, so truncated files are caught. GIFs and TIFFs
      give their first frame. Any failure makes the file a *reject* with a one-line reason; the
      run never stops for one bad file. Reasons: unreadable, empty, too large, not an image,
      corrupt or truncated, too small (shorter side < --min-size), too many pixels (> --max-pixels,
      a decompression bomb), unsupported colour mode, unsafe zip path, not in a label folder.
    * EXIF orientation is applied; an embedded ICC profile is converted to sRGB when Pillow has
      LittleCMS. Every mode becomes 8-bit RGB (or L for ``--color gray``): transparency is
      composited over ``--background``; 16-bit images are scaled (v / 257, rounded), not clipped;
      float images in [0, 1] are scaled by 255, others clipped to [0, 255].
    * ``--fit`` crop (the centred part at ``--aspect``), pad (with the background colour) or stretch,
      then resize to ``--size`` (the longer side) at ``--aspect`` with ``--resample``. Big JPEGs are
      decoded at a reduced scale first (JPEG "draft"), always keeping at least 3x the output size,
      so the result matches a full decode.

Duplicates
    Files with identical bytes, and images whose output pixels are identical (e.g. the same
    picture saved twice as JPEG and PNG), keep only the first in sorted path order; the others are
    reported as duplicates of it.

Labels (``--labels``)
    ``folders``: the first-level subfolder of each image names its class; images directly in the
    source folder are rejected ("not in a label folder"), and a source without subfolders is an
    error. ``auto``: folders when every usable image sits in one of two or more subfolders, else
    none. ``none``: no labels. Classes are the folders with at least one usable image, sorted by
    name; their position is the label index.

Subset and split (both seeded, and independent of file system order and file names)
    ``--subset f`` keeps round(f * n) images per class (at least one) chosen by a hash of (seed,
    content). Then the kept images are ordered by a hash of (seed, content hash): the first
    round(n * val) go to val, the next round(n * test) to test, the rest to train (at least one).

Scale
    Decoding runs in a ``multiprocessing`` pool (``--workers``) for more than ``INLINE_MAX`` files.
    Memory stays bounded: output PNGs are spooled to a temporary file beside the output and only
    hashes and a small record per image are held; images are never all decoded at once.

The steps, each in its own module: finding the files (``scan.py``), decoding them and sorting out
rejects and duplicates (``collect.py``), pairing them (``pairs.py``), labels, subset and split
(``splits.py``), and writing the dataset (``output.py``); this module runs them for images and writes
the manifest. ``events`` receives a "progress" event per file (at most twice a second), and a
``cancel`` token stops the work between files with ``Cancelled``, leaving nothing written.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from .._version import __version__
from ..aspect import aspect_shape, parse_aspect
from ..options import PrepareConfig, to_dict
from ..errors import DataError
from ..utils.events import CancelToken, EventSink, Progress
from ..utils.files import atomic_write_text
from .archive import FORMAT, FORMAT_VERSION, archive_name
from .builtin import BUILTINS
from .collect import Collector, Kept, collect_all, outcomes, worker_count
from .imaging import FORMAT_NAMES, ImageOptions
from .output import PrepareResult, check_output, disk_errors, side_paths, spool_file, write_archive, write_rejects
from .pairs import pair_items
from .scan import Item, Source, open_image_source
from .splits import SPLITS, assign_labels, assign_splits, take_subset


def _shape(cfg: PrepareConfig) -> tuple[int, int]:
    """(height, width) of the output images."""
    return aspect_shape(cfg.size, parse_aspect(cfg.aspect))


def _output_path(cfg: PrepareConfig, source: Source) -> Path:
    if cfg.out is None:
        height, width = _shape(cfg)
        size = cfg.size if height == width else f"{width}x{height}"
        name = source.name
        if cfg.pairs and "pairs" not in name:  # never the same default file as the plain dataset
            name += (f"-{cfg.derive}" if cfg.derive else "") + "-pairs"
        return Path("datasets") / f"{name}-{size}.zip"
    out = Path(cfg.out).expanduser()
    return out if out.suffix.lower() == ".zip" else out.with_name(out.name + ".zip")


def _mean_std(kept: list[Kept], pixels: int) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the output pixels in [0, 1], from exact integer sums (``pixels`` per image)."""
    m = len(kept) * pixels
    sums = [sum(col) for col in zip(*(k.sums for k in kept))]
    squares = [sum(col) for col in zip(*(k.squares for k in kept))]
    mean = [s / (255 * m) for s in sums]
    std = [math.sqrt(max(sq * m - s * s, 0)) / (255 * m) for s, sq in zip(sums, squares)]
    return mean, std


def _manifest(cfg: PrepareConfig, source: Source, out: Path, kept: list[Kept], label_names: list[str],
              duplicates: list[dict], rejects: list[dict], pairing: dict | None = None) -> dict:
    """Everything a later step (or a person) wants to know about the dataset; also artforge.json.
    A paired dataset's images are two of the prepared size side by side; "pairs" says what each side is."""
    height, width = _shape(cfg)
    if pairing:
        width *= 2
    mean, std = _mean_std(kept, height * width)
    label_counts = Counter(k.label for k in kept)
    members: dict[str, list[str]] = {s: [] for s in SPLITS}
    for index, k in enumerate(kept):  # images are written in this order, see write_archive
        members[k.split].append(archive_name(index))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": out.name[:-len(out.suffix)],
        "source": source.origin,
        "source_kind": source.kind,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "artforge_version": __version__,
        "options": to_dict(cfg),
        "resolution": max(height, width),  # the longer side; readers before non-square datasets know only this
        "height": height,
        "width": width,
        "channels": 1 if cfg.color == "gray" else 3,
        "count": len(kept),
        "split_counts": {s: len(members[s]) for s in SPLITS},
        "split": members,
        "label_names": label_names,
        "label_counts": {name: label_counts[i] for i, name in enumerate(label_names)},
        "mean": mean,
        "std": std,
        "ignored": sum(source.ignored.values()),
        "ignored_extensions": dict(sorted(source.ignored.items())),
        "rejects": rejects,
        "duplicates": duplicates,
        **source.credits,
        **({"pairs": {"layout": "side-by-side", **pairing}} if pairing else {}),
    }


def label_folder_rejects(cfg: PrepareConfig, source: Source, items: list[Item]) -> list[Item]:
    """With --labels folders, images outside a first-level folder are rejects, not guesses."""
    if cfg.labels != "folders":
        return items
    inside = [item for item in items if item.folder is not None]
    if not inside:
        raise DataError(f"--labels folders, but {source.origin} has no subfolders with images",
                        "put each class in its own subfolder, or pass --labels none")
    source.rejects.extend({"file": item.name, "reason": "not in a label folder (--labels folders)"}
                          for item in items if item.folder is None)
    return inside


def prepare(cfg: PrepareConfig, *, events: EventSink | None = None, cancel: CancelToken | None = None,
            limit: int | None = None) -> PrepareResult:
    """Build the dataset zip described by ``cfg``; see the module docstring for the rules.

    ``limit`` processes only the first ``limit`` source items in sorted order: for tests and quick
    looks at a big source (not a CLI option). Raises DataError or UsageError with a fix, and
    ``Cancelled`` when ``cancel`` is cancelled before the files are all read.
    """
    started = time.monotonic()
    source = open_image_source(cfg.source)
    out = _output_path(cfg, source)
    manifest_path, rejects_path = side_paths(out)
    check_output(out, cfg, source)
    if not source.items and not source.rejects:
        ignored = sum(source.ignored.values())
        raise DataError(f"source {source.origin} holds no images"
                        + (f" ({ignored:,} other files ignored)" if ignored else ""),
                        f"add {FORMAT_NAMES} files, or point at the folder that has them")
    items = source.items[:limit] if limit else source.items
    builtin = BUILTINS.get(source.origin) if source.kind == "builtin" else None
    pairing = None
    if cfg.pairs or (builtin is not None and builtin.pair):
        items, pairing = pair_items(cfg, source, items, builtin)  # folders are sides here, not labels
        if not items:
            raise DataError(f"no pairs found in {source.origin}", "see the reasons in the rejects report "
                            "(files need a partner of the same name in the other folder)")
    else:
        items = label_folder_rejects(cfg, source, items)

    with spool_file(out) as spool:
        with disk_errors(out):  # the spool fills the disk as the output will
            progress = Progress(events, len(items), "files", f"prepare {source.name}", cancel)
            collector = _collect(items, source, cfg, spool, progress)
        rejects = sorted(source.rejects + collector.rejects, key=lambda r: r["file"])
        if not collector.kept:
            with disk_errors(out):
                write_rejects(rejects_path, rejects, collector.duplicates)
            raise DataError(f"no usable image in {source.origin}: all {len(rejects):,} image files were "
                            "rejected", f"see the reasons in {rejects_path}")
        label_names = assign_labels("none" if pairing else cfg.labels, collector.kept)
        kept = take_subset(collector.kept, cfg.subset, cfg.seed)
        assign_splits(kept, cfg.split, cfg.seed)
        manifest = _manifest(cfg, source, out, kept, label_names, collector.duplicates, rejects, pairing)
        with disk_errors(out):
            write_archive(out, spool, kept, manifest)
            atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            write_rejects(rejects_path, rejects, collector.duplicates)
    return PrepareResult(path=out, manifest=manifest, count=len(kept), rejects=rejects,
                         duplicates=collector.duplicates, manifest_path=manifest_path,
                         rejects_path=rejects_path, seconds=time.monotonic() - started)


def _image_options(cfg: PrepareConfig) -> ImageOptions:
    """The per-image settings of the prepare options (imaging.py takes plain values, not the options)."""
    return ImageOptions.build(size=cfg.size, aspect=cfg.aspect, fit=cfg.fit, color=cfg.color, background=cfg.background,
                              resample=cfg.resample, min_size=cfg.min_size, max_pixels=cfg.max_pixels)


def _collect(items: list[Item], source: Source, cfg: PrepareConfig, spool: IO[bytes],
             progress: Progress) -> Collector:
    """Decode every item (in a pool when there are many), counting them on ``progress``."""
    collector = Collector(spool, "identical image" if source.kind == "builtin" else "identical file")
    with outcomes(items, _image_options(cfg), worker_count(cfg.workers)) as decoded:
        return collect_all(collector, items, decoded, progress)
