"""Scores for sound models, the way WaveGAN's paper scored them, with a classifier trained here.

No pretrained audio network can be downloaded, so a small spectrogram classifier is trained on the
dataset's own labels (cached per dataset content, as the image classifier is) and plays the part
of the Inception network (Donahue et al. 2019, sec. 6.1, did the same with a speech classifier):

* **inception score**: exp E[KL(p(y|x) || p(y))] over the sounds; between 1 and the class count;
* **Fréchet distance** between the classifier's penultimate features of generated and real sounds;
* **label accuracy**: the share of sounds asked for a label that the classifier hears as it;
* **novelty**: each generated sound's nearest training clip in feature space, against the same
  distance for held-out real clips (below 1: closer to the training set than new real sounds are);
* **speed**: seconds of sound made per second on this machine (times real time).

Every score is reported for held-out real clips too (``real``), the row a model is read against.
"""

from __future__ import annotations

import html
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import UsageError
from ..utils.events import CancelToken, EventSink, Progress
from .fid import feature_stats, frechet_distance

CLASSIFIER_VERSION = 1
SPEC_SIZE = 64  # log spectrograms pooled to 64 x 64 for the classifier
CLASSIFIER_STEPS = 500  # 100% held-out accuracy on the built-in drums (30 clips), ~20 s on two cores
FEATURES = 128


def _log_spectrogram(waves: Tensor) -> Tensor:
    """(B, 1, L) -> (B, 1, 64, 64) log magnitudes, level-independent (a sound's loudness is not its class)."""
    from ..ops.spectral import log_magnitude

    logs = log_magnitude(waves.float().flatten(1))[:, None]  # (B, 1, 128, T)
    logs = logs - logs.amax(dim=(2, 3), keepdim=True)
    return F.adaptive_avg_pool2d(logs.clamp(min=-12.0), SPEC_SIZE) / 6.0 + 1.0


