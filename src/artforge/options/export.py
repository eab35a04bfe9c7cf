"""The options of `artforge export`."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .fields import option, paths_to_str


@dataclass(frozen=True)
class ExportConfig:
    run: str = option("", "run folder (or a folder of runs: the newest is used) or a checkpoint folder",
                      positional=True, metavar="RUN")
    checkpoint: str = option("best", "which checkpoint: best, latest, or a step number")
    out: str | None = option(None, "output folder, written whole or not at all "
                             "(default: exports/<run folder name>)", metavar="DIR")
    force: bool = option(False, "replace the output folder if it exists and is not empty")

    def __post_init__(self):
        paths_to_str(self, "run", "out")
        if not self.run:
            raise UsageError("no run given", "pass a run folder such as runs/00000-openmoji-64-dcgan")
        if self.out == "":
            raise UsageError("--out is empty", "pass a folder, e.g. --out exports/my-model")
        object.__setattr__(self, "checkpoint", str(self.checkpoint))  # a step number from the API
