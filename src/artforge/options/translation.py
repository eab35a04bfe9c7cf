"""The image-to-image tasks' options: ``--task pix2pix``, ``cyclegan`` and ``sr``. Each task's networks are
its own family's (not ``--arch``'s), sized by the task's ``--width`` (and ``--blocks``)."""

from __future__ import annotations

from dataclasses import dataclass
from ..errors import UsageError
from .fields import TaskOptions, choice, is_number, non_negative, option, paths_to_str, positive_int

WIDTH_HELP = "base channel count of G and D"


@dataclass(frozen=True)
class Pix2PixOptions(TaskOptions):
    """pix2pix (paired translation: U-Net and PatchGAN, Isola et al. 2017); its optimizer is DCGAN's recipe."""

    recipe = "dcgan"

    l1_weight: float = option(100.0, "weight of the L1 distance of G's output to the target (the paper's)")
    gan_weight: float = option(1.0, "weight of the adversarial loss in G's objective; 0 trains G on its pixel "
                               "loss alone, with no D")
    dropout: float = option(0.5, "dropout rate in G's three innermost up levels, kept on when translating "
                            "(the only noise: varied outputs for one input); 0 makes G deterministic")
    width: int = option(32, WIDTH_HELP)

    def __post_init__(self):
        non_negative(self.l1_weight, "l1_weight")
        non_negative(self.gan_weight, "gan_weight")
        if not (is_number(self.dropout) and 0 <= self.dropout < 1):
            raise UsageError(f"--dropout must be a number in [0, 1), got {self.dropout!r}", "pass e.g. --dropout 0.5")
        positive_int(self.width, "width")


CYCLE_DATASET = "-"  # the positional dataset of a cyclegan run, whose data are --a and --b


@dataclass(frozen=True)
class CycleGANOptions(TaskOptions):
    """CycleGAN (unpaired translation between --a and --b, Zhu et al. 2017): least squares, Adam at 2e-4 with a
    linear decay over the second half (its recipe)."""

    recipe = "cyclegan"

    a: str | None = option(None, "domain A, a prepared dataset (e.g. line art); the positional DATASET is "
                           "taken for it when --a is not given", metavar="DATASET")
    b: str | None = option(None, "domain B, a prepared dataset (e.g. coloured art)", metavar="DATASET")
    cycle_weight: float = option(10.0, "weight of the cycle losses A->B->A and B->A->B (the paper's 10)")
    identity_weight: float = option(0.5, "weight of the identity losses, as a share of --cycle-weight "
                                    "(the paper's 0.5; 0 disables)")
    pool_size: int = option(50, "generated images kept in each D's history pool (0: none)")
    blocks: int = option(6, "residual blocks of G")
    width: int = option(32, WIDTH_HELP)

    def __post_init__(self):
        paths_to_str(self, "a", "b")
        non_negative(self.cycle_weight, "cycle_weight")
        non_negative(self.identity_weight, "identity_weight")
        positive_int(self.pool_size, "pool_size", minimum=0)
        positive_int(self.blocks, "blocks")
        positive_int(self.width, "width")

    def run_dataset(self, dataset: str) -> str:
        """Its data are the two domains: domain A is the run's dataset."""
        a = self.a or (dataset if dataset != CYCLE_DATASET else None)
        if not a or not self.b:
            raise UsageError("--task cyclegan needs two domains", "pass --a DATASET_A --b DATASET_B "
                             "(e.g. datasets/openmoji-lineart-64.zip and datasets/openmoji-colour-64.zip)")
        object.__setattr__(self, "a", a)
        return a


SR_DEGRADATIONS = ("random", "clean")


@dataclass(frozen=True)
class SROptions(TaskOptions):
    """sr (upscaling learnt from high-resolution art, ESRGAN): a relativistic D at 1e-4 with Adam(0.9, 0.99)."""

    recipe = "esrgan"

    scale: int = option(4, "upscaling factor", choices=(2, 4))
    crop: int = option(64, "side of the high-resolution training crops (a multiple of --scale)")
    degrade: str = option("random", "how the low-resolution inputs are made from the art: random (blur, "
                          "resizing, noise and JPEG in random order and strength: for photos, scans and shared "
                          "images) or clean (antialiased bicubic downscaling only: for clean digital art)",
                          choices=SR_DEGRADATIONS)
    l1_weight: float = option(1.0, "weight of the L1 distance of G's output to the true image")
    gan_weight: float = option(0.1, "weight of the adversarial loss in G's objective; 0 trains the fidelity model: "
                               "G on its pixel loss alone, with no D")
    feature_weight: float = option(1.0, "weight of the D-feature matching loss in the GAN model")
    vgg_weights: str | None = option(None, "a VGG-19 state dict (.safetensors or .pth from torchvision) for a "
                                     "perceptual loss; none is downloaded")
    vgg_weight: float = option(1.0, "weight of the VGG perceptual loss when --vgg-weights is given")
    init: str | None = option(None, "start G from this run's weights (the fidelity model, for the GAN model: "
                              "ESRGAN's two-stage training); 'artforge upscale --strength' then blends the two",
                              metavar="RUN")
    blocks: int = option(4, "RRDBs of G")
    width: int = option(32, WIDTH_HELP)

    def __post_init__(self):
        paths_to_str(self, "vgg_weights", "init")
        for name in ("l1_weight", "gan_weight", "feature_weight", "vgg_weight"):
            non_negative(getattr(self, name), name)
        positive_int(self.blocks, "blocks")
        positive_int(self.width, "width")
        choice(self.scale, "scale", (2, 4))
        choice(self.degrade, "degrade", SR_DEGRADATIONS)
        positive_int(self.crop, "crop", minimum=8)
        if self.crop % self.scale:
            raise UsageError(f"--crop {self.crop} is not a multiple of --scale {self.scale}",
                             f"pass e.g. --crop {self.crop // self.scale * self.scale or 4 * self.scale}")
