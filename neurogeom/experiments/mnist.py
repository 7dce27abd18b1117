"""Fig. 2: a shallow sigmoid network on MNIST (or the 8×8 digits), line and plane scans.

The network d → 2000 → 10 (Φⱼ = σ(wⱼ·x + bⱼ)/√n, readout Linear/√n) is trained with Adam
and measured at chosen epochs along a line between two digits (:class:`~neurogeom.Line`)
or on the plane through three (:class:`~neurogeom.Plane`, centred on their centroid).
Two volume elements are stored side by side along the dimension ``space``:

* ``slice``: the metric induced on the line/plane (1 or 2 tangents), √det(T g Tᵀ);
* ``full``: the metric on the whole image space (d × d) with the top-k log
  pseudo-determinant, as the reference code plotted (k = d by default).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn

from ..data.cifar import ImageData
from ..data.mnist import load_image_data
from ..dataset import add_variables, stack
from ..errors import ParameterError, SingularMetricError
from ..maps import TorchResponseMap
from ..measure import geometry
from ..models import ShallowNet
from ..slices import Line, Plane, Slice
from .claims import spearman
from .config import ConfigError
from .figures import image_title, training_figure
from .runner import Experiment, Setting, Sweep, run

__all__ = ["LINE", "LINE_DEFAULTS", "PLANE", "PLANE_DEFAULTS", "run_line", "run_plane"]

_COMMON: dict[str, Any] = {
    "data": "digits",
    "split": "train",
    "max_samples": 0,
    "width": 0,
    "activation": "sigmoid",
    "optimizer": "adamw",
    "lr": 0.03,
    "weight_decay": 1e-4,
    "momentum": 0.0,
    "batch_size": 32,
    "epochs": 30,
    "snapshot_epochs": [0, 2, 10, 30],
    "train_dtype": "float32",
    "seeds": [0, 1, 2],
    "full_rank": 0,
    "progress": None,
}
#: Settings of ``neurogeom run mnist-line``. ``width = 0`` means the poster's 2000 for 28×28
#: MNIST and 256 for the 8×8 digits (a similar width-to-input ratio, and 8× cheaper to
#: measure); ``full_rank = 0`` means min(input dimension, width), the rank of the full metric.
LINE_DEFAULTS: dict[str, Any] = {**_COMMON, "digits": [7, 6], "steps": 64}
#: Settings of ``neurogeom run mnist-plane``.
PLANE_DEFAULTS: dict[str, Any] = {**_COMMON, "digits": [7, 6, 1], "resolution": 60, "extent": 1.2}

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_SPACE = "metric whose volume element is shown: induced on the slice, or the full image space"


def _subset(data: ImageData, max_samples: int) -> ImageData:
    if max_samples <= 0 or max_samples >= len(data):
        return data
    return data.subset(max_samples)


def _anchors(X: np.ndarray, labels: np.ndarray, digits: list[int], source: str) -> list[int]:
    """Index of the first training image of each digit."""
    idx = []
    for d in digits:
        hits = np.flatnonzero(labels == d)
        if hits.size == 0:
            raise ParameterError(
                f"no image with label {d} in {source}; labels present: "
                f"{sorted(set(labels.tolist()))}."
            )
        idx.append(int(hits[0]))
    return idx


def _measure(where: Slice, rank: int) -> Any:
    def measure(model: nn.Module) -> xr.Dataset:
        model = model.double()
        rm = TorchResponseMap(model, "hidden0", dtype=torch.float64)
        sliced = geometry(rm, where, space="slice", classifier=model, progress=False)
        try:
            full = geometry(rm, where, space="full", rank=rank, keep_metric=False, progress=False)
        except SingularMetricError as err:
            raise SingularMetricError(
                f"the full-space metric is numerically rank-deficient: {err} In a config "
                f"file, set full_rank to a smaller k (now {rank}) for the top-k "
                "pseudo-determinant."
            ) from err
        keys = ["log_volume_element", "metric_rank"]
        both = stack([sliced[keys], full[keys]], "space", ["slice", "full"], long_name=_SPACE)
        k = 0 if where.tangents is None else where.tangents.shape[0]
        both["log_volume_element"].attrs["space"] = "see the space coordinate"
        both["log_volume_element"].attrs["description"] = (
            f"slice: induced on the {where.kind} ({k} tangents); "
            f"full: top-{rank} log pseudo-determinant of the {_dim(where)}-d metric"
        )
        ds = sliced.drop_vars(keys).assign(both[keys])
        stats = {
            "spearman_entropy": (
                ("space",),
                [
                    spearman(both.log_volume_element.sel(space=s).values, ds.entropy.values)
                    for s in ("slice", "full")
                ],
            )
        }
        return add_variables(ds, stats)

    return measure


def _check(cfg: dict[str, Any], need: int, kind: str) -> None:
    """The checks that involve two settings (each alone is checked by resolve_config)."""
    if len(cfg["digits"]) != need:
        raise ConfigError(
            f"setting 'digits' must list {need} digits for a {kind}; got {cfg['digits']!r}."
        )
    late = [e for e in cfg["snapshot_epochs"] if e > cfg["epochs"]]
    if late:
        raise ConfigError(
            f"setting 'snapshot_epochs' must lie in 0..epochs={cfg['epochs']}; "
            f"got {cfg['snapshot_epochs']!r}."
        )


def _dim(where: Slice) -> int:
    return int(np.prod(where.stimulus_shape))


def _line(anchors: list[np.ndarray], cfg: dict[str, Any]) -> Slice:
    return Line(anchors[0], anchors[1], steps=int(cfg["steps"]))


def _plane(anchors: list[np.ndarray], cfg: dict[str, Any]) -> Slice:
    a, b, c = anchors
    return Plane(a, b, c, resolution=int(cfg["resolution"]), extent=float(cfg["extent"]))


def _width(cfg: dict[str, Any], d: int) -> int:
    """``width = 0``: the poster's 2000 for 28×28 MNIST, 256 for the 8×8 digits."""
    return int(cfg["width"]) or (2000 if d == 784 else 256)


