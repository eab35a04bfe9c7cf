"""What CPU a benchmark ran on, and the peak FLOP rate its figures are a fraction of.

Every speed figure names its CPU: the model, the vector ISA PyTorch uses (AVX2 or AVX-512, and
whether oneDNN runs bf16 natively), and whether that ISA was capped by environment variables to
show what an older CPU does (ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
MKL_ENABLE_INSTRUCTIONS=AVX2 on an AVX-512 machine). The peak is measured, not looked up: the rate
of a large matrix multiply at the precision in question, on the same threads.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

# Run a benchmark's children with these to see roughly what an AVX2-only CPU (no native bf16) does.
AVX2_ENV = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def describe() -> str:
    """One line: model, cores, the hardware's ISA, and what PyTorch uses here (capped or not)."""
    import torch

    from artforge.utils.device import cpu_has_fast_bf16

    flags = cpu_flags()
    hardware = ("AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags
                else "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2")
    used = torch.backends.cpu.get_cpu_capability()
    capped = any(os.environ.get(k) for k in AVX2_ENV)
    bf16 = "native bf16" if cpu_has_fast_bf16() else "no native bf16"
    return (f"{cpu_model()}, {os.cpu_count()} cores, hardware {hardware}; PyTorch uses {used} with {bf16}"
            + (" (capped by ONEDNN_MAX_CPU_ISA/ATEN_CPU_CAPABILITY to act as an AVX2 CPU)" if capped else ""))


def peak_gflops(dtype_name: str = "fp32", max_n: int = 2048, repeats: int = 5) -> float:
    """Measured peak: GFLOP/s of an n x n x n matrix multiply at fp32 or bf16 (best of ``repeats``).

    n doubles from 256 up to ``max_n`` while one product takes under 50 ms, so a precision the CPU
    runs slowly (bf16 without native support: minutes at n = 2048) is measured in seconds.
    """
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    n = 256
    while True:
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        a @ b  # builds the kernel
        start = time.perf_counter()
        a @ b
        if n >= max_n or time.perf_counter() - start > 0.05:
            break
        n *= 2
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n ** 3 / min(times) / 1e9
