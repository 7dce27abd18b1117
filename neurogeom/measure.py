"""``geometry``: measure a response map on a slice and return a labelled Dataset.

Data flow: slice → points (+ tangents) → ResponseMap metrics → spectra and log-volumes
→ :func:`neurogeom.dataset.build_dataset`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import xarray as xr

from ._arrays import check_count, check_finite, check_fits, to_tensor
from ._progress import progress as progress_bar
from .dataset import build_dataset
from .errors import InputTypeError, NonFiniteError, ParameterError, ShapeError
from .maps.base import Measurement, ResponseMap
from .riemann.intervals import bootstrap_intervals
from .riemann.metric import Scale, check_scale
from .riemann.volume import (
    check_metric,
    check_rank,
    jacobian_spectrum,
    log_volume_from_spectrum,
    spectrum_tolerance,
)
from .slices import Points, Slice

__all__ = ["class_probabilities", "entropy_log10", "geometry"]

Space = Literal["auto", "slice", "full"]
ClassifierOutput = Literal["logits", "log_probabilities", "probabilities"]
CLASSIFIER_OUTPUTS: tuple[str, ...] = ("logits", "log_probabilities", "probabilities")
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
    classifier_output: ClassifierOutput = "logits",
    progress: bool | None = None,
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
        data (their :class:`~neurogeom.Measurement` carries resamples).
    keep_resamples : bool
        Also store the bootstrap log-volumes (dimension ``bootstrap``).
    curvature : bool
        Also measure second-order geometry of the same metric (slice-induced or full, same
        ``scale``), intrinsic and extrinsic from one jet per block: ``ricci_scalar`` (as
        :func:`~neurogeom.scalar_curvature`; NaN where the metric is singular),
        ``ricci_singular`` (those points), ``mean_curvature_norm`` (``|H|``, as
        :func:`~neurogeom.mean_curvature`), ``principal_curvatures`` (dimension
        ``principal``, as :func:`~neurogeom.principal_curvatures`) and
        ``principal_undefined``; on a plane, the curvature of the surface the plane traces
        in the layer. Any map kind (through its :meth:`~neurogeom.ResponseMap.layer_jets`;
        a sampled map needs ``estimator="local_quadratic"``, and with ``n_bootstrap > 0``
        and repeated trials adds ``*_ci_low``/``*_ci_high`` bounds of the three and
        ``curvature_unidentified_fraction``), on at most 16 coordinates (a line, a plane,
        or a low-dimensional grid).
    classifier_output : {"logits", "log_probabilities", "probabilities"}
        What ``classifier`` returns. With the default, outputs that are already
        probabilities (nonnegative rows summing to 1) are refused, since taking them for
        logits would give a wrong entropy.
    progress : bool or None
        A progress bar over blocks (tqdm, on stderr); None: only when stderr is a terminal.

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
    if not isinstance(response_map, ResponseMap):
        raise InputTypeError(
            f"response_map is a {type(response_map).__name__}; expected a ResponseMap. "
            "Wrap a network with ng.TorchResponseMap(model) or recordings with "
            "ng.SampledResponseMap(...)."
        )
    check_rank(rank)
    level = _check_level(level)
    for name, flag in (("keep_resamples", keep_resamples), ("curvature", curvature)):
        if not isinstance(flag, bool | np.bool_):
            raise ParameterError(f"{name}={flag!r}; expected True or False.")
    if keep_metric != "auto" and not isinstance(keep_metric, bool | np.bool_):
        raise ParameterError(f"keep_metric={keep_metric!r}; expected True, False or 'auto'.")
    if classifier is not None and not callable(classifier):
        raise InputTypeError(
            f"classifier is a {type(classifier).__name__}; expected a callable returning "
            "class scores (e.g. the network)."
        )
    _check_classifier_output(classifier_output)
    sl = where if isinstance(where, Slice) else Points(where)
    tangents = _tangents_for(sl, space)
    k = math.prod(sl.stimulus_shape) if tangents is None else tangents.shape[0]
    keep = (k <= KEEP_METRIC_MAX) if keep_metric == "auto" else bool(keep_metric)
    if block_size is None:
        block_size = min(256, max(1, BLOCK_ELEMENTS // (k * k)))
    block_size = check_count(block_size, "block_size", 1)
    req = _Request(tangents, rank, scale, keep, level, keep_resamples)
    _check_output_fits(response_map, sl, k, req)
    n_blocks = -(-len(sl) // block_size)
    blocks = (
        (start, _measure_block(response_map, points, req, start))
        for start, points in progress_bar(
            sl.blocks(block_size), total=n_blocks, desc="geometry", enabled=progress
        )
    )
    fields = _gather(blocks, len(sl))
    if not response_map.returns_dict:  # one layer: no layer dimension
        fields = {name: value[0] for name, value in fields.items()}
    if curvature:
        curv = _curvature_fields(response_map, sl, tangents, k, scale, block_size, progress, level)
        fields.update(curv if response_map.returns_dict else {n: v[0] for n, v in curv.items()})
    if classifier is not None:
        fields.update(_class_fields(classifier, sl, block_size, classifier_output))
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
        **({"estimation": response_map.estimation} if hasattr(response_map, "estimation") else {}),
        **(config or {}),
    }
    var_attrs = {
        name: {"space": label, "scale": scale}
        for name in ("metric", "log_volume_element", "eigenvalues", *_CURVATURE_VARIABLES)
    }
    for name in _CURVATURE_VARIABLES:
        var_attrs[name]["method"] = CURVATURE_METHOD
    ds = build_dataset(
        sl,
        fields,
        layers=layers if response_map.returns_dict else None,
        attrs=var_attrs,
        config=settings,
    )
    ds.attrs["space"] = label
    estimation = getattr(response_map, "estimation", None)
    if isinstance(estimation, dict) and "bandwidth" in estimation:
        ds.attrs["bandwidth"] = ", ".join(
            f"{k}: {v:.4g}" for k, v in estimation["bandwidth"].items()
        )
        ds.attrs["bandwidth_method"] = estimation["bandwidth_method"]
    return ds


def _tangents_for(sl: Slice, space: str) -> np.ndarray | None:
    if not isinstance(space, str) or space not in ("auto", "slice", "full"):
        raise ParameterError(f"space={space!r}; use 'auto', 'slice' or 'full'.")
    if space == "slice" and sl.tangents is None:
        raise ParameterError(
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


def _gather(
    blocks: Iterable[tuple[int, dict[str, np.ndarray]]], m: int, axis: int = 1
) -> dict[str, np.ndarray]:
    """Write each block's fields into whole-slice arrays, the points along ``axis``.

    The outputs are allocated once, after the first block, and filled in place: only one
    block's results exist besides them (no list of blocks, no concatenated copy, and no
    heap fragmentation from many small arrays kept between large freed ones).
    """
    fields: dict[str, np.ndarray] = {}
    for start, block in blocks:
        if not fields:
            per_point = sum(v.nbytes // max(1, v.shape[axis]) for v in block.values())
            check_fits(
                per_point * m,
                f"the output for {m} points ({per_point} bytes each, as the first block shows)",
                "Use a coarser slice, keep_metric=False, space='slice', or "
                "neurogeom.scale.lazy_geometry to write it to disk block by block.",
            )
            fields = {
                name: np.empty((*v.shape[:axis], m, *v.shape[axis + 1 :]), dtype=v.dtype)
                for name, v in block.items()
            }
        for name, value in block.items():
            index = (slice(None),) * axis + (slice(start, start + value.shape[axis]),)
            fields[name][index] = value
    return fields


def _check_level(level: Any) -> float:
    if (
        isinstance(level, bool)
        or not isinstance(level, int | float | np.number)
        or not 0.0 < float(level) < 1.0
    ):
        raise ParameterError(
            f"level={level!r}; expected a confidence level strictly between 0 and 1 (e.g. 0.95)."
        )
    return float(level)


def _check_classifier_output(kind: Any) -> None:
    if not isinstance(kind, str) or kind not in CLASSIFIER_OUTPUTS:
        raise ParameterError(
            f"classifier_output={kind!r}; use one of {CLASSIFIER_OUTPUTS} (what the "
            "classifier returns)."
        )


def _check_output_fits(rm: ResponseMap, sl: Slice, k: int, req: _Request) -> None:
    """Refuse, before measuring anything, a request whose output alone exceeds free memory.

    A lower bound that needs no call of the map (at least one eigenvalue, the log-volume
    and rank per point and layer, and the ``k × k`` metric if kept); :func:`_gather` checks
    the exact size, from the first block, before it allocates the outputs.
    """
    layers = len(rm.layers)
    per_point = 8 * (3 + (k * k if req.keep_metric else 0))
    check_fits(
        per_point * layers * len(sl),
        f"the output for {len(sl)} points x {layers} layer(s) (a {k}-dimensional "
        f"metric{', kept' if req.keep_metric else ''})",
        "Use a coarser slice, keep_metric=False, space='slice', or "
        "neurogeom.scale.lazy_geometry to write it to disk block by block.",
    )


def _measure_block(
    rm: ResponseMap, points: np.ndarray, req: _Request, start: int = 0
) -> dict[str, np.ndarray]:
    """Per-layer fields ``(L, m_block, ...)`` for one block of points starting at ``start``.

    A NaN or inf in the block is reported at its index in the whole slice.
    """
    try:
        return _block_fields(rm, points, req)
    except NonFiniteError as err:
        raise err.shifted(start) from None


def _block_fields(rm: ResponseMap, points: np.ndarray, req: _Request) -> dict[str, np.ndarray]:
    """Fields of one block from the map's one :class:`~neurogeom.maps.Measurement`."""
    meas = rm.measure(points, req.tangents, scale=req.scale, resamples=True)
    if meas.estimated:  # may be indefinite or flagged NaN, never clipped
        return _estimated_fields(meas, req)
    if meas.jacobians is not None:  # spectra from J: PSD by construction
        jac = [to_tensor(meas.jacobians[name]) for name in rm.layers]
        for name, J in zip(rm.layers, jac):
            check_finite(J, f"the Jacobian of layer {name!r}")
        from_jacobians: list[tuple[torch.Tensor, torch.dtype, int | None]] = [
            (to_tensor(jacobian_spectrum(J)), meas.precision, J.shape[-2]) for J in jac
        ]
        fields = _spectral_fields(from_jacobians, _directions(points, req.tangents), req.rank)
    else:  # an exact map of one's own that gives metrics only
        metrics = [to_tensor(meas.metrics[name]) for name in rm.layers]
        for name, g in zip(rm.layers, metrics):
            check_finite(g, f"the metric of layer {name!r}")
            check_metric(g)
        spectra: list[tuple[torch.Tensor, torch.dtype, int | None]] = [
            (torch.linalg.eigvalsh(g.to(torch.float64)).flip(-1), meas.precision, None)
            for g in metrics
        ]
        fields = _spectral_fields(spectra, metrics[0].shape[-1], req.rank)
    if req.keep_metric:
        fields["metric"] = np.stack([np.asarray(meas.metrics[name]) for name in rm.layers])
    return fields


