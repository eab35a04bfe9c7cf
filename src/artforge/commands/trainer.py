"""Training a GAN on a prepared dataset (images, sounds, piano rolls): a task and a model family on the engine.

``Trainer`` wires a run together (training/engine.py runs it): the family's networks, the task (generation,
tasks/generation.py; or an image-to-image task, set up in tasks/setups.py), evaluation during training as a
callback, the run folder. ``train`` is the
API and CLI entry point; it also resumes a run exactly where it stopped, on any number of processes.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..aspect import SQUARE, aspect_shape, shape_text
from ..options import TrainConfig, from_dict
from ..options.train import TrainSections, foreign_option
from ..data.archive import ImageDataset, open_dataset
from ..ops.augment import LEAKS_INTO_G
from ..errors import NoCheckpointYet, RunError, TrainingDiverged, UsageError
from ..modality import MODALITIES
from ..models.registry import ARCHITECTURES, get_architecture, make_config
from ..tasks.generation import GenerationTask
from ..tasks.specs import task_spec
from ..utils.device import precision_name
from ..utils.events import CancelToken, EventSink
from ..utils.files import atomic_write_json
from ..runs import checkpoint as ckpt
from ..runs.migrations import OPTIONS_FORMAT
from ..runs.monitor import Monitor
from ..runs.rundir import RunLayout, new_run_dir, no_checkpoint_error, read_run_options, resolve_run
from ..tasks.selfcond import clusters_for
from ..tasks.setups import TRANSLATION_SETUPS, refuse_pairs
from ..training.distributed import SINGLE, Distributed, device_for, from_environment, per_process_batch
from ..training.engine import Engine

# Options a resumed run may change; everything else is fixed by the run's options.json.
RESUME_OVERRIDES = ("steps", "kimg", "minutes", "tick", "checkpoint_every", "keep", "eval_images", "device",
                    "progress", "workers", "tensorboard", "lr_g", "lr_d", "cache_gb", "eval_every", "eval_metrics",
                    "eval_n", "eval_extractor", "inception_weights")


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    status: str  # "finished" or "interrupted"
    checkpoint: Path | None
    task: str = "generation"

    def load(self, checkpoint: str = "best", device: str = "auto"):
        from ..sampling import load
        return load(self.run_dir, checkpoint=checkpoint, device=device)


class EvalCallback:
    """--eval-every: score the EMA generator with the chosen metrics at its checkpoints; log them."""

    def __init__(self, cfg: TrainConfig):
        from ..metrics.evaluate import METRICS
        self.cfg, self.every = cfg, cfg.eval_every  # the flat options: the run's choices and the task's
        metric = METRICS[cfg.eval_metrics[0]]
        self.selects = (metric.primary, metric.better)  # the first metric picks the best checkpoint

    def on_checkpoint(self, engine: Engine, monitor: Monitor) -> dict[str, float]:
        if engine.step % self.every:
            return {}
        from ..options import EvaluateConfig
        from ..metrics.evaluate import evaluate
        from ..sampling import LoadedRun

        cfg, task = self.cfg, engine.task
        name = ckpt.checkpoint_name(engine.step)
        model = LoadedRun(engine.run_dir, Path(name), engine.step, cfg.arch, engine.model_cfg,
                          engine.ema_nets[engine.family.sampler], engine.device, task.label_names, task.label_weights)
        eval_cfg = EvaluateConfig(run=str(engine.run_dir), real=str(task.dataset.path), split=cfg.split,
                                  metrics=cfg.eval_metrics, extractor=cfg.eval_extractor, n=cfg.eval_n,
                                  inception_weights=cfg.inception_weights, device=str(engine.device), progress=False,
                                  out=str(RunLayout(engine.run_dir).eval_result(name)))
        report = evaluate(eval_cfg, model=model)
        flat = {k: v for k, v in report["results"].items() if isinstance(v, (int, float))}
        monitor.event(engine.step, "eval", kimg=round(engine.nimg / 1000, 3), protocol=report.get("protocol"), **flat)
        for key, value in flat.items():
            monitor.report_local(f"Eval/{key}", value)
        return flat


class Trainer(Engine):
    """An image run: ``cfg.arch``'s networks trained on ``dataset`` by the generation task, or an
    image-to-image task's family (pix2pix, cyclegan, sr: tasks/setups.py) by that task."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, dataset: ImageDataset, resume_from: Path | None = None,
                 dist: Distributed = SINGLE):
        cfg = cfg.resolved()  # recipe values for every option left unset
        self.dataset = dataset
        self.sizing = None  # train() sizes a --minutes run to the machine (sizing.Sizing), before building this
        options = cfg.sections()  # each part reads its own
        family, model_cfg, task = SETUPS[cfg.task](options, dataset)
        callbacks = (EvalCallback(cfg),) if cfg.eval_every and task_spec(cfg.task).scored_while_training else ()
        super().__init__(options, family, model_cfg, task, run_dir, resume_from, dist, callbacks)

    def run(self, events: EventSink | None = None, cancel: CancelToken | None = None) -> TrainResult:
        try:
            return self._run(events, cancel)
        except TrainingDiverged as exc:  # the engine's advice, in the command's own options
            lower = getattr(exc, "lower_lrs", {})
            flags = " ".join(f"--lr-{k.lower()} {v:g}" for k, v in lower.items())
            fix = (f"resume with lower learning rates: artforge train --resume {self.run_dir} {flags}"
                   if getattr(exc, "resumable", False) else f"train again with lower learning rates ({flags})")
            raise TrainingDiverged(exc.message, fix) from None

    def _run(self, events: EventSink | None, cancel: CancelToken | None) -> TrainResult:
        notes = []
        if self.step == 0:
            if self.sizing is not None:
                notes.append((self.sizing.summary(), "sizing", self.sizing.to_json()))
            notes += [(text, "start", fields) for text, fields in start_notes(self)]
        status, last = super().run(notes, events=events, cancel=cancel)
        return TrainResult(self.run_dir, self.step, status, last, self.task.name)


