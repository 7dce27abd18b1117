"""Matplotlib figures of geometry Datasets (they only read Datasets)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

__all__ = [
    "checkpoint_plane_panels",
    "claim_progression",
    "compare_fields",
    "interpolation_panels",
    "line_plot",
    "loss_curves",
    "plane_panels",
    "stage_panels",
    "ternary_plot",
    "volume_map",
    "volume_panels",
]


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
    da.attrs = {
        "long_name": f"log10 sqrt(det g) ({space})" if space else "log10 sqrt(det g)",
        "units": "1",
    }
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


# --- experiment figures (Figs. 1-2 of the poster) ----------------------------------------


def _pick(ds: xr.Dataset, **index: Any) -> xr.Dataset:
    """Select ``index`` values that are not None; other listed dims default to their first."""
    for dim, value in index.items():
        if dim not in ds.dims:
            continue
        ds = ds.isel({dim: 0}) if value is None else ds.sel({dim: value})
    return ds


def _figure(nrows: int, ncols: int, size: tuple[float, float]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size[0] * ncols, size[1] * nrows),
        squeeze=False,
        constrained_layout=True,
    )
    return fig, axes


def volume_panels(
    ds: xr.Dataset, *, seed: int | None = None, variable: str = "log_volume_element"
) -> Any:
    """Fig. 1: one volume-element map per (width or layer, snapshot), boundary and data on top.

    Parameters
    ----------
    ds : xarray.Dataset
        From ``neurogeom run toy`` (:func:`neurogeom.experiments.toy.run`): dims ``width``,
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
    >>> ds = toy.run({"widths": [3], "epochs": 2, "seeds": [0], "grid_resolution": 6,
    ...               "progress": False})
    >>> volume_panels(ds).axes[0].get_title()
    'width 3, start (epoch 0)'
    """
    sub = _pick(ds, seed=seed)
    if variable != "log_volume_element":
        sub = sub.assign(log_volume_element=sub[variable])
    row_dim = next((d for d in ("width", "layer") if d in sub.dims), None)
    rows = sub[row_dim].values if row_dim else [None]
    epochs = sub.epoch.values if "epoch" in sub.dims else [None]
    fig, axes = _figure(len(rows), len(epochs), (3.6, 3.1))
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


def line_plot(
    ds: xr.Dataset,
    ax: Axes | None = None,
    *,
    epoch: int | None = None,
    seed: int | None = None,
    space: str = "slice",
    images: bool = True,
) -> Axes:
    """Fig. 2 top: log10 volume element along a line, coloured by the predicted class.

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

    Returns
    -------
    matplotlib Axes

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
    sub = _pick(ds, seed=seed, space=space)
    if "epoch" in sub.dims:
        sub = sub.sel(epoch=epoch) if epoch is not None else sub.isel(epoch=-1)
    ax = _axes(ax)
    y = _volume(sub, ds, space)
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
    if images and "anchors" in sub:
        shape = _image_shape(ds)
        a, b = (sub["anchors"].values[i].reshape(shape) for i in (0, 1))
        for x, img, lab in ((0.0, a, "t = 0"), (0.5, (a + b) / 2, "t = 0.5"), (1.0, b, "t = 1")):
            _inset_image(ax, img, x, lab)
    return ax


def _volume(sub: xr.Dataset, ds: xr.Dataset, space: str) -> xr.DataArray:
    """log10 volume of a selection, labelled with the metric's space when ``ds`` has several."""
    vol = log10_volume(sub)
    if "space" in ds.dims:
        vol.attrs["long_name"] = f"log10 sqrt(det g), {space} metric"
    return vol


