"""Closed-form shallow geometry against autograd and the generic Christoffel formula."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import jacfwd, jacrev

import neurogeom as ng
from neurogeom.experiments.closed_form import shallow_closed_form
from neurogeom.models import ShallowNet


def _ricci_generic(metric_fn, x: torch.Tensor) -> torch.Tensor:
    """R from the Christoffel symbols of a metric field (ground_truth.md), one point."""
    g = metric_fn(x)
    dg = jacfwd(metric_fn)(x)  # dg[a, b, c] = ∂_c g_ab
    ddg = jacfwd(jacfwd(metric_fn))(x)  # ddg[a, b, c, e] = ∂_e ∂_c g_ab
    ginv = torch.linalg.inv(g)
    # Γ^a_bc = ½ g^{ad} (∂_b g_dc + ∂_c g_db − ∂_d g_bc)
    d = g.shape[0]
    gam = torch.zeros(d, d, d, dtype=g.dtype)
    for a in range(d):
        for b in range(d):
            for c in range(d):
                gam[a, b, c] = 0.5 * sum(
                    ginv[a, e] * (dg[e, c, b] + dg[e, b, c] - dg[b, c, e]) for e in range(d)
                )
    # ∂_e Γ^a_bc: differentiate the same expression (product rule with ∂ g^{-1} = -g^{-1} ∂g g^{-1})
    dginv = -torch.einsum("ij,jkl,km->iml", ginv, dg, ginv)  # dginv[i, m, l] = ∂_l g^{im}
    dgam = torch.zeros(d, d, d, d, dtype=g.dtype)  # dgam[a, b, c, q] = ∂_l Γ^a_bc
    for a in range(d):
        for b in range(d):
            for c in range(d):
                for q in range(d):
                    dgam[a, b, c, q] = 0.5 * sum(
                        dginv[a, e, q] * (dg[e, c, b] + dg[e, b, c] - dg[b, c, e])
                        + ginv[a, e] * (ddg[e, c, b, q] + ddg[e, b, c, q] - ddg[b, c, e, q])
                        for e in range(d)
                    )
    # R_bc = ∂_a Γ^a_bc − ∂_c Γ^a_ab + Γ^a_ad Γ^d_bc − Γ^a_cd Γ^d_ab
    ric = (
        torch.einsum("abca->bc", dgam)
        - torch.einsum("aabc->bc", dgam)
        + torch.einsum("aad,dbc->bc", gam, gam)
        - torch.einsum("acd,dab->bc", gam, gam)
    )
    return torch.einsum("bc,bc->", ginv, ric)


def _embedding_metric(f):
    def metric(x):
        J = jacrev(f)(x)
        return J.T @ J

    return metric


def test_generic_ricci_on_sphere_and_paraboloid():
    a = 1.7

    def sphere(p):
        th, ph = p[0], p[1]
        return a * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()])

    def paraboloid(p):
        return torch.stack([p[0], p[1], p[0] ** 2 + p[1] ** 2])

    x = torch.tensor([0.9, 0.4], dtype=torch.float64)
    assert float(_ricci_generic(_embedding_metric(sphere), x)) == pytest.approx(2 / a**2, rel=1e-10)
    K = 4 / (1 + 4 * 0.81 + 4 * 0.16) ** 2
    assert float(_ricci_generic(_embedding_metric(paraboloid), x)) == pytest.approx(
        2 * K, rel=1e-10
    )


@pytest.mark.parametrize("width", [2, 7])
def test_closed_form_matches_autograd(width):
    torch.manual_seed(width)
    net = ShallowNet(2, width).double()
    x = torch.tensor([[0.3, -0.2], [-1.1, 0.7], [1.4, 1.4]], dtype=torch.float64)
    cf = shallow_closed_form(net, x)
    g = ng.TorchResponseMap(net, "hidden0", dtype=torch.float64).metric(x)
    assert width == 2 or cf["ricci_scalar"].abs().min() > 1e-3  # a non-trivial comparison
    torch.testing.assert_close(cf["metric"], torch.as_tensor(g), rtol=1e-12, atol=0)
    ref = ng.log_volume_element(g)
    np.testing.assert_allclose(cf["log_volume_element"].numpy(), np.asarray(ref), rtol=1e-12)

    def feature(p):
        return net.hidden0(p[None])[0]

    for i in range(len(x)):
        R = _ricci_generic(_embedding_metric(feature), x[i])
        assert float(cf["ricci_scalar"][i]) == pytest.approx(float(R.detach()), rel=1e-8)


def test_two_units_flat():
    # n = 2: the feature map is a local diffeomorphism onto an open subset of R², so R = 0.
    # In the closed form every term has i ∉ {j, k} with j ≠ k, impossible for n = 2, but the
    # O(n) contraction sums terms that cancel: bound the rounding by the terms' magnitude,
    # |m_ij| ≤ |wᵢ||wⱼ| gives Σ|term| ≤ (Σᵢ φ′ᵢ²|wᵢ|²)(Σⱼ |φ′ⱼφ″ⱼ| |wⱼ|³)².
    torch.manual_seed(0)
    net = ShallowNet(2, 2).double()
    x = torch.randn(5, 2, dtype=torch.float64)
    out = shallow_closed_form(net, x)
    W, b = net.hidden0.linear.weight.detach(), net.hidden0.linear.bias.detach()
    s = torch.sigmoid(x @ W.T + b)
    d1, d2 = s * (1 - s), s * (1 - s) * (1 - 2 * s)
    norm = W.norm(dim=1)
    terms = (d1**2 * norm**2).sum(1) * ((d1 * d2).abs() * norm**3).sum(1) ** 2
    det = torch.exp(2 * out["log_volume_element"])
    scale = terms / (2**3 * det**2)
    assert torch.all(out["ricci_scalar"].abs() <= 1e-13 * scale)


def test_closed_form_rejects_other_nets():
    with pytest.raises(ValueError, match="one sigmoid hidden layer"):
        shallow_closed_form(ShallowNet(2, (3, 3)), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="one sigmoid hidden layer"):
        shallow_closed_form(ShallowNet(2, 3, activation="tanh"), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="2-D inputs"):
        shallow_closed_form(ShallowNet(3, 4), torch.zeros(1, 3))


def test_cauchy_binet_determinant_where_eigen_solvers_lose_it():
    # two nearly parallel units: det g is tiny relative to |g|², the closed form stays exact
    W = torch.tensor([[1.0, 0.0], [1.0, 1e-7]], dtype=torch.float64)
    net = ShallowNet(2, 2).double()
    with torch.no_grad():
        net.hidden0.linear.weight.copy_(W)
        net.hidden0.linear.bias.zero_()
    out = shallow_closed_form(net, torch.zeros(1, 2, dtype=torch.float64))
    # at x = 0: φ′ = 1/4 for both units, det g = (1/4)(1/16)² · (1e-7)²
    expected = 0.5 * np.log((1 / 4) * (1 / 16) ** 2 * 1e-14)
    assert float(out["log_volume_element"][0]) == pytest.approx(expected, rel=1e-14)
