"""``geometry``: measure a response map on a slice and return a labelled Dataset.

Data flow: slice → points (+ tangents) → ResponseMap metrics → spectra and log-volumes
→ :func:`neurogeom.dataset.build_dataset`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import xarray as xr

from ._arrays import to_tensor
from .dataset import build_dataset
from .geometry.intervals import bootstrap_intervals
from .geometry.metric import Scale, check_scale
from .geometry.volume import (
    _as_metric,
    _log_volume_from_spectrum,
    _spectrum,
    _tolerances,
    jacobian_spectrum,
)
from .maps.base import ResponseMap
from .slices import Points, Slice

__all__ = ["class_probabilities", "geometry"]

Space = Literal["auto", "slice", "full"]
KEEP_METRIC_MAX = 64
#: Default block: at most this many metric entries (k x k per point) at a time.
BLOCK_ELEMENTS = 2**24


def geometry(
    response_map: ResponseMap,
    where: Slice | Any,
    *,
    space: Space = "auto",
    rank: int | Literal["auto"] | None = None,
    scale: Scale = "none",
    classifier: Callable[[Any], Any] | None = None,
    keep_metric: bool | Literal["auto"] = "auto",
    block_size: int | None = None,
    config: dict[str, Any] | None = None,
    level: float = 0.95,
    keep_resamples: bool = False,
    curvature: bool = False,
) -> xr.Dataset:
    r"""Measure metric, volume element and spectrum of a response map on a slice.

    Parameters
    ----------
    response_map : ResponseMap
        A network (:class:`~neurogeom.TorchResponseMap`) or sampled recording.
    where : Slice or array of shape (m, *stimulus_shape)
        :class:`~neurogeom.Line`, :class:`~neurogeom.Plane`, :class:`~neurogeom.Grid`, or
        plain points (dimension ``point``).
    space : {"auto", "slice", "full"}
        ``"slice"``: the metric induced on the slice, :math:`T g T^\top`, from ``k``
        Jacobian-vector products (``k`` = 1 for a line, 2 for a plane). ``"full"``: the
        metric on the whole stimulus space (``d × d``). ``"auto"``: ``"slice"`` when the
        slice has tangents, else ``"full"``.
    rank : int, "auto" or None
        Pseudo-determinant rank for the volume element (see
        :func:`~neurogeom.log_volume_element`); needed for full-space metrics of images,
        which are singular when the layer is narrower than the image.
    scale : {"none", "width"}
        ``"width"`` divides each layer's metric by its width (the seed's convention).
    classifier : callable, optional
        Maps a batch of stimuli to logits (unnormalised log-probabilities), e.g. the
        network itself; adds ``prediction``, ``entropy`` (log base 10) and ``probability``.
    keep_metric : bool or "auto"
        Store the metric tensor itself; ``"auto"`` keeps it up to 64 × 64.
    block_size : int, optional
        Points measured at a time; only one block's Jacobians are held in memory. Default:
        up to 256, fewer for large metrics (at most 2²⁴ metric entries per block).
    config : dict, optional
        Extra settings to record in the Dataset's ``config`` attribute.
    level : float
        Confidence level of the bootstrap intervals, for maps that estimate geometry from
        data (their :meth:`~neurogeom.ResponseMap.layer_metric_resamples` is not None).
    keep_resamples : bool
        Also store the bootstrap log-volumes (dimension ``bootstrap``).
    curvature : bool
        Also measure the Ricci scalar of the same metric (slice-induced or full, same
        ``scale``) with :func:`~neurogeom.scalar_curvature`: variables ``ricci_scalar``
        (NaN where the metric is singular) and ``ricci_singular`` (those points). Needs a
        :class:`~neurogeom.TorchResponseMap` and at most 16 coordinates (a line, a plane,
        or a low-dimensional grid).

    Returns
    -------
    xarray.Dataset
        Dims: the slice's (``t``; ``u``, ``v``; or ``point``), ``layer`` when the map
        measures several layers, ``coord_i``/``coord_j``, ``eigen``. Variables
        ``log_volume_element``, ``eigenvalues``, ``metric_rank``, optionally ``metric`` and the
        classifier's. ``attrs["space"]`` is ``"slice"`` (the induced metric) or ``"full"``.
        Maps estimated from data add their per-point flags (e.g. ``indefinite``: a
        bias-corrected metric that is not positive definite, whose log-volume is then NaN)
        and, with resamples, ``*_ci_low``/``*_ci_high`` bounds.

    Examples
    --------
    >>> import numpy as np, torch, neurogeom as ng
    >>> W = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], dtype=torch.float64)
    >>> rm = ng.TorchResponseMap(lambda x: x @ W.T, dtype=torch.float64)
    >>> ds = ng.geometry(rm, ng.Grid([(-1, 1), (-1, 1)], resolution=4))
    >>> float(ds.log_volume_element[0, 0])  # log sqrt(det diag(1, 4)) = log 2
    0.6931471805599453
    """
    check_scale(scale)
    sl = where if isinstance(where, Slice) else Points(where)
    tangents = _tangents_for(sl, space)
    k = math.prod(sl.stimulus_shape) if tangents is None else tangents.shape[0]
    keep = (k <= KEEP_METRIC_MAX) if keep_metric == "auto" else bool(keep_metric)
    if block_size is None:
        block_size = min(256, max(1, BLOCK_ELEMENTS // (k * k)))
    if block_size < 1:
        raise ValueError(f"block_size={block_size} must be positive.")
    req = _Request(tangents, rank, scale, keep, level, keep_resamples)
    blocks = [
        _measure_block(response_map, sl.points[i : i + block_size], req)
        for i in range(0, len(sl), block_size)
    ]
    fields = {name: np.concatenate([b[name] for b in blocks], axis=1) for name in blocks[0]}
    if not response_map.returns_dict:  # one layer: no layer dimension
        fields = {name: value[0] for name, value in fields.items()}
    if curvature:
        curv = _curvature_fields(response_map, sl.points, tangents, k, scale, block_size)
        fields.update(curv if response_map.returns_dict else {n: v[0] for n, v in curv.items()})
    if classifier is not None:
        fields.update(class_probabilities(classifier, sl.points))
    layers = list(response_map.layers)
    label = "slice" if tangents is not None else "full"
    settings = {
        "space": label,
        "rank": rank,
        "scale": scale,
        "response_map": repr(response_map),
        "layers": layers,
        "slice": sl.kind,
        "curvature": curvature,
        **(config or {}),
    }
    var_attrs = {
        name: {"space": label, "scale": scale}
        for name in ("metric", "log_volume_element", "eigenvalues", "ricci_scalar")
    }
    var_attrs["ricci_scalar"]["method"] = CURVATURE_METHOD
    ds = build_dataset(
        sl,
        fields,
        layers=layers if response_map.returns_dict else None,
        attrs=var_attrs,
        config=settings,
    )
    ds.attrs["space"] = label
    return ds


def _tangents_for(sl: Slice, space: str) -> np.ndarray | None:
    if space not in ("auto", "slice", "full"):
        raise ValueError(f"space={space!r}; use 'auto', 'slice' or 'full'.")
    if space == "slice" and sl.tangents is None:
        raise ValueError(
            f"space='slice' needs a slice with tangents (Line, Plane or Points with "
            f"tangents); a {sl.kind} spans the whole stimulus space, use space='full'."
        )
    return None if space == "full" else sl.tangents


@dataclass(frozen=True)
class _Request:
    """What to measure at each block of points."""

    tangents: np.ndarray | None
    rank: int | Literal["auto"] | None
    scale: Scale
    keep_metric: bool
    level: float
    keep_resamples: bool


def _measure_block(rm: ResponseMap, points: np.ndarray, req: _Request) -> dict[str, np.ndarray]:
    """Per-layer fields ``(L, m_block, ...)`` for one block of points."""
    flags = rm.point_flags(points, req.tangents, scale=req.scale)
    if flags is not None:  # an estimate: may be indefinite or flagged NaN, never clipped
        return _estimated_fields(rm, points, flags, req)
    if rm.metric_is_pullback and not req.keep_metric:
        jac = rm.layer_jacobians(points, req.tangents).values()
        k = _directions(points, req.tangents)
        spectra = [to_tensor(jacobian_spectrum(J, scale=req.scale)) for J in jac]
        return _spectral_fields(spectra, k, req.rank)
    metrics = [
        _as_metric(g) for g in rm.layer_metrics(points, req.tangents, scale=req.scale).values()
    ]
    fields = _spectral_fields(
        [_spectrum(g, check=True) for g in metrics], metrics[0].shape[-1], req.rank
    )
    if req.keep_metric:
        fields["metric"] = np.stack([g.numpy() for g in metrics])
    return fields


def _directions(points: np.ndarray, tangents: np.ndarray | None) -> int:
    return math.prod(points.shape[1:]) if tangents is None else len(tangents)


def _spectral_fields(
    spectra: list[torch.Tensor], k: int, rank: int | Literal["auto"] | None
) -> dict[str, np.ndarray]:
    """Log-volume, rank and eigenvalues from each layer's leading eigenvalues.

    Spectra shorter than ``k`` (a layer narrower than the slice) are completed with their
    exact zeros for the volume element, and stored at the longest layer's length.
    """
    width = max(e.shape[-1] for e in spectra)
    out: dict[str, list[np.ndarray]] = {
        "log_volume_element": [],
        "eigenvalues": [],
        "metric_rank": [],
    }
    for eig in spectra:
        full = _pad(eig, k)
        scale = full.abs().amax(dim=-1).clamp_min(torch.finfo(torch.float64).tiny)
        tol = 10.0 * k * torch.finfo(torch.float64).eps * scale
        logvol, used = _log_volume_from_spectrum(full, rank, tol)
        out["log_volume_element"].append(logvol.numpy())
        out["metric_rank"].append(used.numpy())
        out["eigenvalues"].append(full[..., :width].numpy())
    return {name: np.stack(values) for name, values in out.items()}


def _pad(eig: torch.Tensor, k: int) -> torch.Tensor:
    missing = k - eig.shape[-1]
    return torch.nn.functional.pad(eig, (0, missing)) if missing > 0 else eig


def _estimated_fields(
    rm: ResponseMap, points: np.ndarray, flags: dict[str, Any], req: _Request
) -> dict[str, np.ndarray]:
    """Fields of an estimated map: NaN log-volume where the metric is flagged or indefinite."""
    metrics = rm.layer_metrics(points, req.tangents, scale=req.scale)
    out: dict[str, list[np.ndarray]] = {
        "log_volume_element": [],
        "eigenvalues": [],
        "metric_rank": [],
    }
    if req.keep_metric:
        out["metric"] = []
    for g in metrics.values():
        t = to_tensor(g).to(torch.float64)
        ok = torch.isfinite(t).flatten(1).all(dim=1)
        eig = torch.full(t.shape[:-1], float("nan"), dtype=torch.float64)
        eig[ok] = torch.linalg.eigvalsh(t[ok]).flip(-1)
        logvol = torch.full(t.shape[:1], float("nan"), dtype=torch.float64)
        used = torch.zeros(t.shape[:1], dtype=torch.int64)
        k = t.shape[-1] if req.rank in (None, "auto") else int(req.rank)
        pd = ok & (eig[:, : max(k, 1)] > 0).all(dim=1) if req.rank != "auto" else ok
        if bool(pd.any()):
            lv, u = _log_volume_from_spectrum(eig[pd], req.rank, _tolerances(t[pd], eig[pd]))
            logvol[pd], used[pd] = lv, u
        out["log_volume_element"].append(logvol.numpy())
        out["eigenvalues"].append(eig.numpy())
        out["metric_rank"].append(used.numpy())
        if req.keep_metric:
            out["metric"].append(t.numpy())
    fields = {name: np.stack(values) for name, values in out.items()}
    for name, value in flags.items():
        fields[name] = np.stack([np.asarray(value)] * len(metrics))
    fields.update(_interval_fields(rm, points, req))
    return fields


INTERVAL_FIELDS = (
    "log_volume_element_ci_low",
    "log_volume_element_ci_high",
    "eigenvalues_ci_low",
    "eigenvalues_ci_high",
    "log_volume_element_unbounded",
    "indefinite_fraction",
)


def _interval_fields(rm: ResponseMap, points: np.ndarray, req: _Request) -> dict[str, np.ndarray]:
    """Bootstrap intervals per layer, when the map provides metric resamples."""
    resamples = rm.layer_metric_resamples(points, req.tangents, scale=req.scale)
    if resamples is None:
        return {}
    rank = None if req.rank in (None, "auto") else int(req.rank)
    per_layer = [bootstrap_intervals(r, req.level, rank) for r in resamples.values()]
    names = INTERVAL_FIELDS + (("log_volume_element_bootstrap",) if req.keep_resamples else ())
    return {name: np.stack([ci[name] for ci in per_layer]) for name in names}


def class_probabilities(
    classifier: Callable[[Any], Any], points: np.ndarray, *, block_size: int = 256
) -> dict[str, np.ndarray]:
    """Prediction, entropy (log base 10) and probabilities of a logit-valued classifier.

    Parameters
    ----------
    classifier : callable or nn.Module
        Maps a batch of stimuli ``(m, *stimulus_shape)`` to logits ``(m, c)``.
    points : ndarray, shape (m, *stimulus_shape)
    block_size : int
        Points per call.

    Returns
    -------
    dict
        ``prediction`` (m,), ``entropy`` (m,) with :math:`-\\sum p \\log_{10} p`,
        ``probability`` (m, c).

    Examples
    --------
    >>> import numpy as np, torch
    >>> out = class_probabilities(lambda x: torch.zeros(len(x), 10), np.zeros((2, 3)))
    >>> out["entropy"]  # uniform over 10 classes: exactly 1 hartley
    array([1., 1.])
    """
    from .maps.torch import TorchResponseMap

    clf = TorchResponseMap(classifier, chunk_size=block_size)
    logits = to_tensor(clf.responses(points)).to(torch.float64)
    logp = torch.log_softmax(logits, dim=1)
    p = logp.exp()
    entropy = -(p * logp).sum(dim=1) / math.log(10.0)
    return {
        "prediction": logits.argmax(dim=1).numpy(),
        "entropy": entropy.clamp_min(0.0).numpy(),
        "probability": p.numpy(),
    }


CURVATURE_MAX_DIM = 16
CURVATURE_METHOD = (
    "neurogeom.scalar_curvature (method='embedding'): exact torch.func second derivatives of "
    "the responses in float64, Christoffel symbols J+ d2r and the Gauss equation; "
    "R = g^bd R^a_bad, 2/a**2 on a sphere of radius a; NaN where the metric is singular"
)


def _curvature_fields(
    rm: ResponseMap,
    points: np.ndarray,
    tangents: np.ndarray | None,
    k: int,
    scale: Scale,
    block_size: int,
) -> dict[str, np.ndarray]:
    """``ricci_scalar`` and ``ricci_singular``, each ``(L, m)``."""
    from .curvature import scalar_curvature
    from .maps.torch import TorchResponseMap

    if not isinstance(rm, TorchResponseMap):
        raise TypeError(
            f"curvature=True needs exact derivatives of a TorchResponseMap; got "
            f"{type(rm).__name__}. Measure it without curvature."
        )
    if k > CURVATURE_MAX_DIM:
        raise ValueError(
            f"curvature=True on {k} coordinates would take ~{k}² forward passes per point; "
            f"measure it on a Line or Plane slice (at most {CURVATURE_MAX_DIM} coordinates)."
        )
    scalars: list[list[np.ndarray]] = [[] for _ in rm.layers]
    masks: list[list[np.ndarray]] = [[] for _ in rm.layers]
    for i in range(0, len(points), block_size):
        block = points[i : i + block_size]
        R, singular = scalar_curvature(
            rm, block, tangents, scale=scale, on_singular="nan", return_singular=True
        )
        if not rm.returns_dict:
            R, singular = {rm.layers[0]: R}, {rm.layers[0]: singular}
        for j, name in enumerate(rm.layers):
            scalars[j].append(R[name])
            masks[j].append(singular[name])
    return {
        "ricci_scalar": np.stack([np.concatenate(v) for v in scalars]),
        "ricci_singular": np.stack([np.concatenate(v) for v in masks]),
    }
