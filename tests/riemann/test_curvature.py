"""Curvature of metric fields against closed forms (ground_truth.md) and invariances."""

from __future__ import annotations

import math

import pytest
import torch

from neurogeom.errors import NotPositiveSemidefiniteError, ShapeError, SingularMetricError
from neurogeom.riemann.curvature import (
    curvature_from_embedding,
    curvature_from_jets,
    embedding_curvature,
    field_curvature,
    metric_jet,
    singular_points,
)

F64 = torch.float64


def _diag(*entries: torch.Tensor) -> torch.Tensor:
    return torch.diag(torch.stack(list(entries)))


def _sphere(a: float):
    def field(c: torch.Tensor) -> torch.Tensor:
        return _diag(a**2 * torch.ones_like(c[0]), a**2 * torch.sin(c[0]) ** 2)

    return field


def _points(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=F64)


@pytest.mark.parametrize("a", [0.3, 1.0, 2.5])
def test_sphere_scalar_christoffel_riemann(a):
    pts = _points([[0.4, 0.0], [1.1, 2.0], [2.6, -1.3]])
    curv = field_curvature(_sphere(a), pts)
    th = pts[:, 0]
    torch.testing.assert_close(
        curv.scalar, torch.full((3,), 2 / a**2, dtype=F64), rtol=1e-12, atol=0
    )
    # Γ^θ_φφ = −sinθ cosθ, Γ^φ_θφ = Γ^φ_φθ = cotθ, all others 0
    expected = torch.zeros(3, 2, 2, 2, dtype=F64)
    expected[:, 0, 1, 1] = -torch.sin(th) * torch.cos(th)
    expected[:, 1, 0, 1] = expected[:, 1, 1, 0] = torch.cos(th) / torch.sin(th)
    torch.testing.assert_close(curv.christoffel, expected, rtol=1e-12, atol=1e-14)
    # R^θ_φθφ = sin²θ, R^φ_θφθ = 1, antisymmetric in the last pair
    torch.testing.assert_close(curv.riemann[:, 0, 1, 0, 1], torch.sin(th) ** 2, rtol=1e-12, atol=0)
    torch.testing.assert_close(
        curv.riemann[:, 0, 1, 1, 0], -(torch.sin(th) ** 2), rtol=1e-12, atol=0
    )
    torch.testing.assert_close(
        curv.riemann[:, 1, 0, 1, 0], torch.ones(3, dtype=F64), rtol=1e-12, atol=0
    )
    # 2-D: Ricci = K g with K = 1/a²
    torch.testing.assert_close(curv.ricci, curv.metric / a**2, rtol=1e-12, atol=1e-14)
    assert not curv.singular.any()


def test_paraboloid_catches_gamma_gamma_signs():
    def field(c):
        return torch.eye(2, dtype=c.dtype) + 4.0 * torch.outer(c, c)

    pts = _points([[0.0, 0.0], [0.3, -0.2], [1.0, 0.5], [-2.0, 1.5]])
    K = 4.0 / (1.0 + 4.0 * (pts**2).sum(1)) ** 2
    curv = field_curvature(field, pts)
    torch.testing.assert_close(curv.scalar, 2.0 * K, rtol=1e-12, atol=0)
    torch.testing.assert_close(curv.ricci, K[:, None, None] * curv.metric, rtol=1e-12, atol=1e-15)


def test_torus():
    a, c = 0.7, 2.0

    def field(x):
        return _diag((c + a * torch.cos(x[1])) ** 2, a**2 * torch.ones_like(x[0]))

    pts = _points([[0.1, 0.0], [1.0, 1.2], [2.0, math.pi], [-0.5, 4.0]])
    v = pts[:, 1]
    K = torch.cos(v) / (a * (c + a * torch.cos(v)))
    torch.testing.assert_close(field_curvature(field, pts).scalar, 2 * K, rtol=1e-12, atol=1e-15)


