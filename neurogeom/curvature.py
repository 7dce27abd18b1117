"""Curvature of the metric a response map induces on stimulus space or on a slice of it.

Every map kind goes through the protocol: :meth:`~neurogeom.ResponseMap.layer_jets` gives
each layer's first and second derivatives (exact ``torch.func`` jets for a
:class:`~neurogeom.TorchResponseMap`, central differences of the Jacobian for a map that
implements only first derivatives), or, with ``method="metric"``, a torch map's
:meth:`~neurogeom.TorchResponseMap.metric_jets`; the curvature comes from
``neurogeom.riemann.curvature`` (conventions
there: ``Γᵃ_bc`` at ``[..., a, b, c]``, ``Rᵃ_bcd``, ``R_bd = Rᵃ_bad``, ``R = 2/a²`` on a
sphere of radius ``a``).

With ``tangents`` (or a :class:`~neurogeom.slices.Line`/:class:`~neurogeom.slices.Plane`),
the curvature is the *intrinsic* curvature of the metric induced on the slice, in the
slice's orthonormal coordinates: on a plane through an image space, a 2-D curvature map.
A line (``k = 1``) has no intrinsic curvature: its Ricci scalar is identically 0.

Singular metrics: see :func:`scalar_curvature` (``on_singular``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import numpy as np
import torch

from ._arrays import as_array, like, to_tensor
from .errors import InputTypeError, ParameterError, SingularMetricError
from .maps.base import ResponseMap
from .riemann.curvature import (
    Curvature,
    Extrinsic,
    OnSingular,
    check_on_singular,
    curvature_from_embedding,
    curvature_from_gram,
    curvature_from_jets,
    embedding_geometry,
    extrinsic_from_embedding,
)
from .riemann.metric import Scale, check_scale
from .slices import check_tangents

__all__ = [
    "christoffel_symbols",
    "curvature_intervals",
    "curvature_tensors",
    "extrinsic_curvature",
    "mean_curvature",
    "principal_curvatures",
    "ricci_tensor",
    "scalar_curvature",
    "second_fundamental_form",
    "second_order",
]

Method = Literal["embedding", "metric"]
METHODS: tuple[str, ...] = ("embedding", "metric")


def _where(x: Any, tangents: Any) -> tuple[Any, Any]:
    """Points and tangents from arrays or a slice (anything with ``points``/``tangents``)."""
    if hasattr(x, "points") and hasattr(x, "tangents"):
        if tangents is not None:
            raise ParameterError(
                "tangents were given together with a slice, which carries its own; pass one."
            )
        return x.points, x.tangents
    return x, tangents


def _layer_curvature(
    jets: tuple[Any, ...],
    layer: str,
    *,
    method: Method,
    scale: str,
    christoffel_only: bool,
    on_singular: OnSingular,
) -> Curvature:
    """Curvature of one layer from its jets: ``(J, H)`` (embedding) or ``(g, ∂g, ∂²g)``."""
    parts = [to_tensor(j).to(torch.float64) for j in jets]
    if method == "metric":
        curv = curvature_from_jets(*parts, on_singular="nan")
    else:
        J, H = parts
        if scale == "width":
            J, H = J / J.shape[1] ** 0.5, H / J.shape[1] ** 0.5
        curv = curvature_from_embedding(J, H, christoffel_only=christoffel_only, on_singular="nan")
    if on_singular == "raise" and bool(curv.singular.any()):
        idx = int(torch.nonzero(curv.singular)[0, 0])
        k = curv.metric.shape[-1]
        raise SingularMetricError(
            f"layer {layer!r}: the metric at point {idx} (of {len(curv.singular)}) is "
            f"singular (numerical rank < {k}), so its curvature is undefined. Pass "
            "on_singular='nan' to get NaN there (and return_singular=True for the mask), or "
            "move the points to where the representation is regular."
        )
    return curv


def _measure(
    rm: ResponseMap,
    x: Any,
    tangents: Any,
    *,
    scale: str,
    on_singular: OnSingular,
    dtype: torch.dtype,
    christoffel_only: bool,
    method: Method,
) -> dict[str, Curvature]:
    """Curvature per layer through the protocol: the map's jets, then the pure math."""
    if method not in METHODS:
        raise ParameterError(
            f"method={method!r}; use 'embedding' (Gauss equation from second derivatives of "
            "the responses, the accurate default) or 'metric' (third derivatives through the "
            "metric field)."
        )
    rm, pts, T = _prepare(rm, x, tangents, scale=scale, on_singular=on_singular, dtype=dtype)
    if method == "metric":
        metric_jets = getattr(rm, "metric_jets", None)
        if not callable(metric_jets):
            raise InputTypeError(
                f"method='metric' needs the metric field's derivatives (metric_jets), which "
                f"{type(rm).__name__} does not provide; use method='embedding'."
            )
        jets = metric_jets(pts, T, order=1 if christoffel_only else 2, scale=scale)
    else:
        grams = _estimated_grams(rm, pts, T, scale)
        if grams is not None:  # an estimated map: curvature from its corrected Gram matrices
            return {
                layer: _checked(_from_gram(G), layer, on_singular)[0] for layer, G in grams.items()
            }
        jets = rm.layer_jets(pts, T)
    return {
        layer: _layer_curvature(
            jets[layer],
            layer,
            method=method,
            scale=scale,
            christoffel_only=christoffel_only,
            on_singular=on_singular,
        )
        for layer in rm.layers
    }


