"""The ResponseMap protocol: one Measurement per block, jets for curvature, any map kind.

Ground truth: the sphere of radius a in the chart (θ, φ) has metric diag(a², a² sin²θ)
and Ricci scalar 2/a² everywhere.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.estimators.local_polynomial import LocalPolynomial
from neurogeom.maps.base import Measurement


class NumpySphere(ng.ResponseMap):
    """A user's own map kind in numpy: only the two required methods."""

    layers = ("sphere",)

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def layer_responses(self, x):
        th, ph = np.asarray(x, dtype=float).T
        a = self.radius
        return {
            "sphere": a
            * np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], 1)
        }

    def layer_jacobians(self, x, tangents=None):
        th, ph = np.asarray(x, dtype=float).T
        a = self.radius
        J = a * np.stack(
            [
                np.stack([np.cos(th) * np.cos(ph), -np.sin(th) * np.sin(ph)], -1),
                np.stack([np.cos(th) * np.sin(ph), np.sin(th) * np.cos(ph)], -1),
                np.stack([-np.sin(th), np.zeros_like(th)], -1),
            ],
            1,
        )
        return {
            "sphere": J
            if tangents is None
            else J @ np.asarray(tangents).reshape(len(tangents), -1).T
        }


POINTS = np.array([[0.4, 0.1], [1.0, 2.0], [1.5, -1.0], [2.2, 0.7]])


@pytest.mark.parametrize("radius", [0.5, 1.0, 3.0])
def test_a_numpy_map_gets_curvature_by_the_finite_difference_fallback(radius):
    R = ng.scalar_curvature(NumpySphere(radius), POINTS)
    np.testing.assert_allclose(R, 2.0 / radius**2, rtol=1e-5)


def test_a_numpy_map_gets_geometry_with_curvature_and_compare():
    grid = ng.Grid([(0.3, 2.8), (-1.0, 1.0)], resolution=6)
    small = ng.geometry(NumpySphere(1.0), grid, curvature=True)
    big = ng.geometry(NumpySphere(2.0), grid, curvature=True)
    theta = grid.coords["u"][:, None]
    np.testing.assert_allclose(
        small.log_volume_element, np.log(np.sin(theta)) + 0 * grid.coords["v"], rtol=1e-12
    )
    np.testing.assert_allclose(big.ricci_scalar, 0.5, rtol=1e-5)
    # scaling responses by 2 adds log 4 to every log-volume: perfectly rank-correlated
    # (on points without ties: a grid's equal values along φ would break ties by rounding)
    pts = np.random.default_rng(3).uniform([0.3, -1.0], [2.8, 1.0], size=(30, 2))
    result = ng.compare(ng.geometry(NumpySphere(1.0), pts), ng.geometry(NumpySphere(2.0), pts))
    assert float(result["spearman_r"]) == pytest.approx(1.0)


def test_finite_difference_jets_agree_with_exact_torch_jets():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 7), torch.nn.Tanh(), torch.nn.Linear(7, 4)
    ).double()
    exact = ng.TorchResponseMap(net)
    x = np.random.default_rng(0).normal(size=(5, 3))
    J, H = exact.layer_jets(x)["output"]
    # the protocol's default, run on the same map's first derivatives
    Jd, Hd = ng.ResponseMap.layer_jets(exact, x)["output"]
    np.testing.assert_allclose(Jd, J, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(Hd, H, rtol=0, atol=1e-8 * np.abs(H).max())


def test_default_measurement_is_the_float64_pullback_with_its_jacobians():
    rm = ng.TorchResponseMap(torch.nn.Linear(3, 2))  # float32
    x = np.random.default_rng(1).normal(size=(4, 3))
    meas = rm.measure(x)
    W = rm.model.weight.detach().double().numpy()
    assert meas.precision == torch.float32 and not meas.estimated
    np.testing.assert_allclose(meas.metrics["output"][0], W.T @ W, rtol=1e-6)
    assert meas.metrics["output"].dtype == np.float64
    np.testing.assert_array_equal(meas.metrics["output"], np.swapaxes(meas.metrics["output"], 1, 2))


def _sampled(noise, n_bootstrap=20):
    pop = ng.simulate.LinearPopulation(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]) + 3.0)
    X = pop.uniform_stimuli(300, random_state=0)
    R = pop.sample(X, 4, noise=0.1, random_state=1)
    return ng.SampledResponseMap(
        X, R, noise=noise, n_bootstrap=n_bootstrap, estimator_params={"bandwidth": 0.5}
    )


