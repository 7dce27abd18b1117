"""Finite differences on designed stencils and on regular grids."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InsufficientSamplesError, OutOfDomainError, ParameterError, ShapeError
from ._periodic import periods
from .base import JacobianEstimator, as_2d, register_estimator

__all__ = ["GridDifferences", "StencilDifferences"]


def _match_rows(Xq: np.ndarray, nodes: np.ndarray, what: str) -> np.ndarray:
    """Index of each query row in ``nodes`` (exact up to rounding), or raise."""
    scale = max(1.0, float(np.abs(nodes).max()))
    dist = np.abs(Xq[:, None, :] - nodes[None]).max(-1)
    idx = dist.argmin(1)
    bad = dist[np.arange(len(Xq)), idx] > 1e-9 * scale
    if bad.any():
        q = int(np.argmax(bad))
        raise OutOfDomainError(
            f"query point {q} ({Xq[q]}) is not one of the {what}; finite differences "
            f"estimate Jacobians only there. Query the {what} (e.g. via ng.Points)."
        )
    return np.asarray(idx)


@register_estimator("stencil")
class StencilDifferences(JacobianEstimator):
    """Central differences on a designed stencil: ``x₀ ± h·uⱼ``, each shown ``repeats`` times.

    Present :meth:`design` as the stimuli (rows ordered by centre, direction, sign, repeat);
    ``Ĵ uⱼ ≈ (r̄₊ − r̄₋)/(2h)`` and ``Ĵ = D U(UᵀU)⁻¹``. With axis directions the noise
    propagation is ``S = I/(2 T h²)`` (T = repeats).

    Parameters
    ----------
    centers : array (K, d)
        Points at which Jacobians are wanted.
    step : float
        h.
    directions : "axes", "random" or array (q, d)
        Stencil directions (``q ≥ d``, spanning the space); random ones are unit vectors.
    n_directions : int, optional
        Number of random directions (default ``2d``).
    repeats : int
        Presentations of each stencil point in :meth:`design`.
    random_state : int

    Examples
    --------
    >>> import numpy as np
    >>> est = StencilDifferences(centers=np.zeros((1, 2)), step=0.1)
    >>> X = est.design()
    >>> R = X @ np.array([[1.0, 2.0]]).T
    >>> np.round(est.fit(X, R).jacobian(np.zeros((1, 2))), 10)
    array([[[1., 2.]]])
    """

    def __init__(
        self,
        centers: Any = None,
        step: float = 0.1,
        directions: Any = "axes",
        n_directions: int | None = None,
        repeats: int = 1,
        random_state: int = 0,
    ) -> None:
        self.centers = centers
        self.step = step
        self.directions = directions
        self.n_directions = n_directions
        self.repeats = repeats
        self.random_state = random_state

    def _centers(self) -> np.ndarray:
        if self.centers is None:
            raise ParameterError("StencilDifferences needs centers=(K, d) stencil centres.")
        return as_2d(self.centers, "centers")

    def _unit_directions(self, d: int) -> np.ndarray:
        if isinstance(self.directions, str):
            if self.directions == "axes":
                return np.eye(d)
            if self.directions == "random":
                q = 2 * d if self.n_directions is None else int(self.n_directions)
                U = np.random.default_rng(self.random_state).standard_normal((q, d))
                return U / np.linalg.norm(U, axis=1, keepdims=True)
            raise ParameterError(f"directions={self.directions!r}; use 'axes', 'random' or (q, d).")
        U = as_2d(self.directions, "directions", d)
        return U / np.linalg.norm(U, axis=1, keepdims=True)

    def design(self) -> np.ndarray:
        """Stimuli to present, shape ``(K · q · 2 · repeats, d)``."""
        c = self._centers()
        U = self._unit_directions(c.shape[1])
        if np.linalg.matrix_rank(U) < c.shape[1]:
            raise ParameterError("stencil directions do not span the stimulus space.")
        h = float(self.step)
        pts = (
            c[:, None, None, :] + h * np.array([1.0, -1.0])[None, None, :, None] * U[None, :, None]
        )
        pts = np.repeat(pts[:, :, :, None, :], int(self.repeats), axis=3)
        return pts.reshape(-1, c.shape[1])

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        expected = self.design()
        if X.shape != expected.shape or not np.allclose(X, expected, rtol=0, atol=1e-9):
            raise ShapeError(
                f"stimuli ({X.shape}) are not this stencil's design ({expected.shape}); "
                "present est.design() in that order (trial-average repeated presentations)."
            )
        c = self._centers()
        U = self._unit_directions(c.shape[1])
        P = np.linalg.solve(U.T @ U, U.T)  # (d, q)
        T = int(self.repeats)
        sign = np.array([1.0, -1.0])
        per_center = (P[:, :, None, None] * sign[None, None, :, None]) / (2 * self.step * T)
        self.centers_ = c
        self.rows_per_center_ = len(X) // len(c)
        self.block_ = np.broadcast_to(per_center, (*P.shape, 2, T)).reshape(P.shape[0], -1)

    def linear_weights(self, Xq: Any) -> np.ndarray:
        """Weights ``C`` (m, d, M); queries must be stencil centres."""
        idx = _match_rows(self._query(Xq), self.centers_, "stencil centres")
        K, (d, b) = len(self.centers_), self.block_.shape
        C = np.zeros((len(idx), d, K * b))
        for q, i in enumerate(idx):
            C[q, :, i * b : (i + 1) * b] = self.block_
        return C

    def predict(self, Xq: Any) -> np.ndarray:
        """Mean response over each centre's stencil (``f(x₀) + O(h²)``), shape ``(m, n)``."""
        idx = _match_rows(self._query(Xq), self.centers_, "stencil centres")
        b = self.rows_per_center_
        R = self.responses_.reshape(len(self.centers_), b, -1)
        return np.asarray(R[idx].mean(1))


