"""The options of `artforge bench`."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .fields import choice, names, non_negative, option, paths_to_str, positive_int
from .shared import FILTER_DROP_HELP, FILTER_HELP, SAMPLE_FILTER_DROP, sample_filters
from .train import TrainConfig
from .names import registry


# The published protocol takes CPU-hours; the default is a quick look at the harder mixture, 1/67 of
# its training steps, that finishes in minutes on two cores (estimated from 1,000-step runs of each
# recipe: 4-9 minutes of CPU, most of it wgan-gp's). Options given explicitly win over either.
TOY_QUICK = {"dataset": "grid", "seeds": 2, "steps": 3_000}
TOY_FULL = {"dataset": "both", "seeds": 10, "steps": 20_000}


@dataclass(frozen=True)
class ToyBenchConfig:
    target: str = option("toy", "the benchmark to run", positional=True, choices=("toy",), metavar="BENCHMARK")
    full: bool = option(False, "run the published protocol, 10 seeds x 20,000 steps on both mixtures (hours of "
                        "CPU), instead of the quick look, 2 seeds x 3,000 steps on the grid (minutes); --dataset, "
                        "--seeds and --steps still override either")
    dataset: str | None = option(None, "2-D mixture: ring of 8 Gaussians, 5x5 grid of 25, or both "
                                 "(default: grid; with --full, both)", choices=("ring", "grid", "both"))
    recipe: str = option("all", "training recipes, comma separated, or all")
    seeds: int | None = option(None, "runs per recipe and dataset, seeds 0..N-1 (default: 2; with --full, 10)")
    steps: int | None = option(None, "training steps per run (default: 3,000; with --full, 20,000)")
    batch: int = option(256, "samples per step")
    width: int = option(96, "units in each hidden layer of G (4 layers) and D (3 layers); 128 takes about 1.5x the time")
    jobs: int = option(0, "runs in parallel (0: one per CPU core)")
    out: str = option("runs/bench-toy", "folder for the table (toy-bench.md), results (.json) and plot (.png)")
    save_samples: str | None = option(None, "also write each run's 2,500 samples as an (N, 2) .npy file here")
    filter: tuple = option((), "sample filters, comma separated: " + FILTER_HELP + "; each adds rows for the same trained G sampled through it, "
                           "2,500 kept of 2,500 / (1 - F) draws", metavar="LIST")
    filter_drop: float = option(SAMPLE_FILTER_DROP, FILTER_DROP_HELP)
    r1_gamma: float | None = option(None, "a study option: R1 penalty weight for every recipe instead of its own")
    self_cond: int | None = option(None, "a study option: self-conditioning clusters for every recipe instead of "
                                         "its own (stable: 50; 0: off, the unconditional G)")
    progress: bool = option(True, "show a progress bar", cli=False)

    def __post_init__(self):
        paths_to_str(self, "out", "save_samples")
        if not isinstance(self.full, bool):
            raise UsageError(f"--full takes no value, got {self.full!r}", "pass --full or leave it out")
        for name, value in (TOY_FULL if self.full else TOY_QUICK).items():
            if getattr(self, name) is None:  # not given: the protocol's value
                object.__setattr__(self, name, value)
        for name in ("seeds", "steps", "batch", "width"):
            positive_int(getattr(self, name), name)
        sample_filters(self, registry("filter"))
        positive_int(self.jobs, "jobs", minimum=0)
        if self.r1_gamma is not None:
            non_negative(self.r1_gamma, "r1_gamma")
        if self.self_cond is not None:
            TrainConfig(dataset="toy", self_cond=self.self_cond)  # the same checks as for training
        choice(self.dataset, "dataset", ("ring", "grid", "both"))
        if self.recipe != "all":
            for name in names(self.recipe):
                choice(name, "recipe", tuple(registry("recipe")) + ("all",))

    def overrides(self) -> dict:
        """Training options that replace every recipe's own, for studies (none by default)."""
        options = {"r1_gamma": self.r1_gamma, "self_cond": self.self_cond}
        return {name: value for name, value in options.items() if value is not None}

    def datasets(self) -> list[str]:
        return ["ring", "grid"] if self.dataset == "both" else [self.dataset]

    def recipes(self) -> list[str]:
        return list(registry("recipe")) if self.recipe == "all" else list(names(self.recipe))