@pytest.mark.parametrize("noise", [None, "poisson", "empirical"])
@pytest.mark.parametrize("blocks", [1, 3])
def test_a_sampled_map_solves_for_its_weights_once_per_block(monkeypatch, noise, blocks):
    rm = _sampled(noise)
    calls = []
    original = LocalPolynomial._rows

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LocalPolynomial, "_rows", counting)
    q = np.random.default_rng(2).uniform(-0.3, 0.3, size=(6, 2))
    ds = ng.geometry(rm, q, block_size=6 // blocks, level=0.9)
    assert len(calls) == blocks
    assert "log_volume_element_ci_low" in ds and "indefinite" in ds


def test_measuring_changes_nothing_on_the_map():
    rm = _sampled("poisson")
    before = copy.deepcopy(vars(rm))
    meas = rm.measure(np.zeros((3, 2)))
    assert isinstance(meas, Measurement) and meas.estimated and meas.resamples is not None
    after = vars(rm)
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, after[key])


def _two_layer_net() -> torch.nn.Module:
    torch.manual_seed(3)
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
        torch.nn.Linear(3 * 16, 5),
    ).double()  # fmt: skip


def test_vector_jacobian_products_match_central_differences():
    # vᵀ (r(x + hu) − r(x − hu)) / 2h = uᵀ (Jᵀv): autograd against differences of responses,
    # per layer, across chunks of the forward pass.
    net = _two_layer_net()
    rm = ng.TorchResponseMap(net, layers=["1", "3"], dtype=torch.float64, chunk_size=2)
    rng = np.random.default_rng(0)
    x, u = rng.normal(size=(5, 2, 4, 4)), rng.normal(size=(5, 2, 4, 4))
    h = 1e-5
    plus, minus = rm.layer_responses(x + h * u), rm.layer_responses(x - h * u)
    for name, (r, pullback) in rm.layer_vjp(x).items():
        np.testing.assert_allclose(r, rm.layer_responses(x)[name], rtol=1e-14)
        v = rng.normal(size=r.shape)
        directional = ((plus[name] - minus[name]) * v).sum(1) / (2 * h)
        g = pullback(v)
        assert g.shape == x.shape
        np.testing.assert_allclose((g * u).reshape(5, -1).sum(1), directional, rtol=1e-7)
        np.testing.assert_allclose(pullback(v), g, rtol=0)  # may be called again


def test_a_maps_own_vjp_defaults_to_its_jacobians():
    torch.manual_seed(4)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh()).double()
    exact = ng.TorchResponseMap(net, dtype=torch.float64)

    class Own(ng.ResponseMap):
        layers = ("own",)

        def layer_responses(self, x):
            return {"own": exact.responses(x)}

        def layer_jacobians(self, x, tangents=None):
            return {"own": exact.jacobian(x, tangents)}

    x = np.random.default_rng(1).normal(size=(6, 3))
    v = np.random.default_rng(2).normal(size=(6, 4))
    r, pullback = Own().layer_vjp(x)["own"]
    np.testing.assert_allclose(r, exact.responses(x), rtol=1e-14)
    np.testing.assert_allclose(pullback(v), exact.layer_vjp(x)["output"][1](v), rtol=1e-12)
    with pytest.raises(ng.errors.ShapeError, match=r"cotangents have shape \(2, 4\)"):
        pullback(v[:2])
    with pytest.raises(ng.errors.NonFiniteError, match="cotangents"):
        exact.layer_vjp(x)["output"][1](np.full((6, 4), np.nan))
