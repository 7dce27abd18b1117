"""Fig. 1: shallow networks on a 2-D task, volume element on a grid across training.

Widths × stages × seeds: each net 2 → n → 2 (sigmoid, Φⱼ = σ(wⱼ·x + bⱼ)/√n) is trained
with SGD and measured on a grid before, midway through and after training. The volume
element comes both from autograd (:func:`neurogeom.geometry`, Jacobians by torch.func and
eigenvalues of g) and from the closed form (:mod:`neurogeom.riemann.shallow`, Cauchy–Binet in log space); they must
agree to rounding (``closed_form_tolerance`` + 16 eps cond(g)) wherever float64
eigenvalues resolve det g. Where g is too ill-conditioned for that (cond > ~1e14, e.g. far
from the data after long training) the eigenvalue route falls back to a pseudo-determinant
(its ``metric_rank`` is 1 there) and only the closed form is exact, so the figures and the claim
statistics use ``log_volume_element_closed_form``. The Ricci scalar is the closed form's.
The claim statistics (:mod:`.claims`) are computed per width, snapshot and seed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn

from ..data import (
    sinusoid_boundary_distance,
    sinusoid_task,
    xor_boundary_distance,
    xor_points,
    xor_task,
)
from ..dataset import add_variables, config_of, register_variables
from ..errors import InputTypeError
from ..maps import TorchResponseMap
from ..measure import geometry
from ..models import ShallowNet
from ..riemann.shallow import shallow_log_volume, shallow_ricci_scalar
from ..slices import Grid
from .claims import spearman
from .config import ConfigError
from .figures import toy_title, training_figure
from .runner import Experiment, Setting, Sweep, run, stage_epochs

__all__ = [
    "DEFAULTS",
    "EXPERIMENT",
    "SEEDS",
    "TASKS",
    "run_toy",
    "task_boundary_distance",
    "task_data",
    "task_setting",
    "toy_setting",
]

NAME = "toy"

#: The Dataset variables of the toy experiments (toy and toy-deep).
register_variables(
    {
        "log_volume_element_closed_form": (
            (),
            "natural log of the volume element sqrt(det g), closed form (no autograd)",
            "1",
        ),
        "boundary_distance": (
            (),
            "Euclidean distance to the task's true decision boundary",
            "stimulus_unit",
        ),
        "spearman_distance": (
            (),
            "Spearman correlation of log volume element with distance to the true boundary",
            "1",
        ),
    }
)

#: Every setting of the experiment (a config file may override any of them).
DEFAULTS: dict[str, Any] = {
    "task": "sinusoid",
    "n_points": 400,
    "widths": [5, 25, 200],
    "activation": "sigmoid",
    "epochs": 2000,
    "stages": ["start", "middle", "end"],
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 0.0,
    "batch_size": 50,
    "seeds": [0, 1, 2],
    "grid_resolution": 80,
    "grid_extent": 1.5,
    "closed_form_tolerance": 1e-8,
    "progress": None,
}

TASKS = ("sinusoid", "xor", "xor4")


def task_data(name: str, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training points and labels of the toy task ``name`` (one of :data:`TASKS`).

    Parameters
    ----------
    name : {"sinusoid", "xor", "xor4"}
        The task; ``"xor4"`` is the four XOR corners (``n_points`` and ``seed`` unused).
    n_points : int
        How many points to draw.
    seed : int
        The draw's random seed.

    Returns
    -------
    X : array, shape (n_points, 2)
    y : array, shape (n_points,)

    Raises
    ------
    ConfigError
        ``name`` is not a task.

    Examples
    --------
    >>> X, y = task_data("xor4", 0, 0)
    >>> X.shape, y.shape
    ((4, 2), (4,))
    """
    if name == "sinusoid":
        return sinusoid_task(n_points, seed=seed)
    if name == "xor":
        return xor_task(n_points, seed=seed)
    if name == "xor4":
        return xor_points()
    raise ConfigError(f"setting 'task' must be one of {TASKS}; got {name!r}.")


