"""``artforge evaluate``: score generated images against real ones with the chosen metrics.

One streaming pass over each image source collects what the metrics need (network features,
Inception logits, SWD patch descriptors, small pixel copies for the pixel-space novelty check);
the reference side is cached by content hash. The metric functions themselves are pure and live
beside this module (fid.py, kid.py, prdc.py, ...). Every result records its settings: extractor,
resize filter, sample counts, seeds.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from .._version import __version__
from ..catalog import EXTRACTORS
from ..draws import filter_draws
from ..errors import UsageError
from ..modality import MODALITIES
from ..ops.swd import PatchDescriptors, swd_from_descriptors
from .music_eval import music_report_html, music_summary_lines
from .sound import sound_report_html, sound_summary_lines

PIXEL_SIZE = 32  # novelty in pixel space compares images shrunk to 32x32
SWD_PATCHES = 64  # per image and level: 10k images give 640k descriptors, plenty for SWD
CACHE_VERSION = 1

# The command's options: an ``artforge.options.EvaluateConfig``, read by field name; this layer does not
# import config (the training loop and the CLI build the options and pass them in).
EvaluateOptions = Any


@dataclass
class Collected:
    """What one pass over a source produced."""

    count: int = 0
    features: np.ndarray | None = None
    logits: np.ndarray | None = None
    pixels: np.ndarray | None = None  # uint8 (N, C*32*32)
    labels: np.ndarray | None = None  # predicted classes (or the dataset's labels)
    requested: np.ndarray | None = None  # classes a conditional generator was asked for
    swd: PatchDescriptors | None = None
    seconds: float = 0.0


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


# ----------------------------------------------------------------------------- collecting

def _pixels(images: torch.Tensor) -> np.ndarray:
    small = F.interpolate(images.float(), size=(PIXEL_SIZE, PIXEL_SIZE), mode="area")
    return small.round().clamp(0, 255).to(torch.uint8).flatten(1).numpy()


def collect(source, needs: set, extractor=None, batch: int = 64, seed: int = 0, classifier=None,
            progress: bool = True, desc: str = "") -> Collected:
    """One pass over ``source``, gathering only what ``needs`` asks for."""
    from tqdm import tqdm

    started = time.time()
    parts: dict[str, list] = {k: [] for k in ("features", "logits", "pixels", "labels", "requested")}
    descriptors = PatchDescriptors(SWD_PATCHES, seed) if "swd" in needs else None
    with tqdm(total=len(source), desc=desc, unit="img", disable=not progress, mininterval=1.0, leave=False) as bar:
        for images, labels in source.batches(batch):
            if needs & {"features", "logits"}:
                out = extractor(images)
                parts["features"].append(out["features"].numpy())
                if "logits" in out:
                    parts["logits"].append(out["logits"].numpy())
            if "pixels" in needs:
                parts["pixels"].append(_pixels(images))
            if "labels" in needs:
                predicted = classifier(images) if classifier is not None else labels
                if predicted is not None:
                    parts["labels"].append(np.asarray(predicted))
                if labels is not None:
                    parts["requested"].append(np.asarray(labels))
            if descriptors is not None:
                descriptors.add(images)
            bar.update(len(images))
    joined = {k: np.concatenate(v) if v else None for k, v in parts.items()}
    return Collected(len(source), joined["features"], joined["logits"], joined["pixels"], joined["labels"],
                     joined["requested"], descriptors, time.time() - started)


def _cache_arrays(c: Collected) -> dict[str, np.ndarray]:
    arrays = {k: v for k, v in (("features", c.features), ("logits", c.logits), ("pixels", c.pixels),
                                ("labels", c.labels)) if v is not None}
    if c.swd is not None:
        for size, desc in c.swd.arrays().items():
            arrays[f"swd{size}"] = desc.numpy()
        arrays["swd_channels"] = np.array(c.swd.channels)
    arrays["count"] = np.array(c.count)
    return arrays


def _from_cache(arrays: dict[str, np.ndarray], seed: int) -> Collected:
    c = Collected(int(arrays["count"]), arrays.get("features"), arrays.get("logits"), arrays.get("pixels"),
                  arrays.get("labels"))
    sizes = [k for k in arrays if k.startswith("swd") and k[3:].isdigit()]
    if sizes:
        c.swd = PatchDescriptors(SWD_PATCHES, seed)
        c.swd.channels = int(arrays["swd_channels"])
        c.swd.levels = {int(k[3:]): [torch.from_numpy(arrays[k])] for k in sizes}
    return c


def collect_reference(source, needs: set, extractor, cfg: EvaluateOptions, classifier=None) -> tuple[Collected, bool]:
    """The reference side, from the cache when this exact computation was done before."""
    from .cache import cache_key, load_arrays, save_arrays

    key = None
    if cfg.cache and source.fingerprint is not None:
        key = cache_key(version=CACHE_VERSION, source=source.fingerprint, needs=sorted(needs),
                        extractor=extractor.identity if extractor else None, seed=cfg.seed, batch=cfg.batch,
                        swd_patches=SWD_PATCHES, pixel_size=PIXEL_SIZE)
        arrays = load_arrays(key)
        if arrays is not None:
            return _from_cache(arrays, cfg.seed), True
    collected = collect(source, needs, extractor, cfg.batch, cfg.seed, classifier, cfg.progress, "reference images")
    if key is not None:
        save_arrays(key, _cache_arrays(collected))
    return collected, False


# ----------------------------------------------------------------------------- the metrics

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
            "novelty": {**_plain(detail), "near_copy_quantile": out["near_copy_quantile"]}}


def _classes(real: Collected, fake: Collected, ctx: EvalContext) -> dict:
    from .classes import class_statistics
    if ctx.label_distribution is None:
        raise UsageError("the classes metric needs a labeled reference dataset",
                         "prepare the dataset with folder labels, or drop the classes metric")
    out = _plain(class_statistics(fake.labels, ctx.label_distribution))
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


def _plain(value):
    """JSON-ready: numpy scalars and arrays become floats and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ----------------------------------------------------------------------------- the command

