"""``neurogeom run cifar-plane | cifar-stages | barlow-line | barlow-plane`` at a tiny size."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from neurogeom.cli import main
from neurogeom.data.cifar import normalize
from neurogeom.dataset import load

TINY = """
synthetic_n = 96
width = 0.03125
epochs = 1
checkpoints = [0, 1]
batch_size = 32
full_rank = 8
block_size = 16
"""
PLANE = "resolution = 3\n"
LINE = "steps = 3\n"

CASES = {
    "cifar-plane": (PLANE, "fig3_plane", {"epoch": 2, "space": 2, "u": 3, "v": 3}),
    "cifar-stages": (
        PLANE,
        "fig4_stages",
        {"epoch": 2, "space": 2, "layer": 4, "u": 3, "v": 3},
    ),
    "barlow-line": (LINE, "fig5_lines", {"epoch": 2, "pair": 2, "space": 2, "t": 3}),
    "barlow-plane": (PLANE, "fig6_plane", {"epoch": 2, "space": 2, "u": 3, "v": 3}),
}


def _run(name: str, tmp_path, extra: str = ""):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY + CASES[name][0] + extra)
    code = main(["run", name, "--config", str(cfg), "--out", str(tmp_path), "--no-progress"])
    return code, cfg


@pytest.mark.parametrize("name", list(CASES))
def test_runs_end_to_end_through_the_cli(name, tmp_path, capsys):
    code, _ = _run(name, tmp_path)
    assert code == 0
    out = capsys.readouterr().out
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert folder.name.startswith(f"{name}-") and f"run folder: {folder.resolve()}" in out
    files = {p.name for p in folder.iterdir()}
    figure = CASES[name][1]
    assert {f"{name}.nc", "claims.txt", f"{figure}.png", "training.png"} <= files
    assert "rho(logvol, entropy)" in (folder / "claims.txt").read_text()

    ds = load(folder / f"{name}.nc")
    sizes = dict(ds.log_volume_element.sizes)
    assert sizes == CASES[name][2]
    assert ds.epoch.values.tolist() == [0, 1]
    # every setting recorded, and the stand-in labelled as such
    config = json.loads(ds.attrs["config"])
    assert config["experiment"] == name and config["data"] == "synthetic"
    assert config["data_source"] == "synthetic" and config["width"] == 0.03125
    assert config["checkpoints"] == [0, 1] and config["full_rank"] == 8
    assert "NOT CIFAR-10" in ds.attrs["data_source"]
    # the two volume elements use the ranks they say: 1 or 2 tangents, top-8 of the full metric
    k = 1 if "t" in sizes else 2
    assert (ds["metric_rank"].sel(space="slice") == k).all()
    assert (ds["metric_rank"].sel(space="full") == 8).all()
    assert np.isfinite(ds.log_volume_element).all()
    assert ((ds.entropy >= 0) & (ds.entropy <= 1 + 1e-12)).all()
    # the display images are the measured anchors before normalisation
    shown = torch.as_tensor(ds.anchor_images.values)
    if "pair" in ds.anchor_images.dims:
        shown = shown.flatten(0, 1)
        anchors = ds.anchors.values.reshape(shown.shape)
    else:
        anchors = ds.anchors.values
    np.testing.assert_allclose(normalize(shown).numpy(), anchors, rtol=0, atol=1e-5)
    if name == "cifar-stages":  # the four stage outputs, pooled to the feature width
        assert ds.layer.values.tolist() == ["pooled1", "pooled2", "pooled3", "pooled4"]
        assert config["stage_pool"] == config["feature_width"] == 16


def test_missing_cifar_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NEUROGEOM_CIFAR10", raising=False)
    code = main(["run", "cifar-plane", "--data", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert code == 2
    assert "no CIFAR-10 batch files" in capsys.readouterr().err
    assert not any(tmp_path.glob("cifar-plane-*"))


def test_bad_pairs_and_classes_are_clear_errors(tmp_path, capsys):
    assert _run("barlow-line", tmp_path, "pairs = [[1, 5, 6]]\n")[0] == 2
    assert "pairs of two classes" in capsys.readouterr().err
    cfg = tmp_path / "bad.toml"
    cfg.write_text("classes = [7, 6]\n")
    assert main(["run", "cifar-plane", "--config", str(cfg), "--out", str(tmp_path)]) == 2
    assert "a plane needs three classes" in capsys.readouterr().err


def test_slice_only_runs_skip_the_full_space(tmp_path):
    assert _run("cifar-stages", tmp_path, 'spaces = ["slice"]\n')[0] == 0
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    ds = load(folder / "cifar-stages.nc")
    assert ds.space.values.tolist() == ["slice"]
    assert not (folder / "fig4_stages_full.png").exists()


def test_bad_spaces_fail_before_training(tmp_path, capsys):
    assert _run("barlow-plane", tmp_path, 'spaces = ["full"]\n')[0] == 2
    assert "spaces=['full']" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(CASES))
def test_full_scale_configs_are_valid_settings(name):
    from pathlib import Path

    from neurogeom.experiments import EXPERIMENTS, load_toml, resolve_config

    path = (
        Path(__file__).parents[2] / "examples" / "configs" / f"{name.replace('-', '_')}_full.toml"
    )
    cfg = resolve_config(EXPERIMENTS[name].defaults, load_toml(path))
    assert cfg["depth"] == 34 and cfg["width"] == 1.0 and cfg["batch_size"] == 1024
    assert cfg["full_rank"] == 512 and cfg["data"] == "cifar10"


def test_each_epoch_holds_its_own_checkpoint_measured_independently(tmp_path):
    """Recompute one checkpoint's fields from its saved weights with the plain library API."""
    import neurogeom as ng
    from neurogeom.experiments.deep import run_cifar_plane
    from neurogeom.experiments.train_deep import load_checkpoint

    settings = {"synthetic_n": 96, "width": 0.03125, "epochs": 2, "checkpoints": [0, 2]}
    settings.update(batch_size=32, resolution=3, full_rank=8, progress=False)
    ds = run_cifar_plane({**settings, "train_dir": str(tmp_path / "ckpt")})
    assert json.loads(ds.attrs["config"])["train_dir"] == str((tmp_path / "ckpt").resolve())
    net = load_checkpoint(tmp_path / "ckpt" / "epoch_0002.pt").model
    plane = ng.Plane(*ds.anchors.values, resolution=3, extent=1.2)
    rm = ng.TorchResponseMap(net, "pool", dtype=torch.float64)
    want = ng.geometry(rm, plane, classifier=net)
    full = ng.geometry(rm, plane, space="full", rank=8, keep_metric=False)
    got = ds.sel(epoch=2)
    np.testing.assert_allclose(
        got.log_volume_element.sel(space="slice"), want.log_volume_element, rtol=1e-10
    )
    np.testing.assert_allclose(
        got.log_volume_element.sel(space="full"), full.log_volume_element, rtol=1e-10
    )
    np.testing.assert_array_equal(got.prediction, want.prediction)
    # and the epochs differ: epoch 0 is the untrained network
    assert not np.allclose(ds.log_volume_element.sel(epoch=0), got.log_volume_element)


