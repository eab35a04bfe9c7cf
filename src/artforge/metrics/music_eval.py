"""Scores for music models: MuseGAN's metrics beside the training data's, and whether the moods obey.

* **Quality** (Dong et al. 2018, sec. 5): empty bars, used pitch classes per bar, qualified notes,
  drum patterns and tonal distance between tracks (metrics/music.py), of the generated pieces and of
  the training pieces in one table: the data's row is what a model is read against.
* **Mood control, by independent judges** (metrics/mood_judges.py): for each mood, ``n / 4`` pieces
  asked for it, judged by measurements the steering never sees: valence by music21's key finder with
  the Temperley-Kostka-Payne profiles and by the quality of the most-sounded triad (both must agree),
  arousal from the FluidSynth render by librosa (onset rate, tempo, loudness; thresholds: the medians
  of a calibration half of the real training pieces). The share landing where asked, per mood and
  per judge, with 95% Wilson intervals, beside the same judges' agreement with the labels of the
  other half of the real pieces (the ceiling).
* **The steering objective (not a judge)**: the same pieces measured by ``measure_mood`` (the
  Krumhansl-Kessler mode and the onset density that steering optimises), and a sweep of requested
  (valence, arousal) over a 5 x 5 grid with the correlation of that measure against the request.
  With steering on these say whether the optimiser converged, not whether the mood is heard.

Pieces are made as ``artforge sample`` makes them: the label, then ``mood_steps`` of latent steering
toward it (composing.steer_latents). With steering on, the label alone is scored beside it (its own
metrics row, mood accuracy and sweep), so what the steering adds, and what it costs, is in the report.
"""

from __future__ import annotations

import html
import time

import numpy as np
import torch

from ..errors import UsageError

SWEEP = np.linspace(-1.0, 1.0, 5)
OBJECTIVE = "the steering objective (not a judge): Krumhansl-Kessler mode and onset density, what steering optimises"


def _measure(rolls: np.ndarray, spec, tempos: list[float], reference) -> list[dict]:
    from ..data.mood import measure_mood
    return [measure_mood(roll, spec, tempo, reference) for roll, tempo in zip(rolls, tempos)]


def evaluate_music(model, dataset, n: int = 400, seed: int = 0, sweep_seeds: int = 8, mood_steps: int = 0,
                   announce=lambda message: None) -> dict:
    """Scores of a loaded music run (``sampling.LoadedRun``) against its roll dataset; ``announce``
    hears each stage (steering takes about 0.2 s a piece on a 2-core CPU)."""
    from ..composing import MOODS, render_rolls, roll_spec, steer_latents, tempo_for
    from ..data.loader import decode_all
    from ..data.mood import mood_accuracy
    from .music import music_metrics

    spec = roll_spec(model)
    train = decode_all(dataset, dataset.indices("train")).numpy()
    seeds = list(range(seed, seed + n))
    started = time.perf_counter()
    z = model.latents(seeds)
    rolls = render_rolls(model, z, model.labels(seeds, None))
    seconds = time.perf_counter() - started
    table = {"training data": music_metrics(train, spec), "model": music_metrics(rolls, spec)}
    report = {"kind": "music", "n": n, "seed": seed, "metrics": table, "seconds_per_piece": seconds / n}
    if list(model.label_names) != list(MOODS):
        return report
    reference = model.extras.get("mood_reference")
    c = model.labels(seeds, None)
    labels = c.tolist()
    requested = [MOODS[k] for k in labels]
    tempos = [tempo_for(model, k, None) for k in labels]
    report["mood_steps"] = mood_steps
    alone_rolls = rolls
    if mood_steps:  # what sample makes: steered; the label alone beside it
        announce(f"steering {n:,} pieces toward their moods (at most {mood_steps} steps each)")
        started = time.perf_counter()
        steered = render_rolls(model, steer_latents(model, z, c, mood_steps), c)
        report["steer_seconds_per_piece"] = (time.perf_counter() - started) / n
        report["metrics"] = {"training data": table["training data"], "model": music_metrics(steered, spec),
                             "model, label alone": table["model"]}
        report["mood_label_alone"] = mood_accuracy(requested, _measure(rolls, spec, tempos, reference))
        report["sweep_label_alone"] = _sweep(model, spec, reference, seed, sweep_seeds, 0)
        rolls = steered
    report["mood"] = mood_accuracy(requested, _measure(rolls, spec, tempos, reference))
    report["mood"]["tempo_by_mood"] = {m: tempo_for(model, MOODS.index(m), None) for m in MOODS}
    for key in ("mood", "mood_label_alone"):  # measure_mood: what steering optimises; mood_judges has the judges
        if key in report:
            report[key]["measured_by"] = OBJECTIVE
    # the data's own: how well the measurement recovers the labels it made (1.0 by construction on the
    # training items whose tempo the labels used; below it where a mood's median tempo stands in)
    data_moods = [MOODS[k] for k in dataset.labels[dataset.indices("train")]]
    data_measured = _measure(train, spec, [tempo_for(model, MOODS.index(m), None) for m in data_moods], reference)
    report["mood_training_data"] = mood_accuracy(data_moods, data_measured)
    announce(f"sweeping the valence-arousal plane ({len(SWEEP) ** 2} points x {sweep_seeds} seeds"
             f"{', steered' if mood_steps else ''})")
    report["sweep"] = _sweep(model, spec, reference, seed, sweep_seeds, mood_steps)
    report["mood_judges"] = _judge_moods(dataset, spec, requested, tempos, rolls if mood_steps else None,
                                         alone_rolls, announce)
    return report


