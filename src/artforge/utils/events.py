"""What a long command tells whoever started it, and how that caller stops it.

A command (train, evaluate, ...) takes an optional ``events`` sink, a callable that receives one
``Event`` at a time, and an optional ``CancelToken``. The CLI turns events into its progress bar and
lines, the Python API passes a user's callback, and the studio forwards them from a worker process.
Cancelling is a request, not a kill: a training run finishes its step, saves a checkpoint and returns
"interrupted", exactly as after Ctrl-C, so it resumes where it stopped; a command that counts items
(prepare, evaluate, translate) reads the token between items (``Progress``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ..errors import ArtforgeError


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


class Cancelled(ArtforgeError):
    """A command stopped by its cancel token before it had a result; it left no half-written file."""

    exit_code = 130  # as Ctrl-C


PROGRESS_EVERY_S = 0.5  # at most two "progress" events a second: a bar's pace, not a flood through a pipe


class Progress:
    """Counts one stage of a command's items into "progress" events and reads its cancel token.

    Each event is ``Event("progress", None, {"done", "total", "what", "stage"})`` (``total`` None when
    unknown; ``what``: the items' noun, "files", "images"; ``stage``: what is being counted, "prepare
    art", "generated images"; ``detail``: a note on the item in hand, when there is one). Events go out
    at most every ``every`` seconds, plus a last one from ``finish``; with no sink nothing is sent.
    """

    def __init__(self, events: EventSink | None, total: int | None, what: str, stage: str = "",
                 cancel: CancelToken | None = None, every: float = PROGRESS_EVERY_S):
        self.events, self.cancel, self.every = events, cancel, every
        self.total, self.what, self.stage = total, what, stage
        self.done = 0
        self._sent_at: float | None = None
        self._sent_done: int | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.cancelled

    def raise_if_cancelled(self) -> None:
        """For a command with nothing to show for half its work: stop here, by raising ``Cancelled``."""
        if self.cancelled:
            raise Cancelled(f"{self.stage or 'the command'} was cancelled after {self.done:,} {self.what}; "
                            "nothing was written", "run it again to finish")

    def advance(self, n: int = 1, detail: str | None = None) -> None:
        self.done += n
        self._send(detail)

    def note(self, detail: str) -> None:
        """How the item in hand is going (a tile of a big image), at the same pace as the counts."""
        self._send(detail)

    def finish(self) -> None:
        """The last count, whenever the previous event was sent (a caller waits for done == total)."""
        if self._sent_done != self.done:
            self._send(None, final=True)

    def _send(self, detail: str | None, final: bool = False) -> None:
        now = time.monotonic()
        if self.events is None or not final and self._sent_at is not None and now - self._sent_at < self.every:
            return
        self._sent_at, self._sent_done = now, self.done
        fields = {"done": self.done, "total": self.total, "what": self.what, "stage": self.stage}
        if detail:
            fields["detail"] = detail
        self.events(Event("progress", None, fields))
