"""Regularizers of the discriminator: small pure functions of logits, images and weights.

    gradient_penalty   Gulrajani et al. 2017 (WGAN-GP, centre 1): E[(||grad_x D(x_hat)|| - 1)^2] on
                       random interpolates x_hat of real and fake; centre 0 is the zero-centred
                       variant of Thanh-Tung et al. 2019, which does not push D to be steep
    r1_penalty         Mescheder et al. 2018: E[||grad_x D(x)||^2] on real data; with lazy
                       regularization (Karras et al. 2020) it runs every k steps, weighted by k
    clip_weights       Arjovsky et al. 2017: the original WGAN's Lipschitz constraint
    instance_noise     Sonderby et al. 2016; Arjovsky & Bottou 2017: Gaussian noise on D's inputs
    path_lengths       Karras et al. 2020 (StyleGAN2, sec. 3.2): ||J_w^T y|| for random image-space
                       y, whose spread about its running mean the path-length regularizer penalizes

The gradients are taken with ``create_graph=True`` so the penalty itself can be minimized.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def interpolate(real: Tensor, fake: Tensor, gen: torch.Generator) -> Tensor:
    """Random points on the lines between paired real and fake images, ready for a gradient."""
    real = real.detach().float()  # under autocast G's output may be bf16: interpolate in fp32
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=gen).to(real)
    return torch.lerp(fake.detach().to(real), real, eps).requires_grad_(True)


def _input_gradient(logits: Tensor, inputs: Tensor) -> Tensor:
    (grad,) = torch.autograd.grad(logits.sum(), inputs, create_graph=True)
    return grad.flatten(1)  # (B, C*H*W); the sum over the batch keeps samples independent


def gradient_penalty(logits: Tensor, inputs: Tensor, center: float = 1.0) -> Tensor:
    """E[(||grad D(inputs)||_2 - center)^2]; ``inputs`` must require grad and have produced ``logits``."""
    norms = _input_gradient(logits.float(), inputs).float().norm(2, dim=1)
    return (norms - center).square().mean()


def r1_penalty(real_logits: Tensor, real_images: Tensor) -> Tensor:
    """E[||grad D(x)||_2^2] over real images (the gamma/2 weight is the caller's)."""
    return _input_gradient(real_logits.float(), real_images).float().square().sum(dim=1).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, limit: float) -> None:
    """Clamp every parameter to [-limit, limit]."""
    for p in module.parameters():
        p.clamp_(-limit, limit)


def path_lengths(images: Tensor, ws: Tensor, noise: Tensor) -> Tensor:
    """||J_w^T y||_2 per sample: ``images`` (B, C, H, W) made from ``ws`` (B, L, D), ``y`` = ``noise`` / sqrt(H W).

    The Jacobian-vector product comes from one backward pass of <images, y>; its squared norm is
    summed over the style dimension and averaged over the L layers, as StyleGAN2 does.
    """
    y = noise.to(images.dtype) / (images.shape[2] * images.shape[3]) ** 0.5
    (grad,) = torch.autograd.grad((images * y).sum(), ws, create_graph=True)
    return grad.float().square().sum(dim=2).mean(dim=1).sqrt()  # (B,)


def path_length_penalty(lengths: Tensor, mean: Tensor) -> Tensor:
    """E[(||J_w^T y|| - a)^2], ``a`` the running mean of the lengths (the caller keeps it)."""
    return (lengths - mean).square().mean()


def instance_noise(x: Tensor, std: float, gen: torch.Generator) -> Tensor:
    """x plus N(0, std^2) noise (identity when std is 0)."""
    if std <= 0:
        return x
    return x + std * torch.randn(x.shape, generator=gen).to(x)
