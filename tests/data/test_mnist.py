"""MNIST IDX loader on tiny files in the real format, and the digits stand-in."""

from __future__ import annotations

import gzip
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from neurogeom.data import load_digits, load_image_data, load_mnist, read_idx, write_idx
from neurogeom.errors import DataFormatError, DataNotFoundError, NeurogeomError


def _raw_idx(array: np.ndarray, code: int = 0x08) -> bytes:
    """IDX bytes assembled by hand with struct (independent of write_idx)."""
    head = struct.pack(">BBBB", 0, 0, code, array.ndim)
    head += struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(">u1" if code == 0x08 else ">f4").tobytes()


def _mnist_dir(root: Path, n: int = 5, gz: bool = False, split: str = "train") -> tuple:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    prefix = "train" if split == "train" else "t10k"
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        body = _raw_idx(arr)
        name = f"{prefix}-{kind}-ubyte"
        if gz:
            (root / (name + ".gz")).write_bytes(gzip.compress(body))
        else:
            (root / name).write_bytes(body)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_mnist_reads_real_format(tmp_path, gz, split):
    images, labels = _mnist_dir(tmp_path, gz=gz, split=split)
    d = load_mnist(tmp_path, split=split, backend="idx")
    np.testing.assert_array_equal(d.images[:, 0].numpy(), images / 255.0)
    np.testing.assert_array_equal(d.labels.numpy(), labels)
    assert d.images.dtype == torch.float64 and d.labels.dtype == torch.int64
    assert d.source == "mnist" and d.split == split and len(d) == 5
    assert d.info == {"path": str(tmp_path.resolve()), "reader": "idx"}
    assert d.classes == tuple("0123456789")


def test_header_bytes_match_mnist_magic(tmp_path):
    images, _ = _mnist_dir(tmp_path)
    raw = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    assert raw[:4] == bytes.fromhex("00000803")
    assert struct.unpack(">3I", raw[4:16]) == (5, 28, 28)
    np.testing.assert_array_equal(read_idx(tmp_path / "train-images-idx3-ubyte"), images)


def test_env_var_and_load_image_data(tmp_path, monkeypatch):
    _, labels = _mnist_dir(tmp_path)
    monkeypatch.setenv("NEUROGEOM_MNIST", str(tmp_path))
    np.testing.assert_array_equal(load_mnist(backend="idx").labels.numpy(), labels)
    np.testing.assert_array_equal(load_image_data("mnist").labels.numpy(), labels)
    np.testing.assert_array_equal(load_image_data(tmp_path).labels.numpy(), labels)


def test_missing_env_and_dir_are_clear(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROGEOM_MNIST", raising=False)
    with pytest.raises(DataNotFoundError, match="NEUROGEOM_MNIST"):
        load_mnist()
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


def test_truncated_file(tmp_path):
    _mnist_dir(tmp_path)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-10])
    with pytest.raises(DataFormatError, match="truncated"):
        load_mnist(tmp_path, backend="idx")


def test_truncated_gzip(tmp_path):
    _mnist_dir(tmp_path, gz=True)
    f = tmp_path / "train-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-8])
    with pytest.raises(DataFormatError, match="corrupt or truncated"):
        load_mnist(tmp_path, backend="idx")


def test_wrong_magic_swapped_files(tmp_path):
    _mnist_dir(tmp_path)
    img, lab = tmp_path / "train-images-idx3-ubyte", tmp_path / "train-labels-idx1-ubyte"
    a, b = img.read_bytes(), lab.read_bytes()
    img.write_bytes(b)
    lab.write_bytes(a)
    with pytest.raises(DataFormatError, match="magic number"):
        load_mnist(tmp_path, backend="idx")


def test_not_idx_and_bad_type_code(tmp_path):
    f = tmp_path / "junk"
    f.write_bytes(b"hello world")
    with pytest.raises(DataFormatError, match="not an IDX file"):
        read_idx(f)
    f.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(DataFormatError, match="type code"):
        read_idx(f)
    f.write_bytes(bytes([0, 0, 0x08, 3, 0, 0]))
    with pytest.raises(DataFormatError, match="header"):
        read_idx(f)


def test_padded_file_and_wrong_image_size(tmp_path):
    _mnist_dir(tmp_path)
    f = tmp_path / "train-labels-idx1-ubyte"
    f.write_bytes(f.read_bytes() + b"\x00")
    with pytest.raises(DataFormatError, match="longer than its header"):
        load_mnist(tmp_path, backend="idx")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_raw_idx(np.zeros(5, np.uint8)))
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_raw_idx(np.zeros((5, 8, 8), np.uint8)))
    with pytest.raises(DataFormatError, match=r"\(28, 28\)"):
        load_mnist(tmp_path, backend="idx")


def test_count_mismatch(tmp_path):
    _mnist_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_raw_idx(np.zeros(4, np.uint8)))
    with pytest.raises(DataFormatError, match="5 images but 4 labels"):
        load_mnist(tmp_path, backend="idx")


def test_error_classes():
    assert issubclass(DataFormatError, NeurogeomError) and issubclass(DataFormatError, ValueError)
    assert issubclass(DataNotFoundError, NeurogeomError)
    assert issubclass(DataNotFoundError, FileNotFoundError)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_write_read_roundtrip(tmp_path, dtype, compress):
    a = (np.arange(24).reshape(2, 3, 4) % 100).astype(dtype)
    write_idx(tmp_path / "a", a, compress=compress)
    b = read_idx(tmp_path / "a")
    assert b.dtype == a.dtype
    np.testing.assert_array_equal(a, b)


def test_float_file_by_hand(tmp_path):
    a = np.array([[0.5, -1.0]], dtype=np.float32)
    (tmp_path / "f").write_bytes(_raw_idx(a, code=0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), a)


def test_torchvision_backend_used_when_present(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = _mnist_dir(raw)
    calls = []

    class FakeMNIST:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            self.data, self.targets = images, labels

    tv = types.ModuleType("torchvision")
    dsets = types.ModuleType("torchvision.datasets")
    dsets.MNIST = FakeMNIST  # type: ignore[attr-defined]
    tv.datasets = dsets  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", dsets)
    d = load_mnist(tmp_path)
    assert calls == [(str(tmp_path), True, False)]
    np.testing.assert_array_equal(d.images[:, 0].numpy(), images / 255.0)
    assert d.info["reader"] == "torchvision"
    # without torchvision the same layout is read directly
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)
    np.testing.assert_array_equal(load_mnist(tmp_path).labels.numpy(), labels)
    with pytest.raises(DataNotFoundError, match="torchvision"):
        load_mnist(tmp_path, backend="torchvision")


def test_digits_stand_in():
    from sklearn.datasets import load_digits as sk_digits

    d = load_digits()
    assert tuple(d.images.shape) == (1797, 1, 8, 8) and d.images.dtype == torch.float64
    assert float(d.images.min()) == 0.0 and float(d.images.max()) == 1.0
    assert d.source == "sklearn-digits-8x8" and not d.is_synthetic
    raw = sk_digits()
    np.testing.assert_array_equal(d.images[:, 0].numpy() * 16, raw.images)
    np.testing.assert_array_equal(d.labels.numpy(), raw.target)
