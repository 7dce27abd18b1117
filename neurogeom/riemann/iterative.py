r"""Iterative spectra and log-determinants of metrics too large to form.

For a representation with many inputs (an image has ``d = 3072``) the metric
:math:`g = J^\top J` is a large matrix per point, but the product :math:`v \mapsto J^\top (J v)`
costs only a Jacobian-vector product and a vector-Jacobian product. A
:class:`MetricOperator` wraps such a product for a batch of points; on it

* :func:`top_eigenvalues` runs Lanczos with full reorthogonalisation and returns the top of
  the spectrum with residual bounds;
* :func:`stochastic_logdet` estimates :math:`\log\det g` by stochastic Lanczos quadrature
  with Rademacher probes, with the standard error over probes;
* :func:`iterative_log_volume` gives the top-``k`` log pseudo-volume element from the
  Lanczos eigenvalues.

All arithmetic is float64 and batched over points (and probes). This module does not know
where products come from; :meth:`neurogeom.TorchResponseMap.metric_operator` builds one
for a network layer, :meth:`MetricOperator.from_dense` wraps formed metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from .._arrays import check_count, check_finite, to_tensor
from ..errors import ParameterError, ShapeError, SingularMetricError
from .volume import log_volume_from_spectrum

__all__ = [
    "LogDetEstimate",
    "MetricOperator",
    "TopEigen",
    "iterative_log_volume",
    "lanczos",
    "stochastic_logdet",
    "top_eigenvalues",
]


@dataclass(frozen=True)
class MetricOperator:
    """Products with a batch of symmetric positive semidefinite metrics, one per point.

    Parameters
    ----------
    matvec : callable
        Takes ``V`` of shape ``(n_points, b, dim)`` (``b`` vectors per point) and returns
        ``g_i v_{ib}`` of the same shape: vector ``b`` of point ``i`` multiplied by point
        ``i``'s metric.
    n_points : int
        Number of points (metrics).
    dim : int
        Size of each metric.
    device : torch.device or str
        Where the vectors passed to ``matvec`` live.

    Examples
    --------
    >>> import numpy as np
    >>> op = MetricOperator.from_dense(np.diag([3.0, 1.0])[None])
    >>> op(torch.ones(1, 1, 2, dtype=torch.float64))
    tensor([[[3., 1.]]], dtype=torch.float64)
    """

    matvec: Callable[[torch.Tensor], torch.Tensor]
    n_points: int
    dim: int
    device: torch.device | str = "cpu"

    @classmethod
    def from_dense(cls, g: Any) -> MetricOperator:
        """Wrap formed metrics ``g`` of shape ``(m, d, d)`` (numpy or torch)."""
        t = to_tensor(g).to(torch.float64)
        if t.ndim != 3 or t.shape[-1] != t.shape[-2]:
            raise ShapeError(f"metrics have shape {tuple(t.shape)}; expected (m, d, d).")
        check_finite(t, "metric")
        sym = 0.5 * (t + t.mT)
        return cls(lambda V: V @ sym, t.shape[0], t.shape[-1], t.device)

    def __call__(self, V: torch.Tensor) -> torch.Tensor:
        out = self.matvec(V)
        out = to_tensor(out).to(device=V.device, dtype=torch.float64)
        if out.shape != V.shape:
            raise ShapeError(
                f"matvec returned shape {tuple(out.shape)} for vectors of shape "
                f"{tuple(V.shape)}; it must return g·v with the shape of v."
            )
        check_finite(out, "metric-vector product")
        return out


class TopEigen(NamedTuple):
    """Top eigenvalues ``(m, k)`` (descending) and their residual bounds ``(m, k)``."""

    eigenvalues: torch.Tensor
    residuals: torch.Tensor


class LogDetEstimate(NamedTuple):
    """Stochastic log-determinant ``(m,)``, its standard error ``(m,)`` and the per-probe
    estimates ``(m, n_probes)``."""

    logdet: torch.Tensor
    stderr: torch.Tensor
    samples: torch.Tensor


def _normalize(v: torch.Tensor) -> torch.Tensor:
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)


def _random_unit(shape: tuple[int, ...], generator: torch.Generator, device: Any) -> torch.Tensor:
    v = torch.randn(shape, generator=generator, dtype=torch.float64)
    return _normalize(v).to(device)


def lanczos(
    op: MetricOperator,
    v0: torch.Tensor,
    n_iter: int,
    *,
    reorthogonalize: bool = True,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lanczos tridiagonalisation of every point's metric from starting vectors ``v0``.

    Parameters
    ----------
    op : MetricOperator
    v0 : Tensor, shape (n_points, b, dim)
        Starting vectors (normalised here), ``b`` independent runs per point.
    n_iter : int
        Lanczos steps (at most ``dim``).
    reorthogonalize : bool
        Full reorthogonalisation against all previous Lanczos vectors (twice per step).
        Needed for accurate eigenvalues; memory ``n_points · b · n_iter · dim`` floats.
    generator : torch.Generator, optional
        Draws a fresh vector when a run's Krylov space is exhausted (its ``beta`` is then 0).

    Returns
    -------
    alpha : Tensor, shape (n_points, b, n_iter)
        Diagonal of the tridiagonal matrices.
    beta : Tensor, shape (n_points, b, n_iter)
        Off-diagonal; ``beta[..., j]`` couples steps ``j`` and ``j + 1`` (the last entry is
        the residual norm used for error bounds).

    Examples
    --------
    >>> op = MetricOperator.from_dense(torch.diag(torch.tensor([3.0, 2.0, 1.0]))[None])
    >>> alpha, beta = lanczos(op, torch.ones(1, 1, 3, dtype=torch.float64), 3)
    >>> T = torch.diag(alpha[0, 0]) + torch.diag(beta[0, 0, :2], 1) + torch.diag(beta[0, 0, :2], -1)
    >>> torch.linalg.eigvalsh(T).round(decimals=10).tolist()
    [1.0, 2.0, 3.0]
    """
    n_iter = check_count(n_iter, "n_iter", 1, op.dim)
    if v0.ndim != 3 or v0.shape[0] != op.n_points or v0.shape[2] != op.dim:
        raise ShapeError(
            f"starting vectors have shape {tuple(v0.shape)}; expected "
            f"(n_points, b, dim) = ({op.n_points}, b, {op.dim})."
        )
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    q = _normalize(v0.to(torch.float64))
    basis: list[torch.Tensor] = [q]
    alphas, betas = [], []
    q_prev, beta_prev = (
        torch.zeros_like(q),
        torch.zeros(q.shape[:-1], dtype=torch.float64, device=q.device),
    )
    scale = torch.zeros_like(beta_prev)
    for _ in range(n_iter):
        w = op(q)
        alpha = (q * w).sum(-1)
        w = w - alpha.unsqueeze(-1) * q - beta_prev.unsqueeze(-1) * q_prev
        if reorthogonalize:
            Q = torch.stack(basis, -2)  # (m, b, j, d)
            for _ in range(2):
                w = w - ((Q @ w.unsqueeze(-1)) * Q).sum(-2)
        beta = torch.linalg.vector_norm(w, dim=-1)
        scale = torch.maximum(scale, alpha.abs() + beta)
        dead = beta <= 1e-10 * scale
        if bool(dead.any()):
            fresh = _random_unit(tuple(w.shape), gen, w.device)
            if reorthogonalize:
                Q = torch.stack(basis, -2)
                for _ in range(2):
                    fresh = fresh - ((Q @ fresh.unsqueeze(-1)) * Q).sum(-2)
            w = torch.where(dead.unsqueeze(-1), fresh, w)
            beta = torch.where(dead, torch.zeros_like(beta), beta)
        alphas.append(alpha)
        betas.append(beta)
        q_prev, q = q, _normalize(w)
        beta_prev = beta
        if reorthogonalize:
            basis.append(q)
    return torch.stack(alphas, -1), torch.stack(betas, -1)


