"""Curvature of TorchResponseMaps: embeddings with closed forms, slices, policy, conventions."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from torch import nn

import neurogeom as ng
from neurogeom.errors import LayerError, SingularMetricError
from neurogeom.models import ShallowNet
from neurogeom.riemann import shallow_metric, shallow_parameters, shallow_ricci_scalar
from neurogeom.slices import Line, Plane, Points


def sphere(a: float):
    def r(x: torch.Tensor) -> torch.Tensor:
        th, ph = x[:, 0], x[:, 1]
        return a * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)

    return r


def paraboloid(x: torch.Tensor) -> torch.Tensor:
    return torch.stack([x[:, 0], x[:, 1], x[:, 0] ** 2 + x[:, 1] ** 2], 1)


def torus(a: float, c: float):
    def r(x: torch.Tensor) -> torch.Tensor:
        u, v = x[:, 0], x[:, 1]
        rad = c + a * v.cos()
        return torch.stack([rad * u.cos(), rad * u.sin(), a * v.sin()], 1)

    return r


def polar(x: torch.Tensor) -> torch.Tensor:
    return torch.stack([x[:, 0] * x[:, 1].cos(), x[:, 0] * x[:, 1].sin()], 1)


METHODS = ["embedding", "metric"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("a", [0.5, 1.0, 3.0])
def test_sphere_embedding(a, method):
    x = np.array([[0.3, 0.0], [1.0, 1.0], [2.0, -2.5], [np.pi / 2, 4.0]])
    R = ng.scalar_curvature(ng.TorchResponseMap(sphere(a)), x, method=method)
    np.testing.assert_allclose(R, 2 / a**2, rtol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_paraboloid_embedding(method):
    x = np.array([[0.0, 0.0], [0.5, -0.3], [1.2, 0.8], [-2.0, 1.0]])
    K = 4 / (1 + 4 * (x**2).sum(1)) ** 2
    rm = ng.TorchResponseMap(paraboloid, dtype=torch.float64)
    np.testing.assert_allclose(ng.scalar_curvature(rm, x, method=method), 2 * K, rtol=1e-10)
    np.testing.assert_allclose(
        ng.ricci_tensor(rm, x, method=method),
        K[:, None, None] * rm.metric(x),
        rtol=1e-10,
        atol=1e-14,
    )


@pytest.mark.parametrize("method", METHODS)
def test_torus_embedding(method):
    a, c = 0.5, 2.0
    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, np.pi], [0.5, 4.5]])
    K = np.cos(x[:, 1]) / (a * (c + a * np.cos(x[:, 1])))
    R = ng.scalar_curvature(ng.TorchResponseMap(torus(a, c)), x, method=method)
    np.testing.assert_allclose(R, 2 * K, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("method", METHODS)
def test_polar_chart_flat_with_christoffels(method):
    x = np.array([[0.5, 0.2], [2.0, -1.0]])
    rm = ng.TorchResponseMap(polar)
    np.testing.assert_allclose(ng.scalar_curvature(rm, x, method=method), 0.0, atol=1e-13)
    G = ng.christoffel_symbols(rm, x, method=method)
    np.testing.assert_allclose(G[:, 0, 1, 1], -x[:, 0], rtol=1e-13)
    np.testing.assert_allclose(G[:, 1, 0, 1], 1 / x[:, 0], rtol=1e-13)
    np.testing.assert_allclose(G[:, 1, 1, 0], 1 / x[:, 0], rtol=1e-13)
    mask = np.ones((2, 2, 2), bool)
    mask[0, 1, 1] = mask[1, 0, 1] = mask[1, 1, 0] = False
    np.testing.assert_allclose(G[:, mask], 0.0, atol=1e-14)


def test_linear_map_on_plane_and_line_is_flat():
    rng = np.random.default_rng(0)
    W = torch.tensor(rng.normal(size=(7, 5)))
    rm = ng.TorchResponseMap(lambda x: x @ W.T)
    a, b, c = rng.normal(size=(3, 5))
    plane = Plane(a, b, c, resolution=3)
    curv = ng.curvature_tensors(rm, plane)
    np.testing.assert_allclose(curv.scalar, 0.0, atol=1e-12)
    np.testing.assert_allclose(curv.riemann, 0.0, atol=1e-12)
    T = plane.tangents
    np.testing.assert_allclose(
        curv.metric, np.broadcast_to(T @ W.numpy().T @ W.numpy() @ T.T, (9, 2, 2)), rtol=1e-12
    )
    line = Line(a, b, steps=4)
    np.testing.assert_array_equal(ng.scalar_curvature(rm, line), 0.0)


def _sphere_times_line(a: float):
    """R³ → R⁴: (θ, φ, s) ↦ (sphere(θ, φ), s). The plane s = const carries the sphere metric."""
    r = sphere(a)

    def f(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([r(x[:, :2]), x[:, 2:]], 1)

    return f


@pytest.mark.parametrize("method", METHODS)
def test_induced_curvature_on_a_plane_slice(method):
    a = 1.5
    rm = ng.TorchResponseMap(_sphere_times_line(a))
    # a plane through three stimuli with equal s spans (θ, φ) directions: intrinsic R = 2/a²
    plane = Plane([1.0, 0.0, 0.3], [1.4, 0.5, 0.3], [0.8, 0.9, 0.3], resolution=3, extent=0.5)
    np.testing.assert_allclose(ng.scalar_curvature(rm, plane, method=method), 2 / a**2, rtol=1e-10)
    # full 3-D space: product of a sphere and a line, R = 2/a² too (the line adds nothing)
    R_full = ng.scalar_curvature(rm, plane.points, method=method)
    np.testing.assert_allclose(R_full, 2 / a**2, rtol=1e-10)
    # the plane spanned by θ and s is flat (a cylinder over a great-circle arc)
    tangents = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    R_flat = ng.scalar_curvature(rm, plane.points, tangents, method=method)
    np.testing.assert_allclose(R_flat, 0.0, atol=1e-12)


def test_image_shaped_stimuli_on_a_plane():
    """Stimuli of shape (1, 2, 2): the map flattens them; tangents keep the image shape."""
    a = 2.0
    r = sphere(a)

    def image_map(x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)
        return torch.cat([r(flat[:, :2]), flat[:, 2:] * 3.0], 1)

    e = np.eye(4).reshape(4, 1, 2, 2)
    base = 0.3 * e[3]
    plane = Plane(
        base + 1.0 * e[0],
        base + 1.3 * e[0] + 0.4 * e[1],
        base + 0.9 * e[0] + 0.8 * e[1],
        resolution=2,
    )
    assert plane.points.shape == (4, 1, 2, 2)
    np.testing.assert_allclose(
        ng.scalar_curvature(ng.TorchResponseMap(image_map), plane), 2 / a**2, rtol=1e-10
    )


@pytest.mark.parametrize("method", METHODS)
def test_linear_reparametrisation_invariance(method):
    """x = A y: the curvature of r∘A at y equals that of r at A y."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 5), nn.Sigmoid()).double()
    A = torch.tensor([[1.3, -0.4], [0.6, 0.9]], dtype=torch.float64)
    y = np.array([[0.2, -0.1], [0.7, 0.4], [-0.5, 0.9]])
    R_y = ng.scalar_curvature(ng.TorchResponseMap(lambda t: net(t @ A.T)), y, method=method)
    R_x = ng.scalar_curvature(ng.TorchResponseMap(net), y @ A.numpy().T, method=method)
    np.testing.assert_allclose(R_y, R_x, rtol=1e-10)
    assert np.abs(R_x).min() > 1e-6  # a curved case, not 0 == 0


