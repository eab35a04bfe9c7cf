"""``artforge prepare audio SRC``: a folder, a zip or the built-in drums -> a dataset of one-shot sounds.

The same rules as images (ingest.py), for sounds: sources are scanned the same way (hidden files
skipped, other extensions counted as ignored, zips never extracted), every file becomes an item or
a reject with a one-line reason (unreadable, empty, corrupt, silent, too short, too long) and the
run never stops for one bad file; identical files, and files whose conditioned samples are
identical, are reported as duplicates; labels come from first-level subfolders; the split is seeded
by content. Each kept clip is conditioned by ``sound.condition`` (mono, resampled, onset at 0,
trailing silence trimmed, cropped or padded, peak-normalized) and stored as a 16-bit WAV; the zip's
manifest says ``"modality": "audio"`` with the sample rate and length.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import multiprocessing
import tempfile
import time
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .._version import __version__
from ..options import AudioPrepareConfig, to_dict
from ..errors import DataError
from ..utils.events import CancelToken, EventSink, Progress
from ..utils.files import atomic_write_text
from .archive import FORMAT, FORMAT_VERSION, archive_name
from .collect import INLINE_MAX, Collector, collect_all, worker_count
from .imaging import Outcome, digest
from .ingest import label_folder_rejects
from .output import PrepareResult, check_output, disk_errors, side_paths, spool_file, write_archive, write_rejects
from .scan import Item, Source, scan_folder, scan_zip
from .sound import AUDIO_EXTENSIONS, AudioOptions, AudioReject, condition, decode, to_pcm16, wav_bytes
from .splits import SPLITS, assign_labels, assign_splits, take_subset

AUDIO_BUILTINS = ("drums",)


class AudioProcessor:
    """Turns one source task into an ``Outcome`` holding the item's WAV; keeps zip handles open."""

    def __init__(self, opts: AudioOptions):
        self.opts = opts
        self._zips: dict[str, zipfile.ZipFile] = {}

    def _bytes(self, task: tuple) -> bytes:
        if task[0] == "file":
            with open(task[1], "rb") as f:
                return f.read()
        _, path, index = task
        if path not in self._zips:
            self._zips[path] = zipfile.ZipFile(path)
        zf = self._zips[path]
        return zf.read(zf.infolist()[index])

    def __call__(self, task: tuple) -> Outcome:
        try:
            data = self._bytes(task)
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            return Outcome(reason=f"unreadable: {getattr(exc, 'strerror', None) or exc}")
        if not data:
            return Outcome(reason="empty file")
        try:
            samples, rate = decode(data)
            item = condition(samples, rate, self.opts)
        except AudioReject as reject:
            return Outcome(reason=str(reject))
        pcm = to_pcm16(item)
        return Outcome(src_hash=digest(data), pixel_hash=digest(pcm.tobytes()), data=wav_bytes(pcm, self.opts.sample_rate))

    def close(self) -> None:
        for zf in self._zips.values():
            zf.close()


_WORKER: AudioProcessor | None = None


def _pool_init(opts: AudioOptions) -> None:
    global _WORKER
    _WORKER = AudioProcessor(opts)


def _pool_run(task: tuple) -> Outcome:
    return _WORKER(task)