def _plane_field(
    sub: xr.Dataset, name: str, ds: xr.Dataset, space: str
) -> tuple[xr.DataArray, str, str]:
    if name == "prediction":
        return sub["prediction"].astype(float), "tab10", "predicted class"
    if name == "entropy":
        ent = xr.DataArray(np.log10(sub["entropy"].clip(min=1e-300)))
        return ent, "magma", "log10 entropy (entropy in hartley)"
    vol = _volume(sub, ds, space)
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
    sub = _pick(ds, seed=seed, space=space)
    if "epoch" in sub.dims:
        sub = sub.sel(epoch=epoch) if epoch is not None else sub.isel(epoch=-1)
    if axes is None:
        fig, grid = _figure(1, 3, (3.6, 3.1))
        axes = grid[0]
    fig = axes[0].figure
    from .slices import TRIANGLE

    for ax, name in zip(axes, ("prediction", "entropy", "volume"), strict=False):
        field, cmap, label = _plane_field(sub, name, ds, space)
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
        raise ValueError("ternary_plot needs a Plane scan (the 'barycentric' coordinate).")
    sub = _pick(ds, seed=seed, space=space)
    if "epoch" in sub.dims:
        sub = sub.sel(epoch=epoch) if epoch is not None else sub.isel(epoch=-1)
    values, cmap, label = _plane_field(sub, field, ds, space)
    inside = (sub["barycentric"] >= -1e-12).all("vertex")
    masked = values.where(inside).transpose("v", "u")
    ax = _axes(ax)
    shown = np.ma.masked_invalid(masked.values)
    mesh = ax.pcolormesh(sub.u, sub.v, shown, cmap=cmap, shading="auto")
    ax.figure.colorbar(mesh, ax=ax, label=label)
    from .slices import TRIANGLE

    ax.plot(*np.vstack([TRIANGLE, TRIANGLE[:1]]).T, color="k", lw=0.8)
    ax.set_xlabel("u")
    ax.set_ylabel("v")
    ax.set_aspect("equal")
    return ax


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
    ax = _axes(ax)
    loss = ds["loss"]
    groups = [d for d in loss.dims if d != "train_epoch"]
    stacked = loss.stack(run=groups) if groups else loss.expand_dims(run=[0])
    for i in range(stacked.sizes["run"]):
        curve = stacked.isel(run=i)
        label = ", ".join(f"{d} {curve[d].item()}" for d in groups)
        ax.plot(loss["train_epoch"].values, curve.values, lw=1, label=label or None)
    ax.set_xlabel("training epoch")
    name, units = loss.attrs.get("long_name"), loss.attrs.get("units")
    ax.set_ylabel(f"{name} [{units}]" if name and units else name or "training loss")
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
    ax = _axes(ax)
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
    ax.set_ylabel("Spearman rho of log volume element")
    ax.set_ylim(-1.05, 1.05)
    ax.legend(fontsize=6)
    return ax


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
    from .compare import _select_layer, check_same_points

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


# --- deep-network figures (Figs. 3-6 of the poster) --------------------------------------


def _rgb(image: np.ndarray) -> np.ndarray:
    """``(3, H, W)`` or ``(H, W)`` pixel values in [0, 1] as an imshow-ready array."""
    arr = np.asarray(image, dtype=np.float64)
    return np.clip(np.moveaxis(arr, 0, -1) if arr.ndim == 3 else arr, 0.0, 1.0)


