"""``export``: a run's EMA generator as a standalone model folder that ``sample`` and ``load`` take."""

from __future__ import annotations


def export(options: dict, events=None, cancel=None):
    from ..options import ExportConfig
    from ..exporting import export_model

    return export_model(ExportConfig(**options))


def export_summary(result, options: dict | None = None) -> list[str]:
    return [f"exported {result.checkpoint} (step {result.step}) to {result.out}",
            f"  next: artforge sample {result.out} --seeds 0-15"]
