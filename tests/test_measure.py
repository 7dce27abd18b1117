import math

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.dataset import config_of
from neurogeom.models import ShallowNet

F64 = torch.float64


def linear_map(W):
    Wt = torch.tensor(W)
    return ng.TorchResponseMap(lambda x: x @ Wt.T, dtype=F64)


def test_plane_induced_metric_of_linear_map(rng):
    W = rng.normal(size=(6, 4))
    a, b, c = rng.normal(size=(3, 4))
    plane = ng.Plane(a, b, c, resolution=5)
    ds = ng.geometry(linear_map(W), plane)
    T = plane.tangents.reshape(2, -1)
    gT = (W @ T.T).T @ (W @ T.T)
    np.testing.assert_allclose(ds.metric.values, np.broadcast_to(gT, (5, 5, 2, 2)), rtol=1e-12)
    np.testing.assert_allclose(ds.log_volume_element, 0.5 * np.log(np.linalg.det(gT)), rtol=1e-12)
    assert ds.attrs["space"] == "slice" and ds.log_volume_element.dims == ("u", "v")
    full = ng.geometry(linear_map(W), plane, space="full")
    np.testing.assert_allclose(
        full.log_volume_element, 0.5 * np.log(np.linalg.det(W.T @ W)), rtol=1e-12
    )
    assert full.attrs["space"] == "full"


def test_full_space_rank_for_narrow_layer(rng):
    W = rng.normal(size=(2, 5))
    line = ng.Line(np.zeros(5), np.ones(5), steps=4)
    with pytest.raises(ng.errors.SingularMetricError, match="rank"):
        ng.geometry(linear_map(W), line, space="full")
    ds = ng.geometry(linear_map(W), line, space="full", rank=2)
    np.testing.assert_allclose(
        ds.log_volume_element, 0.5 * np.log(np.linalg.det(W @ W.T)), rtol=1e-10
    )
    assert (ds["metric_rank"] == 2).all()
    assert "metric" in ds  # 5 x 5 is kept under keep_metric="auto"
    assert "metric" not in ng.geometry(linear_map(W), line, space="full", rank=2, keep_metric=False)


def test_layers_classifier_and_blocks(rng):
    net = ShallowNet(2, (5, 4), n_classes=10).double()
    rm = ng.TorchResponseMap(net, net.hidden_layers)
    grid = ng.Grid([(-1, 1), (-1, 1)], resolution=4)
    ds = ng.geometry(rm, grid, classifier=net, block_size=3)
    assert ds.log_volume_element.dims == ("layer", "u", "v")
    assert list(ds.layer.values) == ["hidden0", "hidden1"]
    single = ng.geometry(ng.TorchResponseMap(net, "hidden1"), grid)
    np.testing.assert_allclose(
        ds.log_volume_element.sel(layer="hidden1"), single.log_volume_element, rtol=1e-13
    )
    logits = net(torch.tensor(grid.points)).detach().numpy()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(ds.entropy.values.ravel(), -(p * np.log10(p)).sum(1), rtol=1e-12)
    np.testing.assert_array_equal(ds.prediction.values.ravel(), logits.argmax(1))
    for name, var in ds.data_vars.items():
        assert {"long_name", "units"} <= set(var.attrs), name
    cfg = config_of(ds)
    assert cfg["layers"] == ["hidden0", "hidden1"] and cfg["space"] == "full"


def test_uniform_classifier_has_entropy_one_hartley():
    ds = ng.geometry(
        ng.TorchResponseMap(torch.tanh, dtype=F64),
        np.zeros((2, 3)),
        classifier=lambda x: torch.zeros(len(x), 10),
    )
    np.testing.assert_allclose(ds.entropy, 1.0, rtol=1e-14)
    assert ds.log_volume_element.dims == ("point",)


def test_width_scale_and_netcdf_round_trip_is_exact(rng, tmp_path):
    net = ShallowNet(3, 7).double()
    a, b = rng.normal(size=(2, 3))
    rm = ng.TorchResponseMap(net, ["hidden0", "readout"])
    ds = ng.geometry(rm, ng.Line(a, b, steps=6), scale="width", classifier=net, config={"seed": 3})
    plain = ng.geometry(rm, ng.Line(a, b, steps=6))
    np.testing.assert_allclose(
        ds.log_volume_element.sel(layer="hidden0"),
        plain.log_volume_element.sel(layer="hidden0") - 0.5 * math.log(7),
        rtol=1e-12,
    )
    path = ng.save(ds, tmp_path / "sub" / "line.nc")
    back = ng.load(path)
    assert back.identical(ds)
    assert config_of(back)["seed"] == 3
    np.testing.assert_array_equal(back.anchors.values, np.stack([a, b]))


def test_bad_arguments():
    rm = ng.TorchResponseMap(torch.tanh, dtype=F64)
    with pytest.raises(ValueError, match="space='slice' needs"):
        ng.geometry(rm, ng.Grid([(0, 1)], resolution=3), space="slice")
    with pytest.raises(ValueError, match="space="):
        ng.geometry(rm, np.zeros((2, 1)), space="both")
    with pytest.raises(ValueError, match="scale="):
        ng.geometry(rm, np.zeros((2, 1)), scale="n")


def test_full_space_of_narrow_layer_uses_only_its_nonzero_spectrum(rng):
    """Images through a 3-unit layer: 48-d metric of rank 3, from the 3 x 3 Gram J Jᵀ."""
    W = 0.1 * rng.normal(size=(3, 48))  # small enough that tanh is not saturated
    Wt = torch.tensor(W)
    rm = ng.TorchResponseMap(lambda x: torch.tanh(x.flatten(1) @ Wt.T), dtype=F64)
    a, b = rng.normal(size=(2, 3, 4, 4))
    line = ng.Line(a, b, steps=5)
    ds = ng.geometry(rm, line, space="full", rank=3, keep_metric=False)
    assert ds.sizes["eigen"] == 3 and (ds["metric_rank"] == 3).all()
    J = rm.jacobian(line.points)
    expected = 0.5 * np.linalg.slogdet(J @ J.transpose(0, 2, 1))[1]
    np.testing.assert_allclose(ds.log_volume_element, expected, rtol=1e-12)
    # the same numbers through the full 48 x 48 metric
    kept = ng.geometry(rm, line, space="full", rank=3, keep_metric=True)
    np.testing.assert_allclose(kept.log_volume_element, expected, rtol=1e-10)
    np.testing.assert_allclose(kept.eigenvalues[:, :3], ds.eigenvalues, rtol=1e-10)
    np.testing.assert_allclose(kept.eigenvalues[:, 3:], 0.0, atol=1e-12)
    with pytest.raises(ng.errors.SingularMetricError, match="rank 3 < 48"):
        ng.geometry(rm, line, space="full")


def test_space_attrs_take_the_values_of_the_space_parameter():
    """``attrs["space"]`` is what ``space=`` accepts, so it can be passed back unchanged."""
    rng = np.random.default_rng(0)
    rm = linear_map(rng.normal(size=(6, 4)))
    plane = ng.Plane(*rng.normal(size=(3, 4)), resolution=3)
    for ds in (ng.geometry(rm, plane), ng.geometry(rm, plane, space="full")):
        space = ds.attrs["space"]
        assert space in ("slice", "full")
        assert ds.log_volume_element.attrs["space"] == space == config_of(ds)["space"]
        again = ng.geometry(rm, plane, space=space)
        np.testing.assert_array_equal(again.log_volume_element, ds.log_volume_element)
