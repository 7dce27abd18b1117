"""The Fig. 1 experiment on a tiny budget."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.data import sinusoid_boundary_distance, sinusoid_task
from neurogeom.experiments import toy
from neurogeom.experiments.claims import spearman
from neurogeom.experiments.config import ConfigError
from neurogeom.models import ShallowNet

TINY = {"widths": [3, 8], "epochs": 4, "seeds": [0, 1], "grid_resolution": 7, "progress": False}


@pytest.fixture(scope="module")
def ds():
    return toy.run_toy(TINY)


def test_dims_and_coordinates(ds):
    assert dict(ds.log_volume_element.sizes) == {"seed": 2, "width": 2, "epoch": 3, "u": 7, "v": 7}
    assert ds.epoch.values.tolist() == [0, 2, 4]
    assert ds.stage.values.tolist() == ["start", "middle", "end"]
    assert ds.width.values.tolist() == [3, 8] and ds.seed.values.tolist() == [0, 1]
    for name in (
        "log_volume_element_closed_form",
        "ricci_scalar",
        "spearman_entropy",
        "spearman_distance",
        "accuracy",
        "boundary_distance",
        "training_stimuli",
    ):
        assert ds[name].attrs["long_name"], name


def test_config_records_every_setting(ds):
    cfg = json.loads(ds.attrs["config"])
    assert cfg["experiment"] == "toy" and cfg["neurogeom_version"] == ng.__version__
    for key, value in {**toy.DEFAULTS, **TINY}.items():
        assert cfg[key] == value, key
    assert cfg["snapshot_epochs"] == [0, 2, 4] and "sinusoid" in cfg["data_source"]


def test_closed_form_agrees_with_autograd(ds):
    assert np.all(
        ds["metric_rank"].values == 2
    )  # well conditioned on this budget: compare everywhere
    gap = np.abs(ds.log_volume_element - ds.log_volume_element_closed_form)
    assert float(gap.max()) < 1e-9
    attrs = ds.log_volume_element_closed_form.attrs
    assert attrs["points_unresolved_by_eigenvalues"] == 0
    assert attrs["max_abs_diff_to_autograd"] == float(gap.max())  # over every snapshot
    assert np.all(np.isfinite(ds.ricci_scalar.values))


def test_training_data_and_distance(ds):
    X, y = sinusoid_task(400, seed=1)
    np.testing.assert_array_equal(ds.training_stimuli.sel(seed=1).values, X)
    np.testing.assert_array_equal(ds.training_labels.sel(seed=1).values, y)
    grid = np.stack(np.meshgrid(ds.u, ds.v, indexing="ij"), -1).reshape(-1, 2)
    np.testing.assert_allclose(
        ds.boundary_distance.values.ravel(), sinusoid_boundary_distance(grid)
    )


def test_claim_values_are_the_spearman_of_the_stored_fields(ds):
    cell = ds.sel(seed=1, width=8, epoch=2)
    assert float(cell.spearman_entropy) == spearman(
        cell.log_volume_element.values, cell.entropy.values
    )
    assert float(cell.spearman_distance) == spearman(
        cell.log_volume_element.values, ds.boundary_distance.values
    )


def test_snapshot_is_the_seeded_network():
    # the start snapshot of (seed 0, width 3) is ShallowNet(2, 3) right after torch.manual_seed(0)
    out = toy.run_toy({**TINY, "widths": [3], "seeds": [0]})
    torch.manual_seed(0)
    net = ShallowNet(2, 3).double()
    grid = ng.Grid([(-1.5, 1.5)] * 2, resolution=7)
    ref = ng.geometry(ng.TorchResponseMap(net, "hidden0", dtype=torch.float64), grid)
    np.testing.assert_array_equal(
        out.log_volume_element.isel(seed=0, width=0, epoch=0).values, ref.log_volume_element.values
    )


def test_xor_task_and_bad_settings():
    out = toy.run_toy({**TINY, "task": "xor", "widths": [4], "seeds": [0]})
    assert "xor" in json.loads(out.attrs["config"])["data_source"]
    with pytest.raises(ConfigError, match="setting 'task' must be one of .*got 'spiral'"):
        toy.run_toy({**TINY, "task": "spiral"})
    with pytest.raises(ConfigError, match="unknown setting"):
        toy.run_toy({**TINY, "width": 3})
    with pytest.raises(ValueError, match="--data"):
        toy.run_toy(TINY, data="somewhere")


def test_deep_variant_layers_and_first_layer_closed_form():
    from neurogeom.experiments import toy_deep
    from neurogeom.riemann.shallow import shallow_log_volume

    cfg = {"epochs": 2, "seeds": [0], "grid_resolution": 6, "progress": False}
    ds = toy_deep.run_toy_deep(cfg)
    assert dict(ds.log_volume_element.sizes) == {"seed": 1, "epoch": 3, "layer": 3, "u": 6, "v": 6}
    assert ds.layer.values.tolist() == ["hidden0", "hidden1", "hidden2"]
    assert dict(ds.spearman_entropy.sizes) == {"seed": 1, "epoch": 3, "layer": 3}
    assert json.loads(ds.attrs["config"])["hidden"] == [8, 8, 8]
    # the first hidden layer of the untrained deep net is a shallow 2 → 8 sigmoid map
    torch.manual_seed(0)
    deep = ShallowNet(2, [8, 8, 8], 2).double()
    shallow = ShallowNet(2, 8, 2).double()
    shallow.hidden0.load_state_dict(deep.hidden0.state_dict())
    grid = ng.Grid([(-1.5, 1.5)] * 2, resolution=6)
    cf = shallow_log_volume(grid.points, shallow)
    np.testing.assert_allclose(
        ds.log_volume_element.sel(seed=0, epoch=0, layer="hidden0").values.ravel(),
        cf,
        rtol=1e-11,
    )
    import matplotlib

    matplotlib.use("Agg")
    from neurogeom import plot

    fig = plot.volume_panels(ds)
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert [a.get_title() for a in panels[::3]] == [
        "hidden0, start (epoch 0)",
        "hidden1, start (epoch 0)",
        "hidden2, start (epoch 0)",
    ]
    assert all(a.get_xlabel() == "u" and a.get_ylabel() == "v" for a in panels)
