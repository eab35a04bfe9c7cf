"""Sample filters: draw more samples than asked for and keep the ones a score rates best.

A filter changes how a trained G is *sampled*, not how it is trained, like the truncation trick.
Each scorer maps latents to one number per sample, higher meaning keep:

- ``d``: the run's discriminator logit, the idea of discriminator rejection sampling (Azadi et al.
  2019) in its simplest, deterministic form. D knows where G's samples leave the data, but its
  logits need not be calibrated from one mode to the next, so it can drop a whole mode.
- ``jacobian``: minus the Frobenius norm of G's Jacobian dG/dz, Jacobian-based truncation
  (Tanielian et al. 2020, "Learning disconnected manifolds: a no GAN's land"). A continuous G must
  stretch its latent space to jump between separate modes; the samples where it stretches most
  are the ones it draws between modes, and no mode is made of them.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from .draws import filter_draws


def d_scores(G: nn.Module, D: nn.Module, z: Tensor, c: Tensor | None = None) -> Tensor:
    with torch.no_grad():
        if c is None:
            return D(G(z)).flatten()  # (N,)
        return D(G(z, c), c).flatten()


def jacobian_scores(G: nn.Module, D: nn.Module, z: Tensor, c: Tensor | None = None) -> Tensor:
    """-||dG/dz||_F per sample, exactly (one Jacobian per sample: meant for small outputs)."""
    from torch.func import jacrev, vmap

    if c is None:
        jac = vmap(jacrev(lambda v: G(v[None])[0]))(z)  # (N, *x_shape, z_dim)
    else:  # each sample's own label; the Jacobian is still with respect to z alone
        jac = vmap(jacrev(lambda v, k: G(v[None], k[None])[0]))(z, c)
    return -jac.flatten(1).norm(dim=1).detach()  # (N,)


def jacobian_norm_estimate(G: nn.Module, z: Tensor, c: Tensor | None, directions: Tensor) -> Tensor:
    """||dG/dz||_F per sample from random output directions, for outputs too large for the exact one.

    ``directions`` (K, N, *x_shape) holds K standard-normal directions per sample: E ||J^T u||^2 =
    ||J||_F^2 for u ~ N(0, I), and each J^T u is one backward pass through the same forward (on CPU
    far cheaper than forward-mode products). Samples must not interact (G in eval mode).
    """
    z = z.detach().requires_grad_(True)
    squares = []
    with torch.enable_grad():
        x = G(z, c)  # (N, *x_shape)
        for k, u in enumerate(directions):
            (g,) = torch.autograd.grad(x, z, grad_outputs=u.to(x.dtype), retain_graph=k < len(directions) - 1)
            squares.append(g.float().pow(2).sum(1))  # (N,)
    return torch.stack(squares).mean(0).sqrt()  # (N,)


SCORERS: dict[str, Callable[..., Tensor]] = {"d": d_scores, "jacobian": jacobian_scores}
LABELS = {"d": "D filter", "jacobian": "Jacobian filter"}


def filter_samples(G: nn.Module, D: nn.Module, z_dim: int, n: int, drop: float, gen: torch.Generator,
                   by: str, labels: Callable[[int, torch.Generator], Tensor] | None = None) -> Tensor:
    """The ``n`` samples scorer ``by`` rates best among ``ceil(n / (1 - drop))`` draws, in draw order.

    ``labels(count, gen)`` draws class labels for a conditional G (one per draw, after the latents).
    """
    if by not in SCORERS:
        raise ValueError(f"unknown sample filter {by!r}; known: {', '.join(SCORERS)}")
    z = torch.randn(filter_draws(n, drop), z_dim, generator=gen)  # (draws, z_dim)
    c = labels(len(z), gen) if labels is not None else None
    keep = SCORERS[by](G, D, z, c).topk(n).indices.sort().values  # (n,)
    with torch.no_grad():
        return G(z[keep]) if c is None else G(z[keep], c[keep])
