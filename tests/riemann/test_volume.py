import math

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom import log_volume_element, metric_spectrum, volume_element
from neurogeom.errors import NotPositiveSemidefiniteError, ShapeError, SingularMetricError
from neurogeom.models import ShallowNet
from neurogeom.riemann import log_volume_from_spectrum


def test_log_volume_of_spd_matrices_matches_slogdet(rng):
    A = rng.normal(size=(6, 4, 4))
    g = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(4)
    expected = 0.5 * np.linalg.slogdet(g)[1]
    np.testing.assert_allclose(log_volume_element(g), expected, rtol=1e-12)
    np.testing.assert_allclose(volume_element(g), np.exp(expected), rtol=1e-12)


def test_pseudo_determinant_of_rank_deficient_map_is_det_WWt(rng):
    W = rng.normal(size=(3, 7))  # n = 3 < d = 7: WᵀW has rank 3
    g = (W.T @ W)[None]
    logvol, used = log_volume_element(g, rank=3, return_rank=True)
    np.testing.assert_allclose(logvol, 0.5 * np.log(np.linalg.det(W @ W.T)), rtol=1e-10)
    assert used.tolist() == [3]
    auto, used_auto = log_volume_element(g, rank="auto", return_rank=True)
    np.testing.assert_allclose(auto, logvol, rtol=1e-12)
    assert used_auto.tolist() == [3]


def test_singular_metric_raises_instead_of_minus_inf(rng):
    W = rng.normal(size=(2, 4))
    with pytest.raises(SingularMetricError, match="numerical rank 2 < 4.*rank="):
        log_volume_element((W.T @ W)[None])
    with pytest.raises(SingularMetricError, match="rank 2 < 3"):
        log_volume_element((W.T @ W)[None], rank=3)


def test_non_psd_and_non_symmetric_metrics_are_rejected():
    with pytest.raises(NotPositiveSemidefiniteError, match="negative eigenvalue"):
        log_volume_element(np.diag([1.0, -0.5])[None])
    with pytest.raises(NotPositiveSemidefiniteError, match="not symmetric"):
        log_volume_element(np.array([[[1.0, 0.5], [0.0, 1.0]]]))
    with pytest.raises(ShapeError, match="square"):
        log_volume_element(np.ones((2, 3)))
    with pytest.raises(ValueError, match="rank=5 exceeds the dimension 2"):
        log_volume_element(np.eye(2)[None], rank=5)


def test_spectrum_is_descending_and_torch_stays_torch():
    g = torch.diag(torch.tensor([1.0, 9.0, 4.0], dtype=torch.float64))[None]
    eig = metric_spectrum(g)
    assert isinstance(eig, torch.Tensor)
    assert eig.tolist() == [[9.0, 4.0, 1.0]]
    logvol, used = log_volume_from_spectrum(eig, rank=2)
    assert math.isclose(float(logvol[0]), 0.5 * math.log(36.0), rel_tol=1e-14)
    assert used.tolist() == [2]


def test_volume_element_refuses_to_underflow():
    g = np.eye(3)[None] * 1e-300  # sqrt(det g) = 1e-450 < smallest float64
    with pytest.raises(OverflowError, match="log_volume_element"):
        volume_element(g)


def test_random_784_2000_sigmoid_layer_log_volume_is_finite_and_exact(rng):
    """ground_truth.md: log10 sqrt(det g) ~ -1841, far below float64's range."""
    net = ShallowNet(784, 2000, 10).double()
    x = rng.uniform(0.0, 1.0, size=(2, 784))
    rm = ng.TorchResponseMap(net, "hidden0")
    logvol = log_volume_element(rm.metric(x))
    # closed form g = Wᵀ diag(φ'(z)²) W / n, evaluated independently in numpy
    W = net.hidden0.linear.weight.detach().numpy()
    b = net.hidden0.linear.bias.detach().numpy()
    s = 1 / (1 + np.exp(-(x @ W.T + b)))
    dphi2 = (s * (1 - s)) ** 2
    g = np.einsum("mj,ja,jb->mab", dphi2, W, W) / 2000
    expected = 0.5 * np.linalg.slogdet(g)[1]
    assert np.all(np.isfinite(logvol))
    np.testing.assert_allclose(logvol, expected, rtol=1e-10)
    assert np.all((-2000 < logvol / np.log(10)) & (logvol / np.log(10) < -1700))


def test_jacobian_spectrum_matches_metric_spectrum_on_both_sides(rng):
    from neurogeom.riemann.volume import jacobian_spectrum

    for n, d in ((3, 7), (7, 3)):
        J = rng.normal(size=(4, n, d))
        eig = jacobian_spectrum(J, scale="width")
        full = metric_spectrum(J.transpose(0, 2, 1) @ J / n)
        assert eig.shape == (4, min(n, d))
        np.testing.assert_allclose(eig, full[:, : min(n, d)], rtol=1e-12)
        np.testing.assert_allclose(full[:, min(n, d) :], 0.0, atol=1e-12)