def _trained_on(run_dir: Path) -> str:
    """The dataset a run (its options.json) or an exported model (its model.json) was trained on."""
    from ..sampling import MODEL_JSON, is_export
    from ..training.rundir import RunLayout
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


def _reference_source(cfg: EvaluateOptions, run_dir, shape: tuple[int, int] | None):
    """The real images: a prepared dataset (the run's or the exported model's by default) or a folder; and
    the dataset if any."""
    from ..data.archive import MANIFEST_NAME, open_dataset
    from .sources import DatasetSource, FolderSource

    path = cfg.real
    if path is None:
        path = _trained_on(run_dir)
    p = Path(path)
    is_dataset = p.is_file() or (p.is_dir() and ((p / MANIFEST_NAME).exists() or (p / "dataset.json").exists()))
    if is_dataset:
        dataset = open_dataset(p)
        return DatasetSource(dataset, cfg.split, cfg.max_real), dataset
    return FolderSource(p, shape, cfg.max_real), None  # fitted to the run's images, non-square too


def _label_distribution(dataset) -> np.ndarray | None:
    if dataset is None or dataset.labels is None:
        return None
    return np.bincount(dataset.labels, minlength=dataset.num_classes).astype(np.float64)


def _default_out(cfg: EvaluateOptions, model) -> Path | None:
    if cfg.out:
        return Path(cfg.out)
    if model is not None:
        from ..training.rundir import RunLayout

        return RunLayout(model.run_dir).eval_result(model.checkpoint.name)
    return None


def _nearest_grid(ctx: EvalContext, path: Path) -> Path | None:
    """Side by side: the generated images closest to a training image, and that image."""
    from .novelty import closest_pairs_grid

    report = ctx.extras.get("novelty", {}).get("feature")
    if report is None:
        return None
    pairs = report["closest_pairs"][:16]
    fakes = ctx.fake_source.images([f for f, _, _ in pairs]).permute(0, 2, 3, 1).numpy()
    reals = ctx.real_source.images([t for _, t, _ in pairs]).permute(0, 2, 3, 1).numpy()
    grid_pairs = [(i, i, d) for i, (_, _, d) in enumerate(pairs)]
    closest_pairs_grid(fakes, reals, grid_pairs).save(path)
    return path


