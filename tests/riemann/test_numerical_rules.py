"""One numerical rule for singular, indefinite and low-precision metrics (issue 10, 3-4).

Closed forms: a linear map x ↦ W x has metric WᵀW everywhere, so its log-volume is
½ log det WᵀW; a map that is constant has rank 0 and no volume element.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import neurogeom as ng
from neurogeom.errors import (
    NotPositiveSemidefiniteError,
    ParameterError,
    SingularMetricError,
)
from neurogeom.maps.base import Measurement, ResponseMap
from neurogeom.riemann import log_volume_from_spectrum, spectrum_tolerance


# -- dtypes ------------------------------------------------------------------------------------
def test_a_closure_over_float64_weights_computes_in_float64():
    W = torch.tensor([[1.0, 1e-9], [0.0, 1.0], [2.0, 0.0]], dtype=torch.float64)
    rm = ng.TorchResponseMap(lambda x: x @ W.T)
    g = rm.metric(np.zeros((2, 2)))
    assert g.dtype == np.float64
    # a float32 computation would lose the 1e-9 entry (float32 eps is 1.2e-7)
    np.testing.assert_allclose(g[0], (W.T @ W).numpy(), rtol=1e-15, atol=1e-18)


def test_a_parameter_free_callable_keeps_the_inputs_dtype():
    rm = ng.TorchResponseMap(lambda x: torch.sin(x))
    J64 = rm.jacobian(torch.full((1, 1), 0.3, dtype=torch.float64))
    J32 = rm.jacobian(torch.full((1, 1), 0.3, dtype=torch.float32))
    assert J64.dtype == torch.float64 and J32.dtype == torch.float32
    assert float(J64) == math.cos(0.3)


def test_metrics_of_a_float32_map_are_accumulated_in_float64():
    net = nn.Linear(3, 4)
    rm = ng.TorchResponseMap(net)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    g = rm.metric(x)
    assert g.dtype == np.float64
    J = net.weight.detach().double().numpy()
    np.testing.assert_allclose(g[0], J.T @ J, rtol=1e-12)


def test_a_float32_full_space_metric_with_rank_k_is_never_indefinite():
    torch.manual_seed(0)
    net = nn.Linear(50, 10)  # rank 10 in 50 dimensions: 40 exact zeros, rounded in float32
    x = np.random.default_rng(1).uniform(size=(20, 50)).astype(np.float32)
    ds = ng.geometry(ng.TorchResponseMap(net), x, space="full", rank=10, keep_metric=True)
    W = net.weight.detach().double().numpy()
    expected = 0.5 * np.sum(np.log(np.linalg.eigvalsh(W @ W.T)))
    np.testing.assert_allclose(ds.log_volume_element.values, expected, rtol=1e-5)
    auto = ng.geometry(ng.TorchResponseMap(net), x, space="full", rank="auto")
    assert (auto["metric_rank"].values == 10).all()  # float32 rounding is not taken for rank


def test_the_tolerance_fits_the_dtype_of_the_jacobian():
    eig = np.array([[1.0, 1e-13]])
    t64 = spectrum_tolerance(eig, dtype=torch.float64, jacobian_rows=100)
    t32 = spectrum_tolerance(eig, dtype=torch.float32, jacobian_rows=100)
    assert t64[0] < 1e-13 < t32[0]  # resolved in float64, rounding noise in float32


def test_the_indefinite_hint_is_not_given_for_metrics_of_exact_maps():
    with pytest.raises(NotPositiveSemidefiniteError) as err:
        ng.log_volume_element(np.diag([1.0, -1.0])[None])
    assert "Estimated" not in str(err.value)


# -- singular metrics: one rule ------------------------------------------------------------------
def _constant_map() -> ng.TorchResponseMap:
    return ng.TorchResponseMap(lambda x: 0.0 * x, dtype=torch.float64)


RANK0_PATHS = {
    "log_volume_element": lambda: ng.log_volume_element(np.zeros((1, 2, 2)), rank="auto"),
    "volume_element": lambda: ng.volume_element(np.zeros((1, 2, 2)), rank="auto"),
    "log_volume_from_spectrum": lambda: log_volume_from_spectrum(np.zeros((1, 2)), "auto"),
    "geometry": lambda: ng.geometry(_constant_map(), np.zeros((3, 2)), rank="auto"),
    "NetworkGeometry": lambda: ng.NetworkGeometry(
        lambda x: 0.0 * x, rank="auto", dtype="float64"
    ).fit_transform(np.zeros((3, 2))),
}


@pytest.mark.parametrize("path", list(RANK0_PATHS))
def test_rank_auto_on_a_rank0_metric_is_singular_not_zero(path):
    with pytest.raises(SingularMetricError, match="numerical rank 0"):
        RANK0_PATHS[path]()


class _Estimated(ResponseMap):
    """An estimated map with given metrics (some indefinite), as a recording's would be."""

    layers = ("output",)

    def __init__(self, metrics: np.ndarray) -> None:
        self.metrics = metrics

    def layer_responses(self, x):
        return {"output": np.zeros((len(x), 1))}

    def layer_jacobians(self, x, tangents=None):
        raise NotImplementedError

    def measure(self, x, tangents=None, *, scale="none", resamples=True):
        return Measurement(
            metrics={"output": self.metrics[: len(x)]},
            flags={"outside": np.zeros(len(x), dtype=bool)},
            estimated=True,
        )


