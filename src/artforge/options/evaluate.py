"""The options of `artforge evaluate`."""

from __future__ import annotations

from dataclasses import dataclass

from ..draws import filter_draws
from ..errors import UsageError
from .fields import DEVICES_HELP, choice, option, paths_to_str, positive_int
from .sample import MAX_SEEDS
from .shared import (EVAL_METRICS_DEFAULT, FILTER_DROP_HELP, FILTER_HELP, IMAGE_FILTERS, METRICS_HELP, MOOD_STEPS,
                     MOOD_STEPS_HELP, SAMPLE_FILTER_DROP, TRUNCATION_HELP, metric_list, sample_filters, truncation)


@dataclass(frozen=True)
class EvaluateConfig:
    run: str | None = option(None, "run folder whose generator to score (a folder of runs: the newest)",
                             positional=True, metavar="RUN")
    checkpoint: str = option("best", "which checkpoint of the run: best, latest, or a step number")
    real: str | None = option(None, "reference images: a prepared dataset or a folder of images "
                              "(default: the run's dataset, or the one an exported model records)",
                              metavar="DIR_OR_DATASET")
    fake: str | None = option(None, "a folder of generated images to score instead of a run (any tool's)",
                              metavar="DIR")
    metrics: tuple = option(EVAL_METRICS_DEFAULT, METRICS_HELP, metavar="LIST")
    extractor: str = option("inception", "feature network: inception (pytorch-fid weights), encoder (trained "
                            "on a seeded half of the dataset, offline; scored against the other half), random "
                            "(fixed-seed random weights, offline), or your own network saved with torch.export "
                            "(.pt2) or TorchScript (.pt)")
    inception_weights: str | None = option(None, "the file pt_inception-2015-12-05-6726825d.pth (default: "
                                           "$ARTFORGE_INCEPTION_WEIGHTS, then the torch hub cache)")
    classifier: str | None = option(None, "your classifier (.pt2 or TorchScript .pt) for the classes metric "
                                    "(default: one trained on the dataset)")
    n: int = option(10_000, "generated images to score (seeds seed .. seed+n-1)")
    max_real: int = option(50_000, "use at most this many reference images")
    split: str | None = option(None, "split of a prepared reference dataset (default: all; a translation run's "
                               "held-out test split)", choices=("train", "val", "test", "all"))
    seed: int = option(0, "first seed of the generated images; also seeds subsets and patches")
    truncation: float = option(1.0, TRUNCATION_HELP)
    mood_steps: int = option(MOOD_STEPS, MOOD_STEPS_HELP + "; the label alone is scored beside it")
    filter: tuple = option((), "sample filter: " + FILTER_HELP + "; scores the n images artforge sample --filter "
                           "keeps, from n / (1 - F) seeds", metavar="NAME")
    filter_drop: float = option(SAMPLE_FILTER_DROP, FILTER_DROP_HELP)
    batch: int = option(64, "images per batch through the feature network")
    kid_subsets: int = option(100, "KID subsets")
    kid_subset_size: int = option(1000, "KID subset size")
    device: str = option("auto", DEVICES_HELP)
    out: str | None = option(None, "results JSON (default: RUN/eval/<checkpoint>.json, or none for --fake)")
    json: bool = option(False, "print the results as JSON on stdout")
    cache: bool = option(True, "reuse cached reference features (keyed by content hash)")
    progress: bool = option(True, "show progress bars", cli=False)

    def __post_init__(self):
        paths_to_str(self, "run", "real", "fake", "out", "inception_weights", "classifier")
        object.__setattr__(self, "metrics", metric_list(self.metrics, "metrics"))
        if self.run is None and self.fake is None:
            raise UsageError("nothing to evaluate", "pass a run folder, or --real DIR_OR_DATASET --fake DIR")
        if self.run is not None and self.fake is not None:
            raise UsageError("pass a run or --fake, not both", "drop one of them")
        if self.fake is not None and self.real is None:
            raise UsageError("--fake needs --real to compare with", "pass --real DIR_OR_DATASET")
        if "is" in self.metrics and self.extractor != "inception":
            raise UsageError("--metrics is (Inception Score) needs --extractor inception", "drop is, or use inception")
        for name in ("n", "max_real", "batch", "kid_subsets", "kid_subset_size"):
            positive_int(getattr(self, name), name)
        positive_int(self.seed, "seed", minimum=0)
        positive_int(self.mood_steps, "mood_steps", minimum=0)
        if self.split is not None:
            choice(self.split, "split", ("train", "val", "test", "all"))
        truncation(self.truncation)
        sample_filters(self, IMAGE_FILTERS, single=True)
        if self.filter and self.run is None:
            raise UsageError("--filter picks among a run's seeds; it cannot filter a --fake folder",
                             "evaluate a run, or drop --filter")
        if self.filter and filter_draws(self.n, self.filter_drop) > MAX_SEEDS:
            raise UsageError(f"--filter {self.filter[0]} would score {filter_draws(self.n, self.filter_drop):,} "
                             f"seeds to keep {self.n:,}, more than {MAX_SEEDS:,}", "lower --filter-drop or --n")
