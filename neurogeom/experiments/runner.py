"""The one runner of the experiments, and its machinery: snapshots, run folders.

An experiment is a description, an :class:`Experiment`: its settings (``defaults`` and
their ``rules``), its ``setting`` (the task and data, the slices and spaces it measures, and
what it records, made once from the settings), its ``model``, its ``sweep`` (the settings
whose values each give one trained model: seeds, widths), how it trains (``train``: in
memory with measured snapshots, :func:`train_snapshots`, or with checkpoints on disk) and
its figures. :func:`run` is the one program that carries any of them out: resolve and
check the settings, make the setting, train and measure one model per cell of the sweep,
stack the cells along the sweep's dims, add what the setting records, and stamp every
setting into the Dataset's ``config`` attribute.
"""

from __future__ import annotations

import copy
import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from .config import Rule, resolve_config

__all__ = [
    "Experiment",
    "Setting",
    "Sweep",
    "TrainedRun",
    "Trainer",
    "check_netcdf_engine",
    "new_run_folder",
    "publish",
    "record_config",
    "run",
    "run_folder_path",
    "stage_epochs",
    "staged",
    "train_and_measure",
    "train_snapshots",
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


@dataclass(frozen=True)
class Sweep:
    """One swept dimension: the Dataset dim, the setting that lists its values, a long name.

    Examples
    --------
    >>> Sweep("seed", "seeds", "seed of initialisation and batch order").setting
    'seeds'
    """

    dim: str
    setting: str
    long_name: str


@dataclass
class Setting:
    """What an experiment fixes before its sweep, made once from its settings.

    Attributes
    ----------
    measure : callable
        A trained model (or checkpoint) -> its geometry Dataset on the experiment's slices.
    training : callable or object
        The training data: ``seed -> (X, y)`` for :func:`train_snapshots`, the image data
        set for the checkpoint trainer.
    snapshots : list of int
        Epochs :func:`train_snapshots` measures (0: before training).
    variables, coords : dict
        Added to the stacked Dataset (``name -> (dims, values)``).
    attrs : dict
        Dataset attributes.
    settings : dict
        Recorded in ``attrs["config"]`` beside the experiment's settings (data source,
        resolved widths, anchor indices, ...).

    Examples
    --------
    >>> Setting(measure=len, training=None).snapshots
    []
    """

    measure: Callable[[Any], xr.Dataset]
    training: Any
    snapshots: list[int] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    coords: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


#: How an experiment trains the model of one cell of its sweep:
#: ``(experiment, settings, setting, cell) -> (Dataset, settings to record)``.
Trainer = Callable[
    ["Experiment", dict[str, Any], Setting, dict[str, Any]], tuple[xr.Dataset, dict[str, Any]]
]


@dataclass(frozen=True)
class Experiment:
    """An experiment of the poster, as a description that :func:`run` carries out.

    Attributes
    ----------
    name, summary : str
        ``neurogeom run <name>``; one line for ``neurogeom run --list``.
    defaults : dict
        Every setting (a config file or ``config=`` may override any of them).
    setting : callable
        ``(settings, data) -> Setting``: the task, slices, spaces and what is recorded.
    figures : callable
        ``Dataset -> {name: Figure}``.
    rows : tuple of str
        Dims of the claim table's rows.
    model : callable, optional
        ``(settings, cell) -> nn.Module``, the untrained model of one cell; ``settings``
        includes what the setting resolved (``Setting.settings``), and the seed is set
        before it is called. The checkpoint trainer builds its own.
    sweep : tuple of Sweep
        The swept dims, outermost first; one model is trained per combination.
    train : callable
        The :data:`Trainer`; default :func:`train_snapshots`.
    rules : mapping, optional
        Setting rules (None: :data:`~neurogeom.experiments.config.RULES`).
    finish : callable, optional
        ``Dataset -> Dataset``, run last (attributes that summarise the whole run).
    """

    name: str
    summary: str
    defaults: dict[str, Any]
    setting: Callable[[dict[str, Any], Any], Setting]
    figures: Callable[[xr.Dataset], dict[str, Any]]
    rows: tuple[str, ...]
    model: Callable[[dict[str, Any], dict[str, Any]], nn.Module] | None = None
    sweep: tuple[Sweep, ...] = ()
    train: Trainer | None = None
    rules: Mapping[str, Rule] | None = None
    finish: Callable[[xr.Dataset], xr.Dataset] | None = None

    def resolve(self, config: dict[str, Any] | None, data: Any = None) -> dict[str, Any]:
        """The full settings: defaults, then ``config``, then ``data`` (checked).

        Raises
        ------
        ConfigError
            An unknown setting or a bad value.
        ParameterError
            ``data`` given to an experiment that generates its data.
        """
        if "data" not in self.defaults and data is not None:
            raise ParameterError(
                f"the {self.name} experiment generates its data; --data does not apply."
            )
        override = {"data": str(data)} if data is not None else None
        return resolve_config(self.defaults, config, override, rules=self.rules)

    def run(self, config: dict[str, Any] | None = None, *, data: Any = None) -> xr.Dataset:
        """:func:`run` of this experiment."""
        return run(self, config, data=data)


def run(
    experiment: Experiment, config: dict[str, Any] | None = None, *, data: Any = None
) -> xr.Dataset:
    """Carry out an experiment: the one program behind every ``run_<name>`` function.

    Parameters
    ----------
    experiment : Experiment
    config : dict, optional
        Overrides of ``experiment.defaults``; unknown keys raise.
    data : str or path, optional
        Overrides the ``data`` setting of experiments that read data.

    Returns
    -------
    xarray.Dataset
        One model's measurements per cell of the sweep, stacked along the sweep's dims,
        with the setting's variables and every setting in ``attrs["config"]``.

    Examples
    --------
    >>> from neurogeom.experiments import EXPERIMENTS
    >>> ds = run(EXPERIMENTS["toy"], {"widths": [3], "epochs": 2, "seeds": [0],
    ...          "grid_resolution": 3, "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'seed': 1, 'width': 1, 'epoch': 3, 'u': 3, 'v': 3}
    """
    cfg = experiment.resolve(config, data)
    start = time.perf_counter()
    setting = experiment.setting(cfg, data)
    train = experiment.train or train_snapshots
    axes = [list(cfg[s.setting]) for s in experiment.sweep]
    cells = list(itertools.product(*axes))
    measured: dict[tuple[Any, ...], xr.Dataset] = {}
    recorded: dict[str, Any] = {}
    for values in progress(cells, total=len(cells), desc=experiment.name, enabled=cfg["progress"]):
        cell = {s.dim: v for s, v in zip(experiment.sweep, values, strict=True)}
        measured[values], more = train(experiment, cfg, setting, cell)
        recorded.update(more)
    ds = _stack_sweep(measured, experiment.sweep, axes, ())
    ds = add_variables(ds, setting.variables, coords=setting.coords)
    ds.attrs.update(setting.attrs)
    if experiment.finish is not None:
        ds = experiment.finish(ds)
    settings = {**cfg, **setting.settings, **recorded}
    return record_config(
        ds, settings, experiment=experiment.name, seconds=time.perf_counter() - start
    )


def _stack_sweep(
    measured: dict[tuple[Any, ...], xr.Dataset],
    sweep: tuple[Sweep, ...],
    axes: list[list[Any]],
    prefix: tuple[Any, ...],
) -> xr.Dataset:
    """The cells below ``prefix``, stacked innermost dim first."""
    level = len(prefix)
    if level == len(sweep):
        return measured[prefix]
    parts = [_stack_sweep(measured, sweep, axes, (*prefix, v)) for v in axes[level]]
    return stack(parts, sweep[level].dim, axes[level], long_name=sweep[level].long_name)


def train_snapshots(
    experiment: Experiment, cfg: dict[str, Any], setting: Setting, cell: dict[str, Any]
) -> tuple[xr.Dataset, dict[str, Any]]:
    """Train one cell's model in memory and measure it at ``setting.snapshots``.

    Seeds torch with ``cell["seed"]``, builds ``experiment.model(cfg, cell)``, trains it on
    ``setting.training(seed)`` with :func:`train_and_measure` (optimiser settings from
    ``cfg``, :meth:`~neurogeom.train.TrainConfig.from_settings`).

    Returns
    -------
    (xarray.Dataset, dict)
        The snapshots stacked along ``epoch``; nothing more to record.
    """
    if experiment.model is None:
        raise ParameterError(f"the {experiment.name} experiment names no model to train.")
    seed = int(cell["seed"])
    X, y = setting.training(seed)
    torch.manual_seed(seed)
    net = experiment.model({**cfg, **setting.settings}, cell)
    label = ", ".join(f"{dim} {value}" for dim, value in reversed(cell.items()))
    run_ = train_and_measure(
        net,
        X,
        y,
        TrainConfig.from_settings(cfg, seed),
        setting.snapshots,
        setting.measure,
        progress=cfg["progress"],
        desc=f"{label}: training",
    )
    return run_.dataset, {}


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
