"""The one place that builds xarray Datasets of geometry, and reads and writes them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._files import as_path, write_atomically
from ._version import __version__
from .errors import (
    DataFormatError,
    DataNotFoundError,
    InputTypeError,
    MissingDependencyError,
    ParameterError,
    VariableError,
)
from .slices import Slice

__all__ = [
    "VARIABLES",
    "add_variables",
    "build_dataset",
    "config_of",
    "load",
    "netcdf_engine",
    "register_variables",
    "save",
    "software_versions",
    "stack",
    "stamp_provenance",
    "variable_attrs",
    "with_training_data",
]

METRIC_UNITS = "response_unit**2 / stimulus_unit**2"

#: name -> (extra dims after the point dims, long_name, units): every variable a Dataset of
#: this package may hold. Read it freely; add to it with :func:`register_variables`.
VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {}

_TAKEN = frozenset(dir(xr.Dataset))  # a variable or dim named so would hide an xarray attribute


def register_variables(variables: Mapping[str, tuple[Sequence[str], str, str]]) -> None:
    """Register Dataset variables: their extra dims, ``long_name`` and ``units``.

    The core registers its own variables; any other producer of Datasets (the experiments,
    a user's analysis) registers the variables it writes, once, when its module is imported.
    :func:`build_dataset` and :func:`add_variables` then fill in each variable's attributes
    from the registry.

    Parameters
    ----------
    variables : mapping name -> (dims, long_name, units)
        ``dims`` are the variable's dims after the point dims (often ``()``), ``long_name``
        says what it is, ``units`` its units (``"1"``: dimensionless).

    Raises
    ------
    VariableError
        A name is registered already with a different entry (registering the same entry
        again does nothing), or a name or a dim would shadow an ``xarray.Dataset``
        attribute (``ds.rank`` must be the variable, not the method).
    ParameterError
        An entry is not ``(tuple of str, str, str)``.

    Examples
    --------
    >>> register_variables({"firing_rate_gain": ((), "gain of the tuning curves", "1")})
    >>> add_variables(xr.Dataset(), {"firing_rate_gain": ((), 2.0)}).firing_rate_gain.attrs
    {'long_name': 'gain of the tuning curves', 'units': '1'}
    >>> _ = VARIABLES.pop("firing_rate_gain")  # (this example's entry; not a real variable)
    >>> register_variables({"rank": ((), "a rank", "1")})
    Traceback (most recent call last):
    ...
    neurogeom.errors.VariableError: variable 'rank' would shadow the xarray.Dataset attribute of that name; choose another name.
    """
    checked: dict[str, tuple[tuple[str, ...], str, str]] = {}
    for name, entry in variables.items():
        try:
            dims, long_name, units = entry
            ok = isinstance(name, str) and all(
                isinstance(v, str) for v in (*dims, long_name, units)
            )
        except (TypeError, ValueError):
            ok = False
        if not ok or isinstance(dims, str):
            raise ParameterError(
                f"variable {name!r}: expected (dims as a tuple of str, long_name, units); "
                f"got {entry!r}."
            )
        spec = (tuple(dims), long_name, units)
        for what, taken in (("variable", name), *(("dim", d) for d in spec[0])):
            if taken in _TAKEN:
                raise VariableError(
                    f"{what} {taken!r} would shadow the xarray.Dataset attribute of that "
                    "name; choose another name."
                )
        if VARIABLES.get(name, spec) != spec:
            raise VariableError(
                f"variable {name!r} is registered already as {VARIABLES[name]}; not "
                f"re-registering it as {spec}."
            )
        checked[name] = spec
    VARIABLES.update(checked)


register_variables(
    {
        "metric": (("coord_i", "coord_j"), "metric tensor g", METRIC_UNITS),
        "log_volume_element": ((), "natural log of the volume element sqrt(det g)", "1"),
        "eigenvalues": (("eigen",), "eigenvalues of the metric, largest first", METRIC_UNITS),
        "metric_rank": ((), "number of metric eigenvalues in the volume element", "1"),
        "prediction": ((), "predicted class (argmax of the classifier)", "1"),
        "entropy": ((), "entropy of the predicted class distribution, log base 10", "hartley"),
        "probability": (("class",), "predicted class probability", "1"),
        "training_stimuli": (
            ("sample", "stimulus_0"),
            "stimuli the model was trained on",
            "stimulus_unit",
        ),
        "training_labels": (("sample",), "class labels of the training stimuli", "1"),
        # estimates from sampled data (SampledResponseMap): intervals and per-point flags
        "log_volume_element_ci_low": ((), "lower bootstrap bound of the log volume element", "1"),
        "log_volume_element_ci_high": ((), "upper bootstrap bound of the log volume element", "1"),
        "eigenvalues_ci_low": (
            ("eigen",),
            "lower bootstrap bounds of the eigenvalues",
            METRIC_UNITS,
        ),
        "eigenvalues_ci_high": (
            ("eigen",),
            "upper bootstrap bounds of the eigenvalues",
            METRIC_UNITS,
        ),
        "log_volume_element_bootstrap": (
            ("bootstrap",),
            "bootstrap resamples of the log volume element",
            "1",
        ),
        "log_volume_element_unbounded": (
            (),
            "lower bound is -inf: resamples were not positive definite",
            "1",
        ),
        "indefinite_fraction": (
            (),
            "fraction of bootstrap metrics that are not positive definite",
            "1",
        ),
        "indefinite": ((), "estimated metric is not positive definite (flag)", "1"),
        "outside": ((), "point outside the sampled stimulus region (flag)", "1"),
        "sparse": ((), "too few effective samples under the estimator's kernel (flag)", "1"),
        "effective_samples": ((), "effective number of samples under the estimator's kernel", "1"),
        "excluded_neurons": (
            (),
            "neurons left out of the Poisson Fisher sum (rate <= min_rate)",
            "1",
        ),
        "ricci_scalar": (
            (),
            "Ricci scalar R of the metric (2/a**2 on a sphere of radius a)",
            "1 / response_unit**2",
        ),
        "ricci_singular": (
            (),
            "metric singular here (rank < coordinates): Ricci scalar is NaN",
            "1",
        ),
        # extrinsic curvature (neurogeom.curvature): how the response manifold bends
        "mean_curvature_norm": (
            (),
            "norm of the mean-curvature vector H = trace(II)/k (1/a on a sphere of radius a)",
            "1 / response_unit",
        ),
        "principal_curvatures": (
            ("principal",),
            "principal curvatures along the mean-curvature normal, largest first",
            "1 / response_unit",
        ),
        "principal_undefined": (
            (),
            "no mean-curvature normal here (or not identifiable): principal curvatures NaN",
            "1",
        ),
        "ricci_scalar_ci_low": (
            (),
            "lower bootstrap bound of the Ricci scalar",
            "1 / response_unit**2",
        ),
        "ricci_scalar_ci_high": (
            (),
            "upper bootstrap bound of the Ricci scalar",
            "1 / response_unit**2",
        ),
        "mean_curvature_norm_ci_low": (
            (),
            "lower bootstrap bound of the mean-curvature norm",
            "1 / response_unit",
        ),
        "mean_curvature_norm_ci_high": (
            (),
            "upper bootstrap bound of the mean-curvature norm",
            "1 / response_unit",
        ),
        "principal_curvatures_ci_low": (
            ("principal",),
            "lower bootstrap bounds of the principal curvatures",
            "1 / response_unit",
        ),
        "principal_curvatures_ci_high": (
            ("principal",),
            "upper bootstrap bounds of the principal curvatures",
            "1 / response_unit",
        ),
        "curvature_unidentified_fraction": (
            (),
            "fraction of bootstrap resamples whose principal curvatures are undefined",
            "1",
        ),
        # comparisons of two geometry fields (neurogeom.comparison)
        "compared": ((), "point used in the comparison (finite and unflagged in both)", "1"),
        "log_volume_difference": ((), "log volume element of b minus that of a", "1"),
        "affine_invariant_distance": ((), "affine-invariant Riemannian distance of metrics", "1"),
        "log_euclidean_distance": ((), "log-Euclidean distance of metrics", "1"),
        "direction_agreement": ((), "overlap of top principal subspaces, |U_a^T U_b|_F^2 / r", "1"),
        "n_compared": ((), "number of points compared", "1"),
    }
)
_STATISTICS = {
    "pearson_r": "Pearson correlation of the log volume elements",
    "spearman_r": "Spearman rank correlation of the log volume elements",
    "log_volume_difference_mean": "mean log volume difference (b minus a)",
    "affine_invariant_distance_mean": "mean affine-invariant distance of metrics",
    "log_euclidean_distance_mean": "mean log-Euclidean distance of metrics",
    "direction_agreement_mean": "mean overlap of top principal subspaces",
}
register_variables(
    {
        **{name: ((), long, "1") for name, long in _STATISTICS.items()},
        **{
            f"{name}_ci_low": ((), f"lower bootstrap bound: {long}", "1")
            for name, long in _STATISTICS.items()
        },
        **{
            f"{name}_ci_high": ((), f"upper bootstrap bound: {long}", "1")
            for name, long in _STATISTICS.items()
        },
        **{
            f"{name}_p_value": ((), f"permutation p-value of the {name} correlation", "1")
            for name in ("pearson", "spearman")
        },
    }
)


def variable_attrs(name: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The attributes of a registered variable: its ``long_name`` and ``units``, and ``extra``.

    Parameters
    ----------
    name : str
        A variable in :data:`VARIABLES` (see :func:`register_variables`).
    extra : mapping, optional
        More attributes; they override the registered two.

    Returns
    -------
    dict
        ``{"long_name": ..., "units": ..., **extra}``.

    Raises
    ------
    VariableError
        ``name`` is not registered.

    Examples
    --------
    >>> variable_attrs("log_volume_element", {"space": "slice"})["space"]
    'slice'
    """
    try:
        _, long_name, units = VARIABLES[name]
    except KeyError:
        raise VariableError(
            f"{name!r} is not a registered variable; register it with "
            "neurogeom.dataset.register_variables."
        ) from None
    return {"long_name": long_name, "units": units, **(extra or {})}


def build_dataset(
    where: Slice,
    fields: Mapping[str, np.ndarray],
    *,
    layers: list[str] | None = None,
    attrs: Mapping[str, Mapping[str, Any]] | None = None,
    config: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Assemble per-point fields on a slice into a labelled Dataset.

    Parameters
    ----------
    where : Slice
        Gives the point dims (``t``; ``u``, ``v``; or ``point``), their coordinates, and
        the anchor stimuli.
    fields : mapping of name to array
        Each registered in :data:`VARIABLES`; shape ``(L, m, *extra)`` when ``layers`` is
        given and the field is per layer, else ``(m, *extra)``. ``m`` is ``len(where)``.
    layers : list of str, optional
        Names of the ``layer`` dimension; fields whose first axis has this length and
        whose second axis has length ``m`` are per layer.
    attrs : mapping, optional
        Extra attributes per variable (merged over ``long_name`` and ``units``).
    config : mapping, optional
        Settings that produced the data; stored as the JSON string attribute ``config``
        (by :func:`stamp_provenance`).

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> from neurogeom.slices import Line
    >>> line = Line([0.0, 0.0], [1.0, 0.0], steps=3)
    >>> ds = build_dataset(line, {"log_volume_element": np.zeros(3)})
    >>> ds.log_volume_element.dims, ds.attrs["neurogeom_version"] == __import__("neurogeom").__version__
    (('t',), True)
    """
    m, shape = len(where), where.shape
    data_vars = {}
    for name, value in fields.items():
        extra_dims = VARIABLES[name][0] if name in VARIABLES else ()
        arr = value if hasattr(value, "dask") else np.asarray(value)  # keep dask lazy
        per_layer = layers is not None and arr.ndim >= 2 and arr.shape[:2] == (len(layers), m)
        lead: tuple[str, ...] = ("layer",) if per_layer else ()
        point_axis = 1 if per_layer else 0
        if arr.shape[point_axis] != m:
            raise ParameterError(f"field {name!r} has shape {arr.shape}; expected {m} points.")
        new_shape = arr.shape[:point_axis] + shape + arr.shape[point_axis + 1 :]
        dims = lead + where.dims + extra_dims
        data_vars[name] = (
            dims,
            arr.reshape(new_shape),
            variable_attrs(name, (attrs or {}).get(name)),
        )
    coords: dict[str, Any] = {
        d: (d, where.coords[d], dict(where.coord_attrs.get(d, {}))) for d in where.dims
    }
    for cname, (cdims, cval) in where.extra_coords.items():
        coords[cname] = (cdims, cval)
    if layers is not None:
        coords["layer"] = ("layer", np.asarray(layers, dtype=str))
    ds = xr.Dataset(data_vars, coords=coords)
    if where.anchors is not None:
        stim_dims = tuple(f"stimulus_{i}" for i in range(where.anchors.ndim - 1))
        ds["anchors"] = (("anchor", *stim_dims), where.anchors)
        ds["anchors"].attrs = {
            "long_name": f"stimuli that define the {where.kind}",
            "units": "stimulus_unit",
        }
    return stamp_provenance(ds, config, slice=where.kind)


def software_versions() -> dict[str, str]:
    """The versions of neurogeom, torch and Python running now (for a ``config`` record).

    Examples
    --------
    >>> sorted(software_versions())
    ['neurogeom_version', 'python_version', 'torch_version']
    """
    import platform

    import torch

    return {
        "neurogeom_version": __version__,
        "torch_version": str(torch.__version__),
        "python_version": platform.python_version(),
    }


def stamp_provenance(
    ds: xr.Dataset,
    config: Mapping[str, Any] | None = None,
    *,
    versions: bool = False,
    **attrs: str,
) -> xr.Dataset:
    """Record where a Dataset came from: the one place its provenance attributes are written.

    Every Dataset the package makes (``ng.geometry``, ``ng.compare``, lazy geometry, the
    experiments, the demo) is stamped here, so each has the same two
    attributes: ``neurogeom_version`` and ``config``, the JSON (sorted keys; values JSON
    cannot hold are written as strings) of the settings that produced it, which
    :func:`config_of` reads back.

    Parameters
    ----------
    ds : xarray.Dataset
    config : mapping, optional
        The settings that produced ``ds`` (replaces any recorded before).
    versions : bool
        Also record :func:`software_versions` in ``config`` (runs that train models).
    **attrs : str
        Further attributes to set (e.g. ``slice``, ``experiment``), written before
        ``config``.

    Returns
    -------
    xarray.Dataset
        A shallow copy of ``ds`` (the data are shared) with the attributes set.

    Examples
    --------
    >>> ds = stamp_provenance(xr.Dataset(), {"seed": 3}, experiment="demo")
    >>> config_of(ds), ds.attrs["experiment"]
    ({'seed': 3}, 'demo')
    >>> ds.attrs["neurogeom_version"] == __import__("neurogeom").__version__
    True
    >>> sorted(config_of(stamp_provenance(ds, {"seed": 3}, versions=True)))
    ['neurogeom_version', 'python_version', 'seed', 'torch_version']
    """
    record = {**(config or {}), **(software_versions() if versions else {})}
    out = ds.copy(deep=False)
    out.attrs["neurogeom_version"] = __version__
    out.attrs.update(attrs)
    out.attrs["config"] = json.dumps(record, sort_keys=True, default=str)
    return out


def with_training_data(ds: xr.Dataset, X: np.ndarray, y: np.ndarray) -> xr.Dataset:
    """Attach the training set (``training_stimuli``, ``training_labels``) to a Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
    X : ndarray, shape (N, d)
        Vector stimuli.
    y : ndarray of int, shape (N,)

    Returns
    -------
    xarray.Dataset
        A new Dataset with dims ``sample`` and ``stimulus_0`` added.

    Examples
    --------
    >>> ds = with_training_data(xr.Dataset(), np.zeros((3, 2)), np.array([0, 1, 1]))
    >>> ds.training_stimuli.shape
    (3, 2)
    """
    X_, y_ = np.asarray(X), np.asarray(y)
    if X_.ndim != 2 or y_.shape != (len(X_),):
        raise ParameterError(f"expected X (N, d) and y (N,); got {X_.shape} and {y_.shape}.")
    out = ds.copy()
    for name, value in (("training_stimuli", X_), ("training_labels", y_)):
        out[name] = (VARIABLES[name][0], value, variable_attrs(name, None))
    return out


def config_of(ds: xr.Dataset) -> dict[str, Any]:
    """The settings recorded in ``ds.attrs["config"]``, parsed back from JSON.

    Examples
    --------
    >>> config_of(xr.Dataset(attrs={"config": '{"seed": 3}'}))
    {'seed': 3}
    """
    return dict(json.loads(ds.attrs.get("config", "{}")))


def netcdf_engine() -> str:
    """The netCDF-4 engine :func:`save` and :func:`load` use: h5netcdf with h5py, else netCDF4.

    h5netcdf and h5py are core dependencies; netCDF4 (the ``netcdf`` extra) is the fallback.

    Returns
    -------
    str
        ``"h5netcdf"`` or ``"netcdf4"``, an xarray ``engine=``.

    Raises
    ------
    MissingDependencyError
        Neither engine is installed.

    Examples
    --------
    >>> netcdf_engine() in ("h5netcdf", "netcdf4")
    True
    """
    for modules, engine in ((("h5netcdf", "h5py"), "h5netcdf"), (("netCDF4",), "netcdf4")):
        if all(find_spec(module) is not None for module in modules):
            return engine
    raise MissingDependencyError(
        "reading and writing netCDF-4 files needs h5netcdf with h5py (dependencies of "
        "neurogeom) or netCDF4, and neither is installed: pip install h5netcdf h5py (or "
        "'neurogeom[netcdf]')."
    )


def _is_chunked(ds: xr.Dataset) -> bool:
    return any(var.chunks is not None for var in ds.variables.values())


def check_dataset(ds: Any, name: str = "ds") -> xr.Dataset:
    """``ds`` if it is an :class:`xarray.Dataset`, else an InputTypeError naming what it is.

    Examples
    --------
    >>> check_dataset(np.zeros(3))
    Traceback (most recent call last):
    ...
    neurogeom.errors.InputTypeError: ds is a ndarray, not an xarray.Dataset; pass the Dataset...
    """
    if not isinstance(ds, xr.Dataset):
        raise InputTypeError(
            f"{name} is a {type(ds).__name__}, not an xarray.Dataset; pass the Dataset that "
            "ng.geometry (or neurogeom.scale.lazy_geometry, ng.load) returns."
        )
    return ds


def save(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a geometry Dataset to netCDF-4 (``.nc``); reading it back is exact.

    The file is written under a unique temporary name in the target's folder, fsync'ed,
    and renamed onto ``path`` in one step: an existing file is replaced atomically (a
    reader sees the old Dataset or the new one, never a part of either), two processes
    saving to one path leave one of their Datasets whole, and on any failure nothing is
    left behind (the old file, if any, is untouched). A process killed outright may leave
    a ``.<name>.*.tmp`` file, safe to delete.

    Parameters
    ----------
    ds : xarray.Dataset
        Dask-backed variables are computed as the file is written.
    path : str or Path
        Target file; parent folders are created. An existing file is replaced; an
        existing directory is refused.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    FileWriteError
        ``path`` is a directory, a folder on the way is a file or not writable, or the disk
        refused the write (an ``OSError`` too).
    DataFormatError
        A variable or attribute cannot be stored in netCDF (e.g. an object array or a dict
        attribute); the message names it.
    MissingDependencyError
        Neither h5netcdf nor netCDF4 is installed.

    Examples
    --------
    >>> import tempfile, os
    >>> ds = xr.Dataset({"x": ("t", np.arange(3.0))}, attrs={"config": "{}"})
    >>> p = save(ds, os.path.join(tempfile.mkdtemp(), "a.nc"))
    >>> load(p).x.values.tolist()
    [0.0, 1.0, 2.0]
    """
    check_dataset(ds)
    engine = netcdf_engine()

    def write(tmp: Path) -> Callable[[], None] | None:
        if _is_chunked(ds):  # encode first; the dask tasks then run as the file is written
            delayed = ds.to_netcdf(tmp, engine=engine, compute=False)  # type: ignore[call-overload]
            return lambda: delayed.compute()
        ds.to_netcdf(tmp, engine=engine)  # type: ignore[call-overload]
        return None

    return write_atomically(path, write, kind="Dataset")


def load(path: str | Path, *, strict: bool = True) -> xr.Dataset:
    """Read a Dataset written by :func:`save` fully into memory.

    Parameters
    ----------
    path : str or Path
    strict : bool
        Refuse a netCDF file that is not a neurogeom Dataset, i.e. has no ``config``
        attribute holding a JSON object (every Dataset neurogeom builds records its
        settings there). ``strict=False`` reads any netCDF-4 file.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    DataNotFoundError
        No file at ``path`` (a ``FileNotFoundError`` too).
    DataFormatError
        ``path`` is a directory, or not a readable netCDF-4 file (truncated, corrupt, another
        format: the backend's error is chained), or, with ``strict``, not a neurogeom Dataset.
    MissingDependencyError
        Neither h5netcdf nor netCDF4 is installed.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "other.nc")
    >>> xr.Dataset({"x": ("t", [1.0])}).to_netcdf(p, engine="h5netcdf")
    >>> load(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurogeom.errors.DataFormatError: ... not a neurogeom Dataset: ...
    >>> load(p, strict=False).x.values.tolist()
    [1.0]
    """
    p = as_path(path)
    if p.is_dir():
        raise DataFormatError(
            f"{p} is a directory; ng.load reads one netCDF file written by ng.save "
            "(a Zarr store is a directory: open it with neurogeom.scale.load_zarr)."
        )
    if not p.exists():
        raise DataNotFoundError(
            f"no file at {p}; expected a netCDF file written by ng.save. Check the path."
        )
    engine = netcdf_engine()
    try:
        with xr.open_dataset(p, engine=engine) as opened:
            ds = opened.load()
    except Exception as err:
        raise DataFormatError(
            f"could not read {p} as a netCDF-4 file ({type(err).__name__}: {err}); expected "
            "a file written by ng.save. It may be truncated (e.g. copied while being "
            "written) or in another format."
        ) from err
    if strict:
        _check_is_neurogeom(ds, p)
    return ds


def _check_is_neurogeom(ds: xr.Dataset, path: Path) -> None:
    config = ds.attrs.get("config")
    hint = "Pass strict=False to read it anyway (or use xarray.open_dataset)."
    if not isinstance(config, str):
        raise DataFormatError(
            f"{path} is a netCDF file but not a neurogeom Dataset: it has no 'config' "
            "attribute (every Dataset neurogeom builds records its settings there, as JSON). "
            + hint
        )
    try:
        parsed = json.loads(config)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise DataFormatError(
            f"{path} is not a neurogeom Dataset: its 'config' attribute {config[:80]!r} is "
            "not a JSON object of settings. " + hint
        )


def stack(
    datasets: list[xr.Dataset],
    dim: str,
    values: list[Any],
    *,
    long_name: str,
    units: str = "1",
    shared: tuple[str, ...] = ("anchors",),
) -> xr.Dataset:
    """Concatenate Datasets along a new dimension ``dim`` with coordinate ``values``.

    Every variable gains ``dim`` except those in ``shared`` (e.g. the anchor stimuli),
    which must be identical in all Datasets and are kept once. Variable and Dataset attrs
    come from the first Dataset; the new coordinate gets ``long_name`` and ``units``.

    Parameters
    ----------
    datasets : list of xarray.Dataset
        All with the same variables.
    dim : str
        Name of the new dimension (e.g. ``"epoch"``, ``"width"``, ``"seed"``).
    values : list
        One coordinate value per Dataset.
    shared : tuple of str
        Variables that do not vary (kept without ``dim``).

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> a = xr.Dataset({"x": ("t", np.zeros(2))}, attrs={"config": "{}"})
    >>> s = stack([a, a + 1], "epoch", [0, 5], long_name="training epoch")
    >>> s.x.dims, s.epoch.values.tolist(), s.attrs["config"]
    (('epoch', 't'), [0, 5], '{}')
    """
    if len(datasets) != len(values) or not datasets:
        raise ParameterError(
            f"need one {dim} value per Dataset; got {len(values)} for {len(datasets)}."
        )
    names = [sorted(str(v) for v in ds.data_vars) for ds in datasets]
    if any(n != names[0] for n in names):
        raise ParameterError(
            f"Datasets stacked along {dim!r} must have the same variables; got {names}."
        )
    keep = [v for v in shared if v in datasets[0]]
    for v in keep:
        if not all(datasets[0][v].equals(ds[v]) for ds in datasets[1:]):
            raise ParameterError(
                f"variable {v!r} differs between the Datasets; it cannot be shared."
            )
    out = xr.concat(
        [ds.drop_vars(keep) for ds in datasets],
        dim=dim,
        data_vars="all",
        coords="minimal",
        compat="equals",
        join="exact",
        combine_attrs="override",
    )
    coord = (dim, np.asarray(values), {"long_name": long_name, "units": units})
    out = out.assign_coords({dim: coord})
    for v in keep:
        out[v] = datasets[0][v]
    for name in names[0]:
        out[name].attrs = dict(datasets[0][name].attrs)
    return out


def add_variables(
    ds: xr.Dataset,
    variables: Mapping[str, tuple[tuple[str, ...], Any]],
    *,
    coords: Mapping[str, tuple[tuple[str, ...], Any, Mapping[str, Any]]] | None = None,
    attrs: Mapping[str, Mapping[str, Any]] | None = None,
) -> xr.Dataset:
    """A copy of ``ds`` with registered variables (and optional coordinates) added.

    Parameters
    ----------
    ds : xarray.Dataset
    variables : mapping name -> (dims, values)
        Names registered in :data:`VARIABLES` (which supplies ``long_name`` and ``units``).
    coords : mapping name -> (dims, values, attrs), optional
    attrs : mapping name -> dict, optional
        Extra attributes per variable.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> ds = add_variables(xr.Dataset(), {"eigenvalues": (("t", "eigen"), np.ones((3, 2)))})
    >>> ds.eigenvalues.attrs["units"]
    'response_unit**2 / stimulus_unit**2'
    """
    out = ds.copy()
    for cname, (cdims, cval, cattrs) in (coords or {}).items():
        out = out.assign_coords({cname: (cdims, np.asarray(cval), dict(cattrs))})
    for name, (dims, value) in variables.items():
        out[name] = (dims, np.asarray(value), variable_attrs(name, (attrs or {}).get(name)))
    return out
