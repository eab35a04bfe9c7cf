"""Exported models: one checkpoint's EMA generator as a standalone folder, for sharing and sampling.

``artforge export RUN --out DIR`` writes::

    DIR/model.safetensors   the EMA generator's weights and buffers, keys ``G.*`` as in checkpoints
    DIR/model.json          format version, architecture and model config, labels, source run/checkpoint/step
    DIR/README.md           a model card: dataset, training options, steps, quality, how to sample it

``artforge.load(DIR)`` and ``artforge sample DIR`` take the folder like a run. The folder is written
beside DIR under a hidden name and renamed into place, so it is there whole or not at all, and the
run is only read. No pickle: loading a model never runs code.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from ._version import __version__
from .options import ExportConfig
from .errors import CheckpointError, UsageError
from .models.registry import sampler_weights
# The folder's format and its reading live with the loading of runs (sampling.py), which exporting builds on.
from .sampling import (CARD_FILE, FORMAT, FORMAT_VERSION, MODEL_JSON, PREFIX, REEXPORT, WEIGHTS_FILE,  # noqa: F401
                       build_generator, is_export, load, load_export, resolve_checkpoint)
from .runs import checkpoint as ckpt
from .runs.rundir import RunLayout, resolve_run
from .utils.files import read_json, sha256_file


@dataclass
class ExportResult:
    out: Path
    run_dir: Path
    checkpoint: Path
    step: int

    def load(self, device: str = "auto"):
        return load(self.out, device=device)


# ----------------------------------------------------------------------------- export

def export_model(cfg: ExportConfig, announce=print) -> ExportResult:
    """The ``artforge export`` command."""
    path = Path(cfg.run)
    if is_export(path):
        raise UsageError(f"{path} is already an exported model", "export a run folder made by 'artforge train'")
    ckpt_path = path if (path / ckpt.STATE_FILE).exists() else None
    run_dir = resolve_run(path, announce=announce)
    ckpt_path = ckpt_path or resolve_checkpoint(run_dir, cfg.checkpoint)
    out = Path(cfg.out) if cfg.out else Path("exports") / run_dir.name
    _check_out(out, run_dir, cfg.force)

    loaded = ckpt.load_checkpoint(ckpt_path, device="cpu", training=False)
    state, step = loaded["state"], loaded["step"]
    weights = sampler_weights(state["family"], loaded["models"])
    model_cfg, _ = build_generator(state["family"], state.get("model_config"), weights, torch.device("cpu"),
                                   f"checkpoint {ckpt_path}", "export another checkpoint, e.g. --checkpoint latest")
    options = _read_options(run_dir)
    dataset = options.get("dataset") or {}
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arch": state["family"],
        "model_config": state["model_config"],
        "label_names": list(state.get("label_names") or []),
        "label_weights": list(state.get("label_weights") or []),
        "extras": dict(state.get("extras") or {}),  # what samplers learnt from the data: a roll format, tempos
        "step": step,
        "kimg": round(state.get("nimg", 0) / 1000, 3),
        "source": {"run": str(run_dir.resolve()), "checkpoint": ckpt_path.name, "step": step,
                   "picked": cfg.checkpoint, "best": state.get("best")},
        "dataset": {**{k: dataset.get(k) for k in ("name", "path", "images", "resolution", "channels")},
                    **{k: dataset[k] for k in ("height", "width") if k in dataset}},  # non-square datasets
        "artforge_version": __version__,
        "trained_with": state.get("artforge_version"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    card = model_card(meta, options, state, model_cfg, out)
    tensors = {PREFIX + k: v.contiguous() for k, v in weights.items()}
    _write_folder(out, tensors, meta, card, step)
    return ExportResult(out, run_dir, ckpt_path, step)


def _check_out(out: Path, run_dir: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file", "pass a folder, e.g. --out exports/my-model")
    o, r = out.resolve(), run_dir.resolve()
    if o == r or r in o.parents or o in r.parents:
        raise UsageError(f"--out {out} overlaps the run {run_dir}, which export never changes",
                         f"pass a folder outside it, e.g. --out exports/{run_dir.name}")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(f"--out {out} exists and is not empty", "pass another --out, or --force to replace it")


def _read_options(run_dir: Path) -> dict:
    try:
        options = read_json(RunLayout(run_dir).options)
    except (OSError, ValueError):
        return {}
    if not isinstance(options, dict):
        return {}
    from .runs.migrations import migrate_run_options
    return migrate_run_options(options)


def _write_folder(out: Path, tensors: dict, meta: dict, card: str, step: int) -> None:
    """Everything into a hidden folder beside ``out``, then renamed into place (replacing ``out``)."""
    target = Path(os.path.abspath(out))
    tmp = target.parent / f".tmp-{target.name}-{os.getpid()}"
    old = target.parent / f".old-{target.name}-{os.getpid()}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_file(tensors, str(tmp / WEIGHTS_FILE),
                  metadata={"format": FORMAT, "arch": meta["arch"], "step": str(step)})
        meta = {**meta, "weights_sha256": sha256_file(tmp / WEIGHTS_FILE)}
        (tmp / MODEL_JSON).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        for path in tmp.iterdir():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
        if target.exists():  # empty, or --force: set aside until the new folder is in place
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException as exc:  # Ctrl-C too: no temporary folder left, the old folder back in place
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            os.replace(old, target)
        if isinstance(exc, (OSError, SafetensorError)):
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else " ".join(str(exc).split())[:200]
            raise CheckpointError(f"could not write {out}: {reason}",
                                  "free disk space or pass another --out (the run is unchanged)") from None
        raise
    shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- model card

MAIN_OPTIONS = (  # (TrainConfig field, how the card names it)
    ("recipe", "recipe"), ("loss", "loss"), ("batch", "batch"), ("lr_g", "G learning rate"),
    ("lr_d", "D learning rate"), ("n_critic", "D steps per G step"), ("r1_gamma", "R1 gamma"),
    ("gp_weight", "gradient penalty weight"), ("d_norm", "D normalization"), ("ema_kimg", "EMA half-life (kimg)"),
    ("augment", "real-image augmentations"), ("d_augment", "D augmentations"),
    ("ada_target", "adaptive augmentation target"), ("seed", "seed"),
)


def _dataset_manifest(path) -> dict:
    """The prepared dataset's artforge.json, if the dataset is still where the run found it."""
    try:
        path = Path(path)
        if path.is_dir():
            data = (path / "artforge.json").read_bytes()
        else:
            with zipfile.ZipFile(path) as zf:
                data = zf.read("artforge.json")
        manifest = json.loads(data)
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _licence_line(dataset: dict, manifest: dict) -> str | None:
    name = str(dataset.get("name") or "")
    if manifest.get("source") == "openmoji" or (not manifest and name.startswith("openmoji")):
        credit = manifest.get("attribution") or "OpenMoji, the open-source emoji project, https://openmoji.org"
        return f"Licence of the training images: CC BY-SA 4.0 ({credit})."
    if manifest.get("license"):
        return f"Licence of the training images: {manifest['license']}."
    return None


