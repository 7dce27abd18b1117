r"""Geodesics, distances and discrimination thresholds under a response map's metric.

The distance between two stimuli under a representation is the length of the shortest
path between them measured by the metric ``g`` the map induces (in response units):
``ng.geodesic`` finds that path, ``ng.geodesic_distance`` and ``ng.geodesic_distances``
its length for paired rows or all pairs of a set. With a noise model the metric is a
Fisher information, the length an accumulated discriminability (d′ along the path), and
``ng.discrimination_thresholds`` gives the just-discriminable steps ``d′/√(uᵀ g u)``.

Every map kind goes through the protocol (:class:`~neurogeom.ResponseMap`):

- ``method="jets"`` (exact maps): Christoffel symbols ``Γ = J⁺H`` from
  :meth:`~neurogeom.ResponseMap.layer_jets` by
  :func:`~neurogeom.riemann.curvature_from_embedding` (exact ``torch.func`` jets for a
  :class:`~neurogeom.TorchResponseMap`), the metric from
  :meth:`~neurogeom.ResponseMap.measure`;
- ``method="metric"`` (estimated maps, the default for them): the metric field of
  :meth:`~neurogeom.ResponseMap.measure` alone, its derivatives by central differences;
  bootstrap resamples of the metric give intervals on the length;
- ``method="energy"`` (exact maps in many coordinates, e.g. images): the discrete energy
  of the path through the responses, by :meth:`~neurogeom.ResponseMap.layer_vjp` (a
  forward and a backward pass per evaluation,
  :func:`neurogeom.riemann.geodesic.minimise_response_energy`).

Collocation solves the geodesic equation by Chebyshev collocation and Newton's method,
all pairs in one batched solve (:func:`neurogeom.riemann.geodesic.solve_geodesic_bvp`),
from several initial paths (the straight segment and bent ones); the shortest converged
one is kept, so where two geodesics join the end points the minimising one is found, and
the number of distinct ones met is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch
import xarray as xr

from ._arrays import as_array, as_points, check_count, check_finite, is_torch, like, to_tensor
from .dataset import register_variables, stamp_provenance, variable_attrs
from .errors import (
    ConvergenceError,
    InputTypeError,
    LayerError,
    NotPositiveSemidefiniteError,
    ParameterError,
    ShapeError,
    SingularMetricError,
)
from .maps.base import ResponseMap
from .riemann.curvature import curvature_from_embedding
from .riemann.geodesic import (
    DiscreteGeodesic,
    GeodesicSolution,
    chebyshev_collocation,
    christoffel_from_metric_derivatives,
    minimise_response_energy,
    path_energy,
    path_length,
    solve_geodesic_bvp,
)
from .riemann.volume import relative_zero
from .slices import Grid, Line, Plane

__all__ = [
    "discrimination_thresholds",
    "geodesic",
    "geodesic_distance",
    "geodesic_distances",
]

Method = Literal["auto", "jets", "energy", "metric"]

register_variables(
    {
        "path": ((), "geodesic path in stimulus space", "stimulus_unit"),
        "path_coordinates": ((), "geodesic path in the slice's orthonormal coordinates", "1"),
        "length": ((), "geodesic length (distance) under the metric", "response_unit"),
        "energy": ((), "path energy, integral of the squared speed over t in [0, 1]", "1"),
        "straight_length": ((), "length of the straight segment between the end points", "1"),
        "straight_energy": ((), "energy of the straight segment between the end points", "1"),
        "inside": ((), "the path stays inside the grid given as within= (bool)", "1"),
        "converged": ((), "Newton's iteration converged (bool)", "1"),
        "residual": ((), "relative defect of the geodesic equation on the path", "1"),
        "iterations": ((), "Newton iterations", "1"),
        "geodesics_found": ((), "distinct converged geodesics met from the initial paths", "1"),
        "candidate_length": ((), "length from each initial path (NaN: not converged)", "1"),
        "length_ci_low": ((), "lower bootstrap bound of the length (path held fixed)", "1"),
        "length_ci_high": ((), "upper bootstrap bound of the length (path held fixed)", "1"),
        "threshold": ((), "discrimination threshold d'/sqrt(u^T g u)", "stimulus_unit"),
        "axis_length": ((), "half-length of the threshold ellipse along its axis", "1"),
        "axis": ((), "principal axis of the threshold ellipse (unit vector)", "1"),
    }
)


# -- where the path lives: the chart ----------------------------------------------------


class _Chart:
    """Coordinates ``c`` (k,) of stimuli ``x = origin + c T`` (or ``x = c`` unrestricted)."""

    def __init__(self, stim: tuple[int, ...], within: Any) -> None:
        self.stim = stim
        d = int(np.prod(stim))
        self.kind = "space"
        self.low: np.ndarray | None = None
        self.high: np.ndarray | None = None
        if within is None or isinstance(within, Grid):
            if isinstance(within, Grid):
                if tuple(within.stimulus_shape) != stim:
                    raise ShapeError(
                        f"within= is a grid over stimuli of shape {within.stimulus_shape}; "
                        f"the end points have shape {stim}."
                    )
                self.kind = "grid"
                self.low = np.array([within.coords[n].min() for n in within.dims])
                self.high = np.array([within.coords[n].max() for n in within.dims])
            self.origin = np.zeros(d)
            self.T: np.ndarray | None = None
            self.k = d
        elif isinstance(within, (Line, Plane)):
            if tuple(within.stimulus_shape) != stim:
                raise ShapeError(
                    f"within= is a {within.kind} through stimuli of shape "
                    f"{within.stimulus_shape}; the end points have shape {stim}."
                )
            self.kind = within.kind
            assert within.anchors is not None and within.tangents is not None
            self.origin = within.anchors[0].reshape(-1).astype(np.float64)
            self.T = within.tangents.reshape(len(within.tangents), -1)
            self.k = len(self.T)
            self.plane = within if isinstance(within, Plane) else None
        else:
            raise InputTypeError(
                f"within= must be a Line, Plane or Grid (or None for the whole stimulus "
                f"space); got {type(within).__name__}."
            )

    def tangents(self) -> np.ndarray | None:
        return None if self.T is None else self.T.reshape(self.k, *self.stim)

    def to_coords(self, x: np.ndarray, name: str) -> np.ndarray:
        flat = x.reshape(len(x), -1) - self.origin
        if self.T is None:
            if self.low is not None and self.high is not None:
                out = (flat < self.low - 1e-12) | (flat > self.high + 1e-12)
                if out.any():
                    i = int(np.nonzero(out.any(1))[0][0])
                    raise ParameterError(
                        f"{name}[{i}] = {x[i].tolist()} lies outside the grid given as "
                        f"within= (bounds {list(zip(self.low, self.high))}); pass end points "
                        "inside it."
                    )
            return flat
        c = flat @ self.T.T
        off = np.linalg.norm(flat - c @ self.T, axis=1)
        tol = 1e-8 * np.maximum(1.0, np.linalg.norm(flat, axis=1) + np.linalg.norm(self.origin))
        if (off > tol).any():
            i = int(np.nonzero(off > tol)[0][0])
            raise ParameterError(
                f"{name}[{i}] is {off[i]:.3g} away from the {self.kind} given as within=; "
                f"a path restricted to the {self.kind} needs end points on it (e.g. "
                "plane.to_stimulus(uv))."
            )
        return c

    def contains(self, paths: np.ndarray) -> np.ndarray:
        """Per path ``(p, N + 1, k)``: whether it stays inside a grid's bounds (else True)."""
        if self.low is None or self.high is None:
            return np.ones(len(paths), bool)
        span = np.maximum(self.high - self.low, 1e-300)
        slack = 1e-9 * span
        return ((paths >= self.low - slack) & (paths <= self.high + slack)).all((1, 2))

    def to_stimuli(self, c: np.ndarray) -> np.ndarray:
        flat = c if self.T is None else self.origin + c @ self.T
        return flat.reshape(len(c), *self.stim)


