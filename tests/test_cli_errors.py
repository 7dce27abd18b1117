"""Bad settings, unusable paths and late failures: one line on stderr, exit 2, nothing left."""

from __future__ import annotations

import pytest

from neurogeom.cli import main

TOY = {"widths": "[3]", "epochs": "2", "seeds": "[0]", "grid_resolution": "4"}


def _toml(settings: dict[str, str]) -> str:
    return "".join(f"{k} = {v}\n" for k, v in settings.items())


def _one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"neurogeom {command}: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "c.toml")


@pytest.mark.parametrize(
    "setting, value",
    [
        ("epochs", "0"),
        ("epochs", "-3"),
        ("lr", "0"),
        ("lr", "nan"),
        ("lr", "inf"),
        ("lr", "-0.1"),
        ("batch_size", "0"),
        ("momentum", "-1"),
        ("widths", "[]"),
        ("widths", "[0]"),
        ("widths", '["5"]'),
        ("widths", "[2.5]"),
        ("seeds", "[]"),
        ("seeds", "[-1]"),
        ("grid_resolution", "1"),
        ("grid_extent", "inf"),
        ("n_points", "0"),
        ("stages", "[]"),
        ("stages", '["begin"]'),
        ("optimizer", '"rmsprop"'),
        ("progress", '"yes"'),
    ],
)
def test_bad_toy_setting(tmp_path, capsys, setting, value):
    cfg = tmp_path / "c.toml"
    cfg.write_text(_toml({**TOY, setting: value}))
    out = tmp_path / "runs"
    assert main(["run", "toy", "--config", str(cfg), "--out", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err, "run toy")
    assert f"'{setting}'" in line
    assert _leftovers(tmp_path) == []  # no run folder, not even the --out folder


@pytest.mark.parametrize(
    "text, match",
    [
        ("digits = [7]\n", "'digits'"),
        ("digits = [7, 12]\n", "'digits'"),
        ("snapshot_epochs = [0, 99]\n", "'snapshot_epochs'"),
        ("snapshot_epochs = []\n", "'snapshot_epochs'"),
        ('train_dtype = "float16"\n', "'train_dtype'"),
        ("steps = 1\n", "'steps'"),
        ("max_samples = -5\n", "'max_samples'"),
        ("weight_decay = nan\n", "'weight_decay'"),
    ],
)
def test_bad_mnist_setting(tmp_path, capsys, text, match):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    assert main(["run", "mnist-line", "--config", str(cfg), "--out", str(tmp_path / "r")]) == 2
    assert match in _one_error_line(capsys.readouterr().err, "run mnist-line")
    assert _leftovers(tmp_path) == []


def test_bad_deep_setting(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("width = 0.0\n")
    assert main(["run", "cifar-plane", "--config", str(cfg), "--out", str(tmp_path / "r")]) == 2
    assert "'width'" in _one_error_line(capsys.readouterr().err, "run cifar-plane")


@pytest.mark.parametrize("what", ["missing", "folder", "not-toml", "binary"])
def test_unusable_config_path(tmp_path, capsys, what):
    cfg = tmp_path / "c.toml"
    if what == "folder":
        cfg.mkdir()
    elif what == "not-toml":
        cfg.write_text("epochs = = 3\n")
    elif what == "binary":
        cfg.write_bytes(b"\xff\xfe\x00epochs")
    assert main(["run", "toy", "--config", str(cfg), "--out", str(tmp_path / "r")]) == 2
    assert "config file" in _one_error_line(capsys.readouterr().err, "run toy")
    assert not (tmp_path / "r").exists()


def test_unusable_out_fails_before_training(tmp_path, capsys, monkeypatch):
    import neurogeom.experiments.runner as runner

    def no_training(*args, **kwargs):
        raise AssertionError("training started although --out is unusable")

    monkeypatch.setattr(runner, "train_and_measure", no_training)
    cfg = tmp_path / "c.toml"
    cfg.write_text(_toml(TOY))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker, blocker / "below"):
        assert main(["run", "toy", "--config", str(cfg), "--out", str(out)]) == 2
        assert "output folder" in _one_error_line(capsys.readouterr().err, "run toy")


def test_missing_netcdf_engine_fails_before_training(tmp_path, capsys, monkeypatch):
    import neurogeom.dataset
    import neurogeom.experiments.runner as runner

    def no_engine() -> str:
        raise ImportError("writing netCDF-4 needs netCDF4 or h5netcdf")

    def no_training(*args, **kwargs):
        raise AssertionError("training started without a netCDF engine")

    monkeypatch.setattr(neurogeom.dataset, "netcdf_engine", no_engine)
    monkeypatch.setattr(runner, "train_and_measure", no_training)
    cfg = tmp_path / "c.toml"
    cfg.write_text(_toml(TOY))
    assert main(["run", "toy", "--config", str(cfg), "--out", str(tmp_path / "r")]) == 2
    assert "netCDF" in _one_error_line(capsys.readouterr().err, "run toy")
    assert not (tmp_path / "r").exists()


def test_late_failure_leaves_no_run_folder(tmp_path, capsys, monkeypatch):
    import dataclasses

    import neurogeom.experiments as experiments

    exp = experiments.EXPERIMENTS["toy"]

    def broken(ds):
        raise RuntimeError("the figure could not be drawn")

    monkeypatch.setitem(
        experiments.EXPERIMENTS,
        "toy",
        dataclasses.replace(exp, figures=broken),
    )
    cfg = tmp_path / "c.toml"
    cfg.write_text(_toml(TOY))
    out = tmp_path / "runs"
    out.mkdir()
    assert main(["run", "toy", "--config", str(cfg), "--out", str(out), "--no-progress"]) == 2
    line = _one_error_line(capsys.readouterr().err, "run toy")
    assert "the figure could not be drawn" in line
    assert list(out.iterdir()) == []  # neither a run folder nor a staging folder


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--epochs", "0"),
        ("--epochs", "-1"),
        ("--epochs", "nan"),
        ("--epochs", "2.5"),
        ("--width", "0"),
        ("--resolution", "1"),
        ("--seed", "-1"),
    ],
)
def test_demo_refuses_bad_settings_up_front(tmp_path, capsys, flag, value):
    out = tmp_path / "demo"
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--out", str(out), flag, value])
    assert exit_.value.code == 2
    assert flag in _one_error_line(capsys.readouterr().err, "demo")
    assert not out.exists()


def test_demo_late_failure_and_bad_out(tmp_path, capsys, monkeypatch):
    import neurogeom.experiments.demo as demo

    def broken(ds, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(demo, "_figure", broken)
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--epochs", "2", "--resolution", "4", "--no-progress"]
    assert main(args) == 2
    assert "No space left" in _one_error_line(capsys.readouterr().err, "demo")
    assert _leftovers(tmp_path) == []  # no demo.nc without its figure
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "--out", str(blocker), "--epochs", "2"]) == 2
    assert "output folder" in _one_error_line(capsys.readouterr().err, "demo")
