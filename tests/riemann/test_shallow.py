"""Closed-form shallow-net geometry against the generic autograd path and exact values."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from torch import nn

import neurogeom as ng
from neurogeom.errors import ShapeError, SingularMetricError
from neurogeom.models import ShallowNet
from neurogeom.riemann import (
    activation_derivatives,
    shallow_log_volume,
    shallow_metric,
    shallow_parameters,
    shallow_ricci_scalar,
)

ACTS = ["sigmoid", "tanh", "erf", "gelu"]


class _Erf(nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.erf(z)


def _net(activation: str, d: int = 2, n: int = 30, seed: int = 0) -> ShallowNet:
    """A float64 one-layer ShallowNet (erf swapped in for the module's activation)."""
    torch.manual_seed(seed)
    net = ShallowNet(d, n, activation="tanh" if activation == "erf" else activation).double()
    if activation == "erf":
        net.hidden0.activation = _Erf()
    return net


def _params(net: ShallowNet, activation: str):
    W, b, _ = shallow_parameters(net)
    return W, b, activation


def _grid(lim: float = 1.5, res: int = 6, d: int = 2) -> np.ndarray:
    u = np.linspace(-lim, lim, res)
    return np.stack(np.meshgrid(*[u] * d, indexing="ij"), -1).reshape(-1, d)


_MP = {
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
    "tanh": mpmath.tanh,
    "erf": mpmath.erf,
    "gelu": lambda z: z * mpmath.ncdf(z),
}


@pytest.mark.parametrize("activation", ACTS)
def test_activation_derivatives_match_high_precision_differentiation(activation):
    """φ′, φ″ against mpmath's 360-digit numerical differentiation, tails included.

    (360 digits resolve derivatives down to float64's subnormal range, ~1e-320, next to
    function values of order 1.)
    """
    z = np.concatenate([np.linspace(-27, 27, 19), [-0.7, 1e-3, -1e-3]])
    got1, got2 = activation_derivatives(z, activation)
    with mpmath.workdps(360):
        f = _MP[activation]
        ref1 = np.array([float(mpmath.diff(f, mpmath.mpf(v), 1)) for v in z])
        ref2 = np.array([float(mpmath.diff(f, mpmath.mpf(v), 2)) for v in z])
    np.testing.assert_allclose(got1, ref1, rtol=1e-13, atol=0)
    np.testing.assert_allclose(got2, ref2, rtol=1e-12, atol=0)


def test_relu_derivatives():
    got1, got2 = activation_derivatives(np.array([-1.0, 0.0, 2.0]), "relu")
    np.testing.assert_array_equal(got1, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(got2, 0.0)


@pytest.mark.parametrize("activation", [*ACTS, "relu"])
@pytest.mark.parametrize("d", [2, 3])
def test_metric_matches_autograd(activation, d):
    net = _net(activation, d=d)
    x = _grid(1.2, 4, d)
    expected = ng.TorchResponseMap(net, layers="hidden0").metric(x)
    got = shallow_metric(x, *_params(net, activation))
    scale = np.abs(expected).max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(got / scale, expected / scale, rtol=0, atol=1e-13)


@pytest.mark.parametrize("activation", ACTS)
def test_log_volume_matches_autograd(activation):
    net = _net(activation)
    x = _grid()
    expected = ng.log_volume_element(ng.TorchResponseMap(net, layers="hidden0").metric(x))
    np.testing.assert_allclose(
        shallow_log_volume(x, *_params(net, activation)), expected, rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("method", ["embedding", "metric"])
@pytest.mark.parametrize("activation", ACTS)
def test_ricci_scalar_matches_generic_autograd(activation, method):
    net = _net(activation)
    x = _grid()
    rm = ng.TorchResponseMap(net, layers="hidden0")
    expected = ng.scalar_curvature(rm, x, method=method)
    got = shallow_ricci_scalar(x, *_params(net, activation))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14 * np.abs(expected).max())


def test_relu_net_is_flat_where_regular():
    net = _net("relu", n=40)
    x = _grid(0.5, 4)
    np.testing.assert_array_equal(shallow_ricci_scalar(x, *_params(net, "relu")), 0.0)
    np.testing.assert_allclose(
        ng.scalar_curvature(ng.TorchResponseMap(net, "hidden0"), x), 0.0, atol=1e-12
    )


def test_log_volume_survives_far_below_float64():
    """Two erf units on the axes: ½ log det g = 2 log(2/√π) − x₁² − x₂² − log 2, exactly."""
    W, b = np.eye(2), np.zeros(2)
    x = np.array([[30.0, 30.0], [0.0, 40.0], [1.0, 2.0]])
    expected = 2 * math.log(2 / math.sqrt(math.pi)) - (x**2).sum(1) - math.log(2)
    got = shallow_log_volume(x, W, b, "erf")
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert got[0] < -1790  # √det g ≈ e^-1800 is far below the smallest float64


def test_ricci_scalar_of_saturated_but_well_conditioned_points():
    """Far from the data all units saturate together; R stays exact (here a flat product).

    At (0, 40) one unit is e^-1600 times the other: numerically singular, like the
    generic path says, so it is NaN-with-mask or an error — never a made-up 0.
    """
    W, b = np.eye(2), np.zeros(2)
    x = np.array([[30.0, 30.0], [1.0, 2.0], [0.0, 40.0]])
    R = shallow_ricci_scalar(x, W, b, "erf", on_singular="nan")
    np.testing.assert_array_equal(R[:2], 0.0)
    assert np.isnan(R[2])
    with pytest.raises(SingularMetricError, match="point 2"):
        shallow_ricci_scalar(x, W, b, "erf")


def test_ricci_scalar_at_saturated_points_matches_autograd():
    """Away from the biases most sigmoid units saturate; both paths must still agree."""
    net = _net("sigmoid", n=12, seed=1)
    W, b, _ = _params(net, "sigmoid")
    x = np.array([[4.0, -3.0], [6.0, 5.0]])  # many units saturated (σ′ ~ e^-10 and below)
    expected = ng.scalar_curvature(ng.TorchResponseMap(net, "hidden0"), x)
    np.testing.assert_allclose(shallow_ricci_scalar(x, W, b, "sigmoid"), expected, rtol=1e-9)


def test_parallel_weights_are_singular():
    W = np.array([[1.0, 2.0], [2.0, 4.0], [-1.0, -2.0]])
    b = np.array([0.1, 0.2, 0.3])
    x = np.zeros((2, 2))
    with pytest.raises(SingularMetricError):
        shallow_log_volume(x, W, b, "tanh")
    with pytest.raises(SingularMetricError):
        shallow_ricci_scalar(x, W, b, "tanh")
    assert np.isnan(shallow_ricci_scalar(x, W, b, "tanh", on_singular="nan")).all()


def test_shallow_parameters_fold_scale_and_reject_deep_nets():
    net = _net("sigmoid", n=5)
    W, b, act = shallow_parameters(net)
    assert act == "sigmoid" and W.shape == (5, 2) and b.shape == (5,)
    np.testing.assert_array_equal(W, net.hidden0.linear.weight.detach().numpy())
    with pytest.raises(ValueError, match="one hidden layer"):
        shallow_parameters(ShallowNet(2, (4, 4)))
    with pytest.raises(TypeError, match="ShallowNet"):
        shallow_parameters(nn.Linear(2, 3))


def test_functions_take_a_shallow_net_directly():
    net = _net("tanh", n=8)
    x = _grid(1.0, 3)
    params = shallow_parameters(net)
    np.testing.assert_array_equal(shallow_metric(x, net), shallow_metric(x, *params))
    np.testing.assert_array_equal(shallow_log_volume(x, net), shallow_log_volume(x, *params))
    np.testing.assert_array_equal(shallow_ricci_scalar(x, net), shallow_ricci_scalar(x, *params))
    with pytest.raises(ValueError, match="alone"):
        shallow_metric(x, net, params.biases)
    with pytest.raises(TypeError, match="biases"):
        shallow_metric(x, params.weights)


def test_bad_inputs():
    W, b = np.ones((3, 2)), np.zeros(3)
    with pytest.raises(ValueError, match="activation"):
        shallow_metric(np.zeros((1, 2)), W, b, "softplus")
    with pytest.raises(ShapeError, match="d = 2"):
        shallow_log_volume(np.zeros((1, 3)), np.ones((3, 3)), b, "tanh")
    with pytest.raises(ShapeError, match="biases"):
        shallow_metric(np.zeros((1, 2)), W, np.zeros(2), "tanh")
    with pytest.raises(ShapeError, match="points"):
        shallow_metric(np.zeros((1, 3)), W, b, "tanh")
    with pytest.raises(ng.errors.NonFiniteError):
        shallow_metric(np.array([[np.nan, 0.0]]), W, b, "tanh")


def test_torch_in_torch_out():
    W, b = np.eye(2), np.zeros(2)
    out = shallow_metric(torch.zeros(3, 2), W, b, "erf")
    assert isinstance(out, torch.Tensor) and out.shape == (3, 2, 2)
