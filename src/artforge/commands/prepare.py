"""``prepare``: a folder, zip or built-in set of images, sounds or music -> a training dataset.

Events: a "progress" event per file (or built-in piece), at most twice a second, and a last one;
the ``progress`` option draws them as a bar on stderr. Cancelling stops between files and raises
``Cancelled`` (``utils.events``), leaving no dataset, manifest or rejects file behind.
"""

from __future__ import annotations

from ..options import AudioPrepareConfig, MusicPrepareConfig, PrepareConfig, to_dict
from ..utils.bars import with_bars

BAR = dict(mininterval=0.5, dynamic_ncols=True)  # the bar prepare has always drawn: " files" per second


def prepare(options: dict, events=None, cancel=None):
    from ..data.ingest import prepare as _prepare

    with with_bars(events, options.pop("progress", True), **BAR) as events:
        return _prepare(PrepareConfig(**options), events=events, cancel=cancel)


def prepare_summary(result, options: dict | None = None) -> list[str]:
    from ..aspect import shape_text
    from ..data.archive import manifest_shape

    m = result.manifest
    counts = m.get("split_counts") or m.get("counts") or {}
    split = "/".join(str(counts.get(k, 0)) for k in ("train", "val", "test"))
    colour = 'RGB' if m['channels'] == 3 else 'grayscale'
    if m.get("pairs"):
        height, width = manifest_shape(m)
        lines = [f"prepared {result.count} pairs ({shape_text((height, width // 2))} each side, {colour}; input: "
                 f"{m['pairs']['input']}, target: {m['pairs']['target']}, side by side) -> {result.path}"]
    else:
        lines = [f"prepared {result.count} images ({shape_text(manifest_shape(m))}, {colour}) -> {result.path}"]
    lines.append(f"  train/val/test: {split}; labels: {', '.join(m.get('label_names') or []) or 'none'}")
    if result.rejects or result.duplicates:
        lines.append(f"  set aside: {len(result.rejects)} rejected, {len(result.duplicates)} duplicates "
                     f"(see {result.rejects_path})")
    return lines


def prepare_audio(options: dict, events=None, cancel=None):
    from ..data.audio_ingest import prepare_audio as _prepare

    with with_bars(events, options.pop("progress", True), **BAR) as events:
        return _prepare(AudioPrepareConfig(**options), events=events, cancel=cancel)


def prepare_audio_summary(result, options: dict | None = None) -> list[str]:
    from ..data.audio_ingest import summary

    return [summary(result)]


def prepare_music(options: dict, events=None, cancel=None):
    from ..data.music_ingest import prepare_music as _prepare

    show = options.pop("progress", True)
    cfg = MusicPrepareConfig(**options)
    with with_bars(events, show, **BAR) as events:
        return _prepare(cfg.source, events=events, cancel=cancel,
                        **{k: v for k, v in to_dict(cfg).items() if k != "source"})


def prepare_music_summary(result, options: dict | None = None) -> list[str]:
    from ..data.music_ingest import summary

    return [summary(result)]
