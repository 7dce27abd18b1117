import numpy as np

import neurogeom as ng
from neurogeom.cli import main


def test_demo_writes_dataset_and_figure(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "3", "--resolution", "6"]) == 0
    printed = capsys.readouterr().out
    assert str(tmp_path) in printed
    ds = ng.load(tmp_path / "demo.nc")
    assert ds.log_volume_element.dims == ("epoch", "u", "v")
    assert ds.epoch.values.tolist() == [0, 3]
    assert np.isfinite(ds.log_volume_element).all()
    assert ds.training_stimuli.shape == (400, 2)
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    assert ng.dataset.config_of(ds)["epochs"] == 3
