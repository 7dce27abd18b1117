"""scikit-learn transformers that turn stimuli into geometry features.

:class:`NetworkGeometry` measures a torch network's geometry at the stimuli it transforms;
:class:`SampledGeometry` fits a :class:`~neurogeom.SampledResponseMap` to recorded
``(stimuli, responses)`` and measures the estimated geometry at query stimuli. Both
return one row of features per stimulus (log-volume, metric components, spectrum, per
layer), support ``get_feature_names_out`` and ``set_output(transform="pandas")``, and give
the full labelled result of :func:`neurogeom.geometry` with ``to_dataset``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import validate_data

from .errors import (
    DataFormatError,
    InputTypeError,
    NeurogeomError,
    NonFiniteError,
    NotFittedError,
    ParameterError,
    ShapeError,
)
from .maps.base import ResponseMap
from .measure import geometry
from .riemann.metric import check_scale
from .slices import Points

__all__ = ["FEATURES", "NetworkGeometry", "SampledGeometry"]

#: Features a transformer can return, per layer, in this order.
FEATURES = ("log_volume_element", "metric", "eigenvalues")
_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _check_features(features: Any) -> tuple[str, ...]:
    feats = (features,) if isinstance(features, str) else tuple(features)
    unknown = [f for f in feats if f not in FEATURES]
    if not feats or unknown or len(set(feats)) != len(feats):
        raise ParameterError(
            f"features={features!r}; choose distinct names among {FEATURES} (at least one)."
        )
    return feats


def _feature_names(features: tuple[str, ...], layers: Sequence[str], k: int) -> np.ndarray:
    names: list[str] = []
    for layer in layers:
        for feature in features:
            if feature == "log_volume_element":
                names.append(f"{layer}_log_volume_element")
            elif feature == "metric":
                names += [f"{layer}_metric_{i}_{j}" for i in range(k) for j in range(i, k)]
            else:
                names += [f"{layer}_eigenvalue_{i}" for i in range(k)]
    return np.asarray(names, dtype=object)


def _feature_matrix(ds: xr.Dataset, features: tuple[str, ...], k: int) -> np.ndarray:
    """``(m, n_features_out)`` from a Dataset over ``point`` (and maybe ``layer``)."""
    per_layer = "layer" in ds.dims
    cols: list[np.ndarray] = []
    layers = range(ds.sizes["layer"]) if per_layer else [None]
    iu = np.triu_indices(k)
    for index in layers:
        sub = ds.isel(layer=index) if index is not None else ds
        for feature in features:
            values = sub[feature].transpose("point", ...).values.astype(np.float64)
            if feature == "log_volume_element":
                cols.append(values[:, None])
            elif feature == "metric":
                cols.append(values[:, iu[0], iu[1]])
            else:
                cols.append(values)
    return np.concatenate(cols, axis=1)


def _values_of(y: Any) -> np.ndarray:
    """Numpy values of array-likes (DataArrays included), before validation."""
    return np.asarray(getattr(y, "values", y))


def _validated(estimator: BaseEstimator, *args: Any, **kwargs: Any) -> Any:
    """scikit-learn's ``validate_data`` with its refusals as NeurogeomErrors.

    The one place the transformers check their input. scikit-learn's wording is kept (its
    estimator checks match on it); each refusal becomes the NeurogeomError subclass of the
    builtin it refines: NaN or inf a :class:`NonFiniteError`, a wrong number of features,
    samples or axes a :class:`ShapeError`, complex or non-numeric data a
    :class:`DataFormatError` (a ``ValueError``, as scikit-learn requires), sparse input an
    :class:`InputTypeError`.
    """
    try:
        return validate_data(estimator, *args, **kwargs)
    except NeurogeomError:
        raise
    except ValueError as err:
        text = str(err)
        fix = _FIXES.get(_kind(text), "")
        raise _KINDS[_kind(text)](f"{text.rstrip('.')}. {fix}".rstrip()) from err
    except TypeError as err:
        raise InputTypeError(f"{err} Pass a dense array of real numbers.") from err


_KINDS: dict[str, type[NeurogeomError]] = {
    "nonfinite": NonFiniteError,
    "format": DataFormatError,
    "shape": ShapeError,
}
_FIXES = {
    "nonfinite": "Drop or replace the rows holding NaN or inf first.",
    "format": "Pass real numbers (float, int or bool); split complex data into real parts.",
    "shape": "Pass stimuli as rows of X, (n_samples, n_features), with as many features as "
    "at fit (and one row of y per row of X).",
}


def _kind(message: str) -> str:
    if re.search(r"\bnan\b|\binfinity\b", message, flags=re.IGNORECASE):
        return "nonfinite"
    if re.search(r"complex|convert|dtype", message, flags=re.IGNORECASE):
        return "format"
    return "shape"


def _check_fitted(estimator: BaseEstimator) -> None:
    """A :class:`NotFittedError` (also scikit-learn's) before ``fit`` was called."""
    if not hasattr(estimator, "response_map_"):
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet; call fit first (it checks "
            "the parameters and builds the response map it measures)."
        )


class _GeometryTransformer(TransformerMixin, BaseEstimator):
    """Shared transform / feature-name / to_dataset logic."""

    features: Any
    tangents: Any
    rank: Any
    scale: Any
    stimulus_shape: Any = None

    def _check_common(self, n_features: int) -> None:
        self.features_ = _check_features(self.features)
        check_scale(self.scale)
        if not (self.rank is None or self.rank == "auto" or isinstance(self.rank, int)):
            raise ParameterError(f"rank={self.rank!r}; use None, a positive int or 'auto'.")
        shape = (n_features,) if self.stimulus_shape is None else tuple(self.stimulus_shape)
        if math.prod(shape) != n_features:
            raise ShapeError(
                f"stimulus_shape={self.stimulus_shape!r} has {math.prod(shape)} entries but X "
                f"has {n_features} features; rows of X are flattened stimuli."
            )
        self.stimulus_shape_ = shape
        if self.tangents is None:
            self.tangents_ = None
            self.n_directions_ = n_features
        else:
            T = np.asarray(self.tangents, dtype=np.float64)
            T = T.reshape(len(T), -1) if T.ndim > 1 else T.reshape(1, -1)
            if T.shape[1] != n_features:
                raise ShapeError(
                    f"tangents have {T.shape[1]} entries per direction; X has {n_features}."
                )
            self.tangents_ = T.reshape(len(T), *shape)
            self.n_directions_ = len(T)

    def _points(self, X: Any) -> Points:
        pts = np.asarray(X, dtype=np.float64).reshape(len(X), *self.stimulus_shape_)
        return Points(pts, self.tangents_)

    def _measure(self, X: Any, **kwargs: Any) -> xr.Dataset:
        return geometry(
            self.response_map_,
            self._points(X),
            rank=self.rank,
            scale=self.scale,
            keep_metric="metric" in self.features_,
            **{"progress": False, **kwargs},
        )

    def transform(self, X: Any) -> np.ndarray:
        """Geometry features at each stimulus.

        Parameters
        ----------
        X : array, shape (m, n_features_in_)
            Stimuli, one (flattened) per row.

        Returns
        -------
        ndarray, shape (m, n_features_out)
            Per layer: the log-volume element, the metric's upper triangle (row by row)
            and its eigenvalues (largest first), as ``features`` asks; names from
            :meth:`get_feature_names_out`.
        """
        _check_fitted(self)
        X = _validated(self, X, reset=False, dtype=np.float64)
        return _feature_matrix(self._measure(X), self.features_, self.n_directions_)

    def to_dataset(self, X: Any, **kwargs: Any) -> xr.Dataset:
        """The full labelled result of :func:`neurogeom.geometry` at stimuli ``X``.

        Parameters
        ----------
        X : array, shape (m, n_features_in_)
        **kwargs
            Further arguments of :func:`~neurogeom.geometry` (e.g. ``classifier``).

        Returns
        -------
        xarray.Dataset
            Over dim ``point`` (and ``layer`` when several layers are measured).
        """
        _check_fitted(self)
        X = _validated(self, X, reset=False, dtype=np.float64)
        return self._measure(X, **kwargs)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the columns :meth:`transform` returns, e.g. ``hidden0_metric_0_1``."""
        _check_fitted(self)
        return _feature_names(self.features_, self.response_map_.layers, self.n_directions_)


class NetworkGeometry(_GeometryTransformer):
    """Geometry features of a torch network at the stimuli it transforms.

    Parameters
    ----------
    model : nn.Module or callable
        Takes a batch of stimuli ``(m, *stimulus_shape)``. Shared, never copied: cloning
        the transformer (``sklearn.base.clone``, as ``GridSearchCV`` does) reuses the same
        model object, and measuring never changes it.
    layers : str, sequence of str, or None
        As in :class:`~neurogeom.TorchResponseMap`; ``None`` measures the output.
    tangents : array, shape (k, n_features), optional
        Orthonormal directions: measure the metric induced on their span (``k × k``)
        instead of the full ``d × d`` metric.
    features : sequence of str
        Among :data:`FEATURES`: ``"log_volume_element"``, ``"metric"`` (upper triangle),
        ``"eigenvalues"``.
    rank : None, int or "auto"
        Pseudo-determinant rank of the log-volume (see :func:`~neurogeom.log_volume_element`).
    scale : {"none", "width"}
    dtype : {"float64", "float32"}
        Compute dtype of the Jacobians.
    stimulus_shape : tuple of int, optional
        Shape of one stimulus when rows of ``X`` are flattened images (e.g. ``(1, 28, 28)``).

    Attributes
    ----------
    response_map_ : TorchResponseMap
    n_features_in_ : int
    n_directions_ : int
        ``k`` (tangents) or ``d``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh())
    >>> pipe = make_pipeline(NetworkGeometry(net, layers="1", features=("log_volume_element",
    ...                      "eigenvalues")), StandardScaler())
    >>> pipe.fit_transform(np.random.default_rng(0).normal(size=(10, 2))).shape
    (10, 3)
    >>> pipe[0].get_feature_names_out().tolist()
    ['1_log_volume_element', '1_eigenvalue_0', '1_eigenvalue_1']
    """

    def __init__(
        self,
        model: Any = None,
        layers: str | Sequence[str] | None = None,
        tangents: Any = None,
        features: Sequence[str] = ("log_volume_element",),
        rank: int | Literal["auto"] | None = None,
        scale: str = "none",
        dtype: str = "float64",
        stimulus_shape: tuple[int, ...] | None = None,
    ) -> None:
        self.model = model
        self.layers = layers
        self.tangents = tangents
        self.features = features
        self.rank = rank
        self.scale = scale
        self.dtype = dtype
        self.stimulus_shape = stimulus_shape

    def fit(self, X: Any, y: Any = None) -> NetworkGeometry:
        """Validate the parameters and stimuli; wrap the model. Learns nothing from X.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        from .maps.torch import TorchResponseMap

        X = _validated(self, X, dtype=np.float64)
        if self.model is None or not callable(self.model):
            raise ParameterError(f"model={self.model!r}; pass an nn.Module or a callable.")
        if self.dtype not in _DTYPES:
            raise ParameterError(f"dtype={self.dtype!r}; use one of {sorted(_DTYPES)}.")
        self._check_common(X.shape[1])
        layers = list(self.layers) if isinstance(self.layers, (list, tuple)) else self.layers
        self.response_map_ = TorchResponseMap(self.model, layers, dtype=_DTYPES[self.dtype])
        return self

    def __sklearn_clone__(self) -> NetworkGeometry:
        """A clone with the same (shared, not copied) model and cloned other parameters."""
        params = self.get_params(deep=False)
        model = params.pop("model")
        return type(self)(model=model, **{k: clone(v, safe=False) for k, v in params.items()})

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.non_deterministic = False
        return tags


