"""Figures of the shallow-network experiments (Figs. 1-2 of the poster)."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..errors import ParameterError
from ._common import axes_or_new, figure_grid, log10_volume, pick
from .maps import volume_map

__all__ = [
    "claim_progression",
    "labelled_volume",
    "line_plot",
    "loss_curves",
    "plane_field",
    "plane_panels",
    "run_curves",
    "ternary_plot",
    "volume_panels",
]


def volume_panels(
    ds: xr.Dataset, *, seed: int | None = None, variable: str = "log_volume_element"
) -> Any:
    """Fig. 1: one volume-element map per (width or layer, snapshot), boundary and data on top.

    Parameters
    ----------
    ds : xarray.Dataset
        From ``neurogeom run toy`` (``neurogeom.experiments.toy.run_toy``): dims ``width``,
        ``epoch``, ``u``, ``v`` (and optionally ``seed``); or from ``neurogeom run toy-deep``
        with ``layer`` instead of ``width``.
    seed : int, optional
        Which seed to show (default the first).
    variable : str
        The natural-log volume element to show (e.g. ``"log_volume_element_closed_form"``).

    Returns
    -------
    matplotlib Figure
        Rows are widths (or layers), columns snapshots; each row shares one colour scale.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from neurogeom.experiments import toy
    >>> ds = toy.run_toy({"widths": [3], "epochs": 2, "seeds": [0], "grid_resolution": 6,
    ...               "progress": False})
    >>> volume_panels(ds).axes[0].get_title()
    'width 3, start (epoch 0)'
    """
    sub = pick(ds, seed=seed)
    if variable != "log_volume_element":
        sub = sub.assign(log_volume_element=sub[variable])
    row_dim = next((d for d in ("width", "layer") if d in sub.dims), None)
    rows = sub[row_dim].values if row_dim else [None]
    epochs = sub.epoch.values if "epoch" in sub.dims else [None]
    fig, axes = figure_grid(len(rows), len(epochs), (3.6, 3.1))
    for i, r in enumerate(rows):
        row = sub.sel({row_dim: r}) if row_dim else sub
        values = log10_volume(row)
        vmin, vmax = float(values.min()), float(values.max())
        for j, e in enumerate(epochs):
            panel = row.sel(epoch=e) if e is not None else row
            ax = axes[i, j]
            volume_map(panel, ax=ax, vmin=vmin, vmax=vmax)
            stage = f"{panel['stage'].item()} " if "stage" in panel.coords else ""
            where = f"{stage}(epoch {int(e)})" if e is not None else ""
            name = f"width {int(r)}" if row_dim == "width" else f"{r}"
            ax.set_title(f"{name}, {where}" if row_dim else where)
    return fig


def line_plot(
    ds: xr.Dataset,
    ax: Axes | None = None,
    *,
    epoch: int | None = None,
    seed: int | None = None,
    space: str = "slice",
    images: bool = True,
    entropy: bool = False,
) -> Axes:
    """Fig. 2 top: log10 volume element along a line, coloured by the predicted class.

    With ``entropy=True`` the prediction entropy is drawn next to it (dashed, right-hand
    axis from 0 to 1 hartley), as on the poster: the claim is that the two rise together.

    Parameters
    ----------
    ds : xarray.Dataset
        From a :class:`~neurogeom.Line` scan with a classifier (``prediction``), e.g.
        ``neurogeom run mnist-line``; extra dims ``epoch``, ``seed``, ``space`` are selected.
    ax : Axes, optional
    epoch, seed : optional
        Which snapshot/seed (default the last epoch, the first seed).
    space : {"slice", "full"}
        Which volume element when the Dataset has a ``space`` dimension.
    images : bool
        Show the end-point and mid-point images (from the Dataset's ``anchors``) as insets.
    entropy : bool
        Also draw ``entropy`` (needs a classifier's outputs) on a twin axis.

    Returns
    -------
    matplotlib Axes
        The volume element's axes.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3))
    >>> rm = ng.TorchResponseMap(net, layers="0", dtype=torch.float64)
    >>> ds = ng.geometry(rm, ng.Line(np.zeros(4), np.ones(4), 8), classifier=net)
    >>> line_plot(ds).get_xlabel()
    't'
    """
    sub = pick(ds, seed=seed, space=space)
    if "epoch" in sub.dims:
        sub = sub.sel(epoch=epoch) if epoch is not None else sub.isel(epoch=-1)
    ax = axes_or_new(ax)
    y = labelled_volume(sub, ds, space)
    t = sub["t"].values
    ax.plot(t, y.values, color="0.6", lw=1, zorder=1)
    if "prediction" in sub:
        pred = sub["prediction"].values
        sc = ax.scatter(t, y.values, c=pred, cmap="tab10", vmin=-0.5, vmax=9.5, s=14, zorder=2)
        ax.figure.colorbar(
            sc,
            ax=ax,
            label=sub["prediction"].attrs.get("long_name", "prediction"),
            ticks=sorted(set(pred.tolist())),
        )
    ax.set_xlabel("t")
    ax.set_ylabel(y.attrs["long_name"])
    if entropy:
        if "entropy" not in sub:
            raise ParameterError("entropy=True needs the classifier's 'entropy' in the Dataset.")
        twin = ax.twinx()
        twin.plot(t, sub["entropy"].values, color="k", ls="--", lw=1.2, label="entropy")
        twin.set_ylim(-0.03, 1.03)
        twin.set_ylabel("prediction entropy [hartley], dashed")
    if images and "anchors" in sub:
        shape = _image_shape(ds)
        a, b = (sub["anchors"].values[i].reshape(shape) for i in (0, 1))
        for x, img, lab in ((0.0, a, "t = 0"), (0.5, (a + b) / 2, "t = 0.5"), (1.0, b, "t = 1")):
            _inset_image(ax, img, x, lab)
    return ax


def labelled_volume(sub: xr.Dataset, ds: xr.Dataset, space: str) -> xr.DataArray:
    """log10 volume of a selection, labelled with the metric's space when ``ds`` has several.

    Parameters
    ----------
    sub : xarray.Dataset
        A selection of ``ds`` (one ``space`` among them, when ``ds`` has that dim).
    ds : xarray.Dataset
        The whole Dataset; a ``space`` dim in it puts ``space`` in the label.
    space : str
        The metric's space that ``sub`` holds (``"slice"`` or ``"full"``).

    Returns
    -------
    xarray.DataArray
        :func:`~neurogeom.plot.log10_volume` of ``sub``, labelled.

    Examples
    --------
    >>> ds = xr.Dataset({"log_volume_element": (("space", "t"), [[0.0], [1.0]])},
    ...                 coords={"space": ["slice", "full"]})
    >>> labelled_volume(ds.sel(space="full"), ds, "full").attrs["long_name"]
    'log10 sqrt(det g), full metric'
    """
    vol = log10_volume(sub)
    if "space" in ds.dims:
        vol.attrs["long_name"] = f"log10 sqrt(det g), {space} metric"
    return vol


def plane_field(
    sub: xr.Dataset, name: str, ds: xr.Dataset, space: str
) -> tuple[xr.DataArray, str, str]:
    """A field of a plane panel with its colour map and colour-bar label.

    Parameters
    ----------
    sub : xarray.Dataset
        A selection of ``ds`` on one plane.
    name : {"prediction", "entropy", "volume"}
        The field (anything else is the volume).
    ds, space
        As in :func:`labelled_volume`, which labels the volume.

    Returns
    -------
    (xarray.DataArray, str, str)
        The values (entropy as log10), the matplotlib colour map, the label.

    Examples
    --------
    >>> ds = xr.Dataset({"entropy": ("t", [1.0, 10.0])})
    >>> values, cmap, label = plane_field(ds, "entropy", ds, "slice")
    >>> values.values.tolist(), cmap
    ([0.0, 1.0], 'magma')
    """
    if name == "prediction":
        return sub["prediction"].astype(float), "tab10", "predicted class"
    if name == "entropy":
        ent = xr.DataArray(np.log10(sub["entropy"].clip(min=1e-300)))
        return ent, "magma", "log10 entropy (entropy in hartley)"
    vol = labelled_volume(sub, ds, space)
    return vol, "viridis", vol.attrs["long_name"]


def plane_panels(
    ds: xr.Dataset,
    *,
    epoch: int | None = None,
    seed: int | None = None,
    space: str = "slice",
    axes: Any = None,
) -> Any:
    """Fig. 2 bottom: prediction, log10 entropy and log10 volume on a plane of images.

    Parameters
    ----------
    ds : xarray.Dataset
        From a :class:`~neurogeom.Plane` scan with a classifier (``neurogeom run
        mnist-plane``).
    epoch, seed, space : optional
        Selections (default last epoch, first seed, slice-induced metric).
    axes : sequence of 3 Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    >>> rm = ng.TorchResponseMap(net, layers="1", dtype=torch.float64)
    >>> a, b, c = np.eye(4)[:3]
    >>> ds = ng.geometry(rm, ng.Plane(a, b, c, resolution=6), classifier=net)
    >>> [ax.get_xlabel() for ax in plane_panels(ds).axes[:3]]
    ['u', 'u', 'u']
    """
    sub = pick(ds, seed=seed, space=space)
    if "epoch" in sub.dims:
        sub = sub.sel(epoch=epoch) if epoch is not None else sub.isel(epoch=-1)
    if axes is None:
        fig, grid = figure_grid(1, 3, (3.6, 3.1))
        axes = grid[0]
    fig = axes[0].figure
    from ..slices import TRIANGLE

    for ax, name in zip(axes, ("prediction", "entropy", "volume"), strict=False):
        field, cmap, label = plane_field(sub, name, ds, space)
        kw = {"vmin": -0.5, "vmax": 9.5} if name == "prediction" else {}
        values = field.transpose("v", "u")
        mesh = ax.pcolormesh(sub.u, sub.v, values, cmap=cmap, shading="auto", **kw)
        fig.colorbar(mesh, ax=ax, label=label)
        ax.plot(*np.vstack([TRIANGLE, TRIANGLE[:1]]).T, color="white", lw=0.8)
        ax.set_xlabel("u")
        ax.set_ylabel("v")
        ax.set_aspect("equal")
    return fig


def ternary_plot(
    ds: xr.Dataset,
    ax: Axes | None = None,
    *,
    field: str = "volume",
    epoch: int | None = None,
    seed: int | None = None,
    space: str = "slice",
) -> Axes:
    """A plane's field inside the triangle of its three stimuli only (ternary view).

    Points outside the triangle (any ``barycentric`` coordinate negative) are masked.

    Parameters
    ----------
    ds : xarray.Dataset
        A :class:`~neurogeom.Plane` scan (has the ``barycentric`` coordinate).
    ax : Axes, optional
    field : {"volume", "entropy", "prediction"}
    epoch, seed, space : optional
        Selections as in :func:`plane_panels`.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> rm = ng.TorchResponseMap(torch.nn.Sequential(torch.nn.Tanh()), layers="0",
    ...                          dtype=torch.float64)
    >>> ds = ng.geometry(rm, ng.Plane(*np.eye(3), resolution=6))
    >>> ternary_plot(ds).get_xlabel()
    'u'
    """
    if "barycentric" not in ds.coords:
        raise ParameterError("ternary_plot needs a Plane scan (the 'barycentric' coordinate).")
    sub = pick(ds, seed=seed, space=space)
    if "epoch" in sub.dims:
        sub = sub.sel(epoch=epoch) if epoch is not None else sub.isel(epoch=-1)
    values, cmap, label = plane_field(sub, field, ds, space)
    inside = (sub["barycentric"] >= -1e-12).all("vertex")
    masked = values.where(inside).transpose("v", "u")
    ax = axes_or_new(ax)
    shown = np.ma.masked_invalid(masked.values)
    mesh = ax.pcolormesh(sub.u, sub.v, shown, cmap=cmap, shading="auto")
    ax.figure.colorbar(mesh, ax=ax, label=label)
    from ..slices import TRIANGLE

    ax.plot(*np.vstack([TRIANGLE, TRIANGLE[:1]]).T, color="k", lw=0.8)
    ax.set_xlabel("u")
    ax.set_ylabel("v")
    ax.set_aspect("equal")
    return ax


def run_curves(values: xr.DataArray, x: str, ax: Axes, **style: Any) -> list[str]:
    """One curve of ``values`` against its dim ``x`` per run (every other dim), labelled.

    Returns the names of the dims that tell runs apart (empty for a single run).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> da = xr.DataArray([[1.0, 0.5], [2.0, 1.0]], dims=("seed", "epoch"),
    ...                   coords={"seed": [0, 1], "epoch": [1, 2]})
    >>> run_curves(da, "epoch", plt.figure().gca())
    ['seed']
    """
    groups = [d for d in values.dims if d != x]
    stacked = values.stack(run=groups) if groups else values.expand_dims(run=[0])
    for i in range(stacked.sizes["run"]):
        curve = stacked.isel(run=i)
        label = ", ".join(f"{d} {curve[d].item()}" for d in groups)
        ax.plot(values[x].values, curve.values, label=label or None, **style)
    return [str(g) for g in groups]


def loss_curves(ds: xr.Dataset, ax: Axes | None = None) -> Axes:
    """Training loss per epoch, one curve per width (and seed) of an experiment Dataset.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ds = xr.Dataset({"loss": (("train_epoch",), [1.0, 0.5])},
    ...                 coords={"train_epoch": [1, 2]})
    >>> loss_curves(ds).get_ylabel()
    'training loss'
    """
    ax = axes_or_new(ax)
    loss = ds["loss"]
    groups = run_curves(loss, "train_epoch", ax, lw=1)
    ax.set_xlabel("training epoch")
    name, units = loss.attrs.get("long_name"), loss.attrs.get("units")
    label = f"{name} [{units}]" if name and units else name or "training loss"
    ax.set_ylabel(textwrap.fill(label, 28))  # a long name must fit beside a short axes
    ax.set_yscale("log")
    if groups:
        ax.legend(fontsize=6)
    return ax


def claim_progression(ds: xr.Dataset, ax: Axes | None = None) -> Axes:
    """The claim statistics against the snapshot epoch (mean ± sd over seeds).

    Plots ``spearman_entropy`` (solid) and, when present, ``spearman_distance`` (dashed),
    one colour per width (or per ``space`` for image experiments).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ds = xr.Dataset({"spearman_entropy": (("epoch", "seed"), [[0.1, 0.2], [0.8, 0.9]])},
    ...                 coords={"epoch": [0, 10], "seed": [0, 1]})
    >>> claim_progression(ds).get_xlabel()
    'epoch'
    """
    ax = axes_or_new(ax)
    for name, style in (("spearman_entropy", "-"), ("spearman_distance", "--")):
        if name not in ds:
            continue
        da = ds[name]
        mean = da.mean("seed") if "seed" in da.dims else da
        sd = da.std("seed", ddof=1) if "seed" in da.dims and da.sizes["seed"] > 1 else 0 * mean
        groups = [d for d in mean.dims if d != "epoch"]
        m = mean.stack(g=groups) if groups else mean.expand_dims(g=[0])
        s = sd.stack(g=groups) if groups else sd.expand_dims(g=[0])
        what = "entropy" if name == "spearman_entropy" else "distance"
        for i in range(m.sizes["g"]):
            label = ", ".join(f"{d} {m.isel(g=i)[d].item()}" for d in groups)
            ax.errorbar(
                ds["epoch"].values,
                m.isel(g=i).values,
                yerr=s.isel(g=i).values,
                ls=style,
                marker="o",
                ms=3,
                capsize=2,
                color=f"C{i}",
                label=f"vs {what}" + (f" ({label})" if label else ""),
            )
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("Spearman rho of\nlog volume element")
    ax.set_ylim(-1.05, 1.05)
    ax.legend(fontsize=6)
    return ax


def _image_shape(ds: xr.Dataset) -> tuple[int, ...]:
    shape = ds.attrs.get("image_shape")
    if shape is None:
        side = round(math.sqrt(ds["anchors"].shape[-1]))
        return (side, side)
    return tuple(int(s) for s in np.atleast_1d(shape))


def _inset_image(ax: Axes, image: np.ndarray, x: float, label: str) -> None:
    inset = ax.inset_axes((x - 0.08, 1.02, 0.16, 0.3), transform=ax.transAxes)
    inset.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_title(label, fontsize=7, pad=1)