def _directions(points: np.ndarray, tangents: np.ndarray | None) -> int:
    return math.prod(points.shape[1:]) if tangents is None else len(tangents)


def _spectral_fields(
    spectra: list[tuple[torch.Tensor, torch.dtype, int | None]],
    k: int,
    rank: int | Literal["auto"] | None,
) -> dict[str, np.ndarray]:
    """Log-volume, rank and eigenvalues from each layer's leading eigenvalues.

    Each spectrum comes with the dtype of the data it was computed from and, for a Gram
    matrix ``JᵀJ``, the Jacobian's number of rows (for :func:`spectrum_tolerance`).
    Spectra shorter than ``k`` (a layer narrower than the slice) are completed with their
    exact zeros for the volume element, and stored at the longest layer's length.
    """
    width = max(e.shape[-1] for e, _, _ in spectra)
    out: dict[str, list[np.ndarray]] = {
        "log_volume_element": [],
        "eigenvalues": [],
        "metric_rank": [],
    }
    for eig, dtype, rows in spectra:
        full = _pad(eig, k)
        tol = spectrum_tolerance(full, dtype=dtype, jacobian_rows=rows)
        logvol, used = log_volume_from_spectrum(full, rank, tolerance=tol)
        out["log_volume_element"].append(np.asarray(logvol))
        out["metric_rank"].append(np.asarray(used))
        out["eigenvalues"].append(full[..., :width].numpy())
    return {name: np.stack(values) for name, values in out.items()}