def _prepare(
    rm: ResponseMap,
    x: Any,
    tangents: Any,
    *,
    scale: str,
    on_singular: OnSingular,
    dtype: torch.dtype,
) -> tuple[ResponseMap, Any, Any]:
    """Validated map (in ``dtype`` where it has a choosable precision), points and tangents."""
    if not isinstance(rm, ResponseMap):
        raise InputTypeError(
            f"curvature needs a ResponseMap; got {type(rm).__name__}. Wrap a network with "
            "ng.TorchResponseMap(model)."
        )
    check_scale(scale)
    check_on_singular(on_singular)
    pts, T = _where(x, tangents)
    if T is not None:  # curvature is measured in orthonormal slice coordinates
        T = check_tangents(T, tuple(np.shape(as_array(pts, "points"))[1:]))
    with_dtype = getattr(rm, "with_dtype", None)
    if callable(with_dtype):  # maps with a choosable precision compute in ``dtype``
        rm = with_dtype(dtype)
    return rm, pts, T


def _estimated_grams(rm: ResponseMap, pts: Any, T: Any, scale: str) -> dict[str, Any] | None:
    """Bias-corrected jet Gram matrices of an estimated map (``layer_jet_grams``), or None."""
    grams = getattr(rm, "layer_jet_grams", None)
    if not callable(grams):
        return None
    return dict(grams(pts, T, scale=scale))


def _from_gram(G: Any) -> tuple[Curvature, Extrinsic]:
    t = to_tensor(G).to(torch.float64)
    k = round((math.sqrt(1 + 4 * t.shape[-1]) - 1) / 2)
    return curvature_from_gram(t, k, on_singular="nan")


def _checked(
    both: tuple[Curvature, Extrinsic], layer: str, on_singular: OnSingular
) -> tuple[Curvature, Extrinsic]:
    """``both`` unless ``on_singular="raise"`` and a metric is singular (then raise)."""
    curv = both[0]
    if on_singular == "raise" and bool(curv.singular.any()):
        idx = int(torch.nonzero(curv.singular)[0, 0])
        k = curv.metric.shape[-1]
        raise SingularMetricError(
            f"layer {layer!r}: the metric at point {idx} (of {len(curv.singular)}) is "
            f"singular (numerical rank < {k}), or, for an estimate, indefinite or missing, so "
            "its curvature is undefined. Pass on_singular='nan' to get NaN there (and "
            "return_singular=True for the mask), or move the points to where the "
            "representation is regular."
        )
    return both


