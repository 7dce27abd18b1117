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

from typing import Any, Literal

import numpy as np
import torch

from ._arrays import as_array, like, to_tensor
from .errors import InputTypeError, ParameterError, SingularMetricError
from .maps.base import ResponseMap
from .riemann.curvature import (
    Curvature,
    OnSingular,
    check_on_singular,
    curvature_from_embedding,
    curvature_from_jets,
)
from .riemann.metric import Scale, check_scale
from .slices import check_tangents

__all__ = ["christoffel_symbols", "curvature_tensors", "ricci_tensor", "scalar_curvature"]

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
    if method == "metric":
        metric_jets = getattr(rm, "metric_jets", None)
        if not callable(metric_jets):
            raise InputTypeError(
                f"method='metric' needs the metric field's derivatives (metric_jets), which "
                f"{type(rm).__name__} does not provide; use method='embedding'."
            )
        jets = metric_jets(pts, T, order=1 if christoffel_only else 2, scale=scale)
    else:
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