def task_boundary_distance(name: str, points: np.ndarray) -> np.ndarray:
    """Euclidean distance of ``points`` to the true decision boundary of the toy task ``name``.

    Parameters
    ----------
    name : {"sinusoid", "xor", "xor4"}
        The task (the two XOR tasks share their boundary, the coordinate axes).
    points : array, shape (m, 2)

    Returns
    -------
    array, shape (m,)

    Raises
    ------
    ConfigError
        ``name`` is not a task.

    Examples
    --------
    >>> task_boundary_distance("xor", np.array([[0.5, -2.0]])).tolist()
    [0.5]
    """
    if name not in TASKS:
        raise ConfigError(f"setting 'task' must be one of {TASKS}; got {name!r}.")
    return (
        sinusoid_boundary_distance(points) if name == "sinusoid" else xor_boundary_distance(points)
    )


def _condition(ds: xr.Dataset) -> np.ndarray:
    eig = ds.eigenvalues.values
    with np.errstate(divide="ignore"):
        return eig.max(axis=-1) / np.abs(eig.min(axis=-1))


def _agreement(
    closed: np.ndarray, ds: xr.Dataset, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """|closed form − autograd| and what rounding allows: the eigen-solver's log-volume is
    accurate to about eps · cond(g), so the bound is ``tolerance + 16 eps cond(g)``."""
    gap = np.abs(closed - ds.log_volume_element.values)
    allowed = tolerance + 16 * np.finfo(np.float64).eps * _condition(ds)
    return gap, allowed


def _agreement_summary(ds: xr.Dataset) -> dict[str, float | int]:
    """Run-wide record of the closed-form/autograd comparison (checked per snapshot)."""
    full = (ds["metric_rank"] == 2).values
    gap = np.abs(ds.log_volume_element - ds.log_volume_element_closed_form).values
    return {
        "max_abs_diff_to_autograd": float(gap[full].max(initial=0.0)),
        "max_condition_number_compared": float(_condition(ds)[full].max(initial=0.0)),
        "points_unresolved_by_eigenvalues": int((~full).sum()),
    }


def _measure(grid: Grid, distance: np.ndarray, tolerance: float) -> Any:
    """Snapshot measurement: autograd geometry, closed form, Ricci scalar and the claim."""

    def measure(model: nn.Module) -> xr.Dataset:
        if not isinstance(model, ShallowNet):
            raise InputTypeError(f"expected a ShallowNet; got {type(model).__name__}.")
        rm = TorchResponseMap(model, "hidden0", dtype=torch.float64)
        ds = geometry(rm, grid, classifier=model, rank="auto", progress=False)
        cf = {
            "log_volume_element": shallow_log_volume(grid.points, model).reshape(grid.shape),
            "ricci_scalar": shallow_ricci_scalar(grid.points, model, on_singular="nan").reshape(
                grid.shape
            ),
        }
        gap, allowed = _agreement(cf["log_volume_element"], ds, tolerance)
        full = ds["metric_rank"].values == 2  # elsewhere float64 eigenvalues cannot resolve det g
        if np.any((gap > allowed) & full):
            i = np.unravel_index(int(np.argmax(gap - allowed)), gap.shape)
            raise RuntimeError(
                f"closed-form and autograd log volume elements differ by {gap[i]:.3g} at grid "
                f"index {tuple(map(int, i))} (allowed {allowed[i]:.3g}); this is a bug, "
                "please report it."
            )
        logvol = cf["log_volume_element"]
        return add_variables(
            ds,
            {
                "log_volume_element_closed_form": (grid.dims, cf["log_volume_element"]),
                "ricci_scalar": (grid.dims, cf["ricci_scalar"]),
                "ricci_singular": (grid.dims, np.isnan(cf["ricci_scalar"])),
                "spearman_entropy": ((), spearman(logvol, ds.entropy.values)),
                "spearman_distance": ((), spearman(logvol, distance)),
            },
        )

    return measure


def task_setting(cfg: dict[str, Any]) -> tuple[Grid, np.ndarray, list[int]]:
    """The grid over the task's square, the distance to its true boundary there, the snapshots.

    Shared by the toy experiments (the shallow one and the deep variant).

    Examples
    --------
    >>> grid, distance, snaps = task_setting({**DEFAULTS, "grid_resolution": 4, "epochs": 10})
    >>> distance.shape, snaps
    ((4, 4), [0, 5, 10])
    """
    ext = float(cfg["grid_extent"])
    grid = Grid([(-ext, ext), (-ext, ext)], resolution=int(cfg["grid_resolution"]))
    distance = task_boundary_distance(cfg["task"], grid.points).reshape(grid.shape)
    return grid, distance, stage_epochs(int(cfg["epochs"]), cfg["stages"])


def toy_setting(cfg: dict[str, Any], measure: Callable[[Grid, np.ndarray], Any]) -> Setting:
    """The toy experiments' setting: the task per seed, the grid, what they record.

    Parameters
    ----------
    cfg : dict
        The resolved settings.
    measure : callable
        ``(grid, boundary distance) -> (model -> Dataset)``, the experiment's measurement.

    Returns
    -------
    Setting
    """
    grid, distance, snaps = task_setting(cfg)
    data = {int(s): task_data(cfg["task"], int(cfg["n_points"]), int(s)) for s in cfg["seeds"]}
    return Setting(
        measure=measure(grid, distance),
        training=data.__getitem__,
        snapshots=snaps,
        variables={
            "boundary_distance": (grid.dims, distance),
            "training_stimuli": (
                ("seed", "sample", "stimulus_0"),
                np.stack([X for X, _ in data.values()]),
            ),
            "training_labels": (("seed", "sample"), np.stack([y for _, y in data.values()])),
        },
        coords={"stage": (("epoch",), list(cfg["stages"]), {"long_name": "stage of training"})},
        settings={
            "snapshot_epochs": snaps,
            "data_source": f"{cfg['task']} task (generated, seeded)",
        },
    )


def _agreement_attrs(ds: xr.Dataset) -> xr.Dataset:
    ds["log_volume_element_closed_form"].attrs.update(_agreement_summary(ds))
    return ds


def _figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import volume_panels

    fig = volume_panels(ds, variable="log_volume_element_closed_form")
    seed = int(ds.seed.values[0]) if "seed" in ds.dims else None
    task = config_of(ds).get("task", "?")
    fig.suptitle(f"toy: {task} task, seed {seed}, closed-form volume element")
    return {"fig1_volume": fig, "training": training_figure(ds, toy_title(ds))}


#: The seeds of the toy experiments: each seeds the initialisation, data and batch order.
SEEDS = Sweep("seed", "seeds", "seed of initialisation, data and batch order")

#: Fig. 1: widths × seeds of 2 → n → 2 nets on the task, measured on the grid at the stages.
EXPERIMENT = Experiment(
    name=NAME,
    summary="Fig. 1: 2 → n → 2 sigmoid nets (n = 5, 25, 200) on the sinusoid task, grid scan",
    defaults=DEFAULTS,
    setting=lambda cfg, data: toy_setting(
        cfg, lambda grid, dist: _measure(grid, dist, float(cfg["closed_form_tolerance"]))
    ),
    model=lambda cfg, cell: ShallowNet(
        2, int(cell["width"]), 2, activation=cfg["activation"]
    ).double(),
    sweep=(SEEDS, Sweep("width", "widths", "hidden-layer width")),
    figures=_figures,
    rows=("width", "epoch"),
    finish=_agreement_attrs,
)


def run_toy(config: dict[str, Any] | None = None, *, data: str | Path | None = None) -> xr.Dataset:
    """Run the Fig. 1 experiment (:data:`EXPERIMENT`) and return its Dataset.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`DEFAULTS` (unknown keys raise :class:`~.config.ConfigError`).
    data : None
        The toy tasks are generated; giving data is an error.

    Returns
    -------
    xarray.Dataset
        Dims ``seed``, ``width``, ``epoch`` (with a ``stage`` coordinate), ``u``, ``v``;
        variables from :func:`neurogeom.geometry` plus ``log_volume_element_closed_form``,
        ``ricci_scalar``, ``boundary_distance``, ``spearman_entropy``,
        ``spearman_distance``, ``accuracy``, ``loss``, ``training_stimuli``,
        ``training_labels``. ``attrs["config"]`` is the JSON of every setting.

    Examples
    --------
    >>> ds = run_toy({"widths": [3], "epochs": 2, "seeds": [0], "grid_resolution": 5,
    ...           "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'seed': 1, 'width': 1, 'epoch': 3, 'u': 5, 'v': 5}
    """
    return run(EXPERIMENT, config, data=data)
