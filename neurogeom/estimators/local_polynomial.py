"""Local polynomial regression (degree 1-3), all neurons in one weighted least-squares solve."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .._arrays import as_array
from ..errors import InputTypeError, InsufficientSamplesError, ParameterError, ShapeError
from ._periodic import check_span, periods, wrapped
from .base import JacobianEstimator, per_dimension, register_estimator

__all__ = ["LocalPolynomial"]

#: Data-driven bandwidth choices: cross-validation of the slope, or of the fitted responses.
_METHODS = ("derivative", "cv", "gcv")
_METHOD_NAMES = {
    "derivative": "slope cross-validation on neighbouring conditions, per dimension",
    "cv": "leave-one-condition-out cross-validation of the responses, per dimension",
    "gcv": "generalised cross-validation of the responses, per dimension",
}


@register_estimator("local_quartic", degree=4, bandwidth="cv", bias_correction=False)
@register_estimator("local_cubic", degree=3)
@register_estimator("local_quadratic", degree=2)
@register_estimator("local_linear", degree=1)
class LocalPolynomial(JacobianEstimator):
    """Local polynomial regression with a Gaussian product kernel; slopes are the Jacobian.

    At a query ``x₀`` every neuron is regressed on ``[1, uₐ, (uₐu_b), …]``,
    ``u = H⁻¹(xᵢ − x₀)``, with weights ``wᵢ = exp(−|u|²/2)``; all neurons share the design,
    so one small ``p × p`` solve per query serves the whole population. The slope rows of
    ``(XᵀWX)⁻¹XᵀW`` are the linear weights ``C``, and ``S = C Cᵀ`` is the slope block of
    ``(XᵀWX)⁻¹XᵀW²X(XᵀWX)⁻¹``.

    Parameters
    ----------
    degree : {1, 2, 3, 4}
        Local linear, quadratic, cubic or quartic: the polynomial whose bandwidth is chosen.
        ``"local_quartic"`` is the estimator for second-order geometry (curvature from
        trials): degree 4 leaves an interior smoothing bias of the second derivatives of
        order ``h⁴`` instead of ``h²``, and it is registered with ``bandwidth="cv"`` (the
        bandwidth cross-validated for the degree-4 fit itself; at one degree the
        AMSE-optimal bandwidths of a function and of its low derivatives differ by a kernel
        constant near 1, Fan & Gijbels 1996, §3.2) and no further bias correction.
    bandwidth : "derivative", "cv", "gcv", float or array (d,)
        Kernel widths per stimulus dimension, or chosen per dimension from the data:
        ``"derivative"`` (default) cross-validates the *slope* — differences of the
        responses at neighbouring conditions against the estimated Jacobian at their
        midpoint times their displacement; ``"cv"`` / ``"gcv"`` cross-validate the fitted
        responses (closed-form leave-one-condition-out, or generalised CV). Repetitions of a
        stimulus are merged first, so no criterion splits a condition. The search is over
        ``factor × scale`` per dimension (the best shared factor, then two coordinate
        sweeps).
    bias_correction : "auto", bool
        Estimate with degree ``degree + 2`` at the bandwidth chosen for ``degree`` (robust
        bias correction in the spirit of Calonico, Cattaneo & Farrell, JASA 2018: the
        smoothing bias of a degree-p slope is removed by the higher-order fit at the same
        bandwidth, and the variance — the bootstrap's, the noise correction's — is that of
        the corrected estimate). For slopes the correction must be p + 2: with a symmetric
        kernel the interior bias of degree-p and degree-(p+1) slopes (p odd) is the same.
        ``"auto"``: on when the bandwidth is data-chosen, off for fixed widths. With a
        data-chosen bandwidth and per-neuron noise variances the degree-(p+2) fit may be
        wider than the degree-p one (``base_bandwidth_``): its width minimises the
        metric's risk along neighbouring conditions (see docs/estimating.md; the
        narrowest width within one standard error of the minimum).
    bandwidth_grid : array, optional
        Candidate factors; default 25 values from 0.02 to 2 (log-spaced), so the widest
        candidate spans the sampled range.
    scale : array (d,), optional
        Per-dimension scale multiplying the factors; default the stimuli's standard deviations
        (at most P/√12 along a periodic dimension of period P).
    period : float, sequence of float/None, or None
        Period of circular stimulus dimensions per dimension, e.g. ``[np.pi, None]`` for
        grating orientation × contrast; differences are wrapped into ``(−P/2, P/2]``. The
        samples must span the period (no gap wider than half of it).
    cv_max_points : int
        The criteria are evaluated at most at this many (random) conditions or pairs.
    chunk_elements : int
        Memory bound: queries are processed in chunks of about this many ``M × p`` entries.
    random_state : int
        Seed for the CV subsample.

    Attributes
    ----------
    bandwidth_ : array (d,)
        Widths of the fitted polynomial (of degree ``degree_``).
    base_bandwidth_ : array (d,)
        Widths of the degree-``degree`` fit (equal to ``bandwidth_`` unless the
        bias-corrected fit was widened).
    correction_scores_ : array (k, d + 1) or None
        The bias-corrected fit's candidate widths and their metric-risk scores.
    bandwidth_method_ : str
        How ``bandwidth_`` was chosen ("fixed" or the criterion), for the record.
    degree_ : int
        Degree of the fitted polynomial (``degree + 2`` with the bias correction).
    cv_scores_ : array (k, d + 1) or None
        Every candidate tried: its widths and its criterion (None for a fixed bandwidth).

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
    #: Whether :meth:`fit` takes ``noise_variance`` (the per-row noise behind the slope CV).
    supports_noise_variance = True

    def __init__(
        self,
        degree: int = 1,
        bandwidth: Any = "derivative",
        bias_correction: Any = "auto",
        bandwidth_grid: Any = None,
        scale: Any = None,
        period: Any = None,
        cv_max_points: int = 500,
        chunk_elements: int = 300_000,
        random_state: int = 0,
    ) -> None:
        self.degree = degree
        self.bandwidth = bandwidth
        self.bias_correction = bias_correction
        self.bandwidth_grid = bandwidth_grid
        self.scale = scale
        self.period = period
        self.cv_max_points = cv_max_points
        self.chunk_elements = chunk_elements
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------
    def fit(
        self, X: Any, R: Any, sample_weight: Any = None, noise_variance: Any = None
    ) -> LocalPolynomial:
        """Validate the samples and choose the bandwidth (see :meth:`JacobianEstimator.fit`).

        Parameters
        ----------
        X : array, shape (M, d)
        R : array, shape (M, n)
        sample_weight : array, shape (M,), optional
        noise_variance : array, shape (M,) or (M, n), optional
            Noise variance of each response row, summed over neurons (``tr Cov(rₖ)``) or per
            neuron (for a trial mean the trial variance over T). With it the slope criterion
            uses every condition and subtracts the noise covariance of target and prediction
            in closed form (an unbiased risk estimate); without it the criterion falls back
            to response cross-validation. Per-neuron variances also let the bias-corrected
            fit's width be chosen by the metric's risk (see ``bias_correction``).

        Returns
        -------
        self
        """
        self.noise_variance_ = None
        if noise_variance is not None:
            v = np.asarray(as_array(noise_variance, "noise_variance"), dtype=np.float64)
            M = int(np.shape(X)[0])
            n = int(np.shape(R)[1]) if np.ndim(R) == 2 else 1
            if v.shape not in ((M,), (M, n)) or not (np.isfinite(v).all() and (v >= 0).all()):
                raise ShapeError(
                    f"noise_variance has shape {v.shape}; expected ({M},) or ({M}, {n}) "
                    "finite variances >= 0, one per response row (and neuron)."
                )
            self.noise_variance_ = v
        super().fit(X, R, sample_weight)
        return self

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        if self.degree not in (1, 2, 3, 4):
            raise ParameterError(
                f"degree={self.degree!r}; use 1 (local linear), 2 (quadratic), 3 (cubic) or "
                "4 (quartic)."
            )
        if self.bias_correction not in ("auto", True, False):
            raise ParameterError(
                f"bias_correction={self.bias_correction!r}; use 'auto', True or False."
            )
        d = X.shape[1]
        self.X_ = X
        self.sample_weight_ = np.ones(len(X)) if w is None else w
        self.period_ = periods(self.period, d)
        check_span(X, self.period_)
        chosen = isinstance(self.bandwidth, str)
        self.degree_ = int(self.degree)
        if len(X) < self.n_coefficients_for(d):
            raise InsufficientSamplesError(
                f"{len(X)} samples cannot fit a degree-{self.degree} polynomial in {d} "
                f"dimensions ({self.n_coefficients_for(d)} coefficients)."
            )
        self.cv_scores_: np.ndarray | None = None
        slope_cv = False
        if chosen:
            self.bandwidth_, self.cv_scores_, method = self._select(X, R)
            self.bandwidth_method_ = _METHOD_NAMES[method]
            slope_cv = method == "derivative"
        else:
            self.bandwidth_ = per_dimension(self.bandwidth, "bandwidth", d)
            self.bandwidth_method_ = "fixed"
        self.base_bandwidth_ = self.bandwidth_
        self.correction_scores_: np.ndarray | None = None
        auto = self.bias_correction == "auto"
        if self.bias_correction is True or (auto and slope_cv):
            chosen_h = self.bandwidth_.copy()
            self.degree_ = int(self.degree) + 2
            try:
                if len(np.unique(X, axis=0)) < self.n_coefficients_for(d):
                    raise InsufficientSamplesError(
                        f"{len(np.unique(X, axis=0))} distinct stimuli cannot fit the "
                        f"bias-corrected degree-{self.degree_} polynomial in {d} dimensions "
                        f"({self.n_coefficients_for(d)} coefficients); pass "
                        "bias_correction=False."
                    )
                if chosen:
                    merged = self._merged(X, R)
                    self._widen_until_valid(merged)
                    self.base_bandwidth_ = self.bandwidth_
                    if slope_cv and merged.noise_variance_ is not None:
                        if merged.noise_variance_.ndim == 2:
                            self._correction_width(merged)
            except InsufficientSamplesError:
                if not auto:
                    raise
                self.degree_, self.bandwidth_ = int(self.degree), chosen_h
                self.base_bandwidth_ = chosen_h
                self.bandwidth_method_ += (
                    f"; degree {self.degree} (too few conditions for the bias-corrected fit)"
                )
            else:
                self.bandwidth_method_ += f"; estimated with degree {self.degree_} (bias-corrected)"
                widen = float(self.bandwidth_[0] / self.base_bandwidth_[0])
                if self.correction_scores_ is not None:
                    self.bandwidth_method_ += (
                        f" at {widen:.3g} × the degree-{self.degree} widths (metric risk)"
                    )

    def _correction_width(self, merged: LocalPolynomial) -> None:
        """Widen the bias-corrected fit to the minimum of the metric's risk along neighbours.

        ``merged`` is the degree-p fit to the distinct conditions, with per-neuron noise
        variances τ. For each neighbour pair (k, l) (midpoint m, displacement Δx) and
        candidate width h, the degree-(p+2) prediction ``p = Ĉ(m; h)Δx · R`` of the target
        ``t = ȳ_l − ȳ_k`` is weighted by the pilot slope ``w = Ĵ_p(m)Δx`` (the degree-p fit
        at its own width): to first order the metric's error along Δx is
        ``Δxᵀ(ĝ − g)Δx ≈ 2 wᵀ(Ĵ − J)Δx``, so the score

        ``Σ_pairs (wᵀ(t − p))² + 2 Σᵢ wᵢ² (c_l τ_{l,i} − c_k τ_{k,i})``

        (the second term removes the covariance of target and prediction, as in
        :meth:`_derivative_score`) estimates the metric's risk up to a constant. Unlike the
        slope risk it gives no weight to neurons that are flat at m — their estimates are
        pure variance, which the noise correction removes from the metric, and which would
        otherwise push the width wide. Minimised over ``2^(k/8)`` × the smallest valid width
        (k = 0..16; all dimensions by one factor, keeping the degree-p aspect). Sets
        ``bandwidth_`` (the bias-corrected fit's) and ``correction_scores_`` (widths,
        scores); ``base_bandwidth_`` stays the degree-p width.
        """
        X, R, tau = merged.X_, merged.responses_, merged.noise_variance_
        assert tau is not None and tau.ndim == 2
        pairs = self._pairs(merged, self._scale(X))
        start = self.bandwidth_.copy()
        w = merged._pilot_slopes(pairs, start)  # the degree-p slope along Δx, (pairs, n)
        fit = LocalPolynomial(
            degree=self.degree_,
            bandwidth=1.0,
            bias_correction=False,
            period=self.period,
            chunk_elements=self.chunk_elements,
        ).fit(X, R, sample_weight=merged.sample_weight_)
        factors = 2.0 ** (np.arange(17) / 8)
        terms = np.array([fit._metric_terms(pairs, start * f, w, tau) for f in factors])
        scores = terms.sum(1)
        ok = np.isfinite(scores)
        if ok.any():
            best = int(np.argmin(np.where(ok, scores, np.inf)))
            diff = terms[: best + 1] - terms[best]
            se = np.sqrt(len(pairs)) * diff.std(axis=1)
            near = np.isfinite(diff).all(1) & (diff.sum(1) <= se)
            self.bandwidth_ = start * factors[int(np.flatnonzero(near)[0])]
        self.correction_scores_ = np.column_stack([start[None, :] * factors[:, None], scores])

    def _metric_terms(
        self, pairs: np.ndarray, h: np.ndarray, w: np.ndarray, tau: np.ndarray
    ) -> np.ndarray:
        """Per-pair metric-risk terms of this fit at widths h (see :meth:`_correction_width`)."""
        X, R = self.X_, self.responses_
        a, b = pairs[:, 0], pairs[:, 1]
        q = np.arange(len(a))
        delta = wrapped(X[b] - X[a], self.period_)
        try:
            with np.errstate(invalid="ignore", over="ignore"):
                C, _ = self._rows(X[a] + delta / 2, h, intercept=False)
        except InsufficientSamplesError:
            return np.full(len(pairs), np.inf)
        c = np.einsum("qa,qaM->qM", delta, C)
        cov = c[q, b, None] * tau[b] - c[q, a, None] * tau[a]
        terms = (w * (R[b] - R[a] - c @ R)).sum(1) ** 2 + 2 * (w**2 * cov).sum(1)
        return np.asarray(np.where(np.isfinite(terms), terms, np.inf))

    def _pilot_slopes(self, pairs: np.ndarray, h: np.ndarray) -> np.ndarray:
        """``Ĵ(m)Δx`` of this fit at widths h for each pair, ``(k, n)``."""
        X = self.X_
        delta = wrapped(X[pairs[:, 1]] - X[pairs[:, 0]], self.period_)
        with np.errstate(invalid="ignore", over="ignore"):
            C, _ = self._rows(X[pairs[:, 0]] + delta / 2, h, intercept=False, check=False)
        return np.asarray(np.einsum("qa,qaM->qM", delta, C) @ self.responses_)

    def _widen_until_valid(self, merged: LocalPolynomial) -> None:
        """Widen a data-chosen bandwidth (×2^¼ steps) until the corrected fit is valid.

        The degree-(p+2) fit needs as many effective samples under the kernel as it has
        coefficients; the bandwidth chosen for degree p may leave fewer at some sampled
        condition. Every dimension is widened by the same factor. Effective samples count
        distinct conditions (``merged``: repetitions merged), as a design's rank does.
        """
        need = self.n_coefficients()
        for _ in range(40):
            if (merged._neff(merged.X_, self.bandwidth_) >= need).all():
                return
            self.bandwidth_ = self.bandwidth_ * 2**0.25
        raise InsufficientSamplesError(
            f"no bandwidth leaves {need} effective samples under the kernel at every sampled "
            f"condition for the bias-corrected degree-{self.degree_} fit; pass "
            "bias_correction=False or record more conditions."
        )

    def n_coefficients_for(self, d: int) -> int:
        """Number of local coefficients ``p`` of the fitted degree for ``d`` dimensions."""
        return math.comb(d + getattr(self, "degree_", self.degree), d)

    def n_coefficients(self) -> int:
        return self.n_coefficients_for(self.X_.shape[1])

    def _select(self, X: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """Per-dimension bandwidth by a coordinate search over ``factor × scale`` candidates.

        Repeated presentations of one stimulus are merged first (their weighted mean, with
        their summed weight), so no criterion splits the repetitions of a condition. The
        search starts from the best shared factor and then, dimension by dimension (two
        sweeps), picks the factor that minimises the criterion with the others held fixed.
        Returns the widths ``(d,)``, every candidate tried ``(k, d + 1)`` (widths, score)
        and the criterion used: ``"derivative"`` needs the rows' noise variances (given, or
        from conditions repeated as separate rows); without them it falls back to ``"cv"``
        (neighbouring single trials differ mostly by noise, so their differences carry too
        little of the slope to choose by).
        """
        if self.bandwidth not in _METHODS:
            raise ParameterError(f"bandwidth={self.bandwidth!r}; use one of {_METHODS} or widths.")
        d = X.shape[1]
        scale = self._scale(X)
        if not (scale > 0).all():
            raise ParameterError(
                "stimuli do not vary along some dimension; give scale= or bandwidth=."
            )
        grid = (
            np.geomspace(0.02, 2.0, 25)
            if self.bandwidth_grid is None
            else np.sort(np.asarray(self.bandwidth_grid, dtype=np.float64).reshape(-1))
        )
        merged = self._merged(X, R)
        method = str(self.bandwidth)
        if method == "derivative" and merged.noise_variance_ is None:
            method = "cv"
        score = self._criterion(merged, scale, method)
        tried: dict[tuple[float, ...], float] = {}

        def at(factors: np.ndarray) -> float:
            key = tuple(float(f) for f in factors)
            if key not in tried:
                tried[key] = score(factors * scale)
            return tried[key]

        shared = [at(np.full(d, f)) for f in grid]
        if not np.isfinite(shared).any():
            raise InsufficientSamplesError(
                f"no candidate bandwidth (factors {grid[0]:.3g}..{grid[-1]:.3g} × the "
                f"stimulus spread {scale}) leaves enough samples under the kernel at every "
                "sample; give more samples, a larger bandwidth_grid, or a fixed bandwidth."
            )
        best = np.full(d, grid[int(np.nanargmin(shared))])
        if d > 1:
            for _ in range(2):
                for a in range(d):
                    trial = [at(np.r_[best[:a], f, best[a + 1 :]]) for f in grid]
                    best[a] = grid[int(np.nanargmin(trial))]
        scores = np.array([[*(np.array(k) * scale), v] for k, v in tried.items()])
        return np.asarray(best * scale, dtype=np.float64), scores, method

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """Per-dimension scale of the bandwidth candidates (``scale``, or the spread)."""
        if self.scale is not None:
            return per_dimension(self.scale, "scale", X.shape[1])
        scale = np.std(X, axis=0)
        periodic = np.isfinite(self.period_)
        scale[periodic] = np.minimum(scale[periodic], self.period_[periodic] / np.sqrt(12))
        return np.asarray(scale)

    def _merged(self, X: np.ndarray, R: np.ndarray) -> LocalPolynomial:
        """The degree-p fit to the distinct conditions (repetitions merged, weights summed)."""
        Xu, inv = np.unique(X, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        w = np.bincount(inv, weights=self.sample_weight_, minlength=len(Xu))
        Ru = np.zeros((len(Xu), R.shape[1]))
        np.add.at(Ru, inv, R * self.sample_weight_[:, None])
        keep = w > 0
        Ru = Ru[keep] / w[keep, None]
        tau: np.ndarray | None = None
        if self.noise_variance_ is not None:  # variance of a weighted mean of independent rows
            v = self.noise_variance_
            tau = np.zeros((len(Xu), *v.shape[1:]))
            np.add.at(tau, inv, (self.sample_weight_**2).reshape(-1, *([1] * (v.ndim - 1))) * v)
            tau = tau[keep] / (w[keep] ** 2).reshape(-1, *([1] * (v.ndim - 1)))
        elif (np.bincount(inv) >= 2).all() and (self.sample_weight_ == 1).all():
            # every condition repeated as separate rows: their spread is the noise
            count = np.bincount(inv).astype(np.float64)[:, None]
            sq = np.zeros(Ru.shape)
            np.add.at(sq, inv, (R - Ru[inv]) ** 2)
            tau = sq / (count - 1) / count  # per neuron
        est = LocalPolynomial(
            degree=self.degree,
            bandwidth=1.0,
            bias_correction=False,
            period=self.period,
            chunk_elements=self.chunk_elements,
        )
        est.fit(Xu[keep], Ru, sample_weight=w[keep], noise_variance=tau)
        return est

    def _criterion(self, est: LocalPolynomial, scale: np.ndarray, method: str) -> Any:
        """The bandwidth criterion ``h ↦ score`` on the merged conditions ``est``."""
        X, R = est.X_, est.responses_
        rng = np.random.default_rng(self.random_state)
        if method in ("cv", "gcv"):
            k = min(len(X), int(self.cv_max_points))
            idx = np.sort(rng.choice(len(X), size=k, replace=False))
            return lambda h: est._cv_score(R, idx, h, method == "gcv")
        pairs = self._pairs(est, scale)
        return lambda h: est._derivative_score(pairs, h)

    def _pairs(self, est: LocalPolynomial, scale: np.ndarray) -> np.ndarray:
        """The neighbour pairs of the slope criteria on ``est``'s conditions (subsampled)."""
        rng = np.random.default_rng(self.random_state)
        pairs = _neighbour_pairs(est.X_, scale, est.period_)
        if len(pairs) > self.cv_max_points:
            pairs = pairs[np.sort(rng.choice(len(pairs), self.cv_max_points, replace=False))]
        return pairs

    def _cv_score(self, R: np.ndarray, idx: np.ndarray, h: np.ndarray, gcv: bool) -> float:
        """Leave-one-condition-out (or generalised) CV of the fitted responses at widths h."""
        try:
            L, _ = self._rows(self.X_[idx], h, intercept=True)
        except InsufficientSamplesError:
            return np.inf
        L = L[:, 0, :]
        resid = R[idx] - L @ R
        hii = L[np.arange(len(idx)), idx]
        w = self.sample_weight_[idx, None]
        if gcv:
            denom = (1 - hii.mean()) ** 2
            return float((w * resid**2).sum() / denom) if denom > 0 else np.inf
        if (hii >= 1 - 1e-10).any():
            return np.inf
        return float((w * (resid / (1 - hii)[:, None]) ** 2).sum())

    def _derivative_score(self, pairs: np.ndarray, h: np.ndarray) -> float:
        """Risk of the slope: neighbour differences ``ȳ_l − ȳ_k`` against ``Ĵ(m)·Δx``.

        With m the midpoint and Δx = x_l − x_k, ``E[ȳ_l − ȳ_k] = J(m)Δx + O(|Δx|³)``, so
        ``‖ȳ_l − ȳ_k − Ĵ(m)Δx‖²`` tracks ``E‖(J(m) − Ĵ(m))Δx‖²`` — the error of the
        derivative, not of the response — up to a constant. Every row enters the
        prediction; the noise covariance of target and prediction, ``c_l τ_l − c_k τ_k``
        (c: the prediction's weights, τ: the rows' noise variances), is added back twice,
        which makes the score an unbiased risk estimate (as Mallows' C_p).
        """
        X, R, tau = self.X_, self.responses_, self.noise_variance_
        assert tau is not None
        tau = tau.sum(1) if tau.ndim == 2 else tau
        delta = wrapped(X[pairs[:, 1]] - X[pairs[:, 0]], self.period_)
        try:
            with np.errstate(invalid="ignore", over="ignore"):
                C, _ = self._rows(X[pairs[:, 0]] + delta / 2, h, intercept=False)
        except InsufficientSamplesError:
            return np.inf
        c = np.einsum("qa,qaM->qM", delta, C)
        a, b = pairs[:, 0], pairs[:, 1]
        q = np.arange(len(a))
        total = ((R[b] - R[a] - c @ R) ** 2).sum()
        total += 2 * (c[q, b] * tau[b] - c[q, a] * tau[a]).sum()
        return float(total) if np.isfinite(total) else np.inf

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
        sel += list(range(d + 1, d + 1 + d * (d + 1) // 2)) if second else []
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
                    f"under the kernel (bandwidth {h}); a degree-{self.degree_} fit needs at "
                    f"least {p}. Widen the bandwidth, add samples there, or drop the point."
                )
            D = _design(u, self.degree_)  # (c, p, M)
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
        quadratic coefficients of the same local fit (of degree 2 or more).
        """
        if self.degree < 2:
            raise InputTypeError(
                f"curvature needs second derivatives, which need a local fit of degree 2 or "
                f"more; this LocalPolynomial has degree={self.degree}. Use "
                "estimator='local_quadratic' or 'local_cubic'."
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
        return self._neff(self._query(Xq), self.bandwidth_)

    def _neff(self, Xq: np.ndarray, h: np.ndarray) -> np.ndarray:
        step = max(1, int(self.chunk_elements) // len(self.X_))
        return np.concatenate(
            [
                _kish(self._weights(self._scaled_diff(Xq[s : s + step], h)))
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
        est.set_params(
            bandwidth=self.bandwidth_.copy(), bias_correction=self.degree_ != self.degree
        )
        assert isinstance(est, LocalPolynomial)
        return est


def _neighbour_pairs(X: np.ndarray, scale: np.ndarray, period: np.ndarray) -> np.ndarray:
    """For each condition and dimension, its nearest neighbour along that dimension, ``(k, 2)``.

    "Along dimension a": the scaled displacement's largest component is a (on a product
    grid, the next node on that axis). Pairs are unordered and listed once.
    """
    out = set()
    for k in range(len(X)):
        u = wrapped(X - X[k], period) / scale
        dist = np.sqrt((u * u).sum(1))
        dist[k] = np.inf
        dist[dist == 0] = np.inf
        axis = np.argmax(np.abs(u), axis=1)
        for a in range(X.shape[1]):
            cand = np.where(axis == a, dist, np.inf)
            j = int(np.argmin(cand))
            if np.isfinite(cand[j]):
                out.add((min(k, j), max(k, j)))
    return np.array(sorted(out), dtype=np.intp).reshape(-1, 2)


def _kish(w: np.ndarray) -> np.ndarray:
    """Kish effective sample size ``(Σw)²/Σw²`` per row (0 where all weights vanish)."""
    s1, s2 = w.sum(-1), (w * w).sum(-1)
    return np.where(s2 > 0, s1**2 / np.where(s2 > 0, s2, 1.0), 0.0)


def _design(u: list[np.ndarray], degree: int) -> np.ndarray:
    """Local design ``[1, uₐ, uₐu_b (a ≤ b), …]`` up to ``degree``, shape ``(c, p, M)``."""
    cols = [np.ones_like(u[0]), *u]
    for k in range(2, degree + 1):
        for idx in itertools.combinations_with_replacement(range(len(u)), k):
            col = u[idx[0]]
            for a in idx[1:]:
                col = col * u[a]
            cols.append(col)
    return np.stack(cols, axis=1)
