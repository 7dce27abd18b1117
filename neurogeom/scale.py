"""Scaling out: geometry as a dask graph over blocks of points, and Zarr output.

:func:`lazy_geometry` builds the same Dataset as :func:`neurogeom.geometry`, but backed
by dask arrays: one task per block of points (each task measures its block with
:func:`~neurogeom.geometry`, so layers, classifiers and the bootstrap resamples of
estimated maps are all computed inside the block's task). Nothing runs until you call
``.compute()``, ``.load()`` or :func:`save_zarr`; then the tasks run on whatever dask
scheduler is active — the local threads by default, or a ``dask.distributed`` cluster
when you have created a ``Client`` for it. The library never starts a scheduler.

Tasks ship the response map to the workers pickled once per graph, before any task runs
(with cloudpickle when it is installed, as it is with ``distributed``, so lambdas travel
too; plain ``pickle`` otherwise). Response maps are not thread-safe, so tasks that share one map in one process
take turns (torch still uses its own intra-op threads): the speed-up comes from worker
*processes* — a ``distributed.LocalCluster(processes=True)`` or a real cluster — not from
dask's default thread pool.

Needs the ``dask`` extra (``pip install 'neurogeom[dask]'``); :func:`save_zarr` also
the ``zarr`` extra.
"""

from __future__ import annotations

import importlib
import json
import math
import operator
import pickle
import threading
import uuid
from collections.abc import Hashable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import xarray as xr

from .dataset import build_dataset, config_of
from .maps.base import ResponseMap
from .measure import geometry
from .slices import Points, Slice

__all__ = ["lazy_geometry", "lazy_geometry_over", "load_zarr", "save_zarr"]


def _require(module: str, extra: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"this needs the optional dependency {module!r}: pip install 'neurogeom[{extra}]'."
        ) from err


class _Shipped:
    """A response map that travels as the bytes it was pickled to on the client.

    A worker that holds a live map may be asked to send it to another worker while one of
    its own tasks is inside a forward pass, with hooks on the model; pickling it then
    would ship those hooks. So the map is pickled once, before any task runs, and
    workers pass those bytes on; each process unpickles them once.
    """

    def __init__(self, response_map: ResponseMap) -> None:
        self._map: ResponseMap | None = response_map
        self._payload: bytes | None = None
        self._guard = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        if self._payload is None:
            self._payload = _dumps(self._map)
        return {"payload": self._payload}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._payload, self._map, self._guard = state["payload"], None, threading.Lock()

    def get(self) -> ResponseMap:
        with self._guard:
            if self._map is None:
                assert self._payload is not None
                self._map = pickle.loads(self._payload)
            return self._map


def _dumps(obj: Any) -> bytes:
    try:  # cloudpickle (a dependency of distributed) also ships lambdas and local classes
        import cloudpickle

        return bytes(cloudpickle.dumps(obj))
    except ImportError:
        return pickle.dumps(obj)


