"""Training with measured snapshots: epoch stacking, recorded settings, run folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr

import neurogeom as ng
from neurogeom.data import sinusoid_task
from neurogeom.experiments.runner import (
    new_run_folder,
    progress,
    record_config,
    stage_epochs,
    train_and_measure,
)
from neurogeom.models import ShallowNet
from neurogeom.train import TrainConfig, train_classifier

GRID = ng.Grid([(-1, 1), (-1, 1)], resolution=4)


def _measure(model):
    rm = ng.TorchResponseMap(model, "hidden0", dtype=torch.float64)
    return ng.geometry(rm, GRID, classifier=model)


def test_snapshots_are_measured_at_their_epochs():
    X, y = sinusoid_task(60, seed=0)
    torch.manual_seed(0)
    net = ShallowNet(2, 6).double()
    before = _measure(net).log_volume_element.values.copy()
    cfg = TrainConfig(epochs=4, lr=0.5, seed=1)
    run = train_and_measure(net, X, y, cfg, [4, 0, 2], _measure)
    ds = run.dataset
    assert ds.epoch.values.tolist() == [0, 2, 4]
    assert ds.epoch.attrs["long_name"] == "training epoch of the snapshot"
    assert ds.log_volume_element.dims == ("epoch", "u", "v")
    # epoch 0 is the untrained net, the last snapshot is the returned (trained) net
    np.testing.assert_array_equal(ds.log_volume_element.sel(epoch=0).values, before)
    np.testing.assert_array_equal(
        ds.log_volume_element.sel(epoch=4).values, _measure(net).log_volume_element.values
    )
    assert not np.allclose(before, ds.log_volume_element.sel(epoch=2).values)
    # the same training without snapshots reaches the same weights and losses
    torch.manual_seed(0)
    twin = ShallowNet(2, 6).double()
    losses = train_classifier(twin, X, y, cfg)
    assert losses == run.losses
    np.testing.assert_array_equal(ds.loss.values, losses)
    assert ds.loss.dims == ("train_epoch",) and ds.train_epoch.values.tolist() == [1, 2, 3, 4]
    torch.testing.assert_close(
        twin.hidden0.linear.weight, net.hidden0.linear.weight, rtol=0, atol=0
    )
    # accuracy per snapshot equals the direct computation
    with torch.no_grad():
        acc = (net(torch.as_tensor(X)).argmax(1).numpy() == y).mean()
    assert float(ds.accuracy.sel(epoch=4)) == acc
    assert ds.accuracy.attrs["long_name"] == "training accuracy"


def test_no_snapshots_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        train_and_measure(
            ShallowNet(2, 3), np.zeros((4, 2)), np.zeros(4, int), TrainConfig(), [], _measure
        )


def test_record_config_round_trips_through_json():
    ds = record_config(
        xr.Dataset(attrs={"space": "x"}),
        {"seed": 3, "widths": [5, 25]},
        experiment="toy",
        seconds=1.234,
    )
    cfg = json.loads(ds.attrs["config"])
    assert cfg["experiment"] == "toy" and cfg["seed"] == 3 and cfg["widths"] == [5, 25]
    assert cfg["neurogeom_version"] == ng.__version__ and cfg["wall_time_s"] == 1.23
    assert {"torch_version", "python_version"} <= set(cfg)
    assert "space" not in ds.attrs


def test_stage_epochs():
    assert stage_epochs(10) == [0, 5, 10]
    assert stage_epochs(7, ["end", "start"]) == [7, 0]
    with pytest.raises(ValueError, match="unknown stages"):
        stage_epochs(10, ["begin"])
    with pytest.raises(ValueError, match="same epoch"):
        stage_epochs(1)


def test_run_folders_are_unique(tmp_path):
    a, b = new_run_folder(tmp_path, "toy"), new_run_folder(tmp_path, "toy")
    assert a != b and a.is_dir() and b.is_dir() and a.name.startswith("toy-")


def test_progress_is_transparent(monkeypatch):
    import sys

    assert list(progress(range(3), desc="x")) == [0, 1, 2]
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert list(progress(range(3))) == [0, 1, 2]
    X, y = sinusoid_task(20, seed=0)
    assert len(train_classifier(ShallowNet(2, 3), X, y, TrainConfig(epochs=2), progress="p")) == 2


def test_a_published_run_folder_has_the_permissions_mkdir_gives(tmp_path):
    import os

    from neurogeom.experiments.runner import publish, staged

    with staged(tmp_path, "toy") as tmp:
        (tmp / "claims.txt").write_text("ok")
        final = publish(tmp, tmp_path / "toy-1")
    plain = tmp_path / "plain"
    plain.mkdir()
    assert oct(final.stat().st_mode & 0o777) == oct(plain.stat().st_mode & 0o777)
    assert os.access(final, os.R_OK)
