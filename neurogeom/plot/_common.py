"""Helpers shared by the figure modules."""

from __future__ import annotations

import math
from typing import Any

import xarray as xr
from matplotlib.axes import Axes

__all__ = ["axes_or_new", "figure_grid", "log10_volume", "pick"]

#: How a colour bar names the metric's space (``attrs["space"]``, the ``space=`` values).
_SPACE_WORDS = {"slice": "slice-induced", "full": "full-space"}


def axes_or_new(ax: Axes | None) -> Axes:
    """``ax``, or the axes of a new 4.2 × 3.6 inch figure when ``ax`` is None.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> axes_or_new(None).get_figure().get_size_inches().tolist()
    [4.2, 3.6]
    """
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


def pick(ds: xr.Dataset, **index: Any) -> xr.Dataset:
    """Select ``index`` values that are not None; other listed dims default to their first.

    A listed dim that ``ds`` does not have is skipped.

    Examples
    --------
    >>> ds = xr.Dataset({"v": (("epoch", "seed"), [[1, 2], [3, 4]])},
    ...                 coords={"epoch": [10, 20], "seed": [0, 1]})
    >>> int(pick(ds, epoch=20, seed=None, width=None)["v"])
    3
    """
    for dim, value in index.items():
        if dim not in ds.dims:
            continue
        ds = ds.isel({dim: 0}) if value is None else ds.sel({dim: value})
    return ds


def figure_grid(nrows: int, ncols: int, size: tuple[float, float]) -> Any:
    """A new figure with an ``nrows × ncols`` array of axes, each panel ``size`` inches.

    Returns
    -------
    (Figure, array of Axes, shape (nrows, ncols))
        Constrained layout; the axes array is 2-D even for one row or column.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> fig, axes = figure_grid(2, 3, (1.0, 2.0))
    >>> axes.shape, fig.get_size_inches().tolist()
    ((2, 3), [3.0, 4.0])
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size[0] * ncols, size[1] * nrows),
        squeeze=False,
        constrained_layout=True,
    )
    return fig, axes
