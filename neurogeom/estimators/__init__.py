"""Derivative-estimator plugins for sampled responses (one module per family).

Every estimator follows scikit-learn conventions (``fit(X, R)`` returns self, learned
state ends in ``_``) and returns Jacobians ``(m, n, d)`` at query points; linear ones also
give their weights and noise-propagation matrix. Look them up by name with
:func:`get_estimator`.
"""

from .base import JacobianEstimator, available_estimators, get_estimator, register_estimator
from .differences import GridDifferences, StencilDifferences
from .gaussian_process import GaussianProcess
from .local_polynomial import LocalPolynomial
from .splines import GridSpline2D, SmoothingSpline

__all__ = [
    "GaussianProcess",
    "GridDifferences",
    "GridSpline2D",
    "JacobianEstimator",
    "LocalPolynomial",
    "SmoothingSpline",
    "StencilDifferences",
    "available_estimators",
    "get_estimator",
    "register_estimator",
]
