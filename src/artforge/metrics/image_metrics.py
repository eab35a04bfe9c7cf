"""The image metrics ``artforge evaluate`` offers: each a record of what it needs from a pass over the
images (``collect.py``), the result key that ranks checkpoints, and how it is computed.

The metric functions themselves are pure and live beside this module (fid.py, kid.py, prdc.py, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import UsageError
from ..ops.swd import swd_from_descriptors
from .collect import Collected, EvaluateOptions
from .results import plain


@dataclass(frozen=True)
class Metric:
    name: str
    needs: frozenset  # features, logits, pixels, swd, labels
    primary: str  # the result key that ranks checkpoints
    better: str  # "lower" or "higher"
    compute: Callable[["Collected", "Collected", "EvalContext"], dict]


@dataclass
class EvalContext:
    cfg: EvaluateOptions
    real_source: object = None
    fake_source: object = None
    label_names: list = field(default_factory=list)
    label_distribution: np.ndarray | None = None
    classifier: Callable | None = None
    fake_is_generator: bool = False
    extras: dict = field(default_factory=dict)  # side products (the nearest-neighbour grid)


def _fid(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    """FID, and its split into the means' and the covariances' terms with each set's total variance."""
    from .fid import fid_terms
    terms = fid_terms(real.features, fake.features)
    return {"fid": terms.pop("fid"), "fid_terms": terms}


def _kid(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    from .kid import kid
    out = kid(real.features, fake.features, subsets=ctx.cfg.kid_subsets, subset_size=ctx.cfg.kid_subset_size,
              seed=ctx.cfg.seed)
    return {"kid": out["kid"], "kid_std": out["kid_std"], "kid_ci95": list(out["kid_ci95"]),
            "kid_subsets": out["subsets"], "kid_subset_size": out["subset_size"]}


def _inception_score(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    from .inception_score import inception_score
    out = inception_score(fake.logits, splits=min(10, len(fake.logits)))
    return {"is": out["is"], "is_std": out["is_std"]}


def _precision_recall(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    from .prdc import precision_recall
    return precision_recall(real.features, fake.features, k=3)


def _density_coverage(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    from .prdc import density_coverage
    return density_coverage(real.features, fake.features, k=5)


def _swd(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    return swd_from_descriptors(real.swd, fake.swd, seed=ctx.cfg.seed)


def _novelty(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    """Flat shares for the log; per space the distance summary and the closest pairs."""
    from .novelty import novelty
    out = novelty(fake.features, real.features, fake.pixels, real.pixels, seed=ctx.cfg.seed)
    ctx.extras["novelty"] = out
    detail = {space: {k: v for k, v in report.items() if k not in ("distances", "indices")}
              for space in ("feature", "pixel") if (report := out[space]) is not None}
    flat = {f"near_copy_share_{space}": report["near_copy_share"] for space, report in detail.items()}
    return {"near_copy_share": detail["feature"]["near_copy_share"], **flat,
            "novelty": {**plain(detail), "near_copy_quantile": out["near_copy_quantile"]}}


def _classes(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    from .classes import class_statistics
    if ctx.label_distribution is None:
        raise UsageError("the classes metric needs a labeled reference dataset",
                         "prepare the dataset with folder labels, or drop the classes metric")
    out = plain(class_statistics(fake.labels, ctx.label_distribution))
    result = {"class_coverage": out["coverage"], "class_kl": out["kl"],
              "classes": {**out, "label_names": ctx.label_names}}
    if fake.requested is not None and ctx.fake_is_generator:  # a conditional model: did it draw what was asked?
        result["class_accuracy"] = float((np.asarray(fake.labels) == fake.requested).mean())
    return result


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("fid", frozenset({"features"}), "fid", "lower", _fid),
    Metric("kid", frozenset({"features"}), "kid", "lower", _kid),
    Metric("is", frozenset({"logits"}), "is", "higher", _inception_score),
    Metric("pr", frozenset({"features"}), "precision", "higher", _precision_recall),
    Metric("dc", frozenset({"features"}), "coverage", "higher", _density_coverage),
    Metric("swd", frozenset({"swd"}), "swd", "lower", _swd),
    Metric("novelty", frozenset({"features", "pixels"}), "near_copy_share", "lower", _novelty),
    Metric("classes", frozenset({"labels"}), "class_kl", "lower", _classes),
)}
