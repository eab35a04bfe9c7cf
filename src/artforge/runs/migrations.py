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


# ----------------------------------------------------------------------------- options.json

# options.json's format: 1 (before the options were split by owner) kept every option of every task and
# family under "train"; 2 keeps the run's own (its choices, the engine's, its task's, its family's).
OPTIONS_FORMAT = 2
# What an option that did not exist yet when a run was made meant for it (its behaviour back then).
OPTIONS_BEFORE_THEY_EXISTED = {"output_bias": False, "mbstd_group": 0, "self_cond_min_images": 0, "lr_decay": 0.0,
                               "mapping_lr_mul": 0.01, "upsample": "bilinear", "class_gain": 1.0,
                               "lr_floor_g": 0.0, "lr_floor_d": 0.0, "mode_seeking": 0.0}


def migrate_run_options(options: dict) -> dict:
    """A run's options (options.json's structure) in the current format: "train" holds the run's own
    options, each option added since the run was made at the value that reproduces how it trained.
    Records this artforge cannot read as options are left as they are (the loaders say what is wrong)."""
    from ..errors import UsageError
    from ..options.fields import from_dict
    from ..options.train import TASK_OPTIONS, TrainConfig, own_names

    if options.get("options_format", 1) >= OPTIONS_FORMAT or not isinstance(options.get("train"), dict):
        return options
    train = {**OPTIONS_BEFORE_THEY_EXISTED, **options["train"]}
    task, arch = train.get("task") or "generation", train.get("arch") or "dcgan"
    if task not in TASK_OPTIONS:
        return options
    own = {k: v for k, v in train.items() if k in own_names(task, arch)}  # format 1 held every part's
    try:
        record = from_dict(TrainConfig, {**own, "dataset": train.get("dataset") or "-"}).record()
    except (UsageError, TypeError):
        return options
    record["dataset"] = train.get("dataset")
    return {**options, "options_format": OPTIONS_FORMAT, "train": record}
