"""``recreate`` and ``verify``: an image re-made from the record artforge wrote into it; the watermark checked."""

from __future__ import annotations

import json
from typing import Iterator


def recreate(options: dict, events=None, cancel=None) -> dict:
    from ..options import RecreateConfig
    from ..recreating import recreate as _recreate

    return _recreate(RecreateConfig(**options))


def recreate_summary(result: dict, options: dict | None = None) -> list[str]:
    if result["identical"]:
        verdict = "pixel-identical to the given image"
    elif result["max_diff"] is None:
        verdict = (f"NOT identical: {result['shape'][1]}x{result['shape'][0]}, the given image is "
                   f"{result['given_shape'][1]}x{result['given_shape'][0]} (resized or cropped since?)")
    else:
        verdict = (f"NOT identical: pixels differ by up to {result['max_diff']} levels (edited since, or another "
                   "model, hardware, batch size or artforge version)")
    lines = [f"recreated the {result['kind']} image with {result['model']}: {result['out']}; {verdict}"]
    if result["vary"]:
        lines.append(f"wrote {len(result['vary'])} neighbours: {', '.join(p.name for p in result['vary'])}")
    return lines


def verify(options: dict, events=None, cancel=None) -> Iterator[dict]:
    """The verdicts, one dict per image, made as they are read: an unreadable image stops the rest with a
    one-line error after the earlier ones were reported."""
    from ..options import VerifyConfig
    from ..recreating import verify as _verify

    return _verify(VerifyConfig(**options))


def verify_summary(result: Iterator[dict], options: dict | None = None) -> Iterator[str]:
    for item in result:
        if (options or {}).get("json"):
            yield json.dumps(item)
            continue
        verdict = "watermarked" if item["watermarked"] else "no watermark found"
        record = f"record: {item['record']}" if item["record"] else "no artforge record"
        yield f"{item['image']}: {verdict} (score {item['score']:.1f}); {record}"
