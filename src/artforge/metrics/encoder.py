"""A small convolutional autoencoder trained on the dataset itself, as an offline feature extractor.

Where the Inception weights cannot be had, FID-style metrics still need a feature space in which
distances mean something for *these* images. An autoencoder trained for a minute or two on the
dataset gives one: its 256-d bottleneck summarizes what varies across the dataset's images. The
trained encoder is cached per dataset content, so every run on a dataset is scored in the same
space. Scores from it compare runs on the same dataset; they are not comparable with published FID.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save
from torch import Tensor, nn

ENCODER_VERSION = 1
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


def train_encoder(images_uint8: Tensor, steps: int = 1500, batch: int = 64, seed: int = 0,
                  progress: bool = True) -> SmallEncoder:
    """Reconstruction training on the images (N, C, H, W) uint8, with random flips; deterministic."""
    from tqdm import tqdm

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
    for _ in tqdm(range(steps), desc="training the dataset's feature encoder", unit="step", disable=not progress,
                  mininterval=1.0):
        idx = torch.randint(0, len(x_all), (batch,), generator=gen)
        x = x_all[idx]
        flip = torch.rand(batch, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        loss = F.mse_loss(decoder(encoder(x)), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return encoder.eval().requires_grad_(False)


ENCODER_STEPS = 1500


def encoder_for(dataset, device: torch.device, progress: bool = True, max_images: int = 10_000,
                steps: int = ENCODER_STEPS) -> tuple[SmallEncoder, str]:
    """The cached encoder of this dataset (trained now if there is none); and its fingerprint."""
    from ..data.loader import decode_all
    from ..utils.files import atomic_write_bytes
    from .cache import cache_dir, dataset_fingerprint

    fingerprint = dataset_fingerprint(dataset.path)
    trained = "" if steps == ENCODER_STEPS else f"-{steps}steps"  # a shorter-trained one is not the same encoder
    paired = bool(getattr(dataset, "pairs", None))  # a paired dataset's encoder learns its targets (right halves)
    trained += "-targets" if paired else ""
    path = cache_dir("encoders") / f"{fingerprint}{trained}-v{ENCODER_VERSION}.safetensors"
    encoder = SmallEncoder()
    if path.exists():
        encoder.load_state_dict(load_file(str(path)))
    else:
        started = time.time()
        images = decode_all(dataset, dataset.indices("all")[:max_images], progress)
        if paired:
            images = images[..., images.shape[-1] // 2:].contiguous()
        encoder = train_encoder(images, steps=steps, progress=progress)
        weights = {k: v.contiguous() for k, v in encoder.state_dict().items()}
        atomic_write_bytes(path, save(weights, metadata={"dataset": str(dataset.path),
                                                         "seconds": f"{time.time() - started:.0f}"}))
    return encoder.to(device).eval().requires_grad_(False), fingerprint
