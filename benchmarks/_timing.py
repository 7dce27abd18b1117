"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Best wall time in seconds of ``repeats`` calls, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def print_table(title: str, rows: list[tuple[str, float]], baseline: str, reference: str) -> None:
    """Print ms/point with ratios to a baseline row and to a reference row."""
    times = dict(rows)
    print(f"\n{title}")
    print(f"{'method':<48}{'ms/point':>12}{'x ' + baseline:>18}{'ref / this':>12}")
    for name, t in rows:
        print(
            f"{name:<48}{1e3 * t:>12.4f}{t / times[baseline]:>18.2f}{times[reference] / t:>12.1f}"
        )
