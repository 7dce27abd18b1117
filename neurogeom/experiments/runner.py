"""Shared machinery of the experiments: seeded training with measured snapshots, run folders.

An experiment trains a model with :func:`neurogeom.train.train_classifier`, measures each
snapshot with a function that returns a geometry Dataset, stacks the snapshots along
``epoch`` and records every setting in the Dataset's ``config`` attribute.
"""

from __future__ import annotations

import copy
import json
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import xarray as xr
from torch import nn

from .._progress import progress
from .._version import __version__
from ..dataset import add_variables, stack
from ..train import TrainConfig, train_classifier

__all__ = [
    "TrainedRun",
    "new_run_folder",
    "progress",
    "record_config",
    "stage_epochs",
    "train_and_measure",
]

T = TypeVar("T")


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
        raise ValueError(f"unknown stages {unknown}; use 'start', 'middle', 'end'.")
    out = [where[s] for s in stages]
    if len(set(out)) != len(out):
        raise ValueError(f"stages {list(stages)} fall on the same epoch with epochs={epochs}.")
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
    progress: bool | str = False,
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
    progress : bool or str
        Progress bar over epochs (tqdm, optional); a string labels it.

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
        raise ValueError("give at least one snapshot epoch.")
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
        model, X, y, train, snapshot_epochs=snaps, on_snapshot=on_snapshot, progress=progress
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
    given, the wall time. Returns a copy.

    Examples
    --------
    >>> ds = record_config(xr.Dataset(), {"seed": 1}, experiment="toy")
    >>> json.loads(ds.attrs["config"])["experiment"], ds.attrs["experiment"]
    ('toy', 'toy')
    """
    full = {
        "experiment": experiment,
        **config,
        "neurogeom_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
    }
    if seconds is not None:
        full["wall_time_s"] = round(float(seconds), 2)
    out = ds.copy()
    out.attrs["config"] = json.dumps(full, sort_keys=True, default=str)
    out.attrs["experiment"] = experiment
    out.attrs["neurogeom_version"] = __version__
    out.attrs.pop("space", None)
    return out


def new_run_folder(out: str | Path, experiment: str) -> Path:
    """Create and return ``out/<experiment>-<UTC time>`` (suffixed if it exists).

    Examples
    --------
    >>> import tempfile
    >>> new_run_folder(tempfile.mkdtemp(), "toy").name.startswith("toy-")
    True
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = Path(out).expanduser() / f"{experiment}-{stamp}"
    folder, i = base, 1
    while folder.exists():
        folder, i = base.with_name(f"{base.name}-{i}"), i + 1
    folder.mkdir(parents=True)
    return folder
