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
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterator


from .._version import __version__
from ..options import PrepareConfig, to_dict
from ..errors import DataError, UsageError
from ..utils.files import atomic_write_text
from ..aspect import aspect_shape, parse_aspect, shape_text
from .archive import FORMAT, FORMAT_VERSION, ArchiveWriter, archive_name, manifest_shape
from .builtin import BUILTINS
from .imaging import (FORMAT_NAMES, ImageOptions, Outcome, Processor, digest, pillow_pixel_limit_off, pool_init,
                      pool_run)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".gif", ".bmp", ".dib",
                              ".tif", ".tiff"})
SKIPPED_NAMES = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})
INLINE_MAX = 64  # up to this many files, a process pool costs more than it saves
SPLITS = ("train", "val", "test")
SAME_PIXELS = "same pixels after resizing"


# ----------------------------------------------------------------------------- result

@dataclass
class PrepareResult:
    """What ``prepare`` wrote, and what it left out."""

    path: Path  # the dataset zip
    manifest: dict  # as stored in the zip (artforge.json) and in manifest_path
    count: int
    rejects: list[dict]  # {"file", "reason"}
    duplicates: list[dict]  # {"file", "duplicate_of", "reason"}
    manifest_path: Path
    rejects_path: Path
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        """A few lines for the terminal."""
        m = self.manifest
        mode = "RGB" if m["channels"] == 3 else "grayscale"
        counts = m["split_counts"]
        labels = f"{len(m['label_names'])} classes" if m["label_names"] else "no labels"
        skipped = (f"{len(self.rejects):,} rejected, {len(self.duplicates):,} duplicates, "
                   f"{m['ignored']:,} non-image files ignored")
        lines = [
            f"prepared {self.count:,} images, {shape_text(manifest_shape(m))} {mode}, from "
            f"{m['source']} -> {self.path} in {self.seconds:.1f} s",
            f"  split {counts['train']:,} train / {counts['val']:,} val / {counts['test']:,} test; {labels}",
            f"  {skipped}" + (f" (reasons: {self.rejects_path})" if self.rejects or self.duplicates else ""),
        ]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class _Item:
    """One candidate image, before decoding."""

    name: str  # shown in reports: path inside the source, or 'openmoji/1F600'
    folder: str | None  # first-level subfolder (the label), None at the top level
    task: tuple  # picklable locator for the worker: ('file', path) | ('zip', path, index) | ('builtin', name, key)


@dataclass
class _Source:
    kind: str  # folder | zip | builtin
    name: str  # short name, for the default output file name
    origin: str  # absolute path or built-in name, for the manifest
    items: list[_Item]
    ignored: Counter = field(default_factory=Counter)  # extension -> count of non-image files
    rejects: list[dict] = field(default_factory=list)  # found before decoding
    credits: dict = field(default_factory=dict)  # license keys of built-in datasets


def _skipped(name: str) -> bool:
    """Hidden files and OS clutter: never data, so not even counted."""
    return (name.startswith(".") and name != "..") or name in SKIPPED_NAMES


