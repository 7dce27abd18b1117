"""Compare two geometry fields measured on the same stimuli (a model layer and a recording).

Given two Datasets from :func:`neurogeom.geometry` on the same slice, :func:`compare`
correlates their log-volume fields (Pearson and Spearman, with a permutation test over
points and bootstrap intervals), measures per-point distances between the metric tensors
(affine-invariant Riemannian and log-Euclidean) and the agreement of their principal
directions, and returns all of it as a labelled Dataset.

The lower-level functions work on plain arrays of metrics ``(..., d, d)``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

import numpy as np
import xarray as xr
from scipy import stats
from scipy.stats import rankdata

from ._arrays import as_array, check_finite
from .dataset import check_dataset, stamp_provenance, variable_attrs
from .errors import ParameterError, ShapeError, SingularMetricError, VariableError
from .riemann import check_metric, relative_zero

__all__ = [
    "Correlation",
    "affine_invariant_distance",
    "compare",
    "correlation_test",
    "log_euclidean_distance",
    "principal_agreement",
]

Method = Literal["pearson", "spearman"]
#: Eigenvalues at most this many times ``10 d eps lambda_max`` count as zero.
_GAP_RTOL = 1e-8
#: Flags of estimated Datasets whose points are left out of a comparison.
FLAGS = ("outside", "sparse", "indefinite")


# -- metric tensors ----------------------------------------------------------------------------
def _spd(g: Any, regularize: float | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of validated SPD metrics ``(..., d, d)``."""
    arr = np.asarray(g, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ShapeError(f"{name} has shape {arr.shape}; expected (..., d, d) square matrices.")
    check_metric(arr.reshape(-1, *arr.shape[-2:]))  # finite, symmetric, PSD
    arr = 0.5 * (arr + np.swapaxes(arr, -1, -2))
    d = arr.shape[-1]
    if regularize is not None:
        if not regularize > 0:
            raise ParameterError(f"regularize={regularize!r}; expected a positive float (eps).")
        trace = np.trace(arr, axis1=-2, axis2=-1)[..., None, None]
        arr = arr + regularize * trace / d * np.eye(d)
    w, V = np.linalg.eigh(arr)
    tol = relative_zero(d) * np.maximum(np.abs(w[..., -1]), 1e-300)
    singular = w[..., 0] <= tol
    if singular.any():
        idx = tuple(int(i) for i in np.argwhere(singular)[0])
        rank = int((w[idx] > tol[idx]).sum())
        raise SingularMetricError(
            f"{name} at index {idx} is singular (numerical rank {rank} of {d}); the "
            "affine-invariant and log-Euclidean distances need positive definite metrics. "
            "Pass regularize=eps to compare g + eps*(tr g/d)*I instead (recorded in the "
            "result), or compare metrics on a slice the representation resolves."
        )
    return w, V


def _pair(a: Any, b: Any) -> None:
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb:
        raise ShapeError(f"metrics have shapes {sa} and {sb}; they must match point by point.")


def affine_invariant_distance(a: Any, b: Any, *, regularize: float | None = None) -> np.ndarray:
    r"""Affine-invariant Riemannian distance between SPD metrics, per point.

    :math:`\delta(A, B) = \lVert \log(A^{-1/2} B A^{-1/2}) \rVert_F
    = \sqrt{\textstyle\sum_i \log^2 \lambda_i}`, with :math:`\lambda_i` the generalized
    eigenvalues of :math:`B v = \lambda A v` (computed as the eigenvalues of
    :math:`L^{-1} B L^{-\top}`, :math:`A = L L^\top`). It is invariant under any change of
    stimulus coordinates :math:`A \mapsto W A W^\top`, :math:`B \mapsto W B W^\top`, and
    :math:`\delta(A, cA) = \sqrt d\,|\log c|`.

    Parameters
    ----------
    a, b : array, shape (..., d, d)
        Symmetric positive definite metrics, paired point by point.
    regularize : float, optional
        Rank-deficient policy. ``None`` (default): a singular metric raises
        :class:`~neurogeom.errors.SingularMetricError`. ``eps``: compare
        :math:`g + \varepsilon\,(\operatorname{tr} g / d)\,I` (scale-equivariant, so
        :math:`\delta(A, cA)` is unchanged).

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> a = np.eye(2)[None]
    >>> affine_invariant_distance(a, 4.0 * a)   # sqrt(2) * log 4
    array([1.96051629])
    """
    _pair(a, b)
    wa, Va = _spd(a, regularize, "metric a")
    wb, Vb = _spd(b, regularize, "metric b")
    A = (Va * wa[..., None, :]) @ np.swapaxes(Va, -1, -2)
    B = (Vb * wb[..., None, :]) @ np.swapaxes(Vb, -1, -2)
    L = np.linalg.cholesky(A)
    X = np.linalg.solve(L, B)  # L^-1 B
    C = np.linalg.solve(L, np.swapaxes(X, -1, -2))  # L^-1 B L^-T (B symmetric)
    lam = np.linalg.eigvalsh(0.5 * (C + np.swapaxes(C, -1, -2)))
    return np.asarray(np.sqrt((np.log(lam) ** 2).sum(-1)))


def _logm(w: np.ndarray, V: np.ndarray) -> np.ndarray:
    return np.asarray((V * np.log(w)[..., None, :]) @ np.swapaxes(V, -1, -2))


def log_euclidean_distance(a: Any, b: Any, *, regularize: float | None = None) -> np.ndarray:
    r"""Log-Euclidean distance :math:`\lVert \log A - \log B \rVert_F` between SPD metrics.

    Matrix logarithms from the eigendecompositions. Invariant under a common rescaling
    and under rotations of stimulus coordinates (not under general linear changes, unlike
    :func:`affine_invariant_distance`); :math:`d(A, cA) = \sqrt d\,|\log c|`.

    Parameters
    ----------
    a, b : array, shape (..., d, d)
        Symmetric positive definite metrics, paired point by point.
    regularize : float, optional
        As in :func:`affine_invariant_distance`.

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> log_euclidean_distance(np.diag([1.0, np.e])[None], np.diag([np.e**2, np.e])[None])
    array([2.])
    """
    _pair(a, b)
    la = _logm(*_spd(a, regularize, "metric a"))
    lb = _logm(*_spd(b, regularize, "metric b"))
    return np.asarray(np.sqrt(((la - lb) ** 2).sum(axis=(-2, -1))))


def principal_agreement(a: Any, b: Any, *, n_directions: int = 1) -> np.ndarray:
    r"""Agreement of the top-``r`` principal subspaces of two metrics, per point.

    :math:`\lVert U_a^\top U_b \rVert_F^2 / r`, with :math:`U` the eigenvectors of the ``r``
    largest eigenvalues: 1 when the subspaces coincide, 0 when they are orthogonal, and
    :math:`r/d` on average for random subspaces. For ``r = 1`` it is
    :math:`\cos^2\theta` of the angle between the top eigenvectors.

    Where a metric's eigenvalues ``r`` and ``r + 1`` coincide (relative gap below 1e-8 of
    the largest), its top-``r`` subspace is not defined and the agreement is NaN there.

    Parameters
    ----------
    a, b : array, shape (..., d, d)
        Symmetric positive semidefinite metrics (singular ones are fine).
    n_directions : int
        ``r``, between 1 and ``d - 1``.

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> a = np.diag([2.0, 1.0])[None]
    >>> c, s = np.cos(np.pi / 3), np.sin(np.pi / 3)
    >>> R = np.array([[c, -s], [s, c]])
    >>> principal_agreement(a, R @ a @ R.T)      # cos^2(60 degrees)
    array([0.25])
    """
    _pair(a, b)
    d = np.shape(a)[-1]
    r = int(n_directions)
    if not 1 <= r <= d - 1:
        raise ParameterError(
            f"n_directions={n_directions}; expected 1..{d - 1} for {d}x{d} metrics."
        )
    subspaces = []
    defined = np.ones(np.shape(a)[:-2], bool)
    for g in (a, b):
        arr = np.asarray(g, dtype=np.float64)
        check_metric(arr.reshape(-1, d, d))
        w, V = np.linalg.eigh(0.5 * (arr + np.swapaxes(arr, -1, -2)))
        w, V = w[..., ::-1], V[..., ::-1]
        gap = w[..., r - 1] - w[..., r]
        defined &= gap > _GAP_RTOL * np.maximum(np.abs(w[..., 0]), 1e-300)
        subspaces.append(V[..., :r])
    overlap = (np.swapaxes(subspaces[0], -1, -2) @ subspaces[1]) ** 2
    return np.asarray(np.where(defined, overlap.sum(axis=(-2, -1)) / r, np.nan))


# -- correlations ------------------------------------------------------------------------------
class Correlation(NamedTuple):
    """Result of :func:`correlation_test`."""

    r: float
    p_value: float
    ci_low: float
    ci_high: float
    n: int


def _standardise(x: np.ndarray) -> np.ndarray:
    c = x - x.mean(axis=-1, keepdims=True)
    norm = np.sqrt((c**2).sum(axis=-1, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(norm > 0, c / np.where(norm > 0, norm, 1.0), np.nan))


def _corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray((_standardise(x) * _standardise(y)).sum(axis=-1))


def _vector(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(as_array(x, name), dtype=np.float64)
    if arr.ndim != 1:
        raise ShapeError(f"{name} has shape {arr.shape}; expected one value per point (m,).")
    check_finite(arr, name, hint="Drop those points (from both x and y) before correlating.")
    return arr


def _check_counts(n_permutations: int, n_bootstrap: int, level: float) -> None:
    if n_permutations < 0 or n_bootstrap < 0:
        raise ParameterError(
            f"n_permutations={n_permutations}, n_bootstrap={n_bootstrap}; counts must be >= 0."
        )
    if not 0 < level < 1:
        raise ParameterError(f"level={level}; expected a confidence level in (0, 1).")


def correlation_test(
    x: Any,
    y: Any,
    *,
    method: Method = "pearson",
    n_permutations: int = 999,
    n_bootstrap: int = 999,
    level: float = 0.95,
    random_state: int | np.random.Generator = 0,
) -> Correlation:
    r"""Correlation of two fields over points, a permutation test and a bootstrap interval.

    The p-value is two-sided, :math:`(1 + \#\{|r^*| \ge |r|\}) / (1 + N)` over ``N``
    random re-pairings of the points (:func:`scipy.stats.permutation_test` of :math:`|r|`
    with ``permutation_type="pairings"``); when ``N`` is at least the :math:`m!` possible
    pairings (:math:`m \le 6` at the default ``N``), all are enumerated and the p-value is
    exact, :math:`\#\{|r^*| \ge |r|\} / m!`. It assumes points are exchangeable under
    the null: smooth fields on a fine grid are spatially autocorrelated, which makes the
    test anti-conservative there — subsample the grid (or use independent stimuli) before
    reading the p-value as calibrated. The interval is a percentile bootstrap over pairs of
    points (:func:`scipy.stats.bootstrap` with ``method="percentile"``; resamples in which
    a field is constant are left out).

    Parameters
    ----------
    x, y : array, shape (m,)
        Finite values per point, paired.
    method : {"pearson", "spearman"}
        Spearman's coefficient is Pearson's on the ranks (ties get average ranks).
    n_permutations, n_bootstrap : int
        Counts; 0 skips the test (p-value NaN) or the interval (bounds NaN).
    level : float
        Confidence level of the interval.
    random_state : int or Generator
        Seed of the re-pairings and resamples.

    Returns
    -------
    Correlation
        ``r``, ``p_value``, ``ci_low``, ``ci_high``, ``n``. ``r`` is NaN when either field
        is constant (the correlation is undefined).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(10.0)
    >>> res = correlation_test(x, np.exp(x), method="spearman", n_permutations=99)
    >>> res.r, res.p_value
    (1.0, 0.01)
    """
    if method not in ("pearson", "spearman"):
        raise ParameterError(f"method={method!r}; use 'pearson' or 'spearman'.")
    _check_counts(n_permutations, n_bootstrap, level)
    xs, ys = _vector(x, "x"), _vector(y, "y")
    if xs.shape != ys.shape or len(xs) < 3:
        raise ShapeError(f"x and y have shapes {xs.shape} and {ys.shape}; need (m,), m >= 3.")
    rng = np.random.default_rng(random_state)
    perm_rng, boot_rng = rng.spawn(2)
    raw_x, raw_y = xs, ys
    if method == "spearman":
        xs, ys = rankdata(xs), rankdata(ys)
    r = float(_corr(xs, ys))
    p = ci_low = ci_high = float("nan")
    if n_permutations and np.isfinite(r):
        p = _permutation_p_value(xs, ys, n_permutations, perm_rng)
    if n_bootstrap and np.isfinite(r):
        rank = method == "spearman"
        ci_low, ci_high = _bootstrap_correlation(raw_x, raw_y, rank, n_bootstrap, level, boot_rng)
    return Correlation(r, p, ci_low, ci_high, len(xs))


# -- resampling: scipy.stats.permutation_test and scipy.stats.bootstrap -------------------------
#: scipy >= 1.15 seeds its resampling functions with ``rng=``; older ones with ``random_state=``.
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
#: Values per batch of resamples (``len(x) * batch``): bounds the memory of a test on a large
#: slice at 32 MB of float64 per array instead of ``n_resamples * len(x)`` values at once.
_BATCH_VALUES = 2**22


def _batch(n_resamples: int, n: int) -> int:
    return max(1, min(n_resamples, _BATCH_VALUES // max(n, 1)))


def _permutation_p_value(
    x: np.ndarray, y: np.ndarray, n_permutations: int, rng: np.random.Generator
) -> float:
    r"""Two-sided p-value of ``corr(x, y)`` by re-pairing the points (scipy's permutation test).

    The statistic is ``|r|`` with ``alternative="greater"``, so the p-value is
    :math:`(1 + \#\{|r^*| \ge |r|\}) / (1 + N)` over ``N`` random re-pairings; when
    ``N`` is at least the ``m!`` possible pairings, scipy enumerates them all and the
    p-value is exact (:math:`\#\{|r^*| \ge |r|\} / m!`). Pearson's coefficient of ranks
    is Spearman's: ranks are invariant under re-pairing, so they are ranked once.
    """

    def statistic(x_perm: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.abs(_corr(np.moveaxis(x_perm, axis, -1), y))

    res = stats.permutation_test(
        (x,),
        statistic,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=n_permutations,
        batch=_batch(n_permutations, len(x)),
        alternative="greater",
        **{_RNG_KEYWORD: rng},
    )
    return float(res.pvalue)


def _percentile_interval(
    data: tuple[np.ndarray, ...],
    statistic: Any,
    n_bootstrap: int,
    level: float,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Percentile bootstrap interval over points (scipy's bootstrap, resampling pairs).

    Resamples on which the statistic is undefined (NaN: a resample in which a field is
    constant, likely only for a handful of points) are left out of the percentiles;
    scipy's own interval is NaN then.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(
            data,
            statistic,
            n_resamples=n_bootstrap,
            batch=_batch(n_bootstrap, len(data[0])),
            vectorized=True,
            paired=True,
            confidence_level=level,
            method="percentile",
            **{_RNG_KEYWORD: rng},
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.isfinite(low) and np.isfinite(high):
        return low, high
    boot = np.asarray(res.bootstrap_distribution)
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _bootstrap_correlation(
    x: np.ndarray,
    y: np.ndarray,
    rank: bool,
    n_bootstrap: int,
    level: float,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Percentile interval of Pearson's (or, with ``rank``, Spearman's) r over points."""

    def statistic(bx: np.ndarray, by: np.ndarray, axis: int = -1) -> np.ndarray:
        bx, by = np.moveaxis(bx, axis, -1), np.moveaxis(by, axis, -1)
        if rank:  # a resample repeats points: rank it again (ties get average ranks)
            bx, by = rankdata(bx, axis=-1), rankdata(by, axis=-1)
        return _corr(bx, by)

    return _percentile_interval((x, y), statistic, n_bootstrap, level, rng)


def _bootstrap_mean(
    values: np.ndarray, n_bootstrap: int, level: float, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile interval of the mean; NaN with no resamples or fewer than two values."""
    if n_bootstrap == 0 or values.size < 2:
        return float("nan"), float("nan")
    return _percentile_interval((values,), np.mean, n_bootstrap, level, rng)


# -- Datasets ------------------------------------------------------------------------------------
def select_layer(ds: xr.Dataset, layer: str | None, which: str) -> xr.Dataset:
    """One layer of a geometry Dataset, checked, as :func:`compare` takes its two inputs.

    Parameters
    ----------
    ds : xarray.Dataset
        A Dataset with ``log_volume_element`` (from :func:`~neurogeom.geometry`).
    layer : str or None
        The layer to keep; required when ``ds`` has a ``layer`` dim, refused when not.
    which : str
        The Dataset's name in messages (``"a"`` names the argument ``layer_a``).

    Returns
    -------
    xarray.Dataset
        ``ds`` at ``layer`` (``ds`` itself when it has no ``layer`` dim).

    Raises
    ------
    VariableError
        ``ds`` has no ``log_volume_element``, or no layer ``layer``.
    ParameterError
        ``layer`` is missing for a layered Dataset, or given for one without layers.

    Examples
    --------
    >>> ds = xr.Dataset({"log_volume_element": (("layer", "t"), np.zeros((2, 3)))},
    ...                 coords={"layer": ["conv", "fc"]})
    >>> dict(select_layer(ds, "fc", "a").sizes)
    {'t': 3}
    """
    check_dataset(ds, f"Dataset {which}")
    if "log_volume_element" not in ds:
        raise VariableError(
            f"Dataset {which} has no 'log_volume_element'; pass Datasets from ng.geometry()."
        )
    if "layer" in ds.dims:
        names = [str(v) for v in ds["layer"].values]
        if layer is None:
            raise ParameterError(
                f"Dataset {which} has layers {names}; choose one with layer_{which}=..."
            )
        if layer not in names:
            raise VariableError(
                f"layer_{which}={layer!r} is not in Dataset {which}; valid: {names}."
            )
        return ds.sel(layer=layer)
    if layer is not None:
        raise ParameterError(f"layer_{which}={layer!r} given but Dataset {which} has no layer dim.")
    return ds


def _point_dims(ds: xr.Dataset) -> tuple[str, ...]:
    return tuple(str(d) for d in ds["log_volume_element"].dims)


def check_same_points(a: xr.Dataset, b: xr.Dataset) -> tuple[str, ...]:
    """Raise unless two (layer-selected) geometry Datasets sit on the same stimuli.

    Checks the point dims and their coordinates, the slice's defining stimuli
    (``anchors``) and the space the metrics live in (slice-induced or full).

    Returns
    -------
    tuple of str
        The point dims.
    """
    dims_a, dims_b = _point_dims(a), _point_dims(b)
    if dims_a != dims_b:
        raise ShapeError(
            f"the Datasets lie on different slices: point dims {dims_a} vs {dims_b}. "
            "Measure both on the same Line/Plane/Grid/Points object."
        )
    for dim in dims_a:
        ca, cb = np.asarray(a[dim].values), np.asarray(b[dim].values)
        if ca.shape != cb.shape or not np.allclose(ca, cb, rtol=1e-10, atol=1e-12):
            raise ShapeError(
                f"coordinate {dim!r} differs between the Datasets (sizes {ca.shape} and "
                f"{cb.shape}); they are not on the same stimuli. Measure both on one slice."
            )
    has = ("anchors" in a, "anchors" in b)
    if any(has):
        if not all(has):
            raise ShapeError(
                "only one Dataset records the stimuli that define its slice ('anchors'); "
                "measure both on the same slice object."
            )
        aa, ab = a["anchors"].values, b["anchors"].values
        if aa.shape != ab.shape or not np.allclose(aa, ab, rtol=1e-10, atol=1e-12):
            raise ShapeError(
                "the Datasets' slices are defined by different stimuli ('anchors' differ): "
                "same coordinates, different stimuli. Measure both on the same slice."
            )
    # files written before attrs["space"] held the space= values name the space in words
    legacy = {"slice-induced": "slice", "full-space": "full"}
    spaces = tuple(legacy.get(str(s), s) for s in (a.attrs.get("space"), b.attrs.get("space")))
    if spaces[0] != spaces[1]:
        raise ParameterError(
            f"metric spaces differ: {spaces[0]!r} vs {spaces[1]!r}; compare slice-induced "
            "with slice-induced (space='slice') or full with full (space='full') metrics."
        )
    return dims_a


def _usable(ds: xr.Dataset, dims: tuple[str, ...], tensors: bool) -> np.ndarray:
    """Points whose log-volume (and metric) is finite and that no estimator flag marks."""
    ok = np.isfinite(ds["log_volume_element"].transpose(*dims).values)
    if tensors:
        g = ds["metric"].transpose(*dims, ...).values
        ok &= np.isfinite(g).all(axis=(-2, -1))
    for flag in FLAGS:
        if flag in ds:
            ok &= ~ds[flag].transpose(*dims).values.astype(bool)
    return np.asarray(ok.reshape(-1))


def compare(
    a: xr.Dataset,
    b: xr.Dataset,
    *,
    layer_a: str | None = None,
    layer_b: str | None = None,
    tensors: bool = True,
    regularize: float | None = None,
    n_directions: int = 1,
    n_permutations: int = 999,
    n_bootstrap: int = 999,
    level: float = 0.95,
    random_state: int = 0,
    labels: tuple[str, str] = ("a", "b"),
) -> xr.Dataset:
    r"""Compare two geometry fields measured on the same stimuli.

    Parameters
    ----------
    a, b : xarray.Dataset
        From :func:`neurogeom.geometry` on the same slice (checked: point dims,
        coordinates, defining stimuli, metric space), e.g. a network layer and an
        estimate from recorded responses, two layers, or two checkpoints.
    layer_a, layer_b : str, optional
        The layer to use from a Dataset with a ``layer`` dim (required there).
    tensors : bool
        Also compare the metric tensors (distances, principal directions); both Datasets
        then need a ``metric`` variable (``ng.geometry(..., keep_metric=True)``).
    regularize : float, optional
        Rank-deficient policy of the distances (see :func:`affine_invariant_distance`):
        ``None`` raises :class:`~neurogeom.errors.SingularMetricError` on a singular
        metric; ``eps`` compares :math:`g + \varepsilon (\operatorname{tr} g/d) I`.
    n_directions : int
        ``r`` of :func:`principal_agreement` (only with ``d > 1``).
    n_permutations, n_bootstrap : int
        Permutations over points for the correlation p-values and bootstrap resamples
        over points for all intervals; 0 leaves those variables out.
    level : float
        Confidence level of the intervals.
    random_state : int
        Seed; every statistic draws from its own child stream, so results do not depend
        on which others are computed.
    labels : (str, str)
        Names of ``a`` and ``b`` recorded in the attrs (used by
        :func:`neurogeom.plot.compare_fields`).

    Returns
    -------
    xarray.Dataset
        Per point (the slice's dims): ``compared`` (used in the statistics),
        ``log_volume_difference`` (b − a), and with ``tensors``
        ``affine_invariant_distance``, ``log_euclidean_distance``, ``direction_agreement``.
        Scalars: ``pearson_r``, ``spearman_r`` (with ``*_p_value``, ``*_ci_low``,
        ``*_ci_high``), ``*_mean`` of each per-point field with its interval, and
        ``n_compared``. Points where either log-volume or metric is not finite, or an
        estimator flag (``outside``, ``sparse``, ``indefinite``) is set, are left out
        (NaN per-point values, ``compared`` False). Attrs: ``neurogeom_version``,
        ``config`` (JSON of every parameter), ``label_a``, ``label_b``.

    Examples
    --------
    >>> import numpy as np, torch, neurogeom as ng
    >>> grid = ng.Grid([(-1, 1), (-1, 1)], resolution=6)
    >>> rm = ng.TorchResponseMap(torch.tanh, dtype=torch.float64)
    >>> scaled = ng.TorchResponseMap(lambda x: 3 * torch.tanh(x), dtype=torch.float64)
    >>> res = ng.compare(ng.geometry(rm, grid), ng.geometry(scaled, grid), n_bootstrap=0)
    >>> d = float(res.affine_invariant_distance_mean)   # g vs 9 g: sqrt(2) * log 9
    >>> round(float(res.pearson_r), 12), bool(np.isclose(d, np.sqrt(2) * np.log(9)))
    (1.0, True)
    """
    _check_counts(n_permutations, n_bootstrap, level)
    a, b = select_layer(a, layer_a, "a"), select_layer(b, layer_b, "b")
    dims = check_same_points(a, b)
    if tensors:
        for ds, which in ((a, "a"), (b, "b")):
            if "metric" not in ds:
                raise VariableError(
                    f"Dataset {which} has no 'metric'; measure with "
                    "ng.geometry(..., keep_metric=True), or pass tensors=False."
                )
    used = _usable(a, dims, tensors) & _usable(b, dims, tensors)
    if used.sum() < 3:
        raise ParameterError(f"only {int(used.sum())} points are usable in both Datasets; need 3.")
    rngs = np.random.default_rng(random_state).spawn(6)
    lv = [ds["log_volume_element"].transpose(*dims).values.reshape(-1)[used] for ds in (a, b)]
    fields = {"log_volume_difference": lv[1] - lv[0]}
    if tensors:
        g = [ds["metric"].transpose(*dims, ...).values for ds in (a, b)]
        g = [x.reshape(-1, *x.shape[-2:])[used] for x in g]
        fields["affine_invariant_distance"] = affine_invariant_distance(*g, regularize=regularize)
        fields["log_euclidean_distance"] = log_euclidean_distance(*g, regularize=regularize)
        if g[0].shape[-1] > 1:
            fields["direction_agreement"] = principal_agreement(*g, n_directions=n_directions)
    scalars: dict[str, float] = {"n_compared": float(used.sum())}
    for method, rng in zip(("pearson", "spearman"), rngs[:2]):
        res = correlation_test(
            lv[0],
            lv[1],
            method=method,  # type: ignore[arg-type]
            n_permutations=n_permutations,
            n_bootstrap=n_bootstrap,
            level=level,
            random_state=rng,
        )
        scalars[f"{method}_r"] = res.r
        if n_permutations:
            scalars[f"{method}_p_value"] = res.p_value
        if n_bootstrap:
            scalars[f"{method}_r_ci_low"], scalars[f"{method}_r_ci_high"] = res.ci_low, res.ci_high
    for (name, values), rng in zip(fields.items(), rngs[2:]):
        finite = values[np.isfinite(values)]
        scalars[f"{name}_mean"] = float(finite.mean()) if finite.size else float("nan")
        if n_bootstrap:
            low, high = _bootstrap_mean(finite, n_bootstrap, level, rng)
            scalars[f"{name}_mean_ci_low"], scalars[f"{name}_mean_ci_high"] = low, high
    config = {
        "layer_a": layer_a,
        "layer_b": layer_b,
        "tensors": tensors,
        "regularize": regularize,
        "n_directions": n_directions,
        "n_permutations": n_permutations,
        "n_bootstrap": n_bootstrap,
        "level": level,
        "random_state": random_state,
        "space": a.attrs.get("space"),
    }
    template = a["log_volume_element"].transpose(*dims)
    per_point = {name: _unmask(values, used, template.shape) for name, values in fields.items()}
    per_point["compared"] = used.reshape(template.shape)
    extra = {name: {"regularize": str(regularize)} for name in _DISTANCES if name in per_point}
    return _result(template, per_point, scalars, config, labels, extra)


_DISTANCES = ("affine_invariant_distance", "log_euclidean_distance")


def _unmask(values: np.ndarray, used: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    out = np.full(used.shape, np.nan)
    out[used] = values
    return out.reshape(shape)


def _result(
    template: xr.DataArray,
    per_point: Mapping[str, np.ndarray],
    scalars: Mapping[str, float],
    config: Mapping[str, Any],
    labels: tuple[str, str],
    extra: Mapping[str, Mapping[str, Any]],
) -> xr.Dataset:
    """Labelled comparison Dataset on the points of ``template`` (dataset.py conventions)."""
    coords = {
        str(name): c
        for name, c in template.coords.items()
        if set(c.dims) <= set(template.dims) and name != "layer"
    }
    data_vars: dict[str, Any] = {
        name: (template.dims, value, variable_attrs(name, extra.get(name)))
        for name, value in per_point.items()
    }
    for name, value in scalars.items():
        data_vars[name] = ((), value, variable_attrs(name, None))
    ds = xr.Dataset(data_vars, coords=coords)
    ds["n_compared"] = ds["n_compared"].astype(np.int64)
    return stamp_provenance(ds, config, label_a=str(labels[0]), label_b=str(labels[1]))