def _block(
    shipped: _Shipped, points: np.ndarray, tangents: Any, kwargs: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Fields of one block of points, as :func:`geometry` computes them."""
    # Maps are safe across threads: a sampled map changes nothing on itself while it
    # measures, and a torch map's measurements take turns on their own lock.
    ds = geometry(shipped.get(), Points(points, tangents), **kwargs)
    return {str(name): np.asarray(var.values) for name, var in ds.data_vars.items()}


def block_points(where: Slice, block_size: int) -> int:
    """Points per task: ``block_size`` rounded down to whole rows of the slice (at least one).

    Blocks of whole rows (the slice's trailing dims) let the result be reshaped onto the
    slice's dims without moving data between blocks.

    Examples
    --------
    >>> from neurogeom.slices import Grid
    >>> block_points(Grid([(0, 1), (0, 1)], resolution=10), 256)
    250
    """
    if block_size < 1:
        raise ValueError(f"block_size={block_size} must be positive.")
    row = math.prod(where.shape[1:])
    return max(1, block_size // row) * row


def lazy_geometry(
    response_map: ResponseMap,
    where: Slice | Any,
    *,
    block_size: int = 256,
    **kwargs: Any,
) -> xr.Dataset:
    """:func:`neurogeom.geometry` as a dask graph: one task per block of points.

    Parameters
    ----------
    response_map : ResponseMap
        Must pickle for a distributed cluster (an ``nn.Module`` or a module-level function,
        not a lambda).
    where : Slice or array of shape (m, *stimulus_shape)
        As in :func:`~neurogeom.geometry`.
    block_size : int
        Points per task, rounded down to whole rows of the slice (see
        :func:`block_points`); also the ``block_size`` each task passes to
        :func:`~neurogeom.geometry`. The eager call with the same ``block_size`` gives
        bit-identical values.
    **kwargs
        Any other argument of :func:`~neurogeom.geometry` (``space``, ``rank``,
        ``scale``, ``classifier``, ``keep_metric``, ``config``, ``level``, ...).

    Returns
    -------
    xarray.Dataset
        The Dataset :func:`~neurogeom.geometry` returns, with dask arrays chunked by
        block along the slice's first dim. One point is measured eagerly to learn the
        variables and their shapes.

    Examples
    --------
    >>> import torch, neurogeom as ng
    >>> from neurogeom.scale import lazy_geometry
    >>> grid = ng.Grid([(-1, 1), (-1, 1)], resolution=20)
    >>> rm = ng.TorchResponseMap(torch.tanh, dtype=torch.float64)
    >>> lazy = lazy_geometry(rm, grid, block_size=100)
    >>> lazy.log_volume_element.chunks
    ((5, 5, 5, 5), (20,))
    >>> bool((lazy.compute().log_volume_element == ng.geometry(rm, grid).log_volume_element).all())
    True
    """
    dask = _require("dask", "dask")
    da = _require("dask.array", "dask")
    sl = where if isinstance(where, Slice) else Points(where)
    size = block_points(sl, block_size)
    kwargs = {**kwargs, "block_size": size}
    probe = geometry(response_map, Points(sl.points[:1], sl.tangents), **kwargs)
    rm = dask.delayed(_Shipped(response_map), name=f"response-map-{uuid.uuid4().hex}")
    tasks = [
        dask.delayed(_block, pure=True)(rm, sl.points[i : i + size], sl.tangents, kwargs)
        for i in range(0, len(sl), size)
    ]
    counts = [min(size, len(sl) - i) for i in range(0, len(sl), size)]
    fields = {}
    for name, var in probe.data_vars.items():
        if "point" not in var.dims:
            raise ValueError(f"variable {name!r} of geometry() has no point dim {var.dims}.")
        axis = var.dims.index("point")
        parts = [
            da.from_delayed(
                dask.delayed(operator.getitem)(task, name),
                shape=(*var.shape[:axis], count, *var.shape[axis + 1 :]),
                dtype=var.dtype,
            )
            for task, count in zip(tasks, counts)
        ]
        fields[str(name)] = da.concatenate(parts, axis=axis)
    layers = [str(v) for v in probe["layer"].values] if "layer" in probe.dims else None
    var_attrs = {
        str(name): {k: v for k, v in var.attrs.items() if k not in ("long_name", "units")}
        for name, var in probe.data_vars.items()
    }
    config = {**config_of(probe), "slice": sl.kind}
    ds = build_dataset(sl, fields, layers=layers, attrs=var_attrs, config=config)
    for key, value in probe.attrs.items():
        ds.attrs.setdefault(key, value)
    return ds


def lazy_geometry_over(
    maps: Mapping[Hashable, ResponseMap],
    where: Slice | Any,
    *,
    dim: str = "checkpoint",
    block_size: int = 256,
    **kwargs: Any,
) -> xr.Dataset:
    """:func:`lazy_geometry` of several maps (checkpoints, models) along a new dim.

    Parameters
    ----------
    maps : mapping of label to ResponseMap
        E.g. ``{epoch: TorchResponseMap(model_at_epoch, ...)}``; all must measure the same
        layers.
    where : Slice or array
    dim : str
        Name of the new dim (``"checkpoint"``, ``"epoch"``, ``"model"``), labelled by the
        mapping's keys.
    block_size : int
    **kwargs
        As in :func:`lazy_geometry`.

    Returns
    -------
    xarray.Dataset
        Dask-backed, with ``dim`` first in every per-point variable. ``config`` records
        each map's ``repr`` under ``response_maps``.

    Examples
    --------
    >>> import torch, neurogeom as ng
    >>> from neurogeom.scale import lazy_geometry_over
    >>> line = ng.Line([0.0], [1.0], steps=8)
    >>> maps = {k: ng.TorchResponseMap(torch.nn.Linear(1, 3).double()) for k in (1, 2)}
    >>> lazy_geometry_over(maps, line, dim="epoch").log_volume_element.dims
    ('epoch', 't')
    """
    if not maps:
        raise ValueError("maps is empty; pass at least one response map.")
    parts = [lazy_geometry(rm, where, block_size=block_size, **kwargs) for rm in maps.values()]
    names = [str(n) for n, v in parts[0].data_vars.items() if "anchor" not in v.dims]
    out = xr.concat(
        parts,
        dim=dim,
        data_vars=names,
        coords="minimal",
        compat="override",
        combine_attrs="override",
    )
    out = out.assign_coords({dim: (dim, np.asarray(list(maps.keys())))})
    config = {**config_of(parts[0]), "response_maps": [repr(rm) for rm in maps.values()]}
    config.pop("response_map", None)
    out.attrs["config"] = json.dumps(config, sort_keys=True, default=str)
    return out


def save_zarr(ds: xr.Dataset, path: str | Path, *, mode: str = "w-") -> Path:
    """Write a (dask-backed) geometry Dataset to a Zarr store, block by block.

    The dask tasks run as the store is written, on the active scheduler, so a result
    larger than memory streams to disk. A store that exists is refused unless
    ``mode="w"``. Written in Zarr format 2 (whose string arrays, e.g. layer names, are
    part of the specification; format 3 has none yet).

    Parameters
    ----------
    ds : xarray.Dataset
        E.g. from :func:`lazy_geometry`.
    path : str or Path
        Directory of the store.
    mode : {"w-", "w"}
        ``"w-"`` fails if the store exists; ``"w"`` overwrites it.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, os, torch, neurogeom as ng
    >>> from neurogeom.scale import lazy_geometry, save_zarr, load_zarr
    >>> rm = ng.TorchResponseMap(torch.tanh, dtype=torch.float64)
    >>> lazy = lazy_geometry(rm, ng.Grid([(-1, 1), (-1, 1)], resolution=8), block_size=16)
    >>> p = save_zarr(lazy, os.path.join(tempfile.mkdtemp(), "g.zarr"))
    >>> load_zarr(p).log_volume_element.shape
    (8, 8)
    """
    _require("zarr", "zarr")
    if mode not in ("w-", "w"):
        raise ValueError(f"mode={mode!r}; use 'w-' (refuse to overwrite) or 'w'.")
    out = Path(path)
    if mode == "w-" and out.exists():
        raise FileExistsError(f"{out} exists; pass mode='w' to overwrite it.")
    ds.to_zarr(out, mode=mode, consolidated=False, zarr_format=2)  # type: ignore[call-overload]
    return out


def load_zarr(path: str | Path) -> xr.Dataset:
    """Open a Zarr store written by :func:`save_zarr`, lazily (dask-backed).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    xarray.Dataset
    """
    _require("zarr", "zarr")
    if not Path(path).exists():
        raise FileNotFoundError(f"no Zarr store at {path}.")
    return xr.open_zarr(path, consolidated=False, zarr_format=2)