def _extension(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return suffix or "(none)"


def _open_source(cfg: PrepareConfig) -> _Source:
    """Find out what SRC is; DataError with a fix when it is nothing usable."""
    path = Path(cfg.source).expanduser()
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError as exc:  # e.g. inside a folder we may not enter
        raise DataError(f"source {path} cannot be read ({exc.strerror or exc})",
                        "check its permissions, or copy the images somewhere readable") from None
    if is_dir:
        return _scan_folder(path.resolve())
    if is_file:
        if zipfile.is_zipfile(path):
            return _scan_zip(path.resolve())
        if path.suffix.lower() == ".zip":
            raise DataError(f"source {path} is not a readable zip file",
                            "download it again, or unzip it and pass the folder")
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            raise DataError(f"source {path} is a single image, not a folder or .zip",
                            "put your images in a folder and pass the folder")
        raise DataError(f"source {path} is not a folder or a .zip", "pass a folder of images or a .zip of images")
    if cfg.source in BUILTINS:
        return _scan_builtin(cfg.source)
    close = difflib.get_close_matches(cfg.source, list(BUILTINS), n=1)
    hint = f"did you mean the built-in '{close[0]}'?" if close else \
        f"pass an existing folder or .zip, or a built-in dataset: {', '.join(BUILTINS)}"
    raise DataError(f"source {cfg.source} does not exist", hint)


def _scan_folder(root: Path, extensions: frozenset = IMAGE_EXTENSIONS) -> _Source:
    """All files under ``root`` with one of ``extensions`` (images), sorted by relative path."""
    if not os.access(root, os.R_OK | os.X_OK):
        raise DataError(f"source folder {root} cannot be read (permission denied)",
                        "check its permissions, or copy the images somewhere readable")
    source = _Source("folder", root.name or "dataset", str(root), [])
    seen: set[tuple[int, int]] = set()  # (device, inode) of visited folders: symlink loops end

    def unreadable(exc: OSError) -> None:
        rel = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "?"
        source.rejects.append({"file": rel + "/", "reason": f"unreadable folder: {exc.strerror or exc}"})

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=True):
        try:
            stat = os.stat(dirpath)
        except OSError as exc:  # vanished or unreadable since it was listed
            unreadable(exc)
            continue
        if (stat.st_dev, stat.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        dirnames[:] = [d for d in dirnames if not _skipped(d)]
        rel_dir = Path(dirpath).relative_to(root)
        for filename in filenames:
            if _skipped(filename):
                continue
            if _extension(filename) not in extensions:
                source.ignored[_extension(filename)] += 1
                continue
            rel = (rel_dir / filename).as_posix()
            folder = rel_dir.parts[0] if rel_dir.parts else None
            source.items.append(_Item(rel, folder, ("file", os.path.join(dirpath, filename))))
    source.items.sort(key=lambda item: item.name)
    return source


def _unsafe_member(name: str) -> bool:
    """Absolute, drive-letter or parent-relative member names (zip slip)."""
    parts = name.split("/")
    return name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":")


