"""One path for everything a run reports: ``report(name, value)``.

Values reported between two ticks are averaged and written as one JSON line per tick to
``log.jsonl`` (and to TensorBoard when it is installed). Health warnings and other events go to the
same file as lines with an ``"event"`` key, so one file tells the whole story of a run.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from pathlib import Path

import torch

from ..utils.events import Event, EventSink
from .rundir import RunLayout


class Monitor:
    def __init__(self, run_dir: Path | None, tensorboard: bool = True, enabled: bool = True, collect: bool = True,
                 sink: EventSink | None = None):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.enabled = enabled and run_dir is not None  # False on non-zero ranks of a distributed run
        self.collect = collect  # False: nothing is ever logged (no ticks), so reports are dropped at once
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)
        self._pending: dict[str, list[torch.Tensor]] = defaultdict(list)
        self._local: set[str] = set()  # names only this process reports (previews, quality): never reduced
        self._log = open(RunLayout(self.run_dir).log, "a", encoding="utf-8") if self.enabled else None
        self._tb = self._open_tensorboard() if (self.enabled and tensorboard) else None
        self.history: list[dict] = []
        self.sink = sink  # the caller's: every line written to the log, as an event

    def _open_tensorboard(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # optional: tensorboard not installed
            return None
        return SummaryWriter(str(RunLayout(self.run_dir).tensorboard))

    def report(self, name: str, value) -> None:
        """Record one value; tensors are kept on their device until the tick (no sync per step)."""
        if not self.collect:
            return
        if isinstance(value, torch.Tensor):
            self._pending[name].append(value.detach().float().reshape(-1).mean())
        else:
            self._sums[name] += float(value)
            self._counts[name] += 1

    def report_local(self, name: str, value) -> None:
        """Record a value only the writing process computes (health of the preview, quality)."""
        self._local.add(name)
        self.report(name, value)

    def _collect(self, dist=None) -> dict[str, float]:
        for name, values in self._pending.items():
            if values:
                total = torch.stack(values).sum().item()
                self._sums[name] += total
                self._counts[name] += len(values)
        self._pending.clear()
        means = {k: self._sums[k] / self._counts[k] for k in self._sums if self._counts[k]}
        self._sums.clear()
        self._counts.clear()
        if dist is not None and dist.active:  # training statistics: the mean over every process
            shared = dist.mean({k: v for k, v in means.items() if k not in self._local})
            means = {k: shared.get(k, v) for k, v in means.items()}
        self._local.clear()
        return means

    def tick(self, step: int, dist=None, **fields) -> dict:
        """Average what was reported since the last tick (over every process of a distributed run),
        write one log line, return it."""
        line = {"step": step, "time": round(time.time(), 3), **fields, **self._collect(dist)}
        line = {k: (round(v, 6) if isinstance(v, float) and math.isfinite(v) else v) for k, v in line.items()}
        self.history.append(line)
        if self._log:
            self._log.write(json.dumps(line) + "\n")
            self._log.flush()
        if self._tb:
            for k, v in line.items():
                if k not in ("step", "time") and isinstance(v, (int, float)):
                    self._tb.add_scalar(k, v, step)
        if self.sink:
            self.sink(Event("tick", step, {k: v for k, v in line.items() if k != "step"}))
        return line

    def event(self, step: int, kind: str, **fields) -> dict:
        line = {"step": step, "time": round(time.time(), 3), "event": kind, **fields}
        if self._log:
            self._log.write(json.dumps(line) + "\n")
            self._log.flush()
        if self.sink:
            self.sink(Event(kind, step, {k: v for k, v in line.items() if k not in ("step", "event")}))
        return line

    def notify(self, step: int, kind: str, **fields) -> None:
        """Tell the caller's sink only (what the log need not keep, such as a checkpoint's path)."""
        if self.sink:
            self.sink(Event(kind, step, fields))

    def close(self) -> None:
        if self._log:
            self._log.close()
            self._log = None
        if self._tb:
            self._tb.close()
            self._tb = None


def truncate_log(path: Path, step: int) -> None:
    """Drop log lines after ``step`` (a resumed run redoes those steps and logs them again)."""
    path = Path(path)
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except ValueError:
            continue  # a line cut short by a crash
    from ..utils.files import atomic_write_text
    atomic_write_text(path, "".join(l + "\n" for l in kept))


def read_log(path: Path) -> tuple[list[dict], list[dict]]:
    """(metric lines, event lines) of a run's log.jsonl."""
    metrics, events = [], []
    path = Path(path)
    if not path.exists():
        return metrics, events
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        (events if "event" in row else metrics).append(row)
    return metrics, events
