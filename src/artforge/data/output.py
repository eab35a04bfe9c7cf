"""Writing a prepared dataset safely (``artforge prepare``'s last step, for images, sounds and music).

The output path is checked before any work (not a folder, not the source zip, not an existing file
unless overwriting); decoded items wait in an anonymous spool file beside the output; the zip, its
manifest and its rejects report are each written atomically, so an interrupted or cancelled prepare
leaves no half-written file. A full disk or a read-only folder is one line with a fix.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from ..aspect import shape_text
from ..errors import DataError, UsageError
from ..utils.files import atomic_write_text
from .archive import ArchiveWriter, manifest_shape
from .collect import Kept
from .scan import Source


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


def side_paths(out: Path) -> tuple[Path, Path]:
    stem = out.name[:-len(out.suffix)]
    return out.with_name(stem + ".manifest.json"), out.with_name(stem + ".rejects.csv")


def check_output(out: Path, cfg, source: Source) -> None:
    """A folder, the source zip itself, or an existing file without ``cfg.overwrite``: a UsageError with a fix."""
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder", "pass a file name ending in .zip")
    if source.kind == "zip" and out.resolve() == Path(source.origin):
        raise UsageError(f"--out {out} is the source zip; prepare never modifies its source",
                         "pass another --out")
    if out.exists() and not cfg.overwrite:
        raise UsageError(f"dataset {out} already exists", "pass --overwrite to replace it, or another --out")


@contextlib.contextmanager
def disk_errors(out: Path) -> Iterator[None]:
    """A full disk or a read-only folder is the user's to fix: say so in one line."""
    try:
        yield
    except OSError as exc:
        raise DataError(f"cannot write the dataset {out} ({exc.strerror or exc})",
                        "free some disk space, or pass an --out in a folder you can write to") from None


@contextlib.contextmanager
def spool_file(out: Path) -> Iterator[IO[bytes]]:
    """An anonymous temp file beside the output for the PNGs between decoding and writing."""
    with disk_errors(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        spool = tempfile.TemporaryFile(dir=out.parent, prefix=".artforge-spool-")
    with spool:
        yield spool


def write_rejects(path: Path, rejects: list[dict], duplicates: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "reason"])
    for r in rejects:
        writer.writerow([r["file"], r["reason"]])
    for d in duplicates:
        note = "" if d["reason"].startswith("identical") else f" ({d['reason']})"  # same output, other bytes
        writer.writerow([d["file"], f"duplicate of {d['duplicate_of']}{note}"])
    atomic_write_text(path, buf.getvalue())


def write_archive(out: Path, spool: IO[bytes], kept: list[Kept], manifest: dict, kind: str = "png") -> None:
    """Copy the kept PNGs (or WAVs) from the spool into the dataset zip, in sorted source order."""
    def items():
        for k in kept:
            spool.seek(k.offset)
            yield spool.read(k.length), k.label

    ArchiveWriter(out, kind).write_all(items(), manifest)
