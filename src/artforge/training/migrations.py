"""Checkpoint format migrations: each turns the state.json of one format version into the next.

Version 1 (artforge 0.1, before the engine): one image GAN; "arch" named the architecture, and the
augmentation and self-conditioning state stood at the top level. Version 2: "family" and "task"
name what built the networks and what trained them; the task's own state is under "task_state";
every process's random stream is saved ("rng" -> "ranks") with the world size.
Migrations work on the JSON (tensors are references into training.safetensors), never on files:
a checkpoint on disk is never rewritten.
"""

from __future__ import annotations

from typing import Callable


def _v1_to_v2(meta: dict) -> dict:
    meta = dict(meta)
    meta["family"] = meta.pop("arch")
    meta["task"] = "generation"
    meta["task_state"] = {"augment": meta.pop("augment", {"p": 0.0, "images": 0, "ada": None}),
                          "self_cond": meta.pop("self_cond", None)}
    rng = dict(meta.get("rng", {}))
    rng["ranks"] = [rng["generator"]] if "generator" in rng else []  # one process: one stream for both
    meta["rng"] = rng
    meta["world_size"] = 1
    meta["format_version"] = 2
    return meta


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2}


def migrate(meta: dict, current: int) -> dict:
    """``meta`` (a state.json) brought to format ``current``; ValueError for an unknown or newer one."""
    version = meta.get("format_version")
    while version != current:
        if version not in MIGRATIONS:
            raise ValueError(f"format version {version}; this artforge reads versions 1 to {current}")
        meta = MIGRATIONS[version](meta)
        version = meta["format_version"]
    return meta
