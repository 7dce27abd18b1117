"""Shared base class of Jacobian estimators for sampled responses, and the registry by name."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._arrays import as_array, check_finite
from ..errors import InputTypeError, NotFittedError, ParameterError, ShapeError

__all__ = [
    "JacobianEstimator",
    "available_estimators",
    "get_estimator",
    "register_estimator",
]

_REGISTRY: dict[str, tuple[type[JacobianEstimator], dict[str, Any]]] = {}


def register_estimator(name: str, **defaults: Any) -> Any:
    """Class decorator registering an estimator under ``name`` (with default parameters)."""

    def wrap(cls: type[JacobianEstimator]) -> type[JacobianEstimator]:
        _REGISTRY[name] = (cls, defaults)
        return cls

    return wrap


def available_estimators() -> tuple[str, ...]:
    """Names accepted by :func:`get_estimator`, sorted.

    Examples
    --------
    >>> "local_linear" in available_estimators()
    True
    """
    return tuple(sorted(_REGISTRY))


def get_estimator(name: str | JacobianEstimator, **params: Any) -> JacobianEstimator:
    """An unfitted estimator by registry name (or a clone of an estimator object).

    Parameters
    ----------
    name : str or JacobianEstimator
        One of :func:`available_estimators`, e.g. ``"local_linear"``.
    **params
        Constructor parameters overriding the registered defaults.

    Examples
    --------
    >>> est = get_estimator("local_quadratic", bandwidth=0.3)
    >>> est.degree, est.bandwidth
    (2, 0.3)
    """
    if isinstance(name, JacobianEstimator):
        return clone(name).set_params(**params) if params else clone(name)
    if name not in _REGISTRY:
        raise ParameterError(
            f"unknown estimator {name!r}; choose one of {available_estimators()} "
            "or pass an estimator object."
        )
    cls, defaults = _REGISTRY[name]
    _check_params(cls, params, f"estimator {name!r} ({cls.__name__})")
    return cls(**{**defaults, **params})


def _check_params(cls: type[BaseEstimator], params: dict[str, Any], what: str) -> None:
    """Refuse keyword arguments that are not parameters of ``cls``, listing the valid ones."""
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if "period" in unknown:
        raise ParameterError(
            f"{what} does not take period=: it has no notion of a periodic stimulus "
            "dimension. Use an estimator that does (local_linear, local_quadratic, "
            "local_cubic, local_quartic, gaussian_process, grid_differences), or sample an "
            "interval of the dimension that stays away from the wrap."
        )
    if unknown:
        raise ParameterError(
            f"{what} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are {', '.join(valid)}. Check the spelling."
        )


def _checked_init(cls: type[BaseEstimator], init: Callable[..., None]) -> Callable[..., None]:
    """``init`` that refuses unknown or extra arguments with a ParameterError."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as err:
            _check_params(cls, kwargs, type(self).__name__)
            raise ParameterError(
                f"{type(self).__name__}(...): {err}; pass its parameters "
                f"({', '.join(cls._get_param_names())}) by keyword."
            ) from None
        init(self, *args, **kwargs)

    return __init__


