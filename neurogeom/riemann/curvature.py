r"""Curvature of a metric field: Christoffel symbols, Riemann and Ricci tensors, Ricci scalar.

A *metric field* is a torch callable ``c ↦ g(c)`` that takes the ``k`` coordinates of one
point, shape ``(k,)``, and returns the metric there, shape ``(k, k)``. Its first and second
coordinate derivatives are taken exactly by nested ``torch.func.jacfwd`` (no finite
differences) and vectorised over points with ``torch.func.vmap``; the field must therefore
be written in differentiable torch operations.

When the metric is the pullback ``g = JᵀJ`` of an *embedding* ``c ↦ r(c)`` (a network's
responses), :func:`embedding_curvature` computes the same tensors from the first and second
derivatives of ``r`` (Christoffel symbols ``J⁺ ∂∂r``, Riemann tensor by the Gauss
equation) through a QR factorisation of ``J``: fewer derivatives, and rounding errors that
grow like ``ε·cond(g)`` rather than ``ε·cond(g)²``.

Conventions (all indices run over the ``k`` coordinates; ``∂_e = ∂/∂c^e``)::

    Γᵃ_bc  = ½ gᵃᵈ (∂_b g_dc + ∂_c g_db − ∂_d g_bc)                 christoffel[..., a, b, c]
    Rᵃ_bcd = ∂_c Γᵃ_db − ∂_d Γᵃ_cb + Γᵃ_ce Γᵉ_db − Γᵃ_de Γᵉ_cb       riemann[..., a, b, c, d]
    R_bd   = Rᵃ_bad                                                  ricci[..., b, d]
    R      = gᵇᵈ R_bd                                                scalar[...]

so that the round sphere of radius ``a`` has ``R = 2/a²`` (in two dimensions ``R = 2K``,
twice the Gaussian curvature). On a one-dimensional space (a curve) the Riemann tensor,
Ricci tensor and scalar are identically zero: a curve has no intrinsic curvature.

Singular metrics. Where ``g`` has numerical rank below ``k`` (an eigenvalue below
``10 k ε λ_max``, the tolerance :func:`~neurogeom.riemann.log_volume_element` uses) the
inverse metric and hence every curvature quantity is undefined. ``on_singular="raise"``
raises :class:`~neurogeom.errors.SingularMetricError` naming the first such point;
``on_singular="nan"`` sets every quantity at those points to NaN and reports them in
:attr:`Curvature.singular`. No value is ever computed from a pseudo-inverse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import torch

from .._arrays import check_finite
from ..errors import ParameterError, ShapeError, SingularMetricError
from .volume import check_positive_semidefinite, check_symmetric, metric_tolerance

__all__ = [
    "Curvature",
    "Embedding",
    "Extrinsic",
    "MetricField",
    "OnSingular",
    "curvature_from_embedding",
    "curvature_from_gram",
    "curvature_from_jets",
    "embedding_curvature",
    "embedding_geometry",
    "embedding_jet",
    "embedding_jets",
    "extrinsic_from_embedding",
    "field_curvature",
    "jet_gram",
    "metric_jet",
    "metric_jets",
    "singular_points",
]

#: A metric field: coordinates ``(k,)`` of one point → metric ``(k, k)`` there.
MetricField: TypeAlias = Callable[[torch.Tensor], torch.Tensor]
#: An embedding: coordinates ``(k,)`` of one point → its image ``(n,)`` in Euclidean space.
Embedding: TypeAlias = Callable[[torch.Tensor], torch.Tensor]
OnSingular = Literal["raise", "nan"]
ON_SINGULAR: tuple[str, ...] = ("raise", "nan")

Jet = tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class Curvature:
    """Curvature of a metric at ``m`` points of a ``k``-dimensional coordinate space.

    The fields are torch tensors from :func:`field_curvature`;
    :func:`neurogeom.curvature_tensors` returns them as numpy arrays when given numpy points.

    Attributes
    ----------
    metric : Tensor, shape (m, k, k)
        ``g_bc``.
    christoffel : Tensor, shape (m, k, k, k)
        ``Γᵃ_bc`` at ``[:, a, b, c]`` (symmetric in ``b, c``).
    riemann : Tensor, shape (m, k, k, k, k) or None
        ``Rᵃ_bcd`` at ``[:, a, b, c, d]``; ``None`` when only Christoffel symbols were asked.
    ricci : Tensor, shape (m, k, k) or None
        ``R_bd = Rᵃ_bad``.
    scalar : Tensor, shape (m,) or None
        Ricci scalar ``R = gᵇᵈ R_bd`` (``2/a²`` on a sphere of radius ``a``).
    singular : Tensor of bool, shape (m,)
        Points where the metric is singular (numerical rank < ``k``); every other field is
        NaN there.
    """

    metric: Any
    christoffel: Any
    riemann: Any
    ricci: Any
    scalar: Any
    singular: Any


def check_on_singular(on_singular: str) -> None:
    """Raise ``ValueError`` for an unknown singular-metric policy."""
    if on_singular not in ON_SINGULAR:
        raise ParameterError(
            f"on_singular={on_singular!r} is not a known policy; use 'raise' (error at a "
            "singular metric) or 'nan' (NaN there, reported in the `singular` mask)."
        )


def metric_jet(metric_field: MetricField, c: torch.Tensor, order: int = 2) -> Jet:
    """Metric and its exact coordinate derivatives at one point (composable with ``vmap``).

    Parameters
    ----------
    metric_field : callable
        ``c ↦ g(c)``, ``(k,) → (k, k)``, written in differentiable torch operations.
    c : Tensor, shape (k,)
        Coordinates of the point.
    order : {0, 1, 2}
        Highest derivative order returned.

    Returns
    -------
    tuple of Tensor
        ``g`` ``(k, k)``; then ``∂g`` ``(k, k, k)`` with ``∂g[i, j, l] = ∂_l g_ij`` if
        ``order ≥ 1``; then ``∂∂g`` ``(k, k, k, k)`` with ``∂∂g[i, j, l, e] = ∂_e ∂_l g_ij``
        if ``order = 2``.

    Examples
    --------
    >>> import torch
    >>> def field(c):   # polar chart: g = diag(1, rho^2)
    ...     return torch.diag(torch.stack([torch.ones_like(c[0]), c[0] ** 2]))
    >>> g, dg, ddg = metric_jet(field, torch.tensor([2.0, 0.0], dtype=torch.float64))
    >>> float(dg[1, 1, 0]), float(ddg[1, 1, 0, 0])
    (4.0, 2.0)
    """
    if order == 0:
        return (metric_field(c),)

    def with_value(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g = metric_field(x)
        return g, g

    if order == 1:
        dg, g = torch.func.jacfwd(with_value, has_aux=True)(c)
        return g, dg
    if order != 2:
        raise ParameterError(f"order={order}; metric jets are available to order 0, 1 or 2.")

    def first(x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        dg, g = torch.func.jacfwd(with_value, has_aux=True)(x)
        return dg, (g, dg)

    ddg, (g, dg) = torch.func.jacfwd(first, has_aux=True)(c)
    return g, dg, ddg


def metric_jets(
    metric_field: MetricField, points: torch.Tensor, order: int = 2, chunk_size: int | None = None
) -> Jet:
    """:func:`metric_jet` at many points at once.

    Parameters
    ----------
    metric_field : callable
        ``(k,) → (k, k)``.
    points : Tensor, shape (m, k)
        Coordinates of the points.
    order : {0, 1, 2}
        Highest derivative order.
    chunk_size : int, optional
        Points per vectorised evaluation (bounds memory); default all at once.

    Returns
    -------
    tuple of Tensor
        As :func:`metric_jet`, each with a leading axis of length ``m``.

    Examples
    --------
    >>> import torch
    >>> field = lambda c: torch.eye(2, dtype=c.dtype) * (1 + c @ c)
    >>> [t.shape for t in metric_jets(field, torch.zeros(5, 2, dtype=torch.float64))]
    [torch.Size([5, 2, 2]), torch.Size([5, 2, 2, 2]), torch.Size([5, 2, 2, 2, 2])]
    """
    if points.ndim != 2 or points.shape[1] < 1:
        raise ShapeError(
            f"points has shape {tuple(points.shape)}; expected (m, k) coordinates, one row "
            "per point."
        )

    def jet(c: torch.Tensor) -> Jet:
        return metric_jet(metric_field, c, order)

    return torch.func.vmap(jet, chunk_size=chunk_size)(points)


def singular_points(g: torch.Tensor) -> torch.Tensor:
    """Mask of metrics with numerical rank below their dimension.

    A metric is singular when its smallest eigenvalue is at most ``10 k ε λ_max`` — the
    tolerance below which :func:`~neurogeom.riemann.log_volume_element` counts an
    eigenvalue as zero. Non-symmetric or indefinite metrics raise.

    Parameters
    ----------
    g : Tensor, shape (m, k, k)

    Returns
    -------
    Tensor of bool, shape (m,)

    Examples
    --------
    >>> import torch
    >>> singular_points(torch.stack([torch.eye(2), torch.diag(torch.tensor([1.0, 0.0]))]))
    tensor([False,  True])
    """
    check_finite(g, "metric")
    check_symmetric(g)
    eig = torch.linalg.eigvalsh(0.5 * (g + g.mT))
    check_positive_semidefinite(g, eig.flip(-1))
    return eig[..., 0] <= metric_tolerance(g, eig)


def curvature_from_jets(
    g: torch.Tensor,
    dg: torch.Tensor,
    ddg: torch.Tensor | None = None,
    *,
    on_singular: OnSingular = "raise",
) -> Curvature:
    """Christoffel symbols and, given second derivatives, Riemann, Ricci and scalar curvature.

    Parameters
    ----------
    g : Tensor, shape (m, k, k)
        Metrics.
    dg : Tensor, shape (m, k, k, k)
        ``dg[:, i, j, l] = ∂_l g_ij``.
    ddg : Tensor, shape (m, k, k, k, k), optional
        ``ddg[:, i, j, l, e] = ∂_e ∂_l g_ij``. Without it only the Christoffel symbols are
        computed (``riemann``, ``ricci`` and ``scalar`` are ``None``).
    on_singular : {"raise", "nan"}
        Policy at points with a singular metric (see the module docstring).

    Returns
    -------
    Curvature

    Raises
    ------
    SingularMetricError
        With ``on_singular="raise"``, if a metric is singular.

    Examples
    --------
    >>> import torch
    >>> g = torch.eye(2, dtype=torch.float64)[None]
    >>> curv = curvature_from_jets(g, torch.zeros(1, 2, 2, 2, dtype=torch.float64),
    ...                            torch.zeros(1, 2, 2, 2, 2, dtype=torch.float64))
    >>> float(curv.scalar[0]), bool(curv.singular[0])
    (0.0, False)
    """
    check_on_singular(on_singular)
    m, k = g.shape[0], g.shape[-1]
    _check_jet_shapes(g, dg, ddg)
    singular = singular_points(g)
    if on_singular == "raise" and bool(singular.any()):
        idx = int(torch.nonzero(singular)[0, 0])
        raise SingularMetricError(
            f"the metric at point {idx} (of {m}) is singular (numerical rank < {k}), so its "
            "curvature is undefined. Pass on_singular='nan' to get NaN there with a "
            "`singular` mask, or move the points to where the representation is regular."
        )
    safe = torch.where(singular[:, None, None], torch.eye(k, dtype=g.dtype, device=g.device), g)
    ginv = torch.linalg.inv_ex(safe).inverse
    lower = 0.5 * (dg.permute(0, 1, 3, 2) + dg - dg.permute(0, 3, 1, 2))  # Γ_dbc
    gamma = torch.einsum("mad,mdbc->mabc", ginv, lower)
    riemann = ricci = scalar = None
    if ddg is not None:
        if k == 1:  # a curve: no intrinsic curvature, identically
            riemann = torch.zeros(m, 1, 1, 1, 1, dtype=g.dtype, device=g.device)
        else:
            riemann = _riemann(ginv, dg, ddg, gamma)
        ricci = torch.einsum("mabad->mbd", riemann)
        scalar = torch.einsum("mbd,mbd->m", ginv, ricci)
    out = [_mask(t, singular) for t in (g, gamma, riemann, ricci, scalar)]
    return Curvature(out[0], out[1], out[2], out[3], out[4], singular)


def _riemann(
    ginv: torch.Tensor, dg: torch.Tensor, ddg: torch.Tensor, gamma: torch.Tensor
) -> torch.Tensor:
    """``Rᵃ_bcd`` from the inverse metric, the metric's derivatives and ``Γ``."""
    # ∂_e Γ_dbc (lower) = ½ (∂_e∂_b g_dc + ∂_e∂_c g_db − ∂_e∂_d g_bc)
    dlower = 0.5 * (ddg.permute(0, 1, 3, 2, 4) + ddg - ddg.permute(0, 3, 1, 2, 4))
    # ∂_e Γᵃ_bc = gᵃᵈ ∂_e Γ_dbc − gᵃᶠ ∂_e g_fh Γʰ_bc
    dgamma = torch.einsum("mad,mdbce->mabce", ginv, dlower) - torch.einsum(
        "maf,mfhe,mhbc->mabce", ginv, dg, gamma
    )
    # Rᵃ_bcd = ∂_c Γᵃ_db − ∂_d Γᵃ_cb + Γᵃ_ce Γᵉ_db − Γᵃ_de Γᵉ_cb
    return (
        dgamma.permute(0, 1, 3, 4, 2)  # [a, b, c, d] ← ∂_c Γᵃ_db stored at [a, d, b, c]
        - dgamma.permute(0, 1, 3, 2, 4)  # ∂_d Γᵃ_cb stored at [a, c, b, d]
        + torch.einsum("mace,medb->mabcd", gamma, gamma)
        - torch.einsum("made,mecb->mabcd", gamma, gamma)
    )


