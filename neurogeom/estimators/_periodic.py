"""Periodic stimulus dimensions, shared by the estimators that honour ``period=``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["check_span", "periods", "wrapped"]


def periods(period: Any, d: int) -> np.ndarray:
    """Per-dimension periods ``(d,)``: ``inf`` for a non-periodic dimension."""
    if period is None:
        return np.full(d, np.inf)
    seq = list(period) if isinstance(period, (list, tuple, np.ndarray)) else [period] * d
    if len(seq) != d:
        raise ParameterError(f"period has {len(seq)} entries for {d} stimulus dimensions.")
    out = np.array([np.inf if p is None else float(p) for p in seq])
    if not (out > 0).all():
        raise ParameterError(
            f"period={period!r}; each period must be a positive number or None "
            "(e.g. [np.pi, None] for grating orientation × contrast)."
        )
    return out


def wrapped(diff: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Differences wrapped into ``(−P/2, P/2]`` along periodic dimensions."""
    P = np.where(np.isfinite(period), period, 1.0)
    return np.asarray(np.where(np.isfinite(period), diff - P * np.round(diff / P), diff))


def check_span(X: np.ndarray, period: np.ndarray) -> None:
    """Refuse periodic dimensions whose samples leave a gap wider than half the period."""
    for a in np.flatnonzero(np.isfinite(period)):
        P = period[a]
        v = np.sort(np.unique(np.mod(X[:, a], P)))
        gaps = np.diff(np.r_[v, v[0] + P])
        if gaps.max() > P / 2:
            raise ParameterError(
                f"stimulus dimension {a} is declared periodic with period {P:.4g}, but its "
                f"samples (mod {P:.4g}) leave a gap of {gaps.max():.4g} > half the period: "
                "they do not span it. Check the period (grating orientation has period π, "
                "direction 2π) or do not declare the dimension periodic."
            )
