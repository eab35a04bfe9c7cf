"""A small convolutional autoencoder trained on part of the dataset, as an offline feature extractor.

Where the Inception weights cannot be had, FID-style metrics still need a feature space in which
distances mean something for *these* images. An autoencoder trained for a minute or two on the
dataset gives one: its 256-d bottleneck summarizes what varies across the dataset's images.

The encoder never sees the images it is scored against: a seeded hash of each item's name puts it
in the encoder's part (``EncoderSplit.fraction``, half by default) or in the held-out part, and
FID/KID with this encoder compare against the held-out part only (metrics/reference.py). A network
fitted to the reference images would measure how well a generator reproduces what the network
memorised, not the data distribution. The split (seed, fraction) is part of the cache key and of
every result. The trained encoder is cached per dataset content and split, so every run on a
dataset is scored in the same space. Scores from it compare runs on the same dataset; they are not
comparable with published FID.

``random_network`` is the same architecture, randomly initialised from a fixed seed and never
trained: the "random network features" baseline (Naeem et al. 2020 use randomly initialised
embeddings to evaluate generative models), a judge no data has shaped.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save
from torch import Tensor, nn

from ..utils.events import CancelToken, EventSink, Progress

ENCODER_VERSION = 2  # 2: trained on its own split (1 saw every image it scored)
SIZE = 64
FEATURES = 256


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1), nn.GroupNorm(8, cout), nn.LeakyReLU(0.2))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.GroupNorm(8, cout), nn.LeakyReLU(0.2))


class SmallEncoder(nn.Module):
    size = SIZE

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(_down(3, 32), _down(32, 64), _down(64, 128), _down(128, FEATURES))  # 64 -> 4

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, 3, 64, 64) -> (B, 256, 4, 4)

    def features(self, images_uint8: Tensor) -> Tensor:
        """uint8 (B, C, H, W) at any size -> (B, 256): the bottleneck, averaged over positions."""
        x = images_uint8.float() / 127.5 - 1
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        if tuple(x.shape[-2:]) != (SIZE, SIZE):  # any size and aspect: squeezed to the square it was trained on
            x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", antialias=True, align_corners=False)
        return self(x).mean(dim=(2, 3))


class SmallDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(_up(FEATURES, 128), _up(128, 64), _up(64, 32), nn.ConvTranspose2d(32, 3, 4, 2, 1),
                                 nn.Tanh())  # 4 -> 64

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h)


@dataclass(frozen=True)
class EncoderSplit:
    """Which items train the encoder: those whose seeded name hash falls below ``fraction``."""

    seed: int = 0
    fraction: float = 0.5

    def __post_init__(self):
        if not 0 < self.fraction < 1:
            raise ValueError(f"the encoder's share of the images must be in (0, 1), got {self.fraction}")

    @property
    def key(self) -> str:
        """What the cache key and the extractor's identity carry."""
        return f"split-seed{self.seed}-frac{self.fraction:g}"

    def describe(self, train: int, held_out: int) -> dict:
        return {"rule": "seeded sha256 of each item's name in the dataset", "seed": self.seed,
                "encoder_fraction": self.fraction, "encoder_images": train, "held_out_images": held_out,
                "scored_against": "held-out part only"}


def unit_hash(name: str, seed: int) -> float:
    """A name's position in [0, 1), from sha256 of (seed, name): an item keeps its part whatever else the
    dataset holds (a prepared dataset's names follow its seeded, content-hashed order)."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def split_indices(names, split: EncoderSplit = EncoderSplit()) -> tuple[np.ndarray, np.ndarray]:
    """(the encoder's item indices, the held-out ones): disjoint, together every item, sorted."""
    in_encoder = np.array([unit_hash(str(n), split.seed) < split.fraction for n in names], dtype=bool)
    return np.flatnonzero(in_encoder), np.flatnonzero(~in_encoder)


RANDOM_SEED = 0


def random_network(seed: int = RANDOM_SEED) -> SmallEncoder:
    """The encoder's architecture with fixed-seed random weights, never trained."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return SmallEncoder().eval().requires_grad_(False)


def train_encoder(images_uint8: Tensor, steps: int = 1500, batch: int = 64, seed: int = 0,
                  events: EventSink | None = None, cancel: CancelToken | None = None) -> SmallEncoder:
    """Reconstruction training on the images (N, C, H, W) uint8, with random flips; deterministic. Its steps
    are "progress" events; ``cancel`` stops it between steps with ``Cancelled``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder, decoder = SmallEncoder(), SmallDecoder()
    x_all = images_uint8.float() / 127.5 - 1
    if x_all.shape[1] == 1:
        x_all = x_all.repeat(1, 3, 1, 1)
    if tuple(x_all.shape[-2:]) != (SIZE, SIZE):  # non-square datasets too: the decoder draws SIZE x SIZE
        x_all = F.interpolate(x_all, size=(SIZE, SIZE), mode="bilinear", antialias=True, align_corners=False)
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    progress = Progress(events, steps, "steps", "training the dataset's feature encoder", cancel)
    for _ in range(steps):
        idx = torch.randint(0, len(x_all), (batch,), generator=gen)
        x = x_all[idx]
        flip = torch.rand(batch, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        loss = F.mse_loss(decoder(encoder(x)), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.advance()
        progress.raise_if_cancelled()
    progress.finish()
    return encoder.eval().requires_grad_(False)


ENCODER_STEPS = 1500


def encoder_for(dataset, device: torch.device, progress: bool = True, max_images: int = 10_000,
                steps: int = ENCODER_STEPS, split: EncoderSplit = EncoderSplit(), events: EventSink | None = None,
                cancel: CancelToken | None = None) -> tuple[SmallEncoder, str]:
    """The cached encoder of this dataset and split (trained now on the split's encoder part if there is
    none); and the dataset's fingerprint. ``split_indices(dataset.names, split)[1]`` are the images it
    never saw: the only ones to score against. ``progress``: the bar of loading a big dataset (the data
    loader's); ``events`` and ``cancel``: the training's steps, and a token that stops it (nothing cached)."""
    from ..data.loader import decode_all
    from ..utils.files import atomic_write_bytes
    from .cache import cache_dir, dataset_fingerprint

    fingerprint = dataset_fingerprint(dataset.path)
    trained = "" if steps == ENCODER_STEPS else f"-{steps}steps"  # a shorter-trained one is not the same encoder
    paired = bool(getattr(dataset, "pairs", None))  # a paired dataset's encoder learns its targets (right halves)
    trained += "-targets" if paired else ""
    path = cache_dir("encoders") / f"{fingerprint}{trained}-{split.key}-v{ENCODER_VERSION}.safetensors"
    encoder = SmallEncoder()
    if path.exists():
        encoder.load_state_dict(load_file(str(path)))
    else:
        started = time.time()
        train_part, _ = split_indices(dataset.names, split)
        if len(train_part) == 0:
            from ..errors import DataError
            raise DataError(f"dataset {dataset.path} has too few images ({len(dataset.names)}) to train the encoder "
                            "on half of them and score against the other half",
                            "use a dataset of at least a few hundred images, or another extractor")
        images = decode_all(dataset, train_part[:max_images], progress)
        if paired:
            images = images[..., images.shape[-1] // 2:].contiguous()
        encoder = train_encoder(images, steps=steps, events=events, cancel=cancel)
        weights = {k: v.contiguous() for k, v in encoder.state_dict().items()}
        atomic_write_bytes(path, save(weights, metadata={"dataset": str(dataset.path), "split": split.key,
                                                         "seconds": f"{time.time() - started:.0f}"}))
    return encoder.to(device).eval().requires_grad_(False), fingerprint