def test_polar_chart_is_flat_with_known_christoffels():
    def field(x):
        return _diag(torch.ones_like(x[0]), x[0] ** 2)

    pts = _points([[0.5, 0.0], [2.0, 1.0], [3.0, -2.0]])
    curv = field_curvature(field, pts)
    assert torch.all(curv.scalar.abs() < 1e-14)
    assert torch.all(curv.riemann.abs() < 1e-14)
    rho = pts[:, 0]
    torch.testing.assert_close(curv.christoffel[:, 0, 1, 1], -rho, rtol=1e-14, atol=0)
    torch.testing.assert_close(curv.christoffel[:, 1, 0, 1], 1 / rho, rtol=1e-14, atol=0)


def test_hyperbolic_half_plane_negative_curvature():
    def field(x):
        return torch.eye(2, dtype=x.dtype) / x[1] ** 2

    pts = _points([[0.0, 0.5], [3.0, 2.0]])
    torch.testing.assert_close(
        field_curvature(field, pts).scalar, torch.full((2,), -2.0, dtype=F64), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("a", [0.5, 2.0])
def test_three_sphere(a):
    """S³ of radius a: R = d(d−1)/a² = 6/a²; exercises every index position for k = 3."""

    def field(x):
        s1, s2 = torch.sin(x[0]) ** 2, torch.sin(x[1]) ** 2
        return a**2 * _diag(torch.ones_like(x[0]), s1, s1 * s2)

    pts = _points([[0.7, 1.1, 0.3], [2.0, 0.4, -1.0]])
    curv = field_curvature(field, pts)
    torch.testing.assert_close(
        curv.scalar, torch.full((2,), 6 / a**2, dtype=F64), rtol=1e-12, atol=0
    )
    torch.testing.assert_close(curv.ricci, 2 * curv.metric / a**2, rtol=1e-12, atol=1e-14)


def _generic_field(x):
    """A non-diagonal, non-symmetric-in-coordinates 3-D metric (positive definite near 0)."""
    A = torch.stack(
        [
            torch.stack([1 + x[0] ** 2, x[0] * x[1], torch.sin(x[2])]),
            torch.stack([x[1] ** 3, 1 + torch.cos(x[0]) * x[2], x[0]]),
            torch.stack([x[2] * x[1], x[0] ** 2, 2 + x[1]]),
        ]
    )
    return A @ A.mT + torch.eye(3, dtype=x.dtype)


def test_riemann_symmetries_generic_metric():
    pts = _points([[0.1, -0.2, 0.3], [0.5, 0.4, -0.6]])
    curv = field_curvature(_generic_field, pts)
    R = torch.einsum("mae,mebcd->mabcd", curv.metric, curv.riemann)  # all indices down
    tol = dict(rtol=0, atol=1e-11)
    torch.testing.assert_close(R, -R.permute(0, 2, 1, 3, 4), **tol)  # R_abcd = −R_bacd
    torch.testing.assert_close(R, -R.permute(0, 1, 2, 4, 3), **tol)  # R_abcd = −R_abdc
    torch.testing.assert_close(R, R.permute(0, 3, 4, 1, 2), **tol)  # pair symmetry
    bianchi = R + R.permute(0, 1, 3, 4, 2) + R.permute(0, 1, 4, 2, 3)  # R_a[bcd] = 0
    torch.testing.assert_close(bianchi, torch.zeros_like(R), **tol)
    torch.testing.assert_close(curv.ricci, curv.ricci.mT, **tol)


def test_christoffel_matches_finite_differences_of_metric():
    """Independent check of Γ: central differences of g on the generic field."""
    c = _points([[0.2, -0.1, 0.4]])[0]
    h = 1e-5
    dg = torch.stack(
        [
            (_generic_field(c + h * e) - _generic_field(c - h * e)) / (2 * h)
            for e in torch.eye(3, dtype=F64)
        ],
        dim=-1,
    )
    g = _generic_field(c)
    lower = 0.5 * (dg.permute(0, 2, 1) + dg - dg.permute(2, 0, 1))
    expected = torch.einsum("ad,dbc->abc", torch.linalg.inv(g), lower)
    got = field_curvature(_generic_field, c[None], christoffel_only=True)
    torch.testing.assert_close(got.christoffel[0], expected, rtol=1e-7, atol=1e-8)
    assert got.riemann is None and got.scalar is None


def test_reparametrisation_invariance():
    """Pull the paraboloid metric back by c = A y: R(y) must equal R(A y)."""
    A = torch.tensor([[1.5, 0.4], [-0.3, 0.8]], dtype=F64)

    def field(c):
        return torch.eye(2, dtype=c.dtype) + 4.0 * torch.outer(c, c)

    def pulled(y):
        return A.mT @ field(A @ y) @ A

    ys = _points([[0.2, 0.1], [-0.7, 0.9], [1.0, -1.0]])
    torch.testing.assert_close(
        field_curvature(pulled, ys).scalar,
        field_curvature(field, ys @ A.mT).scalar,
        rtol=1e-12,
        atol=0,
    )


def test_one_dimensional_curve_has_zero_curvature():
    def field(c):
        return (2.0 + torch.sin(c)) ** 2 * torch.ones(1, 1, dtype=c.dtype)

    pts = _points([[0.0], [1.0], [2.5]])
    curv = field_curvature(lambda c: field(c[0]), pts)
    assert torch.equal(curv.scalar, torch.zeros(3, dtype=F64))
    assert curv.riemann.shape == (3, 1, 1, 1, 1) and torch.equal(
        curv.ricci, torch.zeros(3, 1, 1, dtype=F64)
    )
    # Γ¹₁₁ = ½ g⁻¹ g′ = cos / (2 + sin)
    x = pts[:, 0]
    torch.testing.assert_close(
        curv.christoffel[:, 0, 0, 0], torch.cos(x) / (2 + torch.sin(x)), rtol=1e-14, atol=0
    )


def _cone_like(x):
    """g = diag(1, x₀²): singular exactly on the line x₀ = 0."""
    return _diag(torch.ones_like(x[0]), x[0] ** 2)


def test_singular_metric_raises_by_default():
    pts = _points([[1.0, 0.0], [0.0, 0.3]])
    with pytest.raises(SingularMetricError, match="point 1"):
        field_curvature(_cone_like, pts)


def test_singular_metric_nan_policy_reports_mask():
    pts = _points([[1.0, 0.0], [0.0, 0.3], [2.0, 1.0]])
    curv = field_curvature(_cone_like, pts, on_singular="nan")
    assert curv.singular.tolist() == [False, True, False]
    for t in (curv.metric, curv.christoffel, curv.riemann, curv.ricci, curv.scalar):
        assert torch.isnan(t[1]).all()
        assert torch.isfinite(t[[0, 2]]).all()
    assert torch.all(curv.scalar[[0, 2]].abs() < 1e-14)  # polar chart: flat where regular


def test_nearly_singular_metric_is_singular_not_huge():
    """An eigenvalue below 10 k eps λ_max counts as zero (the log-volume tolerance)."""
    g = torch.diag(torch.tensor([1.0, 1e-17], dtype=F64))[None]
    assert singular_points(g).tolist() == [True]
    assert singular_points(torch.diag(torch.tensor([1.0, 1e-12], dtype=F64))[None]).tolist() == [
        False
    ]


def test_bad_inputs():
    with pytest.raises(ValueError, match="on_singular"):
        field_curvature(_cone_like, _points([[1.0, 0.0]]), on_singular="ignore")
    with pytest.raises(ShapeError):
        field_curvature(_cone_like, torch.ones(2, dtype=F64))
    with pytest.raises(NotPositiveSemidefiniteError):
        field_curvature(
            lambda c: _diag(torch.ones_like(c[0]), -torch.ones_like(c[0])), _points([[0.0, 0.0]])
        )
    with pytest.raises(ShapeError, match="dg"):
        curvature_from_jets(torch.eye(2, dtype=F64)[None], torch.zeros(1, 2, 2, dtype=F64))
    with pytest.raises(ValueError, match="order"):
        metric_jet(_cone_like, _points([1.0, 0.0]), order=3)


# -- the embedding (Gauss equation) route ------------------------------------------------------
def _sphere_embedding(a: float):
    def r(c):
        th, ph = c[0], c[1]
        return a * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()])

    return r