def second_order(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
) -> dict[str, tuple[Curvature, Extrinsic]]:
    """Intrinsic and extrinsic curvature per layer, from one set of jets per layer.

    The shared computation behind :func:`extrinsic_curvature` and
    ``ng.geometry(..., curvature=True)``: one :meth:`~neurogeom.ResponseMap.layer_jets`
    call and one QR factorisation of each Jacobian
    (:func:`~neurogeom.riemann.curvature.embedding_geometry`). An estimated map that
    provides bias-corrected Gram matrices of its jets (``layer_jet_grams``, or both at once
    from ``layer_jet_estimates``, as :class:`~neurogeom.SampledResponseMap` does) gets every
    scalar from them
    (:func:`~neurogeom.riemann.curvature.curvature_from_gram`) and the vectors ``II`` and
    ``H`` from its estimated jets. Arguments as :func:`scalar_curvature`.

    Returns
    -------
    dict of str to (Curvature, Extrinsic)
        Torch tensors (float64), by layer name (always a dict).

    Examples
    --------
    >>> import numpy as np, torch, neurogeom as ng
    >>> para = ng.TorchResponseMap(lambda x: torch.cat([x, (x**2).sum(1, keepdim=True)], 1))
    >>> curv, ext = second_order(para, np.zeros((1, 2)))["output"]
    >>> float(curv.scalar[0]), ext.principal_curvatures.tolist()
    (8.0, [[2.0, 2.0]])
    """
    rm, pts, T = _prepare(
        response_map, x, tangents, scale=scale, on_singular=on_singular, dtype=dtype
    )
    estimates = getattr(rm, "layer_jet_estimates", None)
    grams: dict[str, Any] | None = None
    if callable(estimates):  # an estimated map: jets and corrected Grams from one solve
        both_ = estimates(pts, T, scale=scale)
        jets = {layer: (J, H) for layer, (J, H, _) in both_.items()}
        grams = {layer: G for layer, (_, _, G) in both_.items()}
    else:
        grams = _estimated_grams(rm, pts, T, scale)
        jets = rm.layer_jets(pts, T)
    out = {}
    for layer in rm.layers:
        J, H = (to_tensor(j).to(torch.float64) for j in jets[layer])
        if scale == "width":
            J, H = J / J.shape[1] ** 0.5, H / J.shape[1] ** 0.5
        if grams is None:
            both = embedding_geometry(J, H, on_singular="nan")
        else:
            curv, est = _from_gram(grams[layer])
            finite = torch.isfinite(J).flatten(1).all(1) & torch.isfinite(H).flatten(1).all(1)
            safe = finite[:, None, None]
            vec = extrinsic_from_embedding(
                torch.where(safe, J, torch.eye(*J.shape[1:], dtype=J.dtype)),
                torch.where(safe[..., None], H, torch.zeros_like(H)),
                on_singular="nan",
            )
            II = torch.where(
                est.singular[:, None, None, None], torch.nan, vec.second_fundamental_form
            )
            Hv = torch.where(est.singular[:, None], torch.nan, vec.mean_curvature)
            both = curv, Extrinsic(
                II, Hv, est.mean_curvature_norm, est.principal_curvatures,
                est.normal_undefined, est.singular,
            )  # fmt: skip
        out[layer] = _checked(both, layer, on_singular)
    return out


def _numpy_like(curv: Curvature, reference: Any) -> Curvature:
    fields = (curv.metric, curv.christoffel, curv.riemann, curv.ricci, curv.scalar, curv.singular)
    out = [None if f is None else like(f, reference) for f in fields]
    return Curvature(*out)


def curvature_tensors(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
    method: Method = "embedding",
) -> Any:
    """Metric, Christoffel symbols, Riemann and Ricci tensors, Ricci scalar and singular mask.

    One pass computes everything :func:`christoffel_symbols`, :func:`ricci_tensor` and
    :func:`scalar_curvature` return; the arguments are theirs.

    Returns
    -------
    Curvature, or dict of them by layer name
        Fields ``metric`` ``(m, k, k)``, ``christoffel`` ``(m, k, k, k)``, ``riemann``
        ``(m, k, k, k, k)``, ``ricci`` ``(m, k, k)``, ``scalar`` ``(m,)``, ``singular``
        ``(m,)`` bool; arrays like ``x``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from neurogeom import TorchResponseMap
    >>> rm = TorchResponseMap(lambda x: torch.stack([x[:, 0], x[:, 1], x[:, 0] ** 2], 1))
    >>> curv = curvature_tensors(rm, np.zeros((1, 2)))
    >>> float(curv.scalar[0]), curv.riemann.shape    # parabolic cylinder: flat
    (0.0, (1, 2, 2, 2, 2))
    """
    per_layer = _measure(
        response_map,
        x,
        tangents,
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        christoffel_only=False,
        method=method,
    )
    ref = _where(x, tangents)[0]
    return response_map.unwrap_layers({n: _numpy_like(c, ref) for n, c in per_layer.items()})


