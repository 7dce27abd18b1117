"""Shared machinery of the experiments: seeded training with measured snapshots, run folders.

An experiment trains a model with :func:`neurogeom.train.train_classifier`, measures each
snapshot with a function that returns a geometry Dataset, stacks the snapshots along
``epoch`` and records every setting in the Dataset's ``config`` attribute.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn

from .._progress import progress
from ..dataset import add_variables, register_variables, stack, stamp_provenance
from ..errors import ConfigError, ParameterError
from ..train import TrainConfig, train_classifier

__all__ = [
    "TrainedRun",
    "check_netcdf_engine",
    "new_run_folder",
    "progress",
    "publish",
    "record_config",
    "run_folder_path",
    "stage_epochs",
    "staged",
    "train_and_measure",
]


#: The Dataset variables every experiment writes (the core's table has only core variables).
register_variables(
    {
        "loss": ((), "mean training cross-entropy of the epoch", "nat"),
        "accuracy": ((), "training accuracy", "1"),
        "spearman_entropy": (
            (),
            "Spearman correlation of log volume element with prediction entropy over the slice",
            "1",
        ),
    }
)


def stage_epochs(epochs: int, stages: Sequence[str] = ("start", "middle", "end")) -> list[int]:
    """Epochs of the named stages of a run of ``epochs`` epochs.

    ``start`` is 0 (before training), ``middle`` is ``epochs // 2``, ``end`` is ``epochs``.

    Examples
    --------
    >>> stage_epochs(300)
    [0, 150, 300]
    """
    where = {"start": 0, "middle": epochs // 2, "end": epochs}
    unknown = [s for s in stages if s not in where]
    if unknown:
        raise ConfigError(
            f"setting 'stages' must hold 'start', 'middle' or 'end'; got unknown stages {unknown}."
        )
    out = [where[s] for s in stages]
    if len(set(out)) != len(out):
        raise ConfigError(
            f"setting 'stages' {list(stages)} fall on the same epoch with epochs={epochs}; "
            "use more epochs or fewer stages."
        )
    return out


class TrainedRun:
    """Result of :func:`train_and_measure`.

    Attributes
    ----------
    dataset : xarray.Dataset
        The snapshots' measurements stacked along ``epoch``, plus ``loss`` and ``accuracy``
        per training epoch (dimension ``train_epoch``).
    model : nn.Module
        The trained model (final state).
    losses : list of float
    """

    def __init__(self, dataset: xr.Dataset, model: nn.Module, losses: list[float]) -> None:
        self.dataset = dataset
        self.model = model
        self.losses = losses


def _accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        dtype = next(model.parameters()).dtype
        return float((model(X.to(dtype)).argmax(dim=1) == y).double().mean())


def train_and_measure(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    train: TrainConfig,
    snapshots: Sequence[int],
    measure: Callable[[nn.Module], xr.Dataset],
    *,
    progress: bool | str | None = False,
    desc: str = "training",
) -> TrainedRun:
    """Train ``model`` and measure it at the epochs in ``snapshots``.

    Parameters
    ----------
    model : nn.Module
        Classifier (logits out); trained in place.
    X : ndarray, shape (N, *stimulus_shape)
    y : ndarray of int, shape (N,)
    train : TrainConfig
        Optimiser settings and the seed of the batch order (the caller seeds the model's
        initialisation).
    snapshots : sequence of int
        Epochs to measure; 0 is before training.
    measure : callable
        Receives a frozen copy of the model (eval mode) and returns a geometry Dataset.
    progress : bool, str or None
        Progress bar over epochs: True, False (default), None (only when stderr is a
        terminal) or a label (always shown), as in :func:`~neurogeom.train.train_classifier`.
    desc : str
        Label of the bar.

    Returns
    -------
    TrainedRun

    Examples
    --------
    >>> import neurogeom as ng
    >>> from neurogeom.models import ShallowNet
    >>> from neurogeom.data import sinusoid_task
    >>> _ = torch.manual_seed(0)
    >>> X, y = sinusoid_task(50)
    >>> net = ShallowNet(2, 4).double()
    >>> grid = ng.Grid([(-1, 1), (-1, 1)], resolution=3)
    >>> meas = lambda m: ng.geometry(ng.TorchResponseMap(m, "hidden0"), grid)
    >>> run = train_and_measure(net, X, y, TrainConfig(epochs=2), [0, 2], meas)
    >>> run.dataset.log_volume_element.dims
    ('epoch', 'u', 'v')
    """
    snaps = sorted({int(e) for e in snapshots})
    if not snaps:
        raise ParameterError("give at least one snapshot epoch.")
    dtype = next(model.parameters()).dtype
    Xt = torch.as_tensor(np.asarray(X), dtype=dtype)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    measured: dict[int, xr.Dataset] = {}

    def on_snapshot(epoch: int, current: nn.Module) -> None:
        frozen = copy.deepcopy(current).eval()
        for p in frozen.parameters():
            p.requires_grad_(False)
        ds = measure(frozen)
        measured[epoch] = add_variables(ds, {"accuracy": ((), _accuracy(frozen, Xt, yt))})

    losses = train_classifier(
        model,
        X,
        y,
        train,
        snapshot_epochs=snaps,
        on_snapshot=on_snapshot,
        progress=progress,
        desc=desc,
    )
    ds = stack(
        [measured[e] for e in snaps], "epoch", snaps, long_name="training epoch of the snapshot"
    )
    ds = add_variables(
        ds,
        {"loss": (("train_epoch",), np.asarray(losses, dtype=np.float64))},
        coords={
            "train_epoch": (
                ("train_epoch",),
                np.arange(1, len(losses) + 1),
                {"long_name": "training epoch"},
            )
        },
    )
    return TrainedRun(ds, model, losses)


def record_config(
    ds: xr.Dataset, config: dict[str, Any], *, experiment: str, seconds: float | None = None
) -> xr.Dataset:
    """Set ``ds.attrs["config"]`` to the JSON of every setting of the run.

    Adds ``experiment``, ``neurogeom_version``, the torch and Python versions and, when
    given, the wall time, through :func:`neurogeom.dataset.stamp_provenance`. Returns a
    shallow copy.

    Examples
    --------
    >>> import json
    >>> ds = record_config(xr.Dataset(), {"seed": 1}, experiment="toy")
    >>> json.loads(ds.attrs["config"])["experiment"], ds.attrs["experiment"]
    ('toy', 'toy')
    """
    full = {"experiment": experiment, **config}
    if seconds is not None:
        full["wall_time_s"] = round(float(seconds), 2)
    out = stamp_provenance(ds, full, versions=True, experiment=experiment)
    out.attrs.pop("space", None)
    return out


def run_folder_path(out: str | Path, experiment: str) -> Path:
    """A free path ``out/<experiment>-<UTC time>`` (suffixed ``-1``, ``-2`` … if taken).

    Examples
    --------
    >>> import tempfile
    >>> run_folder_path(tempfile.mkdtemp(), "toy").name.startswith("toy-")
    True
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = Path(out).expanduser() / f"{experiment}-{stamp}"
    folder, i = base, 1
    while folder.exists():
        folder, i = base.with_name(f"{base.name}-{i}"), i + 1
    return folder


