import numpy as np
import pytest
import torch

from neurogeom import pullback_metric
from neurogeom.errors import NonFiniteError, NotPositiveSemidefiniteError, ShapeError


def test_linear_map_metric_is_WtW(rng):
    W = rng.normal(size=(5, 3))
    J = np.broadcast_to(W, (4, 5, 3))
    np.testing.assert_allclose(pullback_metric(J), np.broadcast_to(W.T @ W, (4, 3, 3)), rtol=1e-13)


def test_whitened_metric_is_linear_fisher_information(rng):
    J = rng.normal(size=(2, 4, 3))
    A = rng.normal(size=(4, 4))
    cov = A @ A.T + 0.5 * np.eye(4)
    expected = J.transpose(0, 2, 1) @ np.linalg.inv(cov) @ J
    np.testing.assert_allclose(pullback_metric(J, noise_covariance=cov), expected, rtol=1e-10)


def test_width_scale_divides_by_number_of_responses(rng):
    J = rng.normal(size=(1, 7, 2))
    np.testing.assert_allclose(pullback_metric(J, scale="width"), pullback_metric(J) / 7)


def test_torch_in_torch_out():
    J = torch.randn(3, 4, 2, dtype=torch.float64)
    g = pullback_metric(J)
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float64
    torch.testing.assert_close(g, J.mT @ J)


def test_bad_inputs_raise_clear_errors(rng):
    J = rng.normal(size=(2, 4, 3))
    with pytest.raises(ValueError, match="scale="):
        pullback_metric(J, scale="mean")
    with pytest.raises(ShapeError, match=r"expected \(4, 4\)"):
        pullback_metric(J, noise_covariance=np.eye(3))
    with pytest.raises(NotPositiveSemidefiniteError, match="not positive definite"):
        pullback_metric(J, noise_covariance=-np.eye(4))
    J[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        pullback_metric(J)
    with pytest.raises(ShapeError):
        pullback_metric(np.ones(3))