def _scan_zip(path: Path, extensions: frozenset = IMAGE_EXTENSIONS) -> _Source:
    """Members of a zip with one of ``extensions`` (images), sorted by name; nothing is extracted."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"source {path} is not a readable zip file ({exc})",
                        "download it again, or unzip it and pass the folder") from None
    source = _Source("zip", path.stem, str(path), [])
    found: list[tuple[str, list[str], int]] = []
    for index, info in enumerate(infos):
        name = info.filename.replace("\\", "/")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if info.is_dir() or not parts or any(_skipped(p) for p in parts):
            continue
        if _extension(name) not in extensions:
            source.ignored[_extension(name)] += 1
        elif _unsafe_member(name):
            source.rejects.append({"file": name, "reason": "unsafe path in zip (absolute or with '..')"})
        elif info.flag_bits & 0x1:
            source.rejects.append({"file": name, "reason": "encrypted zip member"})
        else:
            found.append((name, parts, index))
    # A zipped folder puts everything under one top-level folder: that folder is not a label.
    roots = {parts[0] for _, parts, _ in found}
    strip = 1 if len(roots) == 1 and all(len(parts) > 1 for _, parts, _ in found) else 0
    for name, parts, index in sorted(found):
        folder = parts[strip] if len(parts) - strip > 1 else None
        source.items.append(_Item(name, folder, ("zip", str(path), index)))
    return source


def _scan_builtin(name: str) -> _Source:
    builtin = BUILTINS[name]
    items = [_Item(f"{name}/{key}", None, ("builtin", name, key)) for key in builtin.keys()]
    return _Source("builtin", name, name, items, credits=builtin.credits())


# ----------------------------------------------------------------------------- running the workers

@contextlib.contextmanager
def _outcomes(items: list[_Item], opts: ImageOptions, workers: int) -> Iterator[Iterator[Outcome]]:
    """Outcomes in item order: from a process pool for many files, else computed in-line."""
    tasks = [item.task for item in items]
    if workers > 1 and len(tasks) > INLINE_MAX:
        chunksize = max(1, min(32, len(tasks) // (workers * 8)))
        with multiprocessing.get_context().Pool(workers, pool_init, (opts,)) as pool:
            yield pool.imap(pool_run, tasks, chunksize)
        return
    processor = Processor(opts)
    try:
        with pillow_pixel_limit_off():
            yield map(processor, tasks)
    finally:
        processor.close()


def _worker_count(cfg: PrepareConfig) -> int:
    if cfg.workers:
        return cfg.workers
    if hasattr(os, "sched_getaffinity"):  # the CPUs this process may use (containers, taskset)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# ----------------------------------------------------------------------------- collecting results

@dataclass(slots=True)
class _Kept:
    """A usable image: where its PNG lies in the spool file, and what the manifest needs."""

    name: str
    folder: str | None
    src_hash: str
    offset: int
    length: int
    sums: tuple[int, ...]
    squares: tuple[int, ...]
    label: int | None = None
    split: str = "train"


class _Collector:
    """Sorts outcomes (arriving in sorted path order) into kept, rejected and duplicate."""

    def __init__(self, spool: IO[bytes], same_content: str = "identical file", same_output: str = SAME_PIXELS):
        self.spool = spool
        self.same_content = same_content  # the duplicate reason for equal content hashes
        self.same_output = same_output  # ... and for equal outputs (pixels, or a sound's samples)
        self.kept: list[_Kept] = []
        self.rejects: list[dict] = []
        self.duplicates: list[dict] = []
        self._by_src: dict[str, str] = {}  # content hash -> name of the kept image it equals
        self._by_pixels: dict[str, str] = {}

    def add(self, item: _Item, out: Outcome) -> None:
        if out.reason is not None:
            self.rejects.append({"file": item.name, "reason": out.reason})
            return
        first = self._by_src.get(out.src_hash)
        if first is not None:
            self.duplicates.append({"file": item.name, "duplicate_of": first, "reason": self.same_content})
            return
        first = self._by_pixels.get(out.pixel_hash)
        self._by_src[out.src_hash] = first or item.name
        if first is not None:
            self.duplicates.append({"file": item.name, "duplicate_of": first, "reason": self.same_output})
            return
        self._by_pixels[out.pixel_hash] = item.name
        offset = self.spool.seek(0, os.SEEK_END)
        self.spool.write(out.data)
        self.kept.append(_Kept(item.name, item.folder, out.src_hash, offset, len(out.data),
                               out.sums, out.squares))


# ----------------------------------------------------------------------------- labels, subset, split

def _rank(seed: int, purpose: str, src_hash: str) -> str:
    """Seeded sort key from an image's content: the order ignores names and file system order."""
    return digest(f"{purpose}:{seed}:{src_hash}".encode())


def _assign_labels(mode: str, kept: list[_Kept]) -> list[str]:
    """Label names (sorted folder names) and each image's label index, or [] for no labels."""
    folders = {k.folder for k in kept}
    use = mode == "folders" or (mode == "auto" and None not in folders and len(folders) >= 2)
    if not use:
        return []
    names = sorted(f for f in folders if f is not None)
    index = {name: i for i, name in enumerate(names)}
    for k in kept:
        k.label = index[k.folder]
    return names


def _take_subset(kept: list[_Kept], fraction: float, seed: int) -> list[_Kept]:
    """round(fraction * n) images of each class (at least one), chosen by seeded content hash."""
    if fraction >= 1:
        return kept
    by_label: dict[int | None, list[int]] = {}
    for i, k in enumerate(kept):
        by_label.setdefault(k.label, []).append(i)
    chosen: set[int] = set()
    for members in by_label.values():
        members.sort(key=lambda i: _rank(seed, "subset", kept[i].src_hash))
        chosen.update(members[:max(1, round(len(members) * fraction))])
    return [k for i, k in enumerate(kept) if i in chosen]