def _value(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def model_card(meta: dict, options: dict, state: dict, model_cfg, out: Path) -> str:
    """README.md of an exported model, from model.json, the run's options.json and the checkpoint state."""
    dataset = options.get("dataset") or {}
    train = {**(options.get("train") or {}), **(state.get("train_config") or {})}  # the checkpoint's: recipe filled in
    source = meta["source"]
    side = getattr(model_cfg, "resolution", dataset.get("resolution"))
    height, width = getattr(model_cfg, "image_shape", (side, side))  # (height, width); non-square style models
    res = f"{width}x{height}"
    colour = {1: "grayscale", 3: "RGB"}.get(getattr(model_cfg, "channels", dataset.get("channels")), "")
    names = meta["label_names"]
    clusters = bool(names) and not dataset.get("label_names")  # labels the run found itself
    kind = (f"self-conditioned on {len(names)} clusters" if clusters else f"conditional on {len(names)} labels"
            if names else "unconditional")
    best = state.get("best") or {}
    picked = ("the best" if best.get("name") == source["checkpoint"] else "the chosen") + " checkpoint"
    lines = [
        f"# {Path(source['run']).name}",
        "",
        f"An image generator ({meta['arch']}, {res} {colour}, {kind}) trained with artforge "
        f"{meta.get('trained_with') or '?'} and exported by artforge {meta['artforge_version']}: the EMA generator "
        f"of checkpoint `{source['checkpoint']}` ({picked}, step {meta['step']:,}) of the run `{source['run']}`.",
        "",
        "## Sample it",
        "",
        "```",
        f"artforge sample {shlex.quote(str(out))} --seeds 0-15",
        "```",
        "",
        "or from Python:",
        "",
        "```python",
        "import artforge",
        f"images = artforge.load({json.dumps(str(out))}).sample(seeds=list(range(16)))  # uint8 (16, H, W, C)",
        "```",
        "",
        "Each image comes from its seed alone, so a seed names an image.",
    ]
    if names:
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        lines += [f"Pick a label with `--label NAME` (`label=` in Python): {shown}."]
    lines += ["", "## Dataset", "", "| | |", "|---|---|"]
    images = dataset.get("images")
    rows = [("name", dataset.get("name")), ("path", dataset.get("path")),
            ("images", f"{images:,}" if isinstance(images, int) else images),
            ("training images", f"{dataset['train_images']:,} (split {train.get('split', 'train')})"
             if isinstance(dataset.get("train_images"), int) else None),
            ("resolution", f"{res} {colour}"),
            ("labels", ", ".join(dataset.get("label_names") or []) or None)]
    lines += [f"| {k} | {v} |" for k, v in rows if v not in (None, "")]
    licence = _licence_line(dataset, _dataset_manifest(dataset.get("path")) if dataset.get("path") else {})
    if licence:
        lines += ["", licence]
    seconds = state.get("train_seconds")
    lines += ["", "## Training", "", "| | |", "|---|---|",
              f"| steps | {meta['step']:,} |",
              f"| images shown | {meta['kimg']:g} kimg |"]
    if isinstance(seconds, (int, float)):
        shown = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
        lines.append(f"| training time | {shown} |")
    cfg_rows = [("architecture", meta["arch"]),
                ("latent size", getattr(model_cfg, "z_dim", None)), ("width", train.get("width"))]
    cfg_rows += [(label, train.get(key)) for key, label in MAIN_OPTIONS]
    if clusters:
        cfg_rows.append(("conditioning", f"self-conditioning on {len(names)} clusters of the training images"))
    else:
        cfg_rows.append(("conditioning", f"dataset labels ({len(names)})" if names else "none (unconditional)"))
    cfg_rows += [("precision", state.get("precision") or options.get("precision")), ("device", options.get("device"))]
    lines += [f"| {k} | {_value(v)} |" for k, v in cfg_rows if v is not None]
    lines += ["", "## Quality", ""]
    history = [h for h in state.get("metric_history") or [] if isinstance(h, dict)]
    if best.get("metric"):
        lines.append(f"Best checkpoint: `{best.get('name')}` (step {best.get('step')}), {best['metric']} "
                     f"{_value(best.get('value'))}. Exported: `{source['checkpoint']}`.")
    else:
        lines.append(f"No quality score picked a best checkpoint. Exported: `{source['checkpoint']}`.")
    if history:
        keys = [k for h in history for k in h if k not in ("step", "kimg")]
        keys = list(dict.fromkeys(keys))
        lines += ["", "Quality history (lower SWD is closer to the training images):", "",
                  "| step | kimg | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
        for h in history[-20:]:
            cells = [h.get("step"), h.get("kimg")] + [h.get(k, "") for k in keys]
            lines.append("| " + " | ".join(map(_value, cells)) + " |")
        if len(history) > 20:
            lines.append(f"\n(the last 20 of {len(history)} measurements)")
    lines += ["", "## Files", "",
              f"- `{WEIGHTS_FILE}`: the EMA generator's weights and buffers (keys `{PREFIX}*`, safetensors)",
              f"- `{MODEL_JSON}`: architecture, model config and labels to rebuild it; source run, checkpoint, step",
              f"- `{CARD_FILE}`: this card", ""]
    return "\n".join(lines)