class SampledGeometry(_GeometryTransformer):
    """Geometry estimated from recorded responses, as a transformer and a scored model.

    ``fit(stimuli, responses)`` builds a :class:`~neurogeom.SampledResponseMap`;
    ``transform(queries)`` returns the estimated geometry features there; ``score(X, y)``
    is the negative mean squared error of the estimator's predicted mean responses at
    held-out stimuli, so ``GridSearchCV`` can choose the bandwidth by cross-validation.
    As in :func:`~neurogeom.geometry` on an estimated map, a query whose bias-corrected
    metric is not positive definite (possible with ``positive=False`` or cross-fitting; or
    one that ``on_invalid="flag"`` flags) gets NaN log-volume features; with the default ``on_invalid="raise"`` a query outside the
    sampled region raises.

    Parameters
    ----------
    estimator : str or JacobianEstimator
        As in :class:`~neurogeom.SampledResponseMap`.
    bandwidth : float, array, "cv", "gcv" or None
        Passed to the estimator as ``bandwidth`` (None: the estimator's default).
    estimator_params : dict, optional
        Further estimator parameters.
    noise, correction, domain, on_invalid, n_bootstrap, random_state, positive, layout
        As in :class:`~neurogeom.SampledResponseMap` (``layout`` names the axes of
        trial-level responses ``(m, T, n)`` / ``(m, n, T)`` where the data cannot).
    tangents, features, rank, scale, stimulus_shape
        As in :class:`NetworkGeometry`.

    Attributes
    ----------
    response_map_ : SampledResponseMap
    n_features_in_ : int
    n_outputs_ : int
        Number of neurons.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (300, 2))
    >>> R = np.c_[np.sin(2 * X[:, 0]), X[:, 1] ** 2] + 0.05 * rng.normal(size=(300, 2))
    >>> search = GridSearchCV(SampledGeometry(domain=None), {"bandwidth": [0.2, 0.5, 3.0]})
    >>> search.fit(X, R).best_params_
    {'bandwidth': 0.2}
    """

    def __init__(
        self,
        estimator: Any = "local_linear",
        bandwidth: Any = None,
        estimator_params: dict[str, Any] | None = None,
        noise: Any = None,
        correction: str | None = "analytic",
        domain: str | None = "hull",
        on_invalid: str = "raise",
        n_bootstrap: int = 0,
        random_state: int = 0,
        tangents: Any = None,
        features: Sequence[str] = ("log_volume_element",),
        rank: int | Literal["auto"] | None = None,
        scale: str = "none",
        stimulus_shape: tuple[int, ...] | None = None,
        positive: bool = True,
        layout: str | None = None,
    ) -> None:
        self.estimator = estimator
        self.bandwidth = bandwidth
        self.positive = positive
        self.layout = layout
        self.estimator_params = estimator_params
        self.noise = noise
        self.correction = correction
        self.domain = domain
        self.on_invalid = on_invalid
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.tangents = tangents
        self.features = features
        self.rank = rank
        self.scale = scale
        self.stimulus_shape = stimulus_shape

    def fit(self, X: Any, y: Any) -> SampledGeometry:
        """Fit the derivative estimator to stimuli and responses.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
            Stimuli, one per presentation.
        y : array, shape (n_samples,), (n_samples, n_neurons) or (n_samples, T, n_neurons)
            Responses per presentation: trial averages, or the trials themselves (then
            their spread is the noise estimate, as in :class:`~neurogeom.SampledResponseMap`).

        Returns
        -------
        self
        """
        from .maps.sampled import SampledResponseMap

        trial_level = getattr(y, "ndim", None) == 3
        if trial_level:  # (m, T, n): validated as rows, then given back their trials
            shape = tuple(y.shape)
            y = np.reshape(_values_of(y), (shape[0], -1))
        X, y = _validated(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        self._check_common(X.shape[1])
        R = y.reshape(shape) if trial_level else y.reshape(len(y), -1)
        self.n_outputs_ = R.shape[-1]
        params = dict(self.estimator_params or {})
        if self.bandwidth is not None:
            params["bandwidth"] = self.bandwidth
        self.response_map_: ResponseMap = SampledResponseMap(
            X.reshape(len(X), -1),
            R,
            self.estimator,
            noise=self.noise,
            correction=self.correction,  # type: ignore[arg-type]
            estimator_params=params,
            domain=self.domain,  # type: ignore[arg-type]
            on_invalid=self.on_invalid,  # type: ignore[arg-type]
            n_bootstrap=self.n_bootstrap,
            random_state=self.random_state,
            positive=self.positive,
            layout=self.layout,
        )
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Estimated mean responses at stimuli ``X``, ``(m, n_neurons)`` (or ``(m,)``).

        The estimator's regression, evaluated wherever it is defined (no domain check:
        held-out stimuli just outside the training hull are extrapolated).
        """
        _check_fitted(self)
        X = _validated(self, X, reset=False, dtype=np.float64)
        f = self.response_map_.estimator.predict(X)  # type: ignore[attr-defined]
        return np.asarray(f[:, 0] if self.n_outputs_ == 1 and f.ndim == 2 else f)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Negative mean squared error of :meth:`predict` against responses ``y``.

        Parameters
        ----------
        X : array, shape (m, n_features)
        y : array, shape (m,) or (m, n_neurons)
        sample_weight : array, shape (m,), optional

        Returns
        -------
        float
            Higher is better (as scikit-learn's model selection expects).
        """
        pred = self.predict(X).reshape(len(X), -1)
        target = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
        err = ((target - pred) ** 2).mean(axis=1)
        return -float(np.average(err, weights=sample_weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