def generation_setup(cfg: TrainSections, dataset: ImageDataset):
    """``--arch``'s family, its config for the dataset (labels or self-conditioning clusters), the task."""
    refuse_pairs(dataset)
    num_classes = dataset.num_classes if cfg.task.conditional else 0
    # Data without (used) labels: condition on clusters of D's features instead (self-conditioning).
    self_cond = 0 if num_classes else clusters_for(cfg.task.self_cond, len(dataset.indices(cfg.engine.split)),
                                                   cfg.task.self_cond_min_images)
    family = get_architecture(cfg.run.arch)
    model_cfg = family.make_config(resolution=dataset.resolution, channels=dataset.channels,
                                   num_classes=num_classes or self_cond, **shape_options(family, dataset),
                                   **cfg.family_options())
    return family, model_cfg, GenerationTask(cfg, dataset, num_classes or self_cond, self_cond,
                                             MODALITIES[family.modality], MODALITIES[family.trains_on])


SETUPS = {"generation": generation_setup, **TRANSLATION_SETUPS}  # task -> (cfg, dataset) -> (family, model cfg, task)


# ---------------------------------------------------------------------------- API

def _write_options(run_dir: Path, cfg: TrainConfig, trainer: Trainer) -> None:
    ds = trainer.dataset
    atomic_write_json(RunLayout(run_dir).options, {
        "artforge_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "options_format": OPTIONS_FORMAT,
        "train": trainer.options.record(),
        "model": {"arch": trainer.family.name, **dataclasses.asdict(trainer.model_cfg)},
        "dataset": {"path": str(Path(ds.path).resolve()), "name": ds.display_name, "images": len(ds),
                    "train_images": len(ds.indices(cfg.split)), "resolution": ds.resolution,
                    "height": ds.height, "width": ds.width, "channels": ds.channels, "label_names": ds.label_names},
        **{key: _dataset_record(ds, cfg) for key, ds in trainer.task.more_datasets().items()},
        "device": str(trainer.device),
        "precision": precision_name(trainer.dtype),
        "precision_reason": trainer.precision.reason,
        "sizing": trainer.sizing.to_json() if trainer.sizing else None,
    })


