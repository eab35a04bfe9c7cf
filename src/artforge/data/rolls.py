"""Piano rolls as dataset members: ``.npy`` bytes of one uint8 roll ``(tracks, steps, pitches)``.

``artforge prepare music`` stores each roll with ``np.save`` (values 0 silent, 1 held, 2 onset; see
``pianoroll``), and readers load it back with ``read_roll_bytes``. Pickles are never allowed: a
dataset from someone else must not be able to run code when it is read.
"""

from __future__ import annotations

import io

import numpy as np

from ..errors import DataError


def roll_bytes(roll: np.ndarray) -> bytes:
    """The ``.npy`` bytes of one roll: uint8, three dimensions (tracks, steps, pitches)."""
    a = np.asarray(roll)
    if a.dtype != np.uint8 or a.ndim != 3:
        raise ValueError(f"a roll is uint8 (tracks, steps, pitches), got {a.dtype} of shape {a.shape}")
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def read_roll_bytes(data: bytes, name: str = "roll") -> np.ndarray:
    """The roll stored by ``roll_bytes``; DataError (naming ``name``, e.g. the member) for anything
    else: not .npy, a pickled object, another dtype or number of dimensions."""
    fix = "prepare the dataset again with 'artforge prepare music'"
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # not .npy, truncated, or object (pickled) data
        raise DataError(f"{name} is not a piano roll (.npy): {exc}"[:300], fix) from None
    if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim != 3:
        got = f"{a.dtype} of shape {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
        raise DataError(f"{name} is not a piano roll: expected uint8 (tracks, steps, pitches), got {got}", fix)
    return a