def _split_counts(n: int, fractions: tuple) -> tuple[int, int]:
    """Exact (val, test) counts: round(n * fraction), leaving at least one training image."""
    n_val, n_test = round(n * fractions[1]), round(n * fractions[2])
    while n_val + n_test >= n and n_val + n_test > 0:
        if n_test >= n_val:
            n_test -= 1
        else:
            n_val -= 1
    return n_val, n_test


def _assign_splits(kept: list[_Kept], fractions: tuple, seed: int) -> None:
    n_val, n_test = _split_counts(len(kept), fractions)
    order = sorted(range(len(kept)), key=lambda i: _rank(seed, "split", kept[i].src_hash))
    for position, i in enumerate(order):
        kept[i].split = "val" if position < n_val else "test" if position < n_val + n_test else "train"


def _mean_std(kept: list[_Kept], pixels: int) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the output pixels in [0, 1], from exact integer sums (``pixels`` per image)."""
    m = len(kept) * pixels
    sums = [sum(col) for col in zip(*(k.sums for k in kept))]
    squares = [sum(col) for col in zip(*(k.squares for k in kept))]
    mean = [s / (255 * m) for s in sums]
    std = [math.sqrt(max(sq * m - s * s, 0)) / (255 * m) for s, sq in zip(sums, squares)]
    return mean, std


# ----------------------------------------------------------------------------- output

def _shape(cfg: PrepareConfig) -> tuple[int, int]:
    """(height, width) of the output images."""
    return aspect_shape(cfg.size, parse_aspect(cfg.aspect))


def _output_path(cfg: PrepareConfig, source: _Source) -> Path:
    if cfg.out is None:
        height, width = _shape(cfg)
        size = cfg.size if height == width else f"{width}x{height}"
        name = source.name
        if cfg.pairs and "pairs" not in name:  # never the same default file as the plain dataset
            name += (f"-{cfg.derive}" if cfg.derive else "") + "-pairs"
        return Path("datasets") / f"{name}-{size}.zip"
    out = Path(cfg.out).expanduser()
    return out if out.suffix.lower() == ".zip" else out.with_name(out.name + ".zip")


def _side_paths(out: Path) -> tuple[Path, Path]:
    stem = out.name[:-len(out.suffix)]
    return out.with_name(stem + ".manifest.json"), out.with_name(stem + ".rejects.csv")


def _check_output(out: Path, cfg: PrepareConfig, source: _Source) -> None:
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder", "pass a file name ending in .zip")
    if source.kind == "zip" and out.resolve() == Path(source.origin):
        raise UsageError(f"--out {out} is the source zip; prepare never modifies its source",
                         "pass another --out")
    if out.exists() and not cfg.overwrite:
        raise UsageError(f"dataset {out} already exists", "pass --overwrite to replace it, or another --out")


@contextlib.contextmanager
def _disk_errors(out: Path) -> Iterator[None]:
    """A full disk or a read-only folder is the user's to fix: say so in one line."""
    try:
        yield
    except OSError as exc:
        raise DataError(f"cannot write the dataset {out} ({exc.strerror or exc})",
                        "free some disk space, or pass an --out in a folder you can write to") from None


@contextlib.contextmanager
def _spool_file(out: Path) -> Iterator[IO[bytes]]:
    """An anonymous temp file beside the output for the PNGs between decoding and writing."""
    with _disk_errors(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        spool = tempfile.TemporaryFile(dir=out.parent, prefix=".artforge-spool-")
    with spool:
        yield spool


def _write_rejects(path: Path, rejects: list[dict], duplicates: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "reason"])
    for r in rejects:
        writer.writerow([r["file"], r["reason"]])
    for d in duplicates:
        note = "" if d["reason"].startswith("identical") else f" ({d['reason']})"  # same output, other bytes
        writer.writerow([d["file"], f"duplicate of {d['duplicate_of']}{note}"])
    atomic_write_text(path, buf.getvalue())