def _dataset_record(ds, cfg: TrainConfig) -> dict:
    return {"path": str(Path(ds.path).resolve()), "name": ds.display_name, "images": len(ds),
            "train_images": len(ds.indices(cfg.split)), "resolution": ds.resolution, "height": ds.height,
            "width": ds.width, "channels": ds.channels}


def train(dataset: str | Path | None = None, *, resume: str | Path | None = None, events: EventSink | None = None,
          cancel: CancelToken | None = None, **options) -> TrainResult:
    """Train a GAN on a prepared dataset; or continue a run exactly where it stopped (``resume``).

    Options are the fields of ``artforge.options.TrainConfig`` (the CLI's flags). Returns when a stop
    condition (steps, kimg, minutes) is met, or after Ctrl-C or ``cancel.cancel()`` (from any thread),
    with a checkpoint saved either way. ``events`` receives the log's lines and events as they happen
    (utils/events.py). Started by torchrun, every process runs this; rank 0 alone writes (distributed.py).
    """
    dist = from_environment()
    if resume is not None:
        return _resume(resume, dataset, options, dist).run(events, cancel)
    if dataset is None and task_spec(options.get("task") or TrainConfig.task).needs_dataset:
        raise UsageError("no dataset given", "pass a dataset made by 'artforge prepare', or resume=RUN")
    cfg = TrainConfig(dataset=str(dataset or ""), **options)  # refuses another task's or family's options ...
    foreign = foreign_option(cfg.task, cfg.arch, options)  # ... even given at their defaults
    if foreign:
        raise foreign
    spec = task_spec(cfg.task)
    if not spec.scored_while_training and cfg.eval_every:
        raise UsageError(f"--eval-every scores generated images during training; a {cfg.task} run is scored "
                         "against the true images afterwards", "leave it out and run 'artforge evaluate RUN'")
    cfg = dataclasses.replace(cfg, device=device_for(dist, cfg.device))
    ds = open_dataset(cfg.dataset)
    cfg = _modality_augment(cfg, ds, options)
    if spec.translates:
        SETUPS[cfg.task](cfg.resolved().sections(), ds, check_only=True)  # fail before making a folder
    else:
        refuse_pairs(ds)
        _check_shape(cfg.arch, ds)
    per_process_batch(cfg.batch, dist.world)
    sized = None
    # Sizing's candidates are DCGAN widths (sizing.py); a style run takes its --preset's size.
    sizable = (spec.sized_to_budget and get_architecture(cfg.arch).sized_to_budget
               and not {"width", "batch"} & options.keys())
    if cfg.minutes is not None and cfg.size_to_budget and sizable:
        sized = dist.broadcast(_size_to_budget(cfg, ds, dist) if dist.is_writer else None)  # rank 0 measures
        cfg = dataclasses.replace(cfg, width=sized.size.width, batch=sized.size.batch)
    run_dir = dist.broadcast(new_run_dir(cfg.out, f"{ds.display_name}-{spec.run_name(cfg)}") if dist.is_writer else None)
    try:
        trainer = Trainer(cfg, run_dir, ds, dist=dist)
    except BaseException:
        if dist.is_writer:
            _remove_empty_run(run_dir)
        raise
    trainer.sizing = sized
    if dist.is_writer:
        _write_options(run_dir, trainer.cfg, trainer)
    return trainer.run(events, cancel)