def _one(
    response_map: ResponseMap,
    x: Any,
    tangents: Any,
    field: str,
    *,
    scale: str,
    on_singular: OnSingular,
    dtype: torch.dtype,
    return_singular: bool,
    method: Method,
) -> Any:
    per_layer = _measure(
        response_map,
        x,
        tangents,
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        christoffel_only=field == "christoffel",
        method=method,
    )
    ref = _where(x, tangents)[0]
    values = response_map.unwrap_layers(
        {n: like(getattr(c, field), ref) for n, c in per_layer.items()}
    )
    if not return_singular:
        return values
    return values, response_map.unwrap_layers(
        {n: like(c.singular, ref) for n, c in per_layer.items()}
    )


def scalar_curvature(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
    return_singular: bool = False,
    method: Method = "embedding",
) -> Any:
    """Ricci scalar of the pullback metric, exact by nested forward-mode autodiff.

    ``R = gᵇᵈ R_bd`` with ``R_bd = Rᵃ_bad``: ``2/a²`` on a sphere of radius ``a``, twice
    the Gaussian curvature in two dimensions, 0 on a flat (e.g. linear) representation,
    identically 0 on a line (``k = 1``). ``R`` is intrinsic: it does not change under a
    reparametrisation of the stimulus (``x = A y`` gives ``R(y) = R(A y)``), and its unit is
    1 / response_unit² (lengths are measured by ``g``, in response units).

    Parameters
    ----------
    response_map : ResponseMap
        The representation (each measured layer gets its own curvature): any map kind,
        through its :meth:`~neurogeom.ResponseMap.layer_jets` — exact for torch maps,
        central differences of the Jacobian for a map that provides only first
        derivatives.
    x : array, shape (m, *stimulus_shape), or a slice
        Points; a :class:`~neurogeom.slices.Line`, :class:`~neurogeom.slices.Plane`,
        :class:`~neurogeom.slices.Grid` or :class:`~neurogeom.slices.Points` gives its
        points and tangents.
    tangents : array, shape (k, *stimulus_shape), optional
        Orthonormal directions: the curvature of the metric induced on the slice they span
        (intrinsic). Default: the full stimulus space (``k = d``; costs about ``k³``
        forward passes per point, so keep ``k`` small).
    scale : {"none", "width"}
        ``"width"`` divides the metric by the layer width (``R`` is then multiplied by it).
    on_singular : {"raise", "nan"}
        Where the metric has numerical rank below ``k`` (smallest eigenvalue at most
        ``10 k ε λ_max``) the curvature is undefined. ``"raise"`` (default) raises
        :class:`~neurogeom.errors.SingularMetricError` naming the point; ``"nan"`` returns
        NaN at those points, which ``return_singular=True`` reports as a mask. No value is
        ever taken from a pseudo-inverse.
    dtype : torch.dtype
        Compute dtype (third derivatives of the network: float64 by default).
    return_singular : bool
        Also return the boolean mask of singular points.
    method : {"embedding", "metric"}
        ``"embedding"`` (default): Christoffel symbols ``J⁺ ∂∂r`` and the Gauss equation
        from the second derivatives of the responses, through a QR factorisation of ``J``
        (relative rounding error ~ ``ε·cond(g)``). ``"metric"``: the generic route through
        the metric field :meth:`~neurogeom.maps.TorchResponseMap.metric_field` and its
        exact second derivatives (third derivatives of the network; rounding error
        ~ ``ε·cond(g)²``, so prefer it only as an independent check).

    Returns
    -------
    scalar : array, shape (m,), or dict of them by layer name
        numpy or torch like ``x``.
    singular : array of bool, shape (m,), or dict; only if ``return_singular``

    Examples
    --------
    Sphere of radius 2 in the chart (θ, φ):

    >>> import numpy as np, torch
    >>> from neurogeom import TorchResponseMap
    >>> def sphere(x):
    ...     th, ph = x[:, 0], x[:, 1]
    ...     return 2.0 * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)
    >>> scalar_curvature(TorchResponseMap(sphere), np.array([[0.5, 0.1], [1.2, 2.0]]))
    array([0.5, 0.5])
    """
    return _one(
        response_map,
        x,
        tangents,
        "scalar",
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        return_singular=return_singular,
        method=method,
    )


