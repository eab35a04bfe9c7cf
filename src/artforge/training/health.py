"""Health checks: small functions of the tick history that name a problem and what to do about it.

Each check looks at the latest log lines (averages over a tick) and returns a warning or None. The
loop runs them all at every tick; a warning is printed and logged when it first fires, and again
every ``REPEAT_TICKS`` ticks while it persists. NaN/Inf is not a check here: the loop stops at once.
"""

from __future__ import annotations

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


def d_wins(history: list[dict]) -> HealthWarning | None:
    """D tells real from fake with near certainty for two ticks: G is learning nothing."""
    real, fake = _last(history, 2, "D/real"), _last(history, 2, "D/fake")
    if real and fake and min(real) > 0.98 and max(fake) < 0.02:
        return HealthWarning("d_wins", f"D wins outright (D(x) {real[-1]:.3f}, D(G(z)) {fake[-1]:.3f})",
                             "lower --lr-d, add --label-smoothing 0.1, or add augmentation")


def g_loss_explodes(history: list[dict]) -> HealthWarning | None:
    """G's loss far above its own recent level, or above an absolute ceiling."""
    values = [row["Loss/G"] for row in history if isinstance(row.get("Loss/G"), (int, float))]
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


HEALTH_CHECKS: dict[str, Callable[[list[dict]], HealthWarning | None]] = {
    "d_wins": d_wins,
    "g_loss_explodes": g_loss_explodes,
    "vanishing_gradients": vanishing_gradients,
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
