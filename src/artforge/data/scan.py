"""Finding the candidate files of a source: a folder, a zip or a built-in set (``artforge prepare``'s first step).

    * a folder, searched recursively (symlinked folders are followed, each real folder once);
    * a .zip, read in memory and never extracted, so member names such as ``../x.png`` cannot
      write anywhere (they are rejected as unsafe all the same). If every member sits under one
      top-level folder (a zipped folder), that folder is not taken as a label;
    * a built-in dataset name (``builtin.BUILTINS``, e.g. ``openmoji``) when no such path exists.

Hidden files and folders (names starting with "."), ``__MACOSX``, ``Thumbs.db`` and ``desktop.ini``
are skipped silently: they are never data. Files whose extension is not one asked for (images:
``IMAGE_EXTENSIONS``; sounds and music pass their own) are not read; the source counts them as
``ignored``, per extension. Sounds (``audio_ingest.py``) and music (``music_ingest.py``) scan the same way.
"""

from __future__ import annotations

import difflib
import os
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError
from .builtin import BUILTINS

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".gif", ".bmp", ".dib",
                              ".tif", ".tiff"})
SKIPPED_NAMES = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class Item:
    """One candidate image, before decoding."""

    name: str  # shown in reports: path inside the source, or 'openmoji/1F600'
    folder: str | None  # first-level subfolder (the label), None at the top level
    task: tuple  # picklable locator for the worker: ('file', path) | ('zip', path, index) | ('builtin', name, key)


@dataclass
class Source:
    kind: str  # folder | zip | builtin
    name: str  # short name, for the default output file name
    origin: str  # absolute path or built-in name, for the manifest
    items: list[Item]
    ignored: Counter = field(default_factory=Counter)  # extension -> count of non-image files
    rejects: list[dict] = field(default_factory=list)  # found before decoding
    credits: dict = field(default_factory=dict)  # license keys of built-in datasets


def _skipped(name: str) -> bool:
    """Hidden files and OS clutter: never data, so not even counted."""
    return (name.startswith(".") and name != "..") or name in SKIPPED_NAMES


def _extension(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return suffix or "(none)"


def open_image_source(source: str) -> Source:
    """Find out what ``source`` is (a folder, a zip, a built-in name); DataError with a fix when it is
    nothing usable."""
    path = Path(source).expanduser()
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError as exc:  # e.g. inside a folder we may not enter
        raise DataError(f"source {path} cannot be read ({exc.strerror or exc})",
                        "check its permissions, or copy the images somewhere readable") from None
    if is_dir:
        return scan_folder(path.resolve())
    if is_file:
        if zipfile.is_zipfile(path):
            return scan_zip(path.resolve())
        if path.suffix.lower() == ".zip":
            raise DataError(f"source {path} is not a readable zip file",
                            "download it again, or unzip it and pass the folder")
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            raise DataError(f"source {path} is a single image, not a folder or .zip",
                            "put your images in a folder and pass the folder")
        raise DataError(f"source {path} is not a folder or a .zip", "pass a folder of images or a .zip of images")
    if source in BUILTINS:
        return scan_builtin(source)
    close = difflib.get_close_matches(source, list(BUILTINS), n=1)
    hint = f"did you mean the built-in '{close[0]}'?" if close else \
        f"pass an existing folder or .zip, or a built-in dataset: {', '.join(BUILTINS)}"
    raise DataError(f"source {source} does not exist", hint)


def scan_folder(root: Path, extensions: frozenset = IMAGE_EXTENSIONS) -> Source:
    """All files under ``root`` with one of ``extensions`` (images), sorted by relative path."""
    if not os.access(root, os.R_OK | os.X_OK):
        raise DataError(f"source folder {root} cannot be read (permission denied)",
                        "check its permissions, or copy the images somewhere readable")
    source = Source("folder", root.name or "dataset", str(root), [])
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
            source.items.append(Item(rel, folder, ("file", os.path.join(dirpath, filename))))
    source.items.sort(key=lambda item: item.name)
    return source


def _unsafe_member(name: str) -> bool:
    """Absolute, drive-letter or parent-relative member names (zip slip)."""
    parts = name.split("/")
    return name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":")


def scan_zip(path: Path, extensions: frozenset = IMAGE_EXTENSIONS) -> Source:
    """Members of a zip with one of ``extensions`` (images), sorted by name; nothing is extracted."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"source {path} is not a readable zip file ({exc})",
                        "download it again, or unzip it and pass the folder") from None
    source = Source("zip", path.stem, str(path), [])
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
        source.items.append(Item(name, folder, ("zip", str(path), index)))
    return source


def scan_builtin(name: str) -> Source:
    builtin = BUILTINS[name]
    items = [Item(f"{name}/{key}", None, ("builtin", name, key)) for key in builtin.keys()]
    return Source("builtin", name, name, items, credits=builtin.credits())