def _tridiagonal(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    off = beta[..., :-1]
    return torch.diag_embed(alpha) + torch.diag_embed(off, 1) + torch.diag_embed(off, -1)


def _default_iters(dim: int, k: int) -> int:
    return min(dim, max(2 * k + 40, 60))


def top_eigenvalues(
    op: MetricOperator, k: int, *, n_iter: int | None = None, seed: int = 0
) -> TopEigen:
    r"""Largest ``k`` eigenvalues of every point's metric by Lanczos.

    Parameters
    ----------
    op : MetricOperator
    k : int
        Number of eigenvalues.
    n_iter : int, optional
        Lanczos steps; default ``min(dim, max(2k + 40, 60))``. With ``n_iter = dim`` the
        result is exact up to rounding.
    seed : int
        Seed of the random starting vectors.

    Returns
    -------
    TopEigen
        ``eigenvalues`` ``(m, k)`` in descending order and ``residuals`` ``(m, k)``: the
        Ritz residual norms :math:`\|g y - \theta y\|`, each a bound on the distance from
        its eigenvalue estimate to an eigenvalue of ``g``.

    Examples
    --------
    >>> g = torch.diag(torch.arange(1.0, 51.0, dtype=torch.float64))[None]
    >>> top_eigenvalues(MetricOperator.from_dense(g), 3).eigenvalues.round(decimals=10).tolist()
    [[50.0, 49.0, 48.0]]
    """
    k = check_count(k, "k", 1, op.dim)
    steps = _default_iters(op.dim, k) if n_iter is None else check_count(n_iter, "n_iter", 1)
    if steps < k:
        raise ParameterError(f"n_iter={steps} must be at least k={k}.")
    gen = torch.Generator().manual_seed(seed)
    v0 = _random_unit((op.n_points, 1, op.dim), gen, op.device)
    alpha, beta = lanczos(op, v0, steps, generator=gen)
    theta, S = torch.linalg.eigh(_tridiagonal(alpha, beta)[:, 0])
    theta, S = theta.flip(-1)[:, :k], S.flip(-1)[:, :, :k]
    residuals = (beta[:, 0, -1:] * S[:, -1, :]).abs()
    return TopEigen(theta, residuals)


def iterative_log_volume(
    op: MetricOperator, rank: int, *, n_iter: int | None = None, seed: int = 0
) -> torch.Tensor:
    r"""Top-``rank`` log pseudo-volume :math:`\tfrac12\sum_{i\le k}\log\lambda_i` by Lanczos.

    The iterative counterpart of ``log_volume_element(g, rank=k)``. Raises
    :class:`~neurogeom.errors.SingularMetricError` if a metric has fewer than ``rank``
    numerically non-zero eigenvalues.

    Parameters
    ----------
    op : MetricOperator
    rank : int
        Number of leading eigenvalues ``k``.
    n_iter, seed
        As in :func:`top_eigenvalues`.

    Returns
    -------
    Tensor, shape (m,)

    Examples
    --------
    >>> g = torch.diag(torch.tensor([4.0, 9.0, 0.0], dtype=torch.float64))[None]
    >>> iterative_log_volume(MetricOperator.from_dense(g), rank=2).exp().round(decimals=10).tolist()
    [6.0]
    """
    rank = check_count(rank, "rank", 1, op.dim)
    eig = top_eigenvalues(op, rank, n_iter=n_iter, seed=seed).eigenvalues
    logvol, _ = log_volume_from_spectrum(eig, rank, d=op.dim)
    return logvol


def stochastic_logdet(
    op: MetricOperator,
    *,
    n_probes: int = 30,
    n_iter: int = 30,
    seed: int = 0,
    damping: float = 0.0,
    reorthogonalize: bool = True,
) -> LogDetEstimate:
    r"""Stochastic Lanczos quadrature estimate of :math:`\log\det (g + \delta I)` per point.

    For Rademacher probes :math:`z \in \{\pm1\}^d`, :math:`\log\det g = \mathbb E\, z^\top
    \log(g)\, z` (Hutchinson); each quadratic form is evaluated by ``n_iter`` steps of
    Lanczos from :math:`z/\|z\|` as :math:`d \sum_j \tau_j \log\theta_j` (Gauss quadrature,
    :math:`\theta_j` the Ritz values, :math:`\tau_j` the squared first components of their
    eigenvectors). The estimate is the mean over probes and its error the standard error
    (sample standard deviation over :math:`\sqrt{n_\text{probes}}`), which covers the
    probe noise; the quadrature bias shrinks quickly with ``n_iter``.

    Parameters
    ----------
    op : MetricOperator
    n_probes : int
        Number of Rademacher probes per point (at least 2).
    n_iter : int
        Lanczos steps per probe (capped at ``dim``).
    seed : int
        Seed of the probes.
    damping : float
        :math:`\delta \ge 0` added to the diagonal: a singular metric's log-determinant is
        :math:`-\infty`, so either damp it explicitly or use :func:`iterative_log_volume`.
    reorthogonalize : bool
        Full reorthogonalisation (memory ``m · n_probes · n_iter · dim`` floats).

    Returns
    -------
    LogDetEstimate
        ``logdet`` and ``stderr`` ``(m,)``, per-probe ``samples`` ``(m, n_probes)``.
        Halve ``logdet`` and ``stderr`` for the log volume element.

    Raises
    ------
    SingularMetricError
        If a metric (plus damping) has a numerically zero eigenvalue in a probe's Krylov space.

    Examples
    --------
    >>> g = torch.diag(torch.linspace(1.0, 4.0, 20, dtype=torch.float64))[None]
    >>> est = stochastic_logdet(MetricOperator.from_dense(g), n_probes=8, n_iter=20)
    >>> exact = torch.log(torch.linspace(1.0, 4.0, 20, dtype=torch.float64)).sum()
    >>> bool(torch.allclose(est.logdet, exact))  # diagonal g: every Rademacher probe is exact
    True
    """
    n_probes = check_count(n_probes, "n_probes", 2)
    n_iter = check_count(n_iter, "n_iter", 1)
    if not isinstance(damping, (int, float)) or not (math.isfinite(damping) and damping >= 0):
        raise ParameterError(f"damping={damping!r}; expected a finite number >= 0.")
    target = op
    if damping:
        target = MetricOperator(lambda V: op(V) + damping * V, op.n_points, op.dim, op.device)
    gen = torch.Generator().manual_seed(seed)
    bits = torch.randint(0, 2, (op.n_points, n_probes, op.dim), generator=gen)
    z = (2.0 * bits - 1.0).to(dtype=torch.float64, device=op.device)
    steps = min(int(n_iter), op.dim)
    alpha, beta = lanczos(target, z, steps, reorthogonalize=reorthogonalize, generator=gen)
    theta, S = torch.linalg.eigh(_tridiagonal(alpha, beta))
    tau = S[..., 0, :] ** 2
    _check_positive(theta, tau)
    samples = op.dim * (tau * torch.log(theta.clamp_min(torch.finfo(theta.dtype).tiny))).sum(-1)
    mean = samples.mean(-1)
    stderr = samples.std(-1, correction=1) / math.sqrt(n_probes)
    return LogDetEstimate(mean, stderr, samples)


def _check_positive(theta: torch.Tensor, tau: torch.Tensor) -> None:
    top = theta.abs().amax(-1, keepdim=True)
    tol = 10.0 * theta.shape[-1] * torch.finfo(theta.dtype).eps * top
    bad = (theta <= tol) & (tau > 1e-12)
    if bool(bad.any()):
        point = int(torch.nonzero(bad.any(-1).any(-1))[0])
        raise SingularMetricError(
            f"the metric at point {point} is numerically singular (a Ritz value "
            f"{float(theta[bad][0]):.3g} <= {float(tol.expand_as(theta)[bad][0]):.3g}); its "
            "log-determinant is -inf. Pass damping > 0 for log det(g + δI), or use "
            "iterative_log_volume(op, rank=k) for the top-k pseudo-determinant."
        )
