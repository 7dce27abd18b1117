"""Helpers shared by the figure modules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..errors import ParameterError

__all__ = ["log10_volume"]

#: How a colour bar names the metric's space (``attrs["space"]``, the ``space=`` values).
_SPACE_WORDS = {"slice": "slice-induced", "full": "full-space"}


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
    >>> ds["log_volume_element"].attrs["space"] = "slice"
    >>> log10_volume(ds).attrs["long_name"]
    'log10 sqrt(det g) (slice-induced)'
    """
    da = ds["log_volume_element"] / math.log(10.0)
    space = ds["log_volume_element"].attrs.get("space", "")
    space = _SPACE_WORDS.get(space, space)
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


def _map_dims(field: xr.DataArray, dims: tuple[str, str] | None, who: str) -> tuple[str, str]:
    """The (x, y) dims of a 2-D map of ``field``: ``dims``, or the field's own two dims.

    Any two named dims will do: a plane's or grid's ``u``, ``v``, or a grid with named
    dims such as ``orientation``, ``contrast``. The field must have no other dims.
    """
    have = tuple(str(d) for d in field.dims)
    if dims is None:
        if len(have) != 2:
            raise ParameterError(
                f"{who} needs a 2-D field (two dims); log_volume_element has dims {have}. "
                "Select the other dims first (e.g. ds.isel(...))."
            )
        return have[0], have[1]
    x, y = (str(d) for d in dims)
    if x == y or {x, y} != set(have):
        raise ParameterError(
            f"dims={tuple(dims)!r}; {who} needs the two dims of the field, which are "
            f"{have}: select the other dims first."
        )
    return x, y


def _coord(ds: xr.Dataset, dim: str) -> np.ndarray:
    """Coordinate values along ``dim`` (positions 0, 1, ... where it has none)."""
    if dim in ds.coords:
        return np.asarray(ds[dim].values)
    return np.arange(ds.sizes[dim])


def _units(ds: xr.Dataset, dim: str) -> str | None:
    return ds[dim].attrs.get("units") if dim in ds.coords else None


def _label_map_axes(ax: Axes, ds: xr.Dataset, x: str, y: str, *, equal: bool = True) -> None:
    """Name the axes after their dims (with units when recorded) and fit the limits.

    The aspect is equal (with ``equal``) only when both dims measure one quantity: the
    same recorded units, or, with none recorded, the ``u``, ``v`` coordinates of a plane
    or grid. Dims such as ``orientation`` and ``contrast`` keep matplotlib's free aspect.
    """
    for dim, set_label, set_lim in (
        (x, ax.set_xlabel, ax.set_xlim),
        (y, ax.set_ylabel, ax.set_ylim),
    ):
        units = _units(ds, dim)
        set_label(f"{dim} ({units})" if units else dim)
        values = _coord(ds, dim)
        set_lim(float(np.min(values)), float(np.max(values)))
    ux, uy = _units(ds, x), _units(ds, y)
    same = ux == uy if (ux or uy) else {x, y} == {"u", "v"}
    if equal and same:
        ax.set_aspect("equal")


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
