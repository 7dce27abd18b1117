"""Reproducible experiments of the seed poster: one description each, one runner for all.

Each module describes its experiments as :class:`~.runner.Experiment` values (settings,
task and slices, model, sweep, training, figures) and :func:`~.runner.run` carries any of
them out. ``neurogeom run <name>`` calls :func:`run_experiment`, which runs the experiment,
saves its Dataset (``<name>.nc``, every setting in ``attrs["config"]``), draws its figures
(PNG and PDF) and writes the claim table (``claims.txt``) into a fresh run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import deep, mnist, toy, toy_deep
from .claims import claim_table, spearman
from .config import ConfigError, load_toml, resolve_config
from .runner import Experiment, check_netcdf_engine, publish, run_folder_path, staged

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


#: The experiments ``neurogeom run`` knows, by name: each module's description of its own.
EXPERIMENTS: dict[str, Experiment] = {
    exp.name: exp
    for exp in (
        toy.EXPERIMENT,
        toy_deep.EXPERIMENT,
        mnist.LINE,
        mnist.PLANE,
        deep.CIFAR_PLANE,
        deep.CIFAR_STAGES,
        deep.BARLOW_LINE,
        deep.BARLOW_PLANE,
    )
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
    exp.resolve(config, data)  # bad settings fail here, before anything is made
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
