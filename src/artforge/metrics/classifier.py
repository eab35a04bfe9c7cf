"""A classifier for the class statistics of labeled datasets: the user's, or one trained here.

Trained on the dataset's own labels (the feature encoder's architecture plus a linear head), cached
per dataset content like the encoder. It only needs to tell the dataset's classes apart well
enough to count what a generator draws; its held-out accuracy is reported with the results.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save
from torch import Tensor, nn

from ..errors import UsageError
from ..utils.events import CancelToken, EventSink, Progress
from .encoder import FEATURES, SIZE, SmallEncoder

CLASSIFIER_VERSION = 1


class SmallClassifier(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.encoder = SmallEncoder()
        self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, images_uint8: Tensor) -> Tensor:
        return self.head(self.encoder.features(images_uint8))  # (B, num_classes) logits


def train_classifier(images: Tensor, labels: Tensor, num_classes: int, steps: int = 800, batch: int = 64,
                     seed: int = 0, events: EventSink | None = None,
                     cancel: CancelToken | None = None) -> SmallClassifier:
    """Its steps are "progress" events; ``cancel`` stops it between steps with ``Cancelled``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SmallClassifier(num_classes)
    if images.shape[-1] != SIZE:  # resize once, not per step
        images = F.interpolate(images.float(), size=(SIZE, SIZE), mode="bilinear", antialias=True).round().clamp(0, 255).to(torch.uint8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    progress = Progress(events, steps, "steps", "training a classifier on the dataset's labels", cancel)
    for _ in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=gen)
        x = images[idx]
        flip = torch.rand(batch, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.advance()
        progress.raise_if_cancelled()
    progress.finish()
    return model.eval().requires_grad_(False)


def classifier_for(dataset, device: torch.device, path: str | None = None, progress: bool = True,
                   events: EventSink | None = None, cancel: CancelToken | None = None):
    """A function uint8 images -> predicted class indices (numpy), and facts about the classifier.
    ``progress``: the bar of loading a big dataset; ``events`` and ``cancel``: the training's steps."""
    from ..data.loader import decode_all
    from ..utils.files import atomic_write_bytes
    from .cache import cache_dir, dataset_fingerprint

    if path is not None:
        from .extractors import call_user_module, load_user_module
        model = load_user_module(path, "classifier", device)

        def predict(images: torch.Tensor):
            return call_user_module(model, images.to(device).float() / 255, "classifier", path).argmax(1).cpu().numpy()
        return predict, {"file": path}
    if dataset.labels is None:
        raise UsageError("the classes metric needs a labeled dataset",
                         "put each class in its own subfolder and prepare it again with folder labels")
    fingerprint = dataset_fingerprint(dataset.path)
    file = cache_dir("classifiers") / f"{fingerprint}-v{CLASSIFIER_VERSION}.safetensors"
    model = SmallClassifier(dataset.num_classes)
    train_idx, test_idx = dataset.indices("train"), dataset.indices("test")
    if file.exists():
        model.load_state_dict(load_file(str(file)))
    else:
        images = decode_all(dataset, train_idx, progress)
        model = train_classifier(images, torch.from_numpy(dataset.labels[train_idx]), dataset.num_classes,
                                 events=events, cancel=cancel)
        atomic_write_bytes(file, save({k: v.contiguous() for k, v in model.state_dict().items()}))
    model = model.to(device).eval()
    info = {"trained_on": str(dataset.path), "classes": dataset.num_classes}
    if len(test_idx):
        with torch.no_grad():
            predicted = model(decode_all(dataset, test_idx).to(device)).argmax(1).cpu().numpy()
        info["test_accuracy"] = float(np.mean(predicted == dataset.labels[test_idx]))
    return (lambda images: model(images.to(device)).argmax(1).cpu().numpy()), info