@pytest.mark.parametrize("rank", [None, 1, 2, "auto"])
def test_indefinite_estimates_are_nan_under_every_rank(rank):
    g = np.stack([np.diag([4.0, 1.0]), np.diag([4.0, -0.5]), np.diag([9.0, 4.0])])
    ds = ng.geometry(_Estimated(g), np.zeros((3, 2)), rank=rank)
    lv = ds.log_volume_element.values
    assert np.isnan(lv[1])
    k = 2 if rank in (None, "auto") else rank
    np.testing.assert_allclose(
        lv[[0, 2]], [0.5 * np.log([4.0, 1.0][:k]).sum(), 0.5 * np.log([9.0, 4.0][:k]).sum()]
    )


def test_log_volume_from_spectrum_refuses_negative_eigenvalues():
    with pytest.raises(NotPositiveSemidefiniteError, match="-0.5"):
        log_volume_from_spectrum(np.array([[2.0, -0.5]]))


@pytest.mark.parametrize("rank", [0, -1, 3, 1.5, "x", True])
def test_bad_ranks_are_parameter_errors(rank):
    with pytest.raises(ParameterError, match="rank"):
        ng.log_volume_element(np.eye(2)[None], rank=rank)


# -- classifiers --------------------------------------------------------------------------------
def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3)).double()


def test_a_classifier_returning_probabilities_is_refused_as_logits():
    net = _net()
    rm = ng.TorchResponseMap(net)
    with pytest.raises(ParameterError, match="classifier_output='probabilities'"):
        ng.geometry(rm, np.zeros((4, 2)), classifier=lambda x: torch.softmax(net(x), 1))


@pytest.mark.parametrize(
    ("output", "transform"),
    [
        ("logits", lambda z: z),
        ("probabilities", lambda z: torch.softmax(z, 1)),
        ("log_probabilities", lambda z: torch.log_softmax(z, 1)),
    ],
)
def test_every_declared_classifier_output_gives_the_same_entropy(output, transform):
    p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    logits = torch.log(p) + 3.0  # any shift: same softmax
    entropy = -float((p * torch.log10(p)).sum())
    rm = ng.TorchResponseMap(_net())
    ds = ng.geometry(
        rm,
        np.zeros((2, 2)),
        classifier=lambda x: transform(logits.expand(len(x), 3)),
        classifier_output=output,
    )
    np.testing.assert_allclose(ds.entropy.values, entropy, rtol=1e-12)


# -- tangents: one rule ------------------------------------------------------------------------------
SKEWED = np.array([[1.0, 1.0]])  # not unit length


@pytest.mark.parametrize(
    "call",
    [
        lambda: ng.TorchResponseMap(_net()).metric(np.zeros((2, 2)), tangents=SKEWED),
        lambda: ng.Points(np.zeros((2, 2)), tangents=SKEWED),
        lambda: ng.geometry(ng.TorchResponseMap(_net()), ng.Points(np.zeros((2, 2)), SKEWED)),
    ],
    ids=["metric", "Points", "geometry"],
)
def test_non_orthonormal_tangents_are_refused_alike_where_a_metric_is_measured(call):
    with pytest.raises(ParameterError, match="not orthonormal"):
        call()


def test_directional_derivatives_take_any_direction():
    net = _net()
    J = ng.TorchResponseMap(net).jacobian(np.zeros((1, 2)), tangents=SKEWED)
    np.testing.assert_allclose(J[0], net[0].weight.detach().numpy() @ SKEWED.T, rtol=1e-12)


def test_a_zero_metric_under_the_full_determinant_says_no_rank_helps():
    with pytest.raises(SingularMetricError, match="locally constant") as err:
        ng.log_volume_element(np.zeros((1, 2, 2)))
    assert "rank='auto'" not in str(err.value)