def new_run_folder(out: str | Path, experiment: str) -> Path:
    """Create and return ``out/<experiment>-<UTC time>`` (suffixed if it exists).

    Examples
    --------
    >>> import tempfile
    >>> new_run_folder(tempfile.mkdtemp(), "toy").name.startswith("toy-")
    True
    """
    folder = run_folder_path(out, experiment)
    folder.mkdir(parents=True)
    return folder


def check_netcdf_engine() -> str:
    """The netCDF engine :func:`neurogeom.save` will use; raises before any work if none.

    Raises
    ------
    ConfigError
        Neither netCDF4 nor h5netcdf is installed.

    Examples
    --------
    >>> check_netcdf_engine() in ("netcdf4", "h5netcdf")
    True
    """
    from ..dataset import netcdf_engine

    try:
        return netcdf_engine()
    except ImportError as err:
        raise ConfigError(f"cannot write the results: {err}") from None


def _folder_mode() -> int:
    """The permissions ``mkdir`` gives a new folder under the current umask."""
    try:  # Linux states it; reading it does not change it (os.umask would, briefly)
        with open("/proc/self/status") as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o777 & ~umask


def _missing_ancestors(folder: Path) -> list[Path]:
    """``folder`` and its parents that do not exist yet, deepest first."""
    missing = []
    for p in (folder, *folder.parents):
        if p.exists():
            break
        missing.append(p)
    return missing


@contextmanager
def staged(out: str | Path, name: str, *, target: str | Path | None = None) -> Iterator[Path]:
    """A hidden staging folder ``out/.<name>-*.partial`` for results that appear only whole.

    Entering checks up front that ``out`` (created if missing) and, when given, an existing
    ``target`` are writable folders. Write everything into the staging folder, then move it
    into place with :func:`publish`. If the block raises, the staging folder and any folders
    the call created are removed, so a failed run leaves nothing behind.

    Parameters
    ----------
    out : str or Path
        Folder to hold the staging folder (the target's parent).
    name : str
        Stem of the staging folder's name.
    target : str or Path, optional
        Where the results will go, checked as well when it exists.

    Yields
    ------
    Path
        The staging folder.

    Raises
    ------
    ConfigError
        ``out`` or ``target`` is not a writable folder (the message names it).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with staged(root, "toy") as tmp:
    ...     _ = (tmp / "claims.txt").write_text("ok")
    ...     final = publish(tmp, root / "toy-1")
    >>> sorted(p.name for p in root.iterdir()), (final / "claims.txt").read_text()
    (['toy-1'], 'ok')
    """
    parent = Path(out).expanduser()
    for folder in (parent, Path(target).expanduser() if target is not None else None):
        if folder is not None and folder.exists() and not folder.is_dir():
            raise ConfigError(f"output folder {str(folder)!r} exists and is not a folder.")
    created = _missing_ancestors(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", suffix=".partial", dir=parent))
        staging.chmod(_folder_mode())  # mkdtemp makes 0700; a run folder is as mkdir makes it
    except OSError as err:
        _remove_empty(created)
        raise ConfigError(
            f"cannot write into the output folder {str(parent)!r}: {err.strerror or err}."
        ) from None
    if target is not None and Path(target).is_dir() and not os.access(target, os.W_OK):
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(f"cannot write into the output folder {str(target)!r}.")
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        raise
    if staging.exists():  # never published: nothing half-done stays
        shutil.rmtree(staging, ignore_errors=True)


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            break


def publish(staging: Path, target: str | Path) -> Path:
    """Move a finished staging folder to ``target``; returns ``target``.

    A missing ``target`` is the staging folder renamed (one atomic step); into an existing
    folder each file is moved, replacing files of the same name.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "tmp").mkdir(); _ = (root / "tmp" / "a.txt").write_text("1")
    >>> publish(root / "tmp", root / "run").name, (root / "run" / "a.txt").exists()
    ('run', True)
    """
    target = Path(target).expanduser()
    if not target.exists():
        staging.rename(target)
        return target
    for item in staging.iterdir():
        item.replace(target / item.name)
    staging.rmdir()
    return target