def interpolation_panels(
    ds: xr.Dataset, *, spaces: tuple[str, ...] = ("slice", "full"), title: str | None = None
) -> Any:
    """Fig. 5: log10 volume along interpolations, one panel per (pair, space) × checkpoint.

    Each panel is :func:`line_plot` (points coloured by the predicted class) with the
    end-point images as insets, taken from the Dataset's ``anchor_images`` (pixel values in
    ``[0, 1]``, colour or grey) when present.

    Parameters
    ----------
    ds : xarray.Dataset
        From ``neurogeom run barlow-line`` (dims ``epoch``, ``pair``, ``space``, ``t``); a
        Dataset without ``pair`` or ``space`` works too.
    spaces : tuple of str
        Which volume elements to show when the Dataset has a ``space`` dimension (those
        it holds).
    title : str, optional
        Figure title (default: the Dataset's ``model`` and ``data_source`` attrs).

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3))
    >>> rm = ng.TorchResponseMap(net, layers="0", dtype=torch.float64)
    >>> ds = ng.geometry(rm, ng.Line(np.zeros(4), np.ones(4), 8), classifier=net)
    >>> interpolation_panels(ds).axes[0].get_xlabel()
    't'
    """
    pairs = list(ds["pair"].values) if "pair" in ds.dims else [None]
    shown = [s for s in spaces if s in ds["space"].values] if "space" in ds.dims else [None]
    epochs = list(ds["epoch"].values) if "epoch" in ds.dims else [None]
    rows = [(p, s) for p in pairs for s in shown]
    fig, axes = _figure(len(rows), len(epochs), (3.8, 3.3))
    for i, (pair, space) in enumerate(rows):
        sub = ds.sel(pair=pair) if pair is not None else ds
        for j, epoch in enumerate(epochs):
            ax = axes[i, j]
            line_plot(
                sub,
                ax,
                epoch=None if epoch is None else int(epoch),
                space=space or "slice",
                images=False,
            )
            parts = [str(pair) if pair is not None else "", f"epoch {int(epoch)}" if epoch
                     is not None else "", f"{space} metric" if space else ""]  # fmt: skip
            ax.text(
                0.02,
                0.04,
                ", ".join(p for p in parts if p),
                transform=ax.transAxes,
                fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.75, "lw": 0},
            )
            if "anchor_images" in sub:
                images = sub["anchor_images"].values
                for x, img, lab in ((0.0, images[0], "t = 0"), (1.0, images[-1], "t = 1")):
                    _inset_rgb(ax, img, x, lab)
    fig.suptitle(title or _source_title(ds), fontsize=10)
    return fig


def _inset_rgb(ax: Axes, image: np.ndarray, x: float, label: str) -> None:
    inset = ax.inset_axes((x - 0.09, 1.01, 0.18, 0.22), transform=ax.transAxes)
    inset.imshow(_rgb(image))
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel(label, fontsize=6, labelpad=1)


def _source_title(ds: xr.Dataset) -> str:
    model, source = ds.attrs.get("model"), ds.attrs.get("data_source")
    parts = [str(model) if model else "", f"data: {source}" if source else ""]
    return " — ".join(p for p in parts if p)


def checkpoint_plane_panels(ds: xr.Dataset, *, title: str | None = None) -> Any:
    """Figs. 3 and 6: per checkpoint (rows) prediction, log10 entropy, log10 volume (columns).

    The volume columns are the metric induced on the plane and, when the Dataset has a
    ``space`` dimension, the full-space top-k volume (both labelled on their colour bars).
    The anchor images are drawn at the plane's corners when ``anchor_images`` is present.

    Parameters
    ----------
    ds : xarray.Dataset
        From ``neurogeom run cifar-plane`` or ``barlow-plane`` (dims ``epoch``, ``space``,
        ``u``, ``v``).
    title : str, optional
        Figure title (default: the Dataset's ``model`` and ``data_source`` attrs).

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    >>> rm = ng.TorchResponseMap(net, layers="1", dtype=torch.float64)
    >>> ds = ng.geometry(rm, ng.Plane(*np.eye(4)[:3], resolution=5), classifier=net)
    >>> len(checkpoint_plane_panels(ds).axes) >= 3
    True
    """
    epochs = list(ds["epoch"].values) if "epoch" in ds.dims else [None]
    spaces = list(ds["space"].values) if "space" in ds.dims else ["slice"]
    fig, axes = _figure(len(epochs), 2 + len(spaces), (3.6, 3.1))
    for row, epoch in zip(axes, epochs, strict=True):
        e = None if epoch is None else int(epoch)
        plane_panels(ds, epoch=e, space=spaces[0], axes=row[:3])
        for ax, space in zip(row[3:], spaces[1:], strict=True):
            sub = _pick(ds, space=space)
            sub = sub.sel(epoch=e) if e is not None else sub
            field, cmap, label = _plane_field(sub, "volume", ds, str(space))
            mesh = ax.pcolormesh(sub.u, sub.v, field.transpose("v", "u"), cmap=cmap)
            fig.colorbar(mesh, ax=ax, label=label)
            ax.set_xlabel("u")
            ax.set_ylabel("v")
            ax.set_aspect("equal")
        names = ["prediction", "log10 entropy", *(f"volume ({s} metric)" for s in spaces)]
        for ax, what in zip(row, names, strict=True):
            ax.set_title(f"epoch {e}: {what}" if e is not None else what, fontsize=9)
        if "anchor_images" in ds:
            _corner_images(row[0], ds["anchor_images"].values)
    fig.suptitle(title or _source_title(ds), fontsize=10)
    return fig


