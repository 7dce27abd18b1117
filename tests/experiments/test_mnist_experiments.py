"""The Fig. 2 experiments (line and plane) on a tiny budget, digits and real-format MNIST."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.data import load_digits, write_idx
from neurogeom.experiments import mnist
from neurogeom.models import ShallowNet

TINY = {
    "width": 24,
    "epochs": 2,
    "snapshot_epochs": [0, 2],
    "seeds": [0, 1],
    "max_samples": 300,
    "progress": False,
    "full_rank": 12,
}


@pytest.fixture(scope="module")
def line():
    return mnist.run_line({**TINY, "steps": 9})


def test_line_dims_spaces_and_labels(line):
    assert dict(line.log_volume_element.sizes) == {"seed": 2, "epoch": 2, "space": 2, "t": 9}
    assert line.space.values.tolist() == ["slice", "full"]
    assert "slice" in line.space.attrs["long_name"] and "full" in line.space.attrs["long_name"]
    assert "top-12" in line.log_volume_element.attrs["description"]
    np.testing.assert_array_equal(line["metric_rank"].sel(space="slice").values, 1)
    np.testing.assert_array_equal(line["metric_rank"].sel(space="full").values, 12)
    assert dict(line.spearman_entropy.sizes) == {"seed": 2, "epoch": 2, "space": 2}


def test_line_anchors_are_the_first_7_and_6(line):
    d = load_digits()
    labels, flat = d.labels.numpy(), d.images.numpy().reshape(len(d), -1)
    np.testing.assert_array_equal(line.anchors.values[0], flat[np.flatnonzero(labels == 7)[0]])
    np.testing.assert_array_equal(line.anchors.values[1], flat[np.flatnonzero(labels == 6)[0]])
    assert line.attrs["image_shape"].tolist() == [8, 8]
    cfg = json.loads(line.attrs["config"])
    assert cfg["data_source"] == "sklearn-digits-8x8" and cfg["input_dim"] == 64
    assert cfg["anchor_labels"] == [7, 6] and cfg["optimizer"] == "adamw"
    assert cfg["width"] == 24 and cfg["n_train"] == 300 and cfg["experiment"] == "mnist-line"


def test_line_volume_matches_direct_jacobian(line):
    # the start snapshot of seed 1: rebuild the seeded net, measure |J u|, J (n, d), u the unit
    # direction a → b, and the top-12 pseudo-determinant of JᵀJ, both from torch.func directly
    torch.manual_seed(1)
    net = ShallowNet(64, 24, 10).double()
    a, b = line.anchors.values
    u = (b - a) / np.linalg.norm(b - a)
    x = torch.as_tensor(a + 0.5 * (b - a))
    J = torch.func.jacrev(lambda z: net.hidden0(z[None])[0])(x).detach().numpy()
    sl = line.sel(seed=1, epoch=0).isel(t=4)
    assert float(sl.log_volume_element.sel(space="slice")) == pytest.approx(
        np.log(np.linalg.norm(J @ u)), rel=1e-12
    )
    eig = np.linalg.eigvalsh(J.T @ J)[::-1][:12]
    assert float(sl.log_volume_element.sel(space="full")) == pytest.approx(
        0.5 * np.log(eig).sum(), rel=1e-9
    )


def test_plane_run_and_barycentric():
    ds = mnist.run_plane({**TINY, "resolution": 5, "seeds": [0], "snapshot_epochs": [2]})
    assert dict(ds.log_volume_element.sizes) == {"seed": 1, "epoch": 1, "space": 2, "u": 5, "v": 5}
    np.testing.assert_array_equal(ds["metric_rank"].sel(space="slice").values, 2)
    assert ds.barycentric.dims == ("u", "v", "vertex")
    assert ds.anchors.shape == (3, 64)


def test_real_format_mnist_directory(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.array([7, 6, 1, 0, 3, 7, 6, 1, 2, 9] * 3, dtype=np.uint8)
    # faint images keep the random sigmoid units out of saturation (full rank in float64)
    images = rng.integers(0, 30, size=(len(labels), 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, compress=True)
    ds = mnist.run_line(
        {**TINY, "steps": 4, "seeds": [0], "width": 16, "full_rank": 8}, data=tmp_path
    )
    np.testing.assert_array_equal(ds.anchors.values[0], images[0].ravel() / 255.0)
    cfg = json.loads(ds.attrs["config"])
    assert cfg["data_source"] == "mnist" and cfg["input_dim"] == 784
    assert cfg["data_info"]["path"] == str(tmp_path.resolve())
    assert ds.attrs["image_shape"].tolist() == [28, 28]


def test_wrong_digits_and_missing_data(tmp_path):
    with pytest.raises(ng.errors.ConfigError, match="'digits' must list 2 digits"):
        mnist.run_line({**TINY, "digits": [7, 6, 1]})
    with pytest.raises(ng.errors.ConfigError, match="'digits' must be a class label"):
        mnist.run_line({**TINY, "digits": [7, 11]})
    with pytest.raises(ng.errors.DataNotFoundError, match="no MNIST train images"):
        mnist.run_line(TINY, data=tmp_path)


def test_rank_deficient_full_metric_names_the_setting():
    # 16 units cannot give a 64-dimensional image-space metric full rank
    with pytest.raises(ng.errors.SingularMetricError, match="set full_rank"):
        mnist.run_line({**TINY, "width": 16, "full_rank": 64, "steps": 3, "seeds": [0]})


def test_default_training_gives_a_confident_classifier():
    # the default optimiser settings on the digits, one seed, the last snapshot only
    ds = mnist.run_line({"seeds": [0], "snapshot_epochs": [30], "steps": 17, "progress": False})
    last = ds.isel(seed=0, epoch=-1)
    assert float(last.accuracy) > 0.98
    top = last.probability.max("class").values
    assert top[0] > 0.95 and top[-1] > 0.95  # the end digits are recognised with confidence
    assert float(last.entropy.max() - last.entropy.min()) > 0.5  # hartley; chance is 1
    assert last.prediction.values[0] == 7 and last.prediction.values[-1] == 6
