"""``train``: a GAN on a prepared dataset, or a stopped run resumed exactly where it stopped.

Options: ``dataset``, ``resume`` and the fields of ``config.TrainConfig``. Events: the run's log lines
and events as they happen, checkpoints, and the step about once a second; cancelling saves a
checkpoint and returns the result with status "interrupted", as Ctrl-C does.
"""

from __future__ import annotations


def train(options: dict, events=None, cancel=None):
    from .trainer import train as _train

    dataset, resume = options.pop("dataset", None), options.pop("resume", None)
    return _train(dataset, resume=resume, events=events, cancel=cancel, **options)


def train_summary(result, options: dict | None = None) -> list[str]:
    from ..tasks.specs import task_spec

    verb = "stopped (Ctrl-C)" if result.status == "interrupted" else "finished"
    lines = [f"{verb} at step {result.step}: {result.run_dir}", f"  checkpoint: {result.checkpoint}",
             f"  next: {task_spec(result.task).next_steps(result.run_dir)}"]
    if result.status == "interrupted":
        lines.append(f"  continue: artforge train --resume {result.run_dir}")
    return lines