def _generator_source(model, cfg: EvaluateOptions, announce):
    """The run's images to score: seeds seed .. seed + n - 1, or the n a sample filter keeps."""
    from ..sampling import jacobian_keep
    from .sources import GeneratorSource

    if not cfg.filter:
        return GeneratorSource(model, cfg.n, cfg.seed, cfg.truncation)
    from tqdm import tqdm

    draws = list(range(cfg.seed, cfg.seed + filter_draws(cfg.n, cfg.filter_drop)))
    announce(f"--filter jacobian: scoring {len(draws)} seeds to keep the {cfg.n} where G's Jacobian is smallest")
    with tqdm(total=len(draws), desc="Jacobian norms", unit="img", disable=not cfg.progress, mininterval=1.0,
              leave=False) as bar:
        kept, dropped = jacobian_keep(model, draws, cfg.n, cfg.truncation, progress=bar.update)
    sampler = {"filter": cfg.filter[0], "filter_drop": cfg.filter_drop, "draws": len(draws), "dropped_seeds": dropped}
    return GeneratorSource(model, truncation=cfg.truncation, seeds=kept, sampler=sampler)


REPORTED_SETTINGS = ("n", "seed", "batch", "truncation", "split", "kid_subsets", "kid_subset_size", "filter",
                     "filter_drop")


