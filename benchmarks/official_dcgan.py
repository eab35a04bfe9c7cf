"""The reference both training benchmarks compare against: the official PyTorch DCGAN example's loop.

Written here in the style of pytorch/examples' dcgan/main.py (not copied): the ngf = ndf = 64
network at 64 px (artforge's DCGAN at width 64 is exactly that network), D ending in a Sigmoid with
BCELoss, one D step on a real and a fake batch, one G step on the same fake batch, Adam(2e-4, 0.5,
0.999) for both, fp32, channels-first, batch 64, no EMA and no augmentation. Images come in as
float tensors in [-1, 1]; loading them costs the reference nothing.
"""

from __future__ import annotations

import torch
from torch import nn

BATCH = 64
Z_DIM = 100  # nz of the example


class OfficialDCGAN:
    def __init__(self, resolution: int = 64, channels: int = 3, seed: int = 0):
        from artforge.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator

        torch.manual_seed(seed)
        cfg = DCGANConfig(resolution=resolution, channels=channels, z_dim=Z_DIM, width=64)
        self.netG = DCGANGenerator(cfg)
        self.netD = nn.Sequential(DCGANDiscriminator(cfg), nn.Sigmoid())  # the example's D ends in a Sigmoid
        self.criterion = nn.BCELoss()
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.steps = 0

    def step(self, real: torch.Tensor) -> None:
        """One iteration of the example: (1) update D on real and fake, (2) update G."""
        b = len(real)
        ones, zeros = torch.ones(b), torch.zeros(b)
        self.netD.zero_grad()
        self.criterion(self.netD(real), ones).backward()
        fake = self.netG(torch.randn(b, Z_DIM))
        self.criterion(self.netD(fake.detach()), zeros).backward()
        self.optD.step()
        self.netG.zero_grad()
        self.criterion(self.netD(fake), ones).backward()
        self.optG.step()
        self.steps += 1

    @torch.no_grad()
    def generate(self, n: int, seed: int = 0) -> torch.Tensor:
        """n images in [-1, 1] from G as the example leaves it (train mode: batch statistics, no EMA)."""
        z = torch.randn(n, Z_DIM, generator=torch.Generator().manual_seed(seed))
        return torch.cat([self.netG(z[i:i + BATCH]) for i in range(0, n, BATCH)])
