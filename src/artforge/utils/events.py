"""What a long command tells whoever started it, and how that caller stops it.

A command (train, evaluate, ...) takes an optional ``events`` sink, a callable that receives one
``Event`` at a time, and an optional ``CancelToken``. The CLI turns events into its progress bar and
lines, the Python API passes a user's callback, and the studio forwards them from a worker process.
Cancelling is a request, not a kill: a training run finishes its step, saves a checkpoint and returns
"interrupted", exactly as after Ctrl-C, so it resumes where it stopped.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Event:
    kind: str  # "progress", "tick" (a log line), "health", "checkpoint", "note", ... (the log's event kinds)
    step: int | None = None
    fields: dict = field(default_factory=dict)


EventSink = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The sink of a caller who does not listen."""


def announcer(events: EventSink | None) -> Callable[[str], None]:
    """An ``announce(text)`` for code that reports a line of text (which run was picked, what is being
    computed), turned into "note" events for ``events`` (nothing when it is None)."""
    def announce(text) -> None:
        if events is not None:
            events(Event("note", None, {"text": str(text)}))
    return announce


class CancelToken:
    """Set from any thread (a button, a signal handler, another command); read by the running command."""

    def __init__(self):
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