def _pad(eig: torch.Tensor, k: int) -> torch.Tensor:
    missing = k - eig.shape[-1]
    return torch.nn.functional.pad(eig, (0, missing)) if missing > 0 else eig


def _estimated_fields(meas: Measurement, req: _Request) -> dict[str, np.ndarray]:
    """Fields of an estimated map: NaN log-volume where the metric is flagged or indefinite.

    An indefinite estimate (an eigenvalue below minus the numerical-zero tolerance) has
    NaN log-volume under every ``rank`` setting; the others follow the shared rule of
    :func:`~neurogeom.riemann.log_volume_from_spectrum`.
    """
    metrics = meas.metrics
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
        eig[ok] = torch.linalg.eigvalsh(0.5 * (t[ok] + t[ok].mT)).flip(-1)
        logvol = torch.full(t.shape[:1], float("nan"), dtype=torch.float64)
        used = torch.zeros(t.shape[:1], dtype=torch.int64)
        tol = torch.zeros(t.shape[:1], dtype=torch.float64)
        if bool(ok.any()):
            tol[ok] = to_tensor(spectrum_tolerance(eig[ok]))
        k = t.shape[-1] if req.rank in (None, "auto") else int(req.rank)
        definite = ok & (eig.nan_to_num(0.0).amin(dim=1) >= -tol)
        valid = definite & (eig[:, : max(k, 1)].nan_to_num(0.0) > tol[:, None]).all(dim=1)
        if req.rank == "auto":
            valid = definite
        if bool(valid.any()):
            lv, u = log_volume_from_spectrum(eig[valid], req.rank, tolerance=tol[valid])
            logvol[valid], used[valid] = to_tensor(lv), to_tensor(u)
        out["log_volume_element"].append(logvol.numpy())
        out["eigenvalues"].append(eig.numpy())
        out["metric_rank"].append(used.numpy())
        if req.keep_metric:
            out["metric"].append(t.numpy())
    fields = {name: np.stack(values) for name, values in out.items()}
    for name, value in meas.flags.items():
        fields[name] = np.stack([np.asarray(value)] * len(metrics))
    fields.update(_interval_fields(meas, req))
    return fields


