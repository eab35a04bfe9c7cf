"""Tasks by name: what checkpoints record in "task" and, later, what ``--task`` picks.

A new task is a new file under tasks/ with its ``Task`` subclass, plus one line here.
"""

from __future__ import annotations

from ..errors import CheckpointError
from .base import Task
from .generation import GenerationTask
from .toy import ToyTask

TASKS: dict[str, type[Task]] = {t.name: t for t in (GenerationTask, ToyTask)}


def check_task(saved: str | None, task: Task, path) -> None:
    """A checkpoint resumes only the task that wrote it."""
    if saved not in TASKS:
        raise CheckpointError(f"checkpoint {path} was written by an unknown task {saved!r}",
                              f"use the artforge version that wrote it; this one knows {', '.join(TASKS)}")
    if saved != task.name:
        raise CheckpointError(f"checkpoint {path} was written by the {saved} task, not {task.name}",
                              "resume it with the command that trained it")
