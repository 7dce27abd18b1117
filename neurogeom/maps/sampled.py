"""Response maps estimated from sampled (noisy, trial-repeated) neural responses."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import torch
from scipy.spatial import ConvexHull, QhullError
from scipy.stats import f as f_dist
from sklearn.covariance import ledoit_wolf

from .._arrays import as_array, check_count, check_finite, is_torch, to_tensor
from ..errors import (
    InputTypeError,
    InsufficientSamplesError,
    NotPositiveSemidefiniteError,
    OutOfDomainError,
    ParameterError,
    ShapeError,
)
from ..estimators.base import JacobianEstimator, apply_weights, get_estimator, propagate
from ..riemann.debias import positive_noise_correction, positive_resamples, resolution_weights
from ..riemann.intervals import bootstrap_intervals
from ..riemann.metric import Scale, check_scale
from ..riemann.volume import relative_zero
from .base import Measurement, ResponseMap

__all__ = ["SampledResponseMap"]

Correction = Literal["analytic", "crossfit"] | None
CORRECTIONS = ("analytic", "crossfit", None)


def _values(a: Any, name: str, dims: tuple[str, ...] | None = None) -> np.ndarray:
    """Float64 values of an array-like or xarray DataArray (transposed to ``dims`` when named).

    Through the package's intake (:func:`~neurogeom._arrays.as_array`): complex, string and
    object data are refused, naming ``name``.
    """
    if hasattr(a, "dims") and hasattr(a, "values"):
        if dims is not None and set(dims) <= set(a.dims):
            a = a.transpose(*dims, ...)
        a = a.values
    arr = as_array(a, name)
    if isinstance(arr, torch.Tensor):
        return np.asarray(arr.cpu().numpy(), dtype=np.float64)
    return np.asarray(arr, dtype=np.float64)


LAYOUTS = ("condition,trial,neuron", "condition,neuron,trial")


def _labels(value: Any, d: int, what: str, prefix: str) -> tuple[str, ...]:
    """One string per stimulus dimension (default ``prefix`` + index, or empty)."""
    if value is None:
        return tuple(f"{prefix}{i}" if prefix else "" for i in range(d))
    labels = (value,) if isinstance(value, str) else tuple(value)
    if len(labels) != d or not all(isinstance(v, str) for v in labels):
        raise ParameterError(f"{what}={value!r}; expected {d} strings, one per stimulus dimension.")
    return labels


def _trials(responses: Any, layout: str | None = None) -> np.ndarray:
    """Responses as ``(presentation, repetition, neuroid)``."""
    if layout is not None and layout not in LAYOUTS:
        raise ParameterError(f"layout={layout!r}; use one of {LAYOUTS}.")
    dims = getattr(responses, "dims", None)
    if dims is not None:
        want = ("presentation", "repetition", "neuroid")
        names = want if "repetition" in dims else ("presentation", "neuroid")
        if not set(names) <= set(dims) or len(dims) != len(names):
            raise ShapeError(
                f"responses DataArray has dims {dims}; expected ('presentation', 'neuroid') "
                "or ('presentation', 'repetition', 'neuroid')."
            )
        R = _values(responses, "responses", names)
    else:
        R = _values(responses, "responses")
    if R.ndim == 2:
        R = R[:, None, :]
    elif R.ndim == 3 and layout == LAYOUTS[1]:
        R = np.ascontiguousarray(R.transpose(0, 2, 1))
    elif R.ndim == 3 and layout is None and dims is None:
        _check_layout(R)
    if R.ndim != 3:
        raise ShapeError(
            f"responses have shape {R.shape}; expected (presentations, neurons) or "
            "(presentations, repetitions, neurons)."
        )
    return R


#: Significance at which the data must favour the trial axis before a layout is inferred.
_LAYOUT_LEVEL = 1e-3


def _check_layout(R: np.ndarray) -> None:
    """Refuse a 3-D array whose trial axis the data do not single out.

    Both axes 1 and 2 of a ``(P, a, b)`` array fit "trial" by shape. Repetitions of a
    condition are exchangeable draws around one mean; neurons are not (they are tuned
    differently). So within each condition the spread across the trial axis is the noise,
    the spread across the neuron axis the noise plus the neurons' differences. With
    ``v₁``, ``v₂`` the mean within-condition sample variances across axis 1 and axis 2
    (degrees of freedom ``P·b·(a−1)``, ``P·a·(b−1)``), the reading ``(condition, trial,
    neuron)`` is taken when ``v₂/v₁`` exceeds its F quantile at level
    ``_LAYOUT_LEVEL`` (the data say axis 1 holds the repetitions). The array is refused,
    asking for the layout, when the data say the opposite (``v₁/v₂`` beyond its quantile:
    the (P, n, T) mix-up) or when they cannot tell (weak tuning, alike neurons) and
    ``a ≥ b``; undecided arrays with fewer entries along axis 1 than axis 2 (a recording's
    few repetitions of many neurons) keep the documented reading. One trial (``a = 1``) or
    one neuron (``b = 1``) leaves no choice to make; no conditions (``P = 0``) are refused later.
    """
    P, a, b = R.shape
    if P == 0 or a < 2 or b < 2 or not np.isfinite(R).all():  # refused later
        return
    v1 = float(R.var(axis=1, ddof=1).mean())
    v2 = float(R.var(axis=2, ddof=1).mean())
    df1, df2 = P * b * (a - 1), P * a * (b - 1)
    if v2 > 0 and (v1 == 0 or f_dist.sf(v2 / v1, df2, df1) < _LAYOUT_LEVEL):
        return
    transposed = v1 > 0 and (v2 == 0 or f_dist.sf(v1 / v2, df1, df2) < _LAYOUT_LEVEL)
    if not transposed and a < b:
        return  # undecided, fewer repetitions than neurons: the documented reading
    looks = (
        "the data look like (condition, neuron, trial): the spread across axis 2 is the smaller one"
        if transposed
        else f"the data do not tell which axis holds the repetitions (the spread within "
        f"conditions is alike along both) while axis 1 ({a}) is not shorter than axis 2 "
        f"({b}), as the trial axis of a recording usually is"
    )
    raise ShapeError(
        f"responses have shape {R.shape}: both (condition, trial, neuron) = "
        f"({P}, {a} trials, {b} neurons) and (condition, neuron, trial) = ({P}, {a} neurons, "
        f"{b} trials) fit, and {looks} (mean within-condition variance {v1:.4g} across axis "
        f"1, {v2:.4g} across axis 2). Name the layout: layout='condition,trial,neuron' or "
        "layout='condition,neuron,trial' (or pass a DataArray with dims presentation, "
        "repetition, neuroid)."
    )


class SampledResponseMap(ResponseMap):
    r"""Geometry estimated from sampled responses, with bias correction and bootstrap intervals.

    Parameters
    ----------
    stimuli : array or DataArray, shape (P, d)
        One stimulus per presentation (a 1-D array is one stimulus dimension). Single-trial
        rows that repeat stimuli equally often are grouped into conditions × trials.
    responses : array or DataArray, shape (P, n) or (P, T, n)
        Responses per presentation (and repetition); DataArray dims ``presentation``,
        (``repetition``,) ``neuroid``. Trials are averaged per presentation before the
        estimator sees them; their spread gives the noise estimate.
    estimator : str or JacobianEstimator
        Registry name (:func:`~neurogeom.estimators.available_estimators`) or an object.
    noise : None, "poisson", "empirical" or array (n, n)
        Metric to estimate: ``None`` the pullback :math:`J^\top J`; ``"poisson"``
        :math:`J^\top \mathrm{diag}(f)^{-1} J`; a covariance :math:`\Sigma` or
        ``"empirical"`` (pooled within-presentation covariance; Ledoit–Wolf when the
        residual degrees of freedom ν < n + 5) the linear Fisher information
        :math:`J^\top\Sigma^{-1}J`.
    correction : {"analytic", "crossfit", None}
        ``"analytic"`` subtracts the noise energy :math:`\sum_k c_k c_k^\top \tau_k`
        (``tr(Σ̂)·S`` in the homoscedastic case) and, for an estimated covariance, applies
        the Wishart factor :math:`(\nu-n-1)/\nu`. ``"crossfit"`` uses
        :math:`\tfrac12(\hat J_A^\top \hat J_B + \hat J_B^\top \hat J_A)` from disjoint
        trial halves (or presentation halves when T = 1). ``None``: the naive plug-in.
    estimator_params : dict, optional
        Parameters for a registry-named estimator.
    domain : {"hull", "box", None}
        Query points outside the convex hull (or bounding box) of the stimuli are invalid;
        periodic dimensions of the estimator are exempt. The hull test is used for 2-3
        stimulus dimensions (and non-degenerate designs); otherwise the box applies.
    on_invalid : {"raise", "flag"}
        Invalid query points (outside the domain, or fewer effective samples under the
        kernel than local coefficients) raise, or are flagged (see :meth:`point_flags`)
        and get NaN estimates.
    n_bootstrap : int
        Bootstrap resamples behind :meth:`layer_metric_resamples` (0: no intervals).
    min_rate : float
        With ``noise="poisson"``, neurons whose estimated rate at a query is ≤ this are
        left out of the Fisher sum there (their count is in :meth:`point_flags`).
    name : str
        Layer name of the population.
    stimulus_names : sequence of str, optional
        Names of the stimulus dimensions (e.g. ``("orientation", "contrast")``; default
        ``stimulus_0``, …): the dims of :meth:`grid` and the labels of the bandwidths in a
        Dataset's attrs.
    stimulus_units : sequence of str, optional
        Units per stimulus dimension (e.g. ``("rad", "")``), carried to :meth:`grid`'s
        coordinates and so to Datasets and plot axes.
    layout : str, optional
        Axis order of 3-D numpy responses: ``"condition,trial,neuron"`` or
        ``"condition,neuron,trial"`` (transposed on intake). DataArrays name their dims
        instead. Without it a ``(P, a, b)`` array is read as ``(condition, trial, neuron)``
        only where that reading is not in doubt: the data single out axis 1 as the
        repetitions (within conditions the spread along it is significantly the smaller,
        an F test at level 10⁻³), or they cannot tell and ``a < b`` (few repetitions of
        many neurons). An array whose data say ``(condition, neuron, trial)``, or an
        undecided one with ``a ≥ b``, raises a ``ShapeError`` asking for ``layout=``.
    random_state : int
    positive : bool
        With ``correction="analytic"``: ``True`` (default) keeps the corrected metric positive
        definite — each eigenvalue of the subtracted estimate in the frame of the noise term
        is replaced by its posterior mean under a flat prior on non-negative values
        (:func:`~neurogeom.riemann.positive_noise_correction`; unchanged where the signal is
        resolved, a noise floor where it is not), bootstrap resamples are posterior
        quantiles (:func:`~neurogeom.riemann.positive_resamples`), and with a bias-corrected
        estimator the Jacobian along unresolved directions comes from the degree-p fit
        (:func:`~neurogeom.riemann.resolution_weights`). ``False``: the plain subtraction,
        unbiased and possibly indefinite (flagged). Ignored by the other corrections.

    Notes
    -----
    Curvature (``ng.scalar_curvature``, ``ng.extrinsic_curvature``,
    ``ng.geometry(..., curvature=True)``) needs a local fit of degree 2 or more
    (``"local_quartic"`` is made for it, ``"local_quadratic"``, ``"local_cubic"``): the
    Jacobian and the Hessian come from one local polynomial fit (:meth:`layer_jets`), and
    every product of them is bias-corrected (:meth:`layer_jet_grams`), with bootstrap
    resamples for intervals (:meth:`layer_jet_gram_resamples`).

    Examples
    --------
    >>> import numpy as np
    >>> from neurogeom import simulate
    >>> pop = simulate.LinearPopulation(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    >>> X = pop.uniform_stimuli(300, random_state=0)
    >>> R = pop.sample(X, 4, noise=0.1, random_state=1)
    >>> rm = SampledResponseMap(X, R, estimator_params={"bandwidth": 0.5})
    >>> g = rm.metric(np.zeros((1, 2)))
    >>> bool(np.allclose(g[0], [[2.0, 1.0], [1.0, 5.0]], atol=0.3))
    True
    """

    def __init__(
        self,
        stimuli: Any,
        responses: Any,
        estimator: str | JacobianEstimator = "local_linear",
        *,
        noise: Any = None,
        correction: Correction = "analytic",
        estimator_params: dict[str, Any] | None = None,
        domain: Literal["hull", "box"] | None = "hull",
        on_invalid: Literal["raise", "flag"] = "raise",
        n_bootstrap: int = 0,
        min_rate: float = 0.0,
        name: str = "responses",
        random_state: int = 0,
        stimulus_names: Any = None,
        stimulus_units: Any = None,
        layout: str | None = None,
        positive: bool = True,
    ) -> None:
        if correction not in CORRECTIONS:
            raise ParameterError(f"correction={correction!r}; use one of {CORRECTIONS}.")
        if domain not in ("hull", "box", None):
            raise ParameterError(f"domain={domain!r}; use 'hull', 'box' or None.")
        if on_invalid not in ("raise", "flag"):
            raise ParameterError(f"on_invalid={on_invalid!r}; use 'raise' or 'flag'.")
        n_bootstrap = check_count(n_bootstrap, "n_bootstrap", 0)
        if not isinstance(positive, (bool, np.bool_)):
            raise ParameterError(f"positive={positive!r}; expected True or False.")
        if not isinstance(min_rate, (int, float, np.number)) or not math.isfinite(min_rate):
            raise ParameterError(f"min_rate={min_rate!r}; expected a finite number (a rate).")
        X = _values(stimuli, "stimuli")
        X = X[:, None] if X.ndim == 1 else X
        trials = _trials(responses, layout)
        if X.ndim != 2 or X.shape[0] != trials.shape[0]:
            raise ShapeError(
                f"stimuli have shape {X.shape} and responses {trials.shape}; expected "
                "stimuli (P, d) with one row per presentation (responses' first axis)."
            )
        for arr, what in ((X, "stimuli"), (trials, "responses")):
            check_finite(
                arr,
                what,
                hint="Drop those presentations (or trials) before estimating geometry.",
            )
        X, trials = _group_repeats(X, trials)
        self.stimuli, self.trials = X, trials
        self.noise, self.correction, self.positive = noise, correction, bool(positive)
        self.domain, self.on_invalid = domain, on_invalid
        self.n_bootstrap, self.min_rate = int(n_bootstrap), float(min_rate)
        self.random_state = random_state
        self.layers, self.returns_dict = (name,), False
        self.stimulus_names = _labels(stimulus_names, X.shape[1], "stimulus_names", "stimulus_")
        self.stimulus_units = _labels(stimulus_units, X.shape[1], "stimulus_units", "")
        self.estimator = get_estimator(estimator, **(estimator_params or {}))
        fit_kw: dict[str, Any] = {}
        if trials.shape[1] >= 2 and getattr(self.estimator, "supports_noise_variance", False):
            fit_kw["noise_variance"] = trials.var(axis=1, ddof=1) / trials.shape[1]  # (P, n)
        self.estimator.fit(X, trials.mean(axis=1), **fit_kw)
        self._setup_noise()
        self.single_trial_variances_ = self._single_trial_variances()
        if correction == "analytic" and not self.estimator.linear:
            raise ParameterError(
                f"{type(self.estimator).__name__} is not linear, so the analytic correction "
                "does not apply; use correction='crossfit' (or None)."
            )
        self._hull = _hull(X) if domain == "hull" else None

    def __repr__(self) -> str:
        P, T, n = self.trials.shape
        return (
            f"SampledResponseMap(presentations={P}, repetitions={T}, neurons={n}, "
            f"estimator={type(self.estimator).__name__}, noise={_noise_name(self.noise)}, "
            f"correction={self.correction!r})"
        )

    @property
    def estimation(self) -> dict[str, Any]:
        """How the geometry is estimated, for a Dataset's record.

        ``estimator``, ``bandwidth`` (per named stimulus dimension, where the estimator has
        one), ``bandwidth_method``, ``correction``, ``positive``, ``noise``, ``n_bootstrap``.
        """
        est = self.estimator
        out: dict[str, Any] = {
            "estimator": type(est).__name__,
            "correction": self.correction,
            "positive": self.positive and self.correction == "analytic",
            "noise": _noise_name(self.noise),
            "n_bootstrap": self.n_bootstrap,
        }
        h = getattr(est, "bandwidth_", None)
        if h is not None:
            out["bandwidth"] = {n: float(v) for n, v in zip(self.stimulus_names, h)}
            out["bandwidth_method"] = getattr(est, "bandwidth_method_", "")
        return out

    def grid(self, resolution: Any = 12, margin: float = 0.0) -> Any:
        """A :class:`~neurogeom.Grid` over the sampled stimulus range, named and with units.

        Parameters
        ----------
        resolution : int or sequence of int
            Points per dimension.
        margin : float
            Fraction of each non-periodic range left out at both ends (0 ≤ margin < 0.5).
            A periodic dimension spans one period, without its repeated end point.

        Returns
        -------
        Grid
            dims ``stimulus_names``, units ``stimulus_units``.
        """
        from ..slices import Grid

        if not 0 <= margin < 0.5:
            raise ParameterError(f"margin={margin!r}; expected a fraction in [0, 0.5).")
        d = self.stimuli.shape[1]
        res = [int(resolution)] * d if np.ndim(resolution) == 0 else list(resolution)
        period = getattr(self.estimator, "period_", np.full(d, np.inf))
        bounds = []
        for a in range(d):
            lo, hi = float(self.stimuli[:, a].min()), float(self.stimuli[:, a].max())
            if np.isfinite(period[a]):
                lo, hi = lo, lo + float(period[a]) * (1 - 1 / max(res[a], 2))
            else:
                lo, hi = lo + margin * (hi - lo), hi - margin * (hi - lo)
            bounds.append((lo, hi))
        return Grid(bounds, res, dims=self.stimulus_names, units=self.stimulus_units)

    # -- noise ---------------------------------------------------------------------------
    @property
    def n_repetitions(self) -> int:
        return int(self.trials.shape[1])

    def _setup_noise(self) -> None:
        P, T, n = self.trials.shape
        self.whitener_: np.ndarray | None = None
        self.wishart_factor_ = 1.0
        self.whitened_row_variance_: float | None = None
        noise = self.noise
        if noise is None or (isinstance(noise, str) and noise == "poisson"):
            return
        if isinstance(noise, str):
            if noise != "empirical":
                raise ParameterError(
                    f"noise={noise!r}; use None, 'poisson', 'empirical' or (n, n)."
                )
            if T < 2:
                raise InsufficientSamplesError(
                    "noise='empirical' needs repeated trials (responses (P, T, n), T >= 2)."
                )
            resid = (self.trials - self.trials.mean(1, keepdims=True)).reshape(-1, n)
            nu = P * (T - 1)
            sample = resid.T @ resid / nu
            if nu >= n + 5:
                cov, self.wishart_factor_ = sample, (nu - n - 1) / nu
                trace_ratio = float(n)
            else:
                cov = ledoit_wolf(resid, assume_centered=True)[0] * (P * T) / nu
                trace_ratio = float(np.trace(np.linalg.solve(cov, sample)))
            self.noise_dof_ = nu
        else:
            cov = _values(noise, "noise covariance")
            if cov.shape != (n, n):
                raise ShapeError(f"noise covariance has shape {cov.shape}; expected ({n}, {n}).")
            trace_ratio = float(n)
        check_finite(cov, "noise covariance")
        try:
            L = np.linalg.cholesky(0.5 * (cov + cov.T))
        except np.linalg.LinAlgError as err:
            raise NotPositiveSemidefiniteError(
                f"the noise covariance ({n}, {n}) is not positive definite (smallest "
                f"eigenvalue {float(np.linalg.eigvalsh(0.5 * (cov + cov.T))[0]):.3g}); "
                "regularise it (e.g. Ledoit-Wolf shrinkage, or add a small multiple of the "
                "identity), or pass noise='empirical'."
            ) from err
        self.noise_covariance_ = cov
        self.whitener_ = L
        self.whitened_row_variance_ = trace_ratio / T

    def _single_trial_variances(self) -> np.ndarray | None:
        """Residual noise variances of single-trial presentations under the map's own fit.

        Needed by the analytic correction with ``noise=None`` when each stimulus was shown
        once; the same variances serve every bootstrap resample (a resample changes which
        presentations are drawn, not their noise).
        """
        est = self.estimator
        if self.trials.shape[1] >= 2 or self.correction != "analytic" or self.noise is not None:
            return None
        if not hasattr(est, "residual_variances"):
            raise InsufficientSamplesError(
                "the analytic correction with noise=None needs repeated trials or an "
                "estimator with residual_variances (local polynomial); use "
                "correction='crossfit'."
            )
        try:
            return np.asarray(est.residual_variances())
        except InsufficientSamplesError as err:
            raise InsufficientSamplesError(
                "single-trial data: the analytic correction estimates each presentation's "
                "noise from the residuals of the fit at every training stimulus, and at "
                f"bandwidth {getattr(est, 'bandwidth_', '?')} some have too few samples "
                f"under the kernel ({err}). Widen the bandwidth (estimator_params="
                "{'bandwidth': ...}), record repeated trials, or pass correction='crossfit'."
            ) from None

    def _row_variances(self, trials: np.ndarray) -> np.ndarray:
        """Total noise variance of each presentation mean (sum over neurons), ``(P,)``."""
        T = trials.shape[1]
        if T >= 2:
            return np.asarray(trials.var(axis=1, ddof=1).sum(-1) / T)
        assert self.single_trial_variances_ is not None
        return self.single_trial_variances_

    # -- validation ----------------------------------------------------------------------
    def _points(self, x: Any) -> np.ndarray:
        arr = _values(x, "points")
        d = self.stimuli.shape[1]
        if arr.ndim == 1 and d == 1:
            arr = arr[:, None]
        if arr.ndim < 2 or int(np.prod(arr.shape[1:])) != d:
            raise ShapeError(f"points have shape {arr.shape}; expected (m, {d}).")
        if len(arr) == 0:
            raise ShapeError(f"points have shape {arr.shape}: no points. Pass at least one point.")
        arr = arr.reshape(len(arr), d)
        check_finite(arr, "query points", hint="Drop those points before measuring geometry.")
        return arr

    def _outside(self, x: np.ndarray) -> np.ndarray:
        if self.domain is None:
            return np.zeros(len(x), bool)
        per = np.isfinite(getattr(self.estimator, "period_", np.full(x.shape[1], np.inf)))
        lo, hi = self.stimuli.min(0), self.stimuli.max(0)
        out = (((x < lo) | (x > hi)) & ~per).any(1)
        if self._hull is not None and not per.any():
            A, b, tol = self._hull
            out |= ((x @ A.T + b) > tol).any(1)
        return np.asarray(out)

    def _sparse(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        neff = self.estimator.effective_samples(x)
        if neff is None:
            return np.zeros(len(x), bool), np.full(len(x), np.nan)
        return neff < self.estimator.n_coefficients(), neff

    def _valid(
        self,
        x: np.ndarray,
        *,
        outside: np.ndarray | None = None,
        sparse: np.ndarray | None = None,
        neff: np.ndarray | None = None,
    ) -> np.ndarray:
        outside = self._outside(x) if outside is None else outside
        if self.on_invalid == "raise" and not outside.any() and sparse is None:
            # the estimator itself raises InsufficientSamplesError for sparse points
            return np.ones(len(x), bool)
        if sparse is None or neff is None:
            sparse, neff = self._sparse(x)
        if self.on_invalid == "raise":
            if outside.any():
                i = int(np.argmax(outside))
                raise OutOfDomainError(
                    f"query point {i} ({x[i]}) lies outside the sampled region (the "
                    f"{self.domain} of the stimuli); estimates there would be extrapolation. "
                    "Query inside it, or pass on_invalid='flag' to get flagged NaNs."
                )
            if sparse.any():
                i = int(np.argmax(sparse))
                raise InsufficientSamplesError(
                    f"query point {i} ({x[i]}) has {neff[i]:.2f} effective samples under the "
                    f"kernel; the estimator needs >= {self.estimator.n_coefficients()}. "
                    "Widen the bandwidth, add samples, or pass on_invalid='flag'."
                )
        return ~(outside | sparse)

    # -- estimates -----------------------------------------------------------------------
    def _fill(self, valid: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        out = np.full((len(valid), *shape), np.nan)
        out[valid] = values
        return out

    def _like(self, result: np.ndarray, reference: Any) -> Any:
        return to_tensor(result) if is_torch(reference) else result

    def layer_responses(self, x: Any) -> dict[str, Any]:
        """Estimated mean responses ``(m, n)`` (from the estimator's fit)."""
        pts = self._points(x)
        valid = self._valid(pts)
        f = self.estimator.predict(pts[valid])
        return {self.layers[0]: self._like(self._fill(valid, f, f.shape[1:]), x)}

    def layer_jacobians(self, x: Any, tangents: Any = None) -> dict[str, Any]:
        """Estimated Jacobians ``(m, n, d)``, or ``(m, n, k)`` along ``tangents``."""
        pts = self._points(x)
        valid = self._valid(pts)
        J = self.estimator.jacobian(pts[valid])
        if tangents is not None:
            J = J @ self._tangents(tangents).T
        return {self.layers[0]: self._like(self._fill(valid, J, J.shape[1:]), x)}

    def _tangents(self, tangents: Any) -> np.ndarray:
        T = _values(tangents, "tangents")
        d = self.stimuli.shape[1]
        T = T.reshape(len(T), -1) if T.ndim > 1 else T[None]
        if T.shape[1] != d:
            raise ShapeError(f"tangents have shape {T.shape}; expected (k, {d}).")
        return T

    def measure(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none", resamples: bool = True
    ) -> Measurement:
        """Bias-corrected metric, flags and bootstrap resamples at ``x``, from one weight solve.

        The estimator's weights at the valid query points are solved for once per call and
        serve the metric, its noise-bias correction, the Poisson rates, the flags and every
        bootstrap resample (which resample trials, T ≥ 2; single-trial bootstraps refit).
        Nothing on the map changes, so calls may run in parallel threads.

        Returns
        -------
        Measurement
            ``estimated=True``; ``metrics`` NaN where a point is flagged invalid; ``flags``
            as :meth:`point_flags`; ``resamples`` ``(B, m, k, k)`` when ``n_bootstrap > 0``
            and ``resamples`` is True.
        """
        check_scale(scale)
        pts = self._points(x)
        T = None if tangents is None else self._tangents(tangents)
        outside, (sparse, neff) = self._outside(pts), self._sparse(pts)
        valid = self._valid(pts, outside=outside, sparse=sparse, neff=neff)
        xs, est = pts[valid], self.estimator
        C, f, A = self._metric_solve(xs)
        g = self._metric(est, xs, self.trials, C=C, rates=f)
        name = self.layers[0]
        projected = self._project(g, T, scale)
        metric = self._fill(valid, projected, projected.shape[1:])
        flags = self._flags(pts, valid, outside, sparse, neff, metric, est, xs, f)
        res = None
        if resamples and self.n_bootstrap > 0:
            res = {name: self._resamples(xs, valid, g, C, f, T, scale, self.n_bootstrap, A=A)}
        return Measurement(metrics={name: metric}, flags=flags, resamples=res, estimated=True)

    def _flags(
        self,
        pts: np.ndarray,
        valid: np.ndarray,
        outside: np.ndarray,
        sparse: np.ndarray,
        neff: np.ndarray,
        metric: np.ndarray,
        est: JacobianEstimator,
        xs: np.ndarray,
        rates: np.ndarray | None,
    ) -> dict[str, np.ndarray]:
        indefinite = np.zeros(len(pts), bool)
        if valid.any():
            indefinite[valid] = np.linalg.eigvalsh(metric[valid])[:, 0] <= 0
        flags = {
            "outside": outside,
            "sparse": sparse,
            "effective_samples": neff,
            "indefinite": indefinite,
        }
        if isinstance(self.noise, str) and self.noise == "poisson":
            excluded = np.zeros(len(pts))
            if valid.any():
                f = est.predict(xs) if rates is None else rates
                excluded[valid] = (f <= self.min_rate).sum(1)
            flags["excluded_neurons"] = excluded
        return flags

    def layer_jets(self, x: Any, tangents: Any = None) -> dict[str, tuple[Any, Any]]:
        """Estimated Jacobians ``(m, n, k)`` and Hessians ``(m, n, k, k)`` of the mean responses.

        The slope and quadratic coefficients of one local polynomial fit of degree 2 or more
        per query (``"local_quadratic"``, ``"local_cubic"``, ``"local_quartic"``; other
        estimators raise :class:`~neurogeom.errors.InputTypeError`), NaN at invalid points. These are the
        *uncorrected* derivative estimates: products of them (``ĴᵀĴ``, the Gauss equation's
        ``⟨II, II⟩``, ``|H|²``) are biased upward by the noise, so curvature functions take
        their scalars from :meth:`layer_jet_grams`, which corrects them.
        """
        _, valid, W, k = self._jet_solve(x, tangents)
        return {self.layers[0]: self._jets_from(x, valid, W, k)}

    def layer_jet_estimates(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, tuple[Any, Any, np.ndarray]]:
        """:meth:`layer_jets` and :meth:`layer_jet_grams` together, from one weight solve.

        Returns
        -------
        dict of str to (J (m, n, k), H (m, n, k, k), G (m, k + k², k + k²))
            The uncorrected jets (as ``x``: numpy or torch) and the corrected Gram matrices.
        """
        check_scale(scale)
        pts, valid, W, k = self._jet_solve(x, tangents)
        J, H = self._jets_from(x, valid, W, k)
        G, _ = self._grams_from(pts, valid, W, k, scale, 0)
        return {self.layers[0]: (J, H, G)}

    def _jet_solve(self, x: Any, tangents: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Points, their validity, and the jet weights at the valid ones (one solve)."""
        pts = self._points(x)
        T = None if tangents is None else self._tangents(tangents)
        valid = self._valid(pts)
        W, k = self._jet_weights(pts[valid], T)
        return pts, valid, W, k

    def _jets_from(self, x: Any, valid: np.ndarray, W: np.ndarray, k: int) -> tuple[Any, Any]:
        V = apply_weights(W, self.trials.mean(1))  # (m, n, k + k²)
        m, n = len(V), V.shape[1]
        J = self._fill(valid, V[:, :, :k], (n, k))
        H = self._fill(valid, V[:, :, k:].reshape(m, n, k, k), (n, k, k))
        return self._like(J, x), self._like(H, x)

    def layer_jet_grams(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, np.ndarray]:
        r"""Bias-corrected Gram matrices of the jet, ``(m, k + k², k + k²)``, NaN where invalid.

        With ``V̂ = [Ĵ, Ĥ]`` (the columns of :meth:`layer_jets`, second derivatives in
        row-major order) estimated as ``V̂ = Σᵢ wᵢ r̄ᵢᵀ`` from the presentation means
        ``r̄ᵢ``, noise of total variance ``τᵢ`` in row ``i`` inflates ``E[V̂ᵀV̂]`` by
        ``Σᵢ wᵢwᵢᵀ τᵢ``; the same correction as the metric's (``correction``: analytic
        subtraction, cross-fitting, or none; the metric is the ``k × k`` block) applied to
        every product of estimated first and second derivatives. The Gauss equation and the
        mean curvature are functions of this matrix alone
        (:func:`~neurogeom.riemann.curvature.curvature_from_gram`). ``noise=None`` or a
        constant covariance (whitened responses); Poisson-weighted metrics are refused.

        Parameters
        ----------
        x : array, shape (m, d)
        tangents : array, shape (k, d), optional
        scale : {"none", "width"}

        Returns
        -------
        dict of str to ndarray, each (m, k + k², k + k²)
        """
        G, _ = self._jet_grams(x, tangents, scale, 0)
        return {self.layers[0]: G}

    def layer_jet_gram_resamples(
        self,
        x: Any,
        tangents: Any = None,
        *,
        scale: Scale = "none",
        n_resamples: int | None = None,
    ) -> dict[str, np.ndarray] | None:
        """Bootstrap resamples of :meth:`layer_jet_grams`, each ``(B, m, p, p)``, or None.

        Trials are resampled within presentations (repeated trials are needed) and the
        resamples recentred on the corrected estimate, as :meth:`layer_metric_resamples`
        does for the metric. None when ``n_bootstrap`` (or ``n_resamples``) is 0.
        """
        B = self.n_bootstrap if n_resamples is None else check_count(n_resamples, "n_resamples", 0)
        if B <= 0:
            return None
        _, res = self._jet_grams(x, tangents, scale, B)
        assert res is not None
        return {self.layers[0]: res}

    def _jet_weights(self, xs: np.ndarray, T: np.ndarray | None) -> tuple[np.ndarray, int]:
        """Stacked weights of ``[Ĵ, Ĥ]`` along the tangents: ``(m, k + k², M)`` and ``k``."""
        if isinstance(self.noise, str) and self.noise == "poisson":
            raise InputTypeError(
                "curvature of a SampledResponseMap with noise='poisson' is not available: "
                "the Poisson Fisher metric is not the pullback of the estimated responses. "
                "Use noise=None (the responses' own geometry) or a covariance."
            )
        C1, C2 = self.estimator.jet_weights(xs)
        if T is not None:
            C1 = np.einsum("ka,maM->mkM", T, C1)
            C2 = np.einsum("ka,lb,mabM->mklM", T, T, C2)
        m, k, M = C1.shape
        return np.concatenate([C1, C2.reshape(m, k * k, M)], 1), k

    def _jet_grams(
        self, x: Any, tangents: Any, scale: Scale, B: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        check_scale(scale)
        pts, valid, W, k = self._jet_solve(x, tangents)
        return self._grams_from(pts, valid, W, k, scale, B)

    def _grams_from(
        self, pts: np.ndarray, valid: np.ndarray, W: np.ndarray, k: int, scale: Scale, B: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        xs = pts[valid]
        p = k + k * k
        # the jet Gram stays the unbiased subtraction: curvature is a difference of its
        # entries, which a positive (upward-biased at weak signal) rule would distort
        G = self._metric(self.estimator, xs, self.trials, C=W, positive=False)
        out = self._fill(valid, self._project(G, None, scale), (p, p))
        if B == 0:
            return out, None
        if self.n_repetitions < 2:
            raise InsufficientSamplesError(
                "bootstrap intervals of curvature resample trials within presentations; "
                "these responses have one trial per presentation. Record repeated trials, "
                "or build the map with n_bootstrap=0."
            )
        return out, self._resamples(xs, valid, G, W, None, None, scale, B, positive=False)

    def layer_metrics(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, Any]:
        """Bias-corrected metric estimates ``(m, d, d)`` or ``(m, k, k)``.

        Positive definite with the default positive analytic correction; with
        ``positive=False`` or cross-fitting they may be indefinite, which is reported (see
        :meth:`point_flags`), never clipped.
        """
        metrics = self.measure(x, tangents, scale=scale, resamples=False).metrics
        return {name: self._like(g, x) for name, g in metrics.items()}

    def _project(self, g: np.ndarray, T: np.ndarray | None, scale: Scale) -> np.ndarray:
        if T is not None:
            g = T @ g @ T.T
        if scale == "width":
            g = g / self.trials.shape[2]
        return g

    def _metric_solve(
        self, xs: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """Metric weights ``C`` (m, d, M), Poisson rates (m, n) and the direction blend ``A``.

        With the positive analytic correction and a bias-corrected estimator (degree
        ``p + 2`` at the degree-``p`` bandwidth), the Jacobian along each direction of the
        metric is taken from the bias-corrected fit where that direction is resolved above
        the noise and from the degree-``p`` fit (at the same bandwidth, several times less
        variance) where it is not: ``C = C_p + Aᵀ(C_{p+2} − C_p)`` with ``A`` from
        :func:`~neurogeom.riemann.resolution_weights` of the bias-corrected estimate.
        ``A`` is None where the rule does not apply.
        """
        est = self.estimator
        rates, C = est.smoother_weights(xs) if est.linear else (None, None)
        f = None if rates is None else rates @ est.responses_
        base_degree = getattr(est, "degree", None)
        if (
            C is None
            or not (self.positive and self.correction == "analytic")
            or getattr(est, "degree_", base_degree) == base_degree
        ):
            return C, f, None
        S, N, terms = self._subtracted(est, xs, self.trials, None, C, f, terms=True)
        assert terms is not None
        A = resolution_weights(S, N, terms)
        return self._blend(est, xs, C, A, None), f, A

    def _blend(
        self,
        est: JacobianEstimator,
        xs: np.ndarray,
        C: np.ndarray,
        A: np.ndarray,
        sample_weight: np.ndarray | None,
    ) -> np.ndarray:
        """``C_p + Aᵀ(C − C_p)``: the degree-``p`` weights of ``est`` refitted at its bandwidth."""
        base = est.frozen()
        base.set_params(bias_correction=False)
        h_p = getattr(self.estimator, "base_bandwidth_", None)
        if h_p is not None:  # the degree-p width (the bias-corrected fit's may be wider)
            base.set_params(bandwidth=np.array(h_p, dtype=np.float64))
        base.fit(self.stimuli, self.trials.mean(1), sample_weight=sample_weight)
        C_p = base.linear_weights(xs)
        return np.asarray(C_p + np.swapaxes(A, 1, 2) @ (C - C_p))

    def _metric_weights(
        self, est: JacobianEstimator, x: np.ndarray, rates: np.ndarray | None = None
    ) -> tuple[str, np.ndarray | None]:
        """How Ĵ is weighted at each query: (transform, per-query inverse rates or None).

        Poisson rates are ``rates`` when given (from the block's one solve), else those
        that ``est`` predicts.
        """
        if isinstance(self.noise, str) and self.noise == "poisson":
            f = est.predict(x) if rates is None else rates
            inv = np.where(f > self.min_rate, 1.0 / np.where(f > self.min_rate, f, 1.0), 0.0)
            return "poisson", inv
        return ("whiten" if self.whitener_ is not None else "identity"), None

    def _weighted(self, J: np.ndarray, kind: str, inv_rate: np.ndarray | None) -> np.ndarray:
        if kind == "poisson":
            assert inv_rate is not None
            return J * np.sqrt(inv_rate)[:, :, None]
        if kind == "whiten":
            assert self.whitener_ is not None
            return np.linalg.solve(self.whitener_, J)
        return J

    def _metric(
        self,
        est: JacobianEstimator,
        x: np.ndarray,
        trials: np.ndarray,
        weights: np.ndarray | None = None,
        C: np.ndarray | None = None,
        correction: Any = "default",
        rates: np.ndarray | None = None,
        positive: bool | None = None,
    ) -> np.ndarray:
        """Corrected metric ``(m, d, d)`` at validated points from trials ``(P, T, n)``.

        ``est`` is the estimator fitted to ``trials`` (with ``weights``): the map's own or a
        bootstrap refit. Nothing on ``self`` changes, so queries may run in parallel threads.
        With the analytic correction and ``positive`` (default: the map's), the subtracted
        estimate goes through :func:`~neurogeom.riemann.positive_noise_correction`.
        """
        correction = self.correction if correction == "default" else correction
        positive = self.positive if positive is None else positive
        if correction == "analytic":
            S, N, terms = self._subtracted(est, x, trials, weights, C, rates, terms=positive)
            return positive_noise_correction(S, N, terms) if terms is not None else S
        kind, inv_rate = self._metric_weights(est, x, rates)
        if correction == "crossfit":
            return self._crossfit(est, x, trials, kind, inv_rate, C)
        if C is None and est.linear:
            C = est.linear_weights(x)
        J = apply_weights(C, trials.mean(1)) if C is not None else est.jacobian(x)
        Jw = self._weighted(J, kind, inv_rate)
        return _symmetric(np.einsum("mna,mnb->mab", Jw, Jw))

    def _subtracted(
        self,
        est: JacobianEstimator,
        x: np.ndarray,
        trials: np.ndarray,
        weights: np.ndarray | None,
        C: np.ndarray | None,
        rates: np.ndarray | None,
        *,
        terms: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The analytic correction's parts: ``S = ĝ_naive − N``, ``N`` and (with ``terms``)
        the per-neuron components ``Nᵢ`` of ``N``, ``(m, n, d, d)``."""
        kind, inv_rate = self._metric_weights(est, x, rates)
        means = trials.mean(1)
        C = est.linear_weights(x) if C is None else C
        Jw = self._weighted(apply_weights(C, means), kind, inv_rate)
        g = np.einsum("mna,mnb->mab", Jw, Jw) * self.wishart_factor_
        N = _symmetric(propagate(C, self._tau(est, kind, inv_rate, trials, means, weights)))
        S = _symmetric(g) - N
        if not terms:
            return S, N, None
        return S, N, self._noise_terms(C, kind, inv_rate, trials, means, weights)

    def _noise_terms(
        self,
        C: np.ndarray,
        kind: str,
        inv_rate: np.ndarray | None,
        trials: np.ndarray,
        means: np.ndarray,
        weights: np.ndarray | None,
    ) -> np.ndarray:
        """Per-neuron components ``Nᵢ = Σₖ cₖcₖᵀ τₖᵢ`` of the noise term, ``(m, n, d, d)``.

        ``τₖᵢ`` is neuron i's share of row k's noise variance (in metric units, as in
        :meth:`_tau`): the trial spread per neuron, the Poisson rate, or — whitened noise and
        single-trial residuals, whose split over neurons is not estimated — equal shares.
        """
        m, d, M = C.shape
        n, T = trials.shape[2], trials.shape[1]
        if kind == "poisson":
            v = np.clip(means, 0, None) / T  # (M, n), times each query's inverse rates
        elif kind == "identity" and T >= 2:
            v = trials.var(axis=1, ddof=1) / T
        else:
            tau = self._tau_total(kind, trials)
            v = np.repeat(tau[:, None] / n, n, axis=1)
        if weights is not None:
            v = v / np.where(weights > 0, weights, 1.0)[:, None]
        CC = (C[:, :, None, :] * C[:, None, :, :]).reshape(m, d * d, M)
        terms = (CC @ v).transpose(0, 2, 1)  # (m, n, d²)
        if kind == "poisson":
            assert inv_rate is not None
            terms = terms * inv_rate[:, :, None]
        return terms.reshape(m, n, d, d)

    def _tau(
        self,
        est: JacobianEstimator,
        kind: str,
        inv_rate: np.ndarray | None,
        trials: np.ndarray,
        means: np.ndarray,
        weights: np.ndarray | None,
    ) -> np.ndarray:
        """Noise variance of each row in metric units: (P,) or (m, P)."""
        if kind == "poisson":
            assert inv_rate is not None
            tau = inv_rate @ np.clip(means, 0, None).T / trials.shape[1]  # variance = mean
        else:
            tau = self._tau_total(kind, trials)
        if weights is not None:  # a row drawn w times counts w times, each with full noise
            tau = tau / np.where(weights > 0, weights, 1.0)
        return np.asarray(tau)

    def _tau_total(self, kind: str, trials: np.ndarray) -> np.ndarray:
        """Total noise variance per row, ``(P,)``, for whitened or unweighted metrics."""
        if kind == "whiten":
            assert self.whitened_row_variance_ is not None
            return np.full(len(trials), self.whitened_row_variance_)
        return self._row_variances(trials)

    def _halves(self, trials: np.ndarray, rng: np.random.Generator) -> tuple[Any, Any]:
        T = trials.shape[1]
        perm = rng.permutation(T)
        return trials[:, perm[: T // 2]], trials[:, perm[T // 2 :]]

    def _crossfit(
        self,
        est: JacobianEstimator,
        x: np.ndarray,
        trials: np.ndarray,
        kind: str,
        inv_rate: np.ndarray | None,
        C: np.ndarray | None,
    ) -> np.ndarray:
        rng = np.random.default_rng(self.random_state)
        if trials.shape[1] >= 2:
            A, B = self._halves(trials, rng)
            if est.linear:
                C = est.linear_weights(x) if C is None else C
                JA, JB = apply_weights(C, A.mean(1)), apply_weights(C, B.mean(1))
            else:
                JA = est.frozen().fit(self.stimuli, A.mean(1)).jacobian(x)
                JB = est.frozen().fit(self.stimuli, B.mean(1)).jacobian(x)
        else:
            P = len(self.stimuli)
            perm = rng.permutation(P)
            a, b = np.sort(perm[: P // 2]), np.sort(perm[P // 2 :])
            means = trials.mean(1)
            try:
                JA = est.frozen().fit(self.stimuli[a], means[a]).jacobian(x)
                JB = est.frozen().fit(self.stimuli[b], means[b]).jacobian(x)
            except ShapeError as err:
                raise ParameterError(
                    "correction='crossfit' with one trial per stimulus fits two halves of "
                    f"the presentations, which {type(est).__name__} cannot take ({err}). "
                    "Record repeated trials (the halves are then halves of the trials), or "
                    "use correction='analytic' with a linear estimator."
                ) from None
        WA, WB = self._weighted(JA, kind, inv_rate), self._weighted(JB, kind, inv_rate)
        g = 0.5 * (np.einsum("mna,mnb->mab", WA, WB) + np.einsum("mna,mnb->mab", WB, WA))
        return np.asarray(g * self.wishart_factor_)

    # -- flags and uncertainty -----------------------------------------------------------
    def point_flags(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, np.ndarray]:
        """Per-point diagnostics of the estimate, each ``(m,)`` (the flags of :meth:`measure`).

        Returns
        -------
        dict
            ``outside`` (outside the sampled region), ``sparse`` (too few effective samples),
            ``effective_samples`` (Kish n_eff under the kernel, NaN if n/a), ``indefinite``
            (the corrected metric has an eigenvalue ≤ 0 — reported, never clipped), and with
            ``noise="poisson"`` ``excluded_neurons`` (rates ≤ ``min_rate`` left out).
        """
        return self.measure(x, tangents, scale=scale, resamples=False).flags

    def layer_metric_resamples(
        self,
        x: Any,
        tangents: Any = None,
        *,
        scale: Scale = "none",
        n_resamples: int | None = None,
    ) -> dict[str, np.ndarray] | None:
        """Bootstrap resamples of the corrected metric per layer, each ``(B, m, k, k)``.

        Trials are resampled within each presentation (T ≥ 2) or presentations are resampled
        (T = 1); the estimator's hyperparameters (bandwidth) stay fixed and the corrected
        estimate is recomputed in each resample. In the bootstrap world the observed means
        are the truth, so the resamples estimate the naive plug-in; their fluctuations
        ``ĝ*_b − ĝ_naive`` are applied to the corrected point estimate — as posterior
        quantiles of its non-negative noise-frame eigenvalues with the positive analytic
        correction (every resample positive definite), multiplicatively otherwise. Returns
        None when ``n_bootstrap`` is 0. Without bias correction the intervals they give
        cover the smoothed target ``J_h``, not ``J``.
        """
        check_scale(scale)
        B = self.n_bootstrap if n_resamples is None else int(n_resamples)
        if B <= 0:
            return None
        pts = self._points(x)
        T = None if tangents is None else self._tangents(tangents)
        valid = self._valid(pts)
        xs, est = pts[valid], self.estimator
        C, f, A = self._metric_solve(xs)
        g = self._metric(est, xs, self.trials, C=C, rates=f)
        return {self.layers[0]: self._resamples(xs, valid, g, C, f, T, scale, B, A=A)}

    def _resamples(
        self,
        xs: np.ndarray,
        valid: np.ndarray,
        g: np.ndarray,
        C: np.ndarray | None,
        rates: np.ndarray | None,
        T: np.ndarray | None,
        scale: Scale,
        B: int,
        positive: bool = True,
        A: np.ndarray | None = None,
    ) -> np.ndarray:
        """``(B, m, k, k)`` resampled corrected metrics, recentred on the estimate ``g``.

        ``A`` is the data's direction blend (:meth:`_metric_solve`), held fixed in
        single-trial refits.

        With the positive analytic correction (``positive`` and the map's settings) the
        fluctuations ``Δ_b`` of the subtracted estimate ``S`` become posterior quantiles of
        the non-negative noise-frame eigenvalues (:func:`~neurogeom.riemann.positive_resamples`),
        so every resample is positive definite; otherwise each is applied to ``g`` by
        :func:`_recentred`.
        """
        rng = np.random.default_rng(np.random.SeedSequence([int(self.random_state), 1]))
        P, n_trials, _ = self.trials.shape
        est = self.estimator
        # The bootstrap world's truth is the plug-in estimate of the full data (its means
        # are the observed means), so resampled corrected estimates scatter around the
        # naive estimate: recentre them on the corrected point estimate.
        naive = self._metric(est, xs, self.trials, C=C, correction=None, rates=rates)
        mapped = positive and self.positive and self.correction == "analytic"
        root = None if mapped else _positive_root(g)
        deltas = []
        for _ in range(B):
            if n_trials >= 2:
                idx = rng.integers(0, n_trials, size=(P, n_trials))
                resampled = np.take_along_axis(self.trials, idx[:, :, None], 1)
                gb = self._metric(est, xs, resampled, C=C, rates=rates, positive=False)
            else:
                gb = self._resample_presentations(xs, rng, A)
            deltas.append(gb - naive)
        if mapped:
            S, N, _ = self._subtracted(est, xs, self.trials, None, C, rates, terms=False)
            resampled_g = positive_resamples(S, N, np.stack(deltas))
        else:
            assert root is not None
            resampled_g = np.stack([_recentred(g, root, delta) for delta in deltas])
        out = []
        for gb in resampled_g:
            gb = self._project(gb, T, scale)
            out.append(self._fill(valid, gb, gb.shape[1:]))
        return np.stack(out)

    def confidence_intervals(
        self,
        x: Any,
        tangents: Any = None,
        *,
        level: float = 0.95,
        n_resamples: int | None = None,
        scale: Scale = "none",
    ) -> dict[str, np.ndarray]:
        """Bootstrap percentile intervals of log-volume and eigenvalues at ``x``.

        See :func:`~neurogeom.riemann.bootstrap_intervals` for the returned arrays. With a
        fixed bandwidth and no bias correction the intervals cover the smoothed target (what
        the estimator converges to at this bandwidth), not the true metric: smoothing bias
        is not in them; the default bias-corrected estimate's intervals cover the truth
        (docs/estimating.md).
        """
        B = self.n_bootstrap if n_resamples is None else int(n_resamples)
        if B <= 0:
            raise ParameterError("no resamples: pass n_resamples= or build with n_bootstrap > 0.")
        res = self.layer_metric_resamples(x, tangents, scale=scale, n_resamples=B)
        assert res is not None
        return bootstrap_intervals(res[self.layers[0]], level)

    def _resample_presentations(
        self, x: np.ndarray, rng: np.random.Generator, A: np.ndarray | None = None
    ) -> np.ndarray:
        """One bootstrap metric of single-trial data: presentations drawn with replacement.

        The estimator is refitted with the draw counts as sample weights; the refit is
        passed on explicitly (the map's own estimator is never replaced).
        """
        P = len(self.stimuli)
        counts = np.bincount(rng.integers(0, P, size=P), minlength=P).astype(np.float64)
        est = self.estimator.frozen()
        if not est.supports_sample_weight:
            raise InputTypeError(
                f"bootstrapping single-trial data refits {type(est).__name__} with sample "
                "weights, which it does not support; record repeated trials."
            )
        est.fit(self.stimuli, self.trials.mean(1), sample_weight=counts)
        try:
            C = est.linear_weights(x) if est.linear else None
            if C is not None and A is not None:
                C = self._blend(est, x, C, A, counts)
        except InsufficientSamplesError as err:
            raise InsufficientSamplesError(
                "bootstrapping single-trial data draws presentations with replacement; in "
                f"one draw a query point has too few samples under the kernel ({err}). "
                "Widen the bandwidth (estimator_params={'bandwidth': ...}), record repeated "
                "trials (then trials are resampled instead), or pass n_bootstrap=0."
            ) from None
        return self._metric(est, x, self.trials, weights=counts, C=C, positive=False)


def _group_repeats(X: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-trial rows that repeat stimuli, as conditions × trials (equal counts only).

    A recording listed trial by trial shows each stimulus several times; those rows are
    repetitions of one condition, so they become its trials (noise from their spread,
    bootstraps resample them, estimators on grids see every node once). Unequal counts are
    left as rows (the estimators merge repeated stimuli when choosing bandwidths).
    """
    if trials.shape[1] != 1:
        return X, trials
    conditions, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    if len(conditions) == len(X) or counts.min() != counts.max():
        return X, trials
    order = np.argsort(inverse.reshape(-1), kind="stable")
    return conditions, trials[order, 0].reshape(len(conditions), int(counts[0]), -1)


def _symmetric(g: np.ndarray) -> np.ndarray:
    return 0.5 * (g + np.swapaxes(g, 1, 2))


def _positive_root(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``g^{1/2}``, ``g^{-1/2}`` and a mask of the positive-definite points of ``g`` (m, d, d)."""
    ev, V = np.linalg.eigh(g)
    pd = ev[:, 0] > relative_zero(g.shape[-1]) * np.abs(ev[:, -1])
    s = np.sqrt(np.where(pd[:, None], ev, 1.0))
    root = np.einsum("mab,mb,mcb->mac", V, s, V)
    inv_root = np.einsum("mab,mb,mcb->mac", V, 1 / s, V)
    return root, inv_root, pd


def _recentred(
    g: np.ndarray, root: tuple[np.ndarray, np.ndarray, np.ndarray], delta: np.ndarray
) -> np.ndarray:
    """A resample's fluctuation ``delta`` applied to the estimate ``g``, staying PD where g is.

    ``g^{1/2} exp(g^{-1/2} Δ g^{-1/2}) g^{1/2}`` equals ``g + Δ`` to first order, is positive
    definite whenever ``g`` is, and has ``½ log det = ½ log det g + ½ tr(g⁻¹Δ)`` (the
    delta-method log-volume): intervals stay bounded wherever the estimate is finite.
    Where ``g`` is not positive definite the additive ``g + Δ`` is kept.
    """
    sq, inv, pd = root
    out = g + delta
    if pd.any():
        W = inv[pd] @ delta[pd] @ inv[pd]
        ev, V = np.linalg.eigh(0.5 * (W + np.swapaxes(W, 1, 2)))
        # capped where a fluctuation dwarfs the estimate: e^±300 keeps g·e^W finite
        E = np.einsum("mab,mb,mcb->mac", V, np.exp(np.clip(ev, -300, 300)), V)
        out[pd] = sq[pd] @ E @ sq[pd]
    return out


def _hull(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Facet half-spaces ``A x + b ≤ tol`` of the stimuli's convex hull (2 ≤ d ≤ 3).

    Outside 2-3 dimensions, or for degenerate designs (e.g. collinear stimuli), None: the
    bounding box still applies. (A half-space test is O(facets) per query; Delaunay's
    ``find_simplex`` with a tolerance searched every simplex, seconds for 3000 stimuli.)
    """
    if not 2 <= X.shape[1] <= 3:
        return None
    try:
        hull = ConvexHull(X)
    except QhullError:
        return None
    eq = hull.equations
    tol = 1e-9 * max(1.0, float(np.abs(X).max()))
    return eq[:, :-1], eq[:, -1], tol


def _noise_name(noise: Any) -> str:
    return repr(noise) if noise is None or isinstance(noise, str) else "covariance"
