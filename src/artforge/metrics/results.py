"""What an evaluation's result records and how it is named: its settings, its protocol (what its FID and
KID are comparable by), JSON-ready values, and where it is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..options.catalog import EXTRACTORS
from .collect import EvaluateOptions, PIXEL_SIZE, SWD_PATCHES


def plain(value):
    """JSON-ready: numpy scalars and arrays become floats and lists."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def result_path(cfg: EvaluateOptions, model) -> Path | None:
    """Where a result is written: the out option, else RUN/eval/<checkpoint>.json for a run, else nowhere."""
    if cfg.out:
        return Path(cfg.out)
    if model is not None:
        from ..runs.rundir import RunLayout

        return RunLayout(model.run_dir).eval_result(model.checkpoint.name)
    return None


REPORTED_SETTINGS = ("n", "seed", "batch", "truncation", "split", "kid_subsets", "kid_subset_size", "filter",
                     "filter_drop")


def settings(cfg: EvaluateOptions) -> dict:
    """The options a result depends on, as the report records them."""
    chosen = plain({k: v for k, v in dataclasses.asdict(cfg).items()  # as the JSON file has it
                     if k in REPORTED_SETTINGS})
    return {**chosen, "swd_patches_per_image": SWD_PATCHES, "pixel_size": PIXEL_SIZE}


def protocol(cfg: EvaluateOptions) -> dict:
    """What a result is comparable by: the same model scores a different FID or KID with another split of
    the reference images, another number of generated images, another feature network or sampler.

    Training's --eval-every (train split, --eval-n 5,000) and ``artforge evaluate RUN`` (all, 10,000)
    differ by default, so every result carries this, and its numbers are shown with ``protocol_label``.
    """
    extractor = cfg.extractor if cfg.extractor in EXTRACTORS else Path(cfg.extractor).name
    return {"split": cfg.split or "all", "generated": cfg.n, "extractor": extractor, "truncation": cfg.truncation,
            "filter": list(cfg.filter), "filter_drop": cfg.filter_drop if cfg.filter else None}


def measured_protocol(cfg: EvaluateOptions, real: dict, fake: dict, extractor) -> dict:
    """``protocol(cfg)`` as it ran: a folder has no split and may hold fewer images; SWD alone uses no network."""
    measured = {**protocol(cfg), "split": real.get("split") if real.get("kind") == "dataset" else None,
                "generated": fake["images"], **({} if extractor else {"extractor": None})}
    if real.get("part"):  # the encoder's held-out part: a reference of its own, not comparable with the whole split
        measured["part"] = real["part"]
    return measured


def report_protocol(report: dict) -> dict | None:
    """A result's protocol; rebuilt from its settings for results written before results carried one."""
    if report.get("protocol"):
        return report["protocol"]
    settings, real = report.get("settings") or {}, report.get("real") or {}
    if "n" not in settings:
        return None
    return {"split": real.get("split") if real.get("kind", "dataset") == "dataset" else None,
            "generated": (report.get("fake") or {}).get("images", settings["n"]),
            "extractor": (report.get("extractor") or {}).get("name"), "truncation": settings.get("truncation", 1.0),
            "filter": _filter_names(settings.get("filter")), "filter_drop": settings.get("filter_drop")}


def _filter_names(value) -> list[str]:
    """Settings' filter: a list now, a name ('none': no filter) in results written before."""
    names = [value] if isinstance(value, str) else list(value or [])
    return [name for name in names if name != "none"]


def protocol_label(p: dict | None) -> str:
    """'train split, 5,000 images, inception' (plus truncation and filter when used): shown beside FID and KID."""
    if not p:
        return "protocol unknown"
    split = {None: "reference folder", "all": "all splits"}.get(p.get("split"), f"{p.get('split')} split")
    if p.get("part"):
        split += f" ({p['part']})"
    parts = [split, f"{p['generated']:,} images", str(p.get("extractor") or "no features")]
    if p.get("truncation", 1.0) != 1.0:
        parts.append(f"truncation {p['truncation']:g}")
    parts += [f"{name} filter F={p.get('filter_drop'):g}" for name in p.get("filter") or []]
    return ", ".join(parts)


PROTOCOL_KEYS = ("fid", "kid")  # the numbers compared across runs and papers: always named with their protocol


def metric_name(key: str, report: dict) -> str:
    """'FID (train split, 5,000 images, inception)' for FID and KID; other result keys as they are."""
    if key not in PROTOCOL_KEYS:
        return key
    return f"{key.upper()} ({protocol_label(report_protocol(report))})"