def as_2d(x: Any, name: str, d: int | None = None) -> np.ndarray:
    """Validate a finite float64 2-D array (a 1-D array becomes one column)."""
    arr = np.asarray(as_array(x, name), dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ShapeError(f"{name} has shape {arr.shape}; expected a 2-D array (rows = samples).")
    if d is not None and arr.shape[1] != d:
        raise ShapeError(
            f"{name} has {arr.shape[1]} stimulus dimensions; the estimator was fitted on {d}."
        )
    check_finite(arr, name, hint="Drop those samples (or query points) first.")
    return arr


def per_dimension(value: Any, name: str, d: int) -> np.ndarray:
    """A positive width per stimulus dimension, ``(d,)`` float64, from a scalar or ``(d,)``.

    Examples
    --------
    >>> per_dimension(0.5, "bandwidth", 2)
    array([0.5, 0.5])
    """
    arr = np.asarray(as_array(value, name), dtype=np.float64)
    if arr.shape not in ((), (d,)):
        raise ShapeError(
            f"{name}={value!r} has shape {arr.shape}; expected a number or one per stimulus "
            f"dimension ({d},)."
        )
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise ParameterError(f"{name}={value!r}; expected finite positive widths.")
    return np.broadcast_to(arr, (d,)).copy()


class JacobianEstimator(BaseEstimator):
    """Base of derivative estimators: ``fit(X, R)`` then Jacobians at query points.

    ``X`` is ``(M, d)`` stimuli, ``R`` is ``(M, n)`` responses (one row per sample, e.g. a
    trial average). ``__init__`` stores parameters only; :meth:`fit` validates, learns and
    returns ``self``; learned state ends in ``_``.

    Linear estimators (``linear = True``) produce ``Ĵ(x) = (C(x) R)ᵀ`` with weights
    ``C(x)`` of shape ``(d, M)`` that do not depend on ``R`` (hyperparameters held fixed):
    :meth:`linear_weights` returns them and :meth:`noise_propagation` the matrix
    ``S = Σₖ cₖ cₖᵀ vₖ`` by which row noise of variance ``vₖ`` inflates ``E[ĴᵀĴ]``.
    """

    #: Whether Ĵ is a fixed linear combination of the response rows.
    linear: ClassVar[bool] = True
    #: Whether :meth:`fit` accepts ``sample_weight`` (integer multiplicities for bootstraps).
    supports_sample_weight: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every estimator's constructor refuses unknown parameters with a ParameterError."""
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            type.__setattr__(cls, "__init__", _checked_init(cls, cls.__dict__["__init__"]))

    def set_params(self, **params: Any) -> JacobianEstimator:
        """Set parameters (scikit-learn's rule), refusing unknown names with a ParameterError."""
        shallow = {k: v for k, v in params.items() if "__" not in k}
        _check_params(type(self), shallow, type(self).__name__)
        super().set_params(**params)
        return self

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X: Any, R: Any, sample_weight: Any = None) -> JacobianEstimator:
        """Validate the samples and learn what the estimator needs.

        Parameters
        ----------
        X : array, shape (M, d)
            Stimuli.
        R : array, shape (M, n)
            Responses, one row per stimulus row.
        sample_weight : array, shape (M,), optional
            Non-negative weights (multiplicities); only where ``supports_sample_weight``.

        Returns
        -------
        self
        """
        Xa = as_2d(X, "stimuli X")
        Ra = as_2d(R, "responses R")
        if Ra.shape[0] != Xa.shape[0]:
            raise ShapeError(
                f"X has {Xa.shape[0]} rows but R has {Ra.shape[0]}; give one response row "
                "per stimulus row."
            )
        w = None
        if sample_weight is not None:
            if not self.supports_sample_weight:
                raise InputTypeError(f"{type(self).__name__} does not accept sample_weight.")
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != (Xa.shape[0],) or (w < 0).any() or not np.isfinite(w).all():
                raise ShapeError(
                    f"sample_weight must be ({Xa.shape[0]},) finite and >= 0; got {w.shape}."
                )
        self._fit(Xa, Ra, w)
        self.n_features_in_ = Xa.shape[1]
        self.n_outputs_ = Ra.shape[1]
        self.responses_ = Ra
        return self

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        raise NotImplementedError

    def _query(self, Xq: Any) -> np.ndarray:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, R) before "
                "asking for estimates."
            )
        return as_2d(Xq, "query points", self.n_features_in_)

    # -- estimates -----------------------------------------------------------------------
    def jacobian(self, Xq: Any) -> np.ndarray:
        """Estimated Jacobians at query points, shape ``(m, n, d)``."""
        return apply_weights(self.linear_weights(Xq), self.responses_)

    def linear_weights(self, Xq: Any) -> np.ndarray:
        """Weights ``C`` with ``Ĵ[q] = (C[q] @ R)ᵀ``, shape ``(m, d, M)``."""
        raise InputTypeError(
            f"{type(self).__name__} is not a linear smoother; it has no fixed weights "
            "(use correction='crossfit' rather than 'analytic')."
        )

    def smoother_weights(self, Xq: Any) -> tuple[np.ndarray | None, np.ndarray]:
        """Weights of the mean ``(m, M)`` (None if not a by-product) and of the Jacobian.

        Linear smoothers that get both from one solve (local polynomials) return both;
        the default returns ``(None, linear_weights(Xq))``.
        """
        return None, self.linear_weights(Xq)

    def jet_weights(self, Xq: Any) -> tuple[np.ndarray, np.ndarray]:
        """Weights of the Jacobian ``(m, d, M)`` and of the Hessian ``(m, d, d, M)``.

        Linear smoothers that estimate second derivatives (local fits of degree >= 2) override
        this; ``Ĥ[q, :, a, b] = C2[q, a, b] @ R``. The default refuses.
        """
        raise InputTypeError(
            f"{type(self).__name__} does not estimate second derivatives, which curvature "
            "needs; use estimator='local_quadratic'."
        )

    def noise_propagation(self, Xq: Any, variances: Any = None) -> np.ndarray:
        """Noise-propagation matrices ``S = Σₖ cₖ cₖᵀ vₖ``, shape ``(m, d, d)``.

        ``E[ĴᵀĴ] = J_hᵀJ_h + S`` when row ``k``'s noise has total variance ``vₖ``
        (trace of its covariance). ``variances``: None (all 1), shape (M,) or (m, M).
        """
        C = self.linear_weights(Xq)
        return propagate(C, variances)

    def effective_samples(self, Xq: Any) -> np.ndarray | None:
        """Kish effective number of samples under the kernel at each query (None if n/a)."""
        return None

    #: Smallest effective sample count an estimate needs (number of local coefficients).
    def n_coefficients(self) -> int:
        return 1

    def frozen(self) -> JacobianEstimator:
        """An unfitted copy whose data-chosen hyperparameters are fixed at the fitted ones."""
        return clone(self)

    def predict(self, Xq: Any) -> np.ndarray:
        """Estimated mean responses at query points, shape ``(m, n)``."""
        raise InputTypeError(f"{type(self).__name__} does not estimate mean responses.")


def propagate(C: np.ndarray, variances: Any = None) -> np.ndarray:
    """``Σₖ C[:, :, k] C[:, :, k]ᵀ vₖ`` for weights ``C`` (m, d, M); ``v`` None, (M,) or (m, M)."""
    if variances is None:
        return np.einsum("qaM,qbM->qab", C, C)
    v = np.asarray(variances, dtype=np.float64)
    if v.ndim == 1:
        return np.einsum("qaM,M,qbM->qab", C, v, C)
    return np.einsum("qaM,qM,qbM->qab", C, v, C)


def apply_weights(C: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Jacobians ``(m, n, d)`` from weights ``C`` (m, d, M) and responses ``R`` (M, n)."""
    m, d, M = C.shape
    if m == 0:
        return np.zeros((0, R.shape[1], d))
    return (C.reshape(m * d, M) @ R).reshape(m, d, -1).transpose(0, 2, 1)
