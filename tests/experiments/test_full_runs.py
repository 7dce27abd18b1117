"""The three experiments at their default settings (slow: minutes each)."""

from __future__ import annotations

import json
import time

import pytest

from neurogeom.dataset import load
from neurogeom.experiments import run_experiment


@pytest.mark.slow
@pytest.mark.parametrize("name", ["toy", "mnist-line", "mnist-plane"])
def test_default_run_finishes_and_shows_the_effect(name, tmp_path):
    start = time.perf_counter()
    paths = run_experiment(name, out=tmp_path, config={"progress": False})
    elapsed = time.perf_counter() - start
    ds = load(paths["dataset"])
    cfg = json.loads(ds.attrs["config"])
    assert cfg["experiment"] == name and len(cfg["seeds"]) == 3
    last = ds.spearman_entropy.isel(epoch=-1).mean("seed")
    if name == "toy":
        assert float(last.sel(width=200)) > 0.8
        assert float(ds.spearman_distance.isel(epoch=-1).mean("seed").sel(width=200)) < -0.7
    else:
        assert float(last.min()) > 0.6
    assert elapsed < 600  # the budget is 5 minutes on an idle 2-core machine