def _settings(cfg: EvaluateOptions) -> dict:
    """The options a result depends on, as the report records them."""
    chosen = _plain({k: v for k, v in dataclasses.asdict(cfg).items()  # as the JSON file has it
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


def _measured_protocol(cfg: EvaluateOptions, real: dict, fake: dict, extractor) -> dict:
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


def _held_out_reference(real_source, extractor, cfg: EvaluateOptions, announce):
    """The reference images an extractor may judge: an encoder fitted to part of the dataset is scored only
    against the part it never saw (every metric then uses that part, so they share one reference)."""
    if extractor is None or extractor.held_out is None or not hasattr(real_source, "restricted"):
        return real_source
    restricted = real_source.restricted(extractor.held_out, f"{extractor.name}'s held-out part", cfg.max_real)
    if cfg.progress:  # the command says it; evaluation during training logs it in each result
        announce(f"reference: the {len(restricted):,} of {len(real_source.dataset.indices(cfg.split)):,} "
                 f"{cfg.split}-split images the {extractor.name} never saw")
    return restricted


def _classifier(cfg: EvaluateOptions, dataset, device):
    """The class-metric classifier for a labeled dataset, and what the report says of it."""
    from .classifier import classifier_for

    if dataset is None:
        raise UsageError("the classes metric needs the reference images to be a labeled prepared dataset",
                         "compare with a dataset made by 'artforge prepare' with labels, or drop the classes metric")
    return classifier_for(dataset, device, cfg.classifier, cfg.progress)


def run_task(run) -> str:
    """What a run (or a checkpoint of one) learnt, from its newest checkpoint: generation, pix2pix, ..."""
    from ..sampling import is_export
    from ..training import checkpoint as ckpt
    from ..training.rundir import resolve_run

    path = Path(run)
    if is_export(path):
        return "generation"
    state = path / ckpt.STATE_FILE
    if not state.exists():
        try:
            state = ckpt.resolve_checkpoint(resolve_run(path, announce=lambda *a: None), "latest") / ckpt.STATE_FILE
        except Exception:  # no checkpoint yet, or not a run: the generation path says what is wrong
            return "generation"
    from ..utils.files import read_json
    return read_json(state).get("task", "generation")


def evaluate(cfg: EvaluateOptions, announce=print, model=None) -> dict:
    """Score a run's generator (or a folder of images) against real images; see the module docstring.

    ``model`` may be a loaded run (``artforge.load``) to score instead of loading ``cfg.run``: the
    training loop passes its live EMA generator this way.
    """
    from ..sampling import load
    from ..tasks.specs import TASKS
    from ..utils.device import pick_device
    from .extractors import make_extractor
    from .sources import FolderSource

    if model is None and cfg.run is not None and TASKS[run_task(cfg.run)].translates:
        from .translation import evaluate_translation
        return evaluate_translation(cfg, announce)
    cfg = dataclasses.replace(cfg, split=cfg.split or "all")
    started = time.time()
    device = pick_device(cfg.device)
    if model is None and cfg.run is not None:
        model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
        own = run_report(model.arch)
        if own is not None:  # sounds and music: scored their own way
            return own.evaluate(cfg, model, announce)
    shape = model.image_shape[1:] if model is not None else None  # (height, width)
    real_source, dataset = _reference_source(cfg, model.run_dir if model is not None else None, shape)
    if model is not None:
        fake_source = _generator_source(model, cfg, announce)
    else:
        fake_source = FolderSource(cfg.fake, real_source.shape, cfg.n)
    metrics = [METRICS[name] for name in cfg.metrics]
    needs = set().union(*(m.needs for m in metrics))
    extractor = None
    if needs & {"features", "logits"}:
        extractor = make_extractor(cfg.extractor, device=device, dataset=dataset, weights=cfg.inception_weights,
                                   progress=cfg.progress)
    real_source = _held_out_reference(real_source, extractor, cfg, announce)
    classifier, classifier_info = _classifier(cfg, dataset, device) if "labels" in needs else (None, None)
    real, cached = collect_reference(real_source, needs - {"logits", "labels"}, extractor, cfg)
    fake = collect(fake_source, needs, extractor, cfg.batch, cfg.seed, classifier, cfg.progress, "generated images")
    ctx = EvalContext(cfg, real_source, fake_source, dataset.label_names if dataset is not None else [],
                      _label_distribution(dataset), classifier, fake_is_generator=model is not None)
    results, seconds = {}, {"reference": round(real.seconds, 2), "generated": round(fake.seconds, 2)}
    for metric in metrics:
        t = time.time()
        results.update(_plain(metric.compute(real, fake, ctx)))
        seconds[metric.name] = round(time.time() - t, 2)
    out = _default_out(cfg, model)
    fake_info, real_info = fake_source.describe(), real_source.describe()
    report = {
        "artforge_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": list(cfg.metrics),
        "results": results,
        "fake": fake_info,
        "real": {**real_info, "cached": cached},
        "extractor": {"name": extractor.name, "identity": extractor.identity, **extractor.info} if extractor else None,
        "classifier": classifier_info,
        "settings": _settings(cfg),
        "protocol": _measured_protocol(cfg, real_info, fake_info, extractor),
        "seconds": {**seconds, "total": round(time.time() - started, 2)},
    }
    if out is not None:
        from ..utils.files import atomic_write_json
        out.parent.mkdir(parents=True, exist_ok=True)
        grid = _nearest_grid(ctx, out.with_name(out.stem + "-nearest.png")) if "novelty" in cfg.metrics else None
        report["nearest_grid"] = str(grid) if grid else None
        atomic_write_json(out, report)
        report["path"] = str(out)
    return report


SOUND_MAX_N = 1000  # sounds scored at most: a SpecGAN's Griffin-Lim takes ~0.05 s a sound on a CPU


def _evaluate_sound_run(cfg: EvaluateOptions, model, announce) -> dict:
    """A sound run's scores (metrics/sound.py): classifier IS, Fréchet distance, label accuracy, novelty,
    speed, beside the held-out real clips' own."""
    from ..data.archive import open_dataset
    from .sound import evaluate_sounds

    path = cfg.real or _trained_on(model.run_dir)
    dataset = open_dataset(path)
    if dataset.modality != _learned_from(model):
        raise UsageError(f"{path} holds images; {model.run_dir.name} makes sounds",
                         "compare with the sound dataset it was trained on (or leave the real option out)")
    n = min(cfg.n, SOUND_MAX_N)
    if n < cfg.n:
        announce(f"scoring {n:,} sounds (at most {SOUND_MAX_N:,} for a sound model)")
    started = time.time()
    scores = evaluate_sounds(model, dataset, n=n, seed=cfg.seed, progress=cfg.progress)
    results = {**{k: v for k, v in scores["generated"].items() if not isinstance(v, dict)},
               **{f"real_{k}": v for k, v in scores["real_held_out"].items() if not isinstance(v, dict)}}
    return _write_run_report(cfg, model, {"kind": "sound", "results": results, **scores}, started)


def _write_run_report(cfg: EvaluateOptions, model, scores: dict, started: float) -> dict:
    """A sound or music run's report: its scores, what was scored, written to RUN/eval/<checkpoint>.json."""
    from ..utils.files import atomic_write_json

    report = {"artforge_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "run": str(model.run_dir), "checkpoint": str(model.checkpoint), "step": model.step,
              **scores, "seconds": {"total": round(time.time() - started, 2)}}
    out = _default_out(cfg, model)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, report)
    report["path"] = str(out)
    return report


MUSIC_MAX_N = 2000  # pieces scored at most (measuring a piece's key and density is Python, ~1 ms each)


def _evaluate_music_run(cfg: EvaluateOptions, model, announce) -> dict:
    """A music run's MuseGAN metrics beside the training data's, and its mood control (music_eval.py)."""
    from ..data.archive import open_dataset
    from .music_eval import check_dataset, evaluate_music

    path = cfg.real or _trained_on(model.run_dir)
    dataset = open_dataset(path)
    check_dataset(dataset, _learned_from(model), model.run_dir.name)
    n = min(cfg.n, MUSIC_MAX_N)
    if n < cfg.n:
        announce(f"scoring {n:,} pieces (at most {MUSIC_MAX_N:,} for a music model)")
    started = time.time()
    scores = evaluate_music(model, dataset, n=n, seed=cfg.seed, mood_steps=cfg.mood_steps, announce=announce)
    results = {k: v for k, v in scores["metrics"]["model"].items() if isinstance(v, (int, float))}
    return _write_run_report(cfg, model, {"results": results, **scores}, started)


SUMMARY_KEYS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "swd", "near_copy_share",
                "near_copy_share_pixel", "class_coverage", "class_kl", "class_accuracy")


