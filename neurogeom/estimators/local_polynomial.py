"""Local polynomial regression (degree 1 or 2), all neurons in one weighted least-squares solve."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputTypeError, InsufficientSamplesError, ParameterError
from .base import JacobianEstimator, per_dimension, register_estimator

__all__ = ["LocalPolynomial"]


@register_estimator("local_quadratic", degree=2)
@register_estimator("local_linear", degree=1)
class LocalPolynomial(JacobianEstimator):
    """Local polynomial regression with a Gaussian product kernel; slopes are the Jacobian.

    At a query ``x₀`` every neuron is regressed on ``[1, uₐ, (uₐu_b)]``, ``u = H⁻¹(xᵢ − x₀)``,
    with weights ``wᵢ = exp(−|u|²/2)``; all neurons share the design, so one small ``p × p``
    solve per query serves the whole population. The slope rows of
    ``(XᵀWX)⁻¹XᵀW`` are the linear weights ``C``, and ``S = C Cᵀ`` is the slope block of
    ``(XᵀWX)⁻¹XᵀW²X(XᵀWX)⁻¹``.

    Parameters
    ----------
    degree : {1, 2}
        Local linear or local quadratic (better at boundaries and on uneven designs).
    bandwidth : "cv", "gcv", float or array (d,)
        Kernel widths per stimulus dimension, or chosen by closed-form leave-one-out
        cross-validation (``"cv"``) or generalised CV (``"gcv"``) of the fitted responses,
        summed over neurons, as ``factor × scale`` over ``bandwidth_grid``.
    bandwidth_grid : array, optional
        Candidate factors; default 13 values from 0.02 to 1 (log-spaced).
    scale : array (d,), optional
        Per-dimension scale multiplying the factors; default the stimuli's standard deviations.
    period : float, sequence of float/None, or None
        Period of circular stimulus dimensions (e.g. ``2π`` for an angle); differences are
        wrapped into ``(−P/2, P/2]``.
    cv_max_points : int
        Leave-one-out residuals are evaluated at most at this many (random) samples.
    chunk_elements : int
        Memory bound: queries are processed in chunks of about this many ``M × p`` entries.
    random_state : int
        Seed for the CV subsample.

    Attributes
    ----------
    bandwidth_ : array (d,)
    cv_scores_ : array or None
        CV criterion per candidate factor (None for a fixed bandwidth).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    >>> R = X @ np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]).T
    >>> est = LocalPolynomial(bandwidth=0.5).fit(X, R)
    >>> J = est.jacobian(np.zeros((1, 2)))[0]          # exact for a linear population
    >>> bool(np.allclose(J, [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]], atol=1e-10))
    True
    """

    supports_sample_weight = True

    def __init__(
        self,
        degree: int = 1,
        bandwidth: Any = "cv",
        bandwidth_grid: Any = None,
        scale: Any = None,
        period: Any = None,
        cv_max_points: int = 500,
        chunk_elements: int = 300_000,
        random_state: int = 0,
    ) -> None:
        self.degree = degree
        self.bandwidth = bandwidth
        self.bandwidth_grid = bandwidth_grid
        self.scale = scale
        self.period = period
        self.cv_max_points = cv_max_points
        self.chunk_elements = chunk_elements
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        if self.degree not in (1, 2):
            raise ParameterError(f"degree={self.degree!r}; use 1 (local linear) or 2 (quadratic).")
        d = X.shape[1]
        self.X_ = X
        self.sample_weight_ = np.ones(len(X)) if w is None else w
        self.period_ = _periods(self.period, d)
        if len(X) < self.n_coefficients_for(d):
            raise InsufficientSamplesError(
                f"{len(X)} samples cannot fit a degree-{self.degree} polynomial in {d} "
                f"dimensions ({self.n_coefficients_for(d)} coefficients)."
            )
        self.cv_scores_: np.ndarray | None = None
        if isinstance(self.bandwidth, str):
            self.bandwidth_, self.cv_scores_ = self._select(X, R)
        else:
            self.bandwidth_ = per_dimension(self.bandwidth, "bandwidth", d)

    def n_coefficients_for(self, d: int) -> int:
        """Number of local coefficients ``p`` for ``d`` stimulus dimensions."""
        return 1 + d + (d * (d + 1) // 2 if self.degree == 2 else 0)

    def n_coefficients(self) -> int:
        return self.n_coefficients_for(self.X_.shape[1])

    def _select(self, X: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.bandwidth not in ("cv", "gcv"):
            raise ParameterError(f"bandwidth={self.bandwidth!r}; use 'cv', 'gcv' or a number.")
        if self.scale is not None:
            scale = per_dimension(self.scale, "scale", X.shape[1])
        else:
            scale = np.std(X, axis=0)
        if not (scale > 0).all():
            raise ParameterError(
                "stimuli do not vary along some dimension; give scale= or bandwidth=."
            )
        grid = np.geomspace(0.02, 1.0, 13) if self.bandwidth_grid is None else self.bandwidth_grid
        rng = np.random.default_rng(self.random_state)
        k = min(len(X), int(self.cv_max_points))
        idx = np.sort(rng.choice(len(X), size=k, replace=False))
        scores = np.array([self._cv_score(X, R, idx, f * scale) for f in grid])
        if not np.isfinite(scores).any():
            raise InsufficientSamplesError(
                "no candidate bandwidth leaves enough samples under the kernel at every "
                "sample; give more samples, a larger bandwidth_grid, or a fixed bandwidth."
            )
        return np.asarray(grid[int(np.nanargmin(scores))] * scale, dtype=np.float64), scores

    def _cv_score(self, X: np.ndarray, R: np.ndarray, idx: np.ndarray, h: np.ndarray) -> float:
        try:
            L, _ = self._rows(X[idx], h, intercept=True)
        except InsufficientSamplesError:
            return np.inf
        L = L[:, 0, :]
        resid = R[idx] - L @ R
        hii = L[np.arange(len(idx)), idx]
        if self.bandwidth == "gcv":
            denom = (1 - hii.mean()) ** 2
            return float((resid**2).sum() / denom) if denom > 0 else np.inf
        if (hii >= 1 - 1e-10).any():
            return np.inf
        return float(((resid / (1 - hii)[:, None]) ** 2).sum())

    # -- local fits ----------------------------------------------------------------------
    def _rows(
        self,
        Xq: np.ndarray,
        h: np.ndarray,
        *,
        intercept: bool,
        slopes: bool | None = None,
        check: bool = True,
        second: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Selected rows of ``(XᵀWX)⁻¹XᵀW`` at each query: ``(m, r, M)`` and n_eff ``(m,)``.

        The intercept row (the mean's weights) and/or the ``d`` slope rows (divided by
        ``h``: the Jacobian's weights), and with ``second`` (degree 2) the ``d(d+1)/2``
        quadratic rows (scaled to second derivatives ``∂_a∂_b``, ``a ≤ b``), from one solve
        per query. ``slopes`` defaults to ``not intercept``.
        """
        X = self.X_
        M, d = X.shape
        p = self.n_coefficients_for(d)
        slopes = (not intercept) if slopes is None else slopes
        sel = ([0] if intercept else []) + (list(range(1, d + 1)) if slopes else [])
        sel += list(range(d + 1, p)) if second else []
        step = max(1, int(self.chunk_elements) // (M * p))
        out = np.empty((len(Xq), len(sel), M))
        neff = np.empty(len(Xq))
        E = np.zeros((p, len(sel)))
        E[sel, np.arange(len(sel))] = 1.0
        for s in range(0, len(Xq), step):
            u = self._scaled_diff(Xq[s : s + step], h)
            w = self._weights(u)
            ne = _kish(w)
            neff[s : s + step] = ne
            if check and (ne < p).any():
                bad = s + int(np.argmax(ne < p))
                raise InsufficientSamplesError(
                    f"query point {bad} ({Xq[bad]}) has {ne[bad - s]:.2f} effective samples "
                    f"under the kernel (bandwidth {h}); a degree-{self.degree} fit needs at "
                    f"least {p}. Widen the bandwidth, add samples there, or drop the point."
                )
            D = _design(u, self.degree)  # (c, p, M)
            Dw = D * w[:, None, :]
            G = Dw @ np.swapaxes(D, 1, 2)
            try:
                A = np.linalg.solve(G, np.broadcast_to(E, (len(G), p, len(sel))))
            except np.linalg.LinAlgError as err:
                raise InsufficientSamplesError(
                    "the local design is singular at some query point (samples too few or "
                    "collinear under the kernel); widen the bandwidth or add samples."
                ) from err
            out[s : s + step] = np.swapaxes(A, 1, 2) @ Dw
        if slopes:
            out[:, int(intercept) : int(intercept) + d] /= h[None, :, None]
        if second:  # β_ab uₐu_b with u = (x − x₀)/h: ∂_a∂_b = β_ab/(h_a h_b), ∂_a² = 2β_aa/h_a²
            a, b = np.triu_indices(d)
            out[:, len(sel) - len(a) :] *= (np.where(a == b, 2.0, 1.0) / (h[a] * h[b]))[:, None]
        return out, neff

    def _scaled_diff(self, Xq: np.ndarray, h: np.ndarray) -> list[np.ndarray]:
        """Per dimension ``(xᵢ − x₀)/h`` (wrapped where periodic), each ``(c, M)``."""
        out = []
        for a in range(self.X_.shape[1]):
            diff = self.X_[None, :, a] - Xq[:, a, None]
            P = self.period_[a]
            if np.isfinite(P):
                diff = diff - P * np.round(diff / P)
            out.append(diff / h[a])
        return out

    def _weights(self, u: list[np.ndarray]) -> np.ndarray:
        sq = u[0] * u[0]
        for ua in u[1:]:
            sq += ua * ua
        return np.asarray(self.sample_weight_ * np.exp(-0.5 * sq))

    # -- estimates -----------------------------------------------------------------------
    def linear_weights(self, Xq: Any) -> np.ndarray:
        """Slope weights ``C`` (m, d, M): ``Ĵ[q] = (C[q] @ R)ᵀ``."""
        return self._rows(self._query(Xq), self.bandwidth_, intercept=False)[0]

    def smoother_weights(self, Xq: Any) -> tuple[np.ndarray, np.ndarray]:
        """Weights of the mean ``(m, M)`` and of the Jacobian ``(m, d, M)``, from one solve."""
        rows, _ = self._rows(self._query(Xq), self.bandwidth_, intercept=True, slopes=True)
        return rows[:, 0], rows[:, 1:]

    def jet_weights(self, Xq: Any) -> tuple[np.ndarray, np.ndarray]:
        """Weights of the Jacobian ``(m, d, M)`` and of the Hessian ``(m, d, d, M)``, one solve.

        ``Ĵ[q] = (C[q] @ R)ᵀ`` and ``Ĥ[q, :, a, b] = C2[q, a, b] @ R``: the slope and the
        quadratic coefficients of the same local quadratic fit (degree 2 only).
        """
        if self.degree != 2:
            raise InputTypeError(
                f"curvature needs second derivatives, which need a local quadratic fit; this "
                f"LocalPolynomial has degree={self.degree}. Use estimator='local_quadratic'."
            )
        d = self.X_.shape[1]
        rows, _ = self._rows(self._query(Xq), self.bandwidth_, intercept=False, second=True)
        C2 = np.empty((len(rows), d, d, rows.shape[-1]))
        a, b = np.triu_indices(d)
        C2[:, a, b] = rows[:, d:]
        C2[:, b, a] = rows[:, d:]
        return rows[:, :d], C2

    def predict(self, Xq: Any) -> np.ndarray:
        """Local-polynomial estimate of the mean responses, shape ``(m, n)``."""
        L, _ = self._rows(self._query(Xq), self.bandwidth_, intercept=True)
        return np.asarray(L[:, 0, :] @ self.responses_)

    def effective_samples(self, Xq: Any) -> np.ndarray:
        """Kish effective sample size ``(Σw)²/Σw²`` under the kernel at each query, ``(m,)``."""
        Xq = self._query(Xq)
        step = max(1, int(self.chunk_elements) // len(self.X_))
        return np.concatenate(
            [
                _kish(self._weights(self._scaled_diff(Xq[s : s + step], self.bandwidth_)))
                for s in range(0, len(Xq), step)
            ]
        )

    def residual_variances(self) -> np.ndarray:
        """Per-sample estimates of the total noise variance ``tr Cov(rₖ)``, shape ``(M,)``.

        ``‖yₖ − ŷₖ‖² / (1 − 2Hₖₖ + Σⱼ Hₖⱼ²)``, unbiased for the noise variance where the
        smoothing bias is negligible (used for the analytic correction without trials).
        """
        X, R = self.X_, self.responses_
        L, _ = self._rows(X, self.bandwidth_, intercept=True)
        L = L[:, 0, :]
        resid = R - L @ R
        hii = np.diagonal(L)
        denom = 1 - 2 * hii + (L**2).sum(-1)
        return np.asarray((resid**2).sum(-1) / denom)

    def frozen(self) -> LocalPolynomial:
        """Unfitted copy with ``bandwidth`` fixed at ``bandwidth_``."""
        est = super().frozen()
        est.set_params(bandwidth=self.bandwidth_.copy())
        assert isinstance(est, LocalPolynomial)
        return est


def _periods(period: Any, d: int) -> np.ndarray:
    if period is None:
        return np.full(d, np.inf)
    seq = list(period) if isinstance(period, (list, tuple, np.ndarray)) else [period] * d
    if len(seq) != d:
        raise ParameterError(f"period has {len(seq)} entries for {d} stimulus dimensions.")
    return np.array([np.inf if p is None else float(p) for p in seq])


def _kish(w: np.ndarray) -> np.ndarray:
    """Kish effective sample size ``(Σw)²/Σw²`` per row (0 where all weights vanish)."""
    s1, s2 = w.sum(-1), (w * w).sum(-1)
    return np.where(s2 > 0, s1**2 / np.where(s2 > 0, s2, 1.0), 0.0)


def _design(u: list[np.ndarray], degree: int) -> np.ndarray:
    """Local design ``[1, uₐ, uₐu_b (a ≤ b)]`` of shape ``(c, p, M)``."""
    cols = [np.ones_like(u[0]), *u]
    if degree == 2:
        d = len(u)
        cols += [u[a] * u[b] for a in range(d) for b in range(a, d)]
    return np.stack(cols, axis=1)
