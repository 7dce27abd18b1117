"""CIFAR-10 loader on tiny files in the real pickle format; errors; the synthetic stand-in."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from neurogeom.data import cifar
from neurogeom.data.cifar import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    denormalize,
    load_cifar10,
    normalize,
    read_batch,
    synthetic_cifar10,
)
from neurogeom.errors import DataFormatError, DataNotFoundError, NeurogeomError


def batch(n: int, offset: int) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(offset)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    d = {
        b"batch_label": b"tiny batch",
        b"labels": [int(v) for v in labels],
        b"data": data,
        b"filenames": [f"img{offset}_{i}.png".encode() for i in range(n)],
    }
    return d, data, labels


def write_folder(folder: Path, n: int = 3, protocol: int = 2) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    datas, labels = [], []
    for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
        d, data, lab = batch(n, i)
        (folder / name).write_bytes(pickle.dumps(d, protocol=protocol))
        datas.append(data)
        labels.append(lab)
    meta = {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return np.concatenate(datas), np.concatenate(labels)


@pytest.mark.parametrize("protocol", [2, 5])
def test_round_trip_of_real_format(tmp_path, protocol):
    data, labels = write_folder(tmp_path / "cifar-10-batches-py", protocol=protocol)
    train = load_cifar10(tmp_path, "train")  # the folder above cifar-10-batches-py
    test = load_cifar10(tmp_path / "cifar-10-batches-py", "test")
    assert train.source == "cifar10" and not train.is_synthetic and train.split == "train"
    assert train.images.shape == (15, 3, 32, 32) and train.images.dtype == torch.float32
    assert train.classes == CIFAR10_CLASSES and len(test) == 3
    np.testing.assert_array_equal(train.labels.numpy(), labels[:15])
    # row layout: channel-major, then row, then column
    row = data[4]
    pix = train.images[4]
    for c, h, w in [(0, 0, 0), (1, 5, 17), (2, 31, 31)]:
        assert float(pix[c, h, w]) == np.float32(row[c * 1024 + h * 32 + w]) / np.float32(255)
    as_bytes = (test.images * 255).round().to(torch.uint8).numpy().reshape(3, -1)
    np.testing.assert_array_equal(as_bytes, data[15:])


def test_env_var_names_the_folder(tmp_path, monkeypatch):
    write_folder(tmp_path)
    monkeypatch.setenv("NEUROGEOM_CIFAR10", str(tmp_path))
    assert len(load_cifar10(split="test")) == 3


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROGEOM_CIFAR10", raising=False)
    monkeypatch.setattr(cifar, "_from_torchvision", _no_torchvision)
    with pytest.raises(DataNotFoundError, match="NEUROGEOM_CIFAR10") as err:
        load_cifar10(tmp_path)
    assert "synthetic_cifar10" in str(err.value)
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, NeurogeomError)
    with pytest.raises(DataNotFoundError):
        load_cifar10()


def _no_torchvision(*args, **kwargs):
    raise ImportError("torchvision")


def test_missing_training_batch_is_named(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DataNotFoundError, match="data_batch_3"):
        load_cifar10(tmp_path, "train")


def test_truncated_and_garbage_files(tmp_path):
    write_folder(tmp_path)
    f = tmp_path / "test_batch"
    raw = f.read_bytes()
    f.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        load_cifar10(tmp_path, "test")
    f.write_bytes(b"this is not a pickle")
    with pytest.raises(DataFormatError):
        read_batch(f)


@pytest.mark.parametrize(
    "payload, match",
    [
        ({b"labels": [1]}, "'data'"),
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}, "uint8"),
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [1, 2]}, "uint8"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "labels for 2"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 12]}, "outside 0..9"),
        ([1, 2, 3], "expected a pickled dict"),
    ],
)
def test_malformed_contents(tmp_path, payload, match):
    f = tmp_path / "data_batch_1"
    f.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(DataFormatError, match=match):
        read_batch(f)


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_arbitrary_objects_are_refused(tmp_path, capsys):
    f = tmp_path / "data_batch_1"
    f.write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(DataFormatError, match="refusing"):
        read_batch(f)
    assert "pwned" not in capsys.readouterr().out


def test_normalisation_constants():
    mean_image = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1).expand(2, 3, 4, 4)
    torch.testing.assert_close(normalize(mean_image), torch.zeros(2, 3, 4, 4))
    x = torch.rand(2, 3, 4, 4)
    torch.testing.assert_close(normalize(x)[:, 1], (x[:, 1] - 0.4822) / 0.1994)
    torch.testing.assert_close(denormalize(normalize(x)), x)


def test_synthetic_stand_in_is_labelled_and_class_structured():
    train = synthetic_cifar10(300, seed=0)
    test = synthetic_cifar10(100, "test", seed=0)
    assert train.source == "synthetic" and train.is_synthetic
    assert train.classes[0] == "digit 0" and "digits" in train.info["generator"]
    assert train.images.shape == (300, 3, 32, 32)
    assert float(train.images.min()) >= 0 and float(train.images.max()) <= 1
    torch.testing.assert_close(synthetic_cifar10(300, seed=0).images, train.images)
    assert not torch.equal(synthetic_cifar10(300, seed=1).images, train.images)
    assert set(train.labels.tolist()) == set(range(10))
    # class structure: nearest class mean on held-out digits is far above chance (10 %)
    means = torch.stack([train.images[train.labels == c].mean(0) for c in range(10)])
    d = ((test.images[:, None] - means[None]) ** 2).flatten(2).sum(-1)
    accuracy = float((d.argmin(1) == test.labels).float().mean())
    assert accuracy > 0.8
    assert train.subset(10).info["subset"] == 10 and len(train.subset(10)) == 10
