"""Pullback metrics from Jacobians."""

from __future__ import annotations

from typing import Any, Literal

import torch

from .._arrays import check_finite, like, to_tensor
from ..errors import NotPositiveSemidefiniteError, ParameterError, ShapeError

Scale = Literal["none", "width"]
SCALES: tuple[str, ...] = ("none", "width")


def check_scale(scale: str) -> None:
    """Raise ``ValueError`` for an unknown metric scaling convention."""
    if not isinstance(scale, str) or scale not in SCALES:
        raise ParameterError(
            f"scale={scale!r} is not a known metric scaling; use one of {SCALES} "
            "('width' divides g by the number of response units, as the seed's code did)."
        )


def pullback_metric(
    jacobian: Any,
    *,
    noise_covariance: Any = None,
    scale: Scale = "none",
) -> Any:
    r"""Metric that a representation induces on stimulus space, :math:`g = J^\top \Sigma^{-1} J`.

    Parameters
    ----------
    jacobian : array, shape (..., n, d)
        Jacobians :math:`J = \partial r / \partial x` of ``n`` responses with respect to ``d``
        stimulus coordinates (or ``k`` slice tangents), one per leading index.
    noise_covariance : array, shape (n, n), optional
        Response noise covariance :math:`\Sigma`. When given, the result is the linear Fisher
        information :math:`J^\top \Sigma^{-1} J`; otherwise the plain pullback :math:`J^\top J`.
    scale : {"none", "width"}
        ``"width"`` divides the metric by ``n`` (the convention of the seed's code).

    Returns
    -------
    array, shape (..., d, d)
        Symmetric positive semidefinite metric, numpy or torch like ``jacobian``.

    Examples
    --------
    >>> import numpy as np
    >>> J = np.array([[[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]])
    >>> pullback_metric(J)[0]
    array([[1., 0.],
           [0., 4.]])
    >>> pullback_metric(J, scale="width")[0, 1, 1]
    np.float64(1.3333333333333333)
    """
    check_scale(scale)
    J = to_tensor(jacobian)
    if J.ndim < 2:
        raise ShapeError(f"jacobian has shape {tuple(J.shape)}; expected (..., n, d).")
    check_finite(J, "jacobian")
    if noise_covariance is not None:
        J = _whiten(J, to_tensor(noise_covariance, dtype=J.dtype, device=J.device))
    g = J.mT @ J  # symmetric up to rounding; spectra read one triangle only
    if scale == "width":
        g = g / J.shape[-2]
    return like(g, jacobian)


def _whiten(J: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """Return ``L⁻¹ J`` with ``L Lᵀ = cov``, so that ``(L⁻¹J)ᵀ(L⁻¹J) = Jᵀ cov⁻¹ J``."""
    n = J.shape[-2]
    if cov.shape != (n, n):
        raise ShapeError(
            f"noise_covariance has shape {tuple(cov.shape)}; expected ({n}, {n}) "
            f"to match the {n} responses of the Jacobian."
        )
    check_finite(cov, "noise_covariance")
    L, info = torch.linalg.cholesky_ex(0.5 * (cov + cov.mT))
    if int(info) != 0:
        raise NotPositiveSemidefiniteError(
            "noise_covariance is not positive definite; regularise it (e.g. Ledoit-Wolf "
            "shrinkage or adding a small multiple of the identity)."
        )
    return torch.linalg.solve_triangular(L, J, upper=False)
