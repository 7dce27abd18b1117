"""Maps of one or two geometry fields over a 2-D grid or plane."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ._common import (
    _axes,
    _select,
    log10_volume,
)

__all__ = ["compare_fields", "volume_map"]


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
        ax.scatter(
            x[:, 0],
            x[:, 1],
            c=sub["training_labels"].values,
            cmap="coolwarm",
            s=6,
            edgecolors="k",
            linewidths=0.2,
        )
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


def compare_fields(
    a: xr.Dataset,
    b: xr.Dataset,
    axes: Any = None,
    *,
    layer_a: str | None = None,
    layer_b: str | None = None,
    labels: tuple[str, str] = ("a", "b"),
    cmap: str = "viridis",
    diff_cmap: str = "RdBu_r",
    shared_scale: bool = True,
) -> Any:
    """Two volume-element fields side by side with their difference.

    Panels: ``log10 √det g`` of ``a``, of ``b`` (one shared colour scale unless
    ``shared_scale=False``), and ``b − a`` (the log10 volume ratio, on a diverging scale
    centred at 0).

    Parameters
    ----------
    a, b : xarray.Dataset
        From :func:`neurogeom.geometry` on the same 2-D slice (dims ``u``, ``v``); checked
        as in :func:`neurogeom.compare.compare`.
    axes : sequence of 3 matplotlib Axes, optional
        Where to draw; a new 1 × 3 figure if omitted.
    layer_a, layer_b : str, optional
        The layer of a Dataset with a ``layer`` dim.
    labels : (str, str)
        Panel titles of ``a`` and ``b``.
    cmap, diff_cmap : str
        Colour maps of the fields and of their difference.
    shared_scale : bool
        One colour scale for both fields (default); ``False`` gives each its own, for
        fields in different units (a network layer and spike counts).

    Returns
    -------
    array of 3 matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import torch, neurogeom as ng
    >>> grid = ng.Grid([(-1, 1), (-1, 1)], resolution=8)
    >>> a = ng.geometry(ng.TorchResponseMap(torch.tanh, dtype=torch.float64), grid)
    >>> b = ng.geometry(ng.TorchResponseMap(torch.sin, dtype=torch.float64), grid)
    >>> [ax.get_title() for ax in compare_fields(a, b, labels=("tanh", "sin"))]
    ['tanh', 'sin', 'sin − tanh']
    """
    from ..compare import _select_layer, check_same_points

    sa, sb = _select_layer(a, layer_a, "a"), _select_layer(b, layer_b, "b")
    check_same_points(sa, sb)
    if set(sa["log_volume_element"].dims) != {"u", "v"}:
        raise ValueError(
            f"compare_fields needs 2-D fields over (u, v); log_volume_element has dims "
            f"{sa['log_volume_element'].dims}. Select the other dims first."
        )
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, 3, figsize=(12.6, 3.6), constrained_layout=True)[1]
    if len(axes) != 3:
        raise ValueError(f"axes has {len(axes)} entries; expected 3 (a, b, b − a).")
    fa, fb = (log10_volume(s).transpose("v", "u") for s in (sa, sb))
    both = np.concatenate([fa.values.ravel(), fb.values.ravel()])
    limits = [(float(np.nanmin(both)), float(np.nanmax(both)))] * 2
    if not shared_scale:
        limits = [(float(np.nanmin(f.values)), float(np.nanmax(f.values))) for f in (fa, fb)]
    diff = fb - fa
    lim = float(np.nanmax(np.abs(diff.values))) or 1.0
    ratio = f"log10 volume ratio {labels[1]} / {labels[0]}"
    panels = (
        (fa, labels[0], cmap, *limits[0], fa.attrs["long_name"]),
        (fb, labels[1], cmap, *limits[1], fb.attrs["long_name"]),
        (diff, f"{labels[1]} − {labels[0]}", diff_cmap, -lim, lim, ratio),
    )
    for ax, (data, title, cm, lo, hi, label) in zip(axes, panels):
        mesh = ax.pcolormesh(sa.u, sa.v, data, cmap=cm, vmin=lo, vmax=hi, shading="auto")
        ax.figure.colorbar(mesh, ax=ax, label=label)
        ax.set_title(title)
        ax.set_xlabel("u")
        ax.set_ylabel("v")
        ax.set_aspect("equal")
    return axes
    ax.set_ylim(-1.05, 1.05)
    ax.legend(fontsize=6)
    return ax