def ricci_tensor(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
    return_singular: bool = False,
    method: Method = "embedding",
) -> Any:
    """Ricci tensor ``R_bd = Rᵃ_bad`` of the pullback (or slice-induced) metric.

    Parameters are those of :func:`scalar_curvature`.

    Returns
    -------
    ricci : array, shape (m, k, k), or dict of them by layer name
        Symmetric; in two dimensions ``R_bd = K g_bd``.
    singular : array of bool, shape (m,), or dict; only if ``return_singular``

    Examples
    --------
    >>> import numpy as np, torch
    >>> from neurogeom import TorchResponseMap
    >>> def sphere(x):
    ...     th, ph = x[:, 0], x[:, 1]
    ...     return torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)
    >>> ricci_tensor(TorchResponseMap(sphere), np.array([[np.pi / 2, 0.0]]))[0]  # K g, K = 1
    array([[1., 0.],
           [0., 1.]])
    """
    return _one(
        response_map,
        x,
        tangents,
        "ricci",
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        return_singular=return_singular,
        method=method,
    )


def christoffel_symbols(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
    return_singular: bool = False,
    method: Method = "embedding",
) -> Any:
    """Christoffel symbols ``Γᵃ_bc = ½ gᵃᵈ (∂_b g_dc + ∂_c g_db − ∂_d g_bc)``.

    Parameters are those of :func:`scalar_curvature`; only first derivatives of the
    metric are needed.

    Returns
    -------
    christoffel : array, shape (m, k, k, k), or dict of them by layer name
        ``Γᵃ_bc`` at ``[:, a, b, c]``.
    singular : array of bool, shape (m,), or dict; only if ``return_singular``

    Examples
    --------
    Polar chart ``(ρ, θ) ↦ (ρ cos θ, ρ sin θ)``: ``Γ^ρ_θθ = −ρ``, ``Γ^θ_ρθ = 1/ρ``.

    >>> import numpy as np, torch
    >>> from neurogeom import TorchResponseMap
    >>> polar = TorchResponseMap(lambda x: torch.stack(
    ...     [x[:, 0] * x[:, 1].cos(), x[:, 0] * x[:, 1].sin()], 1))
    >>> G = christoffel_symbols(polar, np.array([[2.0, 0.3]]))
    >>> round(float(G[0, 0, 1, 1]), 12), round(float(G[0, 1, 0, 1]), 12)
    (-2.0, 0.5)
    """
    return _one(
        response_map,
        x,
        tangents,
        "christoffel",
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        return_singular=return_singular,
        method=method,
    )


_EXTRINSIC_FIELDS = (
    "second_fundamental_form",
    "mean_curvature",
    "mean_curvature_norm",
    "principal_curvatures",
    "normal_undefined",
    "singular",
)


