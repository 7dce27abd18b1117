"""Simulated neural populations whose geometry is known exactly (ground truth for estimators).

Every population has a mean response ``f(x)`` (``(m, n)`` for ``m`` stimuli), its exact
Jacobian ``J(x) = ∂f/∂x`` (``(m, n, d)``), the pullback metric ``JᵀJ``, the Fisher information
under Gaussian or Poisson noise, and draws noisy trials ``(presentations, repetitions, n)``.
Closed forms for the large-population metrics are module functions
(:func:`von_mises_metric`, :func:`place_field_metric`, :func:`grid_cell_metric`).

Examples
--------
>>> import numpy as np
>>> from neurogeom import simulate
>>> ring = simulate.VonMisesRing(64, amplitude=5.0, kappa=2.0)
>>> theta = np.array([[0.3], [1.0]])
>>> np.allclose(ring.metric(theta)[:, 0, 0], simulate.von_mises_metric(64, 5.0, 2.0))
True
>>> ring.sample(theta, repetitions=3, noise="poisson", random_state=0).shape
(2, 3, 64)
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from scipy.special import i1

from ._arrays import as_array, as_bounds, check_count, check_finite
from .errors import (
    InputTypeError,
    NotPositiveSemidefiniteError,
    ParameterError,
    ShapeError,
    SingularMetricError,
)

__all__ = [
    "AffineSurface",
    "GridCells",
    "LinearPopulation",
    "OrientationContrast",
    "PlaceFields",
    "Population",
    "QuadraticPopulation",
    "RandomFeatures",
    "VonMisesRing",
    "Warped",
    "grid_cell_metric",
    "place_field_metric",
    "poisson_von_mises_fisher",
    "von_mises_metric",
]


def _real(value: Any, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
    """A finite real setting (``> minimum`` if ``strict``, else ``>= minimum``), as float."""
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        value = value.item()  # 0-d arrays and tensors (a bool one stays a bool: refused)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name}={value!r} ({type(value).__name__}); expected a number.")
    v = float(value)
    if not math.isfinite(v):
        raise ParameterError(f"{name}={value!r}; expected a finite number.")
    if minimum is not None and (v <= minimum if strict else v < minimum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise ParameterError(f"{name}={value!r}; expected a finite number {bound}.")
    return v


def _matrix(value: Any, name: str, expected: str, ndim: int) -> np.ndarray:
    """A finite float64 array of ``ndim`` dimensions, none of them empty."""
    arr = np.asarray(as_array(value, name), dtype=np.float64)
    if arr.ndim != ndim or 0 in arr.shape:
        raise ShapeError(f"{name} has shape {arr.shape}; expected {expected}.")
    check_finite(arr, name, hint=f"Give finite {name}.")
    return arr


def _per_neuron(value: Any, name: str, n: int) -> np.ndarray:
    """A finite scalar or ``(n,)`` setting broadcast to ``(n,)``."""
    arr = np.asarray(as_array(value, name), dtype=np.float64)
    if arr.shape not in ((), (n,)):
        raise ShapeError(
            f"{name} has shape {arr.shape}; expected a number or ({n},), one per neuron."
        )
    check_finite(arr, name, hint=f"Give a finite {name}.")
    return np.broadcast_to(arr, (n,))


def _factor(cov: np.ndarray) -> np.ndarray:
    """``L`` with ``L Lᵀ = cov`` for a positive semidefinite covariance (zero noise allowed)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(0.5 * (cov + cov.T))
        if w[0] < -10 * len(w) * np.finfo(np.float64).eps * max(abs(w[-1]), 1e-300):
            raise NotPositiveSemidefiniteError(
                f"the noise covariance has a negative eigenvalue ({w[0]:.3g}); a covariance "
                "is symmetric positive semidefinite. Check its sign and symmetry."
            ) from None
        return np.asarray(V * np.sqrt(np.clip(w, 0.0, None)))


def von_mises_metric(n_neurons: int, amplitude: float, kappa: float) -> float:
    """Pullback metric of a von Mises ring, ``N A² κ e^{−2κ} I₁(2κ) / 2`` (any θ).

    Examples
    --------
    >>> round(von_mises_metric(64, 1.0, 2.0), 6)
    11.440054
    """
    n_neurons = check_count(n_neurons, "n_neurons", 1)
    amplitude, kappa = _real(amplitude, "amplitude"), _real(kappa, "kappa", minimum=0)
    return float(n_neurons * amplitude**2 * kappa * np.exp(-2 * kappa) * i1(2 * kappa) / 2)