INTERVAL_FIELDS = (
    "log_volume_element_ci_low",
    "log_volume_element_ci_high",
    "eigenvalues_ci_low",
    "eigenvalues_ci_high",
    "log_volume_element_unbounded",
    "indefinite_fraction",
)


def _interval_fields(meas: Measurement, req: _Request) -> dict[str, np.ndarray]:
    """Bootstrap intervals per layer, when the measurement has metric resamples."""
    if meas.resamples is None:
        return {}
    rank = None if req.rank in (None, "auto") else int(req.rank)
    per_layer = [bootstrap_intervals(r, req.level, rank) for r in meas.resamples.values()]
    names = INTERVAL_FIELDS + (("log_volume_element_bootstrap",) if req.keep_resamples else ())
    return {name: np.stack([ci[name] for ci in per_layer]) for name in names}


def class_probabilities(
    classifier: Callable[[Any], Any],
    points: Any,
    *,
    block_size: int = 256,
    output: ClassifierOutput = "logits",
) -> dict[str, np.ndarray]:
    r"""Prediction, entropy (log base 10) and probabilities of a classifier.

    Parameters
    ----------
    classifier : callable or nn.Module
        Maps a batch of stimuli ``(m, *stimulus_shape)`` to class scores ``(m, c)``.
    points : array, shape (m, *stimulus_shape)
    block_size : int
        Points per call.
    output : {"logits", "log_probabilities", "probabilities"}
        What the classifier returns. With ``"logits"``, outputs that are already
        probabilities (nonnegative rows summing to 1) raise
        :class:`~neurogeom.errors.ParameterError` instead of giving a wrong entropy.

    Returns
    -------
    dict
        ``prediction`` (m,), ``entropy`` (m,) with :math:`-\sum p \log_{10} p`,
        ``probability`` (m, c).

    Examples
    --------
    >>> import numpy as np, torch
    >>> out = class_probabilities(lambda x: torch.zeros(len(x), 10), np.zeros((2, 3)))
    >>> out["entropy"]  # uniform over 10 classes: exactly 1 hartley
    array([1., 1.])
    """
    from .maps.torch import TorchResponseMap

    _check_classifier_output(output)
    clf = TorchResponseMap(classifier, chunk_size=check_count(block_size, "block_size", 1))
    try:
        scores = to_tensor(clf.responses(points)).to(torch.float64)
    except ShapeError as err:  # the wrapping map calls the classifier's output a layer
        raise ShapeError(f"the classifier's output: {err} {_CLASSIFIER_CONTRACT}") from err
    except NonFiniteError as err:
        raise NonFiniteError(
            f"the classifier's output: {err} {_CLASSIFIER_CONTRACT}", index=err.index
        ) from err
    if scores.shape[1] < 2:
        raise ShapeError(
            f"the classifier returned {scores.shape[1]} score(s) per point; expected one per "
            "class (at least 2), e.g. the logits of the network's last layer. "
            + _CLASSIFIER_CONTRACT
        )
    logp = _log_probabilities(scores, output)
    p = logp.exp()
    return {
        "prediction": scores.argmax(dim=1).numpy(),
        "entropy": entropy_log10(p.numpy(), log_p=logp.numpy()),
        "probability": p.numpy(),
    }


