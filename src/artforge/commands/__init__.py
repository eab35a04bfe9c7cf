"""The commands layer: what ``artforge COMMAND``, the Python API and the studio all call.

A command is a plain function of its options (a dict by option name: the CLI's parsed flags, the
API's keywords), an optional event sink and an optional cancel token (``utils.events``), returning a
result object; ``summary(result, options)`` gives the lines the CLI prints about it. Nothing here parses
arguments or prints: the front ends do. ``run(name, options)`` checks that the optional packages the
command needs for these inputs are installed (``needs.py``) before any work starts.

Adding a command: a module here with its ``run`` and ``summary``, and one line in ``COMMANDS``. A command's own
code may sit beside it: trainer.py (``Trainer``, ``train``, resuming) and sizing.py are the ``train`` command's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..utils.events import CancelToken, Cancelled, Event, EventSink, ignore

__all__ = ["COMMANDS", "Command", "run", "summary", "CancelToken", "Cancelled", "Event", "EventSink"]


@dataclass(frozen=True)
class Command:
    name: str  # as the CLI spells it ("prepare-audio" is `artforge prepare audio`)
    run: Callable[..., Any]  # (options: dict, events, cancel) -> result
    summary: Callable[..., Iterable[str]]  # (result, options) -> the lines the CLI prints (a list, or made as they come)


def _lazy(module: str, function: str) -> Callable:
    """A function of a command module, imported on first call: listing the commands loads no torch."""
    def call(*args, **kwargs):
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{module}"), function)(*args, **kwargs)
    call.__name__ = f"{module}.{function}"
    return call


def _command(name: str, module: str, function: str | None = None) -> Command:
    function = function or name.replace("-", "_")
    return Command(name, _lazy(module, function), _lazy(module, f"{function}_summary"))


COMMANDS: dict[str, Command] = {c.name: c for c in (
    _command("prepare", "prepare"),
    _command("prepare-audio", "prepare"),
    _command("prepare-music", "prepare"),
    _command("train", "train"),
    _command("export", "export"),
    _command("report", "report"),
    _command("sample", "sample"),
    _command("evaluate", "evaluate"),
    _command("translate", "apply"),
    _command("upscale", "apply"),
    _command("recreate", "provenance"),
    _command("verify", "provenance"),
    _command("bench", "bench"),
    _command("explore", "explore"),
)}


def run(name: str, options: dict, events: EventSink | None = None, cancel: CancelToken | None = None):
    """Run command ``name`` with ``options`` (by option name), after checking what it needs installed."""
    from ..needs import check

    check(name, options)
    return COMMANDS[name].run(dict(options), events=events or ignore, cancel=cancel)


def summary(name: str, result, options: dict | None = None) -> Iterable[str]:
    """The lines that tell a person what ``result`` is (``options``: the command's, e.g. ``json``)."""
    return COMMANDS[name].summary(result, options or {})