def extrinsic_curvature(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
) -> Any:
    r"""Second fundamental form, mean curvature and principal curvatures, from one jet.

    How the response manifold (or the surface a slice of stimuli traces) bends inside
    response space. Conventions (those of :class:`~neurogeom.riemann.curvature.Extrinsic`)::

        II_ab = (I − P_T) ∂_a∂_b r,    H = (1/k) gᵃᵇ II_ab  (trace / k),
        κ₁ ≥ … ≥ κ_k  the eigenvalues of the shape operator g⁻¹⟨II, ν⟩ along ν = H/|H|,

    so a sphere of radius ``a`` has ``κ = 1/a`` and ``|H| = 1/a``, a hypersurface its
    principal curvatures (oriented so that ``Σκ ≥ 0``). Unit: 1 / response_unit (scaling
    the responses by ``s`` divides every curvature by ``s``); a rotation of response space
    into more neurons changes nothing. :func:`second_fundamental_form`,
    :func:`mean_curvature` and :func:`principal_curvatures` return one field each.

    Every map kind works through the protocol: exact ``torch.func`` jets for a
    :class:`~neurogeom.TorchResponseMap` (the same jets and the same QR factorisation as
    :func:`scalar_curvature`), central differences of the Jacobian for a map that gives
    only first derivatives, and for a :class:`~neurogeom.SampledResponseMap` a local
    quadratic estimate whose noise-biased inner products are corrected (``|H|`` and ``κ``
    come from the corrected Gram matrix of the jet; ``II`` and ``H`` are the estimated
    vectors, whose norms are biased upward by noise).

    Parameters
    ----------
    response_map : ResponseMap
        Any map kind (each measured layer gets its own).
    x : array, shape (m, *stimulus_shape), or a slice
        Points, or a :class:`~neurogeom.slices.Line`/``Plane``/``Grid``/``Points``.
    tangents : array, shape (k, *stimulus_shape), optional
        Orthonormal directions: the surface the slice they span traces in response space.
        Default the full stimulus space (``k = d``).
    scale : {"none", "width"}
        ``"width"`` divides the responses by √width (curvatures are multiplied by it).
    on_singular : {"raise", "nan"}
        As :func:`scalar_curvature`: at a singular metric raise
        :class:`~neurogeom.errors.SingularMetricError`, or return NaN there.
    dtype : torch.dtype
        Compute dtype of a torch map.

    Returns
    -------
    Extrinsic, or dict of them by layer name
        Fields ``second_fundamental_form`` ``(m, n, k, k)``, ``mean_curvature`` ``(m, n)``,
        ``mean_curvature_norm`` ``(m,)``, ``principal_curvatures`` ``(m, k)`` (largest
        first; NaN where ``normal_undefined``), ``normal_undefined`` and ``singular``
        ``(m,)``; arrays like ``x``.

    Examples
    --------
    Cylinder of radius 2, ``(t, z) ↦ (2 cos t, 2 sin t, z)``: ``κ = (1/2, 0)``.

    >>> import numpy as np, torch, neurogeom as ng
    >>> cyl = ng.TorchResponseMap(lambda x: torch.stack(
    ...     [2 * x[:, 0].cos(), 2 * x[:, 0].sin(), x[:, 1]], 1))
    >>> ext = ng.extrinsic_curvature(cyl, np.array([[0.3, 1.0]]))
    >>> ext.principal_curvatures.round(12), ext.mean_curvature_norm.round(12)
    (array([[0.5, 0. ]]), array([0.25]))
    """
    per_layer = second_order(
        response_map, x, tangents, scale=scale, on_singular=on_singular, dtype=dtype
    )
    ref = _where(x, tangents)[0]
    return response_map.unwrap_layers(
        {
            name: Extrinsic(*(like(getattr(ext, f), ref) for f in _EXTRINSIC_FIELDS))
            for name, (_, ext) in per_layer.items()
        }
    )


def _extrinsic_field(
    response_map: ResponseMap,
    x: Any,
    tangents: Any,
    field: str,
    *,
    scale: Scale,
    on_singular: OnSingular,
    dtype: torch.dtype,
    return_singular: bool,
) -> Any:
    per_layer = second_order(
        response_map, x, tangents, scale=scale, on_singular=on_singular, dtype=dtype
    )
    ref = _where(x, tangents)[0]
    values = response_map.unwrap_layers(
        {n: like(getattr(e, field), ref) for n, (_, e) in per_layer.items()}
    )
    if not return_singular:
        return values
    return values, response_map.unwrap_layers(
        {n: like(e.singular, ref) for n, (_, e) in per_layer.items()}
    )


def second_fundamental_form(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
    return_singular: bool = False,
) -> Any:
    """The normal-valued second fundamental form ``II(∂_a, ∂_b) = (I − P_T) ∂_a∂_b r``.

    The part of each second derivative of the responses that leaves the tangent space
    (conventions and map kinds: :func:`extrinsic_curvature`; parameters:
    :func:`scalar_curvature`).

    Returns
    -------
    second_fundamental_form : array, shape (m, n, k, k), or dict of them by layer name
        ``II_ab`` at ``[:, :, a, b]``, symmetric in ``a, b``, orthogonal to ``J``; ``k = d``,
        or the number of tangents (2 on a plane).
    singular : array of bool, shape (m,), or dict; only if ``return_singular``

    Examples
    --------
    Unit sphere at the north-pole side ``(θ, φ) = (π/2, 0)``: ``II_θθ = −r``.

    >>> import numpy as np, torch, neurogeom as ng
    >>> def sphere(x):
    ...     th, ph = x[:, 0], x[:, 1]
    ...     return torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)
    >>> II = ng.second_fundamental_form(ng.TorchResponseMap(sphere), np.array([[np.pi / 2, 0.0]]))
    >>> II[0, :, 0, 0].round(12) + 0.0
    array([-1.,  0.,  0.])
    """
    return _extrinsic_field(
        response_map,
        x,
        tangents,
        "second_fundamental_form",
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        return_singular=return_singular,
    )


