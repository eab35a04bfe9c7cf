"""Unpaired generation: G(z, c) learns the distribution of one dataset against D(x, c).

The GAN phases (D on real and fake, lazy R1, G) over the networks a family names "G" and "D";
labels from the dataset, or self-conditioning clusters of D's features for data without them
(Liu et al. 2020); the dataset's augmentations, D's differentiable or adaptive augmentation and
instance noise; a fixed-latent preview grid, health statistics and a cheap quality signal (SWD).

The task draws everything that defines the *global* batch (its latents and labels) from the
engine's shared random stream and keeps this process's slice, so N processes together see exactly
the batch one process would; what is private to a process (augmentation, penalties' interpolation
points, instance noise) comes from its own stream. On one process both streams are the same
generator, as they have always been.
"""

from __future__ import annotations

import functools
from typing import Callable, Iterator

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..data.loader import BatchSource, decode_all
from ..errors import UsageError
from ..losses import AdversarialLoss, discriminator_probabilities, get_loss
from ..modality import IMAGE, Modality
from ..ops.augment import AdaptiveStrength
from ..ops.swd import swd
from ..penalties import (clip_weights, gradient_penalty, instance_noise, interpolate, mode_seeking,
                         path_length_penalty, path_lengths, r1_penalty)
from ..training.steps import Phase, Task
from ..utils.device import autocast
from .selfcond import SelfConditioner, weighted_label

GRID_IMAGES = 64
MEAN_IMAGE_BYTES = 2**26  # real images averaged for G's initial output bias: 64 MB of them, at least 256
SELF_COND_IMAGES = 2048  # real images clustered for self-conditioning (all of them in a small dataset)
QUALITY_METRIC = "swd"


def _identity(x: Tensor) -> Tensor:
    return x


class StepContext:
    """What phase losses see: the networks, this repeat's real batch and a fake batch (both cached).

    The fake batch is generated once per repeat and shared: the D phase uses it detached, the G phase
    back-propagates through the same graph, as in the reference DCGAN loop (no second G forward).
    ``prepare_real`` turns a loaded batch into model input (range, layout, dataset augmentation);
    ``d_view`` is applied to everything D sees, real and fake alike (differentiable augmentation,
    instance noise); ``observe_real`` receives D's logits on real images (the ADA signal).
    ``labeler`` (self-conditioning) labels each real batch from its items, in place of the
    dataset's labels, and each fake is then asked for the label of the real item beside it.
    ``shared`` draws the global batch's latents and labels (the same on every process); this process
    keeps rows ``part`` of them. ``gen`` is this process's own stream. ``pair_labels`` (the mode-seeking
    term) gives the second half of this process's fakes the labels of the first half, so that each pair the
    term compares shares its label.
    """

    def __init__(self, G: nn.Module, D: nn.Module, loss: AdversarialLoss, real_batches: Iterator,
                 gen: torch.Generator, device: torch.device, batch: int, z_dim: int, num_classes: int = 0,
                 prepare_real: Callable[[Tensor], Tensor] = _identity, d_view: Callable[[Tensor], Tensor] = _identity,
                 label_smoothing: float = 0.0, observe_real: Callable[[Tensor], None] | None = None,
                 labeler: Callable[[Tensor], Tensor] | None = None, shared: torch.Generator | None = None,
                 part: slice | None = None, style_mixing: float = 0.0, aux_weight: float = 0.0,
                 pair_labels: bool = False):
        self.G, self.D, self.adv = G, D, loss
        self.real_batches = real_batches
        self.gen, self.device = gen, device
        self.shared = shared if shared is not None else gen
        self.batch, self.z_dim, self.num_classes = batch, z_dim, num_classes  # batch: global
        self.part = part if part is not None else slice(0, batch)
        self.prepare_real = prepare_real
        self.d_view = d_view
        self.label_smoothing = label_smoothing
        self.observe_real = observe_real
        self.labeler = labeler
        self.style_mixing = style_mixing  # style-based G: the share of fakes whose styles come from two latents
        self.aux_weight = aux_weight  # AC-GAN: D's classify() head learns the labels; G is trained to match them
        self.pair_labels = pair_labels
        self.draws = 0  # real batches taken so far: with the seed, fixes the data order
        self._real = None
        self._fake = None
        self._latents = None

    def new_repeat(self) -> None:
        self._real = None
        self._fake = None
        self._latents = None

    def real(self) -> tuple[Tensor, Tensor | None]:
        """This repeat's real batch (this process's part), ready for the model, and its labels."""
        if self._real is None:
            data, labels = next(self.real_batches)
            self.draws += 1
            images = self.prepare_real(data)
            if self.labeler is not None:
                labels = self.labeler(images)
            self._real = (images, labels if self.num_classes else None)
        return self._real

    def fake(self) -> tuple[Tensor, Tensor | None]:
        """G(z, c) for this repeat, with its graph, and the labels it was asked for."""
        if self._fake is None:
            z = torch.randn(self.batch, self.z_dim, generator=self.shared)[self.part].to(self.device)
            c = None
            if self.labeler is not None:  # clusters in proportion to their size, as the real batch has them
                c = self.real()[1]
            elif self.num_classes:
                c = torch.randint(0, self.num_classes, (self.batch,), generator=self.shared)[self.part].to(self.device)
            if self.pair_labels and c is not None:
                c = paired_halves(c)
            self._latents = z
            if self.style_mixing:
                self._fake = (self.G.synthesis(self._mixed_styles(z, c)), c)
            else:
                self._fake = (self.G(z, c), c)
        return self._fake

    def latents(self) -> Tensor:
        """The z of this repeat's fake batch (each fake's first latent, with style mixing)."""
        self.fake()
        return self._latents

    def _mixed_styles(self, z: Tensor, c: Tensor | None) -> Tensor:
        """w+ where each sample, with probability ``style_mixing``, switches to a second latent's w at a
        random layer (style-mixing regularization, Karras et al. 2019, sec. 3.1); drawn for the global batch."""
        num_ws = self.G.num_ws
        z2 = torch.randn(self.batch, self.z_dim, generator=self.shared)[self.part].to(self.device)
        cutoff = torch.randint(1, num_ws, (self.batch,), generator=self.shared)
        mixed = torch.rand(self.batch, generator=self.shared) < self.style_mixing
        cutoff = torch.where(mixed, cutoff, num_ws)[self.part].to(self.device)  # num_ws: no switch
        ws, ws2 = self.G.broadcast(self.G.map(z, c)), self.G.broadcast(self.G.map(z2, c))
        second = torch.arange(num_ws, device=self.device)[None, :] >= cutoff[:, None]  # (B, num_ws)
        return torch.where(second[:, :, None], ws2, ws)

    def d(self, x: Tensor, c: Tensor | None) -> Tensor:
        """D's logits for x as D sees it (after ``d_view``), in fp32 for the losses."""
        return self.D(self.d_view(x), c).float()


