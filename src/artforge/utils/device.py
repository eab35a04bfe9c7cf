"""Choosing the device and the compute precision."""

from __future__ import annotations

import contextlib
import functools
import statistics
import time
from dataclasses import dataclass

import torch

from ..errors import UsageError


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"device {name!r} is not a device name", "use auto, cpu, cuda, cuda:1 or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("device cuda was asked for but this PyTorch sees no CUDA GPU",
                         "use device cpu, or install a CUDA build of PyTorch")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(f"device {name}: there are only {torch.cuda.device_count()} CUDA devices",
                         "use device cuda:0")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError("device mps was asked for but MPS is not available", "use device cpu")
    return device


def cpu_has_fast_bf16() -> bool:
    """True where oneDNN runs bf16 natively (AVX512-BF16 or AMX), so autocast is a speed-up."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


BF16_MIN_SPEEDUP = 1.15  # --precision auto takes bf16 on a CPU only when it measures at least this much faster


@dataclass(frozen=True)
class PrecisionChoice:
    dtype: torch.dtype | None  # the autocast dtype, or None for plain fp32
    reason: str  # why, for the log: "precision NAME: REASON"


def _conv_step_seconds(dtype: torch.dtype | None, repeats: int = 5) -> list[float]:
    """Times of a small convolutional forward and backward, shaped like a DCGAN layer, at ``dtype``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(64, 128, 4, 2, 1), torch.nn.BatchNorm2d(128),
                                  torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(128, 128, 3, 1, 1))
        x = torch.randn(16, 64, 32, 32)
    net = net.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
    times = []
    for i in range(repeats + 2):  # the first two build oneDNN's kernels
        start = time.perf_counter()
        with autocast(torch.device("cpu"), dtype):
            out = net(x).float()
        out.square().mean().backward()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return times


@functools.lru_cache(maxsize=1)
def cpu_bf16_speedup() -> float:
    """How many times faster bf16 autocast runs a convolution step than fp32 on this CPU (medians,
    alternated); measured once per process, in about a tenth of a second where bf16 is native."""
    fp32, bf16 = [], []
    for _ in range(3):
        fp32 += _conv_step_seconds(None, 2)
        bf16 += _conv_step_seconds(torch.bfloat16, 2)
    return statistics.median(fp32) / statistics.median(bf16)


def choose_precision(name: str, device: torch.device) -> PrecisionChoice:
    """The autocast dtype for ``--precision name`` on ``device``, and why. ``auto`` measures on a CPU."""
    if name == "fp32":
        return PrecisionChoice(None, "asked for (--precision fp32)")
    if name in ("bf16", "fp16"):
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[name]
        if device.type == "cpu" and dtype == torch.float16:
            raise UsageError("fp16 precision is for GPUs", "use bf16 or fp32 precision on the CPU")
        return PrecisionChoice(dtype, f"asked for (--precision {name})")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return PrecisionChoice(torch.bfloat16, "this GPU runs bf16 natively")
        return PrecisionChoice(torch.float16, "this GPU has no bf16 (fp16 with loss scaling)")
    if device.type != "cpu":
        return PrecisionChoice(None, f"autocast is not used on {device.type}")
    if not cpu_has_fast_bf16():
        return PrecisionChoice(None, "no native bf16 on this CPU (oneDNN finds no AVX512-BF16 or AMX), "
                                     "where bf16 runs several times slower than fp32")
    speedup = cpu_bf16_speedup()
    if speedup >= BF16_MIN_SPEEDUP:
        return PrecisionChoice(torch.bfloat16, f"bf16 measured {speedup:.1f}x faster than fp32 on this CPU")
    return PrecisionChoice(None, f"bf16 measured {speedup:.2f}x fp32's speed on this CPU "
                                 f"(below {BF16_MIN_SPEEDUP}x)")


def precision_name(dtype: torch.dtype | None) -> str:
    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