def _net_embedding(k: int, seed: int = 0):
    """A generic smooth embedding R^k → R^6 (a small tanh/sin network), float64."""
    gen = torch.Generator().manual_seed(seed)
    W1 = torch.randn(8, k, generator=gen, dtype=F64)
    W2 = torch.randn(6, 8, generator=gen, dtype=F64)
    b1 = torch.randn(8, generator=gen, dtype=F64)

    def r(c):
        return torch.sin(W2 @ torch.tanh(W1 @ c + b1))

    return r


@pytest.mark.parametrize("a", [0.4, 2.0])
def test_embedding_route_sphere(a):
    pts = _points([[0.4, 0.0], [1.1, 2.0], [2.6, -1.3]])
    curv = embedding_curvature(_sphere_embedding(a), pts)
    torch.testing.assert_close(
        curv.scalar, torch.full((3,), 2 / a**2, dtype=F64), rtol=1e-12, atol=0
    )
    th = pts[:, 0]
    torch.testing.assert_close(curv.riemann[:, 0, 1, 0, 1], torch.sin(th) ** 2, rtol=1e-12, atol=0)
    torch.testing.assert_close(
        curv.christoffel[:, 0, 1, 1], -torch.sin(th) * torch.cos(th), rtol=1e-12, atol=1e-15
    )


