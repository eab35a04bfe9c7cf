"""``translate`` and ``upscale``: an image-to-image run applied to image files and folders of any size.

Events: a "progress" event per input image (at most twice a second; a big image's tiles as its
detail), drawn as a bar by the ``progress`` option. Cancelling stops between images and returns the
result with status "interrupted", holding the images written whole before it, as train's does.
"""

from __future__ import annotations

from pathlib import Path

from ..utils.bars import with_bars

BAR = dict(unit="image")  # the bar translate and upscale have always drawn (tqdm's other defaults)


def _inputs(options: dict) -> tuple:
    inputs = options.get("inputs", ())
    return tuple([inputs] if isinstance(inputs, (str, bytes)) or hasattr(inputs, "__fspath__") else inputs)


def translate(options: dict, events=None, cancel=None):
    from ..options import TranslateConfig
    from ..translating import translate as _translate

    cfg = TranslateConfig(**{**options, "inputs": _inputs(options)})
    with with_bars(events, cfg.progress, **BAR) as events:
        return _translate(cfg, events=events, cancel=cancel)


def upscale(options: dict, events=None, cancel=None):
    from ..options import UpscaleConfig
    from ..translating import upscale as _upscale

    cfg = UpscaleConfig(**{**options, "inputs": _inputs(options)})
    with with_bars(events, cfg.progress, **BAR) as events:
        return _upscale(cfg, events=events, cancel=cancel)


def _summary(result, what: str) -> list[str]:
    lines = [f"{what} {len(result.written)} images into {result.out}"]
    if result.status == "interrupted":
        lines[0] = f"stopped (cancelled): {lines[0]}"
    if result.skipped:
        first = result.skipped[0]
        lines.append(f"  skipped {len(result.skipped)} unreadable inputs (e.g. {first['file']}: {first['reason']}); "
                     f"see {Path(result.out) / 'skipped.csv'}")
    return lines


def translate_summary(result, options: dict | None = None) -> list[str]:
    return _summary(result, "translated: wrote")


def upscale_summary(result, options: dict | None = None) -> list[str]:
    return _summary(result, "upscaled: wrote")