def poisson_von_mises_fisher(n_neurons: int, amplitude: float, kappa: float) -> float:
    """Poisson Fisher information of a baseline-free von Mises ring, ``N A κ e^{−κ} I₁(κ)``.

    Examples
    --------
    >>> round(poisson_von_mises_fisher(64, 1.0, 2.0), 6)
    27.554469
    """
    n_neurons = check_count(n_neurons, "n_neurons", 1)
    amplitude, kappa = _real(amplitude, "amplitude"), _real(kappa, "kappa", minimum=0)
    return float(n_neurons * amplitude * kappa * np.exp(-kappa) * i1(kappa))


def place_field_metric(density: float, amplitude: float, width: float, d: int) -> float:
    """Metric ``ρ A² π^{d/2} σ^{d−2} / 2`` (times the identity) of dense Gaussian place fields.

    Examples
    --------
    >>> round(place_field_metric(1 / 0.1**2, 1.0, 0.3, 2), 4)   # = π A² / (2Δ²)
    157.0796
    """
    density = _real(density, "density", minimum=0, strict=True)
    amplitude = _real(amplitude, "amplitude")
    width = _real(width, "width", minimum=0, strict=True)
    d = check_count(d, "d", 1)
    return float(density * amplitude**2 * np.pi ** (d / 2) * width ** (d - 2) / 2)


def grid_cell_metric(n_cells: int, spacing: float, amplitude: float = 1.0) -> float:
    """Metric ``3 N |k|² A² / 4`` (times the identity) of one grid module, ``|k| = 4π/(√3 λ)``.

    Examples
    --------
    >>> round(grid_cell_metric(9, 1.0), 4)
    355.3058
    """
    n_cells = check_count(n_cells, "n_cells", 1)
    spacing = _real(spacing, "spacing", minimum=0, strict=True)
    amplitude = _real(amplitude, "amplitude")
    k = 4 * np.pi / (np.sqrt(3) * spacing)
    return float(3 * n_cells * k**2 * amplitude**2 / 4)


def _as_stimuli(x: Any, d: int) -> np.ndarray:
    arr = np.asarray(as_array(x, "stimuli"), dtype=np.float64)
    if d == 1 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != d:
        raise ShapeError(
            f"stimuli have shape {arr.shape}; expected (m, {d}) for this {d}-dimensional "
            "population (one row per stimulus)."
        )
    check_finite(arr, "stimuli", hint="Drop those stimuli first.")
    return arr


def _default_bounds(bounds: Any, d: int) -> np.ndarray:
    """``bounds`` checked as ``(d, 2)`` intervals, or ``[-1, 1]`` in every dimension."""
    return np.tile([-1.0, 1.0], (d, 1)) if bounds is None else as_bounds(bounds, d=d)


