"""Progress bars on the terminal, drawn from a command's "progress" events (``events.Progress``).

One tqdm bar per stage ("prepare art", "reference images", ...), on stderr, opened at a stage's first
event and closed when its count reaches its total (or when the command ends). The commands layer puts
this in front of a caller's sink when the command's ``progress`` option is on, so the CLI, the Python
API and a caller's own sink all see the same events: the bar is one more reader of them.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from .events import Event, EventSink


class TerminalBars:
    """An event sink that draws "progress" events as tqdm bars. ``style``: tqdm's own keywords for every
    bar (``mininterval``, ``leave``, ``unit``; the unit is " <what>" unless given); ``styles``: more of them
    by the kind of count (``what``: "images", "steps"), as each bar was drawn before events drew it."""

    def __init__(self, styles: dict[str, dict] | None = None, **style):
        self.styles, self.style = styles or {}, style
        self.bars: dict[str, object] = {}

    def __call__(self, event: Event) -> None:
        if event.kind != "progress" or "done" not in event.fields:
            return  # train's progress events count steps; the engine draws its own bar
        fields = event.fields
        bar = self.bars.get(fields["stage"]) or self._open(fields)
        bar.update(fields["done"] - bar.n)
        if fields.get("detail"):
            bar.set_postfix_str(fields["detail"])
        if fields["total"] is not None and fields["done"] >= fields["total"]:
            self.bars.pop(fields["stage"]).close()

    def _open(self, fields: dict):
        from tqdm import tqdm

        style = {"unit": f" {fields['what']}", **self.style, **self.styles.get(fields["what"], {})}
        bar = tqdm(total=fields["total"], desc=fields["stage"], file=sys.stderr, **style)
        self.bars[fields["stage"]] = bar
        return bar

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


@contextlib.contextmanager
def with_bars(events: EventSink | None, show: bool, styles: dict[str, dict] | None = None,
              **style) -> Iterator[EventSink | None]:
    """``events`` (None: no listener), and before it a ``TerminalBars`` when ``show``; the bars close when
    the block ends."""
    if not show:
        yield events
        return
    bars = TerminalBars(styles, **style)

    def sink(event: Event) -> None:
        bars(event)
        if events is not None:
            events(event)
    try:
        yield sink
    finally:
        bars.close()
