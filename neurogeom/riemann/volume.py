"""Volume elements and spectra of metrics, computed in log space."""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np
import torch

from .._arrays import check_finite, like, to_tensor
from ..errors import (
    NotPositiveSemidefiniteError,
    ParameterError,
    RangeError,
    ShapeError,
    SingularMetricError,
)
from .metric import check_scale


def _as_metric(g: Any) -> torch.Tensor:
    """Validate a batch of square matrices and return it as a float64 tensor."""
    t = to_tensor(g)
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise ShapeError(
            f"metric has shape {tuple(t.shape)}; expected (..., d, d) square matrices."
        )
    check_finite(t, "metric")
    return t.to(torch.float64)


def spectrum_tolerance(
    eigenvalues: Any,
    *,
    dtype: torch.dtype = torch.float64,
    jacobian_rows: int | None = None,
) -> Any:
    r"""The numerical-zero rule: the eigenvalue magnitude below which a metric's is zero.

    One rule for every path of the package (``ng.geometry``, the transformers,
    :func:`log_volume_element`, curvature). For a metric whose entries are known to the
    precision of ``dtype`` (eigenvalues from a float64 eigensolver),
    :math:`\tau = 10\,k\,\varepsilon\,\lambda_{\max}` with ``k`` the metric's dimension
    and :math:`\varepsilon` the machine epsilon of ``dtype`` (at least float64's). For a
    metric formed as :math:`J^\top J` from a Jacobian with ``n = jacobian_rows`` rows
    computed in ``dtype``, whose singular values are resolved only down to
    :math:`\max(n, k)\,\varepsilon\,\sigma_{\max}`,
    :math:`\tau = \lambda_{\max} \max(10\,k\,\varepsilon_{64}, (\max(n, k)\,\varepsilon)^2)`.

    Parameters
    ----------
    eigenvalues : array, shape (..., k)
        Eigenvalues of a batch of metrics (any order).
    dtype : torch.dtype
        Precision of the data the eigenvalues come from (integer and boolean data are
        exact, and count as float64).
    jacobian_rows : int, optional
        ``n`` when the metric is a Gram matrix ``JᵀJ`` of an ``n × k`` Jacobian.

    Returns
    -------
    array, shape (...)
        Float64, numpy or torch like ``eigenvalues``.

    Examples
    --------
    >>> import numpy as np
    >>> float(spectrum_tolerance(np.array([[1.0, 0.5]]))[0])  # 10 * 2 * eps64
    4.440892098500626e-15
    """
    eig = to_tensor(eigenvalues).to(torch.float64)
    return like(_tolerance(eig, dtype, jacobian_rows), eigenvalues)


#: The numerical-zero rule's factor: an eigenvalue is zero at or below
#: ``ZERO_FACTOR · k · ε · λ_max`` (see :func:`spectrum_tolerance`).
ZERO_FACTOR = 10.0


def relative_zero(k: int, dtype: torch.dtype = torch.float64) -> float:
    """``ZERO_FACTOR · k · ε``: the numerical-zero threshold relative to ``λ_max``.

    ``ε`` is the machine epsilon of ``dtype``, at least float64's (integer and boolean
    data are exact, taken as float64).

    Examples
    --------
    >>> relative_zero(2)
    4.440892098500626e-15
    """
    return ZERO_FACTOR * k * _eps(dtype)


def _eps(dtype: torch.dtype) -> float:
    eps64 = torch.finfo(torch.float64).eps
    return max(torch.finfo(dtype).eps, eps64) if dtype.is_floating_point else eps64


def _tolerance(eig: torch.Tensor, dtype: torch.dtype, rows: int | None = None) -> torch.Tensor:
    k = eig.shape[-1]
    scale = eig.abs().amax(dim=-1).clamp_min(torch.finfo(torch.float64).tiny)
    if rows is None:
        return relative_zero(k, dtype) * scale
    return scale * max(relative_zero(k), (max(rows, k) * _eps(dtype)) ** 2)