def mean_curvature(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    norm: bool = False,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
    return_singular: bool = False,
) -> Any:
    """The mean-curvature vector ``H = (1/k) gᵃᵇ II_ab`` (trace over ``k``), or its norm.

    With this convention ``|H| = 1/a`` on a sphere of radius ``a`` (of any dimension), and
    ``|H|`` is the mean of the principal curvatures. Conventions and map kinds:
    :func:`extrinsic_curvature`; other parameters: :func:`scalar_curvature`.

    Parameters
    ----------
    norm : bool
        Return ``|H|`` ``(m,)`` instead of the vector ``(m, n)``. For an estimated map the
        norm is the bias-corrected estimate (NaN where the corrected ``|H|²`` is negative:
        not identifiable at this noise level).

    Returns
    -------
    mean_curvature : array, shape (m, n) or (m,), or dict of them by layer name
    singular : array of bool, shape (m,), or dict; only if ``return_singular``

    Examples
    --------
    >>> import numpy as np, torch, neurogeom as ng
    >>> def sphere(x):
    ...     th, ph = x[:, 0], x[:, 1]
    ...     return 3.0 * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)
    >>> h = ng.mean_curvature(ng.TorchResponseMap(sphere), np.array([[1.0, 0.2]]), norm=True)
    >>> round(float(h[0]), 12)    # 1/a
    0.333333333333
    """
    return _extrinsic_field(
        response_map,
        x,
        tangents,
        "mean_curvature_norm" if norm else "mean_curvature",
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        return_singular=return_singular,
    )


def principal_curvatures(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    scale: Scale = "none",
    on_singular: OnSingular = "raise",
    dtype: torch.dtype = torch.float64,
    return_singular: bool = False,
) -> Any:
    """Principal curvatures: eigenvalues of the shape operator along the mean-curvature normal.

    ``κ₁ ≥ … ≥ κ_k``, the eigenvalues of ``g⁻¹⟨II, ν⟩`` with ``ν = H/|H|``; for a
    hypersurface (codimension 1) its principal curvatures, oriented so that ``Σκ = k|H|``.
    NaN where the normal is undefined (``H = 0`` while ``II`` spans several normals, or an
    estimate whose corrected ``|H|²`` is not positive). Conventions and map kinds:
    :func:`extrinsic_curvature`; parameters: :func:`scalar_curvature`.

    Returns
    -------
    principal_curvatures : array, shape (m, k), or dict of them by layer name
        Largest first.
    singular : array of bool, shape (m,), or dict; only if ``return_singular``

    Examples
    --------
    Paraboloid ``z = x² + y²`` at its vertex: ``κ = (2, 2)``.

    >>> import numpy as np, torch, neurogeom as ng
    >>> para = ng.TorchResponseMap(lambda x: torch.cat([x, (x**2).sum(1, keepdim=True)], 1))
    >>> ng.principal_curvatures(para, np.zeros((1, 2)))
    array([[2., 2.]])
    """
    return _extrinsic_field(
        response_map,
        x,
        tangents,
        "principal_curvatures",
        scale=scale,
        on_singular=on_singular,
        dtype=dtype,
        return_singular=return_singular,
    )


