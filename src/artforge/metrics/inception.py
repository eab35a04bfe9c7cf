"""The "FID Inception": the Inception-v3 network that FID, KID and IS are defined with.

FID numbers are only comparable when every paper computes them with the same network, and that
network is the 2015 TensorFlow Inception-v3 graph (``inception-2015-12-05.tgz``) used by the original
TTUR FID code, not torchvision's ImageNet Inception-v3 (different weights, and slightly different
pooling). pytorch-fid ported that graph to PyTorch and published its weights as
``pt_inception-2015-12-05-6726825d.pth``; pytorch-fid and clean-fid's ``legacy_pytorch`` mode load
that file, and torch-fidelity ships the same weights (same hash in the name). This module rebuilds
the same network with the same state-dict layout, so the very same file loads here with
``strict=True`` and gives the same features.

How the FID graph differs from torchvision's Inception-v3 (as in pytorch-fid's
``FIDInceptionA/C/E_1/E_2``):

- the average pools inside the A, C and first E blocks do not count the zero padding
  (TensorFlow's ``avg_pool`` semantics, ``count_include_pad=False``);
- the pool branch of the last block (``Mixed_7c``) is a 3x3 *max* pool, not an average pool;
- there is no auxiliary classifier, and the classifier ``fc`` has 1008 outputs (the TF graph's
  1008-way softmax: 1000 ImageNet classes plus unused ones).

The weights are never downloaded by artforge: the user puts the file in place (see ``find_weights``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from artforge.errors import CheckpointError, MissingDependency

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{WEIGHTS_FILE}"
WEIGHTS_ENV = "ARTFORGE_INCEPTION_WEIGHTS"

INPUT_SIZE = 299
# The resize filter, stored with every result so that numbers made with another filter (clean-fid's
# PIL bicubic "clean" mode, torch-fidelity's TF1-style bilinear) are never compared with ours.
RESIZE = "bilinear-torch-align_corners=False"

POOL_DIM = 2048
NUM_LOGITS = 1008


# ----------------------------------------------------------------------------- building blocks


class ConvBN(nn.Module):
    """Convolution without bias, BatchNorm, ReLU: every convolution of the network.

    The submodule names ``conv`` and ``bn`` are those of the weights file (torchvision's
    ``BasicConv2d``). eps=0.001 is TensorFlow's BatchNorm epsilon, which the weights were trained with.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_3x3(x: Tensor) -> Tensor:
    """3x3 stride-1 average that ignores the padding, as TensorFlow's avg_pool does."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool_3x3(x: Tensor) -> Tensor:
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class InceptionA(nn.Module):
    """35x35 block (Mixed_5b/c/d): 1x1, 5x5, double 3x3 and pooled branches, side by side.

    (B, in_ch, 35, 35) -> (B, 64 + 64 + 96 + pool_features, 35, 35)
    """

    def __init__(self, in_ch: int, pool_features: int):
        super().__init__()
        self.branch1x1 = ConvBN(in_ch, 64, 1)

        self.branch5x5_1 = ConvBN(in_ch, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)

        self.branch3x3dbl_1 = ConvBN(in_ch, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)

        self.branch_pool = ConvBN(in_ch, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([b1, b5, b3, bp], dim=1)


class InceptionB(nn.Module):
    """Grid reduction 35x35 -> 17x17 (Mixed_6a): strided 3x3, strided double 3x3, and a max pool.

    (B, in_ch, 35, 35) -> (B, 384 + 96 + in_ch, 17, 17)
    """

    def __init__(self, in_ch: int):
        super().__init__()
        self.branch3x3 = ConvBN(in_ch, 384, 3, stride=2)

        self.branch3x3dbl_1 = ConvBN(in_ch, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3(x)
        b3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b3dbl, bp], dim=1)


class InceptionC(nn.Module):
    """17x17 block (Mixed_6b..6e): 7x7 convolutions factorized into 1x7 and 7x1.

    (B, 768, 17, 17) -> (B, 4 * 192, 17, 17); c7 is the width inside the factorized branches.
    """

    def __init__(self, in_ch: int, c7: int):
        super().__init__()
        self.branch1x1 = ConvBN(in_ch, 192, 1)

        self.branch7x7_1 = ConvBN(in_ch, c7, 1)
        self.branch7x7_2 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = ConvBN(c7, 192, (7, 1), padding=(3, 0))

        self.branch7x7dbl_1 = ConvBN(in_ch, c7, 1)
        self.branch7x7dbl_2 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = ConvBN(c7, 192, (1, 7), padding=(0, 3))

        self.branch_pool = ConvBN(in_ch, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7dbl = self.branch7x7dbl_1(x)
        b7dbl = self.branch7x7dbl_3(self.branch7x7dbl_2(b7dbl))
        b7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(b7dbl))
        bp = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([b1, b7, b7dbl, bp], dim=1)


class InceptionD(nn.Module):
    """Grid reduction 17x17 -> 8x8 (Mixed_7a).

    (B, 768, 17, 17) -> (B, 320 + 192 + 768, 8, 8) = (B, 1280, 8, 8)
    """

    def __init__(self, in_ch: int):
        super().__init__()
        self.branch3x3_1 = ConvBN(in_ch, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)

        self.branch7x7x3_1 = ConvBN(in_ch, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(b7)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], dim=1)


class InceptionE(nn.Module):
    """8x8 block (Mixed_7b, Mixed_7c): 3x3 convolutions split into parallel 1x3 and 3x1 halves.

    (B, in_ch, 8, 8) -> (B, 320 + 768 + 768 + 192, 8, 8) = (B, 2048, 8, 8)

    ``pool`` is "avg" for Mixed_7b and "max" for Mixed_7c: the TF FID graph really does max-pool in
    the last block (most likely a slip in that graph, but it is what the weights were used with).
    """

    def __init__(self, in_ch: int, pool: str):
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"pool must be 'avg' or 'max', not {pool!r}")
        self.pool = _avg_pool_3x3 if pool == "avg" else _max_pool_3x3

        self.branch1x1 = ConvBN(in_ch, 320, 1)

        self.branch3x3_1 = ConvBN(in_ch, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))

        self.branch3x3dbl_1 = ConvBN(in_ch, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))

        self.branch_pool = ConvBN(in_ch, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)

        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], dim=1)  # (B, 768, 8, 8)

        b3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3dbl = torch.cat([self.branch3x3dbl_3a(b3dbl), self.branch3x3dbl_3b(b3dbl)], dim=1)  # (B, 768, 8, 8)

        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b3, b3dbl, bp], dim=1)


# ----------------------------------------------------------------------------- the network


class FIDInceptionV3(nn.Module):
    """The TF-2015 Inception-v3 of FID/KID/IS, in pytorch-fid's state-dict layout.

    ``forward`` takes float images in [-1, 1] at 299x299 (use ``preprocess``) and returns
    ``{"pool": (B, 2048) pool3 features (FID, KID), "logits": (B, 1008) fc outputs (IS)}``.
    Built with random weights; ``load_inception`` fills in the real ones.
    """

    def __init__(self):
        super().__init__()
        # Attribute names are the state-dict prefixes of the weights file: do not rename.
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)

        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)

        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, c7=128)
        self.Mixed_6c = InceptionC(768, c7=160)
        self.Mixed_6d = InceptionC(768, c7=160)
        self.Mixed_6e = InceptionC(768, c7=192)

        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, pool="avg")
        self.Mixed_7c = InceptionE(2048, pool="max")

        self.fc = nn.Linear(POOL_DIM, NUM_LOGITS)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (B, 3, 299, 299) images in [-1, 1], got shape {tuple(x.shape)}")
        # (B, 3, 299, 299)
        x = self.Conv2d_1a_3x3(x)  # (B, 32, 149, 149)
        x = self.Conv2d_2a_3x3(x)  # (B, 32, 147, 147)
        x = self.Conv2d_2b_3x3(x)  # (B, 64, 147, 147)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, 64, 73, 73)
        x = self.Conv2d_3b_1x1(x)  # (B, 80, 73, 73)
        x = self.Conv2d_4a_3x3(x)  # (B, 192, 71, 71)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, 192, 35, 35)

        x = self.Mixed_5b(x)  # (B, 256, 35, 35)
        x = self.Mixed_5c(x)  # (B, 288, 35, 35)
        x = self.Mixed_5d(x)  # (B, 288, 35, 35)

        x = self.Mixed_6a(x)  # (B, 768, 17, 17)
        x = self.Mixed_6b(x)
        x = self.Mixed_6c(x)
        x = self.Mixed_6d(x)
        x = self.Mixed_6e(x)  # (B, 768, 17, 17)

        x = self.Mixed_7a(x)  # (B, 1280, 8, 8)
        x = self.Mixed_7b(x)  # (B, 2048, 8, 8)
        x = self.Mixed_7c(x)  # (B, 2048, 8, 8)

        pool = F.adaptive_avg_pool2d(x, 1).flatten(1)  # (B, 2048): "pool3"
        logits = self.fc(pool)  # (B, 1008); dropout is the identity at eval time
        return {"pool": pool, "logits": logits}


# ----------------------------------------------------------------------------- input


def preprocess(images_uint8: Tensor) -> Tensor:
    """(B, C, H, W) uint8 in [0, 255], C = 1 or 3 -> (B, 3, 299, 299) float32 in [-1, 1].

    Exactly pytorch-fid's input path, which clean-fid's ``legacy_pytorch`` mode also uses: bytes
    divided by 255 (torchvision's ToTensor), bilinear resize to 299x299 with ``F.interpolate``
    (``align_corners=False``, no antialiasing) on the [0, 1] values, then ``2x - 1``. Grayscale is
    repeated to RGB, as PIL's ``convert("RGB")`` does in their loaders. A 299x299 input is not
    resampled at all (bilinear at scale 1 is the identity). The filter is recorded in ``RESIZE``.
    The resize runs on the images' device, so put them on the model's device first, as pytorch-fid does.
    """
    if images_uint8.dtype != torch.uint8:
        raise ValueError(f"expected uint8 images in [0, 255], got dtype {images_uint8.dtype}")
    if images_uint8.ndim != 4 or images_uint8.shape[1] not in (1, 3):
        raise ValueError(f"expected (B, C, H, W) images with C = 1 or 3, got shape {tuple(images_uint8.shape)}")
    x = images_uint8.to(torch.float32).div(255)  # (B, C, H, W) in [0, 1]
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)  # (B, 3, H, W)
    x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)  # (B, 3, 299, 299)
    return 2 * x - 1


# ----------------------------------------------------------------------------- weights


def _hub_path() -> Path:
    # Read at call time: torch.hub's directory follows $TORCH_HOME and torch.hub.set_dir.
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def _missing(looked: list[str]) -> MissingDependency:
    return MissingDependency(
        f"Inception weights for FID/KID/IS not found (looked in: {', '.join(looked)})",
        f"download {WEIGHTS_URL} and save it as {_hub_path()}, "
        f"or set {WEIGHTS_ENV} or pass --inception-weights to where it is",
    )


def find_weights(path: str | os.PathLike | None = None) -> Path:
    """The weights file: the explicit ``path``, else ``$ARTFORGE_INCEPTION_WEIGHTS``, else torch hub's cache.

    A location the user named (``path`` or the variable) that does not exist is an error rather than
    a reason to look further: silently using some other file would hide the typo. Only when neither is
    given is the torch hub cache used, where pytorch-fid itself would have put the file.
    """
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p
        raise _missing([f"{p} (given path)"])
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        p = Path(env).expanduser()
        if p.is_file():
            return p
        raise _missing([f"{p} (${WEIGHTS_ENV})"])
    p = _hub_path()
    if p.is_file():
        return p
    raise _missing([f"{p} (torch hub cache)", f"${WEIGHTS_ENV} (not set)"])


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _load_failure(exc: Exception) -> str:
    """The gist of a torch.load failure, one line: torch's weights-only message is a paragraph of
    advice to load the file unsafely, which is not advice to pass on."""
    text = str(exc)
    m = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\n|$)", text, flags=re.S)
    return _one_line(f"{type(exc).__name__}: {m.group(1) if m else text}")


def _check_state_dict(state: Mapping, expected: Mapping[str, Tensor], path: Path) -> dict[str, Tensor]:
    """The file's tensors, checked key by key and shape by shape against the network.

    ``num_batches_tracked`` is the one tolerated difference. BatchNorm's step counter means nothing at
    eval time; pytorch-fid's file appears to carry it (tinygrad's loader for this very file reshapes
    those entries), while conversions that start from the TF graph (torch-fidelity's script) write
    none. Both load: an absent counter is set to 0, as PyTorch itself does for old checkpoints.
    """
    fix = f"point to the FID weights file {WEIGHTS_FILE} from {WEIGHTS_URL}"
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"{path} is not an Inception-v3 state dict (not a mapping of names to tensors)", fix)
    state = dict(state)
    for key in expected:
        if key.endswith(".num_batches_tracked") and key not in state:
            state[key] = torch.zeros((), dtype=torch.long)

    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            problems.append(f"{len(wrong)} wrong shapes (e.g. {k}: {tuple(state[k].shape)}, "
                            f"expected {tuple(expected[k].shape)})")
        raise CheckpointError(f"{path} is not the FID Inception-v3 weights file: {'; '.join(problems)}", fix)
    return state


def load_inception(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> FIDInceptionV3:
    """The FID Inception with its real weights, frozen, in eval mode, on ``device``.

    The file is read with ``weights_only=True``: a weights file can then only hold tensors, never
    code that would run on load. Any file that is not exactly this network's state dict is refused
    with a one-line ``CheckpointError`` naming the file.
    """
    path = find_weights(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, not a torch file, or objects other than tensors
        raise CheckpointError(
            f"{path} is not a readable file of plain tensors ({_load_failure(exc)})",
            f"download {WEIGHTS_FILE} again from {WEIGHTS_URL}",
        ) from None
    model = FIDInceptionV3()
    state = _check_state_dict(state, model.state_dict(), path)
    model.load_state_dict(state, strict=True)
    model.requires_grad_(False)
    return model.eval().to(device)


@torch.no_grad()
def inception_features(model: FIDInceptionV3, images_uint8: Tensor, batch_size: int = 64) -> dict[str, Tensor]:
    """``preprocess`` + forward in batches: {"pool": (N, 2048), "logits": (N, 1008)}, float32 on the CPU.

    Batches are preprocessed on the model's device, as pytorch-fid resizes on its device.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = next(model.parameters()).device
    pools, logits = [], []
    for start in range(0, images_uint8.shape[0], batch_size):
        out = model(preprocess(images_uint8[start:start + batch_size].to(device)))
        pools.append(out["pool"].float().cpu())
        logits.append(out["logits"].float().cpu())
    if not pools:  # no images: empty results of the right width
        return {"pool": torch.zeros(0, POOL_DIM), "logits": torch.zeros(0, NUM_LOGITS)}
    return {"pool": torch.cat(pools), "logits": torch.cat(logits)}
