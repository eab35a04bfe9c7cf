"""VGG-19's convolutional part (Simonyan & Zisserman 2014) for the upscaler's perceptual loss.

Its layer indices and parameter names are torchvision's ``vgg19().features``, so a state dict saved
from torchvision loads as it is (the classifier's entries are ignored). No weights ship and none
are downloaded: the user saves them once on a machine with internet and passes the file.
ESRGAN compares the features of conv5_4 before its ReLU (index 34), which carry more edge detail
than the activated ones (Wang et al. 2018, sec. 3.3).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import CheckpointError, UsageError

# VGG-19 ("E"): output channels of each 3x3 convolution, "M" a 2x2 max pooling
LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
CONV5_4 = 34  # index in ``features`` of the last convolution
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HOW_TO_GET = ("save torchvision's weights once, on a machine with internet: torch.save(torchvision.models.vgg19("
              "weights='IMAGENET1K_V1').state_dict(), 'vgg19.pth'), then give that file as the VGG weights")


def vgg19_features(until: int = CONV5_4) -> nn.Sequential:
    """torchvision's ``vgg19().features[:until + 1]``: convolutions, ReLUs and poolings, same indices."""
    layers: list[nn.Module] = []
    cin = 3
    for item in LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, item, 3, padding=1), nn.ReLU(inplace=False)]
            cin = item
    return nn.Sequential(*layers[:until + 1])


def check_weights_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"the VGG weights file {path} does not exist", HOW_TO_GET)
    return path


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """A state dict from a .safetensors file or a torch file of plain tensors (never unpickling code)."""
    path = check_weights_file(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a weights file, or objects other than tensors
        raise CheckpointError(f"{path} is not a readable weights file ({type(exc).__name__})", HOW_TO_GET) from None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"{path} is not a state dict (a mapping of names to tensors)", HOW_TO_GET)
    return state


class PerceptualLoss(nn.Module):
    """Mean absolute difference of frozen VGG-19 conv5_4 features (before ReLU) of two image batches."""

    def __init__(self, features: nn.Sequential):
        super().__init__()
        self.features = features.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "PerceptualLoss":
        features = vgg19_features()
        state = read_state_dict(path)
        wanted = {f"features.{k}": v for k, v in features.state_dict().items()}
        missing = [k for k in wanted if k not in state]
        wrong = [k for k in wanted if k in state and state[k].shape != wanted[k].shape]
        if missing or wrong:
            first = (missing or wrong)[0]
            raise CheckpointError(f"{path} is not VGG-19's weights ({len(missing)} missing and {len(wrong)} "
                                  f"wrong-shaped entries, e.g. {first})", HOW_TO_GET)
        features.load_state_dict({k.removeprefix("features."): state[k] for k in wanted})
        return cls(features)

    def embed(self, x: Tensor) -> Tensor:
        """(B, C, H, W) in [-1, 1] (grey images repeated to RGB) -> conv5_4 features."""
        x = x.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.features(((x + 1) / 2 - self.mean) / self.std)

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        with torch.no_grad():
            target = self.embed(real)
        return F.l1_loss(self.embed(fake), target)
