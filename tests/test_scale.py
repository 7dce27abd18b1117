import multiprocessing
import os
import pickle
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch
import xarray as xr

import neurogeom as ng
from neurogeom.errors import DataFormatError, DataNotFoundError, FileWriteError
from neurogeom.models import ShallowNet
from neurogeom.scale import (
    ShippedMap,
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
    assert back.attrs == eager.attrs  # the completion marker is not among the attrs
    with pytest.raises(FileWriteError, match="mode='w'") as info:
        save_zarr(lazy, path)
    assert isinstance(info.value, OSError)
    save_zarr(lazy, path, mode="w")
    assert sorted(os.listdir(tmp_path)) == ["g.zarr"]
    with pytest.raises(ng.errors.ParameterError, match="mode='a'"):
        save_zarr(lazy, path, mode="a")
    with pytest.raises(DataNotFoundError, match="missing.zarr"):
        load_zarr(tmp_path / "missing.zarr")


def small_store(tmp_path, name="g.zarr"):
    """A two-variable store of 4 x 3 chunks, one chunk all NaN."""
    values = np.arange(48.0).reshape(8, 6)
    values[:2, :2] = np.nan
    ds = xr.Dataset(
        {"a": (("u", "v"), values), "b": ("u", np.ones(8))},
        coords={"u": np.arange(8), "v": np.arange(6)},
        attrs={"config": "{}"},
    ).chunk({"u": 2, "v": 2})
    return ds, save_zarr(ds, tmp_path / name)


def test_zarr_all_nan_chunk_round_trips(tmp_path):
    ds, path = small_store(tmp_path)
    xr.testing.assert_identical(load_zarr(path).compute(), ds.compute())
    in_memory = save_zarr(ds.compute(), tmp_path / "m.zarr")  # no dask: written eagerly
    xr.testing.assert_identical(load_zarr(in_memory).compute(), ds.compute())


def test_zarr_missing_chunk_is_refused_not_read_as_nan(tmp_path):
    _, path = small_store(tmp_path)
    os.remove(path / "a" / "1.2")
    with pytest.raises(DataFormatError, match=r"'a'.*1\.2") as info:
        load_zarr(path)
    assert str(path) in str(info.value)
    _, path = small_store(tmp_path, "h.zarr")
    os.remove(path / "a" / "0.0")  # the all-NaN chunk: zarr would not even write it
    with pytest.raises(DataFormatError, match="0.0"):
        load_zarr(path)


def test_zarr_missing_variable_is_refused(tmp_path):
    _, path = small_store(tmp_path)
    shutil.rmtree(path / "b")
    with pytest.raises(DataFormatError, match="'b'"):
        load_zarr(path)


def test_zarr_store_without_completion_marker_is_refused(tmp_path):
    """What a store killed mid-write looked like: all metadata, some chunks."""
    ds, _ = small_store(tmp_path)
    path = tmp_path / "killed.zarr"
    ds.to_zarr(path, consolidated=False, zarr_format=2)
    with pytest.raises(DataFormatError, match="incomplete") as info:
        load_zarr(path)
    assert "strict=False" in str(info.value)
    xr.testing.assert_identical(load_zarr(path, strict=False).compute(), ds.compute())


@pytest.mark.parametrize("content", ["file", "empty-dir", "bad-json"])
def test_load_zarr_of_something_else_is_a_data_format_error(tmp_path, content):
    path = tmp_path / "x.zarr"
    if content == "file":
        path.write_text("x")
    else:
        path.mkdir()
        if content == "bad-json":
            (path / ".zgroup").write_text('{"zarr_format": 2}')
            (path / ".zattrs").write_text("{not json")
    with pytest.raises(DataFormatError, match="x.zarr"):
        load_zarr(path)
    with pytest.raises(DataFormatError, match="x.zarr"):
        load_zarr(path, strict=False)


def _fail_on_third_block(block, block_info=None):
    if block_info[0]["chunk-location"][0] == 2:
        raise RuntimeError("the response map failed")
    return block


def test_zarr_write_that_fails_midway_leaves_nothing_behind(tmp_path):
    ds, path = small_store(tmp_path)
    broken = ds.assign(a=ds.a.copy(data=ds.a.data.map_blocks(_fail_on_third_block, dtype=float)))
    with pytest.raises(RuntimeError, match="response map failed"):
        save_zarr(broken, tmp_path / "new.zarr")
    with pytest.raises(RuntimeError, match="response map failed"):
        save_zarr(broken, path, mode="w")  # the old store survives a failed overwrite
    assert sorted(os.listdir(tmp_path)) == ["g.zarr"]
    xr.testing.assert_identical(load_zarr(path).compute(), ds.compute())


def test_zarr_target_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path):
    ds, _ = small_store(tmp_path)
    (tmp_path / "f.zarr").write_text("x")
    with pytest.raises(FileWriteError, match="f.zarr"):
        save_zarr(ds, tmp_path / "f.zarr", mode="w")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "precious.txt").write_text("x")
    with pytest.raises(FileWriteError, match="not a Zarr store"):
        save_zarr(ds, folder, mode="w")  # never deletes a folder that is not a store
    assert (folder / "precious.txt").exists()
    assert sorted(os.listdir(tmp_path)) == ["f.zarr", "g.zarr", "results"]


def test_zarr_unsavable_variable_is_a_data_format_error(tmp_path):
    ds, _ = small_store(tmp_path)
    bad = ds.assign(bad=("u", np.array([{}, 1, "a", 2.0, None, 1, 2, 3], dtype=object)))
    with pytest.raises(DataFormatError, match="'bad'"):
        save_zarr(bad, tmp_path / "bad.zarr")
    assert sorted(os.listdir(tmp_path)) == ["g.zarr"]


def _save_zarr_many(path: str, sync: str, value: float, times: int) -> int:
    ds = xr.Dataset({"a": ("u", np.full(40, value))}, attrs={"config": "{}"}).chunk({"u": 4})
    open(os.path.join(sync, f"ready-{value}"), "w").close()
    while not os.path.exists(os.path.join(sync, "go")):
        time.sleep(0.001)
    for _ in range(times):
        save_zarr(ds, path, mode="w")
    return times


def test_two_processes_overwriting_one_store_leave_one_complete_store(tmp_path):
    out, sync = tmp_path / "out", tmp_path / "sync"
    out.mkdir()
    sync.mkdir()
    path = out / "g.zarr"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        jobs = [pool.submit(_save_zarr_many, str(path), str(sync), v, 15) for v in (1.0, 2.0)]
        while len(os.listdir(sync)) < 2 and not any(job.done() for job in jobs):
            time.sleep(0.01)
        (sync / "go").touch()
        assert [job.result() for job in jobs] == [15, 15]
    values = load_zarr(path).a.values
    assert values.shape == (40,) and len(set(values.tolist())) == 1
    assert os.listdir(out) == ["g.zarr"]


def test_missing_optional_dependency_is_a_clear_import_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "zarr", None)
    with pytest.raises(ImportError, match=r"neurogeom\[zarr\]") as info:
        save_zarr(xr.Dataset(), tmp_path / "x.zarr")
    assert isinstance(info.value, ng.NeurogeomError)
    with pytest.raises(ng.errors.MissingDependencyError, match=r"neurogeom\[zarr\]"):
        load_zarr(tmp_path)


def test_shipped_map_travels_as_its_first_pickle():
    model = net()
    shipped = ShippedMap(ng.TorchResponseMap(model, model.hidden_layers))
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
