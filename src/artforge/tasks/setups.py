"""The image-to-image tasks' set-ups: each checks its data, sizes its family's networks and makes its task.

A set-up takes the run's resolved options (``TrainSections``: it reads the task's own) and its (first)
dataset and returns (family, model config, task); ``check_only`` runs every check without loading anything heavy, so ``train`` can refuse a bad
run before it makes a folder. Errors name the option or command that fixes them.
"""

from __future__ import annotations

from pathlib import Path

from ..options.train import TrainSections
from ..data.archive import ImageDataset, open_dataset
from ..errors import UsageError
from ..models.registry import get_family


def refuse_pairs(dataset: ImageDataset, task: str = "generation") -> None:
    """Tasks that train on single images refuse a paired dataset with a one-line error saying what to do."""
    if dataset.pairs:
        raise UsageError(f"dataset {dataset.display_name} holds pairs ({dataset.pairs['input']} -> "
                         f"{dataset.pairs['target']}); {task} trains on single images",
                         "train it with --task pix2pix, or prepare the images without 'pairs'")


def _square(dataset: ImageDataset, task: str, side: int | None = None) -> int:
    side = side or dataset.width
    if dataset.height != side:
        raise UsageError(f"--task {task} trains square images; dataset {dataset.display_name} holds "
                         f"{side}x{dataset.height} ones", "prepare it with --aspect 1:1")
    return side


def paired_setup(cfg: TrainSections, dataset: ImageDataset, check_only: bool = False):
    """The pix2pix family, its config for the dataset's pairs, and the paired task."""
    from .paired import Pix2PixTask

    if not dataset.pairs:
        raise UsageError(f"dataset {dataset.display_name} holds single images; --task pix2pix trains on pairs",
                         "prepare one with 'artforge prepare pairs SRC' (or 'artforge prepare openmoji-pairs')")
    side = _square(dataset, "pix2pix", dataset.width // 2)
    family = get_family("pix2pix")
    model_cfg = family.make_config(resolution=side, channels_in=dataset.channels, channels_out=dataset.channels,
                                   dropout=cfg.task.dropout, width=cfg.task.width)
    return family, model_cfg, Pix2PixTask(cfg, dataset)


def cycle_setup(cfg: TrainSections, dataset_a: ImageDataset, check_only: bool = False):
    """The cyclegan family for the two domains (--a is ``dataset_a``, --b opened here) and its task."""
    from .unpaired import CycleGANTask

    if not Path(cfg.task.b).exists():
        raise UsageError(f"--b {cfg.task.b} does not exist", "pass a dataset made by 'artforge prepare', e.g. "
                         "'artforge prepare openmoji-colour'")
    dataset_b = open_dataset(cfg.task.b)
    for ds in (dataset_a, dataset_b):
        refuse_pairs(ds, "cyclegan")
        _square(ds, "cyclegan")
    if dataset_a.width != dataset_b.width:
        raise UsageError(f"domain A ({dataset_a.display_name}) holds {dataset_a.width} px images and domain B "
                         f"({dataset_b.display_name}) {dataset_b.width} px ones",
                         "prepare both at the same --size")
    family = get_family("cyclegan")
    model_cfg = family.make_config(resolution=dataset_a.width, channels_a=dataset_a.channels,
                                   channels_b=dataset_b.channels, width=cfg.task.width, blocks=cfg.task.blocks)
    return family, model_cfg, CycleGANTask(cfg, dataset_a, dataset_b)


def sr_setup(cfg: TrainSections, dataset: ImageDataset, check_only: bool = False):
    """The esrgan family at --scale, its task, and the fidelity run's weights to start from (--init)."""
    from .sr import SRTask

    refuse_pairs(dataset, "sr")
    if cfg.task.crop > min(dataset.height, dataset.width):
        raise UsageError(f"--crop {cfg.task.crop} is larger than dataset {dataset.display_name}'s "
                         f"{dataset.width}x{dataset.height} images",
                         f"pass --crop {min(dataset.height, dataset.width) // cfg.task.scale * cfg.task.scale} or less, or "
                         "prepare the art at a larger --size")
    family = get_family("esrgan")
    model_cfg = family.make_config(scale=cfg.task.scale, channels=dataset.channels,
                                   width=cfg.task.width, blocks=cfg.task.blocks)
    init = _init_weights(cfg.task.init, family.name, model_cfg, check_only) if cfg.task.init else None
    perceptual = None
    if cfg.task.vgg_weights and cfg.task.gan_weight > 0:
        from ..models.vgg import HOW_TO_GET, PerceptualLoss
        if not Path(cfg.task.vgg_weights).is_file():
            raise UsageError(f"--vgg-weights {cfg.task.vgg_weights} does not exist", HOW_TO_GET)
        perceptual = None if check_only else PerceptualLoss.from_file(cfg.task.vgg_weights)
    return family, model_cfg, SRTask(cfg, dataset, init, perceptual)


def _init_weights(run: str, family: str, model_cfg, check_only: bool):
    """G's weights from another translation run of the same family and sizes (its best checkpoint's EMA
    copy), read through the run layer: a set-up does not import inference (translating.py) above it."""
    from ..runs.checkpoint import STATE_FILE, resolve_checkpoint
    from ..runs.rundir import resolve_run
    from ..runs.sampler import build_sampler, load_sampler_weights
    from .specs import task_spec

    path = Path(run)
    run_dir = resolve_run(path, announce=lambda *a, **k: None)
    ckpt_path = path if (path / STATE_FILE).exists() else resolve_checkpoint(run_dir, "best")
    state, weights, _ = load_sampler_weights(ckpt_path)
    spec = task_spec(state.get("task"))
    if not spec.translates:  # as loading it for `artforge translate` would say
        raise UsageError(f"{run_dir} is a {spec.name} run: it {spec.makes}",
                         f"sample it with 'artforge {spec.offers} {run_dir}'")
    loaded, loaded_cfg, G = build_sampler(ckpt_path, state, weights)
    if loaded.name != family or loaded_cfg != model_cfg:
        raise UsageError(f"--init {run} is a {loaded.name} model of other sizes ({loaded_cfg}); this run "
                         f"builds {model_cfg}", "pass a run trained with the same --scale, --width and --blocks")
    return None if check_only else {k: v.cpu() for k, v in G.state_dict().items()}


TRANSLATION_SETUPS = {"pix2pix": paired_setup, "cyclegan": cycle_setup, "sr": sr_setup}
