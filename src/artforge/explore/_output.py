"""Where explore actions write, shared by mixing and interpolation."""

from __future__ import annotations

import re
from pathlib import Path


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe form of an option's text: '0,5,10-12' -> '0_5_10-12'."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", str(text)).strip("_")[:limit] or "x"


def default_folder(model, name: str) -> Path:
    """RUN/explore/<name> (for an exported model, inside its folder, as sample does)."""
    return Path(model.run_dir) / "explore" / name


def remove_stale(folder: Path, pattern: str, keep: set[str]) -> list[str]:
    """Delete files in ``folder`` whose names fully match ``pattern`` (with their sidecar JSONs) and are not in
    ``keep``: an earlier call's frames or cells that this call does not rewrite. Never touches other names."""
    removed = []
    if not folder.is_dir():
        return removed
    regex = re.compile(pattern)
    for path in sorted(folder.iterdir()):
        if regex.fullmatch(path.name) and path.name not in keep and path.is_file() and not path.is_symlink():
            path.unlink()
            sidecar = path.with_suffix(".json")
            if sidecar.is_file() and not sidecar.is_symlink():
                sidecar.unlink()
            removed.append(path.name)
    return removed
