"""``neurogeom run``: help, one tiny end-to-end run, clear errors."""

from __future__ import annotations

import json

import pytest

from neurogeom.cli import main
from neurogeom.dataset import load


def test_run_help_lists_experiments(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in ("toy", "toy-deep", "mnist-line", "mnist-plane"):
        assert name in out


def test_tiny_toy_run_end_to_end(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text("widths = [3]\nepochs = 2\nseeds = [0, 1]\ngrid_resolution = 5\n")
    assert main(["run", "toy", "--config", str(cfg), "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.startswith("toy-")
    names = sorted(p.name for p in folders[0].iterdir())
    assert names == [
        "claims.txt",
        "fig1_volume.pdf",
        "fig1_volume.png",
        "toy.nc",
        "training.pdf",
        "training.png",
    ]
    assert f"run folder: {folders[0].resolve()}" in out
    assert "rho(logvol, entropy)" in out and "rho(logvol, distance)" in out
    ds = load(folders[0] / "toy.nc")
    config = json.loads(ds.attrs["config"])
    assert config["widths"] == [3] and config["epochs"] == 2 and config["progress"] is False
    assert ds.log_volume_element.sizes["width"] == 1


def test_unknown_setting_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("widht = [3]\n")
    assert main(["run", "toy", "--config", str(cfg), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown setting 'widht'" in err and "widths" in err
    assert not any(tmp_path.glob("toy-*"))  # nothing half-written


def test_bad_values_are_clear_errors(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('task = "spiral"\n')
    assert main(["run", "toy", "--config", str(cfg), "--out", str(tmp_path)]) == 2
    assert "setting 'task'" in capsys.readouterr().err
    assert (
        main(["run", "mnist-line", "--data", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    )
    assert "does not exist" in capsys.readouterr().err