PROTOCOL_KEYS = ("fid", "kid")  # the numbers compared across runs and papers: always named with their protocol


def metric_name(key: str, report: dict) -> str:
    """'FID (train split, 5,000 images, inception)' for FID and KID; other result keys as they are."""
    if key not in PROTOCOL_KEYS:
        return key
    return f"{key.upper()} ({protocol_label(report_protocol(report))})"


def summary_lines(report: dict) -> list[str]:
    """A few readable lines for the terminal."""
    own = RUN_REPORTS.get(report.get("kind"))
    if own is not None:
        return own.lines(report)
    r = report["results"]
    rows = []
    for key in SUMMARY_KEYS:
        if key not in r:
            continue
        value = f"{r[key]:.4g}"
        if key == "kid":
            lo, hi = r["kid_ci95"]
            value += f" (95% CI {lo:.4g} .. {hi:.4g}, {r['kid_subsets']} subsets of {r['kid_subset_size']})"
        if key == "is":
            value += f" +- {r['is_std']:.3g}"
        rows.append((metric_name(key, report), value))
    width = max([22] + [len(name) for name, _ in rows])
    lines = [f"  {name:<{width}} {value}" for name, value in rows]
    fake, real = report["fake"], report["real"]
    ext = report["extractor"]
    sampler = fake.get("sampler")
    kept = f" (kept by the {sampler['filter']} filter of {sampler['draws']} seeds)" if sampler else ""
    lines.append(f"  {fake['images']} generated{kept} vs {real['images']} reference images"
                 + (f"; features: {ext['name']}" + (f", resize {ext['resize']}" if "resize" in ext else "") if ext else "")
                 + f"; {report['seconds']['total']:.0f} s")
    return lines


def report_lines(report: dict) -> list[str]:
    """What the terminal says about an evaluation of generated items: what was scored, its scores, where they are."""
    own = RUN_REPORTS.get(report.get("kind"))
    if own is not None:
        return [f"evaluated {report['checkpoint']} (step {report['step']}, {own.noun}):", *own.lines(report),
                f"  results: {report['path']}"]
    lines = [f"evaluated {report['fake'].get('checkpoint') or report['fake']['path']}:", *summary_lines(report)]
    if report.get("path"):
        lines.append(f"  results: {report['path']}" + (f"; nearest training images: {report['nearest_grid']}"
                                                       if report.get("nearest_grid") else ""))
    return lines


@dataclass(frozen=True)
class RunReport:
    """The evaluation of a run whose items have their own scores (sounds, music): how it is made and read.
    A modality's ``report_kind`` names its record; images, without one, take the metrics above."""
    kind: str  # the report's "kind"
    noun: str  # what the terminal's first line calls the run's items
    evaluate: Callable[..., dict]  # (cfg, model, announce) -> the report, written to the run
    lines: Callable[[dict], list[str]]  # its scores, for the terminal
    html: Callable[[dict], str]  # its scores, for the run's report.html


RUN_REPORTS = {report.kind: report for report in (
    RunReport("sound", "sounds", _evaluate_sound_run, sound_summary_lines, sound_report_html),
    RunReport("music", "music", _evaluate_music_run, music_summary_lines, music_report_html),
)}


def run_report(arch: str) -> RunReport | None:
    """The record of how a run of ``arch`` is evaluated, when its modality has one (else: images)."""
    from ..models.registry import get_architecture
    return RUN_REPORTS.get(MODALITIES[get_architecture(arch).trains_on].report_kind)


def _learned_from(model) -> str:
    """The modality of a loaded run's training data: what a reference dataset must hold."""
    from ..models.registry import get_architecture
    return get_architecture(model.arch).trains_on
