"""Percentile intervals of log-volume and eigenvalues from resampled metrics."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError, ShapeError

__all__ = ["bootstrap_intervals"]


def bootstrap_intervals(
    resamples: Any, level: float = 0.95, rank: int | None = None
) -> dict[str, np.ndarray]:
    r"""Percentile intervals of :math:`\tfrac12\log\det g` and of the eigenvalues of ``g``.

    Resampled estimates may be indefinite (bias-corrected metrics can be): such a resample
    has no real log-volume; it is ranked below every positive-definite one (its
    :math:`\det g \le 0` is the limit of a vanishing volume), so a lower bound that falls
    among them is ``-inf`` and ``log_volume_element_unbounded`` says so. Points whose
    resamples are NaN (flagged, invalid points) get NaN bounds.

    Parameters
    ----------
    resamples : array, shape (B, m, k, k)
        Metric estimates per resample and point.
    level : float
        Two-sided confidence level (percentiles ``(1 ± level)/2``, conservative order
        statistics: the lower bound rounds down, the upper up).
    rank : int, optional
        Use the top-``rank`` pseudo-determinant (as ``log_volume_element(g, rank=k)``).

    Returns
    -------
    dict of arrays
        ``log_volume_element_ci_low`` / ``_ci_high`` (m,), ``eigenvalues_ci_low`` /
        ``_ci_high`` (m, k), largest eigenvalue first, ``log_volume_element_unbounded``
        (m,) bool, ``log_volume_element_bootstrap`` (m, B) and ``indefinite_fraction`` (m,).

    Examples
    --------
    >>> import numpy as np
    >>> g = np.stack([np.eye(2)[None] * s for s in (1.0, 4.0, 9.0)])   # (3, 1, 2, 2)
    >>> out = bootstrap_intervals(g, level=0.5)
    >>> out["log_volume_element_ci_low"], out["log_volume_element_ci_high"]
    (array([0.]), array([2.19722458]))
    """
    g = np.asarray(resamples, dtype=np.float64)
    if g.ndim != 4 or g.shape[-1] != g.shape[-2]:
        raise ShapeError(f"resamples have shape {g.shape}; expected (B, m, k, k).")
    if not 0 < level < 1:
        raise ParameterError(f"level={level}; expected a confidence level in (0, 1).")
    finite = np.isfinite(g).all(axis=(0, 2, 3))
    eig = np.full(g.shape[:3], np.nan)
    eig[:, finite] = np.linalg.eigvalsh(0.5 * (g[:, finite] + np.swapaxes(g[:, finite], 2, 3)))
    eig = eig[..., ::-1]
    k = g.shape[-1] if rank is None else int(rank)
    if not 1 <= k <= g.shape[-1]:
        raise ParameterError(f"rank={rank} is outside 1..{g.shape[-1]}.")
    top = eig[..., :k]
    positive = np.asarray((top > 0).all(-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(positive[..., None], top, 1.0))
        logvol = np.where(positive, 0.5 * logs.sum(-1), -np.inf)
    logvol[:, ~finite] = np.nan
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore"):
        out["log_volume_element_ci_low"] = np.quantile(logvol, lo_q, axis=0, method="lower")
        out["log_volume_element_ci_high"] = np.quantile(logvol, hi_q, axis=0, method="higher")
        out["eigenvalues_ci_low"] = np.quantile(eig, lo_q, axis=0, method="lower")
        out["eigenvalues_ci_high"] = np.quantile(eig, hi_q, axis=0, method="higher")
    out["log_volume_element_unbounded"] = np.isneginf(out["log_volume_element_ci_low"])
    out["log_volume_element_bootstrap"] = logvol.T.copy()
    frac = np.where(finite, (~(eig > 0).all(-1)).mean(0), np.nan)
    out["indefinite_fraction"] = frac
    return out
