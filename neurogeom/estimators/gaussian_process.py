"""Gaussian-process regression (ARD RBF + white noise) with the posterior-mean gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    Hyperparameter,
    Kernel,
    NormalizedKernelMixin,
    StationaryKernelMixin,
    WhiteKernel,
)

from ._periodic import check_span, periods
from .base import JacobianEstimator, per_dimension, register_estimator

__all__ = ["GaussianProcess"]


class _WrappedRBF(StationaryKernelMixin, NormalizedKernelMixin, Kernel):
    """ARD RBF kernel in which a periodic dimension's difference is its chord.

    ``k(x, y) = exp(−½ Σₐ Dₐ/ℓₐ²)`` with ``Dₐ = (xₐ − yₐ)²`` along an ordinary dimension and
    ``Dₐ = (Pₐ/π)² sin²(π(xₐ − yₐ)/Pₐ)`` along one of period ``Pₐ`` (the squared distance of
    the points ``(Pₐ/2π)(cos, sin)(2πxₐ/Pₐ)`` on a circle of circumference ``Pₐ``; equal to
    ``(xₐ − yₐ)²`` to second order). Per dimension this is scikit-learn's ExpSineSquared
    (its length scale is ``2πℓ/Pₐ``), combined with the ordinary ones in one ARD product.
    """

    def __init__(
        self, length_scale: Any = 1.0, length_scale_bounds: Any = (1e-5, 1e5), period: Any = ()
    ) -> None:
        self.length_scale = length_scale
        self.length_scale_bounds = length_scale_bounds
        self.period = period

    @property
    def hyperparameter_length_scale(self) -> Hyperparameter:
        n = int(np.size(self.length_scale))
        return Hyperparameter("length_scale", "numeric", self.length_scale_bounds, n)

    def squared_differences(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``Dₐ`` for every pair of rows, ``(len(X), len(Y), d)``."""
        diff = X[:, None, :] - Y[None, :, :]
        P = np.asarray(self.period, dtype=np.float64)
        per = np.isfinite(P)
        D = diff**2
        D[..., per] = (P[per] / np.pi * np.sin(np.pi * diff[..., per] / P[per])) ** 2
        return D

    def half_gradient(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``½ ∂Dₐ/∂xₐ`` for every pair of rows, ``(len(X), len(Y), d)``."""
        diff = X[:, None, :] - Y[None, :, :]
        P = np.asarray(self.period, dtype=np.float64)
        per = np.isfinite(P)
        out = diff.copy()
        out[..., per] = P[per] / (2 * np.pi) * np.sin(2 * np.pi * diff[..., per] / P[per])
        return out

    def __call__(self, X: Any, Y: Any = None, eval_gradient: bool = False) -> Any:
        X = np.atleast_2d(X)
        ls = np.broadcast_to(np.asarray(self.length_scale, dtype=np.float64), (X.shape[1],))
        if Y is not None and eval_gradient:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        D = self.squared_differences(X, X if Y is None else np.atleast_2d(Y)) / ls**2
        K = np.exp(-0.5 * D.sum(-1))
        if not eval_gradient:
            return K
        if self.hyperparameter_length_scale.fixed:
            return K, np.empty((len(X), len(X), 0))
        if np.size(self.length_scale) == 1:
            return K, (K * D.sum(-1))[..., None]
        return K, K[..., None] * D  # d/d log ℓₐ of exp(−½ Σ Dₐ/ℓₐ²)


@register_estimator("gaussian_process")
class GaussianProcess(JacobianEstimator):
    """GP regression shared by all neurons; Ĵ is the gradient of the posterior mean.

    Hyperparameters of ``c·RBF(ℓ₁..ℓ_d) + white`` are fitted by scikit-learn
    (``normalize_y=True``, one kernel for all neurons). With them fixed the posterior mean is
    ``μ(x*) = ȳ + k(x*, X) K⁻¹ (y − ȳ)``, so
    ``∂μ/∂x* = Σᵢ αᵢ ∂k(x*, xᵢ)/∂x*`` with ``∂k/∂x* = −k (x* − xᵢ)/ℓ²`` — linear in the
    responses, with weights ``C = ∂k K⁻¹ (I − 11ᵀ/M)``.

    Parameters
    ----------
    length_scale : float or array (d,)
        Initial (or, with ``optimize=False``, fixed) ARD length scales.
    noise_level : float
        Initial white-noise variance (in units of the normalised responses).
    kernel : sklearn kernel, optional
        A fitted ``ConstantKernel * RBF + WhiteKernel`` to use instead (see :meth:`frozen`).
    optimize : bool
        Fit hyperparameters by marginal likelihood.
    n_restarts_optimizer : int
    random_state : int
    period : float, sequence of float/None, or None
        Period of circular stimulus dimensions per dimension (``[np.pi, None]`` for grating
        orientation × contrast). Along a periodic dimension the kernel measures the chord
        ``(P/π)|sin(πΔ/P)|`` instead of ``|Δ|`` (scikit-learn's ExpSineSquared per dimension,
        in one ARD product with the ordinary dimensions), so the posterior mean is periodic
        and its gradient is continuous across the wrap. The samples must span the period.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 3, 40)[:, None]
    >>> gp = GaussianProcess().fit(X, np.sin(X))
    >>> bool(abs(gp.jacobian(np.array([[1.0]]))[0, 0, 0] - np.cos(1.0)) < 1e-3)
    True
    """

    def __init__(
        self,
        length_scale: Any = 1.0,
        noise_level: float = 0.1,
        kernel: Any = None,
        optimize: bool = True,
        n_restarts_optimizer: int = 0,
        random_state: int = 0,
        period: Any = None,
    ) -> None:
        self.period = period
        self.length_scale = length_scale
        self.noise_level = noise_level
        self.kernel = kernel
        self.optimize = optimize
        self.n_restarts_optimizer = n_restarts_optimizer
        self.random_state = random_state

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        d = X.shape[1]
        self.period_ = periods(self.period, d)
        check_span(X, self.period_)
        kernel = self.kernel
        if kernel is None:
            ls = per_dimension(self.length_scale, "length_scale", d)
            smooth = (
                RBF(length_scale=ls)
                if not np.isfinite(self.period_).any()
                else _WrappedRBF(length_scale=ls, period=tuple(self.period_))
            )
            kernel = ConstantKernel(1.0) * smooth + WhiteKernel(
                self.noise_level, noise_level_bounds=(1e-12, 1e3)
            )
        gpr = GaussianProcessRegressor(
            kernel=kernel,
            normalize_y=True,
            optimizer="fmin_l_bfgs_b" if self.optimize else None,
            n_restarts_optimizer=self.n_restarts_optimizer,
            random_state=self.random_state,
        )
        gpr.fit(X, R)
        self.kernel_ = gpr.kernel_
        self.gpr_ = gpr
        smooth = self.kernel_.k1
        self.length_scales_ = np.broadcast_to(
            np.asarray(smooth.k2.length_scale, dtype=np.float64), (d,)
        ).copy()
        K = self.kernel_(X) + gpr.alpha * np.eye(len(X))
        Kinv = cho_solve(cho_factor(K, lower=True), np.eye(len(X)))
        self.X_ = X
        self.centered_inverse_ = Kinv - Kinv.sum(1, keepdims=True) / len(X)

    def linear_weights(self, Xq: Any) -> np.ndarray:
        """Weights ``C`` (m, d, M) of the posterior-mean gradient."""
        Xq = self._query(Xq)
        k = self.kernel_.k1(Xq, self.X_)  # (m, M), noise-free covariance
        smooth = self.kernel_.k1.k2
        if isinstance(smooth, _WrappedRBF):  # ½ ∂D/∂x*: the wrapped difference's sine
            diff = smooth.half_gradient(Xq, self.X_)
        else:
            diff = Xq[:, None, :] - self.X_[None]
        dk = -k[:, :, None] * diff / self.length_scales_**2
        return np.einsum("qMa,MN->qaN", dk, self.centered_inverse_)

    def predict(self, Xq: Any) -> np.ndarray:
        """Posterior mean responses, shape ``(m, n)``."""
        return np.asarray(self.gpr_.predict(self._query(Xq)))

    def frozen(self) -> GaussianProcess:
        """Unfitted copy with the fitted kernel and no further optimisation."""
        est = super().frozen()
        est.set_params(kernel=self.kernel_, optimize=False)
        assert isinstance(est, GaussianProcess)
        return est
