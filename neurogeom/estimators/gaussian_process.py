"""Gaussian-process regression (ARD RBF + white noise) with the posterior-mean gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from .base import JacobianEstimator, per_dimension, register_estimator

__all__ = ["GaussianProcess"]


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
    ) -> None:
        self.length_scale = length_scale
        self.noise_level = noise_level
        self.kernel = kernel
        self.optimize = optimize
        self.n_restarts_optimizer = n_restarts_optimizer
        self.random_state = random_state

    def _fit(self, X: np.ndarray, R: np.ndarray, w: np.ndarray | None) -> None:
        d = X.shape[1]
        kernel = self.kernel
        if kernel is None:
            ls = per_dimension(self.length_scale, "length_scale", d)
            kernel = ConstantKernel(1.0) * RBF(length_scale=ls) + WhiteKernel(
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
        dk = -k[:, :, None] * (Xq[:, None, :] - self.X_[None]) / self.length_scales_**2
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