def _modality_augment(cfg: TrainConfig, ds: ImageDataset, options: dict) -> TrainConfig:
    """Sounds and piano rolls train with the generation task only, and with their own augmentations:
    none for sounds, transposition for rolls (the image default, flip, means nothing to them)."""
    modality = MODALITIES[ds.modality]
    if modality.pictures:
        for other in MODALITIES.values():
            foreign = [name for name in other.own_augments if name in cfg.augment]
            if foreign:
                raise UsageError(f"--augment {','.join(foreign)} {other.own_augments_do}; dataset {ds.display_name} "
                                 f"holds {modality.noun}", "leave it out")
        return cfg
    what = modality.noun
    if task_spec(cfg.task).translates:
        raise UsageError(f"dataset {ds.display_name} holds {what}; --task {cfg.task} translates images",
                         "train it with the generation task and a fitting --arch")
    own = modality.own_augments
    given = [name for name in options.get("augment") or () if name not in own]
    if given:
        takes = f" ({what} take --augment {','.join(own)})" if own else ""
        raise UsageError(f"--augment {','.join(given)} transforms images; dataset {ds.display_name} holds {what}",
                         f"leave it out{takes}")
    return dataclasses.replace(cfg, augment=tuple(options["augment"]) if "augment" in options else own)


def start_notes(trainer: Trainer) -> list[tuple[str, dict]]:
    """What a user should know before the first step: how labels are used, augmentation that leaks."""
    cfg, ds, notes = trainer.options, trainer.dataset, []
    if trainer.task.self_cond:
        notes.append((f"self-conditioning: G and D are conditioned on {trainer.task.self_cond} clusters of D's "
                      "features (--self-cond 0 turns it off)", {"labels": "clusters", "classes": trainer.task.self_cond}))
    elif trainer.task.label_classes:
        notes.append((f"the dataset's {ds.num_classes} labels ({', '.join(ds.label_names[:6])}"
                      f"{', ...' if ds.num_classes > 6 else ''}, from its subfolders) make this a conditional model; "
                      "--conditional false trains without them (self-conditioning then applies from "
                      f"{cfg.task.self_cond_min_images:,} images)", {"labels": "dataset", "classes": ds.num_classes}))
    leaky = [name for name in cfg.engine.augment if name in LEAKS_INTO_G]
    if leaky:
        notes.append((f"warning: --augment {','.join(leaky)} transforms only the real images, so G learns to draw "
                      "them transformed; for augmentation without that leak use --d-augment (applied to everything D "
                      "sees) or --recipe ada", {"leaky_augment": leaky}))
    return notes


def _size_to_budget(cfg: TrainConfig, ds: ImageDataset, dist: Distributed = SINGLE):
    """The widest candidate network that gets enough steps in ``--minutes`` on this machine (sizing.py)."""
    from . import sizing

    if cfg.progress:
        print("timing a few training steps of each candidate size for the budget ...", file=sys.stderr, flush=True)
    seconds = cfg.minutes * 60
    classes = ds.num_classes if cfg.conditional else 0
    measured = sizing.measure(cfg.resolved(), ds.shape, ds.channels, classes, seconds=seconds, trainer=Trainer)
    return sizing.Sizing(sizing.choose_size(seconds, measured), seconds, measured)


def shape_options(family, ds: ImageDataset) -> dict:
    """The dataset's shape as the family's config takes it (``Modality.family_options``): the aspect
    ratio, for families that draw non-square images (their config has an ``aspect``), the sample rate
    for sound families, pitches and bars for roll families; the others take the resolution alone."""
    fields = {f.name for f in dataclasses.fields(family.config)}
    return MODALITIES[ds.modality].family_options(ds, fields)


