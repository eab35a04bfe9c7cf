"""Checkpoints: safetensors for every tensor, JSON for everything else, written atomically.

A checkpoint is a folder ``checkpoints/step-000200/``:

    model.safetensors     G.*, D.*, G_ema.* weights and buffers
    training.safetensors  optimizer moments, RNG states: every other tensor of the training state
    state.json            format version, step, configs to rebuild the models, optimizer
                          hyper-parameters, scaler, EMA, metric history, with references into
                          training.safetensors where tensors stood

It is written to a hidden temporary folder and renamed into place, so a crash or a full disk never
leaves a half checkpoint. ``checkpoints/index.json`` names the latest and the best one.
No pickle anywhere: loading a checkpoint never runs code.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError
from ..utils.files import atomic_write_json, read_json

FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"
TRAINING_FILE = "training.safetensors"
STATE_FILE = "state.json"
INDEX_FILE = "index.json"


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


# ----------------------------------------------------------------------------- tensors <-> JSON

def split_tensors(obj: Any, tensors: dict[str, torch.Tensor], prefix: str = "t") -> Any:
    """Replace every tensor in a nested structure by {"__tensor__": key}, collecting it in ``tensors``.

    Dicts with non-string keys (optimizer state is keyed by int) become {"__items__": [[k, v], ...]}
    so that JSON keeps the key types.
    """
    if isinstance(obj, torch.Tensor):
        key = f"{prefix}"
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: split_tensors(v, tensors, f"{prefix}.{k}") for k, v in obj.items()}
        return {"__items__": [[k, split_tensors(v, tensors, f"{prefix}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [split_tensors(v, tensors, f"{prefix}.{i}") for i, v in enumerate(obj)]
    return obj


def join_tensors(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__items__" in obj:
            return {k: join_tensors(v, tensors) for k, v in obj["__items__"]}
        return {k: join_tensors(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_tensors(v, tensors) for v in obj]
    return obj


# ----------------------------------------------------------------------------- save

def save_checkpoint(ckpt_dir: Path, step: int, models: dict[str, torch.nn.Module], state: dict) -> Path:
    """Write ``ckpt_dir/step-XXXXXX`` atomically. ``state`` may hold tensors anywhere."""
    ckpt_dir = Path(ckpt_dir)
    final = ckpt_dir / checkpoint_name(step)
    tmp = ckpt_dir / f".tmp-{checkpoint_name(step)}-{os.getpid()}"
    weights = {f"{name}.{k}": v.detach().cpu().contiguous()
               for name, module in models.items() for k, v in module.state_dict().items()}
    extra: dict[str, torch.Tensor] = {}
    meta = {"format_version": FORMAT_VERSION, "step": step, **split_tensors(state, extra, "state")}
    try:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_file(weights, str(tmp / MODEL_FILE), metadata={"format": "artforge", "step": str(step)})
        save_file(extra, str(tmp / TRAINING_FILE))
        atomic_write_json(tmp / STATE_FILE, meta)
        _fsync_dir_files(tmp)
        if final.exists():  # the same step saved again (e.g. Ctrl-C right after a scheduled save)
            shutil.rmtree(final)
        os.replace(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
        raise CheckpointError(f"could not write checkpoint {final}: {reason}",
                              "free disk space, then continue with 'artforge train --resume "
                              f"{ckpt_dir.parent}' (earlier checkpoints are intact)") from None
    return final


def _fsync_dir_files(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as f:
            os.fsync(f.fileno())


# ----------------------------------------------------------------------------- index, pruning

def read_index(ckpt_dir: Path) -> dict:
    path = Path(ckpt_dir) / INDEX_FILE
    if not path.exists():
        return {}
    try:
        return read_json(path)
    except ValueError:
        return {}


def write_index(ckpt_dir: Path, index: dict) -> None:
    atomic_write_json(Path(ckpt_dir) / INDEX_FILE, index)


def list_checkpoints(ckpt_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return []
    found = [p for p in ckpt_dir.iterdir() if p.is_dir() and p.name.startswith("step-")
             and (p / STATE_FILE).exists()]
    return sorted(found, key=lambda p: p.name)


def prune(ckpt_dir: Path, keep: int, protect: set[str]) -> list[str]:
    """Delete all but the newest ``keep`` checkpoints and those named in ``protect``."""
    existing = list_checkpoints(ckpt_dir)
    keep_names = {p.name for p in existing[-keep:]} | protect
    removed = []
    for path in existing:
        if path.name not in keep_names:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


# ----------------------------------------------------------------------------- load

def resolve_checkpoint(run_dir: Path, which: str = "latest") -> Path:
    """'latest', 'best', a step number or a checkpoint folder name -> the checkpoint folder."""
    ckpt_dir = Path(run_dir) / "checkpoints"
    existing = list_checkpoints(ckpt_dir)
    if not existing:
        raise CheckpointError(f"run {run_dir} has no checkpoint yet",
                              "train longer (checkpoints are saved every --checkpoint-every steps and at the end)")
    index = read_index(ckpt_dir)
    names = {p.name: p for p in existing}
    if which in ("latest", "best"):
        name = index.get(which)
        if name in names:
            return names[name]
        return existing[-1]  # index missing or stale: the newest complete checkpoint
    name = which if which.startswith("step-") else None
    if name is None:
        try:
            name = checkpoint_name(int(which))
        except ValueError:
            raise CheckpointError(f"--checkpoint {which!r} is not best, latest or a step number",
                                  "pass --checkpoint best") from None
    if name not in names:
        raise CheckpointError(f"run {run_dir} has no checkpoint {name}",
                              f"pick one of: best, latest, {', '.join(sorted(names))}")
    return names[name]


def load_checkpoint(path: Path, device: str | torch.device = "cpu", training: bool = True) -> dict:
    """Read a checkpoint folder: {'models': {'G': sd, 'D': sd, 'G_ema': sd}, 'state': ..., 'step': n}."""
    path = Path(path)
    state_path = path / STATE_FILE
    if not state_path.exists():
        raise CheckpointError(f"{path} is not a checkpoint (no {STATE_FILE})",
                              "pass a folder like RUN/checkpoints/step-000500")
    try:
        meta = read_json(state_path)
    except ValueError:
        raise CheckpointError(f"checkpoint {path} is damaged ({STATE_FILE} is not valid JSON)",
                              "use another checkpoint, e.g. --checkpoint latest") from None
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version}; this artforge reads version {FORMAT_VERSION}",
            "use the artforge version that wrote it (see its state.json), or train again")
    try:
        weights = load_file(str(path / MODEL_FILE), device=str(device))
        extra = load_file(str(path / TRAINING_FILE), device="cpu") if training else {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} is damaged ({exc})",
                              "use another checkpoint, e.g. --checkpoint latest") from None
    models: dict[str, dict] = {}
    for key, value in weights.items():
        net, _, name = key.partition(".")
        models.setdefault(net, {})[name] = value
    state = {k: v for k, v in meta.items() if k not in ("format_version", "step")}
    if training:
        state = join_tensors(state, extra)
    return {"models": models, "state": state, "step": meta["step"], "path": path}
