"""volume_map and compare_fields: multi-layer Datasets (layer=) and any two named dims."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.plot import compare_fields, volume_map

NET = torch.nn.Sequential(
    torch.nn.Linear(2, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh()
).double()
torch.nn.init.normal_(NET[0].weight, generator=torch.Generator().manual_seed(0))
LAYERS = ng.TorchResponseMap(NET, layers=["1", "3"], dtype=torch.float64)
#: a sampled-stimulus grid: orientation (radians) by contrast (fraction), unequal ranges
NAMED = ng.Grid([(0.0, 3.0), (0.1, 0.9)], resolution=(6, 4), dims=["orientation", "contrast"])


def log10(ds, layer, *dims):
    return ds.log_volume_element.sel(layer=layer).transpose(*dims).values / math.log(10.0)


def test_volume_map_shows_the_chosen_layer_of_a_multi_layer_dataset():
    ds = ng.geometry(LAYERS, ng.Grid([(-1, 1), (-1, 1)], resolution=5))
    for layer in ("1", "3"):
        ax = volume_map(ds, layer=layer)
        np.testing.assert_allclose(ax.collections[0].get_array(), log10(ds, layer, "v", "u"))
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("u", "v")
    plt.close("all")


def test_volume_map_over_two_named_dims_with_their_own_scales():
    ds = ng.geometry(LAYERS, NAMED)
    ax = volume_map(ds, layer="3")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("orientation", "contrast")
    # rows of the mesh are the second dim, columns the first
    expected = log10(ds, "3", "contrast", "orientation")
    np.testing.assert_allclose(ax.collections[0].get_array(), expected)
    assert ax.get_xlim() == (0.0, 3.0) and ax.get_ylim() == pytest.approx((0.1, 0.9))
    assert ax.get_aspect() == "auto"  # different quantities: no equal aspect forced
    swapped = volume_map(ds, layer="3", dims=("contrast", "orientation"))
    assert (swapped.get_xlabel(), swapped.get_ylabel()) == ("contrast", "orientation")
    np.testing.assert_allclose(swapped.collections[0].get_array(), expected.T)
    with pytest.raises(ValueError, match="dims"):
        volume_map(ds, layer="3", dims=("orientation", "u"))
    plt.close("all")


def test_volume_map_names_the_dims_left_to_select():
    grid = ng.Grid([(-1, 1)] * 3, resolution=3, dims=["a", "b", "c"])
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh()).double()
    ds = ng.geometry(ng.TorchResponseMap(net, dtype=torch.float64), grid)
    with pytest.raises(ValueError, match=r"\('a', 'b', 'c'\)"):
        volume_map(ds)
    ax = volume_map(ds.isel(c=1))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a", "b")
    plt.close("all")


def test_compare_fields_of_multi_layer_datasets_over_named_dims():
    ds = ng.geometry(LAYERS, NAMED)
    axes = compare_fields(ds, ds, layer="3")
    assert all(ax.get_xlabel() == "orientation" and ax.get_ylabel() == "contrast" for ax in axes)
    assert all(ax.get_aspect() == "auto" for ax in axes)
    np.testing.assert_allclose(axes[2].collections[0].get_array(), 0.0)
    across = compare_fields(ds, ds, layer_a="1", layer_b="3")
    diff = log10(ds, "3", "contrast", "orientation") - log10(ds, "1", "contrast", "orientation")
    np.testing.assert_allclose(across[2].collections[0].get_array(), diff, rtol=1e-12)
    with pytest.raises(ValueError, match="layer_a"):
        compare_fields(ds, ds)
    # the (u, v) coordinates of a plane or grid are one quantity: equal aspect as before
    uv = ng.geometry(LAYERS, ng.Grid([(-1, 1), (-1, 1)], resolution=4))
    assert all(ax.get_aspect() == 1.0 for ax in compare_fields(uv, uv, layer="1"))
    plt.close("all")
