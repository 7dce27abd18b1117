"""Readers for recorded responses: NWB files, plain ``.npz``/``.npy`` arrays, xarray netCDF.

Each reader returns a :class:`Recording` — stimuli ``(P, d)`` and responses ``(P, n)`` or
``(P, T, n)`` — ready for :class:`~neurogeom.SampledResponseMap`
(:meth:`Recording.response_map` builds one).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._files import as_path
from ..errors import (
    DataFormatError,
    DataNotFoundError,
    MissingDependencyError,
    NonFiniteError,
    ParameterError,
    ShapeError,
    VariableError,
)

__all__ = [
    "Recording",
    "from_assembly",
    "geometry_per_time_bin",
    "read_arrays",
    "read_netcdf",
    "read_nwb",
]


@dataclass(frozen=True)
class Recording:
    """Stimuli and responses of a recording, one row per presentation.

    Attributes
    ----------
    stimuli : ndarray, shape (P, d)
        Stimulus parameters per presentation (or per condition when trials are grouped).
    responses : ndarray, shape (P, n) or (P, T, n)
        Responses (e.g. spike counts) per presentation (and repetition) and neuron.
    stimulus_names : tuple of str
        Names of the stimulus parameters (columns of ``stimuli``).
    unit_ids : ndarray, shape (n,)
        Identifiers of the neurons.
    source : str
        Where the data came from.
    """

    stimuli: np.ndarray
    responses: np.ndarray
    stimulus_names: tuple[str, ...]
    unit_ids: np.ndarray
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        X, R = self.stimuli, self.responses
        if X.ndim != 2 or R.ndim not in (2, 3) or len(X) != len(R):
            raise ShapeError(
                f"stimuli {X.shape} and responses {R.shape}: expected (P, d) and (P, n) or "
                "(P, T, n) with one row per presentation."
            )
        if len(self.stimulus_names) != X.shape[1] or len(self.unit_ids) != R.shape[-1]:
            raise ShapeError("stimulus_names / unit_ids do not match the arrays' sizes.")
        for arr, what in ((X, "stimuli"), (R, "responses")):
            if not np.isfinite(arr).all():
                raise NonFiniteError(f"{what} of {self.source or 'the recording'} hold NaN/inf.")

    def response_map(self, **kwargs: Any) -> Any:
        """A :class:`~neurogeom.SampledResponseMap` of this recording.

        Parameters
        ----------
        **kwargs
            Passed on (``estimator``, ``noise``, ``correction``, ``n_bootstrap``, ...).

        Returns
        -------
        SampledResponseMap
        """
        from ..maps.sampled import SampledResponseMap

        kwargs.setdefault("stimulus_names", self.stimulus_names)
        if np.ndim(self.responses) == 3:  # (P, T, n): its last axis is unit_ids
            kwargs.setdefault("layout", "condition,trial,neuron")
        return SampledResponseMap(self.stimuli, self.responses, **kwargs)


# -- NWB -------------------------------------------------------------------------------------
def _pynwb() -> Any:
    try:
        import pynwb
    except ImportError as err:
        raise MissingDependencyError(
            "reading NWB files needs pynwb: pip install 'neurogeom[nwb]'."
        ) from err
    return pynwb


def read_nwb(
    path: str | Path,
    stimulus: str | Sequence[str],
    *,
    window: tuple[float, float] | None = None,
    units: Sequence[Any] | None = None,
    rate: bool = False,
    group_repetitions: bool = False,
    table: str = "trials",
) -> Recording:
    """Spike counts per trial and the trials' stimulus parameters from an NWB file.

    Parameters
    ----------
    path : str or Path
        An NWB (HDF5) file with a ``units`` table (``spike_times``) and a ``trials`` table.
    stimulus : str or sequence of str
        Columns of the trials table holding the (numeric) stimulus parameters.
    window : (float, float), optional
        Count spikes in ``[start_time + window[0], start_time + window[1])`` of each trial;
        default the trial's own ``[start_time, stop_time)``.
    units : sequence, optional
        Ids of the units to keep (default all, in table order).
    rate : bool
        Divide counts by the window length (spikes per second).
    group_repetitions : bool
        Group trials with identical stimulus parameters into repetitions: responses
        ``(conditions, T, n)``; every condition must have the same number ``T`` of trials.
    table : str
        The intervals table whose rows are the presentations: ``"trials"`` (default),
        ``"epochs"``, or the name of any table in the file's ``intervals``.

    Returns
    -------
    Recording
        ``extra`` holds the trials' ``start_time`` (and ``condition`` indices when
        grouped).

    Raises
    ------
    DataFormatError
        Not an NWB file, no trials or units table, a missing or non-numeric stimulus
        column, unequal repetitions.
    ParameterError
        Counting windows that overlap the next presentation's (a spike would be counted
        twice).

    Examples
    --------
    >>> import tempfile, os, datetime, numpy as np
    >>> from pynwb import NWBFile, NWBHDF5IO
    >>> nwb = NWBFile("demo", "id", datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    >>> nwb.add_trial_column("orientation", "stimulus orientation (rad)")
    >>> for i in range(3):
    ...     nwb.add_trial(start_time=float(i), stop_time=i + 0.5, orientation=0.1 * i)
    >>> nwb.add_unit(spike_times=[0.1, 0.2, 1.1, 2.6])
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.nwb")
    >>> with NWBHDF5IO(path, "w") as io:
    ...     io.write(nwb)
    >>> rec = read_nwb(path, "orientation")
    >>> rec.stimuli[:, 0].tolist(), rec.responses[:, 0].tolist()
    ([0.0, 0.1, 0.2], [2.0, 1.0, 0.0])
    """
    pynwb = _pynwb()
    names = (stimulus,) if isinstance(stimulus, str) else tuple(stimulus)
    if not names:
        raise ParameterError("stimulus names no columns; pass at least one trials column.")
    p = as_path(path)
    if not p.exists():
        raise DataNotFoundError(f"no file at {p}.")
    try:
        io = pynwb.NWBHDF5IO(str(p), "r")
        nwb = io.read()
    except Exception as err:
        raise DataFormatError(f"{p} is not a readable NWB file ({err}).") from err
    try:
        starts, stops, X = _trials(nwb, names, p, table)
        ids, spikes = _units(nwb, units, p)
    finally:
        io.close()
    lo, hi = (starts, stops) if window is None else (starts + window[0], starts + window[1])
    if np.any(hi <= lo):
        raise ParameterError(f"empty counting windows in {p}: window={window!r}.")
    order = np.argsort(lo, kind="stable")
    overlap = np.flatnonzero(hi[order][:-1] > lo[order][1:])
    if overlap.size:
        i, j = order[overlap[0]], order[overlap[0] + 1]
        raise ParameterError(
            f"counting windows overlap in {p}: row {i}'s window ends at {hi[i]:.4g} s, after "
            f"row {j}'s starts at {lo[j]:.4g} s ({overlap.size} overlaps with "
            f"window={window!r}); spikes there would be counted for both. Shorten the window."
        )
    counts = np.stack(
        [np.searchsorted(s, hi, "left") - np.searchsorted(s, lo, "left") for s in spikes],
        axis=1,
    ).astype(np.float64)
    if rate:
        counts = counts / (hi - lo)[:, None]
    extra: dict[str, Any] = {"start_time": starts}
    if group_repetitions:
        X, counts, extra["condition"] = _group(X, counts, p)
    return Recording(X, counts, names, ids, source=str(p), extra=extra)


def _trials(
    nwb: Any, names: tuple[str, ...], p: Path, table: str = "trials"
) -> tuple[Any, Any, np.ndarray]:
    if table == "trials":
        trials = nwb.trials
    elif table == "epochs":
        trials = nwb.epochs
    else:
        available = sorted(nwb.intervals) if nwb.intervals else []
        if table not in available:
            raise DataFormatError(
                f"{p} has no intervals table {table!r}; its intervals tables are {available}."
            )
        trials = nwb.intervals[table]
    if trials is None or len(trials) == 0:
        raise DataFormatError(
            f"{p} has no {table} table; add rows with NWBFile.add_trial (or add_epoch, "
            "add_time_intervals)."
        )
    columns = list(trials.colnames)
    missing = [n for n in names if n not in columns]
    if missing:
        raise DataFormatError(
            f"{p}: {table} table has no column {missing[0]!r}; columns are {columns}."
        )
    X = []
    for n in names:
        col = np.asarray(trials[n].data[:])
        if not np.issubdtype(col.dtype, np.number):
            raise DataFormatError(
                f"{p}: trials column {n!r} is {col.dtype}, not numeric; stimulus parameters "
                "must be numbers (encode categories as numbers first)."
            )
        X.append(col.astype(np.float64))
    starts = np.asarray(trials["start_time"].data[:], dtype=np.float64)
    stops = np.asarray(trials["stop_time"].data[:], dtype=np.float64)
    return starts, stops, np.stack(X, axis=1)


def _units(nwb: Any, keep: Sequence[Any] | None, p: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    table = nwb.units
    if table is None or len(table) == 0 or "spike_times" not in table.colnames:
        raise DataFormatError(f"{p} has no units table with spike_times; add units first.")
    ids = np.asarray(table.id.data[:])
    rows = list(range(len(ids)))
    if keep is not None:
        index = {v: i for i, v in enumerate(ids.tolist())}
        absent = [u for u in keep if u not in index]
        if absent:
            raise VariableError(f"unit ids {absent} are not in {p}; ids are {ids.tolist()}.")
        rows = [index[u] for u in keep]
    spikes = [np.sort(np.asarray(table["spike_times"][i], dtype=np.float64)) for i in rows]
    return ids[rows], spikes


def _group(X: np.ndarray, R: np.ndarray, p: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    conditions, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    if len(set(counts.tolist())) != 1:
        raise DataFormatError(
            f"{p}: conditions have unequal numbers of trials ({sorted(set(counts.tolist()))}); "
            "group_repetitions needs the same number per condition (or use False)."
        )
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    T = int(counts[0])
    return conditions, R[order].reshape(len(conditions), T, -1), inverse


# -- arrays and netCDF ---------------------------------------------------------------------------
def _stimuli_2d(X: np.ndarray) -> np.ndarray:
    return X[:, None] if X.ndim == 1 else X.reshape(len(X), -1)


def read_arrays(path: str | Path) -> Recording:
    """Stimuli and responses saved as numpy arrays.

    Parameters
    ----------
    path : str or Path
        A ``.npz`` file with arrays named ``stimuli`` (P, d) or (P,) and ``responses``
        (P, n) or (P, T, n); or a folder holding ``stimuli.npy`` and ``responses.npy``.

    Returns
    -------
    Recording

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "rec.npz")
    >>> np.savez(p, stimuli=np.arange(4.0), responses=np.ones((4, 3)))
    >>> read_arrays(p).stimuli.shape
    (4, 1)
    """
    p = as_path(path)
    if p.is_dir():
        files = {k: p / f"{k}.npy" for k in ("stimuli", "responses")}
        absent = [str(f) for f in files.values() if not f.exists()]
        if absent:
            raise DataNotFoundError(
                f"missing {absent}; a folder needs stimuli.npy and responses.npy."
            )
        arrays = {k: _load(f, lambda f: np.load(f, allow_pickle=False)) for k, f in files.items()}
    else:
        if not p.exists():
            raise DataNotFoundError(f"no file at {p}.")
        arrays = _load(p, _npz_arrays)
    X = _numeric(arrays["stimuli"], "stimuli", p)
    R = _numeric(arrays["responses"], "responses", p)
    if X.ndim not in (1, 2) or R.ndim not in (2, 3):
        raise ShapeError(
            f"{p}: stimuli have shape {X.shape} and responses {R.shape}; expected stimuli "
            "(P,) or (P, d) and responses (P, n) or (P, T, n), one row per presentation."
        )
    X = _stimuli_2d(X)
    names = tuple(f"stimulus_{i}" for i in range(X.shape[1]))
    return Recording(X, R, names, np.arange(R.shape[-1]), source=str(p))


#: What ``np.load`` raises on a file that is empty, truncated, corrupt, pickled or not numpy.
_UNREADABLE = (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError)


def _load(p: Path, read: Any) -> Any:
    """``read(p)``, with a file numpy cannot read as a DataFormatError naming ``p``."""
    try:
        return read(p)
    except DataFormatError:
        raise
    except _UNREADABLE as err:
        raise DataFormatError(
            f"{p} could not be read as numpy data ({type(err).__name__}: {err}); expected "
            "an .npz archive (np.savez(path, stimuli=..., responses=...)) or .npy files "
            "saved without pickling. It may be empty, truncated or of another format."
        ) from err


def _npz_arrays(p: Path) -> dict[str, np.ndarray]:
    with np.load(p, allow_pickle=False) as npz:
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise DataFormatError(f"{p} holds a single array; expected an .npz archive.")
        keys = list(npz.keys())
        missing = [k for k in ("stimuli", "responses") if k not in keys]
        if missing:
            raise DataFormatError(
                f"{p} has arrays {keys}; expected 'stimuli' and 'responses' "
                "(np.savez(path, stimuli=..., responses=...))."
            )
        return {k: npz[k] for k in ("stimuli", "responses")}


def _numeric(arr: Any, name: str, p: Path) -> np.ndarray:
    """A stored array as float64, or a DataFormatError if it does not hold real numbers."""
    a = np.asarray(arr)
    if a.dtype.kind not in "fiub":
        raise DataFormatError(
            f"{name} in {p} has dtype {a.dtype}; expected real numbers (float, int or bool). "
            "Encode categorical stimuli as numbers before saving."
        )
    return a.astype(np.float64)


def read_netcdf(
    path: str | Path, *, stimuli: str = "stimuli", responses: str = "responses"
) -> Recording:
    """Stimuli and responses stored as xarray DataArrays in a netCDF file.

    Parameters
    ----------
    path : str or Path
    stimuli : str
        Variable with dims ``(presentation,)`` or ``(presentation, <parameter dim>)``.
    responses : str
        Variable with dims ``(presentation, neuroid)`` or
        ``(presentation, repetition, neuroid)`` (any order; transposed to these).

    Returns
    -------
    Recording
        ``unit_ids`` from the ``neuroid`` coordinate when present.

    Examples
    --------
    >>> import tempfile, os, numpy as np, xarray as xr
    >>> ds = xr.Dataset({"stimuli": ("presentation", np.arange(3.0)),
    ...                  "responses": (("neuroid", "presentation"), np.ones((2, 3)))})
    >>> p = os.path.join(tempfile.mkdtemp(), "r.nc"); ds.to_netcdf(p)
    >>> read_netcdf(p).responses.shape
    (3, 2)
    """
    import xarray as xr

    p = as_path(path)
    if not p.exists():
        raise DataNotFoundError(f"no file at {p}.")
    try:  # xarray picks the engine from the file: a lab's netCDF-3 or netCDF-4, either
        ds = xr.open_dataset(p).load()
    except (ValueError, OSError) as err:
        raise DataFormatError(f"{p} is not a readable netCDF file ({err}).") from err
    for name in (stimuli, responses):
        if name not in ds:
            raise DataFormatError(f"{p} has no variable {name!r}; it has {list(ds.data_vars)}.")
    R = ds[responses]
    want = (
        ("presentation", "repetition", "neuroid")
        if "repetition" in R.dims
        else (
            "presentation",
            "neuroid",
        )
    )
    if set(R.dims) != set(want):
        raise DataFormatError(
            f"{p}: {responses!r} has dims {R.dims}; expected (presentation, neuroid) or "
            "(presentation, repetition, neuroid)."
        )
    S = ds[stimuli]
    if S.dims[:1] != ("presentation",) and "presentation" not in S.dims:
        raise DataFormatError(f"{p}: {stimuli!r} has dims {S.dims}; expected a presentation dim.")
    S = S.transpose("presentation", ...)
    X = _stimuli_2d(np.asarray(S.values, dtype=np.float64))
    if S.ndim == 2:
        other = S.dims[1]
        names = tuple(str(v) for v in S[other].values) if other in S.coords else None
    else:
        names = (stimuli,)
    names = names or tuple(f"stimulus_{i}" for i in range(X.shape[1]))
    units = R["neuroid"].values if "neuroid" in R.coords else np.arange(R.sizes["neuroid"])
    values = np.asarray(R.transpose(*want).values, dtype=np.float64)
    return Recording(X, values, names, np.asarray(units), source=str(p))


def from_assembly(
    assembly: Any, stimulus: str | Sequence[str], *, time_bin: Any = None
) -> Recording:
    """A Recording from a Brain-Score-style xarray assembly.

    Parameters
    ----------
    assembly : xarray.DataArray
        Dims ``presentation × neuroid`` (and optionally ``time_bin``); the ``presentation``
        dim carries the stimulus parameters as coordinates (``orientation``, ...) and
        optionally a ``repetition`` coordinate. Presentations with equal stimulus
        parameters are grouped into trials, ``(conditions, T, n)``, when every condition has
        the same number of them (else they stay rows).
    stimulus : str or sequence of str
        The coordinates along ``presentation`` that are the stimulus parameters.
    time_bin : optional
        The ``time_bin`` value to take (by label) when the assembly has that dim; required
        then. For geometry in every bin, with a ``time_bin`` dim in the output, use
        :func:`geometry_per_time_bin`.

    Returns
    -------
    Recording
        ``stimulus_names`` the parameter names, ``unit_ids`` the ``neuroid`` coordinate's
        ``neuroid_id`` (or its values, or positions).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> a = xr.DataArray(np.ones((6, 2)), dims=("presentation", "neuroid"),
    ...     coords={"orientation": ("presentation", [0.0, 1.0, 2.0] * 2),
    ...             "repetition": ("presentation", [0, 0, 0, 1, 1, 1])})
    >>> rec = from_assembly(a, "orientation")
    >>> rec.responses.shape, rec.stimulus_names
    ((3, 2, 2), ('orientation',))
    """
    names = (stimulus,) if isinstance(stimulus, str) else tuple(stimulus)
    dims = getattr(assembly, "dims", None)
    if dims is None or "presentation" not in dims or "neuroid" not in dims:
        raise DataFormatError(
            f"an assembly needs an xarray DataArray with dims presentation × neuroid; got "
            f"{'dims ' + str(dims) if dims is not None else type(assembly).__name__}."
        )
    if "time_bin" in dims:
        if time_bin is None:
            bins = assembly["time_bin"].values.tolist() if "time_bin" in assembly.coords else []
            raise ParameterError(
                f"the assembly has a time_bin dim ({assembly.sizes['time_bin']} bins {bins}); "
                "pass time_bin= to take one (loop over the bins for geometry per bin)."
            )
        assembly = assembly.sel(time_bin=time_bin)
    extra = [d for d in assembly.dims if d not in ("presentation", "neuroid")]
    if extra:
        raise DataFormatError(
            f"the assembly has dims {assembly.dims}; expected presentation × neuroid "
            "(and time_bin). Select the other dims first."
        )
    missing = [n for n in names if n not in assembly.coords]
    if missing:
        raise DataFormatError(
            f"the assembly has no stimulus coordinate {missing[0]!r}; its coordinates are "
            f"{sorted(str(c) for c in assembly.coords)}."
        )
    X = np.stack([_numeric(assembly[n].values, n, Path("assembly")) for n in names], axis=1)
    R = np.asarray(assembly.transpose("presentation", "neuroid").values, dtype=np.float64)
    if "neuroid_id" in assembly.coords:
        ids = np.asarray(assembly["neuroid_id"].values)
    elif "neuroid" in assembly.coords:
        ids = np.asarray(assembly["neuroid"].values)
    else:
        ids = np.arange(R.shape[1])
    _, counts = np.unique(X, axis=0, return_counts=True)
    if counts.max() > 1 and counts.min() == counts.max():
        X, R, _ = _group(X, R, Path("assembly"))
    return Recording(X, R, names, ids, source="assembly")


def geometry_per_time_bin(
    assembly: Any,
    stimulus: str | Sequence[str],
    where: Any,
    *,
    map_params: dict[str, Any] | None = None,
    **geometry_params: Any,
) -> Any:
    """Geometry of a Brain-Score-style assembly in each of its time bins, one Dataset.

    Each bin is read as :func:`from_assembly` reads one (``assembly.isel(time_bin=i)``),
    turned into a :class:`~neurogeom.SampledResponseMap` (:meth:`Recording.response_map`,
    with ``map_params``; the estimator's data-chosen settings are chosen per bin) and
    measured by :func:`~neurogeom.geometry` on ``where``; the Datasets are stacked along a
    new ``time_bin`` dim (:func:`~neurogeom.dataset.stack`).

    Parameters
    ----------
    assembly : xarray.DataArray
        Dims ``presentation × neuroid × time_bin`` (any order), as for
        :func:`from_assembly`.
    stimulus : str or sequence of str
        The stimulus-parameter coordinates along ``presentation``.
    where : Slice or array
        Query stimuli, as for :func:`~neurogeom.geometry` (the same in every bin).
    map_params : dict, optional
        Keyword arguments of :class:`~neurogeom.SampledResponseMap` (``estimator``,
        ``estimator_params``, ``noise``, ``n_bootstrap``, ...).
    **geometry_params
        Keyword arguments of :func:`~neurogeom.geometry` (``level``, ``space``, ...).

    Returns
    -------
    xarray.Dataset
        Every variable of the per-bin Datasets with a leading ``time_bin`` dim, whose
        coordinate is the assembly's ``time_bin`` labels (``"start-end"`` strings for
        Brain-Score's (start, end) pairs, with ``time_bin_start`` / ``time_bin_end``
        coordinates when the assembly has them). Attributes that differ between bins (the
        chosen bandwidths) list every bin's value; ``config`` records the per-bin
        estimation settings under ``estimation_per_time_bin``.

    Examples
    --------
    >>> import numpy as np, xarray as xr, neurogeom as ng
    >>> from neurogeom import simulate
    >>> pop = simulate.VonMisesRing(16, amplitude=4.0, baseline=0.5)
    >>> theta = np.tile(np.arange(24) * 2 * np.pi / 24, 4)  # 24 directions × 4 repeats
    >>> gains = [1.0, 2.0]                                  # the second bin twice the rate
    >>> R = np.stack([g * pop.mean(theta[:, None]) for g in gains], -1)
    >>> a = xr.DataArray(R, dims=("presentation", "neuroid", "time_bin"),
    ...     coords={"direction": ("presentation", theta), "time_bin": ["early", "late"]})
    >>> ds = ng.geometry_per_time_bin(a, "direction", ng.Points(np.array([[1.0]])),
    ...     map_params={"estimator_params": {"period": 2 * np.pi, "bandwidth": 0.3},
    ...                 "correction": None})
    >>> ds.log_volume_element.dims, ds.time_bin.values.tolist()
    (('time_bin', 'point'), ['early', 'late'])
    >>> g = ds.metric.values[:, 0, 0, 0]
    >>> bool(np.isclose(g[1] / g[0], 4.0))          # metric ∝ gain²
    True
    """
    from ..dataset import config_of, stack, stamp_provenance
    from ..measure import geometry

    dims = getattr(assembly, "dims", None)
    if dims is None or "time_bin" not in dims:
        raise DataFormatError(
            f"geometry_per_time_bin needs an xarray DataArray with a time_bin dim; got "
            f"{'dims ' + str(dims) if dims is not None else type(assembly).__name__}. For "
            "an assembly without time bins use from_assembly(...).response_map()."
        )
    n = int(assembly.sizes["time_bin"])
    labels, extra = _time_bin_labels(assembly)
    datasets = []
    for i in range(n):
        rec = from_assembly(assembly.isel(time_bin=i, drop=True), stimulus)
        rm = rec.response_map(**(map_params or {}))
        datasets.append(geometry(rm, where, **geometry_params))
    out = stack(datasets, "time_bin", labels, long_name="time bin")
    for key in datasets[0].attrs:
        if key == "config":
            continue
        values = [str(ds.attrs.get(key, "")) for ds in datasets]
        if any(v != values[0] for v in values):
            out.attrs[key] = "; ".join(f"time_bin {b}: {v}" for b, v in zip(labels, values))
    configs = [config_of(ds) for ds in datasets]
    if configs[0]:
        config = dict(configs[0])
        config.pop("estimation", None)
        config["estimation_per_time_bin"] = {
            str(b): c.get("estimation") for b, c in zip(labels, configs)
        }
        out = stamp_provenance(out, config)
    for name, coord in extra.items():
        out = out.assign_coords({name: ("time_bin", coord)})
    return out


def _time_bin_labels(assembly: Any) -> tuple[list[Any], dict[str, np.ndarray]]:
    """Coordinate values for the ``time_bin`` dim, and start/end coordinates if present."""
    n = int(assembly.sizes["time_bin"])
    extra: dict[str, np.ndarray] = {}
    for name in ("time_bin_start", "time_bin_end"):
        if name in assembly.coords and assembly[name].dims == ("time_bin",):
            extra[name] = np.asarray(assembly[name].values)
    if "time_bin" not in assembly.coords:
        return list(range(n)), extra
    values = assembly["time_bin"].values
    if values.dtype == object and len(values) and isinstance(values[0], tuple):
        return ["-".join(str(v) for v in t) for t in values], extra
    return values.tolist(), extra