def curvature_intervals(
    response_map: ResponseMap,
    x: Any,
    tangents: Any = None,
    *,
    level: float = 0.95,
    scale: Scale = "none",
    n_resamples: int | None = None,
) -> Any:
    """Bootstrap percentile intervals of the Ricci scalar, ``|H|`` and principal curvatures.

    For maps estimated from trials (:class:`~neurogeom.SampledResponseMap` with
    ``estimator="local_quadratic"``): its bootstrap resamples of the bias-corrected jet Gram
    matrices (``layer_jet_gram_resamples``; trials resampled within presentations,
    recentred on the corrected estimate as the metric's are) each give a curvature
    (:func:`~neurogeom.riemann.curvature.curvature_from_gram`); the intervals are their
    percentiles, ignoring resamples where a quantity is not identifiable (NaN), whose share
    is reported. Like the metric's, they cover the smoothed target (the curvature of what
    the estimator converges to at this bandwidth), not smoothing bias.

    Parameters
    ----------
    response_map : ResponseMap
        A map whose geometry is estimated from data (exact maps have no sampling
        uncertainty and raise :class:`~neurogeom.errors.InputTypeError`).
    x : array, shape (m, d), or a slice
    tangents : array, shape (k, d), optional
    level : float
        Confidence level in (0, 1).
    scale : {"none", "width"}
    n_resamples : int, optional
        Default the map's ``n_bootstrap``.

    Returns
    -------
    dict of str to array, or dict of them by layer name
        ``ricci_scalar_ci_low``/``_ci_high`` ``(m,)``, ``mean_curvature_norm_ci_low``/
        ``_ci_high`` ``(m,)``, ``principal_curvatures_ci_low``/``_ci_high`` ``(m, k)`` and
        ``curvature_unidentified_fraction`` ``(m,)`` (resamples whose principal curvatures
        are undefined).

    Examples
    --------
    >>> import numpy as np, neurogeom as ng
    >>> pop = ng.simulate.AffineSurface("sphere", 12, gain=10.0, baseline=30.0,
    ...                                 bounds=[[0.6, 2.5], [0.0, 2.5]])
    >>> X = pop.uniform_stimuli(300, random_state=0)
    >>> rm = ng.SampledResponseMap(X, pop.sample(X, 6, random_state=1), "local_quadratic",
    ...                            estimator_params={"bandwidth": 0.5}, n_bootstrap=20)
    >>> ci = ng.curvature_intervals(rm, np.array([[1.5, 1.2]]))
    >>> bool(ci["ricci_scalar_ci_low"][0] < ci["ricci_scalar_ci_high"][0])
    True
    """
    if not isinstance(level, (int, float, np.number)) or not 0 < float(level) < 1:
        raise ParameterError(f"level={level!r}; expected a confidence level in (0, 1).")
    if not isinstance(response_map, ResponseMap):
        raise InputTypeError(
            f"curvature_intervals needs a ResponseMap; got {type(response_map).__name__}."
        )
    draws = getattr(response_map, "layer_jet_gram_resamples", None)
    if not callable(draws):
        raise InputTypeError(
            f"{type(response_map).__name__} has no bootstrap resamples of its jets: its "
            "curvature is computed, not estimated, so it has no sampling interval. "
            "Intervals are for maps estimated from trials (ng.SampledResponseMap)."
        )
    check_scale(scale)
    pts, T = _where(x, tangents)
    res = draws(pts, T, scale=scale, n_resamples=n_resamples)
    if res is None:
        raise ParameterError(
            "no resamples: pass n_resamples= or build the map with n_bootstrap > 0."
        )
    lo, hi = 50 * (1 - float(level)), 50 * (1 + float(level))
    out = {}
    for layer, Gb in res.items():
        B, m = Gb.shape[:2]
        curv, ext = _from_gram(np.reshape(Gb, (B * m, *Gb.shape[2:])))
        k = curv.metric.shape[-1]
        values = {
            "ricci_scalar": curv.scalar.reshape(B, m).numpy(),
            "mean_curvature_norm": ext.mean_curvature_norm.reshape(B, m).numpy(),
            "principal_curvatures": ext.principal_curvatures.reshape(B, m, k).numpy(),
        }
        fields: dict[str, np.ndarray] = {}
        with warnings.catch_warnings():  # all-NaN points: not identifiable in any resample
            warnings.simplefilter("ignore", RuntimeWarning)
            for name, v in values.items():
                fields[f"{name}_ci_low"] = np.nanpercentile(v, lo, axis=0)
                fields[f"{name}_ci_high"] = np.nanpercentile(v, hi, axis=0)
        fields["curvature_unidentified_fraction"] = np.isnan(
            values["principal_curvatures"][..., 0]
        ).mean(0)
        out[layer] = fields
    return response_map.unwrap_layers(out)
