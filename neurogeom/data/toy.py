"""The seed's two-dimensional toy tasks."""

from __future__ import annotations

import numpy as np

__all__ = ["sinusoid_boundary", "sinusoid_task"]


def sinusoid_boundary(x1: np.ndarray) -> np.ndarray:
    """The task's decision boundary ``x₂ = 0.6 sin(7 x₁ − 1)``."""
    return 0.6 * np.sin(7.0 * np.asarray(x1) - 1.0)


def sinusoid_task(n_points: int = 400, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in ``[-1, 1]²``, labelled 1 above ``x₂ = 0.6 sin(7 x₁ − 1)``.

    Parameters
    ----------
    n_points : int
        Number of points.
    seed : int
        Seed of the generator; the same seed gives the same data.

    Returns
    -------
    X : ndarray, shape (n_points, 2), float64
    y : ndarray, shape (n_points,), int64

    Examples
    --------
    >>> X, y = sinusoid_task(10, seed=1)
    >>> X.shape, y.shape, set(y.tolist()) <= {0, 1}
    ((10, 2), (10,), True)
    """
    if n_points < 1:
        raise ValueError(f"n_points={n_points} must be positive.")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_points, 2))
    y = (X[:, 1] > sinusoid_boundary(X[:, 0])).astype(np.int64)
    return X, y
