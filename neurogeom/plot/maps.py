"""Maps of one or two geometry fields over a 2-D grid or plane."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..errors import ParameterError
from ._common import axes_or_new, log10_volume

__all__ = [
    "compare_fields",
    "distance_matrix",
    "geodesic_paths",
    "threshold_ellipses",
    "volume_map",
]


def volume_map(
    ds: xr.Dataset,
    ax: Axes | None = None,
    *,
    layer: str | None = None,
    epoch: int | None = None,
    dims: tuple[str, str] | None = None,
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
        From :func:`neurogeom.geometry` on a :class:`~neurogeom.Plane` (dims ``u``, ``v``)
        or a 2-D :class:`~neurogeom.Grid` (dims ``u``, ``v`` or its own names, e.g.
        ``orientation``, ``contrast``), with one or several layers.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.
    layer, epoch : optional
        Which layer / epoch to show when the Dataset has those dims (default the last).
    dims : (str, str), optional
        The dims along x and y; default the field's two dims in their order. Any other
        dims (beyond ``layer``, ``epoch``, ``width``, ``seed``) must be selected first.
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
    x, y = _map_dims(sub["log_volume_element"], dims, "volume_map")
    ax = axes_or_new(ax)
    field = log10_volume(sub).transpose(y, x)
    mesh = ax.pcolormesh(
        _coord(sub, x), _coord(sub, y), field, cmap=cmap, vmin=vmin, vmax=vmax, shading="auto"
    )
    ax.figure.colorbar(mesh, ax=ax, label=field.attrs["long_name"])
    if boundary and "probability" in sub:
        _decision_boundary(sub, ax, x, y)
    grid = sub.attrs.get("slice", "grid") == "grid"  # a grid's dims are stimulus columns
    if data and grid and "training_stimuli" in sub:
        stimuli = sub["training_stimuli"].values
        order = [str(d) for d in sub["log_volume_element"].dims]
        ax.scatter(
            stimuli[:, order.index(x)],
            stimuli[:, order.index(y)],
            c=sub["training_labels"].values,
            cmap="coolwarm",
            s=6,
            edgecolors="k",
            linewidths=0.2,
        )
    _label_map_axes(ax, sub, x, y, equal=False)
    return ax


def _decision_boundary(sub: xr.Dataset, ax: Axes, x: str, y: str) -> None:
    prob = sub["probability"].transpose(y, x, "class")
    if prob.sizes["class"] == 2:
        field, level = prob.isel({"class": 1}).values, [0.5]
    else:
        field = sub["prediction"].transpose(y, x).values.astype(float)
        level = list(np.unique(field)[:-1] + 0.5)
    if np.nanmin(field) < level[0] < np.nanmax(field):
        ax.contour(
            _coord(sub, x), _coord(sub, y), field, levels=level, colors="white", linewidths=1.2
        )


def compare_fields(
    a: xr.Dataset,
    b: xr.Dataset,
    axes: Any = None,
    *,
    layer: str | None = None,
    layer_a: str | None = None,
    layer_b: str | None = None,
    dims: tuple[str, str] | None = None,
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
        From :func:`neurogeom.geometry` on the same 2-D slice (a plane's ``u``, ``v``, or
        a grid's two dims, whatever their names); checked as in
        :func:`neurogeom.compare`.
    axes : sequence of 3 matplotlib Axes, optional
        Where to draw; a new 1 × 3 figure if omitted.
    layer : str, optional
        The layer of both Datasets, when they have a ``layer`` dim.
    layer_a, layer_b : str, optional
        The layer of ``a`` / of ``b`` (each overrides ``layer``).
    dims : (str, str), optional
        The dims along x and y; default the fields' two dims in their order.
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
    from ..comparison import check_same_points, select_layer

    layer_a = layer if layer_a is None and "layer" in a.dims else layer_a
    layer_b = layer if layer_b is None and "layer" in b.dims else layer_b
    sa, sb = select_layer(a, layer_a, "a"), select_layer(b, layer_b, "b")
    check_same_points(sa, sb)
    x, y = _map_dims(sa["log_volume_element"], dims, "compare_fields")
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, 3, figsize=(12.6, 3.6), constrained_layout=True)[1]
    if len(axes) != 3:
        raise ParameterError(f"axes has {len(axes)} entries; expected 3 (a, b, b − a).")
    fa, fb = (log10_volume(s).transpose(y, x) for s in (sa, sb))
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
        mesh = ax.pcolormesh(
            _coord(sa, x), _coord(sa, y), data, cmap=cm, vmin=lo, vmax=hi, shading="auto"
        )
        ax.figure.colorbar(mesh, ax=ax, label=label)
        ax.set_title(title)
        _label_map_axes(ax, sa, x, y)
    return axes
    ax.set_ylim(-1.05, 1.05)
    ax.legend(fontsize=6)
    return ax


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


def geodesic_paths(
    ds: xr.Dataset,
    ax: Axes | None = None,
    *,
    plane: Any = None,
    straight: bool = True,
    color: str = "white",
) -> Axes:
    """Geodesics of :func:`neurogeom.geodesic` as lines, with the straight segments dashed.

    Draw them over :func:`volume_map` of the same plane (pass its axes as ``ax``).

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`neurogeom.geodesic` (a ``path`` with dims ``pair``, ``t``, stimulus).
    ax : matplotlib Axes, optional
    plane : Plane, optional
        Draw in the plane's triangle coordinates ``(u, v)`` (those of a volume map over
        it); the path must lie on it (``within=plane``). Default: the first two stimulus
        coordinates.
    straight : bool
        Also draw the straight segments between the end points (dashed).
    color : str

    Returns
    -------
    matplotlib Axes
        One solid line per pair (and one dashed line per pair with ``straight``).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> rm = ng.TorchResponseMap(lambda x: torch.stack([x[:, 0], x[:, 1], x[:, 0] * x[:, 1]], 1))
    >>> ds = ng.geodesic(rm, np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    >>> len(geodesic_paths(ds).lines)
    2
    """
    if "path" not in ds:
        raise ParameterError("ds has no 'path'; pass the Dataset of neurogeom.geodesic.")
    ax = axes_or_new(ax)
    path = ds["path"].values
    flat = path.reshape(path.shape[0], path.shape[1], -1)
    if plane is not None:
        origin = plane.to_stimulus(np.zeros(2)).reshape(-1)
        axes = np.stack([plane.to_stimulus(np.eye(2)[i]).reshape(-1) - origin for i in range(2)], 1)
        xy = np.linalg.lstsq(axes, (flat - origin).reshape(-1, flat.shape[-1]).T, rcond=None)[0]
        xy = xy.T.reshape(flat.shape[0], flat.shape[1], 2)
    else:
        if flat.shape[-1] < 2:
            raise ParameterError("paths in a 1-D stimulus space have no 2-D picture.")
        xy = flat[..., :2]
    for curve in xy:
        ax.plot(curve[:, 0], curve[:, 1], color=color, lw=1.5)
        if straight:
            ends = curve[[0, -1]]
            ax.plot(ends[:, 0], ends[:, 1], color=color, lw=1.0, ls="--")
    return ax


def distance_matrix(
    distances: Any,
    ax: Axes | None = None,
    *,
    labels: Any = None,
    cmap: str = "magma",
    label: str = "geodesic distance",
) -> Axes:
    """A panel of a geodesic distance matrix (:func:`neurogeom.geodesic_distances`).

    Parameters
    ----------
    distances : array, shape (m, m)
    ax : matplotlib Axes, optional
    labels : sequence of m labels, optional
        Class labels: the points are sorted by them and the class blocks outlined, so
        distances within and across classes can be compared.
    cmap : str
    label : str
        The colour bar's label.

    Returns
    -------
    matplotlib Axes
        With one image (and a colour bar).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> len(distance_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]), labels=[0, 1]).images)
    1
    """
    D = np.asarray(distances, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ParameterError(f"distances have shape {D.shape}; expected a square (m, m) matrix.")
    ax = axes_or_new(ax)
    order = np.arange(len(D))
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape != (len(D),):
            raise ParameterError(f"labels have shape {lab.shape}; expected ({len(D)},).")
        order = np.argsort(lab, kind="stable")
        edges = np.nonzero(lab[order][1:] != lab[order][:-1])[0] + 0.5
        for e in edges:
            ax.axhline(e, color="white", lw=0.8)
            ax.axvline(e, color="white", lw=0.8)
    im = ax.imshow(D[np.ix_(order, order)], cmap=cmap)
    fig = ax.get_figure()
    if fig is not None:
        fig.colorbar(im, ax=ax, label=label)
    return ax


def threshold_ellipses(
    ds: xr.Dataset, centers: Any, ax: Axes | None = None, *, scale: float = 1.0, color: str = "w"
) -> Axes:
    """Threshold ellipses of :func:`neurogeom.discrimination_thresholds` at their points.

    Parameters
    ----------
    ds : xarray.Dataset
        Without directions (``axis_length`` ``(point, axis)``, ``axis``
        ``(point, axis, component)``), in a 2-D space: a 2-D stimulus or a plane's
        orthonormal coordinates.
    centers : array, shape (m, 2)
        Where to draw them (the points, in the same coordinates as the axes).
    ax : matplotlib Axes, optional
    scale : float
        Magnify the ellipses (thresholds are often small on the map's scale).
    color : str

    Returns
    -------
    matplotlib Axes
        One ellipse patch per point (infinite half-lengths are not drawn).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, torch, neurogeom as ng
    >>> rm = ng.TorchResponseMap(lambda x: x * torch.tensor([2.0, 1.0]))
    >>> x = np.zeros((1, 2))
    >>> ax = threshold_ellipses(ng.discrimination_thresholds(rm, x), x)
    >>> [round(float(v), 6) for v in (ax.patches[0].width, ax.patches[0].height)]
    [1.0, 2.0]
    """
    from matplotlib.patches import Ellipse

    if "axis_length" not in ds or ds["axis"].shape[-1] != 2:
        raise ParameterError(
            "ds must be the thresholds without directions (axis_length, axis) in two "
            "dimensions; call neurogeom.discrimination_thresholds(rm, x) on 2-D stimuli or "
            "within=a Plane."
        )
    c = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    half, axes = ds["axis_length"].values, ds["axis"].values
    if len(c) != len(half):
        raise ParameterError(f"{len(c)} centers for {len(half)} points; pass one per point.")
    ax = axes_or_new(ax)
    for centre, h, v in zip(c, half, axes):
        if not np.isfinite(h).all():
            continue
        angle = float(np.degrees(np.arctan2(v[0, 1], v[0, 0])))
        ax.add_patch(
            Ellipse(
                (float(centre[0]), float(centre[1])), 2 * scale * h[0], 2 * scale * h[1],
                angle=angle, fill=False, color=color,
            )
        )  # fmt: skip
    ax.autoscale_view()
    return ax
