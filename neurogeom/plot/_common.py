"""Helpers shared by the figure modules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

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
