"""``artforge evaluate``: score generated images against real ones with the chosen metrics.

One streaming pass over each image source collects what the metrics need (``collect.py``); the
reference side is cached by content hash. The metrics are records in ``image_metrics.py``, the real
images come from ``reference.py``, and every result records its settings and protocol
(``results.py``: extractor, resize filter, sample counts, seeds). Sound and music runs are scored
their own way (``run_reports.py``).

``events`` receives a "progress" event per batch of each pass (reference images, generated images,
and the seeds a sample filter scores), at most twice a second; a ``cancel`` token stops the
evaluation between batches with ``Cancelled``, before anything is written.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from .._version import __version__
from ..draws import filter_draws
from ..errors import UsageError
from ..utils.events import CancelToken, EventSink, Progress
from .collect import EvaluateOptions, collect, collect_reference
from .image_metrics import METRICS, EvalContext
from .reference import held_out_reference, label_distribution, reference_source
from .results import measured_protocol, metric_name, plain, result_path, settings
from .run_reports import RUN_REPORTS, run_report


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


def _generator_source(model, cfg: EvaluateOptions, announce, events: EventSink | None, cancel: CancelToken | None):
    """The run's images to score: seeds seed .. seed + n - 1, or the n a sample filter keeps."""
    from ..sampling import jacobian_keep
    from .sources import GeneratorSource

    if not cfg.filter:
        return GeneratorSource(model, cfg.n, cfg.seed, cfg.truncation)
    draws = list(range(cfg.seed, cfg.seed + filter_draws(cfg.n, cfg.filter_drop)))
    announce(f"--filter jacobian: scoring {len(draws)} seeds to keep the {cfg.n} where G's Jacobian is smallest")
    progress = Progress(events, len(draws), "images", "Jacobian norms", cancel)

    def scored(k: int) -> None:  # after each batch of seeds
        progress.advance(k)
        progress.raise_if_cancelled()
    kept, dropped = jacobian_keep(model, draws, cfg.n, cfg.truncation, progress=scored)
    progress.finish()
    sampler = {"filter": cfg.filter[0], "filter_drop": cfg.filter_drop, "draws": len(draws), "dropped_seeds": dropped}
    return GeneratorSource(model, truncation=cfg.truncation, seeds=kept, sampler=sampler)


def _classifier(cfg: EvaluateOptions, dataset, device, events: EventSink | None, cancel: CancelToken | None):
    """The class-metric classifier for a labeled dataset, and what the report says of it."""
    from .classifier import classifier_for

    if dataset is None:
        raise UsageError("the classes metric needs the reference images to be a labeled prepared dataset",
                         "compare with a dataset made by 'artforge prepare' with labels, or drop the classes metric")
    return classifier_for(dataset, device, cfg.classifier, cfg.progress, events, cancel)


def run_task(run) -> str:
    """What a run (or a checkpoint of one) learnt, from its newest checkpoint: generation, pix2pix, ..."""
    from ..sampling import is_export
    from ..runs import checkpoint as ckpt
    from ..runs.rundir import resolve_run

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


def evaluate(cfg: EvaluateOptions, announce=print, model=None, events: EventSink | None = None,
             cancel: CancelToken | None = None) -> dict:
    """Score a run's generator (or a folder of images) against real images; see the module docstring.

    ``model`` may be a loaded run (``artforge.load``) to score instead of loading ``cfg.run``: the
    training loop passes its live EMA generator this way. ``events`` and ``cancel``: the passes' and a
    trained extractor's or classifier's "progress" events, and a token that stops them with ``Cancelled``
    (a translation run's and a sound run's only in training their encoder or classifier; music runs are
    scored without them).
    """
    from ..sampling import load
    from ..tasks.specs import TASKS
    from ..utils.device import pick_device
    from .extractors import make_extractor
    from .sources import FolderSource

    if model is None and cfg.run is not None and TASKS[run_task(cfg.run)].translates:
        from .translation import evaluate_translation
        return evaluate_translation(cfg, announce, events, cancel)
    cfg = dataclasses.replace(cfg, split=cfg.split or "all")
    started = time.time()
    device = pick_device(cfg.device)
    if model is None and cfg.run is not None:
        model = load(cfg.run, cfg.checkpoint, cfg.device, announce=announce)
        own = run_report(model.arch)
        if own is not None:  # sounds and music: scored their own way
            return own.evaluate(cfg, model, announce, events, cancel)
    shape = model.image_shape[1:] if model is not None else None  # (height, width)
    real_source, dataset = reference_source(cfg, model.run_dir if model is not None else None, shape)
    if model is not None:
        fake_source = _generator_source(model, cfg, announce, events, cancel)
    else:
        fake_source = FolderSource(cfg.fake, real_source.shape, cfg.n)
    metrics = [METRICS[name] for name in cfg.metrics]
    needs = set().union(*(m.needs for m in metrics))
    extractor = None
    if needs & {"features", "logits"}:
        extractor = make_extractor(cfg.extractor, device=device, dataset=dataset, weights=cfg.inception_weights,
                                   progress=cfg.progress, events=events, cancel=cancel)
    real_source = held_out_reference(real_source, extractor, cfg, announce)
    classifier, classifier_info = (_classifier(cfg, dataset, device, events, cancel) if "labels" in needs
                                   else (None, None))
    real, cached = collect_reference(real_source, needs - {"logits", "labels"}, extractor, cfg,
                                     events=events, cancel=cancel)
    fake = collect(fake_source, needs, extractor, cfg.batch, cfg.seed, classifier, "generated images", events, cancel)
    ctx = EvalContext(cfg, real_source, fake_source, dataset.label_names if dataset is not None else [],
                      label_distribution(dataset), classifier, fake_is_generator=model is not None)
    results, seconds = {}, {"reference": round(real.seconds, 2), "generated": round(fake.seconds, 2)}
    for metric in metrics:
        t = time.time()
        results.update(plain(metric.compute(real, fake, ctx)))
        seconds[metric.name] = round(time.time() - t, 2)
    out = result_path(cfg, model)
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
        "settings": settings(cfg),
        "protocol": measured_protocol(cfg, real_info, fake_info, extractor),
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


SUMMARY_KEYS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "swd", "near_copy_share",
                "near_copy_share_pixel", "class_coverage", "class_kl", "class_accuracy")


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
