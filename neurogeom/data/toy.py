"""The seed's two-dimensional toy tasks."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError

__all__ = [
    "sinusoid_boundary",
    "sinusoid_boundary_distance",
    "sinusoid_task",
    "xor_boundary_distance",
    "xor_points",
    "xor_task",
]


def sinusoid_boundary(x1: np.ndarray) -> np.ndarray:
    """The task's decision boundary ``x₂ = 0.6 sin(7 x₁ − 1)``."""
    return 0.6 * np.sin(7.0 * np.asarray(x1) - 1.0)


def sinusoid_boundary_distance(X: np.ndarray, *, spacing: float = 2e-4) -> np.ndarray:
    """Euclidean distance of points ``X`` (m, 2) to the curve ``x₂ = 0.6 sin(7 x₁ − 1)``.

    The curve is sampled every ``spacing`` in ``x₁`` over a range that contains every
    nearest point (the curve lies in ``|x₂| ≤ 0.6``), and the nearest sample is refined by
    Newton steps on the squared distance, so the result is accurate to ~1e-10.

    Parameters
    ----------
    X : array, shape (m, 2)
    spacing : float
        Sampling step of the curve before refinement.

    Returns
    -------
    ndarray, shape (m,)

    Examples
    --------
    >>> peak = (np.pi / 2 + 1) / 7          # x₁ of a maximum of the curve
    >>> float(sinusoid_boundary_distance(np.array([[peak, 1.0]]))[0])  # 1 - 0.6
    0.4
    """
    from scipy.spatial import cKDTree

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ParameterError(f"X has shape {X.shape}; expected (m, 2).")
    reach = np.abs(X[:, 1]).max(initial=0.0) + 0.6
    s = np.arange(X[:, 0].min() - reach, X[:, 0].max() + reach + spacing, spacing)
    curve = np.stack([s, sinusoid_boundary(s)], axis=1)
    _, idx = cKDTree(curve).query(X)
    t = s[idx]
    for _ in range(20):  # Newton on f(t) = ½[(t − x₁)² + (b(t) − x₂)²]
        b, db, d2b = 0.6 * np.sin(7 * t - 1), 4.2 * np.cos(7 * t - 1), -29.4 * np.sin(7 * t - 1)
        grad = (t - X[:, 0]) + (b - X[:, 1]) * db
        hess = 1 + db**2 + (b - X[:, 1]) * d2b
        step = np.where(hess > 0, grad / np.where(hess > 0, hess, 1.0), 0.0)
        t = t - np.clip(step, -spacing, spacing)
    return np.hypot(t - X[:, 0], sinusoid_boundary(t) - X[:, 1])


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
        raise ParameterError(f"n_points={n_points} must be positive.")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_points, 2))
    y = (X[:, 1] > sinusoid_boundary(X[:, 0])).astype(np.int64)
    return X, y


def xor_points() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points ``(±1, ±1)``, labelled 1 where ``x₁ x₂ < 0``.

    Returns
    -------
    X : ndarray, shape (4, 2), float64
    y : ndarray, shape (4,), int64

    Examples
    --------
    >>> X, y = xor_points()
    >>> X.tolist(), y.tolist()
    ([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    return X, (X[:, 0] * X[:, 1] < 0).astype(np.int64)


def xor_task(
    n_points: int = 400, *, variance: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points from four Gaussians centred at ``(±1, ±1)`` with covariance ``variance · I``.

    Each point carries the XOR label of its Gaussian's centre (1 where the centre has
    ``x₁ x₂ < 0``), so a few points fall on the "wrong" side of the Bayes boundary, which
    by symmetry is the pair of axes ``x₁ = 0`` and ``x₂ = 0``.

    Parameters
    ----------
    n_points : int
        Number of points, split as evenly as possible over the four Gaussians.
    variance : float
        Variance of each coordinate (the seed uses 0.15).
    seed : int
        Seed of the generator.

    Returns
    -------
    X : ndarray, shape (n_points, 2), float64
    y : ndarray, shape (n_points,), int64

    Examples
    --------
    >>> X, y = xor_task(8, seed=0)
    >>> X.shape, y.tolist()
    ((8, 2), [0, 0, 1, 1, 1, 1, 0, 0])
    """
    if n_points < 1:
        raise ParameterError(f"n_points={n_points} must be positive.")
    if not variance > 0:
        raise ParameterError(f"variance={variance} must be positive.")
    centres, labels = xor_points()
    which = np.arange(n_points) * 4 // n_points
    rng = np.random.default_rng(seed)
    X = centres[which] + math.sqrt(variance) * rng.standard_normal((n_points, 2))
    return X, labels[which]


def xor_boundary_distance(X: np.ndarray) -> np.ndarray:
    """Euclidean distance of points ``X`` (m, 2) to the XOR boundary ``x₁ x₂ = 0``.

    Examples
    --------
    >>> xor_boundary_distance(np.array([[0.5, -2.0], [0.0, 1.0]])).tolist()
    [0.5, 0.0]
    """
    X = np.asarray(X, dtype=np.float64)
    return np.minimum(np.abs(X[:, 0]), np.abs(X[:, 1]))