class Population:
    """Base class: a population with exact mean responses and Jacobians.

    Subclasses set ``d`` and ``n_neurons`` and implement ``_mean`` and ``_jacobian``
    on validated ``(m, d)`` float64 stimuli. ``bounds`` (``(d, 2)``) is the stimulus domain
    used by :meth:`uniform_stimuli`; ``period`` lists per-dimension periods (or None).
    """

    d: int
    n_neurons: int
    bounds: np.ndarray
    period: tuple[float | None, ...] | None = None

    def _mean(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mean(self, x: Any) -> np.ndarray:
        """Mean responses ``f(x)``, shape ``(m, n)``."""
        return self._mean(_as_stimuli(x, self.d))

    def jacobian(self, x: Any) -> np.ndarray:
        """Exact Jacobians ``∂f/∂x``, shape ``(m, n, d)``."""
        return self._jacobian(_as_stimuli(x, self.d))

    def metric(self, x: Any) -> np.ndarray:
        """Exact pullback metric ``JᵀJ``, shape ``(m, d, d)``."""
        J = self.jacobian(x)
        return np.einsum("mna,mnb->mab", J, J)

    def fisher_information(self, x: Any, noise: Any = "poisson") -> np.ndarray:
        """Exact Fisher information, shape ``(m, d, d)``.

        Parameters
        ----------
        x : array, shape (m, d)
        noise : "poisson", float, array (n,) or array (n, n)
            ``"poisson"``: independent Poisson counts, ``Jᵀ diag(f)⁻¹ J`` (rates must be
            positive). Otherwise Gaussian noise with that standard deviation (scalar),
            per-neuron standard deviations (n,), or covariance matrix (n, n): ``JᵀΣ⁻¹J``.
        """
        xs = _as_stimuli(x, self.d)
        J = self._jacobian(xs)
        if isinstance(noise, str):
            if noise != "poisson":
                raise ParameterError(f"noise={noise!r}; use 'poisson' or a Gaussian sd/covariance.")
            f = self._mean(xs)
            if (f <= 0).any():
                raise ParameterError(
                    "Poisson Fisher information needs positive rates; this population has "
                    "rates <= 0 at some stimuli (add a baseline)."
                )
            return np.einsum("mna,mn,mnb->mab", J, 1.0 / f, J)
        cov = self._covariance(noise)
        L = _factor(cov)
        if np.linalg.matrix_rank(L) < len(L):
            raise SingularMetricError(
                "the Gaussian noise covariance is singular (a neuron or direction without "
                "noise), so the Fisher information is infinite; give every neuron a positive "
                "sd (or a positive definite covariance)."
            )
        Jw = np.linalg.solve(cov, J)
        return np.einsum("mna,mnb->mab", J, Jw)

    def _covariance(self, noise: Any) -> np.ndarray:
        arr = np.asarray(as_array(noise, "noise"), dtype=np.float64)
        n = self.n_neurons
        if arr.ndim <= 1 and arr.shape in ((), (n,)):
            if not (np.isfinite(arr).all() and (arr >= 0).all()):
                raise ParameterError(
                    f"noise={noise!r}; a Gaussian noise sd must be finite and >= 0 (a "
                    f"number, or ({n},) per-neuron sds)."
                )
            return np.diag(np.broadcast_to(arr, (n,)) ** 2)
        if arr.shape == (n, n):
            check_finite(arr, "noise covariance")
            return arr
        raise ShapeError(
            f"Gaussian noise has shape {arr.shape}; expected a scalar sd, ({n},) sds or "
            f"an ({n}, {n}) covariance."
        )

    def sample(
        self,
        x: Any,
        repetitions: int | None = None,
        *,
        noise: Any = "poisson",
        random_state: int | np.random.Generator | None = None,
    ) -> np.ndarray:
        """Draw noisy responses.

        Parameters
        ----------
        x : array, shape (m, d)
            Stimuli (presentations).
        repetitions : int, optional
            Trials per presentation. ``None`` gives one trial and drops that axis.
        noise : "poisson", float, array (n,) or array (n, n)
            Poisson counts with mean ``f(x)`` (rates must be ≥ 0), or additive Gaussian noise
            (sd, per-neuron sds or covariance) as in :meth:`fisher_information`.
        random_state : int or Generator, optional

        Returns
        -------
        array, shape (m, repetitions, n), or (m, n) when ``repetitions`` is None

        Examples
        --------
        >>> import numpy as np
        >>> pop = VonMisesRing(8)
        >>> pop.sample(np.zeros((5, 1)), 4, noise=0.1, random_state=1).shape
        (5, 4, 8)
        """
        rng = np.random.default_rng(random_state)
        f = self.mean(x)
        T = 1 if repetitions is None else check_count(repetitions, "repetitions", 1)
        mean = np.broadcast_to(f[:, None, :], (f.shape[0], T, f.shape[1]))
        if isinstance(noise, str):
            if noise != "poisson":
                raise ParameterError(f"noise={noise!r}; use 'poisson' or a Gaussian sd/covariance.")
            if (f < 0).any():
                raise ParameterError("Poisson sampling needs rates >= 0; add a baseline.")
            out = rng.poisson(mean).astype(np.float64)
        else:
            L = _factor(self._covariance(noise))
            out = mean + rng.standard_normal(mean.shape) @ L.T
        return out[:, 0, :] if repetitions is None else out

    def uniform_stimuli(
        self, m: int, *, margin: float = 0.0, random_state: int | np.random.Generator | None = None
    ) -> np.ndarray:
        """``m`` stimuli drawn uniformly from ``bounds`` shrunk by ``margin`` on each side."""
        m = check_count(m, "m", 0)
        margin = _real(margin, "margin")
        rng = np.random.default_rng(random_state)
        lo, hi = self.bounds[:, 0] + margin, self.bounds[:, 1] - margin
        if (hi <= lo).any():
            raise ParameterError(f"margin={margin} leaves an empty domain inside {self.bounds}.")
        return lo + (hi - lo) * rng.random((m, self.d))


class VonMisesRing(Population):
    """Ring of von Mises tuning curves, ``fᵢ(θ) = b + A exp(κ(cos(θ − φᵢ) − 1))``, ``φᵢ = 2πi/N``.

    Its pullback metric is ``N A² κ e^{−2κ} I₁(2κ) / 2`` for every θ
    (:func:`von_mises_metric`; exact up to aliasing at harmonics ≥ N).

    Examples
    --------
    >>> import numpy as np
    >>> VonMisesRing(16, amplitude=2.0).mean(np.zeros((1, 1))).shape
    (1, 16)
    """

    def __init__(
        self, n_neurons: int, amplitude: float = 1.0, kappa: float = 2.0, baseline: float = 0.0
    ) -> None:
        self.d = 1
        self.n_neurons = check_count(n_neurons, "n_neurons", 1)
        self.amplitude, self.baseline = _real(amplitude, "amplitude"), _real(baseline, "baseline")
        self.kappa = _real(kappa, "kappa", minimum=0)
        self.preferred = 2 * np.pi * np.arange(self.n_neurons) / self.n_neurons
        self.bounds = np.array([[0.0, 2 * np.pi]])
        self.period = (2 * np.pi,)

    def _bump(self, x: np.ndarray) -> np.ndarray:
        return self.amplitude * np.exp(self.kappa * (np.cos(x - self.preferred) - 1))

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.baseline + self._bump(x)

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        return (-self.kappa * np.sin(x - self.preferred) * self._bump(x))[:, :, None]


class OrientationContrast(Population):
    r"""V1-like cells: von Mises orientation tuning (period π) × Naka–Rushton contrast response.

    ``fᵢ(θ, c) = b + Aᵢ exp(κᵢ(cos 2(θ − φᵢ) − 1)) · cⁿⁱ/(cⁿⁱ + c₅₀,ᵢⁿⁱ)`` with random
    preferred orientations φᵢ ∈ [0, π), amplitudes, widths κᵢ, semi-saturation contrasts
    c₅₀,ᵢ and exponents nᵢ drawn from ``random_state``. Stimuli are ``(θ, c)`` with θ in
    ``[0, π)`` (``period = (π, None)``) and c in ``contrast``.

    Parameters
    ----------
    n_neurons : int
    amplitude : (float, float)
        Range of the peak rates Aᵢ (uniform).
    kappa : (float, float)
        Range of the orientation concentrations κᵢ (uniform).
    c50 : (float, float)
        Range of the semi-saturation contrasts (uniform).
    exponent : (float, float)
        Range of the Naka–Rushton exponents nᵢ (uniform).
    baseline : float
        Spontaneous rate b (positive for Poisson Fisher information).
    contrast : (float, float)
        Contrast bounds of the stimulus domain.
    random_state : int

    Examples
    --------
    >>> import numpy as np
    >>> pop = OrientationContrast(60, random_state=0)
    >>> x = np.array([[0.3, 0.5]])
    >>> bool(np.allclose(pop.mean(x), pop.mean(x + [np.pi, 0.0])))   # period π
    True
    >>> pop.jacobian(x).shape
    (1, 60, 2)
    """

    def __init__(
        self,
        n_neurons: int,
        amplitude: tuple[float, float] = (5.0, 20.0),
        kappa: tuple[float, float] = (1.0, 3.0),
        c50: tuple[float, float] = (0.15, 0.5),
        exponent: tuple[float, float] = (1.5, 3.0),
        baseline: float = 0.5,
        contrast: tuple[float, float] = (0.05, 1.0),
        random_state: int = 0,
    ) -> None:
        self.d = 2
        self.n_neurons = n = check_count(n_neurons, "n_neurons", 1)
        rng = np.random.default_rng(random_state)
        draws = {}
        for name, rng_range in (
            ("amplitude", amplitude),
            ("kappa", kappa),
            ("c50", c50),
            ("exponent", exponent),
        ):
            lo, hi = (_real(v, name, minimum=0) for v in rng_range)
            draws[name] = rng.uniform(lo, hi, n)
        self.amplitudes, self.kappas = draws["amplitude"], draws["kappa"]
        self.c50s, self.exponents = draws["c50"], draws["exponent"]
        self.preferred = rng.uniform(0.0, np.pi, n)
        self.baseline = _real(baseline, "baseline")
        lo, hi = (_real(v, "contrast", minimum=0) for v in contrast)
        if not 0 < lo < hi:
            raise ParameterError(f"contrast={contrast!r}; expected 0 < low < high.")
        self.bounds = np.array([[0.0, np.pi], [lo, hi]])
        self.period = (np.pi, None)

    def _parts(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        dth = 2 * (x[:, :1] - self.preferred)
        tune = self.amplitudes * np.exp(self.kappas * (np.cos(dth) - 1))
        cn = np.clip(x[:, 1:], 1e-12, None) ** self.exponents
        sn = self.c50s**self.exponents
        nr = cn / (cn + sn)
        dnr = self.exponents * cn * sn / (np.clip(x[:, 1:], 1e-12, None) * (cn + sn) ** 2)
        return tune, -2 * self.kappas * np.sin(dth) * tune, nr, dnr

    def _mean(self, x: np.ndarray) -> np.ndarray:
        tune, _, nr, _ = self._parts(x)
        return np.asarray(self.baseline + tune * nr)

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        tune, dtune, nr, dnr = self._parts(x)
        return np.stack([dtune * nr, tune * dnr], axis=-1)


class PlaceFields(Population):
    """Isotropic Gaussian place fields ``fᵢ(x) = b + A exp(−|x − cᵢ|² / (2σ²))`` in any d.

    Parameters
    ----------
    centers : array, shape (n, d)
        Field centres.
    width : float
        σ.
    amplitude, baseline : float
    bounds : array (d, 2), optional
        Stimulus domain; default the centres' bounding box.

    Notes
    -----
    On a square lattice of spacing Δ, well inside it and with Δ ≲ σ/3, the metric is
    ``ρ A² π^{d/2} σ^{d−2}/2 · I`` with ``ρ = Δ^{−d}`` (:func:`place_field_metric`).

    Examples
    --------
    >>> pop = PlaceFields.lattice(2, spacing=0.1, extent=(0.0, 1.0), width=0.3)
    >>> pop.n_neurons, pop.d
    (121, 2)
    """

    def __init__(
        self,
        centers: Any,
        width: float,
        amplitude: float = 1.0,
        baseline: float = 0.0,
        bounds: Any = None,
    ) -> None:
        c = _matrix(centers, "centers", "(n, d): one field centre per row", 2)
        self.centers = c
        self.n_neurons, self.d = c.shape
        self.width = _real(width, "width", minimum=0, strict=True)
        self.amplitude, self.baseline = _real(amplitude, "amplitude"), _real(baseline, "baseline")
        if bounds is None:  # the centres' box (may be flat: then pass bounds to sample it)
            self.bounds = np.stack([c.min(0), c.max(0)], axis=1)
        else:
            self.bounds = as_bounds(bounds, d=self.d)

    @classmethod
    def lattice(
        cls,
        d: int,
        spacing: float,
        extent: tuple[float, float],
        width: float,
        amplitude: float = 1.0,
        baseline: float = 0.0,
    ) -> PlaceFields:
        """Fields on a cubic lattice of ``spacing`` covering ``extent`` in each dimension."""
        d = check_count(d, "d", 1)
        spacing = _real(spacing, "spacing", minimum=0, strict=True)
        lo, hi = as_bounds([extent], "extent")[0]
        if (hi - lo) / spacing > 1e6:
            raise ParameterError(
                f"spacing={spacing:g} puts {(hi - lo) / spacing:.3g} fields along each axis of "
                f"extent={extent!r}; choose a coarser spacing."
            )
        ticks = np.arange(extent[0], extent[1] + spacing / 2, spacing)
        centers = np.array(list(itertools.product(ticks, repeat=d)))
        bounds = np.tile(np.asarray(extent, dtype=np.float64), (d, 1))
        return cls(centers, width, amplitude, baseline, bounds=bounds)

    def _bump(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        diff = x[:, None, :] - self.centers[None]
        return self.amplitude * np.exp(-(diff**2).sum(-1) / (2 * self.width**2)), diff

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.baseline + self._bump(x)[0]

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        bump, diff = self._bump(x)
        return -bump[:, :, None] * diff / self.width**2


class GridCells(Population):
    """Grid-cell modules in 2-D, ``fᵢ(x) = b + A Σ_{j=1..3} cos(kⱼ·(x − cᵢ))``.

    Each module has wave vectors ``kⱼ`` at ``orientation + 0°, 120°, 240°`` with
    ``|k| = 4π/(√3 λ)`` and ``m × m`` phases ``cᵢ`` on a lattice of the unit cell, so its
    metric is ``3 N |k|² A² / 4 · I`` (:func:`grid_cell_metric`); modules add.

    Parameters
    ----------
    spacings : sequence of float
        Grid spacing λ of each module.
    phases_per_side : int
        m ≥ 3.
    amplitude, baseline : float
        ``baseline ≥ 1.5 A`` keeps rates non-negative (for Poisson sampling).
    orientation : float
        Rotation of every module, radians.

    Examples
    --------
    >>> import numpy as np
    >>> pop = GridCells([0.5, 0.7], phases_per_side=3)
    >>> pop.n_neurons
    18
    """

    def __init__(
        self,
        spacings: Sequence[float] = (1.0,),
        phases_per_side: int = 3,
        amplitude: float = 1.0,
        baseline: float = 0.0,
        orientation: float = 0.0,
        bounds: Any = ((0.0, 1.0), (0.0, 1.0)),
    ) -> None:
        m = check_count(phases_per_side, "phases_per_side", 3)
        self.d = 2
        lams = np.asarray(as_array(spacings, "spacings"), dtype=np.float64).reshape(-1)
        if lams.size == 0 or not (np.isfinite(lams).all() and (lams > 0).all()):
            raise ParameterError(
                f"spacings={spacings!r}; expected one or more finite grid spacings > 0."
            )
        self.spacings = tuple(float(s) for s in lams)
        self.amplitude, self.baseline = _real(amplitude, "amplitude"), _real(baseline, "baseline")
        orientation = _real(orientation, "orientation")
        self.bounds = as_bounds(bounds, d=2)
        waves, phases = [], []
        for lam in self.spacings:
            k = 4 * np.pi / (np.sqrt(3) * lam)
            ang = orientation + np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])
            kv = k * np.stack([np.cos(ang), np.sin(ang)], axis=1)  # (3, 2)
            a1 = lam * np.array([np.cos(orientation + np.pi / 6), np.sin(orientation + np.pi / 6)])
            a2 = lam * np.array([np.cos(orientation + np.pi / 2), np.sin(orientation + np.pi / 2)])
            for i, j in itertools.product(range(m), repeat=2):
                waves.append(kv)
                phases.append(i / m * a1 + j / m * a2)
        self.waves = np.array(waves)  # (n, 3, 2)
        self.phases = np.array(phases)  # (n, 2)
        self.n_neurons = len(phases)

    def _arg(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("nja,mna->mnj", self.waves, x[:, None, :] - self.phases[None])

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.baseline + self.amplitude * np.cos(self._arg(x)).sum(-1)

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        return -self.amplitude * np.einsum("mnj,nja->mna", np.sin(self._arg(x)), self.waves)


class RandomFeatures(Population):
    """Random-feature network ``r(x) = b + √(2/n) relu(Wx)``, ``Wᵢⱼ ~ N(0, 1)``; ``E[g] = I``.

    Examples
    --------
    >>> RandomFeatures(3, 100, random_state=0).n_neurons
    100
    """

    def __init__(
        self,
        d: int,
        n_neurons: int,
        baseline: float = 0.0,
        bounds: Any = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.d, self.n_neurons = check_count(d, "d", 1), check_count(n_neurons, "n_neurons", 1)
        self.baseline = _real(baseline, "baseline")
        self.weights = np.random.default_rng(random_state).standard_normal((self.n_neurons, self.d))
        self.bounds = _default_bounds(bounds, self.d)

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.baseline + np.sqrt(2 / self.n_neurons) * np.maximum(x @ self.weights.T, 0)

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        active = (x @ self.weights.T > 0).astype(np.float64)
        return np.sqrt(2 / self.n_neurons) * active[:, :, None] * self.weights[None]


class LinearPopulation(Population):
    """Affine population ``r(x) = b + W x`` (exact test case: metric ``WᵀW``).

    Examples
    --------
    >>> import numpy as np
    >>> LinearPopulation(np.eye(2)).metric(np.zeros((1, 2)))[0]
    array([[1., 0.],
           [0., 1.]])
    """

    def __init__(self, weights: Any, baseline: Any = 0.0, bounds: Any = None) -> None:
        self.weights = _matrix(weights, "weights", "(n, d): one row per neuron", 2)
        self.n_neurons, self.d = self.weights.shape
        self.baseline = _per_neuron(baseline, "baseline", self.n_neurons)
        self.bounds = _default_bounds(bounds, self.d)

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.baseline + x @ self.weights.T

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.weights, (x.shape[0], *self.weights.shape)).copy()


class QuadraticPopulation(Population):
    """Quadratic population ``rᵢ(x) = bᵢ + wᵢ·x + xᵀ Qᵢ x`` (``Qᵢ`` symmetric); ``J = W + 2 Q x``.

    Examples
    --------
    >>> import numpy as np
    >>> pop = QuadraticPopulation(np.eye(2), np.stack([np.eye(2), np.zeros((2, 2))]))
    >>> pop.jacobian(np.array([[1.0, 0.0]]))[0]
    array([[3., 0.],
           [0., 1.]])
    """

    def __init__(self, linear: Any, quadratic: Any, baseline: Any = 0.0, bounds: Any = None):
        self.weights = _matrix(linear, "linear", "(n, d): one row per neuron", 2)
        q = _matrix(quadratic, "quadratic", "(n, d, d): one matrix per neuron", 3)
        self.quadratic = 0.5 * (q + np.swapaxes(q, 1, 2))
        self.n_neurons, self.d = self.weights.shape
        if self.quadratic.shape != (self.n_neurons, self.d, self.d):
            raise ShapeError(
                f"quadratic has shape {q.shape}; expected ({self.n_neurons}, {self.d}, {self.d})."
            )
        self.baseline = _per_neuron(baseline, "baseline", self.n_neurons)
        self.bounds = _default_bounds(bounds, self.d)

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.baseline + x @ self.weights.T + np.einsum("ma,nab,mb->mn", x, self.quadratic, x)

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        return self.weights[None] + 2 * np.einsum("nab,mb->mna", self.quadratic, x)


class AffineSurface(Population):
    r"""Rates on an affine image of a sphere, torus or circle: ``f(x) = b + A s(x)``.

    ``s`` is the unit-speed-free standard chart of the surface in ``R³`` (``R²`` for the
    circle): ``"sphere"`` ``(θ, φ) ↦ a (sin θ cos φ, sin θ sin φ, cos θ)``; ``"torus"``
    ``(u, v) ↦ ((c + a cos v) cos u, (c + a cos v) sin u, a sin v)``; ``"circle"``
    ``θ ↦ a (cos θ, sin θ)`` (a head-direction-like ring). With the default
    ``A = gain · Q`` (``Q`` random orthonormal columns) the mean responses lie on an exact
    copy of the surface scaled by ``gain``, so its curvature is known in closed form: on the
    sphere ``κ = 1/(gain·a)``, ``R = 2/(gain·a)²``; on the torus ``κ = cos v/(gain (c + a
    cos v))`` and ``1/(gain·a)``; on the circle ``|H| = 1/(gain·a)``. Any other ``weights``
    give an affine (ellipsoidal) image whose exact jets :meth:`hessian` provides.

    Parameters
    ----------
    surface : {"sphere", "torus", "circle"}
    n_neurons : int
        Number of neurons (at least the embedding dimension, 3 or 2).
    radius : float
        ``a``.
    center_radius : float
        ``c`` (torus only; ``c > a``).
    gain : float
        Scale of the default weights.
    baseline : float or array (n,)
        ``b`` (keep rates positive for Poisson trials: ``b > gain·(c + a)``).
    weights : array (n, 3) or (n, 2), optional
        ``A``; default ``gain · Q``.
    bounds : array (d, 2), optional
        Stimulus domain; default the whole chart (the sphere's away from its poles).
    random_state : int

    Examples
    --------
    >>> import numpy as np
    >>> pop = AffineSurface("sphere", 24, radius=1.0, gain=5.0, baseline=20.0)
    >>> g = pop.metric(np.array([[np.pi / 2, 0.3]]))[0]     # (gain a)² diag(1, sin² θ)
    >>> np.round(g, 12)
    array([[25.,  0.],
           [ 0., 25.]])
    """

    SURFACES = ("sphere", "torus", "circle")

    def __init__(
        self,
        surface: str = "sphere",
        n_neurons: int = 24,
        *,
        radius: float = 1.0,
        center_radius: float = 3.0,
        gain: float = 1.0,
        baseline: Any = 0.0,
        weights: Any = None,
        bounds: Any = None,
        random_state: int = 0,
    ) -> None:
        if surface not in self.SURFACES:
            raise ParameterError(f"surface={surface!r}; use one of {self.SURFACES}.")
        self.surface = surface
        self.radius = _real(radius, "radius", minimum=0, strict=True)
        self.center_radius = _real(center_radius, "center_radius", minimum=0, strict=True)
        if surface == "torus" and self.center_radius <= self.radius:
            raise ParameterError(
                f"center_radius={center_radius} <= radius={radius}: the torus would cross "
                "itself; give center_radius > radius."
            )
        self.gain = _real(gain, "gain", minimum=0, strict=True)
        dim = 2 if surface == "circle" else 3
        self.n_neurons = check_count(n_neurons, "n_neurons", dim)
        self.d = 1 if surface == "circle" else 2
        if weights is None:
            rng = np.random.default_rng(random_state)
            Q = np.linalg.qr(rng.standard_normal((self.n_neurons, dim)))[0]
            self.weights = self.gain * Q
        else:
            self.weights = _matrix(weights, "weights", f"({self.n_neurons}, {dim})", 2)
            if self.weights.shape != (self.n_neurons, dim):
                raise ShapeError(
                    f"weights have shape {self.weights.shape}; expected ({self.n_neurons}, {dim})."
                )
        self.baseline = _per_neuron(baseline, "baseline", self.n_neurons)
        tau = 2 * np.pi
        default = {
            "sphere": [[0.3, np.pi - 0.3], [0.0, tau]],
            "torus": [[0.0, tau]] * 2,
            "circle": [[0.0, tau]],
        }
        self.bounds = (
            _default_bounds(bounds, self.d) if bounds is not None else np.array(default[surface])
        )
        self.period = {"sphere": (None, tau), "torus": (tau, tau), "circle": (tau,)}[surface]

    def _chart(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points ``(m, e)``, first ``(m, e, d)`` and second derivatives ``(m, e, d, d)``."""
        a, c = self.radius, self.center_radius
        if self.surface == "circle":
            t = x[:, 0]
            cs, sn = np.cos(t), np.sin(t)
            pt = a * np.stack([cs, sn], 1)
            return pt, a * np.stack([-sn, cs], 1)[:, :, None], -pt[:, :, None, None]
        u, v = x[:, 0], x[:, 1]
        cu, su, cv, sv = np.cos(u), np.sin(u), np.cos(v), np.sin(v)
        z = np.zeros_like(u)
        if self.surface == "sphere":  # (θ, φ) = (u, v)
            pt = a * np.stack([su * cv, su * sv, cu], 1)
            d1 = a * np.stack([np.stack([cu * cv, -su * sv], -1),
                               np.stack([cu * sv, su * cv], -1),
                               np.stack([-su, z], -1)], 1)  # fmt: skip
            d2 = a * np.stack([np.stack([np.stack([-su * cv, -cu * sv], -1),
                                         np.stack([-cu * sv, -su * cv], -1)], -2),
                               np.stack([np.stack([-su * sv, cu * cv], -1),
                                         np.stack([cu * cv, -su * sv], -1)], -2),
                               np.stack([np.stack([-cu, z], -1),
                                         np.stack([z, z], -1)], -2)], 1)  # fmt: skip
            return pt, d1, d2
        rad = c + a * cv
        pt = np.stack([rad * cu, rad * su, a * sv], 1)
        d1 = np.stack([np.stack([-rad * su, -a * sv * cu], -1),
                       np.stack([rad * cu, -a * sv * su], -1),
                       np.stack([z, a * cv], -1)], 1)  # fmt: skip
        d2 = np.stack([np.stack([np.stack([-rad * cu, a * sv * su], -1),
                                 np.stack([a * sv * su, -a * cv * cu], -1)], -2),
                       np.stack([np.stack([-rad * su, -a * sv * cu], -1),
                                 np.stack([-a * sv * cu, -a * cv * su], -1)], -2),
                       np.stack([np.stack([z, z], -1),
                                 np.stack([z, -a * sv], -1)], -2)], 1)  # fmt: skip
        return pt, d1, d2

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.baseline + self._chart(x)[0] @ self.weights.T

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("ne,med->mnd", self.weights, self._chart(x)[1])

    def hessian(self, x: Any) -> np.ndarray:
        """Exact second derivatives ``∂_a∂_b f``, shape ``(m, n, d, d)``."""
        return np.einsum("ne,medf->mndf", self.weights, self._chart(_as_stimuli(x, self.d))[2])


class Warped(Population):
    """A population seen through a diffeomorphism ψ: ``r(x) = r₀(ψ(x))``.

    Its metric is ``Dψᵀ g₀(ψ(x)) Dψ`` exactly, so flat populations become curved ones.

    Parameters
    ----------
    base : Population
    psi : callable (m, d) -> (m, d)
    psi_jacobian : callable (m, d) -> (m, d, d)
        ``∂ψₐ/∂x_b``.
    bounds : array (d, 2), optional
        Domain in x; default the base's bounds (valid when ψ maps the box to itself).

    Examples
    --------
    >>> import numpy as np
    >>> pop = Warped.sinusoidal(VonMisesRing(32), strength=0.5)
    >>> pop.metric(np.array([[0.0]])).shape
    (1, 1, 1)
    """

    def __init__(
        self,
        base: Population,
        psi: Callable[[np.ndarray], np.ndarray],
        psi_jacobian: Callable[[np.ndarray], np.ndarray],
        bounds: Any = None,
    ) -> None:
        self.base, self.psi, self.psi_jacobian = base, psi, psi_jacobian
        self.d, self.n_neurons = base.d, base.n_neurons
        if not isinstance(base, Population):
            raise InputTypeError(f"base must be a Population; got {type(base).__name__}.")
        if not (callable(psi) and callable(psi_jacobian)):
            raise InputTypeError(
                "psi and psi_jacobian must be callables (m, d) -> (m, d)/(m, d, d)."
            )
        self.bounds = base.bounds if bounds is None else as_bounds(bounds, d=base.d)
        self.period = base.period

    @classmethod
    def sinusoidal(cls, base: Population, strength: float = 0.5) -> Warped:
        """Warp each coordinate by ``ψ(x)ₐ = xₐ + s (L/2π) sin(2π (xₐ − loₐ)/L)``.

        ``L`` is the width of the base's domain along that axis; ``|s| < 1`` keeps ψ a
        diffeomorphism that maps the domain (and a ring) onto itself.
        """
        if not abs(strength) < 1:
            raise ParameterError(f"strength={strength}; |strength| < 1 keeps ψ invertible.")
        lo, width = base.bounds[:, 0], base.bounds[:, 1] - base.bounds[:, 0]

        def psi(x: np.ndarray) -> np.ndarray:
            return x + strength * width / (2 * np.pi) * np.sin(2 * np.pi * (x - lo) / width)

        def dpsi(x: np.ndarray) -> np.ndarray:
            diag = 1 + strength * np.cos(2 * np.pi * (x - lo) / width)
            return np.einsum("ma,ab->mab", diag, np.eye(x.shape[1]))

        return cls(base, psi, dpsi)

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return self.base._mean(self.psi(x))

    def _jacobian(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("mnb,mba->mna", self.base._jacobian(self.psi(x)), self.psi_jacobian(x))