def _corner_images(ax: Axes, images: np.ndarray) -> None:
    """Small images of the plane's three anchors at the triangle's corners (data coords)."""
    from .slices import TRIANGLE

    for (x, y), img in zip(TRIANGLE, images, strict=True):
        inset = ax.inset_axes((x - 0.22, y - 0.22, 0.44, 0.44), transform=ax.transData)
        inset.imshow(_rgb(img))
        inset.set_xticks([])
        inset.set_yticks([])


def stage_panels(ds: xr.Dataset, *, space: str = "slice", title: str | None = None) -> Any:
    """Fig. 4: log10 volume of each stage (rows) at each checkpoint (columns).

    Each row shares one colour scale (stages differ by orders of magnitude).

    Parameters
    ----------
    ds : xarray.Dataset
        From ``neurogeom run cifar-stages`` (dims ``epoch``, ``layer``, ``space``, ``u``,
        ``v``).
    space : {"slice", "full"}
        Which volume element, when the Dataset has a ``space`` dimension.
    title : str, optional
        Figure title (default: the Dataset's ``model`` and ``data_source`` attrs).

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh())
    >>> rm = ng.TorchResponseMap(net, layers=["0", "1"], dtype=torch.float64)
    >>> ds = ng.geometry(rm, ng.Plane(*np.eye(4)[:3], resolution=5))
    >>> stage_panels(ds).axes[0].get_title()
    '0'
    """
    from .slices import TRIANGLE

    sub = _pick(ds, space=space)
    layers = list(sub["layer"].values) if "layer" in sub.dims else [None]
    epochs = list(sub["epoch"].values) if "epoch" in sub.dims else [None]
    fig, axes = _figure(len(layers), len(epochs), (3.4, 3.0))
    for i, layer in enumerate(layers):
        row = sub.sel(layer=layer) if layer is not None else sub
        vol = _volume(row, ds, space)
        vmin, vmax = float(vol.min()), float(vol.max())
        for j, epoch in enumerate(epochs):
            panel = vol.sel(epoch=epoch) if epoch is not None else vol
            ax = axes[i, j]
            mesh = ax.pcolormesh(
                row.u, row.v, panel.transpose("v", "u"), vmin=vmin, vmax=vmax, cmap="viridis"
            )
            fig.colorbar(mesh, ax=ax, label=vol.attrs["long_name"])
            parts = [str(layer) if layer is not None else "",
                     f"epoch {int(epoch)}" if epoch is not None else ""]  # fmt: skip
            ax.set_title(", ".join(p for p in parts if p), fontsize=9)
            ax.plot(*np.vstack([TRIANGLE, TRIANGLE[:1]]).T, color="white", lw=0.8)
            ax.set_xlabel("u")
            ax.set_ylabel("v")
            ax.set_aspect("equal")
    fig.suptitle(title or _source_title(ds), fontsize=10)
    return fig