JUDGE_CACHE_VERSION = 2


def _judge_moods(dataset, spec, requested, tempos, steered, alone, announce) -> dict:
    """The independent judges' figures (mood_judges.py): their agreement with the real pieces' labels,
    and mood control of the label alone and of the steered pieces; an ``unavailable`` reason (with the
    fix) when music21, librosa or FluidSynth is missing or the dataset is too small to calibrate on."""
    from ..errors import ArtforgeError
    from . import mood_judges as J

    try:
        real, calibrate, thresholds = calibrated_judges(dataset, spec, announce)
    except ArtforgeError as exc:
        return {"unavailable": str(exc)}
    held = [_with_verdict(v, thresholds) for v, c in zip(real["verdicts"], calibrate) if not c]
    out = {"judges": "valence: music21 TemperleyKostkaPayne key and most-sounded triad (both must agree); "
                     "arousal: librosa onset rate, beat rate, RMS of the FluidSynth render (majority, "
                     "thresholds from real pieces)",
           "thresholds": thresholds, "calibration_excerpts": int(calibrate.sum()),
           "real": J.judged_accuracy([m for m, c in zip(real["moods"], calibrate) if not c], held)}
    for name, rolls in (("label_alone", alone), ("steered", steered)):
        if rolls is not None:
            announce(f"judging {len(rolls):,} pieces ({name.replace('_', ' ')}) by the independent judges")
            out[name] = J.judged_accuracy(requested, J.judge_pieces(rolls, spec, tempos, thresholds))
    return out


def calibrated_judges(dataset, spec, announce=lambda message: None) -> tuple[dict, np.ndarray, dict]:
    """The real pieces' raw verdicts (cached), the calibration half (a mask) and the arousal thresholds
    computed on it. DataError when a judge's library or FluidSynth is missing or the dataset is too small."""
    from ..errors import DataError
    from . import mood_judges as J

    real = _real_verdicts(dataset, spec, announce)
    calibrate = J.calibration_split(real["pieces"], real["train"])
    if not calibrate.any() or calibrate.all():
        raise DataError(f"too few real pieces in {dataset.path} to calibrate the mood judges and check them",
                        "use a dataset with two training pieces or more")
    thresholds = J.arousal_thresholds([v["audio"] for v, c in zip(real["verdicts"], calibrate) if c])
    return real, calibrate, thresholds


def _with_verdict(verdict: dict, thresholds: dict) -> dict:
    from . import mood_judges as J

    arousal = J.arousal_from_audio(verdict["audio"], thresholds)["arousal"]
    valence = J.combined_valence(verdict["valence_profiles"], verdict["valence_harmony"])
    return {**verdict, "arousal_audio": arousal, "valence": valence, "mood": J.judged_mood(valence, arousal)}


