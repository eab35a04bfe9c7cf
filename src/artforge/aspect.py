"""Shapes of non-square art: an aspect ratio (width, height) and a size (the longer side) -> (height, width).

Torch-free on purpose: ``artforge prepare`` checks a size and aspect against the same rule the style
family builds its networks from (models/style.py takes ``base_shape`` from here), without importing
torch. Shapes are (height, width), as tensors are; aspect ratios are (width, height), as people say
"4:3"; the longer side is the "resolution" everywhere.
"""

from __future__ import annotations

import math

SQUARE = (1, 1)
STYLE_MIN, STYLE_MAX = 8, 1024  # the longer sides the style family trains at


def parse_aspect(text: str | tuple | list) -> tuple[int, int]:
    """'4:3' (or (4, 3)) -> (4, 3) in lowest terms; ValueError when it is not two positive integers."""
    parts = text.split(":") if isinstance(text, str) else list(text)
    try:
        values = [int(str(p).strip()) for p in parts]
    except ValueError:
        values = []
    if len(values) != 2 or min(values) <= 0 or any(isinstance(p, (bool, float)) for p in parts):
        raise ValueError(f"an aspect ratio is two positive integers W:H, got {text!r}")
    return reduce_aspect(*values)


def reduce_aspect(width: int, height: int) -> tuple[int, int]:
    """(64, 48) -> (4, 3): the ratio in lowest terms."""
    g = math.gcd(width, height)
    return width // g, height // g


def base_shape(aspect: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of the style generator's learned constant for an aspect (width, height): 1:1 -> 4x4, 4:3 -> 3x4.

    The ratio in lowest terms, doubled until its shorter side is at least 3, so every block after
    it doubles a shape of that ratio exactly.
    """
    w, h = reduce_aspect(*aspect)
    while min(h, w) < 3:
        h, w = 2 * h, 2 * w
    return h, w


def aspect_shape(size: int, aspect: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of images whose longer side is ``size`` at ``aspect``: 64 at 4:3 -> (48, 64)."""
    w, h = reduce_aspect(*aspect)
    short = max(1, round(size * min(w, h) / max(w, h)))
    return (short, size) if w >= h else (size, short)


def style_sizes(aspect: tuple[int, int]) -> list[int]:
    """The longer sides the style family trains at this aspect: the base's longer side times 2, 4, 8, ..."""
    long_side = max(base_shape(aspect))
    return [long_side * 2 ** k for k in range(1, 12) if STYLE_MIN <= long_side * 2 ** k <= STYLE_MAX]


def style_trains(size: int, aspect: tuple[int, int]) -> bool:
    return isinstance(size, int) and not isinstance(size, bool) and size in style_sizes(aspect)


def nearest_style_sizes(size: int, aspect: tuple[int, int]) -> list[int]:
    """The trainable longer sides just below and just above ``size`` (one of them at the ends)."""
    sizes = style_sizes(aspect)
    below = [s for s in sizes if s < size][-1:]
    above = [s for s in sizes if s > size][:1]
    return below + above


def shape_text(shape: tuple[int, int]) -> str:
    """(48, 64) -> '64x48': width x height, as image sizes are said."""
    return f"{shape[1]}x{shape[0]}"