def metric_tolerance(g: torch.Tensor, eig: torch.Tensor) -> torch.Tensor:
    """:func:`spectrum_tolerance` of metrics ``g`` (known to ``g.dtype``) with eigenvalues ``eig``.

    The tensor form of the numerical-zero rule, for callers that hold the metrics and their
    eigenvalues as tensors already (curvature's singular points).

    Parameters
    ----------
    g : Tensor, shape (..., k, k)
        Metrics; only their dtype is read.
    eig : Tensor, shape (..., k)
        Their eigenvalues (any order).

    Returns
    -------
    Tensor, shape (...)
        The magnitude at or below which an eigenvalue counts as zero.

    Examples
    --------
    >>> float(metric_tolerance(torch.eye(2, dtype=torch.float64), torch.tensor([1.0, 1.0])))
    4.440892098500626e-15
    """
    return _tolerance(eig, g.dtype)


def _first_bad(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in torch.nonzero(mask)[0])


def metric_spectrum(g: Any, *, check: bool = True) -> Any:
    """Eigenvalues of symmetric positive semidefinite metrics, in descending order.

    Parameters
    ----------
    g : array, shape (..., d, d)
        Metrics.
    check : bool
        Verify that every ``g`` is symmetric positive semidefinite (see :func:`check_metric`).

    Returns
    -------
    array, shape (..., d)
        Eigenvalues, largest first, float64, numpy or torch like ``g``.

    Examples
    --------
    >>> import numpy as np
    >>> metric_spectrum(np.diag([1.0, 4.0])[None])
    array([[4., 1.]])
    """
    t = _as_metric(g)
    eig = _spectrum(t, check=check)
    return like(eig, g)


def _spectrum(t: torch.Tensor, *, check: bool) -> torch.Tensor:
    if check:
        check_symmetric(t)
    eig = torch.linalg.eigvalsh(t).flip(-1)  # reads the lower triangle
    if check:
        check_positive_semidefinite(t, eig)
    return eig


def check_symmetric(t: torch.Tensor) -> None:
    """Raise unless every matrix of ``t`` equals its transpose to ``√ε`` of its largest entry.

    ``ε`` is the machine epsilon of ``t.dtype``; :func:`check_metric` runs this on float64.

    Parameters
    ----------
    t : Tensor, shape (..., k, k)
        Floating-point matrices.

    Raises
    ------
    NotPositiveSemidefiniteError
        A matrix is not symmetric (the message names its batch index).

    Examples
    --------
    >>> check_symmetric(torch.eye(2)[None])
    >>> check_symmetric(torch.tensor([[[1.0, 1.0], [0.0, 1.0]]]))
    Traceback (most recent call last):
    ...
    neurogeom.errors.NotPositiveSemidefiniteError: metric at batch index (0,) is not symmetric; ...
    """
    scale = t.abs().amax(dim=(-2, -1), keepdim=True)
    asym = (t - t.mT).abs() > math.sqrt(torch.finfo(t.dtype).eps) * scale
    if bool(asym.any()):
        idx = _first_bad(asym.any(dim=-1).any(dim=-1)) if t.ndim > 2 else ()
        raise NotPositiveSemidefiniteError(
            f"metric at batch index {idx} is not symmetric; a metric must equal its "
            "transpose (symmetrise with 0.5 * (g + g.T) if the asymmetry is rounding)."
        )


