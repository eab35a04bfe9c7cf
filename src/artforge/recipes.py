"""Training recipes: a loss, its regularizers and its optimizer settings, as one named preset.

``--recipe NAME`` fills every training option left unset; options given explicitly win. The
resolved values are what a run's ``options.json`` records, so a run never depends on a recipe
changing later. Each recipe cites the paper whose settings it follows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    paper: str
    loss: str = "nonsaturating"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    lr_decay: float = 0.0  # the last share of the run over which learning rates fall linearly ...
    lr_floor_g: float = 0.0  # ... to this share of G's set rate (0: to zero; 1: G's does not fall)
    lr_floor_d: float = 0.0  # ... and to this share of D's
    beta1: float = 0.5
    beta2: float = 0.999
    n_critic: int = 1  # D steps per G step
    gp_weight: float = 0.0  # gradient penalty on interpolates (WGAN-GP)
    gp_center: float = 1.0  # 1: WGAN-GP; 0: zero-centred
    r1_gamma: float = 0.0  # R1 on real images, lazily every --r1-interval steps
    clip: float = 0.0  # weight clipping of D (WGAN)
    d_norm: str = "batch"  # batch | layer | spectral | none
    g_spectral: bool = False  # spectral normalization in G as well
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs, annealed to 0
    d_augment: tuple = ()  # differentiable augmentations of D's inputs (ops/augment.py)
    d_augment_p: float = 0.0  # their probability when not adaptive
    ada_target: float = 0.0  # > 0: tune the probability toward this r_t (ADA)
    ema_kimg: float = 10.0
    label_smoothing: float = 0.0
    self_cond: int = 0  # clusters of D's features that G and D are conditioned on when data has no labels
    aux_weight: float = 0.0  # AC-GAN: D also classifies the labels, G is trained to make its asked label heard
    mode_seeking: float = 0.0  # MSGAN: G's pairs of fakes with one label are pushed apart (penalties.mode_seeking)


def recipe_fields() -> tuple[str, ...]:
    """The training options a recipe sets."""
    return tuple(f.name for f in dataclasses.fields(Recipe) if f.name not in ("name", "summary", "paper"))


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("dcgan", "the original DCGAN: non-saturating loss, batch norm, Adam(0.5, 0.999)",
               "Radford et al. 2015, arXiv:1511.06434"),
        Recipe("lsgan", "least-squares loss on the DCGAN set-up", "Mao et al. 2017, arXiv:1611.04076",
               loss="least-squares"),
        Recipe("ragan", "relativistic average loss on the DCGAN set-up",
               "Jolicoeur-Martineau 2018, arXiv:1807.00734", loss="relativistic"),
        Recipe("wgan", "Wasserstein critic with weight clipping, 5 critic steps per G step",
               "Arjovsky et al. 2017, arXiv:1701.07875 (Adam with beta1 0 in place of RMSprop)",
               loss="wasserstein", clip=0.01, n_critic=5, lr_g=5e-5, lr_d=5e-5, beta1=0.0),
        Recipe("wgan-gp", "Wasserstein critic with a gradient penalty, layer norm, 5 critic steps",
               "Gulrajani et al. 2017, arXiv:1704.00028", loss="wasserstein", gp_weight=10.0,
               n_critic=5, lr_g=1e-4, lr_d=1e-4, beta1=0.0, beta2=0.9, d_norm="layer"),
        Recipe("hinge-sn", "hinge loss, spectrally normalized D, TTUR learning rates",
               "Miyato et al. 2018, arXiv:1802.05957; Heusel et al. 2017 (TTUR); Zhang et al. 2019 (SAGAN)",
               loss="hinge", d_norm="spectral", lr_g=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9),
        Recipe("stable", "recommended for small art datasets: non-saturating loss, lazy R1, "
               "adaptive differentiable augmentation, EMA, self-conditioning on 50 clusters",
               "Mescheder et al. 2018 (R1); Karras et al. 2020 (ADA, lazy regularization); "
               "Zhao et al. 2020 (DiffAugment); Liu et al. 2020 (self-conditioned GANs)",
               beta1=0.0, beta2=0.99, r1_gamma=0.1, d_augment=("bgc",), ada_target=0.6, ema_kimg=10.0,
               self_cond=50),
        Recipe("stylegan2", "the style-based generator's own: equalized-lr Adam(0, 0.99) at 0.0025, lazy R1 "
               "(gamma from resolution and batch for 64 px), adaptive augmentation, EMA, self-conditioning",
               "Karras et al. 2020, arXiv:1912.04958 (StyleGAN2) and arXiv:2006.06676 (ADA, its gamma heuristic)",
               lr_g=0.0025, lr_d=0.0025, beta1=0.0, beta2=0.99, r1_gamma=0.05, d_norm="none", d_augment=("bgc",),
               ada_target=0.6, ema_kimg=5.0, self_cond=50),
        Recipe("style-cpu", "the lite style model's, for CPU minutes: the strided residual D at DCGAN's 2e-4 "
               "and G at 0.01 (4x StyleGAN2's) falling to 0.0005 over the last 70% of the run, Adam(0, 0.99), "
               "lazy R1, adaptive augmentation, EMA, self-conditioning, mode seeking (weight 1)",
               "Karras et al. 2020 (StyleGAN2, ADA) with Radford et al. 2015's D learning rate and Mao et al. "
               "2019's mode-seeking term (MSGAN); measured at the demo's budget (docs/style.md)",
               lr_g=0.01, lr_d=2e-4, lr_decay=0.7, lr_floor_g=0.05, lr_floor_d=1.0, beta1=0.0, beta2=0.99,
               r1_gamma=0.05, d_norm="none", d_augment=("bgc",), ada_target=0.6, ema_kimg=5.0, self_cond=50,
               mode_seeking=1.0),
        Recipe("cyclegan", "unpaired translation's: least squares, Adam(0.5, 0.999) at 2e-4, learning rates "
               "constant for the first half and falling linearly to 0 over the second, no EMA",
               "Zhu et al. 2017, arXiv:1703.10593, sec. 4", loss="least-squares", lr_decay=0.5, ema_kimg=0.0),
        Recipe("esrgan", "upscaling's: relativistic average D, Adam(0.9, 0.99) at 1e-4, EMA",
               "Wang et al. 2018, arXiv:1809.00219 (ESRGAN); Wang et al. 2021 (Real-ESRGAN: EMA)",
               loss="relativistic", lr_g=1e-4, lr_d=1e-4, beta1=0.9, beta2=0.99, d_norm="none", ema_kimg=10.0),
        Recipe("wavegan", "WaveGAN's and SpecGAN's: WGAN-GP (penalty 10), 5 critic steps, Adam(0.5, 0.9) at 1e-4, "
               "no normalization in D, EMA",
               "Donahue et al. 2019, arXiv:1802.04208, sec. 5 and app. D", loss="wasserstein", gp_weight=10.0,
               n_critic=5, lr_g=1e-4, lr_d=1e-4, beta1=0.5, beta2=0.9, d_norm="none", ema_kimg=10.0),
        Recipe("wavegan-cpu", "one-shot sounds in CPU minutes: non-saturating loss with lazy R1 and one D step per "
               "G step (5x WGAN-GP's G steps in the same time), Adam(0.5, 0.99) at 2e-4, EMA",
               "Mescheder et al. 2018 (R1) on Donahue et al. 2019's networks; measured on the built-in drums "
               "(docs/sound-music.md)", r1_gamma=1.0, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.99, d_norm="none",
               ema_kimg=2.0),
        Recipe("musegan-cpu", "multi-track music in CPU minutes: wavegan-cpu's loss and optimizer plus an auxiliary "
               "classifier of the labels (AC-GAN, weight 1): without it the mood labels barely steered G",
               "Odena et al. 2017, arXiv:1610.09585 (AC-GAN) on Dong et al. 2018's networks; measured on the Bach "
               "chorales (docs/sound-music.md)", r1_gamma=1.0, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.99,
               d_norm="none", ema_kimg=2.0, aux_weight=1.0),
    )
}

DEFAULT_RECIPE = "stable"
