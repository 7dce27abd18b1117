"""Fig. 1, deep variant: a 2 → 8 → 8 → 8 → 2 sigmoid net, volume element after each layer.

The same task, optimiser, grid and snapshots as :mod:`.toy`; the net has three hidden
layers (each Φ = σ(W x + b)/√n) and the volume element of each hidden layer's
representation is measured by autograd (no closed form exists past the first layer).
Where a layer's metric is too ill-conditioned for float64 eigenvalues the pseudo-determinant
of the resolved rank is used and ``metric_rank`` says so; the claim statistics are computed on the
points where all layers have full rank 2 (their number is recorded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn

from ..dataset import add_variables, config_of
from ..errors import InputTypeError
from ..maps import TorchResponseMap
from ..measure import geometry
from ..models import ShallowNet
from ..slices import Grid
from .claims import spearman
from .figures import toy_title, training_figure
from .runner import Experiment, run
from .toy import DEFAULTS as TOY_DEFAULTS
from .toy import SEEDS, toy_setting

__all__ = ["DEFAULTS", "EXPERIMENT", "run_toy_deep"]

NAME = "toy-deep"

#: Every setting of the deep variant (a config file may override any of them): the toy
#: experiment's, with a stack of hidden widths instead of one width per net and no closed form.
DEFAULTS: dict[str, Any] = {
    **{k: v for k, v in TOY_DEFAULTS.items() if k not in ("widths", "closed_form_tolerance")},
    "hidden": [8, 8, 8],
}


def _measure(grid: Grid, distance: np.ndarray) -> Any:
    def measure(model: nn.Module) -> xr.Dataset:
        if not isinstance(model, ShallowNet):
            raise InputTypeError(f"expected a ShallowNet; got {type(model).__name__}.")
        rm = TorchResponseMap(model, model.hidden_layers, dtype=torch.float64)
        ds = geometry(rm, grid, classifier=model, rank="auto", progress=False)
        full = (ds["metric_rank"] == 2).all("layer").values
        logvol = ds.log_volume_element.transpose("layer", *grid.dims).values
        entropy = ds.entropy.values
        rho_h = [spearman(lv[full], entropy[full]) for lv in logvol]
        rho_d = [spearman(lv[full], distance[full]) for lv in logvol]
        return add_variables(
            ds,
            {
                "spearman_entropy": (("layer",), rho_h),
                "spearman_distance": (("layer",), rho_d),
            },
        )

    return measure


def _note_left_out(ds: xr.Dataset) -> xr.Dataset:
    unresolved = int((ds["metric_rank"] < 2).any("layer").sum())
    for name in ("spearman_entropy", "spearman_distance"):
        ds[name].attrs["grid_points_left_out_rank_below_2"] = unresolved
    return ds


def _figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import volume_panels

    fig = volume_panels(ds)
    seed = int(ds.seed.values[0]) if "seed" in ds.dims else None
    fig.suptitle(f"toy-deep: {config_of(ds).get('task', '?')} task, seed {seed}")
    return {"fig1_deep_volume": fig, "training": training_figure(ds, toy_title(ds))}


#: Fig. 1, deep variant: seeds of a 2 → 8 → 8 → 8 → 2 net, each hidden layer on the grid.
EXPERIMENT = Experiment(
    name=NAME,
    summary="Fig. 1 deep variant: 2 → 8 → 8 → 8 → 2 sigmoid net, volume after each hidden layer",
    defaults=DEFAULTS,
    setting=lambda cfg, data: toy_setting(cfg, _measure),
    model=lambda cfg, cell: ShallowNet(
        2, [int(w) for w in cfg["hidden"]], 2, activation=cfg["activation"]
    ).double(),
    sweep=(SEEDS,),
    figures=_figures,
    rows=("layer", "epoch"),
    finish=_note_left_out,
)


def run_toy_deep(
    config: dict[str, Any] | None = None, *, data: str | Path | None = None
) -> xr.Dataset:
    """Run the deep variant of Fig. 1 (:data:`EXPERIMENT`) and return its Dataset.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`DEFAULTS`; unknown keys raise.
    data : None
        The task is generated; giving data is an error.

    Returns
    -------
    xarray.Dataset
        Dims ``seed``, ``epoch`` (with ``stage``), ``layer`` (``hidden0`` … ), ``u``, ``v``;
        ``spearman_entropy``/``spearman_distance`` per seed, epoch and layer;
        ``attrs["config"]`` records every setting.

    Examples
    --------
    >>> ds = run_toy_deep({"epochs": 2, "seeds": [0], "grid_resolution": 5, "progress": False})
    >>> dict(ds.log_volume_element.sizes)
    {'seed': 1, 'epoch': 3, 'layer': 3, 'u': 5, 'v': 5}
    """
    return run(EXPERIMENT, config, data=data)
