"""``translate`` and ``upscale``: an image-to-image run applied to image files and folders of any size."""

from __future__ import annotations

from pathlib import Path


def _inputs(options: dict) -> tuple:
    inputs = options.get("inputs", ())
    return tuple([inputs] if isinstance(inputs, (str, bytes)) or hasattr(inputs, "__fspath__") else inputs)


def translate(options: dict, events=None, cancel=None):
    from ..options import TranslateConfig
    from ..translating import translate as _translate

    return _translate(TranslateConfig(**{**options, "inputs": _inputs(options)}))


def upscale(options: dict, events=None, cancel=None):
    from ..options import UpscaleConfig
    from ..translating import upscale as _upscale

    return _upscale(UpscaleConfig(**{**options, "inputs": _inputs(options)}))


def _summary(result, what: str) -> list[str]:
    lines = [f"{what} {len(result.written)} images into {result.out}"]
    if result.skipped:
        first = result.skipped[0]
        lines.append(f"  skipped {len(result.skipped)} unreadable inputs (e.g. {first['file']}: {first['reason']}); "
                     f"see {Path(result.out) / 'skipped.csv'}")
    return lines


def translate_summary(result, options: dict | None = None) -> list[str]:
    return _summary(result, "translated: wrote")


def upscale_summary(result, options: dict | None = None) -> list[str]:
    return _summary(result, "upscaled: wrote")
