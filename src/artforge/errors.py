"""User-facing errors.

Anything the user can fix (a bad path, a bad option, a corrupt checkpoint, a full disk) is raised as
an ``ArtforgeError``. The CLI prints it as one line, ``error: <what>; fix: <how>``, and exits with
``exit_code``; the Python API lets it propagate so callers can catch it by type.
"""

from __future__ import annotations


class ArtforgeError(Exception):
    """A problem the user can fix. ``fix`` says how, in a few words."""

    exit_code = 1

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}; fix: {self.fix}" if self.fix else self.message


class UsageError(ArtforgeError):
    """A bad option value or combination of options."""

    exit_code = 2


class DataError(ArtforgeError):
    """A missing, empty or unreadable source folder or dataset."""


class RunError(ArtforgeError):
    """A path that is not a run folder, or a run that cannot continue."""


class CheckpointError(ArtforgeError):
    """A checkpoint that is missing, corrupt, incompatible, or could not be written."""


class NoCheckpointYet(CheckpointError):
    """A run that has saved no checkpoint yet (it was stopped early, or is still before the first save)."""


class TrainingDiverged(ArtforgeError):
    """Losses or weights became NaN/Inf; the last good checkpoint is kept."""

    exit_code = 3


class MissingDependency(ArtforgeError):
    """An optional extra is not installed."""


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency lazily, or explain how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"{purpose} needs the optional package '{module}' ({exc})",
            f"pip install 'artforge[{extra}]'",
        ) from None
