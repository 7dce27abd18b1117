"""Matplotlib figures of geometry Datasets (they only read Datasets)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

__all__ = ["volume_map"]



def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(4.2, 3.6))[1]


def log10_volume(ds: xr.Dataset) -> xr.DataArray:
    """``log10 √det g`` from a Dataset's natural-log ``log_volume_element``, labelled.

    Examples
    --------
    >>> ds = xr.Dataset({"log_volume_element": ("t", [0.0, math.log(10.0)])})
    >>> log10_volume(ds).values.tolist()
    [0.0, 1.0]
    """
    da = ds["log_volume_element"] / math.log(10.0)
    space = ds["log_volume_element"].attrs.get("space", "")
    da.attrs = {"long_name": f"log10 sqrt(det g) ({space})" if space else "log10 sqrt(det g)", "units": "1"}
    return da


def _select(ds: xr.Dataset, **index: Any) -> xr.Dataset:
    """Pick one value of each extra dim (layer, epoch, ...) that a 2-D map cannot show."""
    sel = {k: v for k, v in index.items() if v is not None}
    ds = ds.sel(sel) if sel else ds
    for dim in ("layer", "epoch", "width", "seed"):
        if dim in ds.dims:
            ds = ds.isel({dim: -1})
    return ds


def volume_map(
    ds: xr.Dataset,
    ax: Axes | None = None,
    *,
    layer: str | None = None,
    epoch: int | None = None,
    boundary: bool = True,
    data: bool = True,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """Log-colour map of the volume element over a 2-D grid or plane.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`neurogeom.geometry` on a :class:`~neurogeom.Grid` or
        :class:`~neurogeom.Plane` (dims ``u``, ``v``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.
    layer, epoch : optional
        Which layer / epoch to show when the Dataset has those dims (default the last).
    boundary : bool
        Draw the decision boundary, the 0.5 contour of class 1's probability (2 classes)
        or the borders between predicted classes, when the Dataset has a classifier.
    data : bool
        Scatter ``training_stimuli`` coloured by ``training_labels`` when present.
    cmap, vmin, vmax
        Colour map and limits of ``log10 √det g``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> rm = ng.TorchResponseMap(lambda x: torch.tanh(x), dtype=torch.float64)
    >>> ds = ng.geometry(rm, ng.Grid([(-1, 1), (-1, 1)], resolution=8))
    >>> volume_map(ds).get_xlabel()
    'u'
    """
    sub = _select(ds, layer=layer, epoch=epoch)
    if set(sub["log_volume_element"].dims) != {"u", "v"}:
        raise ValueError(
            f"volume_map needs a 2-D field over (u, v); log_volume_element has dims "
            f"{sub['log_volume_element'].dims}. Select the other dims first."
        )
    ax = _axes(ax)
    field = log10_volume(sub).transpose("v", "u")
    mesh = ax.pcolormesh(sub.u, sub.v, field, cmap=cmap, vmin=vmin, vmax=vmax, shading="auto")
    ax.figure.colorbar(mesh, ax=ax, label=field.attrs["long_name"])
    if boundary and "probability" in sub:
        _decision_boundary(sub, ax)
    if data and "training_stimuli" in sub:
        x = sub["training_stimuli"].values
        ax.scatter(x[:, 0], x[:, 1], c=sub["training_labels"].values, cmap="coolwarm", s=6,
                   edgecolors="k", linewidths=0.2)
    ax.set_xlabel("u")
    ax.set_ylabel("v")
    ax.set_xlim(float(sub.u.min()), float(sub.u.max()))
    ax.set_ylim(float(sub.v.min()), float(sub.v.max()))
    return ax


def _decision_boundary(sub: xr.Dataset, ax: Axes) -> None:
    prob = sub["probability"].transpose("v", "u", "class")
    if prob.sizes["class"] == 2:
        field, level = prob.isel({"class": 1}).values, [0.5]
    else:
        field = sub["prediction"].transpose("v", "u").values.astype(float)
        level = list(np.unique(field)[:-1] + 0.5)
    if np.nanmin(field) < level[0] < np.nanmax(field):
        ax.contour(sub.u, sub.v, field, levels=level, colors="white", linewidths=1.2)
