"""Adversarial losses: small pure functions of discriminator logits.

Each loss is a pair (D loss, G loss). Both take raw logits (never probabilities) so they are
numerically stable under bf16/fp16 autocast: log(sigmoid(x)) = -softplus(-x).

    minimax        Goodfellow et al. 2014, eq. 1: G minimizes log(1 - D(G(z)))
    nonsaturating  the same D loss; G maximizes log D(G(z)) instead, which keeps G's gradient
                   alive when D confidently rejects its samples (Goodfellow et al. 2014, sec. 3)
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


def g_loss_minimax(fake_logits: Tensor) -> Tensor:
    """log(1 - D(G(z))) = -softplus(x): the original, saturating objective."""
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    """-log D(G(z)) = softplus(-x)."""
    return F.softplus(-fake_logits).mean()


@dataclass(frozen=True)
class AdversarialLoss:
    name: str
    d_loss: Callable[..., Tensor]  # (real_logits, fake_logits, label_smoothing) -> scalar
    g_loss: Callable[[Tensor], Tensor]  # fake_logits -> scalar
    paper: str


LOSSES: dict[str, AdversarialLoss] = {
    loss.name: loss
    for loss in (
        AdversarialLoss("minimax", d_loss_logistic, g_loss_minimax, "Goodfellow et al. 2014, arXiv:1406.2661"),
        AdversarialLoss("nonsaturating", d_loss_logistic, g_loss_nonsaturating,
                        "Goodfellow et al. 2014, arXiv:1406.2661, sec. 3"),
    )
}


def get_loss(name: str) -> AdversarialLoss:
    if name not in LOSSES:
        from .errors import UsageError
        raise UsageError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}", "pass --loss nonsaturating")
    return LOSSES[name]


def discriminator_probabilities(logits: Tensor) -> Tensor:
    """Mean D output as a probability, for monitoring D(x) and D(G(z))."""
    return torch.sigmoid(logits.float()).mean()
