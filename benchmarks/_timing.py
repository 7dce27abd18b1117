"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def best_time(
    fn: Callable[[], object], repeats: int = 3, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Best time in seconds (by ``clock``) of ``repeats`` calls, after one warm-up call.

    ``time.process_time`` with one thread measures CPU work, which a loaded machine barely
    changes; ``time.perf_counter`` (the default) measures wall time.
    """
    fn()
    best = float("inf")
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = clock()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, clock() - start)
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
