"""The one array intake: every public entry point that takes stimuli follows its rules.

Issue 10, "Arrays in": lists, negative strides, non-contiguous, int/bool and
``requires_grad`` inputs are accepted and give the float64 result; empty input and wrong
shapes are a ``ShapeError`` naming the shapes; complex input is refused; NaN/inf produced by
the model or by the cast to the map's dtype is a ``NonFiniteError`` naming the point's index
in the caller's array and the dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import neurogeom as ng
from neurogeom.errors import InputTypeError, NonFiniteError, ShapeError

W = torch.tensor([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]], dtype=torch.float64)


def _linear_map() -> ng.TorchResponseMap:
    net = nn.Linear(2, 3, bias=False).double()
    with torch.no_grad():
        net.weight.copy_(W)
    return ng.TorchResponseMap(net)


# Entry points: each takes points (m, 2) and returns an array over points.
ENTRY_POINTS = {
    "responses": lambda x: _linear_map().responses(x),
    "jacobian": lambda x: _linear_map().jacobian(x),
    "metric": lambda x: _linear_map().metric(x),
    "geometry": lambda x: ng.geometry(_linear_map(), x).log_volume_element.values,
    "Points": lambda x: ng.Points(x).points,
}

BASE = np.array([[0.0, 1.0], [2.0, -1.0], [1.0, 1.0]])
ACCEPTED = {
    "list": lambda: BASE.tolist(),
    "negative stride": lambda: BASE[::-1].copy()[::-1],  # a view with stride < 0
    "negative column stride": lambda: BASE[:, ::-1].copy()[:, ::-1],
    "non-contiguous": lambda: np.asfortranarray(BASE),
    "strided view": lambda: np.repeat(BASE, 2, axis=0)[::2],
    "int": lambda: BASE.astype(np.int64),
    "tensor requires_grad": lambda: torch.tensor(BASE, requires_grad=True),
}


def _as_numpy(value):
    return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


@pytest.mark.parametrize("kind", list(ACCEPTED))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_array_likes_are_accepted_and_equal_the_float64_result(entry, kind):
    fn = ENTRY_POINTS[entry]
    expected = _as_numpy(fn(BASE))
    np.testing.assert_allclose(_as_numpy(fn(ACCEPTED[kind]())), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_bool_points_are_real_numbers(entry):
    fn = ENTRY_POINTS[entry]
    x = np.array([[True, False], [False, True]])
    np.testing.assert_allclose(_as_numpy(fn(x)), _as_numpy(fn(x.astype(float))), atol=1e-12)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_empty_points_are_a_shape_error(entry):
    with pytest.raises(ShapeError, match=r"\(0, 2\).*no points"):
        ENTRY_POINTS[entry](np.zeros((0, 2)))


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_single_stimulus_without_batch_axis_names_its_shape(entry):
    with pytest.raises(ShapeError, match=r"shape \(2,\).*x\[None\]"):
        ENTRY_POINTS[entry](np.zeros(2))


@pytest.mark.parametrize("entry", [e for e in ENTRY_POINTS if e != "Points"])
def test_a_wrong_stimulus_size_names_expected_and_given(entry):
    with pytest.raises(ShapeError, match=r"stimulus shape \(3,\).*Linear\(2, \.\.\.\).*size 2"):
        ENTRY_POINTS[entry](np.zeros((4, 3)))


def test_a_wrong_channel_count_names_expected_and_given():
    conv = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten())
    rm = ng.TorchResponseMap(conv)
    with pytest.raises(ShapeError, match=r"\(1, 8, 8\).*Conv2d with 3 input channels.*\(3, "):
        rm.metric(np.zeros((2, 1, 8, 8), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"\(1, 8, 8\)"):
        ng.geometry(rm, np.zeros((2, 1, 8, 8)), space="full", rank="auto")


def test_a_declared_stimulus_shape_is_checked_before_the_model_runs():
    calls = []

    def model(x):
        calls.append(x.shape)
        return x.flatten(1)

    rm = ng.TorchResponseMap(model, stimulus_shape=(2, 2))
    with pytest.raises(ShapeError, match=r"expected \(m, 2, 2\)"):
        rm.jacobian(np.zeros((3, 4)))
    assert calls == []


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_complex_points_are_refused(entry):
    with pytest.raises(InputTypeError, match="complex"):
        ENTRY_POINTS[entry](BASE.astype(complex))


@pytest.mark.parametrize(
    "fn",
    [ng.log_volume_element, ng.metric_spectrum, ng.check_metric, ng.volume_element],
    ids=lambda f: f.__name__,
)
def test_complex_metrics_are_refused(fn):
    with pytest.raises(InputTypeError, match="complex"):
        fn(np.eye(2)[None].astype(complex))


def _exploding(x):
    return torch.exp(1000.0 * x)


OVERFLOWING = {
    "metric": lambda x: ng.TorchResponseMap(_exploding).metric(x),
    "jacobian": lambda x: ng.TorchResponseMap(_exploding).jacobian(x),
    "responses": lambda x: ng.TorchResponseMap(_exploding).responses(x),
    "geometry": lambda x: ng.geometry(ng.TorchResponseMap(_exploding), x, block_size=16),
}


@pytest.mark.parametrize("entry", list(OVERFLOWING))
def test_overflow_in_the_model_names_the_point_in_the_callers_array(entry):
    x = np.zeros((100, 2))
    x[37] = 1.0  # exp(1000) overflows float64; point 37 lies in the third block of 16
    with pytest.raises(NonFiniteError, match=r"index 37 .*produced by the model.*float64") as e:
        OVERFLOWING[entry](x)
    assert e.value.index == 37


def test_overflow_of_the_cast_to_the_maps_dtype_names_point_and_dtype():
    rm = ng.TorchResponseMap(nn.Linear(2, 3))  # float32 parameters
    x = np.zeros((5, 2))
    x[3, 1] = 1e300
    with pytest.raises(NonFiniteError, match=r"index 3 .*torch.float32"):
        rm.metric(x)
    with pytest.raises(NonFiniteError, match=r"index 3 .*torch.float32"):
        ng.geometry(rm, x)


def test_the_model_zoos_linear_layers_declare_their_input_too():
    from neurogeom.models import ShallowNet

    rm = ng.TorchResponseMap(ShallowNet(2, 5), layers="hidden0")
    with pytest.raises(ShapeError, match=r"stimulus shape \(3,\).*\(2, \.\.\.\).*size 2"):
        rm.metric(np.zeros((4, 3)))


def test_one_image_without_its_point_axis_is_told_to_add_it():
    rm = ng.TorchResponseMap(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten()))
    with pytest.raises(ShapeError, match=r"x\[None\]"):
        rm.metric(np.zeros((3, 8, 8), dtype=np.float32))
