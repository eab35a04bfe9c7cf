"""Decoding a source's items and sorting the outcomes (``artforge prepare``'s second step).

Decoding runs in a ``multiprocessing`` pool (``--workers``) for more than ``INLINE_MAX`` files.
Memory stays bounded: output PNGs (or WAVs) are spooled to a temporary file beside the output and
only hashes and a small record per item are held; items are never all decoded at once.

Duplicates: files with identical bytes, and images whose output pixels are identical (e.g. the same
picture saved twice as JPEG and PNG), keep only the first in sorted path order; the others are
reported as duplicates of it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from dataclasses import dataclass
from typing import IO, Iterator

from ..utils.events import Progress
from .imaging import ImageOptions, Outcome, Processor, pillow_pixel_limit_off, pool_init, pool_run
from .scan import Item

INLINE_MAX = 64  # up to this many files, a process pool costs more than it saves
SAME_PIXELS = "same pixels after resizing"


@contextlib.contextmanager
def outcomes(items: list[Item], opts: ImageOptions, workers: int) -> Iterator[Iterator[Outcome]]:
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


def worker_count(workers: int) -> int:
    """``workers`` when given (non-zero), else every CPU this process may use."""
    if workers:
        return workers
    if hasattr(os, "sched_getaffinity"):  # the CPUs this process may use (containers, taskset)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(slots=True)
class Kept:
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


class Collector:
    """Sorts outcomes (arriving in sorted path order) into kept, rejected and duplicate."""

    def __init__(self, spool: IO[bytes], same_content: str = "identical file", same_output: str = SAME_PIXELS):
        self.spool = spool
        self.same_content = same_content  # the duplicate reason for equal content hashes
        self.same_output = same_output  # ... and for equal outputs (pixels, or a sound's samples)
        self.kept: list[Kept] = []
        self.rejects: list[dict] = []
        self.duplicates: list[dict] = []
        self._by_src: dict[str, str] = {}  # content hash -> name of the kept image it equals
        self._by_pixels: dict[str, str] = {}

    def add(self, item: Item, out: Outcome) -> None:
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
        self.kept.append(Kept(item.name, item.folder, out.src_hash, offset, len(out.data),
                               out.sums, out.squares))




def collect_all(collector: Collector, items: list[Item], outcomes: Iterator[Outcome], progress: Progress) -> Collector:
    """Every outcome into ``collector``, counted on ``progress``; stops with ``Cancelled`` between items when
    the caller cancels (the spool is a temporary file: nothing is left behind)."""
    for item, outcome in zip(items, outcomes):
        collector.add(item, outcome)
        progress.advance()
        progress.raise_if_cancelled()
    progress.finish()
    return collector
