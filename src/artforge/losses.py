"""Adversarial losses: small pure functions of discriminator logits.

Each loss is a pair (D loss, G loss) of raw logits (never probabilities), so they stay
numerically stable under bf16/fp16 autocast: log(sigmoid(x)) = -softplus(-x). D losses take
(real_logits, fake_logits, label_smoothing); G losses take (fake_logits, real_logits), the real
logits being used only by the relativistic loss.

    minimax        Goodfellow et al. 2014, eq. 1: G minimizes log(1 - D(G(z)))
    nonsaturating  the same D loss; G maximizes log D(G(z)) instead, which keeps G's gradient
                   alive when D confidently rejects its samples (Goodfellow et al. 2014, sec. 3)
    hinge          Lim & Ye 2017; Miyato et al. 2018: D: relu(1 - D(x)) + relu(1 + D(G(z)))
    wasserstein    Arjovsky et al. 2017: D (a critic) maximizes D(x) - D(G(z)); needs a Lipschitz
                   constraint: weight clipping or a gradient penalty (see penalties.py)
    least-squares  Mao et al. 2017 (a=0, b=c=1): D: (D(x) - 1)^2 + D(G(z))^2, halved
    relativistic   Jolicoeur-Martineau 2018, RaSGAN: D judges whether real data is more realistic
                   than the average fake, and the reverse; G's loss is the mirror image
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def d_loss_logistic(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """-log D(x) - log(1 - D(G(z))), mean over the batch.

    One-sided label smoothing (Salimans et al. 2016) moves only the real target to 1 - smoothing,
    i.e. binary cross-entropy against target t: t*softplus(-x) + (1-t)*softplus(x).
    """
    t = 1.0 - label_smoothing
    real_term = t * F.softplus(-real_logits) + (1.0 - t) * F.softplus(real_logits)
    return real_term.mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """log(1 - D(G(z))) = -softplus(x): the original, saturating objective."""
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """-log D(G(z)) = softplus(-x)."""
    return F.softplus(-fake_logits).mean()


def _smoothed_target(label_smoothing: float) -> float:
    return 1.0 - label_smoothing


def d_loss_hinge(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """relu(t - D(x)) + relu(1 + D(G(z))), t = 1 - smoothing (the real margin shrinks)."""
    t = _smoothed_target(label_smoothing)
    return F.relu(t - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def g_loss_hinge(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """-D(G(z)): G raises the critic's score of its samples (the hinge applies to D only)."""
    return -fake_logits.mean()


def d_loss_wasserstein(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """D(G(z)) - D(x): the negated estimate of the Wasserstein-1 distance (smoothing has no meaning)."""
    return fake_logits.mean() - real_logits.mean()


g_loss_wasserstein = g_loss_hinge  # -D(G(z)) as well


def d_loss_least_squares(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """((D(x) - t)^2 + D(G(z))^2) / 2 with t = 1 - smoothing."""
    t = _smoothed_target(label_smoothing)
    return 0.5 * (real_logits - t).square().mean() + 0.5 * fake_logits.square().mean()


def g_loss_least_squares(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """(D(G(z)) - 1)^2 / 2."""
    return 0.5 * (fake_logits - 1.0).square().mean()


def d_loss_relativistic(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """RaSGAN: BCE(D(x) - mean D(G(z)), t) + BCE(D(G(z)) - mean D(x), 0)."""
    t = _smoothed_target(label_smoothing)
    real_rel = real_logits - fake_logits.mean()
    fake_rel = fake_logits - real_logits.mean()
    real_term = t * F.softplus(-real_rel) + (1.0 - t) * F.softplus(real_rel)
    return real_term.mean() + F.softplus(fake_rel).mean()


def g_loss_relativistic(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """The mirror of D's loss: fakes should look more real than the average real, and vice versa."""
    if real_logits is None:
        raise ValueError("the relativistic G loss needs the real logits")
    real_logits = real_logits.detach()
    return (F.softplus(-(fake_logits - real_logits.mean())).mean()
            + F.softplus(real_logits - fake_logits.mean()).mean())


@dataclass(frozen=True)
class AdversarialLoss:
    name: str
    d_loss: Callable[..., Tensor]  # (real_logits, fake_logits, label_smoothing) -> scalar
    g_loss: Callable[..., Tensor]  # (fake_logits, real_logits) -> scalar
    paper: str
    g_needs_real: bool = False  # the G step must also run D on real images
    probabilities: bool = True  # logits are log-odds (sigmoid gives D's probability)


LOSSES: dict[str, AdversarialLoss] = {
    loss.name: loss
    for loss in (
        AdversarialLoss("minimax", d_loss_logistic, g_loss_minimax, "Goodfellow et al. 2014, arXiv:1406.2661"),
        AdversarialLoss("nonsaturating", d_loss_logistic, g_loss_nonsaturating,
                        "Goodfellow et al. 2014, arXiv:1406.2661, sec. 3"),
        AdversarialLoss("hinge", d_loss_hinge, g_loss_hinge, "Lim & Ye 2017, arXiv:1705.02894",
                        probabilities=False),
        AdversarialLoss("wasserstein", d_loss_wasserstein, g_loss_wasserstein,
                        "Arjovsky et al. 2017, arXiv:1701.07875", probabilities=False),
        AdversarialLoss("least-squares", d_loss_least_squares, g_loss_least_squares,
                        "Mao et al. 2017, arXiv:1611.04076", probabilities=False),
        AdversarialLoss("relativistic", d_loss_relativistic, g_loss_relativistic,
                        "Jolicoeur-Martineau 2018, arXiv:1807.00734", g_needs_real=True),
    )
}


def get_loss(name: str) -> AdversarialLoss:
    if name not in LOSSES:
        from .errors import UsageError
        raise UsageError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}", "use one of those, e.g. nonsaturating")
    return LOSSES[name]


def discriminator_probabilities(logits: Tensor) -> Tensor:
    """Mean D output as a probability, for monitoring D(x) and D(G(z))."""
    return torch.sigmoid(logits.float()).mean()