# -- the metric field along paths ----------------------------------------------------------


def _layer(rm: ResponseMap, layer: str | None) -> str:
    layers = tuple(rm.layers)
    if layer is None:
        if len(layers) != 1:
            raise LayerError(
                f"the map measures {len(layers)} layers {layers}; choose one with layer=."
            )
        return layers[0]
    if layer not in layers:
        raise LayerError(f"layer={layer!r} is not measured by the map; its layers are {layers}.")
    return layer


def _noise_weights(noise: Any, n: int) -> tuple[str, np.ndarray | None]:
    """The noise model as ``("none" | "poisson" | "gaussian", whitening matrix)``."""
    if noise is None:
        return "none", None
    if isinstance(noise, str):
        if noise != "poisson":
            raise ParameterError(
                f"noise={noise!r}; use None (the pullback metric), 'poisson' (Fisher metric "
                "Jᵀ diag(1/r) J of Poisson counts with rates r) or a covariance (n, n)."
            )
        return "poisson", None
    cov = np.asarray(as_array(noise, "noise covariance"), dtype=np.float64)
    if cov.shape != (n, n):
        raise ShapeError(f"noise covariance has shape {cov.shape}; expected ({n}, {n}).")
    check_finite(cov, "noise covariance")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 * np.abs(cov).max()):
        raise NotPositiveSemidefiniteError("the noise covariance is not symmetric.")
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise NotPositiveSemidefiniteError(
            f"the noise covariance ({n}, {n}) is not positive definite; add a ridge "
            "(cov + eps * I) or pass a regularised estimate."
        ) from None
    return "gaussian", np.linalg.inv(L)