def test_constant_entropy_gives_a_noted_nan_claim_not_a_crash():
    import xarray as xr

    from neurogeom.experiments.deep import note_undefined, with_claim

    ds = xr.Dataset(
        {
            "log_volume_element": (("space", "t"), [[0.0, 1.0, 2.0], [2.0, 1.0, 3.0]]),
            "entropy": (("t",), [0.5, 0.5, 0.5]),
        },
        coords={"space": ["slice", "full"]},
    )
    out = note_undefined(with_claim(ds))
    assert np.isnan(out.spearman_entropy).all()
    assert "constant" in out.spearman_entropy.attrs["undefined"]
    ds["entropy"] = ("t", [0.1, 0.2, 0.3])
    out = note_undefined(with_claim(ds))
    np.testing.assert_allclose(out.spearman_entropy, [1.0, 0.5])
    assert "undefined" not in out.spearman_entropy.attrs


def test_library_api_example_runs(tmp_path, monkeypatch, capsys):
    import runpy
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "examples" / "deep_plane.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--quick", "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    assert "data: synthetic" in capsys.readouterr().out
    ds = load(tmp_path / "deep_plane.nc")
    assert dict(ds.log_volume_element.sizes) == {"epoch": 2, "space": 2, "u": 4, "v": 4}
    assert (tmp_path / "deep_plane.png").exists()