def _setting(
    cfg: dict[str, Any], through: Callable[[list[np.ndarray], dict[str, Any]], Slice], need: int
) -> Setting:
    """The images, the slice through the first image of each digit, what is recorded."""
    _check(cfg, need, "line" if need == 2 else "plane")
    images = _subset(load_image_data(cfg["data"], split=cfg["split"]), int(cfg["max_samples"]))
    X = images.images.numpy().reshape(len(images), -1).astype(np.float64)
    y = images.labels.numpy()
    d = X.shape[1]
    anchor_index = _anchors(X, y, list(cfg["digits"]), images.source)
    where = through([X[i] for i in anchor_index], cfg)
    width = _width(cfg, d)
    rank = int(cfg["full_rank"]) or min(d, width)
    return Setting(
        measure=_measure(where, rank),
        training=lambda seed: (X, y),
        snapshots=[int(e) for e in cfg["snapshot_epochs"]],
        attrs={"image_shape": np.asarray(images.images.shape[-2:], dtype=np.int64)},
        settings={
            "data_source": images.source,
            "data_info": images.info,
            "n_train": len(y),
            "input_dim": d,
            "full_rank": rank,
            "width": width,
            "anchor_labels": list(cfg["digits"]),
            "anchor_indices": anchor_index,
        },
    )


def _model(cfg: dict[str, Any], cell: dict[str, Any]) -> nn.Module:
    net = ShallowNet(int(cfg["input_dim"]), int(cfg["width"]), 10, activation=cfg["activation"])
    return net.to(_DTYPES[cfg["train_dtype"]])


def _per_epoch(ds: xr.Dataset, columns: int, size: tuple[float, float]) -> tuple[Any, Any, int]:
    """A figure with a row of ``columns`` panels per snapshot epoch; the first seed."""
    import matplotlib.pyplot as plt

    n = ds.sizes["epoch"]
    fig, axes = plt.subplots(
        n, columns, figsize=(size[0], size[1] * n), squeeze=False, constrained_layout=True
    )
    return fig, axes, int(ds.seed.values[0])