def _check_shape(arch: str, ds: ImageDataset) -> None:
    """The architecture trains images of the dataset's size and aspect; else a one-line error with the fix."""
    family = get_architecture(arch)
    if family.trains_on != ds.modality:
        makes, holds = MODALITIES[family.trains_on], MODALITIES[ds.modality]
        fits = " or ".join(f"--arch {n}" for n, f in ARCHITECTURES.items() if f.trains_on == ds.modality)
        raise UsageError(f"--arch {arch} makes {makes.noun}; dataset {ds.display_name} holds {holds.noun}",
                         f"use {fits}, or prepare {makes.noun} with {makes.prepare}")
    options = shape_options(family, ds)
    if MODALITIES[ds.modality].non_square(ds) and not options:
        others = [name for name, f in ARCHITECTURES.items() if shape_options(f, ds)]
        raise UsageError(f"--arch {arch} trains square images; dataset {ds.display_name} is {shape_text(ds.shape)}",
                         f"use --arch {' or '.join(others)}, or prepare it with --aspect 1:1")
    make_config(arch, resolution=ds.resolution, channels=ds.channels, **options)


def _saved_shape(saved: dict) -> tuple[int, int]:
    """(height, width) of the images a run was trained on, as its options record them."""
    dataset = saved["dataset"]
    if "height" in dataset and "width" in dataset:
        return dataset["height"], dataset["width"]
    # runs from before non-square datasets, and options rebuilt from a checkpoint: the model's shape
    aspect = (saved.get("model") or {}).get("aspect") or SQUARE
    return aspect_shape(dataset["resolution"], tuple(aspect))


def _remove_empty_run(run_dir: Path) -> None:
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()


def _changed_options(saved_train: dict, options: dict) -> list[str]:
    """Options given on resume that differ from the run's own (those equal to it are accepted)."""
    fixed = [k for k in options if k not in RESUME_OVERRIDES and k != "dataset"]
    if not fixed:
        return []
    base = {**saved_train, "dataset": saved_train.get("dataset") or "-"}
    before = from_dict(TrainConfig, base)
    after = from_dict(TrainConfig, {**base, **{k: options[k] for k in fixed}})
    return [k for k in fixed if getattr(before, k, None) != getattr(after, k, None)]


def _resume(resume: str | Path, dataset, options: dict, dist: Distributed = SINGLE) -> Trainer:
    """The Trainer of a stopped run, at its latest checkpoint, with the options a resume may change."""
    run_dir = resolve_run(resume, options_optional=True)
    saved, note = read_run_options(run_dir)  # rebuilt from the latest checkpoint when options.json is damaged
    if note and dist.is_writer:
        print(f"note: {note}", file=sys.stderr, flush=True)
    try:
        latest = ckpt.resolve_checkpoint(run_dir, "latest")
    except NoCheckpointYet:
        raise no_checkpoint_error(run_dir) from None
    changed = _changed_options(saved["train"], options)
    if changed:
        flag = "--" + changed[0].replace("_", "-")
        raise UsageError(f"{flag} {options[changed[0]]} differs from the run's {saved['train'].get(changed[0])!r} "
                         "and cannot change when resuming (the run's options.json fixes it)",
                         f"leave it out, or start a new run; changeable: {', '.join(RESUME_OVERRIDES)}")
    # The dataset may have moved since: an explicit path wins over the recorded absolute one.
    ds_path = Path(dataset) if dataset is not None else Path(saved["dataset"]["path"])
    cfg = from_dict(TrainConfig, {**saved["train"], **options, "dataset": str(ds_path)})
    cfg = dataclasses.replace(cfg, device=device_for(dist, cfg.device))
    if not ds_path.exists():
        raise RunError(f"the run's dataset {ds_path} is gone",
                       f"pass it again: artforge train DATASET --resume {run_dir}")
    ds = open_dataset(ds_path)
    trained = _saved_shape(saved)
    if (ds.shape, ds.channels) != (trained, saved["dataset"]["channels"]):
        raise RunError(f"dataset {ds_path} is {shape_text(ds.shape)} px with {ds.channels} channels, the run was "
                       f"trained on {shape_text(trained)} px with {saved['dataset']['channels']}",
                       "pass the run's original dataset")
    per_process_batch(cfg.batch, dist.world)
    return Trainer(cfg, run_dir, ds, resume_from=latest, dist=dist)