def _manifest(cfg: PrepareConfig, source: _Source, out: Path, kept: list[_Kept], label_names: list[str],
              duplicates: list[dict], rejects: list[dict], pairing: dict | None = None) -> dict:
    """Everything a later step (or a person) wants to know about the dataset; also artforge.json.
    A paired dataset's images are two of the prepared size side by side; "pairs" says what each side is."""
    height, width = _shape(cfg)
    if pairing:
        width *= 2
    mean, std = _mean_std(kept, height * width)
    label_counts = Counter(k.label for k in kept)
    members: dict[str, list[str]] = {s: [] for s in SPLITS}
    for index, k in enumerate(kept):  # images are written in this order, see _write_archive
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


# ----------------------------------------------------------------------------- pairs

# Subfolder names taken for the input side when --sides is not given (the other is the target).
INPUT_NAMES = frozenset({"a", "in", "input", "inputs", "src", "source", "line", "lines", "lineart", "line-art",
                         "line_art", "sketch", "sketches", "drawing", "drawings", "edges", "lr", "low"})


def _pair_items(cfg: PrepareConfig, source: _Source, items: list[_Item], builtin) -> tuple[list[_Item], dict]:
    """Items that each make one (input, target) pair, and what the pairs are (for the manifest)."""
    if cfg.derive:
        return ([_Item(i.name, None, ("derive", cfg.derive, i.task)) for i in items],
                {"input": cfg.derive, "target": "art", "made_from": "inputs derived from the art"})
    if builtin is not None:
        if not builtin.pair:
            raise DataError(f"the built-in {source.name} holds single images, not pairs",
                            "pass --derive edges|xdog|blur|gray to make inputs from them, or use openmoji-pairs")
        return items, {"input": builtin.pair[0], "target": builtin.pair[1], "made_from": "built-in pairs"}
    folders = sorted({i.folder for i in items if i.folder is not None})
    if cfg.sides is None and not folders:
        return ([_Item(i.name, None, ("halves", i.task)) for i in items],
                {"input": "left half", "target": "right half", "made_from": "side-by-side images"})
    sides = cfg.sides or _guess_sides(source, folders)
    for side in sides:
        if side not in folders:
            raise DataError(f"{source.origin} has no subfolder {side!r} with images",
                            f"its subfolders: {', '.join(folders) or 'none'}; pass --sides INPUT,TARGET")
    by_side: dict[str, dict[str, _Item]] = {side: {} for side in sides}
    for item in items:
        if item.folder not in by_side:
            source.rejects.append({"file": item.name, "reason": f"not in {sides[0]}/ or {sides[1]}/"})
            continue
        key = os.path.splitext(item.name[len(item.folder) + 1:])[0]
        if key in by_side[item.folder]:
            source.rejects.append({"file": item.name, "reason": "another file in its folder has the same name"})
        else:
            by_side[item.folder][key] = item
    inputs, targets = by_side[sides[0]], by_side[sides[1]]
    for this, other, name in ((inputs, targets, sides[1]), (targets, inputs, sides[0])):
        source.rejects.extend({"file": item.name, "reason": f"no file of the same name in {name}/"}
                              for key, item in sorted(this.items()) if key not in other)
    paired = [_Item(f"{inputs[k].name} + {targets[k].name}", None, ("pair", inputs[k].task, targets[k].task))
              for k in sorted(inputs) if k in targets]
    return paired, {"input": sides[0], "target": sides[1], "made_from": "two folders, matched by file name"}


def _guess_sides(source: _Source, folders: list[str]) -> tuple[str, str]:
    if len(folders) != 2:
        raise DataError(f"{source.origin} has {len(folders)} subfolders ({', '.join(folders[:6])}); a pair needs "
                        "an input folder and a target folder", "pass --sides INPUT,TARGET")
    a, b = folders
    return (b, a) if b.lower() in INPUT_NAMES and a.lower() not in INPUT_NAMES else (a, b)


# ----------------------------------------------------------------------------- prepare

def _label_folder_rejects(cfg: PrepareConfig, source: _Source, items: list[_Item]) -> list[_Item]:
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


