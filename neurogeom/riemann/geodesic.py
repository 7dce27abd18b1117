r"""Geodesics of a metric field: collocation on the geodesic equation, lengths, energies.

Pure math on arrays and on callables of arrays (no response maps). A path ``c(t)``,
``t ∈ [0, 1]``, in ``k`` coordinates is a geodesic when

.. math:: \ddot c^a + \Gamma^a_{bc}(c)\, \dot c^b \dot c^c = 0,

with the Christoffel symbols ``Γᵃ_bc`` at ``[..., a, b, c]`` (the convention of
``neurogeom.riemann.curvature``). :func:`solve_geodesic_bvp` solves the boundary-value
problem ``c(0) = a``, ``c(1) = b`` by Chebyshev collocation (spectral accuracy for smooth
metrics) and a damped Newton iteration, for many pairs at once: every evaluation of the
metric field is one batched call over all pairs and nodes. Its Jacobian takes the
derivative of ``Γ`` by central differences of the field (only the iteration's speed
depends on it; the residual that decides convergence is exact).

The length ``L = ∫ ‖ċ‖_g dt`` and the energy ``E = ∫ ‖ċ‖²_g dt`` (so ``L² ≤ E``, equal
for a constant-speed path, which a geodesic is) are integrated by Clenshaw–Curtis
quadrature on the same nodes (:func:`path_length`); :func:`response_energy` is the
discrete energy of a path through its responses, ``(N−1) Σ ‖r_{i+1} − r_i‖²`` on ``N``
uniform nodes, which needs forward passes only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

from ..errors import ParameterError, ShapeError, SingularMetricError

__all__ = [
    "DiscreteGeodesic",
    "GeodesicSolution",
    "ResponsesVJP",
    "chebyshev_collocation",
    "christoffel_from_metric_derivatives",
    "geodesic_residual",
    "minimise_response_energy",
    "path_energy",
    "path_length",
    "response_energy",
    "response_length",
    "solve_geodesic_bvp",
]

#: ``field(c)`` for ``c`` of shape ``(M, k)``: the metric ``(M, k, k)`` and the Christoffel
#: symbols ``(M, k, k, k)`` there (NaN where the metric is singular), float64 tensors;
#: with ``christoffel=False`` only the metric is needed (the symbols may be None).
Field = Callable[..., tuple[torch.Tensor, torch.Tensor | None]]


class GeodesicSolution(NamedTuple):
    """What :func:`solve_geodesic_bvp` returns, per pair (first axis ``p``).

    Attributes
    ----------
    t : Tensor (N + 1,)
        The Chebyshev nodes in ``[0, 1]`` (``t[0] = 0``, ``t[-1] = 1``).
    path : Tensor (p, N + 1, k)
        The path at the nodes.
    velocity : Tensor (p, N + 1, k)
        ``ċ`` at the nodes (spectral derivative).
    length, energy : Tensor (p,)
        ``∫ ‖ċ‖_g dt`` and ``∫ ‖ċ‖²_g dt`` (Clenshaw–Curtis).
    converged : Tensor of bool (p,)
        Whether Newton's steps fell below the tolerance.
    residual : Tensor (p,)
        ``max_i ‖c̈ + Γ(ċ, ċ)‖_∞ / max(1, max_i ‖c̈‖_∞)`` at the interior nodes: the relative
        defect of the geodesic equation on the returned path.
    iterations : Tensor of int (p,)
        Newton iterations taken.
    singular_node : Tensor of int (p,)
        The first node of the initial path where the metric is singular (such a pair is
        not iterated), or −1.
    """

    t: torch.Tensor
    path: torch.Tensor
    velocity: torch.Tensor
    length: torch.Tensor
    energy: torch.Tensor
    converged: torch.Tensor
    residual: torch.Tensor
    iterations: torch.Tensor
    singular_node: torch.Tensor


def chebyshev_collocation(nodes: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Chebyshev–Gauss–Lobatto nodes on ``[0, 1]``, their differentiation matrix and weights.

    Parameters
    ----------
    nodes : int
        ``N``: the polynomial degree (``N + 1`` nodes), at least 2.

    Returns
    -------
    t : Tensor (N + 1,)
        ``(1 − cos(π j / N)) / 2``, increasing from 0 to 1.
    D : Tensor (N + 1, N + 1)
        ``(D f)(t_i) = f'(t_i)`` exactly for polynomials of degree ≤ N.
    w : Tensor (N + 1,)
        Clenshaw–Curtis weights: ``Σ w_j f(t_j) = ∫₀¹ f dt`` exactly for degree ≤ N.

    Examples
    --------
    >>> t, D, w = chebyshev_collocation(4)
    >>> float((D @ t**3 - 3 * t**2).abs().max()) < 1e-13, round(float(w @ t**2), 14)
    (True, 0.33333333333333)
    """
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) or nodes < 2:
        raise ParameterError(f"nodes={nodes!r}; expected an integer of at least 2.")
    n = int(nodes)
    j = np.arange(n + 1)
    x = np.cos(np.pi * j / n)  # Trefethen, Spectral Methods in MATLAB, cheb.m
    c = np.where((j == 0) | (j == n), 2.0, 1.0) * (-1.0) ** j
    X = x[:, None] - x[None, :]
    Dx = np.outer(c, 1 / c) / (X + np.eye(n + 1))
    Dx -= np.diag(Dx.sum(axis=1))
    theta = np.pi * j / n  # clencurt.m
    w = np.zeros(n + 1)
    v = np.ones(n - 1)
    inner = theta[1:-1]
    if n % 2 == 0:
        w[0] = w[n] = 1 / (n**2 - 1)
        for k in range(1, n // 2):
            v -= 2 * np.cos(2 * k * inner) / (4 * k**2 - 1)
        v -= np.cos(n * inner) / (n**2 - 1)
    else:
        w[0] = w[n] = 1 / n**2
        for k in range(1, (n - 1) // 2 + 1):
            v -= 2 * np.cos(2 * k * inner) / (4 * k**2 - 1)
    w[1:-1] = 2 * v / n
    t = (1 - x) / 2  # t = 0 at j = 0; dt/dx = -1/2
    return (
        torch.as_tensor(t, dtype=torch.float64),
        torch.as_tensor(-2.0 * Dx, dtype=torch.float64),
        torch.as_tensor(w / 2, dtype=torch.float64),
    )


def geodesic_residual(
    acceleration: torch.Tensor, velocity: torch.Tensor, christoffel: torch.Tensor
) -> torch.Tensor:
    """The defect ``c̈ᵃ + Γᵃ_bc ċᵇ ċᶜ`` of the geodesic equation.

    Parameters
    ----------
    acceleration, velocity : Tensor (..., k)
    christoffel : Tensor (..., k, k, k)

    Returns
    -------
    Tensor (..., k)

    Examples
    --------
    A great circle of the unit sphere, (θ, φ) = (π/2, t), has zero defect:

    >>> import torch
    >>> G = torch.zeros(1, 2, 2, 2, dtype=torch.float64)   # Γ^θ_φφ = -sin θ cos θ = 0
    >>> geodesic_residual(torch.zeros(1, 2), torch.tensor([[0.0, 1.0]]), G.float())
    tensor([[0., 0.]])
    """
    return acceleration + torch.einsum("...abc,...b,...c->...a", christoffel, velocity, velocity)


def path_length(metrics: Any, velocity: Any, weights: Any, *, energy: bool = False) -> torch.Tensor:
    """Length ``∫ ‖ċ‖_g dt`` (or energy ``∫ ‖ċ‖²_g dt``) of paths by a quadrature rule.

    Parameters
    ----------
    metrics : Tensor (..., N, k, k)
        The metric at the nodes.
    velocity : Tensor (..., N, k)
        ``ċ`` at the nodes.
    weights : Tensor (N,)
        Quadrature weights (those of :func:`chebyshev_collocation`).
    energy : bool
        Integrate the squared speed instead.

    Returns
    -------
    Tensor (...)

    Examples
    --------
    A quarter of the unit circle in the polar chart, ρ = 1, θ = π t / 2:

    >>> import math, torch
    >>> t, D, w = chebyshev_collocation(8)
    >>> v = torch.stack([0 * t, math.pi / 2 + 0 * t], -1)
    >>> g = torch.eye(2, dtype=torch.float64).expand(9, 2, 2)
    >>> round(float(path_length(g, v, w)), 12), round(math.pi / 2, 12)
    (1.570796326795, 1.570796326795)
    """
    g, v, w = (torch.as_tensor(a, dtype=torch.float64) for a in (metrics, velocity, weights))
    sq = torch.einsum("...a,...ab,...b->...", v, g, v).clamp_min(0.0)
    return (sq if energy else sq.sqrt()) @ w


def path_energy(metrics: Any, velocity: Any, weights: Any) -> torch.Tensor:
    """Energy ``∫ ‖ċ‖²_g dt`` of paths: :func:`path_length` with ``energy=True``.

    Examples
    --------
    >>> import torch
    >>> t, D, w = chebyshev_collocation(4)
    >>> g = 4.0 * torch.eye(1, dtype=torch.float64).expand(5, 1, 1)
    >>> float(path_energy(g, torch.ones(5, 1, dtype=torch.float64), w))   # ‖ċ‖² = 4
    4.0
    """
    return path_length(metrics, velocity, weights, energy=True)


def response_energy(responses: Any) -> torch.Tensor:
    """Discrete energy ``(N − 1) Σᵢ ‖r_{i+1} − r_i‖²`` of paths through their responses.

    For ``N`` equally spaced nodes of ``t ∈ [0, 1]`` it tends to ``∫ ‖ṙ‖² dt``, the energy
    under the pullback metric, and needs the responses only (forward passes).

    Parameters
    ----------
    responses : Tensor (..., N, n)

    Returns
    -------
    Tensor (...)

    Examples
    --------
    >>> import torch
    >>> r = torch.linspace(0, 1, 11, dtype=torch.float64)[:, None] * torch.tensor([3.0, 4.0])
    >>> round(float(response_energy(r)), 12)     # ‖ṙ‖² = 25
    25.0
    """
    diff = _response_steps(responses)
    return diff.shape[-2] * (diff**2).sum(dim=(-1, -2))


def response_length(responses: Any) -> torch.Tensor:
    """Length ``Σᵢ ‖r_{i+1} − r_i‖`` of the polygon through the responses of a path.

    Parameters
    ----------
    responses : Tensor (..., N, n)

    Returns
    -------
    Tensor (...)

    Examples
    --------
    >>> import torch
    >>> r = torch.linspace(0, 1, 11, dtype=torch.float64)[:, None] * torch.tensor([3.0, 4.0])
    >>> round(float(response_length(r)), 12)
    5.0
    """
    return _response_steps(responses).norm(dim=-1).sum(-1)


def _response_steps(responses: Any) -> torch.Tensor:
    """``r_{i+1} − r_i`` ``(..., N − 1, n)`` of responses ``(..., N, n)``, N ≥ 2."""
    r = torch.as_tensor(responses)
    if r.ndim < 2 or r.shape[-2] < 2:
        raise ShapeError(f"responses have shape {tuple(r.shape)}; expected (..., N >= 2, n).")
    return r[..., 1:, :] - r[..., :-1, :]


def christoffel_from_metric_derivatives(g: torch.Tensor, dg: torch.Tensor) -> torch.Tensor:
    """``Γᵃ_bc = ½ gᵃᵈ (∂_b g_dc + ∂_c g_db − ∂_d g_bc)`` from the metric's first derivatives.

    Parameters
    ----------
    g : Tensor (M, k, k)
    dg : Tensor (M, k, k, k)
        ``∂_e g_bc`` at ``[:, e, b, c]``.

    Returns
    -------
    Tensor (M, k, k, k)
        NaN where ``g`` cannot be inverted.

    Examples
    --------
    Polar chart, g = diag(1, ρ²) at ρ = 2: ``Γ^ρ_θθ = −ρ``, ``Γ^θ_ρθ = 1/ρ``.

    >>> import torch
    >>> g = torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64))[None]
    >>> dg = torch.zeros(1, 2, 2, 2, dtype=torch.float64); dg[0, 0, 1, 1] = 4.0
    >>> G = christoffel_from_metric_derivatives(g, dg)
    >>> float(G[0, 0, 1, 1]), float(G[0, 1, 0, 1])
    (-2.0, 0.5)
    """
    lower = 0.5 * (dg.permute(0, 2, 1, 3) + dg.permute(0, 2, 3, 1) - dg)  # [m, d, b, c]
    k = g.shape[-1]
    inv, info = torch.linalg.inv_ex(g)
    out = torch.einsum("mad,mdbc->mabc", inv, lower)
    bad = (info != 0) | ~torch.isfinite(out).reshape(len(g), -1).all(1)
    return torch.where(bad[:, None, None, None], torch.nan, out).reshape(-1, k, k, k)


def _step(points: torch.Tensor) -> torch.Tensor:
    """Central-difference step per point, ``ε^{1/3} max(1, ‖c‖_∞)``."""
    return float(np.cbrt(np.finfo(np.float64).eps)) * points.abs().amax(-1).clamp_min(1.0)


def _residual(
    field: Field, C: torch.Tensor, D: torch.Tensor, D2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Defect ``c̈ + Γ(ċ, ċ)`` at the interior nodes (p, N-1, k) and Γ there."""
    p, n1, k = C.shape
    _, G = field(C[:, 1:-1].reshape(-1, k), christoffel=True)
    assert G is not None
    V, A = D @ C, D2 @ C
    M = p * (n1 - 2)
    R = geodesic_residual(A[:, 1:-1].reshape(M, k), V[:, 1:-1].reshape(M, k), G)
    return R.reshape(p, n1 - 2, k), G.reshape(p, n1 - 2, k, k, k)


def _newton_matrix(
    field: Field, C: torch.Tensor, D: torch.Tensor, D2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Residual, Newton matrix (p, (N-1)k, (N-1)k) and Γ at the interior nodes."""
    p, n1, k = C.shape
    inner = C[:, 1:-1].reshape(-1, k)
    h = _step(inner)
    shifts = torch.eye(k, dtype=C.dtype)[:, None, :] * h[None, :, None]  # (k, M, k)
    stacked = torch.cat([inner[None], inner[None] + shifts, inner[None] - shifts]).reshape(-1, k)
    _, G_all = field(stacked, christoffel=True)
    assert G_all is not None
    M = len(inner)
    G_all = G_all.reshape(2 * k + 1, M, k, k, k)
    G = G_all[0]
    dG = (G_all[1 : k + 1] - G_all[k + 1 :]) / (2 * h[None, :, None, None, None])  # [e,M,a,b,c]
    dG = torch.nan_to_num(dG, nan=0.0, posinf=0.0, neginf=0.0)  # a shift met a singular point
    V, A = D @ C, D2 @ C
    Vi = V[:, 1:-1].reshape(M, k)
    R = geodesic_residual(A[:, 1:-1].reshape(M, k), Vi, G).reshape(p, n1 - 2, k)
    B = 2 * torch.einsum("mabe,mb->mae", G, Vi).reshape(p, n1 - 2, k, k)
    dGvv = torch.einsum("emabc,mb,mc->mae", dG, Vi, Vi).reshape(p, n1 - 2, k, k)
    eye = torch.eye(k, dtype=C.dtype)
    Dint, D2int = D[1:-1, 1:-1], D2[1:-1, 1:-1]
    jac = D2int[:, None, :, None] * eye[None, :, None, :]  # [i, a, j, e]
    jac = jac[None] + B[:, :, :, None, :] * Dint[None, :, None, :, None]
    idx = torch.arange(n1 - 2)
    jac[:, idx, :, idx, :] += dGvv.permute(1, 0, 2, 3)
    jac = jac.reshape(p, (n1 - 2) * k, (n1 - 2) * k)
    return R, jac, G.reshape(p, n1 - 2, k, k, k)


def _max_norm(R: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """Max-norm of each pair's defect; infinite where Γ is not finite (a singular metric)."""
    regular = torch.isfinite(G).reshape(len(G), -1).all(1)
    return torch.where(regular, R.abs().nan_to_num(torch.inf).amax(dim=(1, 2)), torch.inf)


def _check_regular(G: torch.Tensor, C: torch.Tensor, t: torch.Tensor, rows: torch.Tensor) -> None:
    """Refuse a path through a singular metric, naming the pair, the node and the point."""
    bad = ~torch.isfinite(G).reshape(*G.shape[:2], -1).all(-1)
    if bool(bad.any()):
        pair, node = (int(i) for i in torch.nonzero(bad)[0])
        where = C[pair, node + 1].tolist()
        raise SingularMetricError(
            f"pair {int(rows[pair])}: the metric is singular (or not finite) on the path at "
            f"t = {float(t[node + 1]):.4g}, coordinates {np.round(where, 6).tolist()}; a "
            "geodesic cannot cross a point where the chart degenerates. Choose end points "
            "whose connecting path stays where the representation is regular (or another "
            "chart)."
        )


def _chebyshev_matrix(t: torch.Tensor, n: int) -> torch.Tensor:
    """``T_j(1 − 2 t_i)`` for ``j = 0..n``: values of the Chebyshev polynomials."""
    x = (1 - 2 * t).clamp(-1, 1)
    return torch.cos(torch.arange(n + 1, dtype=torch.float64)[None] * torch.arccos(x)[:, None])


def _tail(C: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Relative size of the last three Chebyshev coefficients of each path (p,)."""
    n = C.shape[1] - 1
    coef = torch.linalg.solve(_chebyshev_matrix(t, n), C)  # (p, n + 1, k)
    top = coef[:, 1:].abs().amax(dim=(1, 2)).clamp_min(torch.finfo(torch.float64).tiny)
    return coef[:, -3:].abs().amax(dim=(1, 2)) / top


def _interpolate(C: torch.Tensor, t: torch.Tensor, new_t: torch.Tensor) -> torch.Tensor:
    """The Chebyshev interpolant of paths ``C`` (on nodes ``t``) at ``new_t``."""
    n = len(t) - 1
    return _chebyshev_matrix(new_t, n) @ torch.linalg.solve(_chebyshev_matrix(t, n), C)


#: Above this size torch's *batched* LU (MKL getrf, CPU builds) fails after any explicit
#: ``torch.set_num_threads`` call ("Intel oneMKL ERROR: Parameter 6 was incorrect on entry
#: to DLASWP") and then hangs; one matrix at a time it is correct. Measured with torch
#: 2.13 / oneMKL 2024.2: sizes up to 128 work batched, 129 and up do not.
_BATCHED_LU_MAX = 128


def _solve_each(A: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.linalg.solve_ex(A, B)`` for ``(b, n, n)``, ``(b, n)``; per matrix when large."""
    if A.shape[-1] <= _BATCHED_LU_MAX or A.device.type != "cpu":
        return torch.linalg.solve_ex(A, B)
    parts = [torch.linalg.solve_ex(a, v) for a, v in zip(A, B, strict=True)]
    if not parts:
        return B.clone(), torch.zeros(0, dtype=torch.int32)
    return torch.stack([x for x, _ in parts]), torch.stack([i for _, i in parts])


def _newton(
    field: Field,
    C: torch.Tensor,
    t: torch.Tensor,
    D: torch.Tensor,
    *,
    tol: float,
    max_iter: int,
    on_singular: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Solve the collocation equations from paths ``C``.

    Returns the paths, converged, iterations, relative residual and first singular node.
    """
    C = C.clone()
    D2 = D @ D
    p, _, k = C.shape
    converged = torch.zeros(p, dtype=torch.bool)
    stalled = torch.zeros(p, dtype=torch.bool)
    iterations = torch.zeros(p, dtype=torch.long)
    R, jac, G = _newton_matrix(field, C, D, D2)
    bad = ~torch.isfinite(G).reshape(p, G.shape[1], -1).all(-1)
    singular_node = torch.where(bad.any(1), bad.to(torch.int8).argmax(1) + 1, -1)
    if on_singular == "raise":
        _check_regular(G, C, t, torch.arange(p))
    stalled |= singular_node >= 0
    norm = _max_norm(R, G)
    scale = (D2 @ C)[:, 1:-1].abs().amax(dim=(1, 2)).clamp_min(1.0)
    fresh = torch.ones(p, dtype=torch.bool)  # Newton matrix taken at the current path
    tau = torch.full((p,), 1.0, dtype=torch.float64)
    eye = torch.eye(jac.shape[-1], dtype=torch.float64)
    # Pseudo-transient continuation of the curve-shortening flow ċ_τ = c̈ + Γ(ċ, ċ)
    # (implicit Euler steps of size τ; τ grows as the defect falls, τ → ∞ is Newton's
    # method), with a chord Newton matrix: kept while the defect contracts well and
    # re-taken at the current path when it does not; a step that does not reduce the
    # defect with a fresh matrix is retried with τ / 4.
    for _ in range(max_iter):
        act = torch.nonzero(~converged & ~stalled).flatten()
        if len(act) == 0:
            break
        lhs = jac[act] - eye / tau[act, None, None]
        finite = torch.isfinite(lhs).reshape(len(act), -1).all(1)
        finite &= torch.isfinite(R[act]).reshape(len(act), -1).all(1)
        lhs = torch.where(finite[:, None, None], lhs, eye)  # (LAPACK must not see NaN)
        rhs = torch.where(finite[:, None], -R[act].reshape(len(act), -1), 0.0)
        step, info = _solve_each(lhs, rhs)
        solved = finite & (info == 0) & torch.isfinite(step).all(1)
        step = torch.where(solved[:, None], step, torch.zeros_like(step)).reshape(len(act), -1, k)
        trial = C[act].clone()
        trial[:, 1:-1] += step
        Rt, Gt = _residual(field, trial, D, D2)
        nt = _max_norm(Rt, Gt)
        size = step.abs().amax(dim=(1, 2)).nan_to_num(torch.inf)
        old = norm[act].clone()
        small = solved & (size <= tol * (1 + C[act].abs().amax(dim=(1, 2))))
        small &= nt <= 1e-6 * scale[act]  # a tiny step of the flow is not yet a solution
        ok = solved & ((nt < old) | (small & torch.isfinite(nt)))
        contracted = ok & (nt <= 0.25 * old)
        iterations[act] += 1
        good = act[ok]
        C[good], R[good], norm[good] = trial[ok], Rt[ok], nt[ok]
        converged[good] = small[ok]
        growth = (old[ok] / nt[ok]).nan_to_num(1.0, posinf=1e3).clamp(1.0, 1e3)
        tau[good] = (tau[good] * growth).clamp(max=1e15)
        # refresh the matrix where the step failed with a stale one, or contracted slowly
        failed = act[~ok]
        stale_fail = failed[~fresh[failed]]
        fresh_fail = failed[fresh[failed]]
        tau[fresh_fail] /= 4
        stalled[fresh_fail[tau[fresh_fail] < 1e-7]] = True
        renew = torch.cat([stale_fail, act[ok & ~small & ~contracted]])
        fresh[good] = False
        if len(renew):
            Rn, jn, Gn = _newton_matrix(field, C[renew], D, D2)
            R[renew], jac[renew], norm[renew] = Rn, jn, _max_norm(Rn, Gn)
            fresh[renew] = True
    return C, converged, iterations, norm / scale, singular_node


def solve_geodesic_bvp(
    field: Field,
    a: Any,
    b: Any,
    *,
    init: Any = None,
    nodes: int = 16,
    max_nodes: int = 256,
    resolution: float = 1e-7,
    tol: float = 1e-9,
    max_iter: int = 100,
    on_singular: str = "raise",
) -> GeodesicSolution:
    """Geodesics from ``a`` to ``b`` for many pairs at once: Chebyshev collocation + Newton.

    Each pair's path is a polynomial of degree ``N`` in ``t``; the collocation equations
    (the geodesic equation at the interior Chebyshev nodes) are solved by a damped chord
    Newton iteration (pseudo-transient continuation of the curve-shortening flow, so
    that a poor initial path is first smoothed towards a geodesic). Where the solved
    path's last Chebyshev coefficients exceed ``resolution`` (relative), the degree is
    doubled, the path interpolated and the iteration continued, up to ``max_nodes``.

    Parameters
    ----------
    field : callable
        ``field(c, christoffel=True)`` for ``c`` of shape ``(M, k)`` returns the metric
        ``(M, k, k)`` and the Christoffel symbols ``(M, k, k, k)`` there, float64 tensors
        (NaN symbols where the metric is singular); with ``christoffel=False`` the symbols
        may be None. Called on all pairs' nodes at once.
    a, b : Tensor (p, k)
        End points.
    init : Tensor (p, nodes + 1, k), optional
        Initial paths at the nodes of degree ``nodes`` (default: the straight segments).
    nodes : int
        Initial polynomial degree ``N`` of the path.
    max_nodes : int
        The largest degree the refinement may reach; a path still under-resolved there is
        reported as not converged.
    resolution : float
        Largest relative size of the last three Chebyshev coefficients of a resolved path
        (the length's discretisation error is about its square: the length is stationary
        at a geodesic).
    tol : float
        Convergence: the Newton step (max-norm, relative to ``1 + max |c|``) at most this,
        and the relative defect at most 1e-6.
    max_iter : int
        Newton iterations at most, per degree.
    on_singular : {"raise", "mark"}
        Where an initial path meets a singular metric: raise, or leave the pair
        unsolved and report the node in ``singular_node``. A step into a singular region
        is always rejected (and retried shorter).

    Returns
    -------
    GeodesicSolution
        On the nodes of the final degree (the same for all pairs; a pair resolved at a
        lower degree is interpolated there, exactly).

    Raises
    ------
    SingularMetricError
        With ``on_singular="raise"``, an initial path meets a singular metric (the message
        names the pair and the point).

    Examples
    --------
    The unit sphere in the chart (θ, φ): the length is the great-circle angle.

    >>> import math, torch
    >>> def sphere(c, christoffel=True):
    ...     th = c[:, 0]
    ...     g = torch.diag_embed(torch.stack([torch.ones_like(th), th.sin() ** 2], -1))
    ...     G = torch.zeros(len(c), 2, 2, 2, dtype=c.dtype)
    ...     G[:, 0, 1, 1] = -th.sin() * th.cos()
    ...     G[:, 1, 0, 1] = G[:, 1, 1, 0] = th.cos() / th.sin()
    ...     return g, G
    >>> a = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    >>> b = torch.tensor([[2.0, 1.0]], dtype=torch.float64)
    >>> sol = solve_geodesic_bvp(sphere, a, b)
    >>> def unit(x):
    ...     return torch.stack([x[:, 0].sin() * x[:, 1].cos(), x[:, 0].sin() * x[:, 1].sin(),
    ...                         x[:, 0].cos()], -1)
    >>> exact = torch.arccos((unit(a) * unit(b)).sum(-1))
    >>> bool(sol.converged[0]), float(abs(sol.length[0] / exact[0] - 1)) < 1e-12
    (True, True)
    """
    a_ = torch.as_tensor(a, dtype=torch.float64)
    b_ = torch.as_tensor(b, dtype=torch.float64)
    if a_.ndim != 2 or a_.shape != b_.shape:
        raise ShapeError(
            f"a has shape {tuple(a_.shape)} and b {tuple(b_.shape)}; expected both (p, k)."
        )
    for name, value in (("tol", tol), ("resolution", resolution)):
        if isinstance(value, bool) or not (
            isinstance(value, (int, float)) and math.isfinite(value) and value > 0
        ):
            raise ParameterError(f"{name}={value!r}; expected a positive number.")
    if on_singular not in ("raise", "mark"):
        raise ParameterError(f"on_singular={on_singular!r}; use 'raise' or 'mark'.")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)):
        raise ParameterError(f"max_nodes={max_nodes!r}; expected an integer.")
    p, k = a_.shape
    n = int(nodes)
    t = chebyshev_collocation(n)[0]
    if init is None:
        C = a_[:, None] + t[None, :, None] * (b_ - a_)[:, None]
    else:
        C = torch.as_tensor(init, dtype=torch.float64).clone()
        if tuple(C.shape) != (p, len(t), k):
            raise ShapeError(f"init has shape {tuple(C.shape)}; expected {(p, len(t), k)}.")
        C[:, 0], C[:, -1] = a_, b_
    iterations = torch.zeros(p, dtype=torch.long)
    converged = torch.zeros(p, dtype=torch.bool)
    singular_node = torch.full((p,), -1, dtype=torch.long)
    resid = torch.full((p,), torch.inf, dtype=torch.float64)
    todo = torch.arange(p)
    first = True
    while True:
        D = chebyshev_collocation(n)[1]
        Cn, conv, its, res, sing = _newton(
            field, C[todo], t, D, tol=tol, max_iter=max_iter, on_singular=on_singular
        )
        C[todo], converged[todo], resid[todo] = Cn, conv, res
        iterations[todo] += its
        if first:
            singular_node[todo] = sing
            first = False
        coarse = (_tail(Cn, t) > resolution) & (sing < 0)
        if not bool(coarse.any()):
            break
        if 2 * n > max_nodes:  # still under-resolved at the finest degree allowed
            converged[todo[coarse]] = False
            break
        finer = chebyshev_collocation(2 * n)[0]
        C, t, n = _interpolate(C, t, finer), finer, 2 * n
        todo = todo[coarse]
    t, D, w = chebyshev_collocation(n)
    g = field(C.reshape(-1, k), christoffel=False)[0].reshape(p, len(t), k, k)
    V = D @ C
    return GeodesicSolution(
        t=t,
        path=C,
        velocity=V,
        length=path_length(g, V, w),
        energy=path_energy(g, V, w),
        converged=converged,
        residual=resid,
        iterations=iterations,
        singular_node=singular_node,
    )


# -- the discrete path energy through the responses (forward and reverse passes only) ---------

#: ``responses(c)`` for ``c`` of shape ``(M, k)``: the responses ``(M, n)`` there and their
#: pullback ``v ↦ Jᵀv``, ``(M, n) → (M, k)`` (the vector–Jacobian product in the path's
#: coordinates), float64 tensors.
ResponsesVJP = Callable[[torch.Tensor], tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]]


class DiscreteGeodesic(NamedTuple):
    """What :func:`minimise_response_energy` returns, per pair (first axis ``p``).

    Attributes
    ----------
    t : Tensor (N + 1,)
        Equally spaced ``i / N``.
    path : Tensor (p, N + 1, k)
        The path at the nodes.
    length : Tensor (p,)
        ``Σᵢ ‖r(c_{i+1}) − r(c_i)‖``: the length of the response polygon (below the
        length of the smooth geodesic by O(1/N²)).
    energy : Tensor (p,)
        The discrete energy ``N Σᵢ ‖r(c_{i+1}) − r(c_i)‖²`` (≥ ``length²``, equal when the
        steps are equal).
    initial_energy, initial_length : Tensor (p,)
        The discrete energy and length of the initial path at the final ``N`` (for the
        decrease).
    converged : Tensor of bool (p,)
        Whether the residual is at most the tolerance.
    residual : Tensor (p,)
        The energy's relative decrease over the last ``STALL_WINDOW`` (5) iterations.
    iterations : Tensor of int (p,)
        L-BFGS iterations, summed over the refinements.
    """

    t: torch.Tensor
    path: torch.Tensor
    length: torch.Tensor
    energy: torch.Tensor
    initial_energy: torch.Tensor
    initial_length: torch.Tensor
    converged: torch.Tensor
    residual: torch.Tensor
    iterations: torch.Tensor


def _sine_basis(N: int) -> torch.Tensor:
    """``M`` (N−1, N−1): interior offsets ``δ = M b`` whose flat discrete energy is ``‖b‖²``.

    The energy ``N Σ ‖δ_{i+1} − δ_i‖²`` (``δ_0 = δ_N = 0``) is ``N δᵀLδ`` with ``L`` the
    Dirichlet second-difference matrix, diagonalised by ``sin(π i j / N)`` with eigenvalues
    ``4 sin²(π j / 2N)``; scaling each sine by ``1 / (N √2 sin(π j / 2N))`` whitens it, so
    the minimisation is as well conditioned in ``t`` at every ``N``.
    """
    j = np.arange(1, N)
    S = np.sin(np.pi * np.outer(j, j) / N)
    return torch.as_tensor(S / (N * np.sqrt(2.0) * np.sin(np.pi * j / (2 * N))))


def _discrete_energy(
    responses: ResponsesVJP, C: torch.Tensor, gradient: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Energies ``(p,)``, lengths ``(p,)`` and ``∂E/∂C`` ``(p, N + 1, k)`` of paths ``C``."""
    p, n1, k = C.shape
    N = n1 - 1
    r, pull = responses(C.reshape(-1, k))
    r = r.reshape(p, n1, -1)
    step = _response_steps(r)
    energy, length = N * (step**2).sum(dim=(1, 2)), step.norm(dim=-1).sum(1)
    if not gradient:
        return energy, length, None
    v = torch.zeros_like(r)
    v[:, 1:-1] = 2 * N * (step[:, :-1] - step[:, 1:])
    return energy, length, pull(v.reshape(p * n1, -1)).reshape(p, n1, k)


def _minimise_level(
    responses: ResponsesVJP, C: torch.Tensor, *, tol: float, max_iter: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batched L-BFGS on each pair's interior nodes at one ``N``.

    Returns the paths, the energies' last relative decreases, energies, lengths and
    iterations per pair. Each pair has its own memory and line search; every evaluation
    is one call of ``responses`` on the nodes of the pairs still iterating, and a pair
    leaves the iteration once its energy stalls (see :func:`_stall`).
    """
    p, n1, k = C.shape
    N = n1 - 1
    M = _sine_basis(N)
    base = C.clone()

    def evaluate(rows: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, ...]:
        paths = base[rows].clone()
        paths[:, 1:-1] += M @ B.reshape(len(rows), N - 1, k)
        E, L, grad = _discrete_energy(responses, paths)
        assert grad is not None
        return E, L, (M.T @ grad[:, 1:-1]).reshape(len(rows), -1)

    rows = torch.arange(p)
    B = torch.zeros(p, (N - 1) * k, dtype=torch.float64)
    E, L, G = evaluate(rows, B)
    history = [E.clone()]
    memory: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    iterations = torch.zeros(p, dtype=torch.long)
    active = torch.ones(p, dtype=torch.bool)
    stuck = torch.zeros(p, dtype=torch.bool)
    for _ in range(max_iter):
        act = torch.nonzero(active).flatten()
        if len(act) == 0:
            break
        d = -_two_loop(G, memory)[act]
        slope = (d * G[act]).sum(1)
        uphill = ~(slope < 0)
        d[uphill], slope[uphill] = -G[act][uphill], -(G[act][uphill] ** 2).sum(1)
        step = torch.ones(len(act), dtype=torch.float64)
        if not memory:  # first step: a unit move of the whitened offsets
            step = 1 / G[act].norm(dim=1).clamp_min(1e-300)
        trial = _armijo(evaluate, act, B[act], E[act], d, slope, step)
        s_ = torch.zeros_like(B)
        y_ = torch.zeros_like(B)
        moved = act[trial.moved]
        s_[moved] = trial.B[trial.moved] - B[moved]
        y_[moved] = trial.G[trial.moved] - G[moved]
        B[act], E[act], L[act], G[act] = trial.B, trial.E, trial.L, trial.G
        sy = (s_ * y_).sum(1)
        rho = torch.where(sy > 1e-12 * s_.norm(dim=1) * y_.norm(dim=1), 1 / sy, 0.0)
        memory = [*memory[-(_MEMORY - 1) :], (s_, y_, rho)]
        iterations[act] += 1
        history.append(E.clone())
        stuck[act[~trial.moved]] = True  # no decrease along the direction: at its floor
        active &= ~((_stall(history) <= tol) | stuck)
    stall = torch.where(stuck, 0.0, _stall(history))
    paths = base.clone()
    paths[:, 1:-1] += M @ B.reshape(p, N - 1, k)
    return paths, stall, E, L, iterations


#: L-BFGS memory (curvature pairs kept per pair).
_MEMORY = 12


def _two_loop(
    G: torch.Tensor, memory: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
) -> torch.Tensor:
    """The L-BFGS direction ``H G`` for each row (Nocedal & Wright, Algorithm 7.4)."""
    q = G.clone()
    alphas = []
    for s, y, rho in reversed(memory):
        a = rho * (s * q).sum(1)
        q -= a[:, None] * y
        alphas.append(a)
    if memory:
        s, y, rho = memory[-1]
        yy = (y * y).sum(1)
        gamma = torch.where((rho > 0) & (yy > 0), 1 / (rho * yy).clamp_min(1e-300), 1.0)
        q *= gamma[:, None]
    for (s, y, rho), a in zip(memory, reversed(alphas), strict=True):
        b = rho * (y * q).sum(1)
        q += (a - b)[:, None] * s
    return q


class _Trial(NamedTuple):
    B: torch.Tensor
    E: torch.Tensor
    L: torch.Tensor
    G: torch.Tensor
    moved: torch.Tensor


def _armijo(
    evaluate: Callable[..., tuple[torch.Tensor, ...]],
    rows: torch.Tensor,
    B: torch.Tensor,
    E: torch.Tensor,
    d: torch.Tensor,
    slope: torch.Tensor,
    step: torch.Tensor,
    halvings: int = 30,
) -> _Trial:
    """Backtracking (Armijo, c = 1e-4) per row; rows that find no decrease stay put."""
    out_B, out_E = B.clone(), E.clone()
    out_L = torch.full_like(E, math.nan)
    out_G = torch.zeros_like(B)
    moved = torch.zeros(len(rows), dtype=torch.bool)
    todo = torch.arange(len(rows))
    for _ in range(halvings):
        if len(todo) == 0:
            break
        cand = B[todo] + step[todo, None] * d[todo]
        Et, Lt, Gt = evaluate(rows[todo], cand)
        ok = torch.isfinite(Et) & (Et <= E[todo] + 1e-4 * step[todo] * slope[todo])
        ok &= torch.isfinite(Gt).all(1)
        done = todo[ok]
        out_B[done], out_E[done], out_L[done], out_G[done] = cand[ok], Et[ok], Lt[ok], Gt[ok]
        moved[done] = True
        todo = todo[~ok]
        step[todo] /= 2
    if len(todo):  # no decrease found: keep the point (its gradient and length)
        Et, Lt, Gt = evaluate(rows[todo], B[todo])
        out_L[todo], out_G[todo] = Lt, Gt
    return _Trial(out_B, out_E, out_L, out_G, moved)


#: Iterations over which the energy's relative decrease decides convergence.
STALL_WINDOW = 5


def _stall(history: list[torch.Tensor]) -> torch.Tensor:
    """Relative energy decrease over the last ``STALL_WINDOW`` (5) iterations, per pair.

    Fewer iterations than the window count from the level's start; a level that stopped
    at once (a straight path already optimal) has decrease 0.
    """
    now = history[-1]
    before = history[max(0, len(history) - 1 - STALL_WINDOW)]
    return ((before - now) / now.clamp_min(1e-300)).clamp_min(0.0)


def minimise_response_energy(
    responses: ResponsesVJP,
    a: Any,
    b: Any,
    *,
    init: Any = None,
    nodes: int = 64,
    coarsest: int = 8,
    tol: float = 1e-7,
    max_iter: int = 200,
) -> DiscreteGeodesic:
    r"""Discrete geodesics: paths minimising their energy through the responses.

    The energy of the path ``c_0 = a, c_1, …, c_N = b`` (``N`` equal steps in ``t``) is
    ``E = N Σᵢ ‖r(c_{i+1}) − r(c_i)‖²``, the discrete form of ``∫ ‖ṙ‖² dt``, whose
    minimisers tend to the geodesics of the pullback metric ``JᵀJ`` as ``N`` grows (the
    length of the response polygon from below, with error O(1/N²)). It needs forward
    passes and one vector–Jacobian product per evaluation (``∂E/∂c_i = Jᵢᵀ vᵢ`` with
    ``vᵢ = 2N(2rᵢ − r_{i−1} − r_{i+1})``), whatever the number of coordinates ``k`` —
    the form for images. Each pair is minimised by its own L-BFGS iteration (memory 12,
    Armijo backtracking), all pairs batched in each evaluation, over interior offsets in
    a sine basis that whitens the flat energy (so the conditioning does not grow with
    ``N``); a pair stops once its energy stalls. The path is refined from ``coarsest`` steps by doubling,
    each level starting from the last one's path.

    Parameters
    ----------
    responses : callable
        ``responses(c)`` for ``c`` ``(M, k)`` returns the responses ``(M, n)`` and their
        pullback ``v ↦ Jᵀv`` ``(M, n) → (M, k)``, float64 tensors (``ResponsesVJP``).
        Called on all pairs' nodes at once.
    a, b : Tensor (p, k)
        End points.
    init : Tensor (p, coarsest + 1, k), optional
        Initial paths on the coarsest level's equally spaced nodes (default: straight).
    nodes : int
        ``N``, the steps of the final path (``N + 1`` nodes).
    coarsest : int
        Steps of the first level (levels ``coarsest · 2^j`` up to ``nodes``, then
        ``nodes``).
    tol : float
        Convergence: each pair's energy fell by at most ``tol`` (relative) over the last
        ``STALL_WINDOW`` (5) iterations of the final level, or no step along the L-BFGS
        direction lowers it at all. A float32 network's energies are exact to about 1e-7.
    max_iter : int
        L-BFGS iterations at most, per level.

    Returns
    -------
    DiscreteGeodesic

    Examples
    --------
    The unit sphere in the chart (θ, φ): the discrete geodesic is the regular polygon
    inscribed in the great circle, of length ``2N sin(α / 2N)`` for the angle ``α``.

    >>> import math, torch
    >>> def sphere(c):
    ...     c = c.detach().requires_grad_(True)
    ...     th, ph = c[:, 0], c[:, 1]
    ...     r = torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], -1)
    ...     return r.detach(), lambda v: torch.autograd.grad(r, c, v, retain_graph=True)[0]
    >>> a = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    >>> b = torch.tensor([[2.0, 1.0]], dtype=torch.float64)
    >>> sol = minimise_response_energy(sphere, a, b, nodes=32)
    >>> ra, rb = sphere(a)[0], sphere(b)[0]
    >>> alpha = float(torch.arccos((ra * rb).sum()))
    >>> bool(sol.converged[0]), abs(float(sol.length[0]) / (64 * math.sin(alpha / 64)) - 1) < 1e-9
    (True, True)
    """
    a_ = torch.as_tensor(a, dtype=torch.float64)
    b_ = torch.as_tensor(b, dtype=torch.float64)
    if a_.ndim != 2 or a_.shape != b_.shape:
        raise ShapeError(
            f"a has shape {tuple(a_.shape)} and b {tuple(b_.shape)}; expected both (p, k)."
        )
    for name, value in (("nodes", nodes), ("coarsest", coarsest)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
            raise ParameterError(f"{name}={value!r}; expected an integer of at least 2.")
    if isinstance(tol, bool) or not (isinstance(tol, (int, float)) and math.isfinite(tol)):
        raise ParameterError(f"tol={tol!r}; expected a positive number.")
    if tol <= 0:
        raise ParameterError(f"tol={tol!r}; expected a positive number.")
    p, k = a_.shape
    levels = [min(int(coarsest), int(nodes))]
    while 2 * levels[-1] < nodes:
        levels.append(2 * levels[-1])
    if levels[-1] != nodes:
        levels.append(int(nodes))
    N = levels[0]
    t = torch.linspace(0, 1, N + 1, dtype=torch.float64)
    if init is None:
        C = a_[:, None] + t[None, :, None] * (b_ - a_)[:, None]
    else:
        C = torch.as_tensor(init, dtype=torch.float64).clone()
        if tuple(C.shape) != (p, N + 1, k):
            raise ShapeError(f"init has shape {tuple(C.shape)}; expected {(p, N + 1, k)}.")
        C[:, 0], C[:, -1] = a_, b_
    initial = C.clone()
    iterations = torch.zeros(p, dtype=torch.long)
    for level, N in enumerate(levels):
        if level:
            C = _resample_path(C, N)
        C, rel, E, L, its = _minimise_level(responses, C, tol=tol, max_iter=max_iter)
        iterations += its
    E0, L0, _ = _discrete_energy(responses, _resample_path(initial, N), gradient=False)
    return DiscreteGeodesic(
        t=torch.linspace(0, 1, N + 1, dtype=torch.float64),
        path=C,
        length=L,
        energy=E,
        initial_energy=E0,
        initial_length=L0,
        converged=rel <= tol,
        residual=rel,
        iterations=iterations,
    )


def _resample_path(C: torch.Tensor, N: int) -> torch.Tensor:
    """Paths ``(p, M + 1, k)`` on equal steps, linearly interpolated to ``N`` equal steps."""
    old = np.linspace(0, 1, C.shape[1])
    new = np.linspace(0, 1, N + 1)
    idx = np.clip(np.searchsorted(old, new, side="right") - 1, 0, len(old) - 2)
    w = torch.as_tensor((new - old[idx]) / (old[idx + 1] - old[idx]))[None, :, None]
    return (1 - w) * C[:, idx] + w * C[:, idx + 1]