def test_shallow_net_closed_form_through_response_map_and_float32_model():
    """A float32 ShallowNet measured in float64 (the default) matches the float64 closed form."""
    torch.manual_seed(2)
    net = ShallowNet(2, 40, activation="tanh")
    assert next(net.parameters()).dtype == torch.float32
    x = np.array([[0.1, 0.2], [-0.6, 0.5], [1.0, -1.0]])
    R = ng.scalar_curvature(ng.TorchResponseMap(net, "hidden0"), x)
    np.testing.assert_allclose(R, shallow_ricci_scalar(x, *shallow_parameters(net)), rtol=1e-10)
    assert next(net.parameters()).dtype == torch.float32  # model untouched


def test_several_layers_give_dicts():
    torch.manual_seed(3)
    net = ShallowNet(2, (20, 10), activation="sigmoid").double()
    rm = ng.TorchResponseMap(net, ["hidden0", "hidden1"])
    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    R = ng.scalar_curvature(rm, x)
    assert set(R) == {"hidden0", "hidden1"} and R["hidden1"].shape == (2,)
    W, b = net.hidden0.linear.weight.detach().numpy(), net.hidden0.linear.bias.detach().numpy()
    np.testing.assert_allclose(R["hidden0"], shallow_ricci_scalar(x, W, b, "sigmoid"), rtol=1e-10)
    assert np.isfinite(R["hidden1"]).all()
    G, singular = ng.christoffel_symbols(rm, x, return_singular=True)
    assert G["hidden1"].shape == (2, 2, 2, 2) and not singular["hidden0"].any()


