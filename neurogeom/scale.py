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

import errno
import importlib
import itertools
import json
import math
import operator
import os
import pickle
import threading
import uuid
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import xarray as xr

from ._arrays import check_count
from ._files import as_path, write_atomically
from .dataset import build_dataset, check_dataset, config_of, stamp_provenance
from .errors import (
    DataFormatError,
    DataNotFoundError,
    FileWriteError,
    MissingDependencyError,
    ParameterError,
)
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


class ShippedMap:
    """A response map that travels as the bytes it was pickled to on the client.

    A worker that holds a live map may be asked to send it to another worker while one of
    its own tasks is inside a forward pass, with hooks on the model; pickling it then
    would ship those hooks. So the map is pickled once, before any task runs, and
    workers pass those bytes on; each process unpickles them once.
    :func:`lazy_geometry` ships its response map so to the workers.

    Parameters
    ----------
    response_map : ResponseMap
        The live map (pickled with cloudpickle when installed, else pickle).

    Examples
    --------
    >>> import pickle, torch, neurogeom as ng
    >>> remote = pickle.loads(pickle.dumps(ShippedMap(ng.TorchResponseMap(torch.tanh))))
    >>> remote.get() is remote.get()        # unpickled once per process
    True
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
        """The live map: the original on the client, unpickled once in another process."""
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
    shipped: ShippedMap, where: Slice, start: int, stop: int, kwargs: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Fields of points ``start:stop`` of ``where``, as :func:`geometry` computes them.

    The task generates its own points from the slice (its origin and axes travel, not the
    points), so the graph stays small however many points the slice has.
    """
    # Maps are safe across threads: a sampled map changes nothing on itself while it
    # measures, and a torch map's measurements take turns on their own lock.
    points = Points(where.block(start, stop), where.tangents)
    ds = geometry(shipped.get(), points, **kwargs)
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
    block_size = check_count(block_size, "block_size", 1)
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
        ``block_points``); also the ``block_size`` each task passes to
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
    kwargs = {**kwargs, "block_size": size, "progress": False}  # tasks: no bars
    probe = geometry(response_map, Points(sl.block(0, 1), sl.tangents), **kwargs)
    rm = dask.delayed(ShippedMap(response_map), name=f"response-map-{uuid.uuid4().hex}")
    shipped_slice = dask.delayed(sl, name=f"slice-{uuid.uuid4().hex}")
    tasks = [
        dask.delayed(_block, pure=True)(rm, shipped_slice, i, min(i + size, len(sl)), kwargs)
        for i in range(0, len(sl), size)
    ]
    counts = [min(size, len(sl) - i) for i in range(0, len(sl), size)]
    fields = {}
    for name, var in probe.data_vars.items():
        if "point" not in var.dims:
            raise ParameterError(f"variable {name!r} of geometry() has no point dim {var.dims}.")
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
        raise ParameterError("maps is empty; pass at least one response map.")
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
    return stamp_provenance(out, config)


def _require_zarr() -> None:
    try:
        _require("zarr", "zarr")
    except ImportError as err:
        raise MissingDependencyError(str(err)) from err


#: Key of the completion marker in a store's root ``.zattrs``, written last by save_zarr.
_MARKER = "neurogeom_store"