def _real_verdicts(dataset, spec, announce) -> dict:
    """The judges' raw verdicts on every real piece of the dataset (all splits), with its label, its
    piece and whether it is in the train split; cached by the dataset's content."""
    import json

    from ..composing import MOODS
    from ..utils.files import atomic_write_json
    from . import mood_judges as J
    from .cache import cache_dir, dataset_fingerprint

    path = cache_dir("mood-judges") / f"{dataset_fingerprint(dataset.path)}-v{JUDGE_CACHE_VERSION}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):  # a damaged entry is recomputed
            pass
    items = dataset.manifest.get("items") or [{} for _ in range(len(dataset))]
    train = np.zeros(len(dataset), bool)
    train[dataset.indices("train")] = True
    announce(f"judging the {len(dataset):,} real pieces once (calibration and the judges' ceiling; cached)")
    rolls = np.stack([dataset.read_item(i) for i in range(len(dataset))])
    tempos = [float(it.get("tempo") or 120.0) for it in items]
    verdicts = J.judge_pieces(rolls, spec, tempos, None)
    real = {"moods": [MOODS[int(k)] for k in dataset.labels], "verdicts": verdicts, "train": train.tolist(),
            "pieces": [it.get("piece", str(i)) for i, it in enumerate(items)]}
    atomic_write_json(path, real)
    return real


def _sweep(model, spec, reference, seed: int, per_point: int, mood_steps: int) -> dict:
    from ..composing import mood_weights, render_rolls, steer_latents, tempo_for

    points = [(float(v), float(a)) for v in SWEEP for a in SWEEP for _ in range(per_point)]
    z = model.latents(list(range(seed, seed + per_point))).repeat(len(SWEEP) ** 2, 1)  # the same seeds at each point
    c = torch.stack([mood_weights(v, a) for v, a in points])
    rolls = render_rolls(model, steer_latents(model, z, c, mood_steps), c)  # all points in full passes
    tempos = [tempo_for(model, None, w) for w in c]
    measured = _measure(rolls, spec, tempos, reference)
    asked_v, asked_a = [v for v, _ in points], [a for _, a in points]
    got_v, got_a = [m["valence"] for m in measured], [m["arousal"] for m in measured]

    def corr(x, y) -> float:
        return float(np.corrcoef(x, y)[0, 1]) if np.std(y) > 0 else float("nan")

    return {"grid": SWEEP.tolist(), "per_point": per_point, "valence_correlation": corr(asked_v, got_v),
            "arousal_correlation": corr(asked_a, got_a),
            "measured_mean": {"valence": [float(np.mean([g for a, g in zip(asked_v, got_v) if a == v])) for v in SWEEP],
                              "arousal": [float(np.mean([g for a, g in zip(asked_a, got_a) if a == v])) for v in SWEEP]}}


def music_summary_lines(report: dict, tracks: list[str] | None = None) -> list[str]:
    """The metrics table and the mood control results, for the terminal (Markdown-friendly): first the
    independent judges, then the steering objective, labelled as what it is."""
    from .music import metrics_table

    lines = metrics_table(report["metrics"]).splitlines()
    judges = report.get("mood_judges")
    if judges:
        lines += [""] + judge_lines(judges)
    mood = report.get("mood")
    if mood:
        data = report["mood_training_data"]
        lines.append("")
        lines.append(f"the steering objective (not a judge: the Krumhansl-Kessler mode and onset density that "
                     f"steering optimises), {mood['n']} pieces: in the asked quadrant {mood['accuracy']:.1%} "
                     f"(valence {mood['valence_accuracy']:.1%}, arousal {mood['arousal_accuracy']:.1%}); "
                     f"training data measured the same way: {data['accuracy']:.1%}")
        lines.append("  per mood: " + ", ".join(f"{m} {v:.0%}" for m, v in mood["per_mood"].items()))
        lines.append("  confusion (rows asked, columns measured; " + ", ".join(mood["moods"]) + "): "
                     + " | ".join(" ".join(f"{c:3d}" for c in row) for row in mood["confusion"]))
        sweep = report["sweep"]
        lines.append(f"  continuous sweep ({len(sweep['grid'])}x{len(sweep['grid'])} x {sweep['per_point']} seeds): "
                     f"correlation of measured with asked: valence {sweep['valence_correlation']:.2f}, arousal "
                     f"{sweep['arousal_correlation']:.2f}")
        alone, alone_sweep = report.get("mood_label_alone"), report.get("sweep_label_alone")
        if alone:
            lines.append(f"  steered up to {report['mood_steps']} steps a piece; the label alone: in the asked "
                         f"quadrant {alone['accuracy']:.1%} (valence {alone['valence_accuracy']:.1%}, arousal "
                         f"{alone['arousal_accuracy']:.1%}), sweep correlations {alone_sweep['valence_correlation']:.2f}"
                         f" / {alone_sweep['arousal_correlation']:.2f}")
    return lines


