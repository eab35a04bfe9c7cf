"""The generation task's options (``--task generation``, the default: images, sounds or music from latents):
its regularizers, D's augmentation, conditioning, sizing to a budget and scoring while training.
Options marked "(recipe)" default to None, "the recipe's"."""

from __future__ import annotations

from dataclasses import dataclass
from ..errors import UsageError
from .fields import TaskOptions, fraction, names, non_negative, option, positive, positive_int, choice
from .shared import metric_list
from .names import registry


@dataclass(frozen=True)
class GenerationOptions(TaskOptions):
    uses_family = True  # its networks are --arch's, with that family's options

    n_critic: int | None = option(None, "D steps per G step (recipe)")
    gp_weight: float | None = option(None, "gradient penalty weight on real/fake interpolates (recipe)")
    gp_center: float | None = option(None, "gradient penalty centre: 1 as in WGAN-GP, 0 zero-centred (recipe)")
    r1_gamma: float | None = option(None, "R1 penalty weight gamma on real images (recipe)")
    r1_interval: int = option(16, "steps between lazy R1 penalty steps")
    clip: float | None = option(None, "clip D's weights to [-clip, clip], as in the original WGAN (recipe)")
    label_smoothing: float | None = option(None, "one-sided label smoothing: real target is 1 - this (recipe)")
    aux_weight: float | None = option(None, "conditional models whose D can classify (musegan): weight of the "
                                      "auxiliary classifier loss, AC-GAN: D learns to tell the labels of real items "
                                      "and G to make the asked label heard; 0 off (recipe)")
    mode_seeking: float | None = option(None, "weight of the mode-seeking term in G's loss (MSGAN): pairs of fakes "
                                        "with one label are pushed to differ as much as their latents do, for "
                                        "more variety; 0 off (recipe)")
    mode_seeking_size: int = option(16, "the side that --mode-seeking's pairs of images are average-pooled to "
                                    "before their distance, so that layouts and colours differ, not pixel noise; "
                                    "0: full resolution")
    instance_noise: float | None = option(None, "std of Gaussian noise added to D's inputs, annealed to 0 "
                                          "over --instance-noise-kimg (recipe)")
    instance_noise_kimg: float = option(100.0, "thousands of images over which instance noise fades out")
    d_augment: tuple | None = option(None, "differentiable augmentations of everything D sees: a policy "
                                     "(diffaug, bgc) or operations, comma separated, or none (recipe)",
                                     metavar="LIST")
    d_augment_p: float | None = option(None, "probability of each D augmentation when not adaptive (recipe)")
    ada_target: float | None = option(None, "adaptive augmentation: tune the probability so that "
                                      "E[sign(D(real))] approaches this; 0 disables (recipe)")
    ada_kimg: float = option(500.0, "thousands of images for the adaptive probability to go from 0 to 1")
    conditional: bool = option(True, "condition G and D on dataset labels when the dataset has them")
    self_cond: int | None = option(None, "self-conditioning for data without labels: condition G and D on up to "
                                   "this many clusters of D's features (at most one per 32 training images), "
                                   "found again every --self-cond-every steps; 0 disables (recipe)")
    self_cond_every: int = option(2000, "steps between the reclusterings of --self-cond")
    self_cond_min_images: int = option(1000, "no self-conditioning below this many training images: with few "
                                       "images, conditioning makes G draw one image per cluster")
    size_to_budget: bool = option(True, "--arch dcgan with --minutes and neither --width nor --batch: time a few "
                                  "steps of each candidate network on this machine and train the widest one that gets "
                                  "enough steps in the budget")
    eval_images: int = option(512, "images used for the quality signal (SWD) computed at each checkpoint (0 disables)")
    eval_every: int = option(0, "steps between evaluations with --eval-metrics (a checkpoint is saved with each; "
                             "the first metric then picks the best checkpoint); 0: off")
    eval_metrics: tuple = option(("fid",), "metrics for --eval-every (see 'artforge evaluate --help')", metavar="LIST")
    eval_n: int = option(5000, "generated images per --eval-every evaluation")
    eval_extractor: str = option("inception", "feature network for --eval-every: inception, encoder, random or a "
                                 "TorchScript file")
    inception_weights: str | None = option(None, "the Inception weights file for FID/KID/IS "
                                           "(see 'artforge evaluate --help')")

    def __post_init__(self):
        positive_int(self.eval_images, "eval_images", minimum=0)
        positive_int(self.eval_every, "eval_every", minimum=0)
        positive_int(self.self_cond_min_images, "self_cond_min_images", minimum=0)
        positive_int(self.eval_n, "eval_n")
        object.__setattr__(self, "eval_metrics", metric_list(self.eval_metrics, "eval_metrics"))
        positive_int(self.r1_interval, "r1_interval")
        positive_int(self.mode_seeking_size, "mode_seeking_size", minimum=0)
        positive_int(self.self_cond_every, "self_cond_every")
        positive(self.instance_noise_kimg, "instance_noise_kimg")
        positive(self.ada_kimg, "ada_kimg")
        self._check_recipe_options()

    def _check_recipe_options(self) -> None:
        """Options a recipe fills: checked when given (None means 'the recipe's')."""
        def given(name):
            return getattr(self, name) is not None
        if given("n_critic"):
            positive_int(self.n_critic, "n_critic")
        if given("self_cond"):
            positive_int(self.self_cond, "self_cond", minimum=0)
            if self.self_cond == 1:
                raise UsageError("--self-cond 1 makes a single cluster", "pass --self-cond 0 (off) or 2 and more")
        for name in ("label_smoothing", "d_augment_p", "ada_target"):
            if given(name):
                fraction(getattr(self, name), name)
        for name in ("gp_weight", "gp_center", "r1_gamma", "clip", "instance_noise", "aux_weight", "mode_seeking"):
            if given(name):
                non_negative(getattr(self, name), name)
        if given("d_augment"):
            object.__setattr__(self, "d_augment", names(self.d_augment))
            known = tuple(registry("d_augment"))
            for name in self.d_augment:
                choice(name, "d_augment", known)