def entropy_log10(p: Any, *, log_p: Any = None) -> np.ndarray:
    r"""Shannon entropy in hartleys, :math:`-\sum_c p_c \log_{10} p_c`, per row.

    The one entropy of the package (classifiers in :func:`class_probabilities`, the
    Barlow-Twins linear probe). Zero probabilities contribute 0.

    Parameters
    ----------
    p : array, shape (..., c)
        Probabilities, each row summing to 1.
    log_p : array, shape (..., c), optional
        Their natural logs, when known more precisely than ``log(p)`` (from a log-softmax).

    Returns
    -------
    ndarray, shape (...)
        Nonnegative; 1 for a uniform distribution over 10 classes.

    Examples
    --------
    >>> entropy_log10(np.full((1, 10), 0.1))
    array([1.])
    """
    probs = np.asarray(p, dtype=np.float64)
    logs = np.log(np.where(probs > 0, probs, 1.0)) if log_p is None else np.asarray(log_p)
    terms = np.where(probs > 0, probs * logs, 0.0)
    return np.asarray(np.clip(-terms.sum(axis=-1) / math.log(10.0), 0.0, None))


_CLASSIFIER_CONTRACT = (
    "A classifier maps a batch of stimuli (m, *stimulus_shape) to finite class scores (m, c), "
    "one row per stimulus (e.g. logits)."
)


def _log_probabilities(scores: torch.Tensor, output: str) -> torch.Tensor:
    """Log-probabilities from a classifier's scores, checking they are what was declared."""
    rows_sum_to_one = bool(((scores.sum(dim=1) - 1.0).abs() <= 1e-4).all())
    looks_like_probabilities = bool((scores >= 0).all()) and rows_sum_to_one
    if output == "logits":
        if looks_like_probabilities:
            raise ParameterError(
                "the classifier's outputs are nonnegative and each row sums to 1: they look "
                "like probabilities, not logits, and their softmax would give a wrong "
                "entropy. Pass classifier_output='probabilities' (or return logits)."
            )
        return torch.log_softmax(scores, dim=1)
    if output == "probabilities":
        if not looks_like_probabilities:
            raise ParameterError(
                "classifier_output='probabilities' but the outputs are not nonnegative rows "
                f"summing to 1 (row sums {float(scores.sum(1).min()):.3g}.."
                f"{float(scores.sum(1).max()):.3g}); pass classifier_output='logits'."
            )
        return torch.log(scores / scores.sum(dim=1, keepdim=True))
    total = torch.logsumexp(scores, dim=1)
    if not bool((total.abs() <= 1e-4).all()):
        raise ParameterError(
            "classifier_output='log_probabilities' but exp(outputs) do not sum to 1 per row "
            f"(log-sum-exp up to {float(total.abs().max()):.3g}); pass classifier_output="
            "'logits'."
        )
    return scores - total[:, None]