def _mask(t: torch.Tensor | None, singular: torch.Tensor) -> torch.Tensor | None:
    if t is None:
        return None
    shape = (-1,) + (1,) * (t.ndim - 1)
    return torch.where(singular.reshape(shape), torch.nan, t)


def _check_jet_shapes(g: torch.Tensor, dg: torch.Tensor, ddg: torch.Tensor | None) -> None:
    if g.ndim != 3 or g.shape[1] != g.shape[2]:
        raise ShapeError(f"metric has shape {tuple(g.shape)}; expected (m, k, k).")
    m, k = g.shape[0], g.shape[1]
    expected: list[tuple[str, torch.Tensor, tuple[int, ...]]] = [("dg", dg, (m, k, k, k))]
    if ddg is not None:
        expected.append(("ddg", ddg, (m, k, k, k, k)))
    for name, t, shape in expected:
        if tuple(t.shape) != shape:
            raise ShapeError(f"{name} has shape {tuple(t.shape)}; expected {shape}.")
        check_finite(t, name)


def field_curvature(
    metric_field: MetricField,
    points: torch.Tensor,
    *,
    christoffel_only: bool = False,
    on_singular: OnSingular = "raise",
    chunk_size: int | None = None,
) -> Curvature:
    r"""Christoffel symbols, Riemann and Ricci tensors and Ricci scalar of a metric field.

    Parameters
    ----------
    metric_field : callable
        ``c ↦ g(c)``, ``(k,) → (k, k)``, differentiable torch operations only.
    points : Tensor, shape (m, k)
        Coordinates where the curvature is wanted (use float64 for accurate curvature).
    christoffel_only : bool
        Only compute ``Γ`` (first derivatives of ``g``; cheaper).
    on_singular : {"raise", "nan"}
        At a point with a singular metric: raise
        :class:`~neurogeom.errors.SingularMetricError`, or return NaN there and flag the
        point in ``singular``.
    chunk_size : int, optional
        Points per vectorised evaluation.

    Returns
    -------
    Curvature
        ``metric``, ``christoffel``, ``riemann``, ``ricci``, ``scalar``, ``singular``.

    Examples
    --------
    Sphere of radius 2 in the chart ``(θ, φ)``, ``g = diag(a², a² sin²θ)``:

    >>> import torch
    >>> a = 2.0
    >>> def sphere(c):
    ...     return torch.diag(torch.stack([a**2 * torch.ones_like(c[0]),
    ...                                    a**2 * torch.sin(c[0]) ** 2]))
    >>> pts = torch.tensor([[0.7, 0.1], [1.3, 2.0]], dtype=torch.float64)
    >>> field_curvature(sphere, pts).scalar   # 2 / a**2
    tensor([0.5000, 0.5000], dtype=torch.float64)
    """
    check_on_singular(on_singular)
    check_finite(points, "points")
    jets = metric_jets(metric_field, points, 1 if christoffel_only else 2, chunk_size)
    return curvature_from_jets(*jets, on_singular=on_singular)