@register_estimator("grid_differences")
class GridDifferences(JacobianEstimator):
    """Second-order finite differences on a regular grid (one-sided at the edges).

    The stimuli must be every node of a grid with uniform spacing along each axis (any
    order, each node once); Jacobians are estimated at the nodes.

    Parameters
    ----------
    period : float, sequence of float/None, or None
        Period of circular stimulus dimensions per dimension. A periodic axis must have
        nodes ``θ₀ + k·P/n`` (k = 0..n−1, one period without its repeated end); its
        differences wrap — central at every node, the neighbours of the last node include
        the first — and a query at ``θ + P`` is the node at ``θ``.

    Examples
    --------
    >>> import numpy as np
    >>> u = np.linspace(0, 1, 5)
    >>> X = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    >>> R = np.stack([X[:, 0] ** 2, X[:, 1]], 1)
    >>> np.round(GridDifferences().fit(X, R).jacobian(np.array([[0.5, 0.25]]))[0], 10)
    array([[1., 0.],
           [0., 1.]])
    """

    def __init__(self, period: Any = None) -> None:
        self.period = period

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        self.period_ = periods(self.period, X.shape[1])
        axes = [np.unique(X[:, a]) for a in range(X.shape[1])]
        shape = tuple(len(t) for t in axes)
        if int(np.prod(shape)) != len(X) or min(shape) < 3:
            raise ShapeError(
                f"stimuli ({len(X)} rows) do not form a full grid with >= 3 nodes per axis "
                f"(unique values per axis: {shape}); give every node exactly once."
            )
        steps = []
        for t in axes:
            dt = np.diff(t)
            if not np.allclose(dt, dt[0], rtol=1e-6):
                raise ShapeError("grid spacing must be uniform along each axis.")
            steps.append(float(dt[0]))
        for a in np.flatnonzero(np.isfinite(self.period_)):
            P, n = float(self.period_[a]), len(axes[a])
            if not np.isclose(n * steps[a], P, rtol=1e-6):
                raise ParameterError(
                    f"stimulus dimension {a} is declared periodic with period {P:.4g}, but its "
                    f"{n} grid nodes with spacing {steps[a]:.4g} span {n * steps[a]:.4g}: a "
                    f"periodic axis needs nodes θ₀ + k·{P:.4g}/n (one period, without the "
                    "repeated end node). Check the period or leave the dimension non-periodic."
                )
        index = np.stack([np.searchsorted(t, X[:, a]) for a, t in enumerate(axes)], 1)
        flat = np.ravel_multi_index(tuple(index.T), shape)
        if len(np.unique(flat)) != len(X):
            raise InsufficientSamplesError("some grid nodes appear twice; average them first.")
        self.axes_, self.shape_, self.steps_ = axes, shape, np.array(steps)
        self.row_of_node_ = np.empty(len(X), dtype=int)
        self.row_of_node_[flat] = np.arange(len(X))
        self.nodes_ = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, X.shape[1])

    def linear_weights(self, Xq: Any) -> np.ndarray:
        """Weights ``C`` (m, d, M); queries must be grid nodes."""
        node = _match_rows(self._on_period(self._query(Xq)), self.nodes_, "grid nodes")
        d, M = len(self.shape_), len(self.row_of_node_)
        C = np.zeros((len(node), d, M))
        multi = np.array(np.unravel_index(node, self.shape_)).T
        for q, idx in enumerate(multi):
            for a in range(d):
                n = self.shape_[a]
                periodic = bool(np.isfinite(self.period_[a]))
                for offset, coef in _stencil(int(idx[a]), n, periodic):
                    nb = idx.copy()
                    nb[a] = (nb[a] + offset) % n
                    row = self.row_of_node_[np.ravel_multi_index(tuple(nb), self.shape_)]
                    C[q, a, row] += coef / self.steps_[a]
        return C

    def predict(self, Xq: Any) -> np.ndarray:
        """Responses at the queried grid nodes, shape ``(m, n)``."""
        node = _match_rows(self._on_period(self._query(Xq)), self.nodes_, "grid nodes")
        return np.asarray(self.responses_[self.row_of_node_[node]])

    def _on_period(self, Xq: np.ndarray) -> np.ndarray:
        """Queries with periodic coordinates wrapped into the nodes' period."""
        Xq = Xq.copy()
        for a in np.flatnonzero(np.isfinite(self.period_)):
            lo, P, half = self.axes_[a][0], self.period_[a], self.steps_[a] / 2
            Xq[:, a] = lo - half + np.mod(Xq[:, a] - lo + half, P)
        return Xq


def _stencil(i: int, n: int, periodic: bool = False) -> list[tuple[int, float]]:
    if periodic:
        return [(1, 0.5), (-1, -0.5)]
    if i == 0:
        return [(0, -1.5), (1, 2.0), (2, -0.5)]
    if i == n - 1:
        return [(0, 1.5), (-1, -2.0), (-2, 0.5)]
    return [(1, 0.5), (-1, -0.5)]
