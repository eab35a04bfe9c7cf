"""Feature extractors for the evaluation metrics: a small validated registry.

    inception     FID Inception-v3 with the pytorch-fid weights: pool3 features (2048) and the
                  1008 logits the Inception Score uses. The reference every paper reports.
    encoder       a small convolutional autoencoder trained on a seeded half of the dataset (cached),
                  scored only against the other half: needs no download, so every metric works
                  offline; numbers compare only across runs scored with the same dataset's encoder.
    random        the encoder's architecture with fixed-seed random weights, never trained: a judge
                  no data has shaped (the "random network features" baseline).
    PATH          a network the user supplies, as TorchScript (.pt, torch.jit.save) or as an exported
                  program (.pt2, torch.export.save): it gets float images in [0, 1] (B, 3, H, W)
                  and its output, flattened per image, is the feature.

Every extractor maps uint8 images (B, C, H, W) to {"features": (B, D) float32, ...} on the CPU, and
has an ``identity`` string: what determines its features, part of the reference-stats cache key. An
extractor fitted to part of a dataset names the items it may be scored against (``held_out``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from ..options.catalog import EXTRACTORS
from ..errors import UsageError
from ..utils.events import CancelToken, EventSink
from .cache import file_digest


@dataclass
class Extractor:
    name: str
    identity: str
    run: Callable[[Tensor], dict[str, Tensor]]
    info: dict = field(default_factory=dict)  # what results record about it (resize filter, ...)
    has_logits: bool = False
    held_out: np.ndarray | None = None  # dataset items it never saw: score only against these (None: any)

    @torch.no_grad()
    def __call__(self, images_uint8: Tensor) -> dict[str, Tensor]:
        return self.run(images_uint8)


def inception_extractor(weights: str | None, device: torch.device) -> Extractor:
    from .inception import RESIZE, find_weights, load_inception, preprocess

    path = find_weights(weights)
    model = load_inception(path, device)

    def run(images: Tensor) -> dict[str, Tensor]:
        out = model(preprocess(images.to(device)))
        return {"features": out["pool"].float().cpu(), "logits": out["logits"].float().cpu()}

    return Extractor("inception", f"inception:{file_digest(path, 16 << 20)}:{RESIZE}", run,
                     {"weights": str(path), "resize": RESIZE, "input_size": 299}, has_logits=True)


def load_user_module(path: str, what: str, device: torch.device):
    """A user's network from a TorchScript file (.pt) or an exported program (.pt2); never pickle.
    ``what`` names it in errors: the extractor, the classifier."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{what} {path}: no such file",
                         "pass a network saved with torch.export.save (.pt2) or torch.jit.save (.pt)")
    try:
        if file.suffix == ".pt2":
            return torch.export.load(str(file)).module().to(device)
        with warnings.catch_warnings():  # TorchScript still loads in this PyTorch, with a deprecation note
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(file), map_location=device).eval()
    except (RuntimeError, ValueError, OSError) as exc:
        raise UsageError(f"{what} {path} is not a saved network ({str(exc).splitlines()[0][:100]})",
                         "save it with torch.export.save(torch.export.export(model, (example,), dynamic_shapes=...), "
                         "'net.pt2'), with a dynamic batch dimension (see docs/evaluation.md)") from None


def call_user_module(model, x: Tensor, what: str, path: str) -> Tensor:
    """Run a user's network; a failure (wrong input shape, a fixed batch size) is their file's, said in one line."""
    try:
        return model(x)
    except (RuntimeError, ValueError, AssertionError) as exc:
        raise UsageError(f"{what} {path} failed on images of shape {tuple(x.shape)} "
                         f"({str(exc).strip().splitlines()[0][:120]})",
                         "the network must take float images (B, 3, H, W) in [0, 1] for any B: export it "
                         "with a dynamic batch dimension (see docs/evaluation.md)") from None


def torchscript_extractor(path: str, device: torch.device) -> Extractor:
    model = load_user_module(path, "extractor", device)

    def run(images: Tensor) -> dict[str, Tensor]:
        x = images.to(device).float() / 255
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        return {"features": call_user_module(model, x, "extractor", path).flatten(1).float().cpu()}

    return Extractor("user", f"user:{file_digest(Path(path))}", run, {"file": str(path)})


def encoder_extractor(dataset, device: torch.device, progress: bool = True, split=None,
                      events: EventSink | None = None, cancel: CancelToken | None = None) -> Extractor:
    """The dataset's encoder, trained on ``split``'s encoder part (default ``EncoderSplit()``: a seeded half)."""
    from .encoder import ENCODER_VERSION, EncoderSplit, encoder_for, split_indices

    split = split or EncoderSplit()
    encoder, fingerprint = encoder_for(dataset, device, progress=progress, split=split, events=events, cancel=cancel)
    trained_on, held_out = split_indices(dataset.names, split)

    def run(images: Tensor) -> dict[str, Tensor]:
        return {"features": encoder.features(images.to(device)).float().cpu()}

    return Extractor("encoder", f"encoder:{ENCODER_VERSION}:{fingerprint}:{split.key}", run,
                     {"trained_on": str(dataset.path), "input_size": encoder.size,
                      "split": split.describe(len(trained_on), len(held_out))}, held_out=held_out)


def random_extractor(device: torch.device) -> Extractor:
    from .encoder import ENCODER_VERSION, RANDOM_SEED, random_network

    network = random_network(RANDOM_SEED).to(device)

    def run(images: Tensor) -> dict[str, Tensor]:
        return {"features": network.features(images.to(device)).float().cpu()}

    return Extractor("random", f"random:{ENCODER_VERSION}:seed{RANDOM_SEED}", run,
                     {"weights": f"random, seed {RANDOM_SEED}, never trained", "input_size": network.size})


def make_extractor(spec: str, *, device: torch.device, dataset=None, weights: str | None = None,
                   progress: bool = True, events: EventSink | None = None,
                   cancel: CancelToken | None = None) -> Extractor:
    """The feature network ``spec`` names; ``events`` and ``cancel`` reach the encoder's training."""
    if spec == "inception":
        return inception_extractor(weights, device)
    if spec == "encoder":
        if dataset is None:
            raise UsageError("the encoder extractor needs a prepared dataset to train on",
                             "compare with a dataset made by 'artforge prepare', or use the inception extractor")
        return encoder_extractor(dataset, device, progress, events=events, cancel=cancel)
    if spec == "random":
        return random_extractor(device)
    if spec.endswith((".pt", ".pt2", ".pth", ".ts", ".jit")):
        return torchscript_extractor(spec, device)
    raise UsageError(f"extractor {spec!r} is not known",
                     f"pass {', '.join(EXTRACTORS)}, or a saved network (.pt2 from torch.export, .pt from torch.jit)")