class _Field:
    """The metric (and Christoffel symbols) of one layer at chart coordinates."""

    def __init__(self, rm: ResponseMap, layer: str, chart: _Chart, method: str, noise: Any) -> None:
        self.rm, self.layer, self.chart = rm, layer, chart
        self.T = chart.tangents()
        with_dtype = getattr(rm, "with_dtype", None)
        if callable(with_dtype) and method == "jets":
            self.rm = with_dtype(torch.float64)
        self.method = method
        self.noise = noise
        self.kind = "none"
        self.whiten: np.ndarray | None = None

    def set_noise(self, n: int) -> None:
        self.kind, self.whiten = _noise_weights(self.noise, n)

    def _x(self, c: torch.Tensor) -> np.ndarray:
        return self.chart.to_stimuli(c.detach().cpu().numpy())

    def jets(self, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self._x(c)
        J, H = (to_tensor(a).to(torch.float64) for a in self.rm.layer_jets(x, self.T)[self.layer])
        J, H_ = self._noisy(x, J, H)
        assert H_ is not None
        return J, H_

    def _noisy(
        self, x: np.ndarray, J: torch.Tensor, H: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The jets of the whitened responses (the Fisher metric's embedding)."""
        if self.kind == "poisson":  # pullback of s = 2√r: J/√r and H/√r − ½ JJ/r^{3/2}
            r = to_tensor(self.rm.layer_responses(x)[self.layer]).to(torch.float64)
            self._check_rates(x, r)
            s = r.rsqrt()
            if H is not None:
                H = s[..., None, None] * H - 0.5 * (s**3)[..., None, None] * torch.einsum(
                    "mna,mnb->mnab", J, J
                )
            J = s[..., None] * J
        elif self.kind == "gaussian":
            W = torch.as_tensor(self.whiten)
            J = torch.einsum("in,mna->mia", W, J)
            H = None if H is None else torch.einsum("in,mnab->miab", W, H)
        return J, H

    def _embed(self, x: np.ndarray, r_: Any) -> torch.Tensor:
        """The responses whose Euclidean metric is the field's: ``r``, ``2√r`` or ``W r``."""
        r = to_tensor(r_).to(torch.float64).reshape(len(x), -1)
        if self.kind == "poisson":  # s = 2√r, ∂s = J / √r: the Fisher metric Jᵀ diag(1/r) J
            self._check_rates(x, r)
            return 2 * r.sqrt()
        if self.kind == "gaussian":
            return r @ torch.as_tensor(self.whiten).T
        return r

    def responses(self, c: torch.Tensor) -> torch.Tensor:
        """The embedded responses (see :meth:`_embed`) at coordinates ``c`` ``(M, k)``."""
        x = self._x(c)
        return self._embed(x, self.rm.layer_responses(x)[self.layer])

    def responses_vjp(
        self, c: torch.Tensor
    ) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
        """:meth:`responses` and their pullback ``v ↦ Jᵀv`` to the coordinates."""
        x = self._x(c)
        r, pull = self.rm.layer_vjp(x)[self.layer]
        s = self._embed(x, r)
        T = None if self.chart.T is None else torch.as_tensor(self.chart.T)

        def pullback(v: torch.Tensor) -> torch.Tensor:
            if self.kind == "poisson":  # ∂(2√r) = J / √r, and 1/√r = 2 / s
                v = v * 2 / s
            elif self.kind == "gaussian":
                v = v @ torch.as_tensor(self.whiten)
            g = to_tensor(pull(v.numpy())).to(torch.float64).reshape(len(x), -1)
            return g if T is None else g @ T.T

        return s, pullback

    def _check_rates(self, x: np.ndarray, r: torch.Tensor) -> None:
        if bool((r <= 0).any()):
            i = int(torch.nonzero((r <= 0).any(1))[0, 0])
            raise ParameterError(
                f"noise='poisson' needs positive rates; the responses at path point "
                f"{x[i].reshape(-1)[:6].tolist()}... include {float(r[i].min()):.3g}. Use a "
                "map with positive outputs (e.g. softplus) or a Gaussian covariance."
            )

    def metric(self, c: torch.Tensor) -> torch.Tensor:
        x = self._x(c)
        if self.kind != "none":
            J = to_tensor(self.rm.layer_jacobians(x, self.T)[self.layer]).to(torch.float64)
            J = self._noisy(x, J, None)[0]
            g = J.mT @ J
            return 0.5 * (g + g.mT)
        m = self.rm.measure(x, self.T, resamples=False)
        return torch.as_tensor(np.asarray(m.metrics[self.layer]), dtype=torch.float64)

    def __call__(
        self, c: torch.Tensor, christoffel: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not christoffel:
            return self.metric(c), None
        if self.method == "jets":
            J, H = self.jets(c)
            curv = curvature_from_embedding(J, H, christoffel_only=True, on_singular="nan")
            return curv.metric, curv.christoffel
        k = c.shape[-1]
        h = float(np.cbrt(np.finfo(np.float64).eps)) * c.abs().amax(-1).clamp_min(1.0)
        shifts = torch.eye(k, dtype=c.dtype)[:, None, :] * h[None, :, None]
        g_all = self.metric(torch.cat([c[None], c[None] + shifts, c[None] - shifts]).reshape(-1, k))
        g_all = g_all.reshape(2 * k + 1, len(c), k, k)
        dg = ((g_all[1 : k + 1] - g_all[k + 1 :]) / (2 * h[None, :, None, None])).permute(
            1, 0, 2, 3
        )
        return g_all[0], christoffel_from_metric_derivatives(g_all[0], dg)


#: Above this many coordinates the exact maps' default is the response-space energy: the
#: collocation's Newton systems grow like ((N + 1) k)² and its jets like n k².
JETS_MAX_COORDINATES = 32


def _estimated(rm: ResponseMap, probe: np.ndarray, T: np.ndarray | None) -> bool:
    """Whether the map's measurements are estimates (one point, one direction)."""
    one = np.zeros((1, *probe.shape[1:]))
    one.reshape(-1)[0] = 1.0
    return bool(rm.measure(probe, one if T is None else T[:1], resamples=False).estimated)


def _method(rm: ResponseMap, method: str, probe: np.ndarray, T: np.ndarray | None, k: int) -> str:
    if method not in ("auto", "jets", "metric", "energy"):
        raise ParameterError(
            f"method={method!r}; use 'auto', 'jets' (exact Christoffel symbols from the "
            "map's second derivatives), 'energy' (the path energy through the responses, "
            "for many stimulus dimensions) or 'metric' (the metric field alone)."
        )
    estimated = _estimated(rm, probe, T)
    if method == "energy" and estimated:
        raise ParameterError(
            "method='energy' minimises the energy through exact responses; an estimated "
            "map's geodesics follow its bias-corrected metric field: use method='metric' "
            "(the default for it)."
        )
    if method != "auto":
        return method
    if estimated:
        return "metric"
    return "energy" if k > JETS_MAX_COORDINATES else "jets"


# -- the solve -------------------------------------------------------------------------------


def _initial_paths(ca: np.ndarray, cb: np.ndarray, t: np.ndarray, starts: int) -> np.ndarray:
    """Straight segments and bent ones: ``(starts, p, N + 1, k)``."""
    p, k = ca.shape
    delta = cb - ca
    straight = ca[:, None] + t[None, :, None] * delta[:, None]
    paths = [straight]
    if k >= 2 and starts > 1:
        # orthonormal directions perpendicular to b − a, per pair
        basis = np.concatenate([delta[:, :, None], np.broadcast_to(np.eye(k), (p, k, k))], 2)
        Q = np.linalg.qr(basis)[0][:, :, 1:]  # (p, k, k - 1)
        bump = np.sin(np.pi * t)[None, :, None]
        size = 0.5 * np.linalg.norm(delta, axis=1)[:, None, None]
        for s in range(1, starts):
            direction = Q[:, :, ((s - 1) // 2) % (k - 1)][:, None, :]
            sign = 1.0 if s % 2 else -1.0
            paths.append(straight + sign * size * bump * direction)
    return np.stack(paths)


#: The options of :func:`geodesic` and :func:`geodesic_distance`, and their defaults
#: (``None``: chosen per method, see :func:`geodesic`).
_OPTIONS: dict[str, Any] = {
    "within": None,
    "layer": None,
    "method": "auto",
    "noise": None,
    "nodes": None,
    "max_nodes": 256,
    "starts": None,
    "tol": None,
    "max_iter": None,
}
#: Per-method defaults of ``nodes``, ``starts``, ``tol`` and ``max_iter``.
_METHOD_DEFAULTS = {
    "collocation": {"nodes": 16, "starts": 3, "tol": 1e-9, "max_iter": 100},
    "energy": {"nodes": 64, "starts": 1, "tol": 1e-5, "max_iter": 300},
}


def _solve(response_map: Any, a: Any, b: Any, **options: Any) -> dict[str, Any]:
    if not isinstance(response_map, ResponseMap):
        raise InputTypeError(
            f"geodesics need a ResponseMap; got {type(response_map).__name__}. Wrap a network "
            "with ng.TorchResponseMap(model)."
        )
    A = as_points(a, dtype=torch.float64, name="a").cpu().numpy()
    B = as_points(b, dtype=torch.float64, name="b", stimulus_shape=tuple(A.shape[1:]))
    B_ = B.cpu().numpy()
    if len(A) != len(B_):
        raise ShapeError(
            f"a has {len(A)} rows and b {len(B_)}; geodesic_distance pairs row i of a with row "
            "i of b (use geodesic_distances for all pairs of one set)."
        )
    name = _layer(response_map, options["layer"])
    chart = _Chart(tuple(A.shape[1:]), options["within"])
    ca, cb = chart.to_coords(A, "a"), chart.to_coords(B_, "b")
    chosen = _method(response_map, options["method"], A[:1], chart.tangents(), chart.k)
    if chosen == "metric" and options["noise"] is not None:
        raise ParameterError(
            "noise= applies to exact maps; an estimated map's noise model is set when it is "
            "made (SampledResponseMap(..., noise='poisson'))."
        )
    family = "energy" if chosen == "energy" else "collocation"
    opts: dict[str, Any] = {
        key: _METHOD_DEFAULTS[family][key] if options[key] is None else options[key]
        for key in ("nodes", "starts", "tol", "max_iter")
    }
    opts["starts"] = check_count(opts["starts"], "starts", 1)
    opts["nodes"] = check_count(opts["nodes"], "nodes", 2)
    opts["max_iter"] = check_count(opts["max_iter"], "max_iter", 1)
    field = _Field(response_map, name, chart, chosen, options["noise"])
    if chosen != "metric":
        n = to_tensor(response_map.layer_responses(A[:1])[name]).shape[-1]
        field.set_noise(int(n))
    if family == "energy":
        res = _solve_energy(field, ca, cb, **opts)
    else:
        res = _solve_collocation(field, ca, cb, max_nodes=options["max_nodes"], **opts)
    res["inside"] = chart.contains(res["path_c"])
    res["converged"] = res["converged"] & res["inside"]
    res["path"] = chart.to_stimuli(res["path_c"].reshape(-1, chart.k)).reshape(
        len(ca), len(res["t"]), *chart.stim
    )
    res.update(chart=chart, field=field, method=chosen, layer=name, options=opts)
    return res


def _best(conv: np.ndarray, length: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """Per pair, the start of the shortest converged path (else of the smallest residual)."""
    with np.errstate(invalid="ignore"):
        shortest = np.nanargmin(np.where(conv, length, np.inf), axis=0)
        closest = np.nanargmin(np.where(np.isnan(resid), np.inf, resid), axis=0)
    return np.where(conv.any(0), shortest, closest)


def _picked(sol: GeodesicSolution | DiscreteGeodesic, starts: int) -> dict[str, Any]:
    """Per pair, the kept start's values of a solve over ``starts × p`` paths, the
    candidates' lengths and the number of distinct converged geodesics."""
    length, conv, resid, energy, its = (
        getattr(sol, name).reshape(starts, -1).numpy()
        for name in ("length", "converged", "residual", "energy", "iterations")
    )
    best = _best(conv, length, resid)
    cols = np.arange(length.shape[1])
    cand = np.where(conv, length, np.nan)
    found = np.array([len(_distinct(cand[:, j][conv[:, j]], length[best[j], j])) for j in cols])
    return {
        "length": length[best, cols],
        "converged": conv[best, cols],
        "residual": resid[best, cols],
        "energy": energy[best, cols],
        "iterations": its[best, cols],
        "candidates": cand.T,
        "found": found,
        "pick": best * len(cols) + cols,
    }


def _solve_collocation(
    field: _Field,
    ca: np.ndarray,
    cb: np.ndarray,
    *,
    nodes: int,
    max_nodes: int,
    starts: int,
    tol: float,
    max_iter: int,
) -> dict[str, Any]:
    """Chebyshev collocation + Newton from ``starts`` initial paths per pair."""
    p, k = ca.shape
    chart = field.chart
    t = chebyshev_collocation(nodes)[0].numpy()
    inits = _initial_paths(ca, cb, t, starts)
    S = len(inits)
    sol = solve_geodesic_bvp(
        field,
        torch.as_tensor(np.tile(ca, (S, 1))),
        torch.as_tensor(np.tile(cb, (S, 1))),
        init=torch.as_tensor(inits.reshape(S * p, len(t), k)),
        nodes=nodes,
        max_nodes=max_nodes,
        tol=tol,
        max_iter=max_iter,
        on_singular="mark",
    )
    singular = sol.singular_node.reshape(S, p) >= 0
    if bool(singular[0].any()):  # the straight segment itself crosses a singular metric
        i = int(np.nonzero(singular[0].numpy())[0][0])
        node = int(sol.singular_node[i])
        x = chart.to_stimuli(inits[0, i, node][None])[0]
        raise SingularMetricError(
            f"pair {i}: the metric of layer {field.layer!r} is singular (numerical rank < {k}) "
            f"on the straight path at t = {t[node]:.4g}, stimulus "
            f"{np.round(x, 6).reshape(-1)[:8].tolist()}{'...' if x.size > 8 else ''}; a "
            "geodesic cannot pass where the chart degenerates. Choose end points joined away "
            "from it, or a slice (within=) where the representation is regular."
        )
    res = _picked(sol, S)
    ts, Ds, ws = chebyshev_collocation(64)  # the straight segment, for contrast
    straight_c = torch.as_tensor(ca[:, None] + ts.numpy()[None, :, None] * (cb - ca)[:, None])
    g0 = field.metric(straight_c.reshape(-1, k)).reshape(p, len(ts), k, k)
    res.update(
        t=sol.t.numpy(),
        path_c=sol.path[res["pick"]].numpy(),
        velocity=sol.velocity[res["pick"]].numpy(),
        weights=chebyshev_collocation(len(sol.t) - 1)[2],
        straight=path_length(g0, Ds @ straight_c, ws).numpy(),
        straight_energy=path_energy(g0, Ds @ straight_c, ws).numpy(),
    )
    return res


def _solve_energy(
    field: _Field,
    ca: np.ndarray,
    cb: np.ndarray,
    *,
    nodes: int,
    starts: int,
    tol: float,
    max_iter: int,
) -> dict[str, Any]:
    """Discrete energy minimisation through the responses from ``starts`` initial paths."""
    p, k = ca.shape
    coarsest = min(8, nodes)
    inits = _initial_paths(ca, cb, np.linspace(0, 1, coarsest + 1), starts)
    S = len(inits)
    sol = minimise_response_energy(
        field.responses_vjp,
        torch.as_tensor(np.tile(ca, (S, 1))),
        torch.as_tensor(np.tile(cb, (S, 1))),
        init=torch.as_tensor(inits.reshape(S * p, coarsest + 1, k)),
        nodes=nodes,
        coarsest=coarsest,
        tol=tol,
        max_iter=max_iter,
    )
    res = _picked(sol, S)
    res.update(  # the first initial path is the straight segment
        t=sol.t.numpy(),
        path_c=sol.path[res["pick"]].numpy(),
        straight=sol.initial_length[:p].numpy(),
        straight_energy=sol.initial_energy[:p].numpy(),
    )
    return res


def _distinct(lengths: np.ndarray, best: float) -> list[float]:
    """Distinct values of ``lengths`` (relative difference above 1e-7)."""
    out: list[float] = []
    for v in np.sort(lengths):
        if not out or abs(v - out[-1]) > 1e-7 * max(abs(best), 1e-300):
            out.append(float(v))
    return out


def _intervals(res: dict[str, Any], level: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Bootstrap bounds of the length, the path held fixed (resampled metrics along it)."""
    field: _Field = res["field"]
    p, n1, k = res["path_c"].shape
    x = res["chart"].to_stimuli(res["path_c"].reshape(-1, k))
    m = field.rm.measure(x, field.T, resamples=True)
    if m.resamples is None or field.layer not in m.resamples:
        return None
    gb = np.asarray(m.resamples[field.layer], dtype=np.float64)  # (B, p (N+1), k, k)
    gb = gb.reshape(len(gb), p, n1, k, k)
    v = res["velocity"]
    sq = np.einsum("pna,bpnac,pnc->bpn", v, gb, v)
    lengths = np.sqrt(np.clip(sq, 0, None)) @ res["weights"].numpy()
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    return (
        np.quantile(lengths, lo_q, axis=0, method="lower"),
        np.quantile(lengths, hi_q, axis=0, method="higher"),
    )


def geodesic(
    response_map: ResponseMap,
    a: Any,
    b: Any,
    *,
    within: Line | Plane | Grid | None = None,
    layer: str | None = None,
    method: Method = "auto",
    noise: Any = None,
    nodes: int | None = None,
    max_nodes: int = 256,
    starts: int | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    level: float = 0.95,
) -> xr.Dataset:
    r"""The shortest paths between paired stimuli under a response map's metric.

    Parameters
    ----------
    response_map : ResponseMap
        Any map kind. Exact maps (a :class:`~neurogeom.TorchResponseMap`, a map of one's own)
        use their Christoffel symbols ``J⁺H`` from
        :meth:`~neurogeom.ResponseMap.layer_jets`; estimated maps (a
        :class:`~neurogeom.SampledResponseMap`) their (bias-corrected) metric field.
    a, b : array, shape (p, *stimulus_shape)
        End points, row ``i`` of ``a`` joined to row ``i`` of ``b``.
    within : Line, Plane or Grid, optional
        Restrict the path to the slice, under the metric it induces (``T g Tᵀ``), in its
        orthonormal coordinates; the end points must lie on it. A grid spans the whole
        space: the end points must lie inside its bounds, and a path that leaves them
        is reported (``inside``) and not converged. Default: the whole stimulus space
        (``k = d`` coordinates; above ``JETS_MAX_COORDINATES`` (32) of them an exact
        map's path minimises the response-space energy).
    layer : str, optional
        Which measured layer's metric (needed when the map measures several).
    method : {"auto", "jets", "energy", "metric"}
        ``"jets"``: Chebyshev collocation on the geodesic equation with exact Christoffel
        symbols from the map's second derivatives (the default for exact maps in at most
        ``JETS_MAX_COORDINATES`` (32) coordinates; accurate to ~1e-10). ``"energy"``: the
        discrete energy ``N Σ‖r(x_{i+1}) − r(x_i)‖²`` through the responses, minimised by
        L-BFGS with one vector–Jacobian product per evaluation
        (:meth:`~neurogeom.ResponseMap.layer_vjp`), refined from 8 steps by doubling
        (the default above that, e.g. for images; its length, of the response polygon, is
        below the smooth geodesic's by O(1/N²)). ``"metric"``: collocation with central
        differences of the metric field (the default for estimated maps, whose
        ``measure`` is marked ``estimated``).
    noise : None, "poisson" or array (n, n)
        For exact maps, the noise on the responses: the metric is then the Fisher
        information ``Jᵀ diag(1/r) J`` (Poisson counts with positive rates ``r``) or
        ``Jᵀ Σ⁻¹ J`` (Gaussian noise of covariance ``Σ``), and the length is an
        accumulated d′. An estimated map's noise model is the one it was made with.
    nodes : int, optional
        Collocation: the initial polynomial degree ``N`` of the path (``N + 1``
        Chebyshev nodes in ``t``; default 16), doubled where the path is under-resolved
        (its last Chebyshev coefficients above 1e-7 relative) up to ``max_nodes``.
        Energy: the steps ``N`` of the final path (``N + 1`` equally spaced nodes;
        default 64).
    max_nodes : int
        Collocation: the largest degree; a path still under-resolved there is not
        converged.
    starts : int, optional
        Initial paths: the straight segment and ``starts − 1`` bent ones (a half sine
        of amplitude ``‖b − a‖/2`` in directions perpendicular to ``b − a``); the shortest
        converged geodesic is kept. Default 3 for collocation, 1 for the energy.
    tol : float, optional
        Collocation: Newton's step tolerance (relative to ``1 + max |c|``; default
        1e-9). Energy: the largest relative decrease of each pair's energy over the last
        five iterations (default 1e-7, about a float32 network's precision).
    max_iter : int, optional
        Newton iterations at most (default 100), or L-BFGS iterations per refinement
        level (default 200).
    level : float
        Confidence level of the bootstrap intervals on the length (estimated maps with
        resamples).

    Returns
    -------
    xarray.Dataset
        Dims ``pair``, ``t`` (collocation: the Chebyshev nodes, from 0 to 1, not equally
        spaced; energy: ``i / N``), ``stimulus_0, ...`` and ``start``. Variables:
        ``path`` ``(pair, t, *stimulus)``, ``length`` (the distance, response units),
        ``energy`` (``∫‖ċ‖² dt``; equal to ``length²`` on a geodesic),
        ``straight_length`` and ``straight_energy`` (of the straight segment, for
        contrast: ``1 − energy / straight_energy`` is the energy decrease),
        ``converged``, ``residual`` (collocation: the relative defect of the geodesic
        equation; energy: the energy's last relative decrease, see ``tol``),
        ``iterations``, ``geodesics_found`` (distinct converged geodesics met),
        ``candidate_length`` ``(pair, start)``; with ``within=`` a line or plane also
        ``path_coordinates`` ``(pair, t, axis)``, with a grid ``inside`` (a path that
        leaves the grid is not converged); for estimated maps with bootstrap
        resamples ``length_ci_low``/``length_ci_high``.

    Raises
    ------
    SingularMetricError
        The metric is singular on the straight path between a pair (the message names the
        pair and where).

    Examples
    --------
    A sphere of radius 3 in the chart (θ, φ); the distance is 3 × the great-circle angle.

    >>> import numpy as np, torch, neurogeom as ng
    >>> def sphere(x):
    ...     th, ph = x[:, 0], x[:, 1]
    ...     return 3 * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)
    >>> rm = ng.TorchResponseMap(sphere, dtype=torch.float64)
    >>> ds = ng.geodesic(rm, np.array([[1.0, 0.0]]), np.array([[2.0, 1.5]]))
    >>> p, q = sphere(torch.tensor([[1.0, 0.0], [2.0, 1.5]], dtype=torch.float64)) / 3
    >>> exact = 3 * float(torch.arccos(p @ q))
    >>> bool(ds.converged[0]), abs(float(ds.length[0]) / exact - 1) < 1e-10
    (True, True)
    >>> ds.path.dims
    ('pair', 't', 'stimulus_0')
    """
    res = _solve(
        response_map,
        a,
        b,
        within=within,
        layer=layer,
        method=method,
        noise=noise,
        nodes=nodes,
        max_nodes=max_nodes,
        starts=starts,
        tol=tol,
        max_iter=max_iter,
    )
    stim_dims = tuple(f"stimulus_{i}" for i in range(len(res["chart"].stim)))
    pair = ("pair",)
    data: dict[str, Any] = {
        "path": (("pair", "t", *stim_dims), res["path"]),
        "length": (pair, res["length"]),
        "energy": (pair, res["energy"]),
        "straight_length": (pair, res["straight"]),
        "straight_energy": (pair, res["straight_energy"]),
        "converged": (pair, res["converged"]),
        "residual": (pair, res["residual"]),
        "iterations": (pair, res["iterations"]),
        "geodesics_found": (pair, res["found"]),
        "candidate_length": (("pair", "start"), res["candidates"]),
    }
    if res["chart"].kind == "grid":
        data["inside"] = (pair, res["inside"])
    if res["chart"].T is not None:
        data["path_coordinates"] = (("pair", "t", "axis"), res["path_c"])
    if res["method"] == "metric":
        if not 0 < level < 1:
            raise ParameterError(f"level={level}; expected a confidence level in (0, 1).")
        bounds = _intervals(res, level)
        if bounds is not None:
            data["length_ci_low"] = (pair, bounds[0])
            data["length_ci_high"] = (pair, bounds[1])
    ds = xr.Dataset(
        {k: (dims, v, variable_attrs(k)) for k, (dims, v) in data.items()},
        coords={"t": ("t", res["t"])},
    )
    config = {
        "layer": res["layer"],
        "method": res["method"],
        "noise": None if noise is None or isinstance(noise, str) else "covariance",
        **res["options"],
        "max_nodes": max_nodes,
        "within": res["chart"].kind,
    }
    return stamp_provenance(ds, config, kind="geodesic")


def geodesic_distance(
    response_map: ResponseMap,
    a: Any,
    b: Any,
    *,
    on_failure: Literal["raise", "nan"] = "raise",
    **options: Any,
) -> Any:
    """Geodesic distances between paired rows of ``a`` and ``b``.

    Parameters
    ----------
    response_map : ResponseMap
    a, b : array, shape (p, *stimulus_shape)
    on_failure : {"raise", "nan"}
        Where the solve did not converge (or a path left the grid given as ``within``): raise
        :class:`~neurogeom.errors.ConvergenceError` naming the pairs, or return NaN there.
        A length is never returned from an unconverged path.
    **options
        Those of :func:`geodesic` (``within``, ``layer``, ``method``, ``noise``, ``nodes``,
        ``starts``, ``tol``, ``max_iter``).

    Returns
    -------
    array, shape (p,)
        numpy or torch like ``a``.

    Examples
    --------
    A linear map: the distance is ``‖W(a − b)‖``.

    >>> import numpy as np, torch, neurogeom as ng
    >>> W = torch.tensor([[1.0, 2.0], [0.0, 3.0], [1.0, -1.0]], dtype=torch.float64)
    >>> rm = ng.TorchResponseMap(lambda x: x @ W.T, dtype=torch.float64)
    >>> a, b = np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([[1.0, 1.0], [-1.0, 0.5]])
    >>> np.allclose(ng.geodesic_distance(rm, a, b), np.linalg.norm((a - b) @ W.numpy().T, axis=1))
    True
    """
    if on_failure not in ("raise", "nan"):
        raise ParameterError(f"on_failure={on_failure!r}; use 'raise' or 'nan'.")
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise ParameterError(
            f"unknown option(s) {sorted(unknown)}; geodesic_distance takes {sorted(_OPTIONS)}."
        )
    res = _solve(response_map, a, b, **{**_OPTIONS, **options})
    length = np.asarray(res["length"], dtype=np.float64)
    failed = ~np.asarray(res["converged"], dtype=bool)
    if failed.any():
        if on_failure == "raise":
            rows = np.nonzero(failed)[0]
            left = rows[~res["inside"][rows]]
            where = (
                f" The paths of rows {left[:10].tolist()} leave the grid given as within=; "
                "widen it or pass within=None."
                if len(left)
                else ""
            )
            raise ConvergenceError(
                f"the geodesic solve ({res['method']}) did not converge for {len(rows)} of "
                f"{len(length)} pairs (rows {rows[:10].tolist()}"
                f"{'...' if len(rows) > 10 else ''}; relative residual "
                f"{float(np.max(res['residual'][rows])):.3g}).{where} Raise nodes= or "
                "max_iter=, add starts=, or pass on_failure='nan' to get NaN there."
            )
        length = np.where(failed, np.nan, length)
    return like(torch.as_tensor(length), a) if is_torch(a) else length


def geodesic_distances(response_map: ResponseMap, points: Any, **options: Any) -> Any:
    """The symmetric matrix of geodesic distances between all pairs of ``points``.

    All ``m (m − 1) / 2`` pairs are solved in one batched call.

    Parameters
    ----------
    response_map : ResponseMap
    points : array, shape (m, *stimulus_shape)
    **options
        Those of :func:`geodesic_distance`.

    Returns
    -------
    array, shape (m, m)
        Zero diagonal; numpy or torch like ``points``.

    Examples
    --------
    >>> import numpy as np, torch, neurogeom as ng
    >>> rm = ng.TorchResponseMap(lambda x: 2.0 * x, dtype=torch.float64)
    >>> ng.geodesic_distances(rm, np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    array([[ 0.        , 10.        ,  2.        ],
           [10.        ,  0.        ,  8.48528137],
           [ 2.        ,  8.48528137,  0.        ]])
    """
    P = as_points(points, dtype=torch.float64, name="points").cpu().numpy()
    m = len(P)
    out = np.zeros((m, m))
    if m >= 2:
        i, j = np.triu_indices(m, 1)
        d = geodesic_distance(response_map, P[i], P[j], **options)
        out[i, j] = out[j, i] = np.asarray(d)
    return like(torch.as_tensor(out), points) if is_torch(points) else out


def discrimination_thresholds(
    response_map: ResponseMap,
    x: Any,
    directions: Any = None,
    d_prime: float = 1.0,
    *,
    within: Line | Plane | None = None,
    layer: str | None = None,
    noise: Any = None,
) -> xr.Dataset:
    r"""Just-discriminable stimulus steps ``δ = d′/√(uᵀ g u)`` at points ``x``.

    With a noise model ``g`` is the Fisher information of the responses (for an
    estimated map, the one it was made with), so ``δ`` is the step along ``u`` at which
    an ideal observer reaches ``d′``; without one it is the step that moves the responses
    by ``d′`` (Euclidean). Without directions, the threshold ellipse(s): the eigenvectors
    of ``g`` and the half-lengths ``d′/√λ`` (infinite along a null direction of ``g``).

    Parameters
    ----------
    response_map : ResponseMap
    x : array, shape (m, *stimulus_shape)
    directions : array, shape ``(q, *stimulus_shape)``, or ``(q, k)`` with ``within``, optional
        Directions (normalised here; zero ones raise).
    d_prime : float
        The criterion d′ (positive).
    within : Line or Plane, optional
        Thresholds inside the slice (directions and axes in its orthonormal coordinates).
    layer : str, optional
    noise : None, "poisson" or array (n, n)
        Exact maps only, as in :func:`geodesic`: ``Jᵀ diag(1/r) J`` or ``Jᵀ Σ⁻¹ J``.

    Returns
    -------
    xarray.Dataset
        With directions: ``threshold`` ``(point, direction)``. Without: ``axis_length``
        ``(point, axis)`` (shortest first) and ``axis`` ``(point, axis, component)``, unit
        vectors in stimulus space (flattened) or slice coordinates.

    Examples
    --------
    Gaussian noise of covariance Σ on r = W x: F = Wᵀ Σ⁻¹ W.

    >>> import numpy as np, torch, neurogeom as ng
    >>> W = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    >>> rm = ng.TorchResponseMap(lambda x: x @ W.T, dtype=torch.float64)
    >>> ds = ng.discrimination_thresholds(rm, np.zeros((1, 2)), noise=np.diag([4.0, 0.25]))
    >>> ds.axis_length.values.round(6)      # F = diag(1, 4): half-lengths 1/2 and 1
    array([[0.5, 1. ]])
    >>> ng.discrimination_thresholds(rm, np.zeros((1, 2)), np.array([[1.0, 1.0]])).threshold.values
    array([[0.63245553]])
    """
    if not isinstance(response_map, ResponseMap):
        raise InputTypeError(f"thresholds need a ResponseMap; got {type(response_map).__name__}.")
    if (
        isinstance(d_prime, bool)
        or not isinstance(d_prime, (int, float, np.number))
        or not (np.isfinite(d_prime) and d_prime > 0)
    ):
        raise ParameterError(f"d_prime={d_prime!r}; expected a positive number.")
    if within is not None and not isinstance(within, (Line, Plane)):
        raise InputTypeError(f"within= must be a Line or Plane; got {type(within).__name__}.")
    X = as_points(x, dtype=torch.float64).cpu().numpy()
    name = _layer(response_map, layer)
    chart = _Chart(tuple(X.shape[1:]), within)
    estimated = _estimated(response_map, X[:1], chart.tangents())
    if estimated and noise is not None:
        raise ParameterError(
            "noise= applies to exact maps; an estimated map's noise model is set when it is "
            "made (SampledResponseMap(..., noise='poisson'))."
        )
    field = _Field(response_map, name, chart, "jets", noise)
    if noise is not None:
        n = to_tensor(response_map.layer_responses(X[:1])[name]).shape[-1]
        field.set_noise(int(n))
        c = torch.as_tensor(X.reshape(len(X), -1) if chart.T is None else chart.to_coords(X, "x"))
        g = field.metric(c).numpy()
    else:
        g = np.asarray(response_map.measure(X, chart.tangents(), resamples=False).metrics[name])
    k = g.shape[-1]
    if directions is None:
        lam, vec = np.linalg.eigh(0.5 * (g + np.swapaxes(g, -1, -2)))
        lam, vec = lam[:, ::-1], vec[:, :, ::-1]  # largest eigenvalue (shortest axis) first
        zero = lam <= relative_zero(k) * np.maximum(lam[:, :1], np.finfo(float).tiny)
        with np.errstate(divide="ignore"):
            half = np.where(zero, np.inf, d_prime / np.sqrt(np.where(zero, 1.0, lam)))
        ds = xr.Dataset(
            {
                "axis_length": (("point", "axis"), half, variable_attrs("axis_length")),
                "axis": (
                    ("point", "axis", "component"),
                    np.swapaxes(vec, 1, 2),
                    variable_attrs("axis"),
                ),
            }
        )
    else:
        U = np.asarray(as_array(directions, "directions"), dtype=np.float64)
        want = (k,) if chart.T is not None else tuple(X.shape[1:])
        if U.ndim != 1 + len(want) or tuple(U.shape[1:]) != want:
            raise ShapeError(
                f"directions have shape {U.shape}; expected (q, {', '.join(map(str, want))})."
            )
        check_finite(U, "directions")
        U = U.reshape(len(U), -1)
        norms = np.linalg.norm(U, axis=1)
        if (norms == 0).any():
            raise ParameterError(
                f"direction {int(np.nonzero(norms == 0)[0][0])} is zero; pass nonzero directions."
            )
        U = U / norms[:, None]
        quad = np.einsum("qa,mab,qb->mq", U, g, U)
        with np.errstate(divide="ignore"):
            thr = np.where(quad > 0, d_prime / np.sqrt(np.clip(quad, 1e-300, None)), np.inf)
        ds = xr.Dataset({"threshold": (("point", "direction"), thr, variable_attrs("threshold"))})
    return stamp_provenance(ds, {"d_prime": float(d_prime), "layer": name}, kind="thresholds")