def paired_halves(labels: Tensor) -> Tensor:
    """The labels with their second half set to their first half's (an odd last row keeps its own)."""
    half = len(labels) // 2
    out = labels.clone()
    out[half:2 * half] = labels[:half]
    return out


# ----------------------------------------------------------------------------- phase losses

def d_adversarial(ctx: StepContext, gp_weight: float = 0.0, gp_center: float = 1.0) -> dict[str, Tensor]:
    real, c_real = ctx.real()
    fake, c_fake = ctx.fake()
    real_logits = ctx.d(real, c_real)
    fake_logits = ctx.d(fake.detach(), c_fake)
    if ctx.observe_real is not None:
        ctx.observe_real(real_logits)
    loss = ctx.adv.d_loss(real_logits, fake_logits, ctx.label_smoothing)
    if ctx.aux_weight and c_real is not None:
        aux = auxiliary_loss(ctx, real, c_real)
        loss = loss + ctx.aux_weight * aux
        stats_aux = {"D/aux": aux.detach()}
    else:
        stats_aux = {}
    stats = {**stats_aux, "D/real": discriminator_probabilities(real_logits), "D/fake": discriminator_probabilities(fake_logits),
             "D/sign_real": torch.sign(real_logits.detach()).mean()}
    if gp_weight:
        points = interpolate(real, fake, ctx.gen)
        gp = gradient_penalty(ctx.d(points, c_real), points, gp_center)
        loss = loss + gp_weight * gp
        stats["Penalty/gp"] = gp.detach()
    return {"loss": loss, **stats}