def check_positive_semidefinite(t: torch.Tensor, eig: torch.Tensor) -> None:
    """Raise if a metric of ``t`` has an eigenvalue below minus :func:`metric_tolerance`.

    Parameters
    ----------
    t : Tensor, shape (..., k, k)
        Metrics (their dtype sets the tolerance).
    eig : Tensor, shape (..., k)
        Their eigenvalues, largest first.

    Raises
    ------
    NotPositiveSemidefiniteError
        A metric is indefinite (the message names its batch index).

    Examples
    --------
    >>> g = torch.diag(torch.tensor([1.0, -1.0]))[None]
    >>> check_positive_semidefinite(g, torch.tensor([[1.0, -1.0]]))
    Traceback (most recent call last):
    ...
    neurogeom.errors.NotPositiveSemidefiniteError: metric at batch index (0,) has a negative ...
    """
    tol = metric_tolerance(t, eig)
    bad = eig[..., -1] < -tol
    if bool(bad.any()):
        idx = _first_bad(bad) if bad.ndim else ()
        raise NotPositiveSemidefiniteError(
            f"metric at batch index {idx} has a negative eigenvalue "
            f"{float(eig[..., -1][idx]):.3g} (largest {float(eig[..., 0][idx]):.3g}); "
            "a metric must be positive semidefinite (check how it was formed; a Gram "
            "matrix JᵀJ never is indefinite)."
        )


def jacobian_spectrum(jacobian: Any, *, scale: str = "none") -> Any:
    r"""Eigenvalues of :math:`J^\top J` from the smaller of :math:`J^\top J` and :math:`J J^\top`.

    The two Gram matrices share their nonzero eigenvalues, so for a layer narrower than
    the stimulus (``n < d``, e.g. 512 features of a 3072-pixel image) this never forms the
    ``d × d`` metric. The Gram product is taken in float64.

    Parameters
    ----------
    jacobian : array, shape (..., n, d)
    scale : {"none", "width"}
        ``"width"`` divides by ``n``, as :func:`~neurogeom.pullback_metric` does.

    See :func:`spectrum_tolerance` (with ``jacobian_rows=n`` and the Jacobian's dtype) for
    which of these eigenvalues are numerically zero.

    Returns
    -------
    array, shape (..., min(n, d))
        The largest ``min(n, d)`` eigenvalues of the metric, largest first; the other
        ``d - min(n, d)`` are exactly zero.

    Examples
    --------
    >>> import numpy as np
    >>> J = np.array([[[3.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]])   # n = 2 < d = 4
    >>> jacobian_spectrum(J)
    array([[9., 1.]])
    """
    check_scale(scale)
    J = to_tensor(jacobian)
    if J.ndim < 2:
        raise ShapeError(f"jacobian has shape {tuple(J.shape)}; expected (..., n, d).")
    check_finite(J, "jacobian")
    J64 = J.to(torch.float64)
    n, d = J.shape[-2:]
    gram = J64 @ J64.mT if n < d else J64.mT @ J64
    eig = torch.linalg.eigvalsh(gram).flip(-1).clamp_min(0.0)  # a Gram is PSD: drop rounding
    return like(eig / n if scale == "width" else eig, jacobian)


def check_metric(g: Any) -> None:
    """Raise unless every ``g`` is a finite, symmetric, positive semidefinite matrix.

    Parameters
    ----------
    g : array, shape (..., d, d)
        Matrices to check.

    Raises
    ------
    ShapeError
        If ``g`` is not a batch of square matrices.
    NonFiniteError
        If ``g`` holds NaN or infinite values.
    NotPositiveSemidefiniteError
        If a matrix is not symmetric, or has an eigenvalue below ``-10 d eps lambda_max``.

    Examples
    --------
    >>> import numpy as np
    >>> check_metric(np.eye(2)[None])
    >>> check_metric(np.diag([1.0, -1.0])[None])
    Traceback (most recent call last):
    ...
    neurogeom.errors.NotPositiveSemidefiniteError: metric at batch index (0,) has a negative ...
    """
    _spectrum(_as_metric(g), check=True)


