"""The real side of an evaluation: the images a run is compared with (its own training dataset by default,
or the one given, or a folder) and, for an encoder fitted to part of a dataset, the part it never saw."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UsageError
from .collect import EvaluateOptions


def trained_on(run_dir: Path) -> str:
    """The dataset a run (its options.json) or an exported model (its model.json) was trained on."""
    from ..sampling import MODEL_JSON, is_export
    from ..runs.rundir import RunLayout
    from ..utils.files import read_json

    if not is_export(run_dir):
        return read_json(RunLayout(run_dir).options)["dataset"]["path"]
    dataset = read_json(run_dir / MODEL_JSON).get("dataset")
    recorded = dataset.get("path") if isinstance(dataset, dict) else None
    if isinstance(recorded, str) and recorded and Path(recorded).exists():
        return recorded
    what = f"was trained on {recorded}, which is not there" if recorded else "does not record its training dataset"
    raise UsageError(f"the exported model {run_dir} {what}, and no reference images were given",
                     "give the reference images with the real option: a prepared dataset or a folder of images")


def reference_source(cfg: EvaluateOptions, run_dir, shape: tuple[int, int] | None):
    """The real images: a prepared dataset (the run's or the exported model's by default) or a folder; and
    the dataset if any."""
    from ..data.archive import MANIFEST_NAME, open_dataset
    from .sources import DatasetSource, FolderSource

    path = cfg.real
    if path is None:
        path = trained_on(run_dir)
    p = Path(path)
    is_dataset = p.is_file() or (p.is_dir() and ((p / MANIFEST_NAME).exists() or (p / "dataset.json").exists()))
    if is_dataset:
        dataset = open_dataset(p)
        return DatasetSource(dataset, cfg.split, cfg.max_real), dataset
    return FolderSource(p, shape, cfg.max_real), None  # fitted to the run's images, non-square too


def label_distribution(dataset) -> np.ndarray | None:
    if dataset is None or dataset.labels is None:
        return None
    return np.bincount(dataset.labels, minlength=dataset.num_classes).astype(np.float64)


def held_out_reference(real_source, extractor, cfg: EvaluateOptions, announce):
    """The reference images an extractor may judge: an encoder fitted to part of the dataset is scored only
    against the part it never saw (every metric then uses that part, so they share one reference)."""
    if extractor is None or extractor.held_out is None or not hasattr(real_source, "restricted"):
        return real_source
    restricted = real_source.restricted(extractor.held_out, f"{extractor.name}'s held-out part", cfg.max_real)
    if cfg.progress:  # the command says it; evaluation during training logs it in each result
        announce(f"reference: the {len(restricted):,} of {len(real_source.dataset.indices(cfg.split)):,} "
                 f"{cfg.split}-split images the {extractor.name} never saw")
    return restricted