def _line_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import line_plot

    fig, axes, seed = _per_epoch(ds, 2, (11, 3.4))
    for row, e in zip(axes, ds.epoch.values, strict=True):
        for ax, space in zip(row, ("slice", "full"), strict=True):
            line_plot(ds, ax, epoch=int(e), seed=seed, space=space, entropy=True)
            acc = float(ds["accuracy"].sel(seed=seed, epoch=e))
            ax.text(
                0.02,
                0.04,
                f"epoch {int(e)}, {space} metric, accuracy {acc:.3f}",
                transform=ax.transAxes,
                fontsize=9,
                bbox={"facecolor": "white", "alpha": 0.7, "lw": 0},
            )
    fig.suptitle(image_title(ds, seed) + "; dashed: prediction entropy", fontsize=10)
    return {"fig2_line": fig, "training": training_figure(ds, image_title(ds))}


def _plane_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import plane_panels, ternary_plot

    fig, axes, seed = _per_epoch(ds, 4, (15, 3.3))
    for row, e in zip(axes, ds.epoch.values, strict=True):
        plane_panels(ds, epoch=int(e), seed=seed, axes=row[:3])
        ternary_plot(ds, row[3], epoch=int(e), seed=seed, space="full")
        for ax, what in zip(
            row,
            ("prediction", "entropy", "volume (slice metric)", "full-metric volume, triangle"),
            strict=True,
        ):
            ax.set_title(f"epoch {int(e)}: {what}", fontsize=9)
    fig.suptitle(image_title(ds, seed), fontsize=10)
    return {"fig2_plane": fig, "training": training_figure(ds, image_title(ds))}


_SEEDS = Sweep("seed", "seeds", "seed of initialisation and batch order")

#: Fig. 2, top: seeds of a d → width → 10 net, on the line from a 7 to a 6, both spaces.
LINE = Experiment(
    name="mnist-line",
    summary="Fig. 2 top: shallow net on MNIST/digits, volume element on the line 7 → 6",
    defaults=LINE_DEFAULTS,
    setting=lambda cfg, data: _setting(cfg, _line, 2),
    model=_model,
    sweep=(_SEEDS,),
    figures=_line_figures,
    rows=("epoch", "space"),
)
#: Fig. 2, bottom: the same nets on the plane through a 7, a 6 and a 1.
PLANE = Experiment(
    name="mnist-plane",
    summary="Fig. 2 bottom: shallow net on MNIST/digits, plane through a 7, a 6 and a 1",
    defaults=PLANE_DEFAULTS,
    setting=lambda cfg, data: _setting(cfg, _plane, 3),
    model=_model,
    sweep=(_SEEDS,),
    figures=_plane_figures,
    rows=("epoch", "space"),
)


def run_line(config: dict[str, Any] | None = None, *, data: str | Path | None = None) -> xr.Dataset:
    """Fig. 2, top: volume element along the line from a 7 to a 6 across training.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`LINE_DEFAULTS`; unknown keys raise.
    data : str or path, optional
        Directory of the MNIST IDX files, ``"mnist"`` (``$NEUROGEOM_MNIST``) or
        ``"digits"`` (default: scikit-learn's 8×8 digits).

    Returns
    -------
    xarray.Dataset
        Dims ``seed``, ``epoch``, ``space`` (``slice``/``full``), ``t``; variables
        ``log_volume_element``, ``metric_rank``, ``prediction``, ``entropy``, ``probability``,
        ``spearman_entropy``, ``accuracy``, ``loss``, ``anchors``; ``attrs["config"]``.

    Examples
    --------
    >>> ds = run_line({"width": 16, "epochs": 1, "snapshot_epochs": [0, 1], "seeds": [0],
    ...                "steps": 5, "max_samples": 200, "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'seed': 1, 'epoch': 2, 'space': 2, 't': 5}
    """
    return run(LINE, config, data=data)


def run_plane(
    config: dict[str, Any] | None = None, *, data: str | Path | None = None
) -> xr.Dataset:
    """Fig. 2, bottom: volume element on the plane through a 7, a 6 and a 1.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`PLANE_DEFAULTS`; unknown keys raise.
    data : str or path, optional
        As for :func:`run_line`.

    Returns
    -------
    xarray.Dataset
        As :func:`run_line` with the plane's dims ``u``, ``v`` (and the ``barycentric``
        coordinate) instead of ``t``.

    Examples
    --------
    >>> ds = run_plane({"width": 16, "epochs": 1, "snapshot_epochs": [1], "seeds": [0],
    ...                 "resolution": 4, "max_samples": 200, "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'seed': 1, 'epoch': 1, 'space': 2, 'u': 4, 'v': 4}
    """
    return run(PLANE, config, data=data)
