"""How many draws a sample filter makes, and how many it leaves out: the arithmetic that option
validation (options/shared.py), the filters (sample_filters.py), ``artforge sample`` and ``artforge evaluate``
share. Torch-free and free of imports, so each of them can use it without importing the others."""

from __future__ import annotations

import math


def filter_draws(n: int, drop: float) -> int:
    """How many draws a sample filter makes to keep ``n`` after leaving out its ``drop`` share of them."""
    return math.ceil(round(n / (1 - drop), 9))  # rounded: 100 / 0.8 is 125, not 125.00000000000001


def filter_left_out(n: int, drop: float) -> int:
    """How many of ``n`` seeds a sample filter leaves out: the ``drop`` share, rounded down."""
    return math.floor(round(n * drop, 9))  # rounded: 100 * 0.29 is 28.999999999999996, and leaves out 29