def auxiliary_loss(ctx: StepContext, x: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy of D's classifier head on x as D sees it (AC-GAN, Odena et al. 2017)."""
    return F.cross_entropy(ctx.D.classify(ctx.d_view(x)).float(), labels)


def d_r1(ctx: StepContext, weight: float) -> dict[str, Tensor]:
    """Lazy R1: ``weight`` is gamma / 2 times the interval (Karras et al. 2020, app. B)."""
    real, c_real = ctx.real()
    real = real.detach().requires_grad_(True)
    r1 = r1_penalty(ctx.d(real, c_real), real)
    return {"loss": weight * r1, "Penalty/r1": r1.detach()}


def g_adversarial(ctx: StepContext, mode_seeking_weight: float = 0.0,
                  mode_seeking_size: int = 0) -> dict[str, Tensor]:
    """G's adversarial loss; plus, with ``mode_seeking_weight``, MSGAN's term on pairs of this batch's fakes
    (the first half against the second, which ``pair_labels`` gave the same labels)."""
    fake, c_fake = ctx.fake()
    real_logits = None
    if ctx.adv.g_needs_real:
        real, c_real = ctx.real()
        with torch.no_grad():
            real_logits = ctx.d(real, c_real)
    loss = ctx.adv.g_loss(ctx.d(fake, c_fake), real_logits)
    stats = {}
    if ctx.aux_weight and c_fake is not None:
        aux = auxiliary_loss(ctx, fake, c_fake)
        loss = loss + ctx.aux_weight * aux
        stats["G/aux"] = aux.detach()
    if mode_seeking_weight and len(fake) >= 2:
        term = mode_seeking(fake, ctx.latents(), mode_seeking_size)
        loss = loss + mode_seeking_weight * term
        stats["G/mode_seeking"] = term.detach()
    return {"loss": loss, **stats}


class PathLengthMean:
    """The running mean of the path lengths the regularizer pulls toward (saved in checkpoints)."""

    def __init__(self, decay: float = 0.01, average: Callable[[float], float] = float):
        self.value, self.decay, self.average = 0.0, decay, average

    def update(self, batch_mean: float) -> None:
        self.value += self.decay * (self.average(batch_mean) - self.value)  # every process the same


def g_path_length(ctx: StepContext, weight: float, mean: PathLengthMean) -> dict[str, Tensor]:
    """Lazy path-length regularization of a style-based G on half a batch (Karras et al. 2020, app. B)."""
    n = max(1, (ctx.part.stop - ctx.part.start) // 2)
    z = torch.randn(n, ctx.z_dim, generator=ctx.gen).to(ctx.device)
    c = torch.randint(0, ctx.num_classes, (n,), generator=ctx.gen).to(ctx.device) if ctx.num_classes else None
    ws = ctx.G.broadcast(ctx.G.map(z, c))
    images = ctx.G.synthesis(ws)
    lengths = path_lengths(images, ws, torch.randn(images.shape, generator=ctx.gen).to(images.device))
    penalty = path_length_penalty(lengths, torch.tensor(mean.value, device=lengths.device))
    mean.update(lengths.mean().item())
    return {"loss": weight * penalty, "Penalty/pl": penalty.detach(), "Penalty/pl_mean": torch.tensor(mean.value)}


def mode_seeking_weight(cfg) -> float:
    return float(getattr(cfg.task, "mode_seeking", 0.0) or 0.0)


def build_phases(cfg, path_length: PathLengthMean | None = None) -> list[Phase]:
    """The GAN phases of a resolved training config: D (n_critic times), lazy R1, G.

    D's phases keep G's graph: the fake batch they make is the one the G phase back-propagates through.
    """
    after_d = functools.partial(clip_weights, limit=cfg.task.clip) if cfg.task.clip else None
    task = cfg.task
    phases = [Phase("D", "D", functools.partial(d_adversarial, gp_weight=task.gp_weight, gp_center=task.gp_center),
                    repeats=cfg.task.n_critic, after_step=after_d, keeps_graph=("G",))]
    if cfg.task.r1_gamma:
        weight = cfg.task.r1_gamma / 2 * cfg.task.r1_interval
        phases.append(Phase("Dreg", "D", functools.partial(d_r1, weight=weight), interval=cfg.task.r1_interval,
                            keeps_graph=("G",)))
    phases.append(Phase("G", "G", functools.partial(g_adversarial, mode_seeking_weight=mode_seeking_weight(cfg),
                                                    mode_seeking_size=getattr(cfg.task, "mode_seeking_size", 0))))
    if path_length is not None and getattr(cfg.family, "pl_weight", 0):
        family = cfg.family
        phases.append(Phase("Greg", "G", functools.partial(g_path_length, weight=family.pl_weight * family.pl_interval,
                                                           mean=path_length), interval=family.pl_interval))
    return phases


# ----------------------------------------------------------------------------- the task

class GenerationTask(Task):
    """G(z, c) against D(x, c) on one prepared dataset of images, sounds or piano rolls.

    ``modality`` is what G makes and D judges; ``data_modality`` what the dataset stores (the same for
    images, WaveGAN and MuseGAN; SpecGAN makes spectrograms from stored sounds). A G with ``encode_real`` turns
    real items into what it makes (SpecGAN's normalized spectrograms), one with ``fit_data`` learns that
    encoding from the data at the start of a run.
    """

    name = "generation"
    modality = IMAGE
    progress_keys = {"D": "Loss/D", "G": "Loss/G", "D(x)": "D/real", "D(G(z))": "D/fake"}

    def __init__(self, cfg, dataset, num_classes: int, self_cond: int, modality: Modality = IMAGE,
                 data_modality: Modality = IMAGE):
        self.cfg = cfg  # the run's resolved options by part (options/train.py's TrainSections)
        self.modality, self.data_modality = modality, data_modality
        self.dataset = dataset
        self.num_classes = num_classes  # dataset classes or self-conditioning clusters
        self.self_cond = self_cond
        self.label_classes = 0 if self_cond else num_classes
        self.clusters: SelfConditioner | None = None
        self._self_cond_state = None  # a checkpoint's clusters, restored once the data is loaded
        self.fixed_z = self.fixed_c = None
        self.path_length: PathLengthMean | None = None  # style-based G with --pl-weight

    # ------------------------------------------------------------------ set-up

    def attach(self, engine) -> None:
        super().attach(engine)
        cfg = self.cfg
        task = cfg.task
        self.ada = AdaptiveStrength(task.ada_target, task.ada_kimg) if task.ada_target and task.d_augment else None
        self.pipe = self.modality.d_view_pipe(task.d_augment, 0.0 if self.ada else task.d_augment_p, engine.gen)
        self.ada_images = 0  # real images since the last adaptive update
        if self.styled and cfg.family.pl_weight:
            self.path_length = PathLengthMean(average=lambda v: engine.dist.mean({"pl": v})["pl"])
        indices = self.dataset.indices(cfg.engine.split)
        if len(indices) == 0:
            raise UsageError(f"dataset {self.dataset.path} has no images in the {cfg.engine.split!r} split",
                             "use the 'all' split, or prepare the dataset with a larger train fraction")
        dist = engine.dist
        opts = cfg.engine
        self.source = BatchSource(self.dataset, indices, opts.batch, opts.seed, engine.device, opts.cache_gb,
                                  opts.workers, progress=opts.progress and dist.is_writer,
                                  rank=dist.rank, world=dist.world)

    @property
    def styled(self) -> bool:
        """G maps latents to per-layer styles (style mixing and path length apply)."""
        return self.engine.family.styles

    def phases(self) -> list[Phase]:
        return build_phases(self.cfg, self.path_length)

    def learning_rates(self) -> dict[str, float]:
        return {"G": self.cfg.engine.lr_g, "D": self.cfg.engine.lr_d}

    def real_view(self, stored: Tensor) -> Tensor:
        """Stored items (uint8 images, int16 sounds) -> what D sees of real data (before augmentation)."""
        x = self.data_modality.to_model(stored.to(self.engine.device))
        return self.engine.nets["G"].encode_real(x) if self.engine.family.spectral else x

    def init_from_data(self) -> None:
        """G's output bias starts at the training images' mean image (when the family has one); a G
        that encodes real data (SpecGAN's spectrogram statistics) fits that encoding."""
        family = self.engine.family
        nets = self.engine.all_nets()
        generators = [net for name, net in nets.items() if name.startswith("G")]
        if family.spectral:
            n = min(len(self.source.indices), 1024)
            real = self.data_modality.to_model(self.source.fixed_sample(n, self.cfg.engine.seed + 3)[0])
            for G in generators:
                G.fit_data(real.to(self.engine.device))
        if not family.has_output_bias(self.engine.model_cfg):
            return
        per_image = self.dataset.channels * self.dataset.height * self.dataset.width
        n = min(len(self.source.indices), max(256, MEAN_IMAGE_BYTES // per_image))
        images = self.source.fixed_sample(n, self.cfg.engine.seed + 3)[0]  # uint8 (N, C, H, W)
        mean = images.sum(dim=0, dtype=torch.float32) / (127.5 * len(images)) - 1  # (C, H, W) in [-1, 1]
        for G in generators:
            G.init_output_bias(mean.to(self.engine.device))

    def start(self) -> None:
        cfg = self.cfg
        self.fixed_z, self.fixed_c = self._fixed_latents(max(GRID_IMAGES, cfg.task.eval_images))
        if self.self_cond:
            self._start_self_conditioning()
        n = cfg.task.eval_images
        self.fixed_real = self.source.fixed_sample(n, cfg.engine.seed)[0] if n else None
        self._health_batches()

    def _start_self_conditioning(self) -> None:
        images = self.source.fixed_sample(min(len(self.source.indices), SELF_COND_IMAGES), self.cfg.engine.seed + 2)[0]
        self.clusters = SelfConditioner(self.self_cond, self.real_view(images), self.cfg.engine.seed)
        if self._self_cond_state is not None:
            self.clusters.load_state_dict(self._self_cond_state, self.engine.nets["D"])
            self._weight_fixed_labels()
        else:
            self._recluster()

    def _recluster(self) -> None:
        # in the precision training runs at, so the features that define the clusters match those that assign to them
        with autocast(self.engine.device, self.engine.dtype):
            self.clusters.recluster(self.engine.nets["D"])
        self._weight_fixed_labels()

    def _weight_fixed_labels(self) -> None:
        """Grid and quality-signal labels in proportion to the clusters' sizes, as samplers draw them."""
        weights = self.label_weights
        self.fixed_c = torch.tensor([weighted_label(i, weights) for i in range(len(self.fixed_z))]).to(self.engine.device)

    def _fixed_latents(self, n: int):
        g = torch.Generator().manual_seed(self.cfg.engine.seed + 1_000_003)
        z = torch.randn(n, self.engine.model_cfg.z_dim, generator=g).to(self.engine.device)
        c = (torch.arange(n) % self.num_classes).to(self.engine.device) if self.num_classes else None
        return z, c

    @property
    def label_names(self) -> list[str]:
        if self.self_cond:
            return [f"cluster-{i:02d}" for i in range(self.self_cond)]
        return self.dataset.label_names if self.num_classes else []

    @property
    def label_weights(self) -> list[float]:
        """Self-conditioned: each cluster's share of the data (samplers draw clusters by it)."""
        return self.clusters.frequencies.tolist() if self.clusters else []

    # ------------------------------------------------------------------ a step

    def context(self) -> StepContext:
        """The view of this run that phase losses get; its real batches continue the data order."""
        cfg, engine = self.cfg, self.engine

        encode = engine.nets["G"].encode_real if engine.family.spectral else None

        opts = cfg.engine

        def prepare_real(items):  # stored -> [-1, 1], the run's layout, dataset augmentation (, G's encoding)
            x = self.data_modality.augment(self.data_modality.to_model(items, opts.channels_last), opts.augment,
                                           engine.gen)
            return encode(x) if encode is not None else x

        def d_view(x):  # everything D sees: differentiable augmentation, then instance noise
            return instance_noise(self.pipe(x), self.noise_std(), engine.gen)

        ctx = StepContext(engine.nets["G"], engine.nets["D"], get_loss(opts.loss), self.source.batches(engine.draws),
                          engine.gen, engine.device, opts.batch, engine.model_cfg.z_dim, self.num_classes,
                          prepare_real, d_view, cfg.task.label_smoothing, self.ada.observe if self.ada else None,
                          labeler=self.clusters.assign if self.clusters else None, shared=engine.shared_gen,
                          part=engine.dist.part(opts.batch),
                          style_mixing=cfg.family.style_mixing if self.styled else 0.0,
                          aux_weight=self.aux_weight(), pair_labels=mode_seeking_weight(cfg) > 0)
        ctx.draws = engine.draws
        return ctx

    def aux_weight(self) -> float:
        """The AC-GAN weight, where it applies: labels, and a D with a classifier head."""
        usable = self.num_classes and self.engine.family.classifier
        return float(getattr(self.cfg.task, "aux_weight", 0.0) or 0.0) if usable else 0.0

    def noise_std(self) -> float:
        """Instance noise fades linearly to 0 over --instance-noise-kimg."""
        fade = 1 - self.engine.nimg / (self.cfg.task.instance_noise_kimg * 1000)
        return self.cfg.task.instance_noise * max(fade, 0.0)

    def before_step(self, step: int) -> None:
        if self.clusters and step and step % self.cfg.task.self_cond_every == 0:
            self._recluster()

    def after_step(self, new_images: int, report) -> None:
        if self.ada is not None:
            self.ada_images += new_images
            if self.engine.step % self.ada.interval == 0:
                self.engine.dist.reduce_ada(self.ada)  # every process's signal, so all agree on p
                self.pipe.p = self.ada.update(self.ada_images)
                self.ada_images = 0
                report("Augment/rt", self.ada.rt)
        if self.pipe:
            report("Augment/p", self.pipe.p)

    # ------------------------------------------------------------------ previews, health, quality

    @torch.no_grad()
    def generate_fixed(self, n: int) -> Tensor:
        engine, out = self.engine, []
        G_ema = engine.ema_nets["G_ema"]
        for start in range(0, n, 64):
            z = self.fixed_z[start:start + min(64, n - start)]
            c = self.fixed_c[start:start + len(z)] if self.fixed_c is not None else None
            with autocast(engine.device, engine.dtype):
                out.append(G_ema(z, c).float())
        return torch.cat(out)

    def preview(self) -> Tensor:
        res = self.dataset.resolution
        return self.generate_fixed(GRID_IMAGES if res <= 64 else 16 if res >= 256 else 36)

    def _health_batches(self) -> None:
        """Fixed real images for the health signals: a training batch, and validation images if any."""
        n, device = 64, self.engine.device
        train_images, train_labels = self.source.fixed_sample(n, self.cfg.engine.seed + 1)
        val = self.dataset.indices("val")[:n]
        self.health_train = (self.real_view(train_images), train_labels)
        self.health_val = None
        if len(val) and self.cfg.engine.split == "train":
            use_labels = self.num_classes and not self.self_cond  # self-conditioned: clusters, assigned per check
            labels = torch.from_numpy(self.dataset.labels[val]).to(device) if use_labels else None
            self.health_val = (self.real_view(decode_all(self.dataset, val)), labels)
        self.real_diversity = self.modality.diversity(self.health_train[0])

    @torch.no_grad()
    def health(self, preview: Tensor | None) -> dict[str, float]:
        """Diversity of the grid against real images; D's r_t on training vs held-out images."""
        stats = {}
        if preview is not None:
            stats["Health/diversity"] = self.modality.diversity(preview) / max(self.real_diversity, 1e-8)
        if self.health_val is not None:
            D = self.engine.nets["D"]
            was_training = D.training
            D.eval()  # running statistics, and no update of them
            with autocast(self.engine.device, self.engine.dtype):
                for name, (x, c) in (("train", self.health_train), ("val", self.health_val)):
                    c = self.clusters.assign(x) if self.clusters else c
                    stats[f"Health/r_{name}"] = torch.sign(D(x, c).float()).mean().item()
            D.train(was_training)
        return stats

    def quality(self) -> dict[str, float] | None:
        """SWD of G_ema against fixed real items (images; sounds as spectrograms)."""
        if self.fixed_real is None:
            return None
        view = self.modality.quality_view
        fake = view(self.generate_fixed(self.cfg.task.eval_images)).cpu()
        real = view(self.real_view(self.fixed_real)).cpu()
        return swd(real, fake, patches_per_image=64, directions=256, repeats=1, seed=self.cfg.engine.seed)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict:
        return {"augment": {"p": self.pipe.p, "images": self.ada_images,
                            "ada": self.ada.state_dict() if self.ada else None},
                "self_cond": self.clusters.state_dict() if self.clusters else None,
                "path_length_mean": self.path_length.value if self.path_length else None}

    def load_state_dict(self, state: dict) -> None:
        self._self_cond_state = state.get("self_cond")
        self.pipe.p = state["augment"]["p"]
        self.ada_images = state["augment"]["images"]
        if self.path_length is not None and state.get("path_length_mean") is not None:
            self.path_length.value = float(state["path_length_mean"])
        if self.ada is not None:
            self.ada.load_state_dict(state["augment"]["ada"])

    def inference_state(self) -> dict:
        return {"label_names": self.label_names, "label_weights": self.label_weights,
                "extras": self.dataset.inference_extras()}
