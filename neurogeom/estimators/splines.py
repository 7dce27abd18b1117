"""Smoothing splines: cubic smoothing spline in 1-D, tensor bivariate spline on 2-D grids."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.interpolate import RectBivariateSpline, make_smoothing_spline

from ..errors import InsufficientSamplesError, OutOfDomainError, ParameterError, ShapeError
from .base import JacobianEstimator, register_estimator

__all__ = ["GridSpline2D", "SmoothingSpline"]


@register_estimator("spline")
class SmoothingSpline(JacobianEstimator):
    """Cubic smoothing spline of each neuron in 1-D; Ĵ is the spline's derivative.

    One penalty ``λ`` is shared by all neurons, chosen by generalised cross-validation of
    the summed residuals. With ``λ`` fixed the spline is linear in the responses: the
    weights are the derivatives of the splines through unit vectors.

    Parameters
    ----------
    lam : float, optional
        Penalty; None chooses it by GCV over ``lam_grid``.
    lam_grid : array, optional
        Candidates (default 25 log-spaced values, scaled by the stimulus range cubed).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 3, 60)[:, None]
    >>> sp = SmoothingSpline().fit(x, np.sin(x))
    >>> bool(abs(sp.jacobian(np.array([[1.5]]))[0, 0, 0] - np.cos(1.5)) < 1e-3)
    True
    """

    supports_sample_weight = True

    def __init__(self, lam: float | None = None, lam_grid: Any = None) -> None:
        self.lam = lam
        self.lam_grid = lam_grid

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        if X.shape[1] != 1:
            raise ShapeError(f"SmoothingSpline is 1-D; stimuli have {X.shape[1]} dimensions.")
        keep = np.ones(len(X), bool) if w is None else w > 0
        x = X[keep, 0]
        order = np.argsort(x)
        x = x[order]
        if len(x) < 5 or (np.diff(x) <= 0).any():
            raise InsufficientSamplesError(
                "a smoothing spline needs >= 5 distinct stimuli; average repeated stimuli."
            )
        self.rows_ = np.flatnonzero(keep)[order]
        self.x_ = x
        self.w_ = None if w is None else w[self.rows_]
        if self.lam is None:
            span = x[-1] - x[0]
            grid = (
                np.geomspace(1e-9, 1e-1, 25) * span**3 if self.lam_grid is None else self.lam_grid
            )
            scores = [self._gcv(R[self.rows_], float(lam)) for lam in grid]
            self.lam_ = float(grid[int(np.argmin(scores))])
        else:
            self.lam_ = float(self.lam)
        self.basis_ = make_smoothing_spline(x, np.eye(len(x)), w=self.w_, lam=self.lam_)
        self.n_samples_ = len(X)

    def _gcv(self, Y: np.ndarray, lam: float) -> float:
        H = make_smoothing_spline(self.x_, np.eye(len(self.x_)), w=self.w_, lam=lam)(self.x_)
        resid = Y - H @ Y
        return float(len(Y) * (resid**2).sum() / (len(Y) - np.trace(H)) ** 2)

    def linear_weights(self, Xq: Any) -> np.ndarray:
        """Weights ``C`` (m, 1, M) of the spline derivative."""
        Xq = self._query(Xq)
        if (Xq[:, 0] < self.x_[0]).any() or (Xq[:, 0] > self.x_[-1]).any():
            raise OutOfDomainError("query outside the range of the spline's stimuli.")
        C = np.zeros((len(Xq), 1, self.n_samples_))
        C[:, 0, self.rows_] = self.basis_.derivative()(Xq[:, 0])
        return C

    def predict(self, Xq: Any) -> np.ndarray:
        """Spline values at query points, shape ``(m, n)``."""
        Xq = self._query(Xq)
        if (Xq[:, 0] < self.x_[0]).any() or (Xq[:, 0] > self.x_[-1]).any():
            raise OutOfDomainError("query outside the range of the spline's stimuli.")
        return np.asarray(self.basis_(Xq[:, 0]) @ self.responses_[self.rows_])

    def frozen(self) -> SmoothingSpline:
        """Unfitted copy with ``lam`` fixed at ``lam_``."""
        est = super().frozen()
        est.set_params(lam=self.lam_)
        assert isinstance(est, SmoothingSpline)
        return est


@register_estimator("spline2d")
class GridSpline2D(JacobianEstimator):
    """Bicubic smoothing spline per neuron on a full 2-D grid (``RectBivariateSpline``).

    The smoothing target ``s`` per neuron defaults to ``M σ̂²``, with the noise variance
    ``σ̂²`` estimated from second differences along the grid. The knots depend on the data,
    so the estimator is not linear (no analytic bias correction; use cross-fitting).

    Parameters
    ----------
    s : float, optional
        Smoothing factor for every neuron (``Σ`` of squared standard errors of the nodes).

    Examples
    --------
    >>> import numpy as np
    >>> u = np.linspace(0, 1, 12)
    >>> X = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    >>> R = (X[:, :1] ** 2 + 3 * X[:, 1:]).repeat(2, 1)
    >>> est = GridSpline2D(s=0.0).fit(X, R)
    >>> np.round(est.jacobian(np.array([[0.5, 0.5]]))[0], 6)
    array([[1., 3.],
           [1., 3.]])
    """

    linear = False

    def __init__(self, s: float | None = None) -> None:
        self.s = s

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        if X.shape[1] != 2:
            raise ShapeError(f"GridSpline2D is 2-D; stimuli have {X.shape[1]} dimensions.")
        u, v = np.unique(X[:, 0]), np.unique(X[:, 1])
        if len(u) * len(v) != len(X) or min(len(u), len(v)) < 4:
            raise ShapeError(
                f"stimuli ({len(X)} rows) are not a full grid with >= 4 nodes per axis "
                f"({len(u)} x {len(v)} unique values); give every node once."
            )
        iu, iv = np.searchsorted(u, X[:, 0]), np.searchsorted(v, X[:, 1])
        Z = np.full((len(u), len(v), R.shape[1]), np.nan)
        Z[iu, iv] = R
        if np.isnan(Z).any():
            raise ShapeError("some grid nodes are missing or repeated; give every node once.")
        if self.s is None:
            d2 = np.concatenate(
                [
                    np.diff(Z, 2, axis=0).reshape(-1, R.shape[1]),
                    np.diff(Z, 2, axis=1).reshape(-1, R.shape[1]),
                ]
            )
            s = len(X) * (d2**2).mean(0) / 6.0
        else:
            s = np.full(R.shape[1], float(self.s))
        self.s_ = s
        self.splines_ = []
        for i in range(R.shape[1]):
            try:
                self.splines_.append(RectBivariateSpline(u, v, Z[:, :, i], s=float(s[i])))
            except ValueError as err:  # fitpack: no spline with that residual within maxit
                raise ParameterError(
                    f"GridSpline2D: no bicubic spline for neuron {i} reaches the smoothing "
                    f"target s={float(s[i]):.4g} on this {len(u)} x {len(v)} grid (scipy: "
                    f"{str(err).strip().splitlines()[0]}). Pass a larger s, or leave s=None "
                    "(each fit estimates its own noise)."
                ) from None
        self.bounds_ = np.array([[u[0], u[-1]], [v[0], v[-1]]])

    def jacobian(self, Xq: Any) -> np.ndarray:
        """Spline derivatives at query points, shape ``(m, n, 2)``."""
        Xq = self._query(Xq)
        lo, hi = self.bounds_[:, 0], self.bounds_[:, 1]
        if ((Xq < lo) | (Xq > hi)).any():
            raise OutOfDomainError("query outside the grid the spline was fitted on.")
        out = np.empty((len(Xq), len(self.splines_), 2))
        for i, sp in enumerate(self.splines_):
            out[:, i, 0] = sp.ev(Xq[:, 0], Xq[:, 1], dx=1)
            out[:, i, 1] = sp.ev(Xq[:, 0], Xq[:, 1], dy=1)
        return out

    def predict(self, Xq: Any) -> np.ndarray:
        """Spline values at query points, shape ``(m, n)``."""
        Xq = self._query(Xq)
        lo, hi = self.bounds_[:, 0], self.bounds_[:, 1]
        if ((Xq < lo) | (Xq > hi)).any():
            raise OutOfDomainError("query outside the grid the spline was fitted on.")
        return np.stack([sp.ev(Xq[:, 0], Xq[:, 1]) for sp in self.splines_], axis=1)

    def frozen(self) -> GridSpline2D:
        """Unfitted copy with the same smoothing rule.

        With ``s=None`` each refit (a cross-fitting half, a bootstrap draw) sets its own
        per-neuron ``s = M σ̂²`` from its own data: a half of the trials is noisier than
        their mean, and one shared ``s`` (e.g. the mean of the full fit's) is below what
        fitpack can reach for the noisiest neurons.
        """
        est = super().frozen()
        assert isinstance(est, GridSpline2D)
        return est
