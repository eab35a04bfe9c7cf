"""The last layer the flat-feature discriminators share (WaveGAN's, SpecGAN's, MuseGAN's)."""

from __future__ import annotations

from torch import Tensor, nn

from .dcgan import class_projection


class LogitHead(nn.Module):
    """(B, F) features -> (B,) logits: a linear layer, plus the projection term <embed(c), features> when
    the model is conditional and labels are given (Miyato & Koyama 2018)."""

    def __init__(self, features: int, num_classes: int = 0):
        super().__init__()
        self.logit = nn.Linear(features, 1)
        self.embed = nn.Embedding(num_classes, features) if num_classes else None

    def forward(self, h: Tensor, c: Tensor | None = None) -> Tensor:
        out = self.logit(h).flatten()
        if self.embed is not None and c is not None:
            out = out + class_projection(self.embed, c, h)
        return out