def test_width_scale_multiplies_curvature_by_width():
    torch.manual_seed(4)
    net = ShallowNet(2, 12).double()
    rm = ng.TorchResponseMap(net, "hidden0")
    x = np.array([[0.0, 0.5]])
    np.testing.assert_allclose(
        ng.scalar_curvature(rm, x, scale="width"), 12 * ng.scalar_curvature(rm, x), rtol=1e-12
    )


def _fold(x: torch.Tensor) -> torch.Tensor:
    """(x, y) ↦ (x, y²): metric diag(1, 4y²), singular on y = 0, flat elsewhere."""
    return torch.stack([x[:, 0], x[:, 1] ** 2], 1)


def test_singular_metric_raises_by_default():
    with pytest.raises(SingularMetricError, match="point 1"):
        ng.scalar_curvature(ng.TorchResponseMap(_fold), np.array([[0.0, 1.0], [0.3, 0.0]]))


@pytest.mark.parametrize("method", METHODS)
def test_singular_metric_nan_policy_with_mask(method):
    rm = ng.TorchResponseMap(_fold)
    x = np.array([[0.0, 1.0], [0.3, 0.0], [2.0, -0.5]])
    R, singular = ng.scalar_curvature(rm, x, on_singular="nan", return_singular=True, method=method)
    assert singular.tolist() == [False, True, False]
    assert np.isnan(R[1]) and np.allclose(R[[0, 2]], 0.0, atol=1e-13)
    curv = ng.curvature_tensors(rm, x, on_singular="nan")
    assert np.isnan(curv.christoffel[1]).all() and np.isfinite(curv.christoffel[[0, 2]]).all()


def test_dead_relu_region_is_singular():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU()).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        net[0].bias.zero_()
    rm = ng.TorchResponseMap(net)
    R, singular = ng.scalar_curvature(
        rm, np.array([[-1.0, -1.0], [1.0, 1.0]]), on_singular="nan", return_singular=True
    )
    assert singular.tolist() == [True, False] and R[1] == 0.0


def test_eval_mode_used_and_restored():
    torch.manual_seed(5)
    body = ShallowNet(2, 30).double()
    model = nn.Sequential(body.hidden0, nn.Dropout(0.5))
    model.train()
    x = np.array([[0.2, 0.3]])
    R = ng.scalar_curvature(ng.TorchResponseMap(model), x)
    np.testing.assert_allclose(R, shallow_ricci_scalar(x, *shallow_parameters(body)), rtol=1e-10)
    assert model.training and model[1].training


def test_metric_field_matches_metric():
    torch.manual_seed(6)
    net = ShallowNet(3, 10).double()
    rm = ng.TorchResponseMap(net, "hidden0")
    x0 = np.array([0.1, -0.2, 0.3])
    T = np.array([[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]])
    field = rm.metric_field(x0, T)
    c = torch.tensor([0.5, -0.25], dtype=torch.float64)
    expected = rm.metric((x0 + c.numpy() @ T)[None], tangents=T)[0]
    np.testing.assert_allclose(field(c).numpy(), expected, rtol=1e-13)
    full = rm.metric_field(x0)(torch.zeros(3, dtype=torch.float64))
    np.testing.assert_allclose(full.numpy(), rm.metric(x0[None])[0], rtol=1e-13)


