"""Reproducible experiments of the seed poster (one module per experiment).

``neurogeom run <name>`` calls :func:`run_experiment`, which runs the experiment, saves its
Dataset (``<name>.nc``, every setting in ``attrs["config"]``), draws its figures (PNG and
PDF) and writes the claim table (``claims.txt``) into a fresh run folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from . import deep, mnist, toy, toy_deep
from .claims import claim_table, spearman
from .config import ConfigError, Rule, load_toml, resolve_config
from .runner import check_netcdf_engine, publish, run_folder_path, staged

__all__ = [
    "EXPERIMENTS",
    "ConfigError",
    "Experiment",
    "claim_table",
    "load_toml",
    "resolve_config",
    "run_experiment",
    "spearman",
]


@dataclass(frozen=True)
class Experiment:
    """A named experiment: its settings, how to run it and how to draw it."""

    name: str
    summary: str
    defaults: dict[str, Any]
    run: Callable[..., xr.Dataset]
    figures: Callable[[xr.Dataset], dict[str, Any]]
    rows: tuple[str, ...]
    rules: Mapping[str, Rule] | None = None  #: setting rules (None: config.RULES)


def _toy_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import volume_panels

    fig = volume_panels(ds, variable="log_volume_element_closed_form")
    seed = int(ds.seed.values[0]) if "seed" in ds.dims else None
    cfg = _config(ds)
    fig.suptitle(f"toy: {cfg.get('task', '?')} task, seed {seed}, closed-form volume element")
    return {"fig1_volume": fig, "training": _training(ds, _toy_title(ds))}


def _deep_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import volume_panels

    fig = volume_panels(ds)
    seed = int(ds.seed.values[0]) if "seed" in ds.dims else None
    fig.suptitle(f"toy-deep: {_config(ds).get('task', '?')} task, seed {seed}")
    return {"fig1_deep_volume": fig, "training": _training(ds, _toy_title(ds))}


def _config(ds: xr.Dataset) -> dict[str, Any]:
    import json

    raw = ds.attrs.get("config")
    return json.loads(raw) if isinstance(raw, str) else {}


def _toy_title(ds: xr.Dataset) -> str:
    cfg = _config(ds)
    seeds = ", ".join(str(int(s)) for s in ds.seed.values) if "seed" in ds.dims else "?"
    return f"{cfg.get('experiment', 'toy')}: {cfg.get('task', '?')} task, seeds {seeds}"


def _data_label(cfg: dict[str, Any]) -> str:
    """Which images a shallow image experiment used, spelled out for figure titles."""
    source = str(cfg.get("data_source", "?"))
    if source == "sklearn-digits-8x8":
        return "sklearn 8×8 digits (offline stand-in for MNIST)"
    if source == "mnist":
        return "MNIST 28×28"
    return source


def _image_title(ds: xr.Dataset, seed: int | None = None) -> str:
    """``mnist-line: <data>, 64 → 256 → 10 sigmoid, seed 0`` (all seeds if ``seed`` is None)."""
    cfg = _config(ds)
    if seed is None:
        which = "seeds " + ", ".join(str(int(s)) for s in ds.seed.values)
    else:
        which = f"seed {seed}"
    net = f"{cfg.get('input_dim', '?')} → {cfg.get('width', '?')} → 10 {cfg.get('activation', '')}"
    return f"{cfg.get('experiment', '')}: {_data_label(cfg)}, width {cfg.get('width', '?')} ({net}), {which}"


def _training(ds: xr.Dataset, title: str | None = None) -> Any:
    """Loss per epoch, the claim statistic per snapshot and, when recorded, the accuracy."""
    import matplotlib.pyplot as plt

    from ..plot import claim_progression, loss_curves

    with_accuracy = "accuracy" in ds and "epoch" in ds["accuracy"].dims
    n = 3 if with_accuracy else 2
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.8), constrained_layout=True)
    loss_curves(ds, axes[0])
    claim_progression(ds, axes[1])
    if with_accuracy:
        _accuracy_curves(ds, axes[2])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _accuracy_curves(ds: xr.Dataset, ax: Any) -> None:
    from ..plot.experiments import run_curves

    groups = run_curves(ds["accuracy"], "epoch", ax, marker="o", ms=3, lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training accuracy")
    ax.set_ylim(0, 1.02)
    if groups:
        ax.legend(fontsize=6)


def _line_figures(ds: xr.Dataset) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from ..plot import line_plot

    seed = int(ds.seed.values[0])
    epochs = ds.epoch.values
    fig, axes = plt.subplots(
        len(epochs), 2, figsize=(11, 3.4 * len(epochs)), squeeze=False, constrained_layout=True
    )
    for row, e in zip(axes, epochs, strict=True):
        for ax, space in zip(row, ("slice", "full"), strict=True):
            line_plot(ds, ax, epoch=int(e), seed=seed, space=space, entropy=True)
            acc = float(ds["accuracy"].sel(seed=seed, epoch=e))
            ax.text(
                0.02,
                0.04,
                f"epoch {int(e)}, {space} metric, accuracy {acc:.3f}",
                transform=ax.transAxes,
                fontsize=9,
                bbox={"facecolor": "white", "alpha": 0.7, "lw": 0},
            )
    fig.suptitle(_image_title(ds, seed) + "; dashed: prediction entropy", fontsize=10)
    return {"fig2_line": fig, "training": _training(ds, _image_title(ds))}


def _plane_figures(ds: xr.Dataset) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from ..plot import plane_panels, ternary_plot

    seed = int(ds.seed.values[0])
    epochs = ds.epoch.values
    fig, axes = plt.subplots(
        len(epochs), 4, figsize=(15, 3.3 * len(epochs)), squeeze=False, constrained_layout=True
    )
    for row, e in zip(axes, epochs, strict=True):
        plane_panels(ds, epoch=int(e), seed=seed, axes=row[:3])
        ternary_plot(ds, row[3], epoch=int(e), seed=seed, space="full")
        for ax, what in zip(
            row,
            ("prediction", "entropy", "volume (slice metric)", "full-metric volume, triangle"),
            strict=True,
        ):
            ax.set_title(f"epoch {int(e)}: {what}", fontsize=9)
    fig.suptitle(_image_title(ds, seed), fontsize=10)
    return {"fig2_plane": fig, "training": _training(ds, _image_title(ds))}


def _deep_training(ds: xr.Dataset) -> Any:
    """Training loss per epoch and the claim statistic per checkpoint."""
    return _training(ds, _title(ds))


def _title(ds: xr.Dataset) -> str:
    return f"{ds.attrs.get('model', '')} — data: {ds.attrs.get('data_source', '?')}"


def _cifar_plane_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import checkpoint_plane_panels

    return {"fig3_plane": checkpoint_plane_panels(ds), "training": _deep_training(ds)}


def _cifar_stages_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import stage_panels

    figures = {"fig4_stages": stage_panels(ds, space="slice")}
    if "full" in ds["space"].values:
        figures["fig4_stages_full"] = stage_panels(ds, space="full")
    return {**figures, "training": _deep_training(ds)}


def _barlow_line_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import interpolation_panels

    return {"fig5_lines": interpolation_panels(ds), "training": _deep_training(ds)}


def _barlow_plane_figures(ds: xr.Dataset) -> dict[str, Any]:
    from ..plot import checkpoint_plane_panels

    return {"fig6_plane": checkpoint_plane_panels(ds), "training": _deep_training(ds)}


#: The experiments ``neurogeom run`` knows, by name.
EXPERIMENTS: dict[str, Experiment] = {
    "toy": Experiment(
        "toy",
        "Fig. 1: 2 → n → 2 sigmoid nets (n = 5, 25, 200) on the sinusoid task, grid scan",
        toy.DEFAULTS,
        toy.run_toy,
        _toy_figures,
        ("width", "epoch"),
    ),
    "toy-deep": Experiment(
        "toy-deep",
        "Fig. 1 deep variant: 2 → 8 → 8 → 8 → 2 sigmoid net, volume after each hidden layer",
        toy_deep.DEFAULTS,
        toy_deep.run_toy_deep,
        _deep_figures,
        ("layer", "epoch"),
    ),
    "mnist-line": Experiment(
        "mnist-line",
        "Fig. 2 top: shallow net on MNIST/digits, volume element on the line 7 → 6",
        mnist.LINE_DEFAULTS,
        mnist.run_line,
        _line_figures,
        ("epoch", "space"),
    ),
    "mnist-plane": Experiment(
        "mnist-plane",
        "Fig. 2 bottom: shallow net on MNIST/digits, plane through a 7, a 6 and a 1",
        mnist.PLANE_DEFAULTS,
        mnist.run_plane,
        _plane_figures,
        ("epoch", "space"),
    ),
    "cifar-plane": Experiment(
        "cifar-plane",
        "Fig. 3: supervised CIFAR ResNet, plane through a horse, a frog and a car, per checkpoint",
        deep.CIFAR_PLANE_DEFAULTS,
        deep.run_cifar_plane,
        _cifar_plane_figures,
        ("epoch", "space"),
        deep.DEEP_RULES,
    ),
    "cifar-stages": Experiment(
        "cifar-stages",
        "Fig. 4: the same plane, volume element of the 4 pooled stage outputs per checkpoint",
        deep.CIFAR_STAGES_DEFAULTS,
        deep.run_cifar_stages,
        _cifar_stages_figures,
        ("layer", "epoch", "space"),
        deep.DEEP_RULES,
    ),
    "barlow-line": Experiment(
        "barlow-line",
        "Fig. 5: Barlow Twins backbone along car -> dog and car -> frog, linear-probe classes",
        deep.BARLOW_LINE_DEFAULTS,
        deep.run_barlow_line,
        _barlow_line_figures,
        ("pair", "epoch", "space"),
        deep.DEEP_RULES,
    ),
    "barlow-plane": Experiment(
        "barlow-plane",
        "Fig. 6: Barlow Twins backbone on the plane through three images, per checkpoint",
        deep.BARLOW_PLANE_DEFAULTS,
        deep.run_barlow_plane,
        _barlow_plane_figures,
        ("epoch", "space"),
        deep.DEEP_RULES,
    ),
}


def run_experiment(
    name: str,
    *,
    config: dict[str, Any] | None = None,
    data: str | Path | None = None,
    out: str | Path = "neurogeom-runs",
    formats: tuple[str, ...] = ("png", "pdf"),
) -> dict[str, Path]:
    """Run an experiment and write its Dataset, figures and claim table to a run folder.

    Parameters
    ----------
    name : str
        A key of :data:`EXPERIMENTS`.
    config : dict, optional
        Setting overrides (unknown keys raise :class:`ConfigError`).
    data : str or path, optional
        Data location for the image experiments (MNIST directory; default digits).
    out : str or path
        Parent of the run folder ``<out>/<name>-<UTC time>``.
    formats : tuple of str
        Figure formats.

    Returns
    -------
    dict
        ``folder``, ``dataset``, ``claims`` and one entry per figure and format.

    Raises
    ------
    ConfigError
        Before any training: an unknown experiment or setting, a bad value, an unusable
        ``out`` folder, no netCDF engine. A failure later (while training, measuring or
        drawing) leaves no run folder behind: everything is written into a hidden staging
        folder in ``out`` that becomes the run folder only when complete.

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> paths = run_experiment("toy", out=tempfile.mkdtemp(), formats=("png",),
    ...     config={"widths": [3], "epochs": 2, "seeds": [0, 1], "grid_resolution": 5,
    ...             "progress": False})
    >>> sorted(p.name for k, p in paths.items() if k != "folder")
    ['claims.txt', 'fig1_volume.png', 'toy.nc', 'training.png']
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..dataset import save

    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}.")
    exp = EXPERIMENTS[name]
    resolve_config(
        exp.defaults, config, rules=exp.rules
    )  # bad settings fail here, before anything is made
    check_netcdf_engine()
    with staged(out, name) as tmp:
        ds = exp.run(config, data=data)
        written: dict[str, Path] = {"dataset": save(ds, tmp / f"{name}.nc")}
        table = claim_table(ds, by=exp.rows)
        written["claims"] = tmp / "claims.txt"
        written["claims"].write_text(table + "\n")
        for fig_name, fig in exp.figures(ds).items():
            try:
                for fmt in formats:
                    path = tmp / f"{fig_name}.{fmt}"
                    fig.savefig(path, dpi=100)
                    written[f"{fig_name}.{fmt}"] = path
            finally:
                plt.close(fig)
        folder = publish(tmp, run_folder_path(out, name))
    return {"folder": folder, **{k: folder / p.name for k, p in written.items()}}
