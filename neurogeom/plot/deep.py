"""Figures of the deep-network experiments (Figs. 3-6 of the poster)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ._common import figure_grid, pick
from .experiments import labelled_volume, line_plot, plane_field, plane_panels

__all__ = ["checkpoint_plane_panels", "interpolation_panels", "stage_panels"]


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
    fig, axes = figure_grid(len(rows), len(epochs), (3.8, 3.3))
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
    fig, axes = figure_grid(len(epochs), 2 + len(spaces), (3.6, 3.1))
    for row, epoch in zip(axes, epochs, strict=True):
        e = None if epoch is None else int(epoch)
        plane_panels(ds, epoch=e, space=spaces[0], axes=row[:3])
        for ax, space in zip(row[3:], spaces[1:], strict=True):
            sub = pick(ds, space=space)
            sub = sub.sel(epoch=e) if e is not None else sub
            field, cmap, label = plane_field(sub, "volume", ds, str(space))
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
    from ..slices import TRIANGLE

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
    from ..slices import TRIANGLE

    sub = pick(ds, space=space)
    layers = list(sub["layer"].values) if "layer" in sub.dims else [None]
    epochs = list(sub["epoch"].values) if "epoch" in sub.dims else [None]
    fig, axes = figure_grid(len(layers), len(epochs), (3.4, 3.0))
    for i, layer in enumerate(layers):
        row = sub.sel(layer=layer) if layer is not None else sub
        vol = labelled_volume(row, ds, space)
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


def _rgb(image: np.ndarray) -> np.ndarray:
    """``(3, H, W)`` or ``(H, W)`` pixel values in [0, 1] as an imshow-ready array."""
    arr = np.asarray(image, dtype=np.float64)
    return np.clip(np.moveaxis(arr, 0, -1) if arr.ndim == 3 else arr, 0.0, 1.0)


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
