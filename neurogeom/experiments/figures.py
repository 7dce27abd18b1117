"""What the experiments' figures share: titles from a run's settings and the training figure.

Each experiment draws its own figures (``figures`` of its :class:`~.runner.Experiment`)
with the paper-figure functions of :mod:`neurogeom.plot`; these helpers give them the
same titles and the same training panel.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from ..dataset import config_of

__all__ = ["deep_title", "image_title", "toy_title", "training_figure"]


def toy_title(ds: xr.Dataset) -> str:
    """``toy: sinusoid task, seeds 0, 1`` for a toy run.

    Examples
    --------
    >>> toy_title(xr.Dataset(attrs={"config": '{"experiment": "toy", "task": "xor"}'}))
    'toy: xor task, seeds ?'
    """
    cfg = config_of(ds)
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


def image_title(ds: xr.Dataset, seed: int | None = None) -> str:
    """``mnist-line: <data>, width 256 (64 → 256 → 10 sigmoid), seed 0`` (all seeds if None).

    Examples
    --------
    >>> cfg = '{"experiment": "mnist-line", "data_source": "mnist", "width": 2000}'
    >>> image_title(xr.Dataset(attrs={"config": cfg}), seed=0)[:30]
    'mnist-line: MNIST 28×28, width'
    """
    cfg = config_of(ds)
    if seed is None:
        which = "seeds " + ", ".join(str(int(s)) for s in ds.seed.values)
    else:
        which = f"seed {seed}"
    net = f"{cfg.get('input_dim', '?')} → {cfg.get('width', '?')} → 10 {cfg.get('activation', '')}"
    return f"{cfg.get('experiment', '')}: {_data_label(cfg)}, width {cfg.get('width', '?')} ({net}), {which}"


def deep_title(ds: xr.Dataset) -> str:
    """``<model> — data: <source>`` for a deep run.

    Examples
    --------
    >>> deep_title(xr.Dataset(attrs={"model": "ResNet-18", "data_source": "CIFAR-10"}))
    'ResNet-18 — data: CIFAR-10'
    """
    return f"{ds.attrs.get('model', '')} — data: {ds.attrs.get('data_source', '?')}"


def training_figure(ds: xr.Dataset, title: str | None = None) -> Any:
    """Loss per epoch, the claim statistic per snapshot and, when recorded, the accuracy.

    Parameters
    ----------
    ds : xarray.Dataset
        A run with ``loss`` (per ``train_epoch``) and ``spearman_entropy`` (per ``epoch``).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
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