def test_torch_in_torch_out_and_points_slice():
    rm = ng.TorchResponseMap(sphere(1.0))
    x = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    out = ng.scalar_curvature(rm, x)
    assert isinstance(out, torch.Tensor) and math.isclose(float(out[0]), 2.0, rel_tol=1e-10)
    np.testing.assert_allclose(ng.scalar_curvature(rm, Points(x.numpy())), [2.0], rtol=1e-10)


def test_bad_inputs():
    rm = ng.TorchResponseMap(sphere(1.0))
    x = np.array([[1.0, 0.5]])
    with pytest.raises(ValueError, match="on_singular"):
        ng.scalar_curvature(rm, x, on_singular="zero")
    with pytest.raises(ValueError, match="method"):
        ng.scalar_curvature(rm, x, method="finite_differences")
    with pytest.raises(ValueError, match="scale"):
        ng.scalar_curvature(rm, x, scale="mean")
    with pytest.raises(ValueError, match="slice"):
        ng.scalar_curvature(rm, Points(x), tangents=np.eye(2))
    with pytest.raises(TypeError, match="TorchResponseMap"):
        ng.scalar_curvature(object(), x)  # type: ignore[arg-type]
    with pytest.raises(ng.errors.NonFiniteError):
        ng.scalar_curvature(rm, np.array([[np.nan, 0.0]]))
    with pytest.raises(ng.errors.ShapeError):
        ng.scalar_curvature(rm, x, tangents=np.ones((1, 3)))
    multi = ng.TorchResponseMap(ShallowNet(2, (3, 3)), ["hidden0", "hidden1"])
    with pytest.raises(LayerError, match="hidden0"):
        multi.metric_field(np.zeros(2))


def _mp_sigmoid_ricci(W: np.ndarray, b: np.ndarray, x: np.ndarray) -> float:
    """ground_truth.md's shallow-net Ricci formula, summed term by term at 60 digits."""
    with mpmath.workdps(60):
        n = len(b)
        w = [[mpmath.mpf(v) for v in row] for row in W.tolist()]
        z = [w[j][0] * x[0] + w[j][1] * x[1] + mpmath.mpf(b[j]) for j in range(n)]
        s = [1 / (1 + mpmath.exp(-t)) for t in z]
        d1 = [v * (1 - v) for v in s]
        d2 = [d * (1 - 2 * v) for d, v in zip(d1, s, strict=True)]
        m = [[w[j][0] * w[k][1] - w[j][1] * w[k][0] for k in range(n)] for j in range(n)]
        pairs = (d1[j] ** 2 * d1[k] ** 2 * m[j][k] ** 2 for j in range(n) for k in range(j + 1, n))
        det = mpmath.fsum(pairs) / n**2
        num = mpmath.fsum(
            m[j][k] ** 2 * m[i][j] * m[i][k] * d1[i] ** 2 * d1[j] * d2[j] * d1[k] * d2[k]
            for i in range(n)
            for j in range(n)
            for k in range(n)
        )
        return float(-num / (n**3 * det**2))


def test_nearly_degenerate_metric_stays_accurate():
    """cond(g) up to 1e11 (saturated sigmoid units, as after training): the default route
    and the closed form agree with a 60-digit evaluation of the ground-truth formula."""
    W = np.array(
        [[0.018, 4.481], [-4.112, -13.359], [-6.82, -14.875], [0.902, 20.103], [-7.383, -9.307]]
    )
    b = np.array([2.449, 1.784, 0.527, -4.652, -0.146])
    x = np.array([[0.3, 0.1], [-1.0, -0.32], [-1.0, -0.54], [-1.0, -0.82]])
    eig = np.linalg.eigvalsh(shallow_metric(x, W, b, "sigmoid"))
    assert (eig[:, 1] / eig[:, 0])[-1] > 1e10
    exact = np.array([_mp_sigmoid_ricci(W, b, p) for p in x])
    net = ShallowNet(2, 5).double()
    with torch.no_grad():
        net.hidden0.linear.weight.copy_(torch.tensor(W))
        net.hidden0.linear.bias.copy_(torch.tensor(b))
    R = ng.scalar_curvature(ng.TorchResponseMap(net, "hidden0"), x)
    np.testing.assert_allclose(R, exact, rtol=1e-7)
    np.testing.assert_allclose(shallow_ricci_scalar(x, W, b, "sigmoid"), exact, rtol=1e-5)