def prepare(cfg: PrepareConfig, *, progress: bool = True, limit: int | None = None) -> PrepareResult:
    """Build the dataset zip described by ``cfg``; see the module docstring for the rules.

    ``limit`` processes only the first ``limit`` source items in sorted order: for tests and quick
    looks at a big source (not a CLI option). Raises DataError or UsageError with a fix.
    """
    started = time.monotonic()
    source = _open_source(cfg)
    out = _output_path(cfg, source)
    manifest_path, rejects_path = _side_paths(out)
    _check_output(out, cfg, source)
    if not source.items and not source.rejects:
        ignored = sum(source.ignored.values())
        raise DataError(f"source {source.origin} holds no images"
                        + (f" ({ignored:,} other files ignored)" if ignored else ""),
                        f"add {FORMAT_NAMES} files, or point at the folder that has them")
    items = source.items[:limit] if limit else source.items
    builtin = BUILTINS.get(source.origin) if source.kind == "builtin" else None
    pairing = None
    if cfg.pairs or (builtin is not None and builtin.pair):
        items, pairing = _pair_items(cfg, source, items, builtin)  # folders are sides here, not labels
        if not items:
            raise DataError(f"no pairs found in {source.origin}", "see the reasons in the rejects report "
                            "(files need a partner of the same name in the other folder)")
    else:
        items = _label_folder_rejects(cfg, source, items)

    with _spool_file(out) as spool:
        with _disk_errors(out):  # the spool fills the disk as the output will
            collector = _collect(items, source, cfg, spool, progress)
        rejects = sorted(source.rejects + collector.rejects, key=lambda r: r["file"])
        if not collector.kept:
            with _disk_errors(out):
                _write_rejects(rejects_path, rejects, collector.duplicates)
            raise DataError(f"no usable image in {source.origin}: all {len(rejects):,} image files were "
                            "rejected", f"see the reasons in {rejects_path}")
        label_names = _assign_labels("none" if pairing else cfg.labels, collector.kept)
        kept = _take_subset(collector.kept, cfg.subset, cfg.seed)
        _assign_splits(kept, cfg.split, cfg.seed)
        manifest = _manifest(cfg, source, out, kept, label_names, collector.duplicates, rejects, pairing)
        with _disk_errors(out):
            _write_archive(out, spool, kept, manifest)
            atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            _write_rejects(rejects_path, rejects, collector.duplicates)
    return PrepareResult(path=out, manifest=manifest, count=len(kept), rejects=rejects,
                         duplicates=collector.duplicates, manifest_path=manifest_path,
                         rejects_path=rejects_path, seconds=time.monotonic() - started)


def _image_options(cfg: PrepareConfig) -> ImageOptions:
    """The per-image settings of the prepare options (imaging.py takes plain values, not the options)."""
    return ImageOptions.build(size=cfg.size, aspect=cfg.aspect, fit=cfg.fit, color=cfg.color, background=cfg.background,
                              resample=cfg.resample, min_size=cfg.min_size, max_pixels=cfg.max_pixels)


def _collect(items: list[_Item], source: _Source, cfg: PrepareConfig, spool: IO[bytes],
             progress: bool) -> _Collector:
    """Decode every item (in a pool when there are many), with a progress bar on stderr."""
    from tqdm import tqdm

    collector = _Collector(spool, "identical image" if source.kind == "builtin" else "identical file")
    with _outcomes(items, _image_options(cfg), _worker_count(cfg)) as outcomes, \
            tqdm(total=len(items), desc=f"prepare {source.name}", unit=" files", file=sys.stderr,
                 disable=not progress, mininterval=0.5, dynamic_ncols=True) as bar:
        for item, outcome in zip(items, outcomes):
            collector.add(item, outcome)
            bar.update()
    return collector


def _write_archive(out: Path, spool: IO[bytes], kept: list[_Kept], manifest: dict, kind: str = "png") -> None:
    """Copy the kept PNGs (or WAVs) from the spool into the dataset zip, in sorted source order."""
    def items():
        for k in kept:
            spool.seek(k.offset)
            yield spool.read(k.length), k.label

    ArchiveWriter(out, kind).write_all(items(), manifest)
