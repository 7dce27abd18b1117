"""Every experiment figure renders with Agg and labels its axes and colour bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from neurogeom import plot
from neurogeom.experiments import mnist, toy

SMALL = {"epochs": 2, "seeds": [0, 1], "progress": False}


@pytest.fixture(scope="module")
def toy_ds():
    return toy.run_toy({**SMALL, "widths": [3, 5], "grid_resolution": 6})


@pytest.fixture(scope="module")
def line_ds():
    return mnist.run_line(
        {
            **SMALL,
            "width": 20,
            "snapshot_epochs": [0, 2],
            "steps": 7,
            "max_samples": 200,
            "full_rank": 10,
        }
    )


@pytest.fixture(scope="module")
def plane_ds():
    return mnist.run_plane(
        {
            **SMALL,
            "width": 20,
            "snapshot_epochs": [0, 2],
            "resolution": 6,
            "max_samples": 200,
            "full_rank": 10,
            "seeds": [0],
        }
    )


def _labelled(ax):
    assert ax.get_xlabel() and ax.get_ylabel()


def _colorbar_labels(fig):
    return [a.get_ylabel() for a in fig.axes if a.get_label() == "<colorbar>"]


def test_volume_panels(toy_ds):
    fig = plot.volume_panels(toy_ds, variable="log_volume_element_closed_form")
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(panels) == 6
    assert panels[0].get_title() == "width 3, start (epoch 0)"
    assert panels[-1].get_title() == "width 5, end (epoch 2)"
    for ax in panels:
        _labelled(ax)
        assert len(ax.collections) >= 2  # volume mesh + training points
    assert all("log10 sqrt(det g)" in lab for lab in _colorbar_labels(fig))
    plt.close(fig)


def test_line_plot(line_ds):
    for space in ("slice", "full"):
        ax = plot.line_plot(line_ds, space=space, epoch=2)
        _labelled(ax)
        assert space in ax.get_ylabel()
        y = ax.lines[0].get_ydata()
        np.testing.assert_allclose(
            y, line_ds.log_volume_element.sel(space=space, epoch=2).isel(seed=0) / np.log(10)
        )
        assert len(ax.child_axes) == 3  # endpoint and midpoint images
        assert "predicted class" in _colorbar_labels(ax.figure)[0]
        plt.close(ax.figure)


def test_plane_panels_and_ternary(plane_ds):
    fig = plot.plane_panels(plane_ds)
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(panels) == 3
    for ax in panels:
        _labelled(ax)
    labels = _colorbar_labels(fig)
    assert labels[0] == "predicted class" and "entropy" in labels[1] and "sqrt(det g)" in labels[2]
    plt.close(fig)
    ax = plot.ternary_plot(plane_ds, space="full")
    _labelled(ax)
    mesh = ax.collections[0].get_array()
    inside = (plane_ds.barycentric >= -1e-12).all("vertex").values
    assert np.ma.count_masked(mesh) == (~inside).sum() > 0
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="Plane"):
        plot.ternary_plot(toy_ds_like())


def toy_ds_like():
    import xarray as xr

    return xr.Dataset({"log_volume_element": (("u", "v"), np.zeros((2, 2)))})


def test_loss_and_claim_progression(toy_ds, line_ds):
    ax = plot.loss_curves(toy_ds)
    _labelled(ax)
    assert ax.get_ylabel().replace("\n", " ") == "mean training cross-entropy of the epoch [nat]"
    assert len(ax.lines) == 4  # 2 seeds × 2 widths
    plt.close(ax.figure)
    ax = plot.claim_progression(toy_ds)
    _labelled(ax)
    assert len(ax.containers) == 4  # entropy and distance, 2 widths
    plt.close(ax.figure)
    ax = plot.claim_progression(line_ds)
    assert len(ax.containers) == 2  # entropy, 2 spaces
    plt.close(ax.figure)


def _inside(fig, artist) -> bool:
    fig.canvas.draw()
    box = artist.get_window_extent()
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1


@pytest.mark.parametrize("which", ["line", "plane"])
def test_image_figures_name_data_width_and_seed(which, line_ds, plane_ds):
    from neurogeom.experiments import EXPERIMENTS

    ds = line_ds if which == "line" else plane_ds
    figures = EXPERIMENTS[f"mnist-{which}"].figures(ds)
    for name, fig in figures.items():
        title = fig._suptitle.get_text()
        assert "8×8 digits" in title and "stand-in for MNIST" in title, name
        assert "width 20" in title and "seed" in title, name
        plt.close(fig)


def test_line_figure_draws_entropy_next_to_the_volume(line_ds):
    from neurogeom.experiments import EXPERIMENTS

    fig = EXPERIMENTS["mnist-line"].figures(line_ds)["fig2_line"]
    entropy_axes = [ax for ax in fig.axes if "entropy" in ax.get_ylabel()]
    assert len(entropy_axes) == 2 * line_ds.sizes["epoch"]  # one per panel
    seed0 = line_ds.isel(seed=0, epoch=-1)
    np.testing.assert_allclose(entropy_axes[-1].lines[0].get_ydata(), seed0.entropy.values)
    plt.close("all")


def test_training_figure_labels_fit(line_ds):
    from neurogeom.experiments import EXPERIMENTS

    fig = EXPERIMENTS["mnist-line"].figures(line_ds)["training"]
    for ax in fig.axes:
        assert _inside(fig, ax.yaxis.label), ax.get_ylabel()
    assert any(ax.get_ylabel() == "training accuracy" for ax in fig.axes)
    plt.close("all")
