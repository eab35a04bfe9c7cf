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
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError, NoCheckpointYet
from ..utils.files import atomic_write_json, read_json
from .migrations import migrate

FORMAT_VERSION = 2  # older versions are migrated on load (migrations.py)
# The one place for the names of checkpoints and what they hold. A run keeps its checkpoints in
# RUN/checkpoints (rundir.RunLayout's ``checkpoints`` and ``checkpoint(step)`` are built from these).
CHECKPOINTS_DIR = "checkpoints"
MODEL_FILE = "model.safetensors"
TRAINING_FILE = "training.safetensors"
STATE_FILE = "state.json"
INDEX_FILE = "index.json"


class CheckpointNameError(CheckpointError):
    """A checkpoint name that is not best, latest, a step number or a checkpoint folder's name (``name``)."""

    def __init__(self, name, message: str, fix: str):
        super().__init__(message, fix)
        self.name = name


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
    """Write ``ckpt_dir/step-XXXXXX`` atomically. ``state`` may hold tensors anywhere.

    When the write fails (a full disk, a read-only folder), the temporary folder is removed, every
    earlier checkpoint stays as it was, and a one-line ``CheckpointError`` names the disk and the last
    good checkpoint.
    """
    ckpt_dir = Path(ckpt_dir)
    final = ckpt_dir / checkpoint_name(step)
    tmp = ckpt_dir / f".tmp-{checkpoint_name(step)}-{os.getpid()}"
    aside = ckpt_dir / f".old-{checkpoint_name(step)}-{os.getpid()}"
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
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(final, aside)  # kept until the new one is in place
        os.replace(tmp, final)
    except BaseException as exc:  # a second Ctrl-C mid-write too: never leave the temporary folder
        shutil.rmtree(tmp, ignore_errors=True)
        if aside.exists() and not final.exists():
            try:
                os.replace(aside, final)  # the earlier save of this step, back in place
            except OSError:
                pass
        if isinstance(exc, (OSError, SafetensorError)):
            raise _write_error(f"could not write checkpoint {final.name} in {ckpt_dir}", ckpt_dir, exc) from None
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return final


def _error_number(exc: BaseException) -> int | None:
    """The errno of an OSError, or of a SafetensorError ("... I/O error: ... (os error 28)")."""
    if isinstance(exc, OSError):
        return exc.errno
    match = re.search(r"os error (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent, absolute."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _mount_point(path: Path) -> Path:
    path = _existing(path).resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _free_space(path: Path) -> str:
    try:
        free = shutil.disk_usage(_existing(path)).free
    except OSError:
        return "free space unknown"
    if free < 1000:
        return f"{free} bytes free"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if free >= size or unit == "KB":
            return f"{free / size:.1f} {unit} free"
    return ""  # unreachable


def last_good_checkpoint(ckpt_dir: Path) -> Path | None:
    """The checkpoint a resume would continue from: the index's latest, else the newest complete one."""
    existing = list_checkpoints(ckpt_dir)
    index = read_index(ckpt_dir)
    latest = index.get("latest") if isinstance(index, dict) else None
    named = [p for p in existing if p.name == latest]
    return named[0] if named else (existing[-1] if existing else None)


def _write_error(what: str, ckpt_dir: Path, exc: BaseException) -> CheckpointError:
    """One line for a failed write in ``ckpt_dir``: why, on which disk, and what is still good."""
    code = _error_number(exc)
    mount = _mount_point(ckpt_dir)
    disk = f"filesystem mounted at {mount}, {_free_space(ckpt_dir)}"
    if code in (errno.ENOSPC, errno.EDQUOT):
        reason, remedy = "the disk is full", f"free space on {mount}"
    else:
        if isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror
        elif code is not None:
            reason = os.strerror(code)
        else:
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        remedy = (f"make {ckpt_dir} writable" if code in (errno.EACCES, errno.EPERM, errno.EROFS)
                  else f"check the disk at {mount}")
    last = last_good_checkpoint(ckpt_dir)
    run = ckpt_dir.parent
    if last is not None:
        return CheckpointError(f"{what}: {reason} ({disk}); the last good checkpoint is {last}",
                               f"{remedy}, then resume the run {run} (it continues from {last.name})")
    return CheckpointError(f"{what}: {reason} ({disk}); the run has no earlier checkpoint",
                           f"{remedy}, then start the run again")


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
    path = Path(ckpt_dir) / INDEX_FILE
    try:
        atomic_write_json(path, index)
    except OSError as exc:  # the old index stays (atomic write); it names a complete checkpoint
        raise _write_error(f"could not update {path}", Path(ckpt_dir), exc) from None


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
    ckpt_dir = Path(run_dir) / CHECKPOINTS_DIR
    existing = list_checkpoints(ckpt_dir)
    if not existing:
        raise NoCheckpointYet(f"run {run_dir} has no checkpoint yet",
                              "train longer (a run saves a checkpoint at every checkpoint interval and at the end)")
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
            raise CheckpointNameError(which, f"checkpoint {which!r} is not best, latest or a step number",
                                      "pick best, latest or a step number") from None
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
                              "use another checkpoint, e.g. the latest") from None
    try:
        meta = migrate(meta, FORMAT_VERSION)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path} has {exc}",
                              "use the artforge version that wrote it (see its state.json), or train again") from None
    try:
        weights = load_file(str(path / MODEL_FILE), device=str(device))
        extra = load_file(str(path / TRAINING_FILE), device="cpu") if training else {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} is damaged ({exc})",
                              "use another checkpoint, e.g. the latest") from None
    models: dict[str, dict] = {}
    for key, value in weights.items():
        net, _, name = key.partition(".")
        models.setdefault(net, {})[name] = value
    state = {k: v for k, v in meta.items() if k not in ("format_version", "step")}
    if training:
        state = join_tensors(state, extra)
    return {"models": models, "state": state, "step": meta["step"], "path": path}
