"""Regularizers of the two networks: small pure functions of logits, images, latents and weights.

    gradient_penalty   Gulrajani et al. 2017 (WGAN-GP, centre 1): E[(||grad_x D(x_hat)|| - 1)^2] on
                       random interpolates x_hat of real and fake; centre 0 is the zero-centred
                       variant of Thanh-Tung et al. 2019, which does not push D to be steep
    r1_penalty         Mescheder et al. 2018: E[||grad_x D(x)||^2] on real data; with lazy
                       regularization (Karras et al. 2020) it runs every k steps, weighted by k
    clip_weights       Arjovsky et al. 2017: the original WGAN's Lipschitz constraint
    instance_noise     Sonderby et al. 2016; Arjovsky & Bottou 2017: Gaussian noise on D's inputs
    path_lengths       Karras et al. 2020 (StyleGAN2, sec. 3.2): ||J_w^T y|| for random image-space
                       y, whose spread about its running mean the path-length regularizer penalizes
    mode_seeking       Mao et al. 2019 (MSGAN, eq. 3): 1 / (d(G(z1), G(z2)) / d(z1, z2)), which G
                       lowers by making two latents' images differ as much as the latents do

The gradients are taken with ``create_graph=True`` so the penalty itself can be minimized.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


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


def mode_seeking(images: Tensor, latents: Tensor, size: int = 0, eps: float = 1e-5) -> Tensor:
    """MSGAN's mode-seeking term for pairs: row i of the first half of ``images`` (and of the ``latents``
    that made them) against row i of the second half; an odd last row is left out.

    The ratio of the pairs' mean absolute image distance to their latents' is what G should make large
    (a G that gives many latents one image has a ratio near 0); returned as 1 / (ratio + eps), to be
    minimized, as in the paper's code. ``size`` > 0 compares images average-pooled to size x size, so the
    term rewards different layouts and colours, not per-pixel noise. Needs at least one pair.
    """
    half = len(images) // 2
    if half == 0:
        raise ValueError("the mode-seeking term needs at least two images")
    x = images.float()
    if size and x.dim() == 4:
        x = F.adaptive_avg_pool2d(x, size)
    image_distance = (x[:half] - x[half:2 * half]).abs().mean()
    latent_distance = (latents[:half] - latents[half:2 * half]).float().abs().mean()
    return 1.0 / (image_distance / latent_distance + eps)
