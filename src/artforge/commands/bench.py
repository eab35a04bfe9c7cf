"""``bench toy``: every recipe on 2-D mixtures, counting the modes each captures."""

from __future__ import annotations


def bench(options: dict, events=None, cancel=None) -> dict:
    from ..bench.toy import run_benchmark
    from ..options import ToyBenchConfig

    return run_benchmark(ToyBenchConfig(**options))


def bench_summary(result: dict, options: dict | None = None) -> list[str]:
    return [result["table"], f"plot: {result['plot']}; all numbers: {result['out'] / 'toy-bench.json'}"]
