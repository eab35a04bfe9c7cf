"""How an option is declared (``option``: a dataclass field whose metadata the CLI reads) and the
checks every command's options share; each raises ``UsageError`` naming the flag."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import field
from typing import Any, Callable

from ..errors import UsageError


def option(default: Any, help: str, *, choices: tuple | Callable[[], tuple] | None = None, metavar: str | None = None,
           positional: bool = False, cli: bool = True, network: bool = True):
    """A dataclass field with the metadata the CLI needs; ``network``: a family option its networks' config
    takes (False: one its training reads)."""
    meta = dict(help=help, choices=choices, metavar=metavar, positional=positional, cli=cli, network=network)
    if isinstance(default, (list, dict, set)):
        raise TypeError("use tuples for sequence defaults: options are frozen")
    return field(default=default, metadata=meta)


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def to_dict(cfg) -> dict:
    """JSON-ready dict of a config dataclass (tuples become lists)."""
    return dataclasses.asdict(cfg)


def from_dict(cls, data: dict):
    """Rebuild a config from ``to_dict`` output, ignoring keys this version does not know."""
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
    return cls(**kwargs)


# ----------------------------------------------------------------------------- validation helpers

def paths_to_str(cfg, *names: str) -> None:
    """Accept pathlib paths from API callers; store strings so configs stay JSON-ready."""
    for name in names:
        value = getattr(cfg, name)
        if value is not None and not isinstance(value, str):
            object.__setattr__(cfg, name, os.fspath(value))


def positive_int(value, name: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{flag_name(name)} must be an integer >= {minimum}, got {value!r}",
                         f"pass e.g. {flag_name(name)} {max(minimum, 1) * 64 if name == 'size' else max(minimum, 1)}")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive(value, name: str, kind=float) -> None:
    ok = is_number(value) and value > 0
    if not ok or (kind is int and int(value) != value):
        raise UsageError(f"{flag_name(name)} must be a positive number, got {value!r}",
                         f"pass e.g. {flag_name(name)} 10")


def non_negative(value, name: str) -> None:
    if not (is_number(value) and value >= 0):
        raise UsageError(f"{flag_name(name)} must be a number >= 0, got {value!r}", f"pass e.g. {flag_name(name)} 1")


def optional_positive(value, name: str, kind=float) -> None:
    if value is not None:
        positive(value, name, kind)


def choice(value, name: str, choices) -> None:
    if value not in choices:
        raise UsageError(f"{flag_name(name)} must be one of {', '.join(map(str, choices))}, got {value!r}",
                         f"pass {flag_name(name)} {choices[0]}")


# --filter and --filter-drop mean the same in sample, evaluate and bench: sample filters by name (from

def names(value) -> tuple[str, ...]:
    """'a,b' or ('a', 'b') -> ('a', 'b'); 'none' and blanks dropped, duplicates removed."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(dict.fromkeys(a.strip() for a in items if a.strip() and a.strip() != "none"))


def fraction(value, name: str, *, allow_zero: bool = True) -> None:
    if not is_number(value) or not ((value >= 0 if allow_zero else value > 0) and value <= 1):
        raise UsageError(f"{flag_name(name)} must be a number in {'[0' if allow_zero else '(0'}, 1], got {value!r}",
                         f"pass e.g. {flag_name(name)} 0.5")




PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES_HELP = "auto picks cuda, then mps, then cpu; or name one, e.g. cuda:1"


class TaskOptions:
    """What every task's options dataclass offers the train command (options/generation.py, translation.py)."""

    uses_family = False  # True: the task trains --arch's networks, with that family's options
    recipe: str | None = None  # the task's own recipe; None: its family's

    def run_dataset(self, dataset: str) -> str:
        """The dataset the run trains on, given the positional one (a task with several says which)."""
        return dataset