@overload
def log_volume_element(
    g: Any, rank: int | Literal["auto"] | None = ..., *, return_rank: Literal[False] = ...
) -> Any: ...
@overload
def log_volume_element(
    g: Any, rank: int | Literal["auto"] | None = ..., *, return_rank: Literal[True]
) -> tuple[Any, Any]: ...
def log_volume_element(
    g: Any, rank: int | Literal["auto"] | None = None, *, return_rank: bool = False
) -> Any:
    r"""Natural log of the volume element, :math:`\tfrac12 \log\det g`, per point.

    Computed from the eigenvalues of ``g`` in float64, so values far below the float64
    range of :math:`\sqrt{\det g}` itself (say :math:`-4000`) come out finite and exact.

    Parameters
    ----------
    g : array, shape (..., d, d)
        Symmetric positive semidefinite metrics.
    rank : int, "auto" or None
        ``None``: the full determinant; a singular metric raises
        :class:`~neurogeom.errors.SingularMetricError` rather than returning ``-inf``.
        ``k``: the top-``k`` pseudo-determinant, the product of the ``k`` largest
        eigenvalues (``k`` must not exceed the numerical rank).
        ``"auto"``: the pseudo-determinant over the numerical rank of each point.
    return_rank : bool
        Also return the rank used at each point.

    Returns
    -------
    log_volume : array, shape (...)
        :math:`\tfrac12 \sum_{i \le k} \log \lambda_i`.
    rank : array of int, shape (...)
        The number of eigenvalues used; only if ``return_rank``.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.diag([4.0, 9.0])[None]
    >>> np.exp(log_volume_element(g))
    array([6.])
    >>> W = np.array([[1.0, 2.0, 0.0]])          # 1 x 3 map: rank-1 metric W.T @ W
    >>> log_volume_element((W.T @ W)[None], rank=1, return_rank=True)
    (array([0.80471896]), array([1]))
    """
    check_rank(rank)
    t = _as_metric(g)
    eig = _spectrum(t, check=True)
    source = to_tensor(g).dtype
    logvol, used = _log_volume_from_spectrum(eig, rank, _tolerance(eig, source))
    out = like(logvol, g)
    return (out, like(used, g)) if return_rank else out


def log_volume_from_spectrum(
    eigenvalues: Any,
    rank: int | Literal["auto"] | None = None,
    *,
    d: int | None = None,
    tolerance: Any = None,
) -> tuple[Any, Any]:
    """Log volume element and rank used from descending metric eigenvalues.

    Parameters
    ----------
    eigenvalues : array, shape (..., d)
        Eigenvalues of metrics in descending order (as :func:`metric_spectrum` returns).
    rank : int, "auto" or None
        As in :func:`log_volume_element`.
    d : int, optional
        Dimension of the metric, for the numerical-zero tolerance; default ``eigenvalues``'
        last axis.
    tolerance : array, shape (...), optional
        Eigenvalues at or below it are numerically zero, and below ``-tolerance`` an error
        (see :func:`spectrum_tolerance`); default that rule for float64 ``d × d`` metrics.

    Returns
    -------
    log_volume : array, shape (...)
    rank : array of int, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> log_volume_from_spectrum(np.array([[4.0, 1.0]]))
    (array([0.69314718]), array([2]))
    """
    eig = to_tensor(eigenvalues).to(torch.float64)
    if eig.ndim < 1 or eig.shape[-1] < 1:
        raise ShapeError(
            f"eigenvalues has shape {tuple(eig.shape)}; expected (..., d) with d >= 1."
        )
    check_finite(eig, "eigenvalues")
    if tolerance is not None:
        tol = to_tensor(tolerance).to(torch.float64).expand(eig.shape[:-1])
    else:
        dim = eig.shape[-1] if d is None else d
        scale = eig.abs().amax(dim=-1).clamp_min(torch.finfo(eig.dtype).tiny)
        tol = 10.0 * dim * torch.finfo(eig.dtype).eps * scale
    negative = eig.amin(dim=-1) < -tol
    if bool(negative.any()):
        idx = _first_bad(negative) if negative.ndim else ()
        raise NotPositiveSemidefiniteError(
            f"eigenvalues at batch index {idx} include {float(eig[idx].min()):.3g} < 0; the "
            "spectrum of a metric is nonnegative. An estimated metric may be indefinite: "
            "report those points as such rather than taking a volume element."
        )
    logvol, used = _log_volume_from_spectrum(eig, rank, tol)
    return like(logvol, eigenvalues), like(used, eigenvalues)


