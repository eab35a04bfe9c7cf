"""``evaluate``: a run (or a folder of images) scored against real images by judges independent of its
training; a translation run against true targets; sound and music runs by their own measures.
What it does on the way (the extractor it trains, the images it draws) are "note" events."""

from __future__ import annotations

import json

from ..utils.events import announcer


def evaluate(options: dict, events=None, cancel=None) -> dict:
    from ..options import EvaluateConfig
    from ..metrics.evaluate import evaluate as _evaluate

    options.setdefault("progress", False)
    return _evaluate(EvaluateConfig(**options), announce=announcer(events))


def evaluate_summary(report: dict, options: dict | None = None) -> list[str]:
    if (options or {}).get("json"):
        return [json.dumps(report, indent=2)]
    if "task" in report:  # a translation run, scored against true images
        from ..metrics.translation import summary_lines
        return [f"evaluated {report['checkpoint']} (step {report['step']}, {report['task']}):",
                *summary_lines(report), f"  results: {report['path']}"]
    from ..metrics.evaluate import report_lines
    return report_lines(report)
