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
from scipy.special import erfcx

from .._arrays import check_finite
from ..errors import ShapeError
from .volume import relative_zero

__all__ = ["positive_noise_correction"]

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
    ``z = x/κ``: 0.8 κ at ``x = 0``, below ``10⁻³ κ`` for ``z > 3.2`` — unbiased where the
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
    S = np.asarray(corrected, dtype=np.float64)
    N = np.asarray(noise, dtype=np.float64)
    terms = np.asarray(noise_terms, dtype=np.float64)
    if S.ndim != 3 or S.shape[-1] != S.shape[-2] or N.shape != S.shape:
        raise ShapeError(
            f"corrected has shape {S.shape} and noise {N.shape}; expected both (m, k, k)."
        )
    m, k = S.shape[0], S.shape[-1]
    if terms.ndim != 4 or terms.shape[0] != m or terms.shape[2:] != (k, k):
        raise ShapeError(f"noise_terms have shape {terms.shape}; expected ({m}, n, {k}, {k}).")
    for arr, what in ((S, "corrected"), (N, "noise"), (terms, "noise_terms")):
        check_finite(arr, what)
    S = 0.5 * (S + np.swapaxes(S, 1, 2))
    out = S.copy()
    ev, U = np.linalg.eigh(0.5 * (N + np.swapaxes(N, 1, 2)))
    pd = ev[:, 0] > relative_zero(k) * np.abs(ev[:, -1])
    if not pd.any():
        return out
    ev, U, S, terms = ev[pd], U[pd], S[pd], terms[pd]
    R = np.einsum("mab,mb,mcb->mac", U, 1 / np.sqrt(ev), U)  # N^{-1/2}
    R_inv = np.einsum("mab,mb,mcb->mac", U, np.sqrt(ev), U)  # N^{1/2}
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
