"""Runs whose items have their own scores (sounds, music): how each is evaluated and how its report reads.
A modality's ``report_kind`` names its record here; images, without one, take ``image_metrics.py``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from .._version import __version__
from ..errors import UsageError
from ..modality import MODALITIES
from .collect import EvaluateOptions
from .music_eval import music_report_html, music_summary_lines
from .reference import trained_on
from .results import result_path
from .sound import sound_report_html, sound_summary_lines


SOUND_MAX_N = 1000  # sounds scored at most: a SpecGAN's Griffin-Lim takes ~0.05 s a sound on a CPU


def evaluate_sound_run(cfg: EvaluateOptions, model, announce, events=None, cancel=None) -> dict:
    """A sound run's scores (metrics/sound.py): classifier IS, Fréchet distance, label accuracy, novelty,
    speed, beside the held-out real clips' own."""
    from ..data.archive import open_dataset
    from .sound import evaluate_sounds

    path = cfg.real or trained_on(model.run_dir)
    dataset = open_dataset(path)
    if dataset.modality != learned_from(model):
        raise UsageError(f"{path} holds images; {model.run_dir.name} makes sounds",
                         "compare with the sound dataset it was trained on (or leave the real option out)")
    n = min(cfg.n, SOUND_MAX_N)
    if n < cfg.n:
        announce(f"scoring {n:,} sounds (at most {SOUND_MAX_N:,} for a sound model)")
    started = time.time()
    scores = evaluate_sounds(model, dataset, n=n, seed=cfg.seed, progress=cfg.progress, events=events, cancel=cancel)
    results = {**{k: v for k, v in scores["generated"].items() if not isinstance(v, dict)},
               **{f"real_{k}": v for k, v in scores["real_held_out"].items() if not isinstance(v, dict)}}
    return write_run_report(cfg, model, {"kind": "sound", "results": results, **scores}, started)


def write_run_report(cfg: EvaluateOptions, model, scores: dict, started: float) -> dict:
    """A sound or music run's report: its scores, what was scored, written to RUN/eval/<checkpoint>.json."""
    from ..utils.files import atomic_write_json

    report = {"artforge_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "run": str(model.run_dir), "checkpoint": str(model.checkpoint), "step": model.step,
              **scores, "seconds": {"total": round(time.time() - started, 2)}}
    out = result_path(cfg, model)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, report)
    report["path"] = str(out)
    return report


MUSIC_MAX_N = 2000  # pieces scored at most (measuring a piece's key and density is Python, ~1 ms each)


def evaluate_music_run(cfg: EvaluateOptions, model, announce, events=None, cancel=None) -> dict:
    """A music run's MuseGAN metrics beside the training data's, and its mood control (music_eval.py); it
    counts nothing (its pieces are rendered in batches), so ``events`` and ``cancel`` go unused."""
    from ..data.archive import open_dataset
    from .music_eval import check_dataset, evaluate_music

    path = cfg.real or trained_on(model.run_dir)
    dataset = open_dataset(path)
    check_dataset(dataset, learned_from(model), model.run_dir.name)
    n = min(cfg.n, MUSIC_MAX_N)
    if n < cfg.n:
        announce(f"scoring {n:,} pieces (at most {MUSIC_MAX_N:,} for a music model)")
    started = time.time()
    scores = evaluate_music(model, dataset, n=n, seed=cfg.seed, mood_steps=cfg.mood_steps, announce=announce)
    results = {k: v for k, v in scores["metrics"]["model"].items() if isinstance(v, (int, float))}
    return write_run_report(cfg, model, {"results": results, **scores}, started)


@dataclass(frozen=True)
class RunReport:
    """The evaluation of a run whose items have their own scores (sounds, music): how it is made and read.
    A modality's ``report_kind`` names its record; images, without one, take the metrics above."""
    kind: str  # the report's "kind"
    noun: str  # what the terminal's first line calls the run's items
    evaluate: Callable[..., dict]  # (cfg, model, announce, events, cancel) -> the report, written to the run
    lines: Callable[[dict], list[str]]  # its scores, for the terminal
    html: Callable[[dict], str]  # its scores, for the run's report.html


RUN_REPORTS = {report.kind: report for report in (
    RunReport("sound", "sounds", evaluate_sound_run, sound_summary_lines, sound_report_html),
    RunReport("music", "music", evaluate_music_run, music_summary_lines, music_report_html),
)}


def run_report(arch: str) -> RunReport | None:
    """The record of how a run of ``arch`` is evaluated, when its modality has one (else: images)."""
    from ..models.registry import get_architecture
    return RUN_REPORTS.get(MODALITIES[get_architecture(arch).trains_on].report_kind)


def learned_from(model) -> str:
    """The modality of a loaded run's training data: what a reference dataset must hold."""
    from ..models.registry import get_architecture
    return get_architecture(model.arch).trains_on