def test_embedding_route_paraboloid():
    pts = _points([[0.0, 0.0], [0.3, -0.2], [-2.0, 1.5]])
    K = 4.0 / (1.0 + 4.0 * (pts**2).sum(1)) ** 2
    curv = embedding_curvature(lambda c: torch.cat([c, (c**2).sum()[None]]), pts)
    torch.testing.assert_close(curv.scalar, 2.0 * K, rtol=1e-12, atol=0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_embedding_route_equals_metric_route(k):
    """Both routes compute the same tensors for a generic embedding (every index, k = 3)."""
    r = _net_embedding(k)

    def field(c):
        J = torch.func.jacfwd(r)(c)
        return J.mT @ J

    pts = torch.randn(4, k, generator=torch.Generator().manual_seed(1), dtype=F64) * 0.5
    via_embedding = embedding_curvature(r, pts)
    via_metric = field_curvature(field, pts)
    for name in ("metric", "christoffel", "riemann", "ricci", "scalar"):
        got, expected = getattr(via_embedding, name), getattr(via_metric, name)
        scale = expected.abs().max().clamp_min(1.0)
        torch.testing.assert_close(got / scale, expected / scale, rtol=0, atol=1e-11)
    if k == 1:
        assert torch.equal(via_embedding.scalar, torch.zeros(4, dtype=F64))


def test_embedding_route_singular_policy():
    def fold(c):  # metric diag(1, 4 y²): singular on y = 0
        return torch.stack([c[0], c[1] ** 2])

    pts = _points([[0.0, 1.0], [0.3, 0.0]])
    with pytest.raises(SingularMetricError, match="point 1"):
        embedding_curvature(fold, pts)
    curv = embedding_curvature(fold, pts, on_singular="nan")
    assert curv.singular.tolist() == [False, True]
    assert torch.isnan(curv.scalar[1]) and torch.isnan(curv.christoffel[1]).all()
    assert curv.scalar[0].abs() < 1e-14


def test_embedding_into_fewer_dimensions_is_singular():
    curv = embedding_curvature(lambda c: c[:1] * 2.0, _points([[0.0, 1.0]]), on_singular="nan")
    assert curv.singular.tolist() == [True] and torch.isnan(curv.scalar).all()
    with pytest.raises(SingularMetricError, match="only 1 response"):
        embedding_curvature(lambda c: c[:1] * 2.0, _points([[0.0, 1.0]]))
    with pytest.raises(ShapeError):
        curvature_from_embedding(torch.zeros(1, 3, 2, dtype=F64), torch.zeros(1, 3, 2, dtype=F64))