@contextlib.contextmanager
def _outcomes(tasks: list[tuple], opts: AudioOptions, workers: int) -> Iterator[Iterator[Outcome]]:
    if workers > 1 and len(tasks) > INLINE_MAX:
        chunksize = max(1, min(16, len(tasks) // (workers * 8)))
        with multiprocessing.get_context().Pool(workers, _pool_init, (opts,)) as pool:
            yield pool.imap(_pool_run, tasks, chunksize)
        return
    processor = AudioProcessor(opts)
    try:
        yield map(processor, tasks)
    finally:
        processor.close()


@contextlib.contextmanager
def _source(cfg: AudioPrepareConfig) -> Iterator[Source]:
    """What SRC is: a folder or zip of sounds, or a built-in (rendered into a temporary folder first)."""
    path = Path(cfg.source).expanduser()
    if path.is_dir():
        yield scan_folder(path.resolve(), AUDIO_EXTENSIONS)
    elif path.is_file():
        if not zipfile.is_zipfile(path):
            kind = "a single sound" if path.suffix.lower() in AUDIO_EXTENSIONS else "not a folder or a .zip"
            raise DataError(f"source {path} is {kind}", "put your sounds in a folder and pass the folder")
        yield scan_zip(path.resolve(), AUDIO_EXTENSIONS)
    elif cfg.source == "drums":
        from .drums import render_drums

        with tempfile.TemporaryDirectory(prefix="artforge-drums-") as tmp:
            credits = render_drums(Path(tmp))
            source = scan_folder(Path(tmp), AUDIO_EXTENSIONS)
            source.kind, source.name, source.origin, source.credits = "builtin", "drums", "drums", credits
            source.items = [Item("drums/" + item.name, item.folder, item.task) for item in source.items]
            yield source
    else:
        close = difflib.get_close_matches(cfg.source, AUDIO_BUILTINS, n=1)
        hint = f"did you mean the built-in '{close[0]}'?" if close else \
            f"pass an existing folder or .zip of sounds, or a built-in: {', '.join(AUDIO_BUILTINS)}"
        raise DataError(f"source {cfg.source} does not exist", hint)


def _output_path(cfg: AudioPrepareConfig, source: Source) -> Path:
    if cfg.out is None:
        return Path("datasets") / f"{source.name}-{cfg.sample_rate // 1000}k.zip"
    out = Path(cfg.out).expanduser()
    return out if out.suffix.lower() == ".zip" else out.with_name(out.name + ".zip")


def _manifest(cfg: AudioPrepareConfig, source: Source, out: Path, kept: list, label_names: list[str],
              duplicates: list[dict], rejects: list[dict]) -> dict:
    label_counts = Counter(k.label for k in kept)
    members: dict[str, list[str]] = {s: [] for s in SPLITS}
    for index, k in enumerate(kept):
        members[k.split].append(archive_name(index, "wav"))
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "modality": "audio",
        "name": out.name[:-len(out.suffix)], "source": source.origin, "source_kind": source.kind,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "artforge_version": __version__,
        "options": to_dict(cfg),
        "sample_rate": cfg.sample_rate, "length": cfg.length, "seconds": cfg.length / cfg.sample_rate,
        # the shape every dataset has: one row of `length` samples, one channel
        "resolution": cfg.length, "height": 1, "width": cfg.length, "channels": 1,
        "count": len(kept), "split_counts": {s: len(members[s]) for s in SPLITS}, "split": members,
        "label_names": label_names, "label_counts": {name: label_counts[i] for i, name in enumerate(label_names)},
        "ignored": sum(source.ignored.values()), "ignored_extensions": dict(sorted(source.ignored.items())),
        "rejects": rejects, "duplicates": duplicates, **source.credits,
    }


def prepare_audio(cfg: AudioPrepareConfig, *, events: EventSink | None = None, cancel: CancelToken | None = None,
                  limit: int | None = None) -> PrepareResult:
    """Build the sound dataset described by ``cfg``; DataError or UsageError with a fix, ``Cancelled`` when
    ``cancel`` is cancelled before the files are all read (nothing is written then)."""
    started = time.monotonic()
    opts = AudioOptions(sample_rate=cfg.sample_rate, length=cfg.length, min_seconds=cfg.min_ms / 1000)
    with _source(cfg) as source:
        out = _output_path(cfg, source)
        manifest_path, rejects_path = side_paths(out)
        check_output(out, cfg, source)
        if not source.items and not source.rejects:
            ignored = sum(source.ignored.values())
            raise DataError(f"source {source.origin} holds no sounds" + (f" ({ignored:,} other files ignored)"
                                                                          if ignored else ""),
                            "add WAV, FLAC, OGG or AIFF files, or point at the folder that has them")
        items = label_folder_rejects(cfg, source, source.items[:limit] if limit else source.items)
        with spool_file(out) as spool:
            collector = Collector(spool, "identical file", "same samples after conditioning")
            progress = Progress(events, len(items), "files", f"prepare {source.name}", cancel)
            with disk_errors(out), _outcomes([i.task for i in items], opts, worker_count(cfg.workers)) as outs:
                collect_all(collector, items, outs, progress)
            rejects = sorted(source.rejects + collector.rejects, key=lambda r: r["file"])
            if not collector.kept:
                with disk_errors(out):
                    write_rejects(rejects_path, rejects, collector.duplicates)
                raise DataError(f"no usable sound in {source.origin}: all {len(rejects):,} audio files were rejected",
                                f"see the reasons in {rejects_path}")
            label_names = assign_labels(cfg.labels, collector.kept)
            kept = take_subset(collector.kept, cfg.subset, cfg.seed)
            assign_splits(kept, cfg.split, cfg.seed)
            manifest = _manifest(cfg, source, out, kept, label_names, collector.duplicates, rejects)
            with disk_errors(out):
                write_archive(out, spool, kept, manifest, kind="wav")
                atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
                write_rejects(rejects_path, rejects, collector.duplicates)
    return PrepareResult(path=out, manifest=manifest, count=len(kept), rejects=rejects,
                         duplicates=collector.duplicates, manifest_path=manifest_path,
                         rejects_path=rejects_path, seconds=time.monotonic() - started)


def summary(result: PrepareResult) -> str:
    """A few lines for the terminal."""
    m = result.manifest
    counts = m["split_counts"]
    labels = f"{len(m['label_names'])} classes ({', '.join(m['label_names'][:8])})" if m["label_names"] else "no labels"
    lines = [f"prepared {result.count:,} sounds, {m['length']:,} samples at {m['sample_rate']:,} Hz "
             f"({m['seconds']:.2f} s, mono 16-bit), from {m['source']} -> {result.path} in {result.seconds:.1f} s",
             f"  split {counts['train']:,} train / {counts['val']:,} val / {counts['test']:,} test; {labels}",
             f"  {len(result.rejects):,} rejected, {len(result.duplicates):,} duplicates, {m['ignored']:,} other files "
             "ignored" + (f" (reasons: {result.rejects_path})" if result.rejects or result.duplicates else "")]
    return "\n".join(lines)
