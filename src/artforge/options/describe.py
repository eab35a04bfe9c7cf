"""The options as data, for a front end that draws its own form (the studio): each field's name, flag,
help, default, choices and kind, from the same metadata the CLI builds its flags from, so a form never
drifts from ``artforge COMMAND --help``. ``train_parts`` says which parts' options a train run of a
task and family takes, in the order the CLI lists them."""

from __future__ import annotations

import dataclasses

from .fields import flag_name


def kind_of(field: dataclasses.Field) -> str:
    annotation = str(field.type)
    for name in ("bool", "int", "float", "tuple", "str"):
        if name in annotation:
            return name
    return "str"


def describe(cls, part: str | None = None) -> list[dict]:
    """One dict per option of ``cls`` that a person sets (``cli=False`` ones are the front end's own)."""
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if not meta.get("cli", True):
            continue
        choices = meta.get("choices")
        default = f.default
        flag = None if meta.get("positional") else flag_name(f.name)  # a positional is given without one
        out.append({"name": f.name, "flag": flag, "help": meta["help"], "kind": kind_of(f),
                    "default": list(default) if isinstance(default, tuple) else default,
                    "choices": list(choices() if callable(choices) else choices) if choices else None,
                    "part": part})
    return out


def train_parts(task: str, arch: str) -> list[tuple[str | None, type]]:
    """(label, options class) of each part a run of ``task`` (and ``arch``) takes: the run's choices and the
    engine's (label None), the task's ("--task T") and, for a task that trains --arch's networks, the
    family's ("--arch A")."""
    from .engine import EngineOptions
    from .families import FAMILY_OPTIONS
    from .train import TASK_OPTIONS, RunChoices

    task_cls = TASK_OPTIONS[task]
    parts: list[tuple[str | None, type]] = [(None, RunChoices), (None, EngineOptions), (f"--task {task}", task_cls)]
    if task_cls.uses_family:
        parts.append((f"--arch {arch}", FAMILY_OPTIONS[arch]))
    return parts