def _class_fields(
    classifier: Callable[[Any], Any], sl: Slice, block_size: int, output: str
) -> dict[str, np.ndarray]:
    """:func:`class_probabilities` over a slice, one block of points at a time."""
    parts = (
        (start, class_probabilities(classifier, points, block_size=block_size, output=output))  # type: ignore[arg-type]
        for start, points in sl.blocks(block_size)
    )
    return _gather(parts, len(sl), axis=0)


CURVATURE_MAX_DIM = 16
_CURVATURE_VARIABLES = ("ricci_scalar", "mean_curvature_norm", "principal_curvatures")
CURVATURE_METHOD = (
    "neurogeom.curvature.second_order: second derivatives of the responses from the map's "
    "layer_jets (exact torch.func jets in float64 for torch maps, central differences of the "
    "Jacobian otherwise, a local polynomial fit (degree >= 2) with noise-bias-corrected products for "
    "sampled maps), one QR factorisation of J for Christoffel symbols J+ d2r, the Gauss "
    "equation and the second fundamental form II = (I - P) d2r; R = g^bd R^a_bad (2/a**2 on a "
    "sphere of radius a), H = trace(II)/k, principal curvatures along H/|H|; NaN where the "
    "metric is singular"
)


def _curvature_fields(
    rm: ResponseMap,
    sl: Slice,
    tangents: np.ndarray | None,
    k: int,
    scale: Scale,
    block_size: int,
    progress: bool | None = None,
    level: float = 0.95,
) -> dict[str, np.ndarray]:
    """Intrinsic and extrinsic curvature fields, each ``(L, m, ...)``, from one jet per block.

    ``ricci_scalar``, ``ricci_singular``, ``mean_curvature_norm``, ``principal_curvatures``
    and ``principal_undefined``; for maps with bootstrap resamples of their jets also the
    ``*_ci_low``/``*_ci_high`` bounds and ``curvature_unidentified_fraction``.
    """
    from .curvature import curvature_intervals, second_order

    if k > CURVATURE_MAX_DIM:
        raise ParameterError(
            f"curvature=True on {k} coordinates would take ~{k}² forward passes per point; "
            f"measure it on a Line or Plane slice (at most {CURVATURE_MAX_DIM} coordinates)."
        )
    with_intervals = (  # resampling trials: single-trial recordings get no curvature intervals
        getattr(rm, "n_bootstrap", 0) > 0
        and getattr(rm, "n_repetitions", 2) >= 2
        and callable(getattr(rm, "layer_jet_gram_resamples", None))
    )
    parts: dict[str, list[list[np.ndarray]]] = {}

    def add(name: str, j: int, value: Any) -> None:
        parts.setdefault(name, [[] for _ in rm.layers])[j].append(np.asarray(value))

    n_blocks = -(-len(sl) // block_size)
    for _, block in progress_bar(
        sl.blocks(block_size), total=n_blocks, desc="curvature", enabled=progress
    ):
        per_layer = second_order(rm, block, tangents, scale=scale, on_singular="nan")
        ci = (
            curvature_intervals(rm, block, tangents, level=level, scale=scale)
            if with_intervals
            else None
        )
        if ci is not None and not rm.returns_dict:
            ci = {rm.layers[0]: ci}
        for j, name in enumerate(rm.layers):
            curv, ext = per_layer[name]
            add("ricci_scalar", j, curv.scalar.numpy())
            add("ricci_singular", j, curv.singular.numpy())
            add("mean_curvature_norm", j, ext.mean_curvature_norm.numpy())
            add("principal_curvatures", j, ext.principal_curvatures.numpy())
            add("principal_undefined", j, ext.normal_undefined.numpy())
            for field, value in ({} if ci is None else ci[name]).items():
                add(field, j, value)
    return {name: np.stack([np.concatenate(v) for v in per]) for name, per in parts.items()}