def save_zarr(ds: xr.Dataset, path: str | Path, *, mode: str = "w-") -> Path:
    """Write a (dask-backed) geometry Dataset to a Zarr store, block by block.

    The dask tasks run as the store is written, on the active scheduler, so a result
    larger than memory streams to disk. A store that exists is refused unless
    ``mode="w"``. Written in Zarr format 2 (whose string arrays, e.g. layer names, are
    part of the specification; format 3 has none yet).

    The store is written to a temporary directory beside ``path``, every chunk included
    (also those that are all NaN), marked complete last (a ``neurogeom_store`` entry in its
    root ``.zattrs`` listing every array and its chunk grid), fsync'ed, and renamed into
    place; :func:`load_zarr` checks that marker. On any failure nothing is left behind and
    an existing store is untouched. ``mode="w"`` replaces only a directory that is a Zarr
    store, never another folder; while it does, the old store is briefly absent (moved
    aside), never mixed with the new one.

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

    Raises
    ------
    FileWriteError
        The store exists (``mode="w-"``); ``path`` is a file, or a folder that is not a Zarr
        store; or the operating system refused the write (an ``OSError`` too).
    DataFormatError
        A variable or attribute cannot be stored (the message names it).
    MissingDependencyError
        zarr is not installed (an ``ImportError`` too).

    Errors raised by the dask tasks themselves (e.g. by the response map) propagate as
    they are, after the temporary store is removed.

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
    check_dataset(ds)
    _require_zarr()
    if mode not in ("w-", "w"):
        raise ParameterError(f"mode={mode!r}; use 'w-' (refuse to overwrite) or 'w'.")
    chunked = any(var.chunks is not None for var in ds.variables.values())

    def write(tmp: Path) -> Callable[[], None]:
        # encode and write the metadata (and any in-memory variables) first; the dask tasks
        # run in finish(). Every chunk is written, so a chunk absent on disk is damage.
        if not chunked:
            ds.to_zarr(tmp, mode="w", consolidated=False, zarr_format=2, write_empty_chunks=True)
            return lambda: _mark_complete(tmp)
        delayed = ds.to_zarr(
            tmp,
            mode="w",
            consolidated=False,
            zarr_format=2,
            write_empty_chunks=True,
            compute=False,
        )

        def finish() -> None:
            delayed.compute()
            _mark_complete(tmp)

        return finish

    return write_atomically(
        path,
        write,
        directory=True,
        overwrite=mode == "w",
        exists_hint="pass mode='w' to overwrite it.",
        replaceable=_is_store,
        kind="Zarr store",
    )


def _is_store(path: Path) -> bool:
    return any((path / name).is_file() for name in (".zgroup", ".zarray", "zarr.json"))


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _chunk_keys(meta: Mapping[str, Any]) -> list[str]:
    """Every chunk key of a Zarr format 2 array (``.zarray`` metadata ``meta``)."""
    shape, chunks = meta["shape"], meta["chunks"]
    if not shape:
        return ["0"]
    grid = [math.ceil(n / c) for n, c in zip(shape, chunks)]
    sep = meta.get("dimension_separator") or "."
    return [sep.join(map(str, idx)) for idx in itertools.product(*(range(g) for g in grid))]


def _present_keys(folder: Path) -> set[str]:
    return {
        Path(root, name).relative_to(folder).as_posix()
        for root, _, files in os.walk(folder)
        for name in files
    }


def _mark_complete(store: Path) -> None:
    """Check every chunk of every array is on disk, then record them in the root attrs."""
    arrays: dict[str, dict[str, Any]] = {}
    for entry in sorted(store.iterdir()):
        if not (entry / ".zarray").is_file():
            continue
        meta = _read_json(entry / ".zarray")
        keys = _chunk_keys(meta)
        missing = set(keys) - _present_keys(entry)
        if missing:
            raise FileWriteError(
                errno.EIO,
                f"zarr left {len(missing)} of {len(keys)} chunks of {entry.name!r} unwritten "
                f"(e.g. {min(missing)!r}); the store is not complete.",
            )
        arrays[entry.name] = {
            "shape": meta["shape"],
            "chunks": meta["chunks"],
            "n_chunks": len(keys),
        }
    attrs_path = store / ".zattrs"
    attrs = _read_json(attrs_path) if attrs_path.is_file() else {}
    attrs[_MARKER] = {"complete": True, "version": 1, "arrays": arrays}
    with open(attrs_path, "w", encoding="utf-8") as fh:
        json.dump(attrs, fh, indent=4, sort_keys=True)


def _check_complete(path: Path) -> None:
    """Refuse a store that is not marked complete, or lacks an array or a chunk."""
    again = "Write it again with save_zarr."
    if not (path / ".zgroup").is_file():
        raise DataFormatError(
            f"{path} is not a Zarr store written by save_zarr: it has no .zgroup "
            "(expected a Zarr format 2 group)."
        )
    try:
        attrs = _read_json(path / ".zattrs")
    except FileNotFoundError:
        attrs = {}
    except (OSError, ValueError) as err:
        raise DataFormatError(f"{path}/.zattrs cannot be read ({err}); {again}") from err
    marker = attrs.get(_MARKER) if isinstance(attrs, dict) else None
    if not isinstance(marker, dict) or marker.get("complete") is not True:
        raise DataFormatError(
            f"{path} is incomplete: it has no completion marker ({_MARKER!r} in .zattrs), so "
            "its writing did not finish (or another tool wrote it) and chunks may be missing, "
            f"which would read as NaN. {again} To open it anyway, at your own risk, pass "
            "strict=False."
        )
    for name, spec in dict(marker.get("arrays", {})).items():
        folder = path / name
        try:
            meta = _read_json(folder / ".zarray")
        except FileNotFoundError:
            raise DataFormatError(
                f"{path} is damaged: variable {name!r}, listed in its completion marker, is "
                f"missing (no {name}/.zarray). {again}"
            ) from None
        except (OSError, ValueError) as err:
            raise DataFormatError(
                f"{path} is damaged: {name}/.zarray cannot be read ({err}). {again}"
            ) from err
        if [meta.get("shape"), meta.get("chunks")] != [spec.get("shape"), spec.get("chunks")]:
            raise DataFormatError(
                f"{path} is damaged: variable {name!r} has shape {meta.get('shape')} in chunks "
                f"{meta.get('chunks')}, but was written as {spec.get('shape')} in "
                f"{spec.get('chunks')}. {again}"
            )
        keys = _chunk_keys(meta)
        missing = sorted(set(keys) - _present_keys(folder))
        if missing:
            raise DataFormatError(
                f"{path} is damaged: variable {name!r} is missing {len(missing)} of "
                f"{len(keys)} chunks (e.g. {missing[0]!r}), which would read as NaN. {again}"
            )


def load_zarr(path: str | Path, *, strict: bool = True) -> xr.Dataset:
    """Open a Zarr store written by :func:`save_zarr`, lazily (dask-backed).

    Parameters
    ----------
    path : str or Path
    strict : bool
        Check, before opening, that the store was marked complete by :func:`save_zarr`
        and that every array and every chunk it recorded is present (a missing chunk
        would otherwise read silently as NaN). ``strict=False`` opens any Zarr format 2
        store without these checks.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    DataNotFoundError
        Nothing at ``path`` (a ``FileNotFoundError`` too).
    DataFormatError
        ``path`` is a file or not a Zarr store; or, with ``strict``, the store is incomplete
        (its writing did not finish) or lacks a variable or a chunk.

    Examples
    --------
    >>> import tempfile, os
    >>> from neurogeom.scale import save_zarr, load_zarr
    >>> ds = xr.Dataset({"x": ("t", np.arange(4.0))}).chunk({"t": 2})
    >>> p = save_zarr(ds, os.path.join(tempfile.mkdtemp(), "x.zarr"))
    >>> os.remove(p / "x" / "1")
    >>> load_zarr(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurogeom.errors.DataFormatError: ... variable 'x' is missing 1 of 2 chunks (e.g. '1')...
    """
    _require_zarr()
    p = as_path(path)
    if not p.exists():
        raise DataNotFoundError(f"no Zarr store at {p}; check the path.")
    if not p.is_dir():
        raise DataFormatError(
            f"{p} is a file; a Zarr store written by save_zarr is a directory "
            "(a netCDF file opens with ng.load)."
        )
    if strict:
        _check_complete(p)
    try:
        ds = xr.open_zarr(p, consolidated=False, zarr_format=2)
    except Exception as err:
        raise DataFormatError(
            f"could not open {p} as a Zarr format 2 store ({type(err).__name__}: {err}); "
            "expected a store written by save_zarr."
        ) from err
    ds.attrs.pop(_MARKER, None)
    return ds
