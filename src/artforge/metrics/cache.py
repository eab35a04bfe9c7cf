"""Where evaluation keeps what it can reuse: reference statistics and trained encoders.

``$ARTFORGE_CACHE`` or ``~/.cache/artforge``. Entries are keyed by a hash of everything that
determines them (the dataset's content, the extractor's identity, sample counts, settings), as
clean-fid does for its reference statistics, so a changed dataset never reuses stale numbers.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from ..utils.files import atomic_write_bytes, sha256_file


def file_digest(path: Path, limit: int | None = None) -> str:
    """sha256 of a file (of its first ``limit`` bytes), hex, short: a cache key."""
    return sha256_file(path, limit)[:16]


def cache_dir(kind: str) -> Path:
    root = Path(os.environ.get("ARTFORGE_CACHE") or Path.home() / ".cache" / "artforge")
    path = root / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def dataset_fingerprint(path: Path) -> str:
    """A zip's content hash, or for a folder a hash of its files' names, sizes and times."""
    path = Path(path)
    if path.is_file():
        return file_digest(path)
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        stat = p.stat()
        h.update(f"{p.relative_to(path).as_posix()}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def cache_key(**parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def load_arrays(key: str) -> dict[str, np.ndarray] | None:
    path = cache_dir("stats") / f"{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError):  # a damaged entry is recomputed
        return None


def save_arrays(key: str, arrays: dict[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(cache_dir("stats") / f"{key}.npz", buf.getvalue())
