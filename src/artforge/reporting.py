"""``artforge report RUN``: one self-contained HTML page about a run (no network needed to view it).

What a person wants to see at a glance: the latest samples and how they evolved, the curves
(losses, D's outputs, augmentation strength, gradient norms, health signals, quality metrics) as
matplotlib PNGs, the latest evaluation with its nearest-training-image grid, the health warnings
with their suggestions, and the options. Every image is embedded as base64.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from .options.catalog import EXTRACTORS
from .runs.monitor import read_log
from .runs.rundir import RunLayout, resolve_run
from .utils.files import atomic_write_text, read_json

CURVES = (
    ("Losses", ("Loss/D", "Loss/G", "Loss/Dreg"), False),
    ("G's terms (image-to-image)", ("Loss/G_adv", "Loss/L1", "Loss/cycle", "Loss/identity", "Loss/features",
                                    "Loss/vgg"), False),
    ("D's outputs", ("D/real", "D/fake", "D/sign_real", "Augment/p"), False),
    ("Gradient norms", ("grad_norm/D", "grad_norm/G"), True),
    ("Health signals", ("Health/diversity", "Health/r_train", "Health/r_val"), False),
    ("Speed (img/s)", ("Speed/img_per_s",), False),
)
TRANSLATION_KEYS = ("psnr", "ssim", "mae", "swd", "kid", "fid")
EVAL_KEYS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "swd", "near_copy_share",
             "class_coverage", "class_kl")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _img_tag(data_b64: str, alt: str, width: int | None = None) -> str:
    style = f' style="width:{width}px"' if width else ""
    return f'<img src="data:image/png;base64,{data_b64}"{style} alt="{html.escape(alt)}">'


def _file_img(path: Path, width: int | None = None) -> str:
    return _img_tag(base64.b64encode(path.read_bytes()).decode(), path.name, width)


def line_chart(rows: list[dict], keys: tuple[str, ...], title: str, log: bool = False) -> str | None:
    """A PNG (base64) of ``keys`` against thousands of images shown; None when nothing was logged."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {k: [(r.get("kimg", r["step"]), r[k]) for r in rows if isinstance(r.get(k), (int, float))] for k in keys}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    for key, points in series.items():
        xs, ys = zip(*points)
        ax.plot(xs, ys, label=key, marker="o" if len(points) < 20 else None, markersize=3)
    ax.set_title(title)
    ax.set_xlabel("thousands of real images shown (kimg)")
    if log and all(y > 0 for v in series.values() for _, y in v):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def _grid_timeline(run_dir: Path, count: int = 6) -> list[Path]:
    grids = sorted(RunLayout(run_dir).grids.glob("*.png"))
    if len(grids) <= count:
        return grids
    picks = {round(i * (len(grids) - 1) / (count - 1)) for i in range(count)}
    return [grids[i] for i in sorted(picks)]