# -- pullback metrics of embeddings: the Gauss equation -------------------------------------------
def embedding_jet(embedding: Embedding, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Jacobian and Hessians of an embedding at one point (composable with ``vmap``).

    Parameters
    ----------
    embedding : callable
        ``c ↦ r(c)``, ``(k,) → (n,)``, differentiable torch operations.
    c : Tensor, shape (k,)

    Returns
    -------
    J : Tensor, shape (n, k)
        ``J[i, a] = ∂_a r_i``.
    H : Tensor, shape (n, k, k)
        ``H[i, b, c] = ∂_b ∂_c r_i``.

    Examples
    --------
    >>> import torch
    >>> J, H = embedding_jet(lambda c: c**2, torch.tensor([1.0, 2.0], dtype=torch.float64))
    >>> J.diagonal().tolist(), H[1, 1, 1].item()
    ([2.0, 4.0], 2.0)
    """

    def with_value(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        J = torch.func.jacfwd(embedding)(x)
        return J, J

    H, J = torch.func.jacfwd(with_value, has_aux=True)(c)
    return J, H


def embedding_jets(
    embedding: Embedding, points: torch.Tensor, chunk_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`embedding_jet` at many points: ``J`` ``(m, n, k)`` and ``H`` ``(m, n, k, k)``.

    Examples
    --------
    >>> import torch
    >>> J, H = embedding_jets(torch.sin, torch.zeros(4, 2, dtype=torch.float64))
    >>> J.shape, H.shape
    (torch.Size([4, 2, 2]), torch.Size([4, 2, 2, 2]))
    """
    if points.ndim != 2 or points.shape[1] < 1:
        raise ShapeError(
            f"points has shape {tuple(points.shape)}; expected (m, k) coordinates, one row "
            "per point."
        )

    def jet(c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return embedding_jet(embedding, c)

    return torch.func.vmap(jet, chunk_size=chunk_size)(points)


def curvature_from_embedding(
    J: torch.Tensor,
    H: torch.Tensor,
    *,
    christoffel_only: bool = False,
    on_singular: OnSingular = "raise",
) -> Curvature:
    r"""Curvature of the pullback metric ``g = JᵀJ`` from the embedding's first two derivatives.

    For ``r: Rᵏ → Rⁿ`` the Christoffel symbols are ``Γᵃ_bc = (J⁺ ∂_b∂_c r)ᵃ`` and the
    Riemann tensor follows from the Gauss equation with the second fundamental form
    ``N_bc = (I − P) ∂_b∂_c r`` (``P`` the projector onto the columns of ``J``)::

        R_abcd = ⟨N_ac, N_bd⟩ − ⟨N_ad, N_bc⟩,   Rᵃ_bcd = gᵃᵉ R_ebcd,

    the same tensors (and conventions) as :func:`curvature_from_jets` on the metric field
    ``JᵀJ``, but from second instead of third derivatives of ``r`` and through a QR
    factorisation of ``J`` instead of ``g⁻¹``: the relative rounding error grows like
    ``ε·cond(g)`` instead of ``ε·cond(g)²``, which keeps nearly degenerate metrics (say
    ``cond(g) = 10¹⁰``, common in trained networks) accurate to about ``10⁻⁵``.

    Parameters
    ----------
    J : Tensor, shape (m, n, k)
        Jacobians ``∂_a r_i``.
    H : Tensor, shape (m, n, k, k)
        Hessians ``∂_b ∂_c r_i``.
    christoffel_only : bool
        Stop after the Christoffel symbols.
    on_singular : {"raise", "nan"}
        Policy where ``g`` has numerical rank below ``k`` (as :func:`curvature_from_jets`;
        with ``n < k`` every point is singular).

    Returns
    -------
    Curvature

    Examples
    --------
    Unit sphere at the equator, ``(θ, φ) = (π/2, 0)``:

    >>> import math, torch
    >>> def sphere(c):
    ...     th, ph = c[0], c[1]
    ...     return torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()])
    >>> c = torch.tensor([[math.pi / 2, 0.0]], dtype=torch.float64)
    >>> float(curvature_from_embedding(*embedding_jets(sphere, c)).scalar[0])
    2.0
    """
    frame = _embedding_frame(J, H, on_singular)
    if frame.Q is None:
        return _nan_curvature(frame, christoffel_only)
    return _intrinsic(frame, christoffel_only)


@dataclass(frozen=True)
class _Frame:
    """One QR of ``J`` and the projections every second-order quantity shares."""

    g: torch.Tensor  # (m, k, k)
    singular: torch.Tensor  # (m,)
    H: torch.Tensor  # (m, n, k, k)
    Q: torch.Tensor | None  # (m, n, k); None when n < k
    Rf: torch.Tensor | None  # (m, k, k)
    QtH: torch.Tensor | None  # (m, k, k, k)
    Rinv: torch.Tensor | None  # (m, k, k): Rf⁻¹


def _embedding_frame(J: torch.Tensor, H: torch.Tensor, on_singular: str) -> _Frame:
    """Validate ``(J, H)``, find singular metrics and factor ``J = Q Rf`` once."""
    check_on_singular(on_singular)
    if J.ndim != 3 or tuple(H.shape) != (*J.shape, J.shape[-1]):
        raise ShapeError(
            f"J has shape {tuple(J.shape)} and H {tuple(H.shape)}; expected (m, n, k) and "
            "(m, n, k, k)."
        )
    check_finite(J, "J")
    check_finite(H, "H")
    m, n, k = J.shape
    g = J.mT @ J
    g = 0.5 * (g + g.mT)
    singular = singular_points(g) if n >= k else torch.ones(m, dtype=torch.bool, device=J.device)
    if on_singular == "raise" and bool(singular.any()):
        idx = int(torch.nonzero(singular)[0, 0])
        raise SingularMetricError(
            f"the metric at point {idx} (of {m}) is singular (numerical rank < {k}"
            + (f"; only {n} response dimensions" if n < k else "")
            + "), so its curvature is undefined. Pass on_singular='nan' to get NaN there "
            "with a `singular` mask, or move the points to where the representation is regular."
        )
    if n < k:
        return _Frame(g, singular, H, None, None, None, None)
    dummy = torch.eye(n, k, dtype=J.dtype, device=J.device)
    Q, Rf = torch.linalg.qr(torch.where(singular[:, None, None], dummy, J))
    QtH = torch.einsum("mna,mnbc->mabc", Q, H)
    eye = torch.eye(k, dtype=J.dtype, device=J.device).expand(m, k, k)
    Rinv = torch.linalg.solve_triangular(Rf, eye, upper=True)
    return _Frame(g, singular, H, Q, Rf, QtH, Rinv)


def _nan_curvature(frame: _Frame, christoffel_only: bool) -> Curvature:
    g, singular = frame.g, frame.singular
    m, k = g.shape[0], g.shape[-1]
    nan = g.new_full((m, k, k, k), torch.nan)
    full = None if christoffel_only else g.new_full((m, k, k, k, k), torch.nan)
    return Curvature(
        g.new_full(g.shape, torch.nan), nan, full,
        None if christoffel_only else g.new_full(g.shape, torch.nan),
        None if christoffel_only else g.new_full((m,), torch.nan), singular,
    )  # fmt: skip


def _intrinsic(frame: _Frame, christoffel_only: bool, Nf: torch.Tensor | None = None) -> Curvature:
    """Curvature from the frame; ``Nf`` (:func:`_orthonormal_form`) when already computed."""
    assert frame.Q is not None and frame.Rf is not None and frame.QtH is not None
    Rf, QtH, singular = frame.Rf, frame.QtH, frame.singular
    m, k = Rf.shape[0], Rf.shape[-1]
    gamma = torch.linalg.solve_triangular(Rf, QtH.reshape(m, k, k * k), upper=True)
    gamma = gamma.reshape(m, k, k, k)
    riemann = ricci = scalar = None
    if not christoffel_only:
        if Nf is None:
            Nf = _orthonormal_form(_normal_part(frame), frame)
        riemann, ricci, scalar = _gauss(Nf, frame)
    out = [_mask(t, singular) for t in (frame.g, gamma, riemann, ricci, scalar)]
    return Curvature(out[0], out[1], out[2], out[3], out[4], singular)


def _normal_part(frame: _Frame) -> torch.Tensor:
    """The second fundamental form ``N = (I − P) H``, ``(m, n, k, k)``."""
    assert frame.Q is not None and frame.QtH is not None
    return frame.H - torch.einsum("mna,mabc->mnbc", frame.Q, frame.QtH)


def _orthonormal_form(N: torch.Tensor, frame: _Frame) -> torch.Tensor:
    """``Rf⁻ᵀ N Rf⁻¹``: the second fundamental form in the orthonormal frame ``Q``."""
    return torch.einsum("mai,mnab,mbj->mnij", frame.Rinv, N, frame.Rinv)


def _gauss(Nf: torch.Tensor, fr: _Frame) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Riemann, Ricci and scalar from the orthonormal-frame form ``Nf`` and ``J = Q Rf``."""
    assert fr.Rf is not None and fr.Rinv is not None
    Rf, Rinv = fr.Rf, fr.Rinv
    m, k = Rf.shape[0], Rf.shape[-1]
    if k == 1:  # a curve: no intrinsic curvature, identically
        zero = Nf.new_zeros(m, 1, 1)
        return Nf.new_zeros(m, 1, 1, 1, 1), zero, zero[:, 0, 0]
    frame = torch.einsum("mnik,mnjl->mijkl", Nf, Nf) - torch.einsum("mnil,mnjk->mijkl", Nf, Nf)
    ricci_frame = torch.einsum("mijil->mjl", frame)
    scalar = torch.einsum("mjj->m", ricci_frame)
    riemann = torch.einsum("mai,mijkl,mjb,mkc,mld->mabcd", Rinv, frame, Rf, Rf, Rf)
    ricci = Rf.mT @ ricci_frame @ Rf
    return riemann, ricci, scalar


def embedding_curvature(
    embedding: Embedding,
    points: torch.Tensor,
    *,
    christoffel_only: bool = False,
    on_singular: OnSingular = "raise",
    chunk_size: int | None = None,
) -> Curvature:
    """Curvature of the metric an embedding ``c ↦ r(c)`` pulls back, at many points.

    :func:`embedding_jets` then :func:`curvature_from_embedding`; see there.

    Parameters
    ----------
    embedding : callable
        ``(k,) → (n,)``, differentiable torch operations.
    points : Tensor, shape (m, k)
    christoffel_only, on_singular
        As in :func:`curvature_from_embedding`.
    chunk_size : int, optional
        Points per vectorised evaluation.

    Returns
    -------
    Curvature

    Examples
    --------
    Paraboloid ``(x, y) ↦ (x, y, x² + y²)`` at the origin: ``R = 2K = 8``.

    >>> import torch
    >>> para = lambda c: torch.cat([c, (c**2).sum()[None]])
    >>> float(embedding_curvature(para, torch.zeros(1, 2, dtype=torch.float64)).scalar[0])
    8.0
    """
    check_on_singular(on_singular)
    check_finite(points, "points")
    J, H = embedding_jets(embedding, points, chunk_size)
    return curvature_from_embedding(
        J, H, christoffel_only=christoffel_only, on_singular=on_singular
    )


# -- extrinsic curvature: the second fundamental form ---------------------------------------------
@dataclass(frozen=True)
class Extrinsic:
    r"""How a ``k``-dimensional response manifold bends inside response space, at ``m`` points.

    Conventions (``g`` the pullback metric, ``P`` the projector onto the tangent space)::

        II_ab = (I − P) ∂_a∂_b r                      second_fundamental_form[:, :, a, b]
        H     = (1/k) gᵃᵇ II_ab   (trace / k)         mean_curvature[:, :]
        κ₁ ≥ … ≥ κ_k  eigenvalues of S = g⁻¹ ⟨II, ν⟩  principal_curvatures[:, :]

    along the unit normal ``ν = H / |H|``, so that ``Σκ = k |H| ≥ 0``: on a sphere of radius
    ``a`` every ``κ = 1/a`` and ``|H| = 1/a``; for a hypersurface (codimension 1) these are
    its principal curvatures, oriented so that their mean is ``≥ 0``. Where ``H`` vanishes
    but ``II`` points along one normal only (a saddle, a hypersurface) ``ν`` is that normal,
    oriented so that the curvature of largest magnitude is positive; where ``II`` vanishes
    (a flat map) every ``κ`` is 0; where ``H`` vanishes and ``II`` spans several normals the
    shape operator along ``H`` does not exist: ``κ`` is NaN there and
    ``normal_undefined`` True. Every curvature has the unit 1 / response_unit: scaling the
    responses by ``s`` divides it by ``s``; rotating them (``r ↦ Q r`` with orthonormal
    columns, into as many neurons as one likes) changes ``|H|`` and ``κ`` not at all.

    Attributes
    ----------
    second_fundamental_form : Tensor, shape (m, n, k, k) or None
        ``II_ab``, a normal vector per pair of coordinates (symmetric in ``a, b``). None
        when computed from inner products only (:func:`curvature_from_gram`).
    mean_curvature : Tensor, shape (m, n) or None
        The mean-curvature vector ``H`` (None from inner products only).
    mean_curvature_norm : Tensor, shape (m,)
        ``|H|``.
    principal_curvatures : Tensor, shape (m, k)
        ``κ``, largest first.
    normal_undefined : Tensor of bool, shape (m,)
        No normal direction for the shape operator (``κ`` is NaN there).
    singular : Tensor of bool, shape (m,)
        Singular metric: every field is NaN there.
    """

    second_fundamental_form: Any
    mean_curvature: Any
    mean_curvature_norm: Any
    principal_curvatures: Any
    normal_undefined: Any
    singular: Any


def _extrinsic(
    frame: _Frame, N: torch.Tensor | None = None, Nf: torch.Tensor | None = None
) -> Extrinsic:
    """``II``, ``H``, ``|H|`` and ``κ`` from the shared frame of :func:`_embedding_frame`."""
    g, singular, Hess = frame.g, frame.singular, frame.H
    m, k = g.shape[0], g.shape[-1]
    n = Hess.shape[1]
    if frame.Q is None or frame.Rf is None:
        nan = g.new_full((m,), torch.nan)
        return Extrinsic(
            Hess.new_full(Hess.shape, torch.nan), g.new_full((m, n), torch.nan), nan,
            g.new_full((m, k), torch.nan), torch.zeros_like(singular), singular,
        )  # fmt: skip
    N = _normal_part(frame) if N is None else N
    Nf = _orthonormal_form(N, frame) if Nf is None else Nf  # II in the orthonormal frame
    Hvec = torch.diagonal(Nf, dim1=-2, dim2=-1).sum(-1) / k
    Hnorm = torch.linalg.vector_norm(Hvec, dim=-1)
    size = torch.linalg.vector_norm(Nf.reshape(m, -1), dim=-1)
    rtol = torch.finfo(g.dtype).eps ** 0.5
    flat = torch.linalg.vector_norm(N.reshape(m, -1), dim=-1) <= rtol * torch.linalg.vector_norm(
        Hess.reshape(m, -1), dim=-1
    )
    along_h = (Hnorm > rtol * size) & ~flat
    nu = Hvec / torch.where(along_h, Hnorm, torch.ones_like(Hnorm))[:, None]
    undefined = torch.zeros_like(singular)
    other = ~along_h & ~flat & ~singular
    oriented = torch.zeros_like(singular)
    if bool(other.any()):
        idx = torch.nonzero(other)[:, 0]
        U, S, _ = torch.linalg.svd(Nf[idx].reshape(len(idx), n, k * k), full_matrices=False)
        one = (
            S[:, 1] <= rtol * S[:, 0]
            if S.shape[1] > 1
            else torch.ones_like(S[:, 0], dtype=torch.bool)
        )
        nu[idx] = U[:, :, 0]
        undefined[idx] = ~one
        oriented[idx] = one
    shape_op = torch.einsum("mnij,mn->mij", Nf, nu)
    kappa = torch.linalg.eigvalsh(0.5 * (shape_op + shape_op.mT)).flip(-1)
    if bool(oriented.any()):  # ν up to sign: the curvature of largest magnitude is positive
        flip = oriented & (kappa[:, -1].abs() > kappa[:, 0].abs())
        kappa = torch.where(flip[:, None], -kappa.flip(-1), kappa)
    kappa = torch.where(flat[:, None], torch.zeros_like(kappa), kappa)
    kappa = torch.where(undefined[:, None], torch.nan, kappa)
    out = [_mask(t, singular) for t in (N, Hvec, Hnorm, kappa)]
    return Extrinsic(out[0], out[1], out[2], out[3], undefined & ~singular, singular)


def extrinsic_from_embedding(
    J: torch.Tensor, H: torch.Tensor, *, on_singular: OnSingular = "raise"
) -> Extrinsic:
    r"""Second fundamental form, mean curvature and principal curvatures of an embedding.

    ``II_ab = (I − P) ∂_a∂_b r`` with ``P`` the projector onto the columns of ``J``, from
    the same QR factorisation of ``J`` that :func:`curvature_from_embedding` uses (see
    :class:`Extrinsic` for the conventions: ``H`` is the trace over ``k``, ``κ`` the
    eigenvalues of the shape operator along ``H``, largest first).

    Parameters
    ----------
    J : Tensor, shape (m, n, k)
        Jacobians ``∂_a r_i``.
    H : Tensor, shape (m, n, k, k)
        Hessians ``∂_b ∂_c r_i``.
    on_singular : {"raise", "nan"}
        Policy where ``g = JᵀJ`` has numerical rank below ``k`` (as
        :func:`curvature_from_embedding`).

    Returns
    -------
    Extrinsic

    Examples
    --------
    Sphere of radius 2 at the equator: both principal curvatures are 1/2.

    >>> import math, torch
    >>> def sphere(c):
    ...     th, ph = c[0], c[1]
    ...     return 2 * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()])
    >>> c = torch.tensor([[math.pi / 2, 0.0]], dtype=torch.float64)
    >>> ext = extrinsic_from_embedding(*embedding_jets(sphere, c))
    >>> ext.principal_curvatures, float(ext.mean_curvature_norm[0])
    (tensor([[0.5000, 0.5000]], dtype=torch.float64), 0.5)
    """
    return _extrinsic(_embedding_frame(J, H, on_singular))


def embedding_geometry(
    J: torch.Tensor, H: torch.Tensor, *, on_singular: OnSingular = "raise"
) -> tuple[Curvature, Extrinsic]:
    """Intrinsic and extrinsic curvature of an embedding from one QR factorisation of ``J``.

    :func:`curvature_from_embedding` and :func:`extrinsic_from_embedding` at once: one
    validation, one singular-metric test and one factorisation ``J = Q Rf`` feed the
    Christoffel symbols, the Gauss equation and the second fundamental form.

    Parameters
    ----------
    J : Tensor, shape (m, n, k)
    H : Tensor, shape (m, n, k, k)
    on_singular : {"raise", "nan"}

    Returns
    -------
    (Curvature, Extrinsic)

    Examples
    --------
    Gauss equation on the paraboloid ``z = x² + y²`` at its vertex: ``R = 2 κ₁ κ₂ = 8``.

    >>> import torch
    >>> para = lambda c: torch.cat([c, (c**2).sum()[None]])
    >>> curv, ext = embedding_geometry(*embedding_jets(para, torch.zeros(1, 2, dtype=torch.float64)))
    >>> float(curv.scalar[0]), ext.principal_curvatures.tolist()
    (8.0, [[2.0, 2.0]])
    """
    frame = _embedding_frame(J, H, on_singular)
    if frame.Q is None:
        return _nan_curvature(frame, False), _extrinsic(frame)
    N = _normal_part(frame)
    Nf = _orthonormal_form(N, frame)
    return _intrinsic(frame, False, Nf), _extrinsic(frame, N, Nf)


def jet_gram(J: Any, H: Any) -> Any:
    r"""Inner products of all first and second derivatives: the Gram matrix of the jet.

    With ``V = [∂_1 r, …, ∂_k r, ∂_1∂_1 r, ∂_1∂_2 r, …, ∂_k∂_k r]`` (``p = k + k²``
    columns, second derivatives in row-major order), ``G = VᵀV``. Every intrinsic and
    extrinsic scalar (``g``, ``Γ``, the Riemann tensor, ``|H|``, ``κ``) is a function of
    ``G`` alone (:func:`curvature_from_gram`), which is what makes an estimate of it
    correctable for noise: the bias of ``V̂ᵀV̂`` is known where that of ``V̂`` is not.

    Parameters
    ----------
    J : array, shape (m, n, k)
    H : array, shape (m, n, k, k)

    Returns
    -------
    array, shape (m, k + k², k + k²)
        numpy or torch like ``J``.

    Examples
    --------
    >>> import numpy as np
    >>> jet_gram(np.ones((1, 3, 1)), np.zeros((1, 3, 1, 1)))[0]
    array([[3., 0.],
           [0., 0.]])
    """
    m, n, k = J.shape
    if isinstance(J, torch.Tensor):
        V = torch.cat([J, H.reshape(m, n, k * k)], -1)
        return V.mT @ V
    W = np.concatenate([J, np.reshape(H, (m, n, k * k))], -1)
    return np.einsum("mni,mnj->mij", W, W)


def curvature_from_gram(
    G: torch.Tensor, k: int, *, on_singular: OnSingular = "raise"
) -> tuple[Curvature, Extrinsic]:
    r"""Intrinsic and extrinsic curvature from the Gram matrix of the jet alone.

    With ``G`` as :func:`jet_gram` builds it (``g = ⟨∂_a r, ∂_b r⟩``,
    ``A_ebc = ⟨∂_e r, ∂_b∂_c r⟩``, ``B_abcd = ⟨∂_a∂_b r, ∂_c∂_d r⟩``)::

        Γᵃ_bc = gᵃᵉ A_ebc,      ⟨II_ab, II_cd⟩ = B_abcd − A_eab gᵉᶠ A_fcd,
        R_abcd = ⟨II_ac, II_bd⟩ − ⟨II_ad, II_bc⟩,   |H|² = gᵃᵇ gᶜᵈ ⟨II_ab, II_cd⟩ / k²,
        κ = eigenvalues of g⁻¹ ⟨II, H⟩ / |H|,

    the conventions of :func:`curvature_from_embedding` and :class:`Extrinsic`. Meant for
    estimated (bias-corrected) Gram matrices, which may be indefinite: points with a
    non-finite ``G`` or a metric block that is singular or indefinite are ``singular``
    (NaN); where the estimate of ``|H|²`` is not positive the principal curvatures are
    not identifiable (NaN, ``normal_undefined``). ``second_fundamental_form`` and
    ``mean_curvature`` (vectors) are None: inner products do not give them.

    Parameters
    ----------
    G : Tensor, shape (m, k + k², k + k²)
    k : int
        Number of coordinates.
    on_singular : {"raise", "nan"}

    Returns
    -------
    (Curvature, Extrinsic)

    Examples
    --------
    >>> import torch
    >>> para = lambda c: torch.cat([c, (c**2).sum()[None]])
    >>> J, H = embedding_jets(para, torch.zeros(1, 2, dtype=torch.float64))
    >>> curv, ext = curvature_from_gram(jet_gram(J, H), 2)
    >>> float(curv.scalar[0]), float(ext.mean_curvature_norm[0])
    (8.0, 2.0)
    """
    check_on_singular(on_singular)
    p = k + k * k
    if G.ndim != 3 or tuple(G.shape[1:]) != (p, p):
        raise ShapeError(f"G has shape {tuple(G.shape)}; expected (m, {p}, {p}) for k = {k}.")
    m = G.shape[0]
    G = 0.5 * (G + G.mT)
    finite = torch.isfinite(G).all(-1).all(-1)
    eye = torch.eye(k, dtype=G.dtype, device=G.device)
    g = torch.where(finite[:, None, None], G[:, :k, :k], eye)
    eig = torch.linalg.eigvalsh(g)
    singular = ~finite | (eig[:, 0] <= metric_tolerance(g, eig.abs()))
    if on_singular == "raise" and bool(singular.any()):
        idx = int(torch.nonzero(singular)[0, 0])
        raise SingularMetricError(
            f"the metric at point {idx} (of {m}) is singular, indefinite or not finite, so "
            "its curvature is undefined. Pass on_singular='nan' to get NaN there with a "
            "`singular` mask."
        )
    safe = torch.where(singular[:, None, None], eye, g)
    G = torch.where(finite[:, None, None], G, torch.zeros_like(G))
    ginv = torch.linalg.inv(safe)
    A = G[:, :k, k:].reshape(m, k, k, k)
    B = G[:, k:, k:].reshape(m, k, k, k, k)
    NN = B - torch.einsum("meab,mef,mfcd->mabcd", A, ginv, A)
    gamma = torch.einsum("mae,mebc->mabc", ginv, A)
    if k == 1:
        lower = G.new_zeros(m, 1, 1, 1, 1)
    else:
        lower = torch.einsum("macbd->mabcd", NN) - torch.einsum("madbc->mabcd", NN)
    riemann = torch.einsum("mae,mebcd->mabcd", ginv, lower)
    ricci = torch.einsum("mac,mabcd->mbd", ginv, lower)
    scalar = torch.einsum("mbd,mbd->m", ginv, ricci)
    trace = torch.einsum("mcd,mabcd->mab", ginv, NN) / k  # ⟨II_ab, H⟩
    H2 = torch.einsum("mab,mab->m", ginv, trace) / k
    undefined = ~(H2 > 0) & ~singular
    Hnorm = torch.sqrt(H2.clamp_min(0))
    Hnorm = torch.where(H2 < 0, torch.nan, Hnorm)
    L = torch.linalg.cholesky(safe)
    shape_op = trace / torch.where(H2 > 0, Hnorm, torch.ones_like(Hnorm))[:, None, None]
    Y = torch.linalg.solve_triangular(L, shape_op, upper=False)
    S = torch.linalg.solve_triangular(L, Y.mT, upper=False)  # L⁻¹ shape_op L⁻ᵀ
    kappa = torch.linalg.eigvalsh(0.5 * (S + S.mT)).flip(-1)
    kappa = torch.where(undefined[:, None], torch.nan, kappa)
    out = [_mask(t, singular) for t in (g, gamma, riemann, ricci, scalar, Hnorm, kappa)]
    curv = Curvature(out[0], out[1], out[2], out[3], out[4], singular)
    return curv, Extrinsic(None, None, out[5], out[6], undefined, singular)
