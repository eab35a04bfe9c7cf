"""Options several commands share: sample filters, truncation, moods, the watermark."""

from __future__ import annotations

from ..errors import UsageError
from .fields import choice, flag_name, is_number, names

# --filter and --filter-drop mean the same in sample, evaluate and bench: sample filters by name (from
# catalog.SAMPLE_FILTERS), each leaving out the --filter-drop share of its draws.
SAMPLE_FILTER_DROP = 0.1  # the one default of --filter-drop
IMAGE_FILTERS = ("jacobian",)  # the filters a trained image G can be sampled through, seed by seed
FILTER_HELP = ("jacobian leaves out the draws where G's Jacobian is largest, the in-between images (Tanielian "
               "et al. 2020); d those the run's D rates least real (Azadi et al. 2019; bench only); none draws "
               "as usual")
FILTER_DROP_HELP = "share F of its draws a sample filter leaves out, in [0, 1)"


def sample_filters(cfg, known: tuple[str, ...], single: bool = False) -> None:
    """--filter and --filter-drop, checked alike by sample, evaluate and bench; names stored as a tuple."""
    chosen = names(cfg.filter)
    for name in chosen:
        if name == "d" and "d" not in known:  # a known filter, not a typo: say why it is not offered here
            raise UsageError("--filter d is for artforge bench only: an image D rates each image against the "
                             "rest of its batch (minibatch std), so a seed would not keep its image",
                             "pass --filter jacobian")
        choice(name, "filter", known)
    if single and len(chosen) > 1:  # only the benchmark scores several filtered samplers side by side
        raise UsageError(f"--filter names {len(chosen)} filters; sample and evaluate apply one",
                         f"pass one of them, e.g. --filter {chosen[0]}")
    if not (is_number(cfg.filter_drop) and 0 <= cfg.filter_drop < 1):
        raise UsageError(f"--filter-drop must be a fraction in [0, 1), got {cfg.filter_drop!r}",
                         "pass e.g. --filter-drop 0.1 (leave out 10% of the draws)")
    object.__setattr__(cfg, "filter", chosen)


TRUNCATION_HELP = ("truncation psi: move each latent toward the model's mean latent, mean + psi * (z - mean); "
                   "psi=0 gives the mean image, 1 the latents as drawn, below 1 trades variety for typicality")


def truncation(psi) -> None:
    if not is_number(psi) or not 0 <= psi <= 10:
        raise UsageError(f"--truncation must be a number in [0, 10], got {psi!r}", "pass e.g. --truncation 0.7")


MOODS = ("joyful", "tender", "sombre", "tense")  # data.mood.MOODS (tests/test_mood.py keeps them equal)
MOOD_STEPS = 50  # latent steering steps toward the asked mood (composing.steer_latents), sample and evaluate
MOOD_STEPS_HELP = ("music models: at most this many steps of steering each piece's latent until its measured mode "
                   "and note density land in the mood asked for (pieces already there do not move); 0: the "
                   "mood label alone")

WATERMARK_HELP = ("add the invisible watermark that 'artforge verify' detects, marking the images as generated; "
                  "--no-watermark leaves it out (the provenance record is written either way)")

# Above it verify says "watermarked"; calibrated by benchmarks/watermark_calibration.py (docs/provenance.md).
WATERMARK_THRESHOLD = 4.65


EVAL_METRICS_DEFAULT = ("fid", "kid", "pr", "dc", "swd", "novelty")  # what artforge evaluate scores unless told
METRIC_NAMES = ("fid", "kid", "is", "pr", "dc", "swd", "novelty", "classes")
METRICS_HELP = ("fid, kid (with a confidence interval), is (Inception Score), pr (precision/recall), "
                "dc (density/coverage), swd (sliced Wasserstein, no network needed), novelty (nearest "
                "training images), classes (class coverage and KL, labeled datasets)")


def metric_list(value, flag: str) -> tuple[str, ...]:
    chosen = names(value)
    for name in chosen:
        choice(name, flag, METRIC_NAMES)
    if not chosen:
        raise UsageError(f"{flag_name(flag)} names no metric", f"pass e.g. {flag_name(flag)} fid,kid,swd")
    return chosen