class SoundClassifier(nn.Module):
    """Four strided 3x3 convolutions with batch norm on the log spectrogram, global average pooling."""

    def __init__(self, num_classes: int):
        super().__init__()
        widths = [1, 16, 32, 64, FEATURES]
        self.convs = nn.Sequential(*[layer for a, b in zip(widths[:-1], widths[1:]) for layer in
                                     (nn.Conv2d(a, b, 3, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU())])
        self.head = nn.Linear(FEATURES, num_classes)

    def features(self, waves: Tensor) -> Tensor:
        """(B, 1, L) waveforms in [-1, 1] -> (B, 128)."""
        return self.convs(_log_spectrogram(waves)).mean(dim=(2, 3))

    def forward(self, waves: Tensor) -> Tensor:
        return self.head(self.features(waves))


def train_sound_classifier(waves: Tensor, labels: Tensor, num_classes: int, steps: int | None = None, batch: int = 32,
                           seed: int = 0, events: EventSink | None = None,
                           cancel: CancelToken | None = None) -> SoundClassifier:
    """Cross-entropy on random batches, each sound at a random gain and a small random delay. Its steps are
    "progress" events; ``cancel`` stops it between steps with ``Cancelled``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SoundClassifier(num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(seed)
    steps = CLASSIFIER_STEPS if steps is None else steps
    progress = Progress(events, steps, "steps", "training a sound classifier on the dataset's labels", cancel)
    for _ in range(steps):
        idx = torch.randint(0, len(waves), (batch,), generator=gen)
        x = waves[idx] * (0.3 + 0.7 * torch.rand(batch, 1, 1, generator=gen))
        delay = int(torch.randint(0, waves.shape[-1] // 32, (1,), generator=gen))
        x = F.pad(x, (delay, 0))[..., :waves.shape[-1]]
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.advance()
        progress.raise_if_cancelled()
    progress.finish()
    return model.eval().requires_grad_(False)


def sound_classifier_for(dataset, device: torch.device, progress: bool = True, events: EventSink | None = None,
                         cancel: CancelToken | None = None) -> tuple[SoundClassifier, dict]:
    """The classifier of a labeled sound dataset (trained once, cached by content) and facts about it.
    ``progress``: the bar of loading a big dataset; ``events`` and ``cancel``: the training's steps."""
    from safetensors.torch import load_file, save

    from ..data.loader import decode_all
    from ..utils.files import atomic_write_bytes
    from .cache import cache_dir, dataset_fingerprint

    if dataset.labels is None:
        raise UsageError(f"dataset {dataset.display_name} has no labels; the sound scores come from a classifier of "
                         "its labels", "prepare the sounds with one subfolder per kind (kick/, snare/, ...)")
    file = cache_dir("sound-classifiers") / f"{dataset_fingerprint(dataset.path)}-v{CLASSIFIER_VERSION}.safetensors"
    model = SoundClassifier(dataset.num_classes)
    train_idx, held_out = dataset.indices("train"), np.concatenate([dataset.indices("val"), dataset.indices("test")])
    if file.exists():
        model.load_state_dict(load_file(str(file)))
    else:
        waves = decode_all(dataset, train_idx, progress).float() / 32768
        model = train_sound_classifier(waves, torch.from_numpy(dataset.labels[train_idx]), dataset.num_classes,
                                       events=events, cancel=cancel)
        atomic_write_bytes(file, save({k: v.contiguous() for k, v in model.state_dict().items()}))
    model = model.to(device).eval().requires_grad_(False)
    info = {"trained_on": str(dataset.path), "classes": dataset.num_classes, "cache": str(file)}
    if len(held_out):
        with torch.no_grad():
            predicted = model(decode_all(dataset, held_out).float().to(device) / 32768).argmax(1).cpu().numpy()
        info["held_out_accuracy"] = float(np.mean(predicted == dataset.labels[held_out]))
        info["held_out_clips"] = int(len(held_out))
    return model, info


def inception_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) of (N, classes) class probabilities."""
    p = np.clip(probs, 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(math.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


@torch.no_grad()
def classify(model: SoundClassifier, waves: Tensor, device: torch.device, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, 128), class probabilities (N, classes)) of float waveforms (N, 1, L)."""
    feats, probs = [], []
    for start in range(0, len(waves), batch):
        x = waves[start:start + batch].to(device).float()
        h = model.features(x)
        feats.append(h.cpu())
        probs.append(F.softmax(model.head(h), dim=1).cpu())
    return torch.cat(feats).double().numpy(), torch.cat(probs).double().numpy()


