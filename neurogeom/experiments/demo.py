"""The quick demo: the poster's 2 → n sigmoid net on the sinusoid task, before and after."""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import xarray as xr

from ..data.toy import sinusoid_task
from ..dataset import save, stamp_provenance, with_training_data
from ..errors import ConfigError
from ..maps.torch import TorchResponseMap
from ..measure import geometry
from ..models.shallow import ShallowNet
from ..slices import Grid
from ..train import TrainConfig, train_classifier
from .config import AT_LEAST_2, NON_NEGATIVE, POSITIVE, check_settings
from .runner import check_netcdf_engine, publish, staged

__all__ = ["DemoConfig", "run_demo"]


@dataclass(frozen=True)
class DemoConfig:
    """Settings of :func:`run_demo`.

    The poster trained with SGD at lr 0.1; with the 1/√n readout that takes tens of
    thousands of epochs, so the demo uses lr 1.0 (same optimiser otherwise) to converge
    in seconds.
    """

    width: int = 25
    n_points: int = 400
    epochs: int = 2000
    lr: float = 1.0
    batch_size: int = 50
    momentum: float = 0.9
    resolution: int = 80
    bound: float = 1.5
    seed: int = 0

    def __post_init__(self) -> None:
        for key, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"setting {key!r} must be a number; got {value!r}.")
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"setting {key!r} must be a finite number; got {value!r}.")
        check_settings(asdict(self), _RULES)


_RULES = {
    **dict.fromkeys(("width", "n_points", "epochs", "lr", "batch_size", "bound"), POSITIVE),
    **dict.fromkeys(("momentum", "seed"), NON_NEGATIVE),
    "resolution": AT_LEAST_2,
}


def run_demo(
    out: str | Path, config: DemoConfig = DemoConfig(), *, progress: bool | None = None
) -> dict[str, Path]:
    """Train, measure the volume element at the start and the end, write .nc and .png.

    Parameters
    ----------
    out : str or Path
        Output folder (created). Its writability and the netCDF engine are checked before
        training; the files are written into a staging folder next to it and moved in only
        when both are complete, so a failure leaves nothing half-written.
    config : DemoConfig
    progress : bool or None
        Progress bar over the training epochs: None (default) only when stderr is a
        terminal.

    Returns
    -------
    dict
        Paths of the written ``dataset`` (.nc) and ``figure`` (.png).

    Examples
    --------
    >>> import tempfile
    >>> paths = run_demo(tempfile.mkdtemp(), DemoConfig(epochs=2, resolution=4, n_points=20),
    ...                  progress=False)
    >>> sorted(paths)
    ['dataset', 'figure']
    """
    out = Path(out).expanduser()
    check_netcdf_engine()
    with staged(out.parent, out.name, target=out) as tmp:
        ds = _train_and_measure(config, progress)
        save(ds, tmp / "demo.nc")
        _figure(ds, tmp / "demo.png")
        publish(tmp, out)
    return {"dataset": out / "demo.nc", "figure": out / "demo.png"}


def _train_and_measure(config: DemoConfig, progress: bool | None) -> xr.Dataset:
    torch.manual_seed(config.seed)
    X, y = sinusoid_task(config.n_points, seed=config.seed)
    net = ShallowNet(2, config.width)
    grid = Grid([(-config.bound, config.bound)] * 2, resolution=config.resolution)
    train_cfg = TrainConfig(
        epochs=config.epochs,
        lr=config.lr,
        batch_size=config.batch_size,
        momentum=config.momentum,
        seed=config.seed,
    )
    snapshots: list[xr.Dataset] = []

    def measure(epoch: int, model: torch.nn.Module) -> None:
        frozen = copy.deepcopy(model).double()
        rm = TorchResponseMap(frozen, "hidden0", dtype=torch.float64)
        snapshots.append(
            geometry(rm, grid, classifier=frozen, progress=False).expand_dims(epoch=[epoch])
        )

    train_classifier(
        net,
        X,
        y,
        train_cfg,
        snapshot_epochs=(0, config.epochs),
        on_snapshot=measure,
        progress=progress,
        desc="demo: training",
    )
    ds = xr.concat(snapshots, dim="epoch", combine_attrs="override")
    ds = with_training_data(ds, X, y)
    record: dict[str, Any] = {
        "experiment": "demo",
        "model": "ShallowNet(2, width) sigmoid",
        "layer": "hidden0",
        "optimizer": "sgd",
        "data": "sinusoid_task",
        **asdict(config),
    }
    return stamp_provenance(ds, record, versions=True)


def _figure(ds: xr.Dataset, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot import log10_volume, volume_map

    values = log10_volume(ds)
    vmin, vmax = float(values.min()), float(values.max())
    fig, axes = plt.subplots(
        1, ds.sizes["epoch"], figsize=(4.6 * ds.sizes["epoch"], 4.0), constrained_layout=True
    )
    for ax, epoch in zip(axes, ds.epoch.values):
        volume_map(ds.sel(epoch=epoch), ax=ax, vmin=vmin, vmax=vmax)
        ax.set_title(f"epoch {int(epoch)}")
    import json

    cfg = json.loads(ds.attrs["config"])
    fig.suptitle(
        f"2 → {cfg['width']} sigmoid net on the sinusoid task (seed {cfg['seed']}): "
        "volume element of the hidden layer"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