def _latest_evaluation(run_dir: Path) -> dict | None:
    files = sorted(RunLayout(run_dir).eval.glob("*.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(files[-1].read_text()) if files else None


def _metric_rows(events: list[dict]) -> list[dict]:
    """Quality-signal and evaluation events as rows for the metric chart."""
    return [{"step": e["step"], "kimg": e.get("kimg", e["step"]), **{k: v for k, v in e.items()
            if isinstance(v, (int, float))}} for e in events if e["event"] in ("metric", "eval")]


def _training_protocol(events: list[dict], options: dict) -> str | None:
    """The protocol of the FID/KID that --eval-every logged: the events' own, else the run's options."""
    from .metrics.results import protocol_label

    logged = [e["protocol"] for e in events if e["event"] == "eval" and isinstance(e.get("protocol"), dict)]
    if logged:
        return protocol_label(logged[-1])
    train = options.get("train", {})
    if not train.get("eval_every") or "eval_n" not in train:
        return None
    extractor = str(train.get("eval_extractor", "inception"))
    return protocol_label({"split": train.get("split", "train"), "generated": train["eval_n"],
                           "extractor": extractor if extractor in EXTRACTORS else Path(extractor).name})


def _evaluation_section(run_dir: Path) -> str:
    from .metrics.results import metric_name
    from .metrics.run_reports import RUN_REPORTS

    report = _latest_evaluation(run_dir)
    if report is None:
        return "<p>No evaluation yet: run <code>artforge evaluate RUN</code>.</p>"
    esc = html.escape
    if "task" in report:
        return _translation_section(report)
    own = RUN_REPORTS.get(report.get("kind"))
    if own is not None:  # sounds and music: their own scores
        return own.html(report)
    r = report["results"]
    cells = "".join(f"<tr><td>{esc(metric_name(k, report))}</td><td>{r[k]:.4g}</td></tr>"
                    for k in EVAL_KEYS if isinstance(r.get(k), (int, float)))
    ext = report.get("extractor") or {}
    parts = [f"<p>{esc(str(report['fake'].get('checkpoint')))}: {report['fake']['images']} generated vs "
             f"{report['real']['images']} reference images; features: {esc(ext.get('name', 'none'))}.</p>",
             f"<table>{cells}</table>"]
    grid = report.get("nearest_grid")
    if grid and Path(grid).exists():
        parts.append("<h3>Generated images closest to a training image (left) and that image (right)</h3>"
                     + _file_img(Path(grid)))
    return "".join(parts)


def _small_wav(path: Path, rate: int = 16000) -> bytes:
    """A WAV's bytes as 16-bit mono at ``rate``: a rendered piece (stereo, 22 kHz) embeds at a quarter the size."""
    import soundfile as sf

    from .data.sound import resample, wav_bytes

    audio, source_rate = sf.read(str(path), dtype="float32", always_2d=True)
    return wav_bytes(resample(audio.mean(axis=1), source_rate, rate), rate)


def _players_section(run_dir: Path, title: str, count: int = 8) -> str:
    """Sounds (or pieces) of the best checkpoint, embedded as players, so the report is heard where it is read."""
    import tempfile

    from .options import SampleConfig
    from .sampling import sample_to_folder

    with tempfile.TemporaryDirectory(prefix="artforge-report-") as tmp:
        sample_to_folder(SampleConfig(run=str(run_dir), n=count, out=tmp, grid=False), announce=lambda *a: None)
        cards = []
        for wav in sorted(Path(tmp).glob("seed*.wav")):
            audio = base64.b64encode(_small_wav(wav)).decode()
            record = json.loads(wav.with_suffix(".json").read_text())
            caption = f"seed {record['seed']}" + (f" · {record['asked_mood']}" if record.get("asked_mood") else "")
            cards.append(f"<figure>{_file_img(wav.with_suffix('.png'), 256)}<br><audio controls "
                         f"src=\"data:audio/wav;base64,{audio}\"></audio><figcaption>{html.escape(caption)}"
                         "</figcaption></figure>")
    return f"<h2>{title} of the best checkpoint</h2><div class=row>{''.join(cards)}</div>"


def _translation_section(report: dict) -> str:
    """An image-to-image run's scores against the true images: one row per method, and the picture."""
    esc, results = html.escape, report["results"]
    keys = [k for k in TRANSLATION_KEYS if any(k in r for r in results.values())]
    head = "<tr><th></th>" + "".join(f"<th>{k.upper()}</th>" for k in keys) + "</tr>"
    rows = "".join(f"<tr><td>{esc(name)}</td>" + "".join(
        f"<td>{r[k]:.4g}</td>" if isinstance(r.get(k), (int, float)) else "<td></td>" for k in keys) + "</tr>"
        for name, r in results.items())
    ref = report["reference"]
    parts = [f"<p>{esc(report['checkpoint'])}: {ref['items']} {esc(ref['split'])} items of {esc(ref['path'])} "
             "(PSNR and SSIM higher is better; MAE in 0-255 levels, SWD, KID and FID lower is better).</p>",
             f"<table>{head}{rows}</table>"]
    if "diversity" in report:
        d = report["diversity"]
        parts.append(f"<p>Dropout variations of one input differ by {d['mae_between_draws']:.3g} levels on average "
                     f"({d['draws']} draws of {d['inputs']} inputs).</p>")
    picture = report.get("picture")
    if picture and Path(picture).exists():
        parts.append("<h3>Test items side by side (input, outputs, true image)</h3>" + _file_img(Path(picture)))
    return "".join(parts)


def _image_size(dataset: dict) -> str:
    """'64x48' for a non-square dataset (width x height), '64' for a square one as before."""
    side = dataset.get("resolution")
    height, width = dataset.get("height", side), dataset.get("width", side)
    return str(side) if height == width else f"{width}x{height}"


def build_html(run_dir: Path) -> str:
    from .runs.migrations import migrate_run_options

    layout = RunLayout(run_dir)
    options = migrate_run_options(read_json(layout.options))  # a run made before: its own options only
    metrics, events = read_log(layout.log)
    esc = html.escape
    title = f"artforge run {run_dir.name}"
    last = metrics[-1] if metrics else {}
    ds, train = options.get("dataset", {}), options.get("train", {})
    body = [f"<h1>{esc(title)}</h1>",
            f"<p>{esc(str(ds.get('name')))}: {ds.get('train_images')} training images at {_image_size(ds)} px; "
            f"{esc(options['model']['arch'])}, recipe {esc(str(train.get('recipe', '-')))}; {last.get('step', 0)} steps, "
            f"{last.get('kimg', 0)} kimg; {esc(options.get('device', '?'))}, {esc(options.get('precision', ''))}.</p>"]
    grids = _grid_timeline(run_dir)
    from .tasks.specs import TASKS
    latest, timeline = TASKS.get(train.get("task") or "generation", TASKS["generation"]).previews
    if grids:
        body.append(f"<h2>{latest} (step {int(grids[-1].stem)})</h2>{_file_img(grids[-1])}")
        body.append(f"<h2>{timeline}</h2><div class=row>" + "".join(
            f"<figure>{_file_img(g, 220)}<figcaption>step {int(g.stem)}</figcaption></figure>" for g in grids) + "</div>")
    from .modality import MODALITIES
    from .models.registry import FAMILIES
    family = FAMILIES.get(options["model"]["arch"])
    players = MODALITIES[family.trains_on].players if family is not None else ""
    if players and grids:  # sounds and pieces are heard where the report is read
        body.append(_players_section(run_dir, players))
    charts = [line_chart(metrics, keys, name, log) for name, keys, log in CURVES]
    protocol = _training_protocol(events, options)  # FID/KID logged in training are not those of artforge evaluate
    quality = line_chart(_metric_rows(events), ("swd", "l1", "fid", "kid"), "Quality per checkpoint (lower is better)"
                         + (f"\nFID/KID: {protocol}" if protocol else ""))
    body.append("<h2>Curves</h2><div class=row>" + "".join(
        _img_tag(c, "chart") for c in charts + [quality] if c) + "</div>")
    if protocol:
        body.append(f"<p>FID/KID per checkpoint: {esc(protocol)}; compare them with each other, not with "
                    f"<code>artforge evaluate</code> results of another protocol.</p>")
    body.append("<h2>Latest evaluation</h2>" + _evaluation_section(run_dir))
    warnings = [e for e in events if e["event"] in ("health", "diverged")]
    body.append("<h2>Health</h2>" + ("<table><tr><th>step</th><th>problem</th><th>what to try</th></tr>" + "".join(
        f"<tr><td>{e['step']}</td><td>{esc(e.get('message', ''))}</td><td>{esc(e.get('suggestion', ''))}</td></tr>"
        for e in warnings) + "</table>" if warnings else "<p>No warnings.</p>"))
    body.append(f"<h2>Options</h2><pre>{esc(json.dumps(options, indent=2))}</pre>")
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
             ".row{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}pre{background:#f6f6f6;padding:1em}"
             "img{image-rendering:pixelated;max-width:100%}table{border-collapse:collapse}"
             "td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{esc(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def write_report(run: str | Path, out: str | Path | None = None, announce=print) -> Path:
    run_dir = resolve_run(run, announce=announce)
    out = Path(out) if out else RunLayout(run_dir).report
    atomic_write_text(out, build_html(run_dir))
    return out
