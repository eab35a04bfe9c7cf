"""``report``: a run's self-contained HTML report."""

from __future__ import annotations


def report(options: dict, events=None, cancel=None):
    from ..reporting import write_report

    return write_report(options["run"], options.get("out"))


def report_summary(path, options: dict | None = None) -> list[str]:
    return [f"report: {path}"]
