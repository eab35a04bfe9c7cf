"""Health checks: small functions of the tick history that name a problem and what to do about it.

Each check looks at the latest log lines (averages over a tick) and returns a warning or None. The
loop runs them all at every tick; a warning is printed and logged when it first fires, and again
every ``REPEAT_TICKS`` ticks while it persists. NaN/Inf is not a check here: the loop stops at once.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Callable

REPEAT_TICKS = 10


@dataclass(frozen=True)
class HealthWarning:
    check: str
    message: str
    suggestion: str


def _last(history: list[dict], n: int, key: str) -> list[float] | None:
    values = [row[key] for row in history[-n:] if isinstance(row.get(key), (int, float))]
    return values if len(values) == n else None


def _values(history: list[dict], key: str) -> list[float]:
    return [row[key] for row in history if isinstance(row.get(key), (int, float))]


def d_wins(history: list[dict]) -> HealthWarning | None:
    """D tells real from fake with near certainty for two ticks: G is learning nothing."""
    real, fake = _last(history, 2, "D/real"), _last(history, 2, "D/fake")
    if real and fake and min(real) > 0.98 and max(fake) < 0.02:
        return HealthWarning("d_wins", f"D wins outright (D(x) {real[-1]:.3f}, D(G(z)) {fake[-1]:.3f})",
                             "lower --lr-d, add --label-smoothing 0.1, or add augmentation")


def g_loss_explodes(history: list[dict]) -> HealthWarning | None:
    """G's adversarial loss far above its own recent level, or above an absolute ceiling (a task whose
    G loss has other terms, pix2pix's L1, logs the adversarial part as Loss/G_adv)."""
    key = "Loss/G_adv" if any("Loss/G_adv" in row for row in history) else "Loss/G"
    values = _values(history, key)
    if len(values) < 3:
        return None
    now, before = values[-1], sorted(values[-6:-1])[len(values[-6:-1]) // 2]
    if now > 10 or (now > 4 and now > 3 * max(before, 1e-3)):
        return HealthWarning("g_loss_explodes", f"G loss exploding ({before:.2f} -> {now:.2f})",
                             "lower --lr-g and --lr-d, or resume from an earlier checkpoint")


def vanishing_gradients(history: list[dict]) -> HealthWarning | None:
    norms = _last(history, 2, "grad_norm/G")
    if norms and max(norms) < 1e-4:
        return HealthWarning("vanishing_gradients", f"G's gradients vanish (norm {norms[-1]:.1e})",
                             "use --loss nonsaturating, or lower --lr-d so D does not saturate")


def mode_collapse(history: list[dict]) -> HealthWarning | None:
    """The fixed-latent samples became much less varied than real images, or than they were.

    ``Health/diversity`` is the mean pairwise distance between G's fixed-latent samples divided by
    that of real images (about 1 when G is as varied as the data).
    """
    values = _values(history, "Health/diversity")
    if len(values) < 3:
        return None
    now, peak = values[-1], max(values[:-1])
    # Early samples are often *more* varied than the data (noise), so a peak above the data's own
    # variety counts as the data's: settling from 2x to 1x the data's is learning, not collapse.
    if now < 0.3 or (peak > 0.5 and now < 0.5 * min(peak, 1.0)):
        return HealthWarning("mode_collapse", f"samples lost their variety (diversity {now:.2f} of the data's, "
                             f"peak {peak:.2f}): mode collapse",
                             "resume from the best checkpoint with --recipe stable, or add --d-augment bgc "
                             "and --r1-gamma 0.1")


OVERFIT_TICKS = 5  # D's signals over a tick's few dozen images swing by +-0.5: one or two ticks prove nothing
OVERFIT_GAP = 0.3  # E[sign D] on training images minus held-out ones: the median over OVERFIT_TICKS ticks
RT_CEILING = 0.9  # r_t = E[sign D(real)] above this on every tick (ADA's target is 0.6)


def d_overfitting(history: list[dict]) -> HealthWarning | None:
    """D is sure of training images it has seen but not of held-out ones: it memorizes them.

    With held-out images (a dataset with a validation split) the gap between D's verdicts on
    training and validation images is the evidence (ADA's r_v heuristic): its median over
    ``OVERFIT_TICKS`` ticks, so it must hold on most of them. Without them, r_t (D's sign on its training batches) is the proxy, and a
    high r_t also fires early in every run, while G's images are still easy to tell from real ones:
    it counts only when it persists, and with adaptive augmentation on only when the controller had
    twice as long to act and could not bring it down.
    """
    train, val = _values(history, "Health/r_train"), _values(history, "Health/r_val")
    p = _values(history, "Augment/p")
    fix = (f"adaptive augmentation is on (p = {p[-1]:.2f}): add images, or let it react faster with a "
           "lower --ada-kimg (e.g. 100)" if p
           else "enable adaptive augmentation (--d-augment bgc --ada-target 0.6), or add images")
    if train and val:  # the direct evidence: the proxy below is not consulted
        gaps = [a - b for a, b in zip(train[-OVERFIT_TICKS:], val[-OVERFIT_TICKS:])]
        if len(gaps) == OVERFIT_TICKS and statistics.median(gaps) > OVERFIT_GAP:
            return HealthWarning("d_overfitting", f"D overfits: E[sign D] is {train[-1]:.2f} on training images "
                                 f"but {val[-1]:.2f} on validation images", fix)
        return None
    ticks = OVERFIT_TICKS * (2 if p else 1)
    rt = _last(history, ticks, "D/sign_real")
    if rt and min(rt) > RT_CEILING:
        return HealthWarning("d_overfitting", f"D overfits: r_t = E[sign D(real)] has stayed above {RT_CEILING} "
                             f"for {ticks} ticks ({rt[-1]:.2f} now)", fix)


def weights_explode(history: list[dict]) -> HealthWarning | None:
    for net in ("G", "D"):
        values = _values(history, f"Health/weight_norm_{net}")
        if len(values) >= 2 and values[-1] > 10 * values[0]:
            return HealthWarning("weights_explode", f"{net}'s weights grew {values[-1] / values[0]:.0f}x since the start: "
                                 "training is diverging", "resume from the best checkpoint with lower learning rates")


STALL_EVALUATIONS = 5


def stalled(history: list[dict]) -> HealthWarning | None:
    """The quality signal has not improved over the last few checkpoints."""
    points = [(row["step"], row["Quality/swd"]) for row in history
              if isinstance(row.get("Quality/swd"), (int, float)) and math.isfinite(row["Quality/swd"])]
    if len(points) <= STALL_EVALUATIONS:
        return None
    best_step, best = min(points, key=lambda p: p[1])
    if best_step < points[-STALL_EVALUATIONS][0]:
        return HealthWarning("stalled", f"training stopped improving: the best checkpoint is still step {best_step} "
                             f"(SWD {best:.1f}), {len(points) - 1 - points.index((best_step, best))} evaluations ago",
                             "stop here and use --checkpoint best, or resume with lower learning rates")


HEALTH_CHECKS: dict[str, Callable[[list[dict]], HealthWarning | None]] = {
    "d_wins": d_wins,
    "g_loss_explodes": g_loss_explodes,
    "vanishing_gradients": vanishing_gradients,
    "mode_collapse": mode_collapse,
    "d_overfitting": d_overfitting,
    "weights_explode": weights_explode,
    "stalled": stalled,
}


class HealthMonitor:
    """Runs the checks each tick and decides which warnings are news."""

    def __init__(self):
        self.active: dict[str, int] = {}  # check -> ticks since it was last announced

    def check(self, history: list[dict]) -> list[HealthWarning]:
        news = []
        for name, fn in HEALTH_CHECKS.items():
            warning = fn(history)
            if warning is None:
                self.active.pop(name, None)
                continue
            ticks = self.active.get(name)
            if ticks is None or ticks >= REPEAT_TICKS:
                news.append(warning)
                self.active[name] = 1
            else:
                self.active[name] = ticks + 1
        return news
