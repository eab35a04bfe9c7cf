"""Run folders: ``runs/00003-openmoji-64-dcgan/`` with ``options.json`` and everything the run writes."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import RunError

OPTIONS_FILE = "options.json"
_NUMBERED = re.compile(r"^(\d{5,})-")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "run"


def new_run_dir(out: str | Path, name: str) -> Path:
    """Create the next numbered run folder under ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file, not a folder", "pass a folder for runs, e.g. --out runs")
    out.mkdir(parents=True, exist_ok=True)
    while True:
        numbers = [int(m.group(1)) for p in out.iterdir() if (m := _NUMBERED.match(p.name))]
        run_dir = out / f"{max(numbers, default=-1) + 1:05d}-{_safe(name)}"
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:  # another process took this number first
            continue


def is_run(path: Path) -> bool:
    return (Path(path) / OPTIONS_FILE).is_file()


def resolve_run(path: str | Path, announce=print) -> Path:
    """A run folder from a run folder, a checkpoint inside one, or a folder of runs (the newest)."""
    path = Path(path)
    if not path.exists():
        raise RunError(f"run {path} does not exist", "pass a folder made by 'artforge train', e.g. runs/00000-...")
    if is_run(path):
        return path
    for parent in list(path.parents)[:2]:  # RUN/checkpoints/step-000500 or RUN/checkpoints
        if is_run(parent):
            return parent
    if path.is_dir():
        runs = sorted((p for p in path.iterdir() if _NUMBERED.match(p.name) and is_run(p)),
                      key=lambda p: int(_NUMBERED.match(p.name).group(1)))
        if runs:
            announce(f"using the newest run in {path}: {runs[-1]}")
            return runs[-1]
    raise RunError(f"{path} is not an artforge run (no {OPTIONS_FILE})",
                   "pass a folder made by 'artforge train', e.g. runs/00000-openmoji-64-dcgan")