# -- ng.geometry(..., curvature=True) ------------------------------------------------------------
def test_geometry_dataset_with_curvature_roundtrips(tmp_path):
    a = 2.0
    rm = ng.TorchResponseMap(sphere(a), dtype=torch.float64)
    ds = ng.geometry(rm, ng.Grid([(0.5, 2.5), (-1.0, 1.0)], resolution=4), curvature=True)
    assert ds.ricci_scalar.dims == ("u", "v")
    np.testing.assert_allclose(ds.ricci_scalar.values, 2 / a**2, rtol=1e-10)
    assert not ds.ricci_singular.values.any()
    attrs = ds.ricci_scalar.attrs
    assert attrs["units"] == "1 / response_unit**2" and "Gauss" in attrs["method"]
    assert attrs["space"] == "full" and attrs["long_name"]
    back = ng.load(ng.save(ds, tmp_path / "curv.nc"))
    np.testing.assert_array_equal(back.ricci_scalar.values, ds.ricci_scalar.values)
    np.testing.assert_array_equal(back.ricci_singular.values, ds.ricci_singular.values)
    assert '"curvature": true' in back.attrs["config"]


def test_geometry_curvature_on_a_plane_and_several_layers():
    a = 1.5
    rm = ng.TorchResponseMap(_sphere_times_line(a))
    plane = Plane([1.0, 0.0, 0.3], [1.4, 0.5, 0.3], [0.8, 0.9, 0.3], resolution=3, extent=0.5)
    ds = ng.geometry(rm, plane, curvature=True)
    np.testing.assert_allclose(ds.ricci_scalar.values, 2 / a**2, rtol=1e-10)
    assert ds.ricci_scalar.attrs["space"] == "slice"
    net = ShallowNet(2, (6, 4)).double()
    grid = ng.Grid([(-1, 1), (-1, 1)], resolution=3)
    ds = ng.geometry(ng.TorchResponseMap(net, ["hidden0", "hidden1"]), grid, curvature=True)
    assert ds.ricci_scalar.dims == ("layer", "u", "v")
    W = net.hidden0.linear.weight.detach().numpy()
    b = net.hidden0.linear.bias.detach().numpy()
    expected = shallow_ricci_scalar(grid.points, W, b, "sigmoid").reshape(3, 3)
    np.testing.assert_allclose(ds.ricci_scalar.sel(layer="hidden0").values, expected, rtol=1e-10)
    assert np.isfinite(ds.ricci_scalar.sel(layer="hidden1").values).all()


def test_geometry_curvature_singular_points_are_nan_and_flagged():
    rm = ng.TorchResponseMap(_fold)
    ds = ng.geometry(rm, ng.Grid([(-1, 1), (-1, 1)], resolution=3), rank="auto", curvature=True)
    singular = ds.ricci_singular.values
    np.testing.assert_array_equal(singular, np.array([[False, True, False]] * 3))
    assert np.isnan(ds.ricci_scalar.values[singular]).all()
    np.testing.assert_allclose(ds.ricci_scalar.values[~singular], 0.0, atol=1e-13)


def test_geometry_curvature_refuses_too_many_coordinates_and_serves_any_map():
    rm = ng.TorchResponseMap(lambda x: 2.0 * x)
    with pytest.raises(ValueError, match="Line or Plane"):
        ng.geometry(rm, np.zeros((2, 20)), curvature=True)

    class Fixed(ng.ResponseMap):
        layers = ("output",)

        def layer_responses(self, x):
            return {"output": np.asarray(x)}

        def layer_jacobians(self, x, tangents=None):
            return {"output": np.broadcast_to(np.eye(2), (len(x), 2, 2)).copy()}

    # a map of one's own gets curvature through the protocol's fallback: flat here
    ds = ng.geometry(Fixed(), np.zeros((2, 2)), curvature=True)
    np.testing.assert_allclose(ds.ricci_scalar.values, 0.0, atol=1e-12)