def check_rank(rank: Any) -> int | str | None:
    """Validate a ``rank=`` setting: None, a positive int, or "auto".

    Examples
    --------
    >>> check_rank("auto")
    'auto'
    """
    if rank is None or rank == "auto":
        return rank
    if isinstance(rank, (int, np.integer)) and not isinstance(rank, bool) and rank >= 1:
        return int(rank)
    raise ParameterError(
        f"rank={rank!r}; expected None (the full determinant), a positive int k (the top-k "
        "pseudo-determinant) or 'auto' (the numerical rank at each point)."
    )


def _log_volume_from_spectrum(
    eig: torch.Tensor, rank: int | str | None, tol: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Half the log pseudo-determinant over the ``rank`` leading eigenvalues (descending).

    The rule for singular metrics, shared by every path: the ``k`` eigenvalues used must
    all be numerically nonzero (above ``tol``), else :class:`SingularMetricError`. With
    ``rank="auto"`` ``k`` is the numerical rank, which must be at least 1: a metric of
    rank 0 (a representation locally constant) has no volume element to report.
    """
    d = eig.shape[-1]
    rank = check_rank(rank)
    positive = eig > tol.unsqueeze(-1)
    numerical_rank = positive.sum(dim=-1)
    if rank == "auto":
        dead = numerical_rank == 0
        if bool(dead.any()):
            idx = _first_bad(dead) if dead.ndim else ()
            raise SingularMetricError(
                f"metric at batch index {idx} has numerical rank 0 (largest eigenvalue "
                f"{float(eig[idx].abs().max()):.3g}): the representation is locally constant "
                "there and has no volume element (log 0 = -inf). Drop such points, or "
                "measure where the responses change."
            )
        used = numerical_rank
    else:
        k = d if rank is None else int(rank)
        if k > d:
            raise ParameterError(f"rank={rank} exceeds the dimension {d} of the {d}x{d} metrics.")
        short = numerical_rank < k
        if bool(short.any()):
            idx = _first_bad(short) if short.ndim else ()
            have = int(numerical_rank[idx])
            if have == 0:
                raise SingularMetricError(
                    f"metric at batch index {idx} is zero (numerical rank 0 of {d}): the "
                    "representation is locally constant there and has no volume element at "
                    "any rank. Drop such points, or measure where the responses change."
                )
            hint = "pass rank=k to use the top-k pseudo-determinant, or rank='auto'"
            raise SingularMetricError(
                f"metric at batch index {idx} has numerical rank {have} < {k} "
                f"(of dimension {d}); its log-determinant would be -inf. To measure the "
                f"volume on the {have}-dimensional subspace the representation resolves, {hint}."
            )
        used = torch.full_like(numerical_rank, k)
    keep = torch.arange(d, device=eig.device) < used.unsqueeze(-1)
    logs = torch.where(keep, torch.log(torch.where(keep, eig, 1.0)), 0.0)
    return 0.5 * logs.sum(dim=-1), used


def volume_element(g: Any, rank: int | Literal["auto"] | None = None) -> Any:
    r"""Volume element :math:`\sqrt{\det g}` (or the top-``rank`` pseudo-determinant's root).

    Prefer :func:`log_volume_element`: for wide layers the volume element is far below
    the smallest float64; this function raises instead of returning 0.

    Parameters
    ----------
    g : array, shape (..., d, d)
        Metrics.
    rank : int, "auto" or None
        As in :func:`log_volume_element`.

    Returns
    -------
    array, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> volume_element(np.diag([4.0, 9.0])[None])
    array([6.])
    """
    logvol = to_tensor(log_volume_element(to_tensor(g), rank))
    limit = math.log(torch.finfo(torch.float64).max)
    if bool((logvol.abs() > limit - 1).any()):
        raise RangeError(
            f"the volume element spans e^{float(logvol.min()):.0f}..e^{float(logvol.max()):.0f}, "
            "outside float64; use log_volume_element instead."
        )
    return like(torch.exp(logvol), g)