def music_report_html(report: dict) -> str:
    """A music run's MuseGAN metrics and moods, for its report.html: the summary lines' tables as tables."""
    esc, parts = html.escape, []
    for block in _markdown_blocks(music_summary_lines(report)):  # the metrics, the judges' table, lines
        if block[0].startswith("|"):
            rows = [[esc(c.strip()) for c in row.strip("|").split("|")] for row in block]
            parts.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in rows[0]) + "</tr>"
                         + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows[2:])
                         + "</table>")
        else:
            parts += [f"<p>{esc(line.strip())}</p>" for line in block if line]
    return f"<p>{esc(report['checkpoint'])}: {report['n']} pieces.</p>" + "".join(parts)


def _markdown_blocks(lines: list[str]) -> list[list[str]]:
    """Consecutive lines grouped: Markdown table rows together, other lines together."""
    blocks: list[list[str]] = []
    for line in lines:
        if blocks and blocks[-1][0].startswith("|") == line.startswith("|"):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


JUDGE_COLUMNS = (("in_quadrant", "in the asked quadrant"), ("valence", "valence (both judges)"),
                 ("valence_profiles", "valence: key profiles"), ("valence_harmony", "valence: harmony"),
                 ("arousal_audio", "arousal: audio"))
JUDGED_ROWS = (("real", "real pieces, their labels (the ceiling)"), ("label_alone", "label alone"),
               ("steered", "steered"))


def _cell(share: dict) -> str:
    return "n/a" if not share["n"] else f"{share['share']:.1%} [{share['low']:.1%}, {share['high']:.1%}]"


def judge_lines(judges: dict) -> list[str]:
    """Mood control by the independent judges: a Markdown table per mood and condition, 95% Wilson
    intervals in brackets, then the confusion matrices."""
    if "unavailable" in judges:
        return [f"mood control by independent judges: unavailable ({judges['unavailable']})"]
    from ..data.mood import MOODS

    t = judges["thresholds"]
    lines = [f"mood control by independent judges ({judges['judges']}; arousal thresholds from "
             f"{judges['calibration_excerpts']} real excerpts, half of the training pieces: onset rate {t['onset_rate']:.2f}/s, beat rate "
             f"{t['beat_rate']:.2f}/s, RMS {t['rms_db']:.1f} dB); 95% Wilson intervals:",
             "| asked | pieces | n | " + " | ".join(title for _, title in JUDGE_COLUMNS) + " |",
             "|---|---|---:|" + "---:|" * len(JUDGE_COLUMNS)]
    for mood in (*MOODS, None):
        for key, title in JUDGED_ROWS:
            if key not in judges:
                continue
            got = judges[key]
            cells = [got[col]["overall"] if mood is None else got[col]["per_mood"][mood] for col, _ in JUDGE_COLUMNS]
            lines.append(f"| {mood or 'all'} | {title} | {cells[0]['n']} | " + " | ".join(map(_cell, cells)) + " |")
    if "steered" in judges and "label_alone" in judges:
        from .mood_judges import difference_interval

        a, b = judges["steered"]["in_quadrant"]["overall"], judges["label_alone"]["in_quadrant"]["overall"]
        d, low, high = difference_interval(a["hits"], a["n"], b["hits"], b["n"])
        lines.append(f"  steering adds {d:+.1%} in the asked quadrant [{low:+.1%}, {high:+.1%}] (95%, Newcombe's "
                     "interval of a difference; unpaired, so conservative for the same seeds)")
    columns = ", ".join(judges["real"]["confusion_columns"])
    for key, title in JUDGED_ROWS:
        if key in judges:
            lines.append(f"  judged confusion, {title} (rows asked, columns judged; {columns}): "
                         + " | ".join(" ".join(f"{c:3d}" for c in row) for row in judges[key]["confusion"]))
    return lines


def check_dataset(dataset, modality: str, run_name: str) -> None:
    """The reference of a music run holds what it learned from (``modality``, its family's ``trains_on``)."""
    if dataset.modality != modality:
        raise UsageError(f"{dataset.path} is not a piano-roll dataset; {run_name} makes music",
                         "compare with the dataset it was trained on (or leave the real option out)")

