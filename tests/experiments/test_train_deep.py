"""Training loops: checkpoints, exact resume, recorded settings (smoke sizes, CPU)."""

from __future__ import annotations

import json

import pytest
import torch

from neurogeom.data.cifar import synthetic_cifar10
from neurogeom.errors import FileWriteError
from neurogeom.experiments.train_deep import (
    DeepTrainConfig,
    build_model,
    extract_features,
    load_checkpoint,
    train,
)
from neurogeom.models import BarlowTwins, LinearProbe, ResNet

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return synthetic_cifar10(24, seed=0)


def config(method: str = "supervised", **kw) -> DeepTrainConfig:
    base = dict(method=method, depth=18, width=1 / 16, epochs=2, batch_size=8, checkpoints=(0, 2))
    return DeepTrainConfig(**{**base, "projector": (8,), **kw})


class Stop(Exception):
    pass


def stop_after_first_epoch(line: str) -> None:
    if line.startswith("epoch 1/"):
        raise Stop


@pytest.mark.parametrize("method", ["supervised", "barlow"])
def test_resume_reproduces_an_uninterrupted_run(tmp_path, data, method):
    cfg = config(method)
    straight = train(cfg, data, tmp_path / "a", device="cpu", log=None)
    with pytest.raises(Stop):
        train(cfg, data, tmp_path / "b", device="cpu", log=stop_after_first_epoch)
    assert load_checkpoint(tmp_path / "b" / "latest.pt").epoch == 1
    resumed = train(cfg, data, tmp_path / "b", device="cpu", log=None)
    assert [h["loss"] for h in resumed] == [h["loss"] for h in straight]
    a = load_checkpoint(tmp_path / "a" / "epoch_0002.pt").model.state_dict()
    b = load_checkpoint(tmp_path / "b" / "epoch_0002.pt").model.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_checkpoints_record_settings_and_data(tmp_path, data):
    cfg = config(seed=3)
    train(cfg, data, tmp_path, device="cpu", log=None)
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == [
        "epoch_0000.pt",
        "epoch_0002.pt",
        "latest.pt",
    ]
    assert json.loads((tmp_path / "config.json").read_text()) == cfg.to_dict()
    assert [h["epoch"] for h in json.loads((tmp_path / "history.json").read_text())] == [1, 2]
    ck = load_checkpoint(tmp_path / "epoch_0000.pt")
    assert ck.config == cfg and ck.epoch == 0 and ck.history == []
    assert ck.data["source"] == "synthetic" and ck.data["n"] == 24
    assert not ck.model.training
    torch.manual_seed(3)
    fresh = build_model(cfg)
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, ck.model.state_dict()[k]), k
    trained = load_checkpoint(tmp_path / "epoch_0002.pt").model.state_dict()
    assert not torch.equal(trained["stem.0.weight"], fresh.state_dict()["stem.0.weight"])


def test_resume_refuses_other_settings(tmp_path, data):
    train(config(epochs=1, checkpoints=(1,)), data, tmp_path, device="cpu", log=None)
    with pytest.raises(ValueError, match="different config"):
        train(config(epochs=1, checkpoints=(1,), lr=0.1), data, tmp_path, device="cpu", log=None)
    with pytest.raises(FileWriteError, match="resume=False"):
        train(
            config(epochs=1, checkpoints=(1,)), data, tmp_path, device="cpu", resume=False, log=None
        )


def test_barlow_features_feed_a_probe(tmp_path, data):
    cfg = config("barlow", epochs=1, checkpoints=(1,))
    train(cfg, data, tmp_path, device="cpu", log=None)
    model = load_checkpoint(tmp_path / "epoch_0001.pt").model
    assert isinstance(model, BarlowTwins)
    feats = extract_features(model, data.images, batch_size=10, device="cpu")
    assert feats.shape == (24, 32) and torch.isfinite(feats).all()
    probe = LinearProbe().fit(feats, data.labels)
    assert probe.predict_proba(feats).shape == (24, len(probe.classes_))


def test_config_round_trip_and_validation():
    cfg = config("barlow", projector=(16, 8))
    assert DeepTrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert isinstance(build_model(config()), ResNet)
    with pytest.raises(ValueError, match="method"):
        DeepTrainConfig(method="simclr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="checkpoints"):
        DeepTrainConfig(epochs=5, checkpoints=(0, 10))
    with pytest.raises(ValueError, match="unknown config keys"):
        DeepTrainConfig.from_dict({"lr": 0.1, "optimizer": "adam"})
    reference = DeepTrainConfig()
    assert (reference.lr, reference.momentum, reference.weight_decay, reference.batch_size) == (
        0.01,
        0.9,
        1e-4,
        1024,
    )


def test_command_line_smoke_run(tmp_path, capsys):
    from neurogeom.cli import main

    args = ["train", "--synthetic", "16", "--depth", "18", "--width", "0.0625", "--epochs", "1"]
    assert main([*args, "--batch-size", "8", "--device", "cpu", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "data: synthetic (16 images)" in out
    assert load_checkpoint(tmp_path / "epoch_0001.pt").data["source"] == "synthetic"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", ["supervised", "barlow"])
def test_training_and_resume_on_cuda(tmp_path, data, method):
    cfg = config(method)
    with pytest.raises(Stop):
        train(cfg, data, tmp_path, device="cuda", log=stop_after_first_epoch)
    history = train(cfg, data, tmp_path, device="cuda", log=None)
    assert [h["epoch"] for h in history] == [1, 2]
    model = load_checkpoint(tmp_path / "epoch_0002.pt", map_location="cuda").model
    feats = extract_features(model, data.images, device="cuda")
    assert feats.shape[0] == 24 and torch.isfinite(feats).all()
