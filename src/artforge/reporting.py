"""``artforge report RUN``: one self-contained HTML page about a run (no network needed to view it).

Sample grids over time, loss and D-output curves (inline SVG, so no plotting library is needed),
the quality signal per checkpoint, health warnings and the options. Images are embedded as base64.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .training.monitor import read_log
from .training.rundir import OPTIONS_FILE, resolve_run
from .utils.files import atomic_write_text, read_json

CURVES = (("Losses", ("Loss/D", "Loss/G")), ("D outputs (probability)", ("D/real", "D/fake")),
          ("Gradient norms", ("grad_norm/D", "grad_norm/G")), ("Speed (img/s)", ("Speed/img_per_s",)))
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _img(path: Path, width: int | None = None) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    style = f' style="width:{width}px"' if width else ""
    return f'<img src="data:image/png;base64,{data}"{style} alt="{html.escape(path.name)}">'


def svg_chart(rows: list[dict], keys: tuple[str, ...], title: str, w: int = 420, h: int = 220) -> str:
    """A small line chart of ``keys`` against step; empty string when nothing was logged."""
    series = {k: [(r["step"], r[k]) for r in rows if isinstance(r.get(k), (int, float))] for k in keys}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return ""
    xs = [x for v in series.values() for x, _ in v]
    ys = [y for v in series.values() for _, y in v]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    m = 40

    def px(x, y):
        return m + (x - x0) / (x1 - x0) * (w - m - 10), h - 25 - (y - y0) / (y1 - y0) * (h - 50)

    parts = [f'<svg width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<text x="{m}" y="14" font-weight="bold">{html.escape(title)}</text>',
             f'<line x1="{m}" y1="{h-25}" x2="{w-10}" y2="{h-25}" stroke="#999"/>',
             f'<line x1="{m}" y1="25" x2="{m}" y2="{h-25}" stroke="#999"/>',
             f'<text x="2" y="30">{y1:.3g}</text><text x="2" y="{h-27}">{y0:.3g}</text>',
             f'<text x="{m}" y="{h-8}">step {x0}</text><text x="{w-70}" y="{h-8}">{x1}</text>']
    for i, (key, points) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        pts = " ".join(f"{px(x, y)[0]:.1f},{px(x, y)[1]:.1f}" for x, y in points)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{pts}"/>')
        parts.append(f'<text x="{w - 150 + 0}" y="{28 + 13 * i}" fill="{color}">{html.escape(key)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _grid_timeline(run_dir: Path, count: int = 6) -> list[Path]:
    grids = sorted((run_dir / "grids").glob("*.png"))
    if len(grids) <= count:
        return grids
    picks = {round(i * (len(grids) - 1) / (count - 1)) for i in range(count)}
    return [grids[i] for i in sorted(picks)]


def build_html(run_dir: Path) -> str:
    options = read_json(run_dir / OPTIONS_FILE)
    metrics, events = read_log(run_dir / "log.jsonl")
    grids = _grid_timeline(run_dir)
    esc = html.escape
    title = f"artforge run {run_dir.name}"
    body = [f"<h1>{esc(title)}</h1>"]
    last = metrics[-1] if metrics else {}
    ds = options.get("dataset", {})
    body.append(f"<p>{esc(str(ds.get('name')))}: {ds.get('train_images')} training images at "
                f"{ds.get('resolution')} px; architecture {esc(options['model']['arch'])}; "
                f"{last.get('step', 0)} steps, {last.get('kimg', 0)} kimg, device {esc(options.get('device', '?'))}, "
                f"{esc(options.get('precision', ''))}.</p>")
    if grids:
        body.append(f"<h2>Latest samples (step {int(grids[-1].stem)})</h2>{_img(grids[-1])}")
        body.append("<h2>Samples over time (fixed latents)</h2><div class=row>" + "".join(
            f"<figure>{_img(g, 220)}<figcaption>step {int(g.stem)}</figcaption></figure>" for g in grids) + "</div>")
    charts = [svg_chart(metrics, keys, name) for name, keys in CURVES]
    body.append("<h2>Curves</h2><div class=row>" + "".join(charts) + "</div>")
    quality = [e for e in events if e["event"] == "metric"]
    if quality:
        body.append("<h2>Quality signal per checkpoint</h2><div class=row>"
                    + svg_chart(quality, ("swd",), "SWD x1e3 (lower is better)") + "</div>")
    warnings = [e for e in events if e["event"] in ("health", "diverged")]
    body.append("<h2>Health</h2>" + ("<ul>" + "".join(
        f"<li>step {e['step']}: {esc(e.get('message', ''))}"
        + (f" &mdash; try: {esc(e['suggestion'])}" if e.get("suggestion") else "") + "</li>" for e in warnings)
        + "</ul>" if warnings else "<p>No warnings.</p>"))
    body.append(f"<h2>Options</h2><pre>{esc(json.dumps(options, indent=2))}</pre>")
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
             ".row{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}pre{background:#f6f6f6;padding:1em}"
             "img{image-rendering:pixelated;max-width:100%}")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{esc(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def write_report(run: str | Path, out: str | Path | None = None, announce=print) -> Path:
    run_dir = resolve_run(run, announce=announce)
    out = Path(out) if out else run_dir / "report.html"
    atomic_write_text(out, build_html(run_dir))
    return out
