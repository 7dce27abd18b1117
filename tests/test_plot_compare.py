import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.plot import compare_fields


def scaled_tanh(x: torch.Tensor) -> torch.Tensor:
    return 10.0 * torch.tanh(x)


def test_compare_fields_draws_both_fields_and_their_difference():
    grid = ng.Grid([(-1, 1), (-1, 1)], resolution=6)
    a = ng.geometry(ng.TorchResponseMap(torch.tanh, dtype=torch.float64), grid)
    b = ng.geometry(ng.TorchResponseMap(scaled_tanh, dtype=torch.float64), grid)
    fig, axes = plt.subplots(1, 3)
    out = compare_fields(a, b, axes, labels=("tanh", "10 tanh"))
    assert list(out) == list(axes)
    assert [ax.get_title() for ax in axes] == ["tanh", "10 tanh", "10 tanh − tanh"]
    assert all(ax.get_xlabel() == "u" and ax.get_ylabel() == "v" for ax in axes)
    bars = [ax for ax in fig.axes if ax not in axes]
    assert bars[0].get_ylabel() == "log10 sqrt(det g) (full-space)" == bars[1].get_ylabel()
    assert bars[2].get_ylabel() == "log10 volume ratio 10 tanh / tanh"
    # full-space metric of 2 dims times 100: log10 volume ratio = log10(100) = 2 everywhere
    diff = axes[2].collections[0].get_array()
    np.testing.assert_allclose(diff, np.full((6, 6), 2 * math.log10(10.0)), rtol=1e-12)
    # rows of the mesh are v, columns u
    expected = a.log_volume_element.transpose("v", "u").values / math.log(10.0)
    np.testing.assert_allclose(axes[0].collections[0].get_array(), expected, rtol=1e-12)
    fig.canvas.draw()
    plt.close(fig)


def test_compare_fields_needs_2d_fields_on_the_same_points():
    line = ng.Line(np.zeros(2), np.ones(2), steps=5)
    rm = ng.TorchResponseMap(torch.tanh, dtype=torch.float64)
    ds = ng.geometry(rm, line)
    with pytest.raises(ValueError, match=r"2-D field \(two dims\).*\('t',\)"):
        compare_fields(ds, ds)
    g1 = ng.geometry(rm, ng.Grid([(-1, 1), (-1, 1)], resolution=4))
    g2 = ng.geometry(rm, ng.Grid([(-1, 1), (-1, 1)], resolution=5))
    with pytest.raises(ng.errors.ShapeError):
        compare_fields(g1, g2)


def test_compare_fields_separate_scales_for_different_units():
    grid = ng.Grid([(-1, 1), (-1, 1)], resolution=4)
    a = ng.geometry(ng.TorchResponseMap(torch.tanh, dtype=torch.float64), grid)
    b = ng.geometry(ng.TorchResponseMap(scaled_tanh, dtype=torch.float64), grid)
    axes = compare_fields(a, b, shared_scale=False)
    lims = [ax.collections[0].get_clim() for ax in axes[:2]]
    assert lims[1][0] == pytest.approx(lims[0][0] + 2.0) and lims[1][1] == pytest.approx(
        lims[0][1] + 2.0
    )
    shared = compare_fields(a, b)
    assert shared[0].collections[0].get_clim() == shared[1].collections[0].get_clim()
    plt.close("all")
