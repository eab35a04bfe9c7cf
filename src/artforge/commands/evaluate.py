"""``evaluate``: a run (or a folder of images) scored against real images by judges independent of its
training; a translation run against true targets; sound and music runs by their own measures.
What it does on the way (the extractor it trains, the images it draws) are "note" events; each pass
over images (reference, generated, the seeds a filter scores) sends "progress" events, which the
``progress`` option draws as bars. Cancelling stops an image run's evaluation between batches with
``Cancelled`` (``utils.events``), before its report is written."""

from __future__ import annotations

import json

from ..utils.bars import with_bars
from ..utils.events import announcer

# the bars evaluate has always drawn: passes over images (erased when done) and a network's training steps
BARS = dict(styles={"images": dict(unit="img", leave=False), "steps": dict(unit="step")}, mininterval=1.0)


def evaluate(options: dict, events=None, cancel=None) -> dict:
    from ..options import EvaluateConfig
    from ..metrics.evaluate import evaluate as _evaluate

    options.setdefault("progress", False)
    cfg = EvaluateConfig(**options)
    with with_bars(events, cfg.progress, **BARS) as events:
        return _evaluate(cfg, announce=announcer(events), events=events, cancel=cancel)


def evaluate_summary(report: dict, options: dict | None = None) -> list[str]:
    if (options or {}).get("json"):
        return [json.dumps(report, indent=2)]
    if "task" in report:  # a translation run, scored against true images
        from ..metrics.translation import summary_lines
        return [f"evaluated {report['checkpoint']} (step {report['step']}, {report['task']}):",
                *summary_lines(report), f"  results: {report['path']}"]
    from ..metrics.evaluate import report_lines
    return report_lines(report)
