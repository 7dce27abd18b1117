import os
import pickle
import sys
import time

import numpy as np
import pytest
import torch
import xarray as xr

import neurogeom as ng
from neurogeom.models import ShallowNet
from neurogeom.scale import (
    _Shipped,
    block_points,
    lazy_geometry,
    lazy_geometry_over,
    load_zarr,
    save_zarr,
)


def net(seed=0):
    torch.manual_seed(seed)
    return ShallowNet(3, (16, 12), n_classes=4).double()


def plane(resolution=9):
    a, b, c = np.random.default_rng(0).normal(size=(3, 3))
    return ng.Plane(a, b, c, resolution=resolution)


def test_block_points_are_whole_rows():
    assert block_points(plane(9), 40) == 36
    assert block_points(plane(9), 5) == 9  # at least one row
    assert block_points(ng.Points(np.zeros((7, 2))), 3) == 3
    with pytest.raises(ValueError):
        block_points(plane(), 0)


def test_lazy_equals_eager_exactly_on_local_threads():
    model = net()
    rm = ng.TorchResponseMap(model, model.hidden_layers)
    kwargs = {"classifier": model, "config": {"note": "x"}}
    lazy = lazy_geometry(rm, plane(), block_size=27, **kwargs)
    assert lazy.log_volume_element.chunks == ((2,), (3, 3, 3), (9,))  # layer, u, v
    assert isinstance(lazy.metric.data, __import__("dask.array").array.Array)
    eager = ng.geometry(rm, plane(), block_size=27, **kwargs)
    xr.testing.assert_identical(lazy.compute(), eager)


def test_lazy_sampled_map_with_bootstrap_equals_eager():
    pop = ng.simulate.LinearPopulation(np.array([[1.0, 0.0], [0.5, 2.0], [1.0, 1.0]]))
    X = pop.uniform_stimuli(200, random_state=0)
    R = pop.sample(X, 4, noise=0.2, random_state=1)
    rm = ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.6}, n_bootstrap=20)
    grid = ng.Grid([(-0.5, 0.5), (-0.5, 0.5)], resolution=6)
    lazy = lazy_geometry(rm, grid, block_size=12).compute()
    xr.testing.assert_identical(lazy, ng.geometry(rm, grid, block_size=12))
    assert "log_volume_element_ci_low" in lazy


def test_lazy_over_checkpoints():
    maps = {epoch: ng.TorchResponseMap(net(epoch), "hidden1") for epoch in (0, 5)}
    lazy = lazy_geometry_over(maps, plane(), dim="epoch", block_size=27)
    assert lazy.log_volume_element.dims == ("epoch", "u", "v")
    assert list(lazy.epoch.values) == [0, 5] and lazy.anchors.dims == ("anchor", "stimulus_0")
    for epoch, rm in maps.items():
        eager = ng.geometry(rm, plane(), block_size=27)
        np.testing.assert_array_equal(lazy.metric.sel(epoch=epoch), eager.metric)
    cfg = ng.dataset.config_of(lazy)
    assert len(cfg["response_maps"]) == 2 and "response_map" not in cfg


def test_zarr_round_trip(tmp_path):
    model = net()
    rm = ng.TorchResponseMap(model, model.hidden_layers)
    lazy = lazy_geometry(rm, plane(), block_size=27)
    path = save_zarr(lazy, tmp_path / "g.zarr")
    back = load_zarr(path)
    assert back.log_volume_element.chunks is not None  # opened lazily
    eager = ng.geometry(rm, plane(), block_size=27)
    for name in eager.data_vars:
        np.testing.assert_array_equal(back[name].values, eager[name].values)
    assert list(back.layer.values) == ["hidden0", "hidden1"]
    assert back.attrs["config"] == eager.attrs["config"]
    with pytest.raises(FileExistsError, match="mode='w'"):
        save_zarr(lazy, path)
    save_zarr(lazy, path, mode="w")
    with pytest.raises(FileNotFoundError):
        load_zarr(tmp_path / "missing.zarr")


def test_missing_optional_dependency_is_a_clear_import_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "zarr", None)
    with pytest.raises(ImportError, match=r"neurogeom\[zarr\]"):
        save_zarr(xr.Dataset(), tmp_path / "x.zarr")


def test_shipped_map_travels_as_its_first_pickle():
    model = net()
    shipped = _Shipped(ng.TorchResponseMap(model, model.hidden_layers))
    remote = pickle.loads(pickle.dumps(shipped))
    live = remote.get()
    assert live is remote.get()  # unpickled once per process
    # a worker passing the map on mid-forward must not ship the forward's hooks
    live.model.hidden0.register_forward_hook(lambda *args: None)
    passed_on = pickle.loads(pickle.dumps(remote)).get()
    assert not passed_on.model.hidden0._forward_hooks


def test_local_cluster_two_workers_equals_eager(monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    # a nanny writes its pre-spawn variables into this process's environment: undo after
    for key in dask.config.get("distributed.nanny.pre-spawn-environ"):
        if key in os.environ:
            monkeypatch.setenv(key, os.environ[key])
        else:
            monkeypatch.delenv(key, raising=False)
    model = net()
    rm = ng.TorchResponseMap(model, model.hidden_layers)
    where = plane(12)
    eager = ng.geometry(rm, where, block_size=36)
    start = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        lazy = lazy_geometry(rm, where, block_size=36)
        result = client.compute(lazy).result()
        assert len(client.scheduler_info()["workers"]) == 2
        grid = ng.Grid([(-1, 1), (-1, 1)], resolution=5)
        doubled = ng.TorchResponseMap(lambda x: 2 * torch.tanh(x), dtype=torch.float64)
        shipped_lambda = client.compute(lazy_geometry(doubled, grid, block_size=10)).result()
    xr.testing.assert_identical(result, eager)
    xr.testing.assert_identical(shipped_lambda, ng.geometry(doubled, grid, block_size=10))
    assert time.perf_counter() - start < 60


def test_missing_dask_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"neurogeom\[dask\]"):
        lazy_geometry(ng.TorchResponseMap(torch.tanh), ng.Points(np.zeros((2, 2))))