def nearest_distances(query: np.ndarray, reference: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row (itself excluded if asked)."""
    d = torch.cdist(torch.from_numpy(query), torch.from_numpy(reference))
    if exclude_self:
        d.fill_diagonal_(float("inf"))
    return d.min(dim=1).values.numpy()


def sound_scores(features: np.ndarray, probs: np.ndarray, asked: np.ndarray | None, train: np.ndarray,
                 held_out_nn: float) -> dict:
    """The scores of one set of sounds against the training clips' features (``train``)."""
    scores = {"inception_score": inception_score(probs),
              "frechet_distance": float(frechet_distance(*feature_stats(features), *feature_stats(train))),
              "novelty_ratio": float(np.median(nearest_distances(features, train)) / max(held_out_nn, 1e-12))}
    if asked is not None:
        heard = probs.argmax(axis=1)
        scores["label_accuracy"] = float(np.mean(heard == asked))
        scores["label_accuracy_per_class"] = {int(k): float(np.mean(heard[asked == k] == k)) for k in np.unique(asked)}
    return scores


def evaluate_sounds(model, dataset, n: int = 1000, seed: int = 0, progress: bool = True,
                    events: EventSink | None = None, cancel: CancelToken | None = None) -> dict:
    """Scores of a loaded sound run (``sampling.LoadedRun``) against its labeled dataset, beside real clips'.
    ``events`` and ``cancel`` reach the training of the dataset's classifier."""
    from ..data.loader import decode_all
    from ..listening import sample_rate, sample_sounds

    device = model.device
    classifier, info = sound_classifier_for(dataset, device, progress, events, cancel)
    train_idx = dataset.indices("train")
    held_idx = np.concatenate([dataset.indices("val"), dataset.indices("test")])
    if len(held_idx) < 2:
        raise UsageError(f"dataset {dataset.display_name} has {len(held_idx)} held-out clips; the real row needs some",
                         "prepare it again with a val or test share (the split option, e.g. 0.8,0.1,0.1)")
    train_waves = decode_all(dataset, train_idx).float() / 32768
    held_waves = decode_all(dataset, held_idx).float() / 32768
    train_f, _ = classify(classifier, train_waves, device)
    held_f, held_p = classify(classifier, held_waves, device)
    held_nn = float(np.median(nearest_distances(held_f, train_f)))
    seeds = list(range(seed, seed + n))
    started = time.perf_counter()
    waves = sample_sounds(model, seeds)
    seconds = time.perf_counter() - started
    fake_f, fake_p = classify(classifier, torch.from_numpy(waves)[:, None], device)
    asked = model.labels(seeds, None)
    fake = sound_scores(fake_f, fake_p, asked.numpy() if asked is not None else None, train_f, held_nn)
    real = sound_scores(held_f, held_p, dataset.labels[held_idx], train_f, held_nn)
    rate = sample_rate(model)
    fake["times_real_time"] = float(len(waves) * waves.shape[1] / rate / seconds)
    return {"generated": fake, "real_held_out": real, "classifier": info, "n": n, "seed": seed,
            "label_names": list(dataset.label_names), "sample_rate": rate,
            "note": "Fréchet distance against the training clips' classifier features; real_held_out is the "
                    "val and test clips scored the same way"}


def sound_summary_lines(report: dict) -> list[str]:
    """A sound run's scores beside the held-out real clips'."""
    fake, real = report["generated"], report["real_held_out"]
    rows = [("inception score (classifier)", "inception_score", "{:.3g}"),
            ("Fréchet distance (classifier)", "frechet_distance", "{:.4g}"),
            ("label accuracy", "label_accuracy", "{:.1%}"), ("novelty (NN distance ratio)", "novelty_ratio", "{:.3g}")]
    lines = [f"  {'':<30} {'model':>10} {'real clips':>11}"]
    for name, key, fmt in rows:
        if key in fake:
            lines.append(f"  {name:<30} {fmt.format(fake[key]):>10} {fmt.format(real[key]) if key in real else '':>11}")
    info = report["classifier"]
    lines.append(f"  sampling speed: {fake['times_real_time']:.0f}x real time; {report['n']} sounds vs "
                 f"{info.get('held_out_clips', 0)} held-out clips; classifier held-out accuracy "
                 f"{info.get('held_out_accuracy', float('nan')):.1%}; {report['seconds']['total']:.0f} s")
    return lines


def sound_report_html(report: dict) -> str:
    """A sound run's classifier scores beside the real clips', for its report.html."""
    esc = html.escape
    fake, real = report["generated"], report["real_held_out"]
    keys = [("inception score (classifier)", "inception_score"), ("Fréchet distance (classifier)", "frechet_distance"),
            ("label accuracy", "label_accuracy"), ("novelty (NN distance ratio)", "novelty_ratio")]
    rows = "".join(f"<tr><td>{esc(name)}</td><td>{fake[k]:.4g}</td><td>{real[k]:.4g}</td></tr>"
                   for name, k in keys if k in fake and k in real)
    return (f"<p>{esc(report['checkpoint'])}: {report['n']} sounds; sampling {fake['times_real_time']:.0f}x real "
            f"time.</p><table><tr><th></th><th>model</th><th>held-out real clips</th></tr>{rows}</table>")
