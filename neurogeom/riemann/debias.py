r"""A positive-definite noise-bias correction of estimated Gram matrices (metrics).

An estimated Jacobian ``Ĵ = J + E`` with noise ``E`` gives ``E[ĴᵀĴ] = JᵀJ + N``; the
subtracted estimate ``S = ĴᵀĴ − N`` is unbiased but indefinite wherever the signal along
some direction is below the noise fluctuation. :func:`positive_noise_correction` replaces
each eigenvalue ``x`` of ``S`` in the frame that whitens ``N`` by the posterior mean of a
non-negative eigenvalue ``s`` given ``x ~ Normal(s, κ²)`` under a flat prior on ``s ≥ 0``,

    ψ(x) = x + κ φ(x/κ) / Φ(x/κ),

with ``κ`` the null spread of the noise term ``EᵀE`` along that direction. ``ψ(x) > 0``
for every real ``x``, ``ψ(x) − x = O(κ e^{−x²/2κ²})`` once ``x ≫ κ`` (unbiased in the
strong-signal limit), and the result is positive definite wherever ``N`` is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.special import erfcx, ndtr, ndtri

from .._arrays import as_array, check_finite
from ..errors import ShapeError
from .volume import relative_zero

__all__ = ["positive_noise_correction", "positive_resamples", "resolution_weights"]

#: Below this standardised eigenvalue z = x/κ, z + φ(z)/Φ(z) is taken from its asymptotic
#: series 1/t − 2/t³ + 10/t⁵ − 74/t⁷ (t = −z; relative error ≈ 706/t⁸ < 1e-9).
_ASYMPTOTIC_Z = -30.0


def _excess(z: np.ndarray) -> np.ndarray:
    """``z + φ(z)/Φ(z)`` (the truncated-normal mean in units of κ), positive for every z."""
    out = np.empty_like(z)
    far = z < _ASYMPTOTIC_Z
    near = ~far
    # φ(z)/Φ(z) = √(2/π) / erfcx(−z/√2): no overflow or underflow for any z
    out[near] = z[near] + math.sqrt(2 / math.pi) / erfcx(-z[near] / math.sqrt(2))
    t = -z[far]
    out[far] = 1 / t - 2 / t**3 + 10 / t**5 - 74 / t**7
    return out


def positive_noise_correction(corrected: Any, noise: Any, noise_terms: Any) -> np.ndarray:
    r"""Positive-definite estimate of ``JᵀJ`` from the noise-subtracted one.

    Let ``S = ĴᵀĴ − N`` be the unbiased subtracted estimate and ``N = Σᵢ Nᵢ`` the noise
    term, a sum of independent components (one per neuron: ``Nᵢ = E[eᵢeᵢᵀ]`` for the noise
    ``eᵢ`` of neuron ``i``'s row of ``Ĵ``). In the frame ``R = N^{−1/2}`` the noise term is
    the identity; along a unit eigenvector ``v`` of ``R S R`` (eigenvalue ``x``) the noise
    Gram ``vᵀR EᵀE R v = Σᵢ (vᵀR eᵢ)²`` has mean 1 and, for Gaussian ``eᵢ``, variance
    ``κ² = 2 Σᵢ (vᵀ R Nᵢ R v)²`` (= 2/n for n equal components). Each eigenvalue is replaced
    by the posterior mean of a non-negative ``s`` given ``x ~ Normal(s, κ²)`` and a flat prior
    on ``s ≥ 0``,

    .. math:: \psi(x) = x + \kappa\,\varphi(x/\kappa)/\Phi(x/\kappa) > 0,

    and the estimate is ``R⁻¹ V ψ(X) Vᵀ R⁻¹``. Bias: ``ψ(x) − x`` is ``κ φ(z)/Φ(z)``,
    ``z = x/κ``: 0.8 κ at ``x = 0``, below ``10⁻³ κ`` for ``z > 3.5`` — unbiased where the
    signal dominates the noise fluctuation, biased upward (never indefinite) where it does
    not. The rule is invariant under a change of coordinates ``S, N, Nᵢ ↦ AᵀSA, AᵀNA,
    AᵀNᵢA`` (the generalised eigenproblem of ``S`` and ``N`` is). Where ``N`` is not
    positive definite (no noise along some direction) ``S`` is returned unchanged.

    Parameters
    ----------
    corrected : array, shape (m, k, k)
        Subtracted (unbiased, possibly indefinite) estimates ``S``.
    noise : array, shape (m, k, k)
        Noise terms ``N`` that were subtracted.
    noise_terms : array, shape (m, n, k, k)
        Independent components ``Nᵢ`` of ``N`` (summing to ``N`` over axis 1).

    Returns
    -------
    ndarray, shape (m, k, k)
        Symmetric estimates, positive definite wherever ``N`` is.

    Examples
    --------
    >>> import numpy as np
    >>> N = np.eye(1)[None]                             # noise term 1, from 50 neurons
    >>> terms = np.full((1, 50, 1, 1), 1 / 50)          # κ = √(2/50) = 0.2
    >>> S = np.array([[[-0.1]], [[0.0]], [[2.0]]])      # subtracted estimates
    >>> out = positive_noise_correction(S, np.repeat(N, 3, 0), np.repeat(terms, 3, 0))
    >>> np.round(out[:, 0, 0], 4)
    array([0.1282, 0.1596, 2.    ])
    """
    S, N, terms = _checked(corrected, noise, noise_terms)
    S = 0.5 * (S + np.swapaxes(S, 1, 2))
    out = S.copy()
    R, R_inv, pd = _frame(N)
    if not pd.any():
        return out
    S, terms = S[pd], terms[pd]
    x, V = np.linalg.eigh(R @ S @ R)
    RV = R @ V  # columns R v
    spread = np.einsum("mka,mnkl,mla->mna", RV, terms, RV)  # vᵀ R Nᵢ R v
    kappa = np.sqrt(2 * (spread**2).sum(1))  # (m', k)
    psi = kappa * _excess(x / np.where(kappa > 0, kappa, 1.0))
    psi = np.where(kappa > 0, psi, x)
    RiV = R_inv @ V
    g = np.einsum("mab,mb,mcb->mac", RiV, psi, RiV)
    out[pd] = 0.5 * (g + np.swapaxes(g, 1, 2))
    return out


def _float(x: Any, name: str) -> np.ndarray:
    """Float64 numpy values through the package's intake (refuses strings, complex, ragged)."""
    arr = as_array(x, name)
    if isinstance(arr, torch.Tensor):
        arr = arr.cpu().numpy()
    return np.asarray(arr, dtype=np.float64)


def _checked(corrected: Any, noise: Any, noise_terms: Any) -> tuple[Any, Any, Any]:
    """``S``, ``N`` (m, k, k) and ``Nᵢ`` (m, n, k, k) as float64, shapes and finiteness checked.

    ``noise_terms`` None: only ``S`` and ``N`` (the components are returned as None).
    """
    S, N = _float(corrected, "corrected"), _float(noise, "noise")
    if S.ndim != 3 or S.shape[-1] != S.shape[-2] or N.shape != S.shape:
        raise ShapeError(
            f"corrected has shape {S.shape} and noise {N.shape}; expected both (m, k, k)."
        )
    check_finite(S, "corrected")
    check_finite(N, "noise")
    if noise_terms is None:
        return S, N, None
    terms = _float(noise_terms, "noise_terms")
    m, k = S.shape[0], S.shape[-1]
    if terms.ndim != 4 or terms.shape[0] != m or terms.shape[2:] != (k, k):
        raise ShapeError(f"noise_terms have shape {terms.shape}; expected ({m}, n, {k}, {k}).")
    check_finite(terms, "noise_terms")
    return S, N, terms


def _frame(N: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``N^{-1/2}``, ``N^{1/2}`` at the points where ``N`` is positive definite, and their mask."""
    k = N.shape[-1]
    ev, U = np.linalg.eigh(0.5 * (N + np.swapaxes(N, 1, 2)))
    pd = ev[:, 0] > relative_zero(k) * np.abs(ev[:, -1])
    ev, U = ev[pd], U[pd]
    R = np.einsum("mab,mb,mcb->mac", U, 1 / np.sqrt(ev), U)
    R_inv = np.einsum("mab,mb,mcb->mac", U, np.sqrt(ev), U)
    return R, R_inv, pd


def positive_resamples(corrected: Any, noise: Any, fluctuations: Any) -> np.ndarray:
    r"""Positive-definite resamples of a Gram whose true eigenvalues are non-negative.

    ``fluctuations`` ``Δ_b`` are bootstrap fluctuations of the subtracted estimate ``S``
    (centred on zero). In the frame ``R = N^{−1/2}`` of the noise term let ``x_a`` be the
    eigenvalues of ``R S R``, ``x_{b,a}`` those of ``R (S + Δ_b) R`` (both ascending), and
    ``σ_a`` the root-mean-square of ``x_{b,a} − x_a`` over the resamples. The bootstrap
    approximates ``x_a ~ Normal(s_a, σ_a²)``; with a flat prior on ``s_a ≥ 0`` the posterior
    is that normal truncated to ``s ≥ 0``, and each resample's standardised fluctuation
    ``δ = (x_{b,a} − x_a)/σ_a`` is sent to the posterior quantile of the same probability,

    .. math:: s_{b,a} = x_a - \sigma_a\,\Phi^{-1}ig(\Phi(x_a/\sigma_a)\,\Phi(-\delta)ig) > 0,

    which is ``x_{b,a}`` where ``x_a ≫ σ_a`` and stays positive where the signal is below the
    noise, so percentile intervals are bounded and reach down to the values the data cannot
    exclude. The resample is ``R⁻¹ V_b diag(s_b) V_bᵀ R⁻¹``. Where ``N`` is not positive
    definite ``S + Δ_b`` is returned.

    Parameters
    ----------
    corrected : array, shape (m, k, k)
        Subtracted estimates ``S``.
    noise : array, shape (m, k, k)
        Noise terms ``N``.
    fluctuations : array, shape (B, m, k, k)
        Bootstrap fluctuations ``Δ_b``.

    Returns
    -------
    ndarray, shape (B, m, k, k)

    Examples
    --------
    >>> import numpy as np
    >>> S, N = np.array([[[0.0]], [[5.0]]]), np.ones((2, 1, 1))
    >>> delta = np.array([-1.0, 0.0, 1.0])[:, None, None, None] * np.ones((3, 2, 1, 1))
    >>> np.round(positive_resamples(S, N, delta)[:, :, 0, 0], 3)   # σ = √(2/3)
    array([[0.113, 4.   ],
           [0.551, 5.   ],
           [1.304, 6.   ]])
    """
    S, N, _ = _checked(corrected, noise, None)
    D = _float(fluctuations, "fluctuations")
    if D.ndim != 4 or D.shape[1:] != S.shape:
        raise ShapeError(
            f"fluctuations have shape {D.shape}; expected (B, {', '.join(map(str, S.shape))})."
        )
    check_finite(D, "fluctuations")
    S = 0.5 * (S + np.swapaxes(S, 1, 2))
    out = S[None] + 0.5 * (D + np.swapaxes(D, 2, 3))
    R, R_inv, pd = _frame(N)
    if not pd.any():
        return out
    x = np.linalg.eigvalsh(R @ S[pd] @ R)  # (m', k)
    xb, Vb = np.linalg.eigh(R[None] @ out[:, pd] @ R[None])  # (B, m', k)
    sigma = np.sqrt(((xb - x[None]) ** 2).mean(0))
    safe = np.where(sigma > 0, sigma, 1.0)
    s = x - safe * ndtri(ndtr(x / safe) * ndtr(-(xb - x) / safe))
    s = np.where(sigma > 0, s, xb)
    RiV = R_inv[None] @ Vb
    g = np.einsum("bmac,bmc,bmdc->bmad", RiV, s, RiV)
    out[:, pd] = 0.5 * (g + np.swapaxes(g, 2, 3))
    return out


#: One-sided 97.5% normal quantile: a noise-frame eigenvalue counts as resolved once it
#: exceeds this many null standard deviations κ.
RESOLVED_Z = 1.959963984540054


def resolution_weights(corrected: Any, noise: Any, noise_terms: Any) -> np.ndarray:
    r"""How far each direction of a subtracted Gram is resolved above its noise, ``(m, k, k)``.

    With ``x_a``, ``v_a`` the eigenvalues and eigenvectors of ``R S R`` (``R = N^{−1/2}``,
    as in :func:`positive_noise_correction`) and ``κ_a`` the null spread of the noise term
    along ``v_a``, the weight of direction ``P_a = R v_a`` (a stimulus-space vector) is
    ``w_a = Φ(x_a/κ_a − z*)``, ``z* = 1.96``: near 1 where the signal exceeds the noise
    fluctuation by more than two standard deviations, near ``Φ(−1.96) = 0.025`` where it
    cannot be told from zero. Returns ``A = P diag(w) P⁻¹``, the linear map that keeps the
    resolved directions of a tangent vector and damps the others (``A = I`` where ``N``
    is not positive definite). A map uses it to take its low-variance estimate along the
    unresolved directions and its bias-corrected one along the resolved ones.

    Parameters
    ----------
    corrected, noise : array, shape (m, k, k)
        Subtracted estimates ``S`` and their noise terms ``N``.
    noise_terms : array, shape (m, n, k, k)
        Independent components of ``N``.

    Returns
    -------
    ndarray, shape (m, k, k)

    Examples
    --------
    >>> import numpy as np
    >>> S = np.diag([4.0, 0.0])[None]                    # resolved along u, not along v
    >>> terms = np.full((1, 2, 2, 2), 0.5) * np.eye(2)   # κ = 1 along both
    >>> np.round(resolution_weights(S, np.eye(2)[None], terms)[0], 3)
    array([[0.979, 0.   ],
           [0.   , 0.025]])
    """
    S, N, terms = _checked(corrected, noise, noise_terms)
    m, k = S.shape[0], S.shape[-1]
    out = np.broadcast_to(np.eye(k), (m, k, k)).copy()
    R, _, pd = _frame(N)
    if not pd.any():
        return out
    S, terms = 0.5 * (S[pd] + np.swapaxes(S[pd], 1, 2)), terms[pd]
    x, V = np.linalg.eigh(R @ S @ R)
    P = R @ V
    spread = np.einsum("mka,mnkl,mla->mna", P, terms, P)
    kappa = np.sqrt(2 * (spread**2).sum(1))
    w = np.where(kappa > 0, ndtr(x / np.where(kappa > 0, kappa, 1.0) - RESOLVED_Z), 1.0)
    out[pd] = P @ (w[:, :, None] * np.linalg.inv(P))
    return out
