"""Extrinsic curvature of response maps against closed forms, identities and invariances.

Closed forms (principal curvatures up to orientation; checked in float64 before writing):
sphere of radius a: κ = (1/a, 1/a), |H| = 1/a with H = trace/2, K = 1/a²; cylinder of
radius ρ: (1/ρ, 0); torus ((c + a cos v) cos u, (c + a cos v) sin u, a sin v):
cos v/(c + a cos v) along u and 1/a along v; paraboloid z = x² + y² at its vertex: (2, 2);
any surface in Rⁿ: Gauss equation K = (⟨II₁₁, II₂₂⟩ − ‖II₁₂‖²)/det g = R/2. A rotation into
more responses changes nothing extrinsic; scaling the responses by s divides curvatures by s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.errors import InputTypeError, SingularMetricError
from neurogeom.riemann import (
    curvature_from_gram,
    embedding_geometry,
    embedding_jets,
    extrinsic_from_embedding,
    jet_gram,
)
from neurogeom.slices import Plane

RTOL = 1e-8


def _map(f):
    return ng.TorchResponseMap(f, dtype=torch.float64)


def sphere(a: float):
    def r(x: torch.Tensor) -> torch.Tensor:
        th, ph = x[:, 0], x[:, 1]
        return a * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)

    return r


def cylinder(rho: float):
    def r(x: torch.Tensor) -> torch.Tensor:
        return torch.stack([rho * x[:, 0].cos(), rho * x[:, 0].sin(), x[:, 1]], 1)

    return r


def torus(a: float, c: float):
    def r(x: torch.Tensor) -> torch.Tensor:
        u, v = x[:, 0], x[:, 1]
        rad = c + a * v.cos()
        return torch.stack([rad * u.cos(), rad * u.sin(), a * v.sin()], 1)

    return r


def codim4(x: torch.Tensor) -> torch.Tensor:
    """A generic surface in R⁶ (codimension 4)."""
    u, v = x[:, 0], x[:, 1]
    return torch.stack([u, v, u**2 + 0.3 * v**2, (u * v).sin(), u * v**2, u.cos() + 0.5 * v**3], 1)


POINTS = np.array([[0.7, 0.2], [1.3, 2.0], [2.2, -1.0]])


@pytest.mark.parametrize("a", [0.5, 2.0, 7.0])
def test_sphere_principal_and_mean_curvature(a):
    rm = _map(sphere(a))
    kappa = ng.principal_curvatures(rm, POINTS)
    np.testing.assert_allclose(kappa, np.full((3, 2), 1 / a), rtol=RTOL)
    np.testing.assert_allclose(ng.mean_curvature(rm, POINTS, norm=True), 1 / a, rtol=RTOL)
    H = ng.mean_curvature(rm, POINTS)  # points to the centre: H = −r/a²
    np.testing.assert_allclose(H, -rm.responses(POINTS) / a**2, rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("rho", [0.5, 3.0])
def test_cylinder(rho):
    kappa = ng.principal_curvatures(_map(cylinder(rho)), POINTS)
    np.testing.assert_allclose(kappa[:, 0], 1 / rho, rtol=RTOL)
    np.testing.assert_allclose(kappa[:, 1], 0.0, atol=1e-12 / rho)


def test_torus_inner_and_outer_points():
    a, c = 1.0, 3.0
    pts = np.array([[0.3, 0.2], [1.0, 2.5], [2.0, math.pi], [0.4, -1.3]])
    kappa = ng.principal_curvatures(_map(torus(a, c)), pts)
    v = pts[:, 1]
    expected = np.sort(np.stack([np.cos(v) / (c + a * np.cos(v)), np.full(4, 1 / a)], 1), 1)
    np.testing.assert_allclose(kappa, expected[:, ::-1], rtol=RTOL, atol=1e-14)


def test_paraboloid_vertex_and_plane_slice_of_a_3d_map():
    para = _map(lambda x: torch.cat([x, (x**2).sum(1, keepdim=True)], 1))
    np.testing.assert_allclose(ng.principal_curvatures(para, np.zeros((1, 2))), [[2.0, 2.0]])
    # a 3-D stimulus space; the plane x₃ = 0 traces the paraboloid (x, y, 0, x² + y²)
    rm3 = _map(lambda x: torch.cat([x, (x[:, :2] ** 2).sum(1, keepdim=True)], 1))
    plane = Plane(np.zeros(3), [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], resolution=3, extent=1.0)
    ext = ng.extrinsic_curvature(rm3, plane)
    # surface of revolution z = ρ²: κ = 2/√(1+4ρ²) (around), 2/(1+4ρ²)^{3/2} (along ρ)
    q = 1 + 4 * (plane.points[:, :2] ** 2).sum(1)
    np.testing.assert_allclose(
        ext.principal_curvatures, np.stack([2 / q**0.5, 2 / q**1.5], 1), rtol=RTOL
    )
    assert ext.second_fundamental_form.shape == (9, 4, 2, 2)


def test_gauss_equation_in_codimension_four_against_the_metric_route():
    rm = _map(codim4)
    pts = np.array([[0.3, -0.4], [0.9, 0.5], [-0.6, 0.8]])
    II = ng.second_fundamental_form(rm, pts)
    g = rm.metric(pts)
    K = (
        np.einsum("mn,mn->m", II[:, :, 0, 0], II[:, :, 1, 1])
        - np.einsum("mn,mn->m", II[:, :, 0, 1], II[:, :, 0, 1])
    ) / np.linalg.det(g)
    R_metric = ng.scalar_curvature(rm, pts, method="metric")  # third derivatives of g
    np.testing.assert_allclose(2 * K, R_metric, rtol=1e-8)
    # II is normal: orthogonal to every column of J
    J = rm.jacobian(pts)
    assert np.abs(np.einsum("mna,mnbc->mabc", J, II)).max() < 1e-12


def test_isometric_reembedding_and_affine_scaling():
    rng = np.random.default_rng(0)
    Q = torch.as_tensor(np.linalg.qr(rng.standard_normal((40, 3)))[0])
    shift = torch.as_tensor(rng.standard_normal(40))
    base, s = torus(1.0, 3.0), 2.5
    rm, rot = _map(base), _map(lambda x: base(x) @ Q.T + shift)
    scaled = _map(lambda x: s * base(x))
    e, er, es = (ng.extrinsic_curvature(m, POINTS) for m in (rm, rot, scaled))
    np.testing.assert_allclose(er.principal_curvatures, e.principal_curvatures, rtol=1e-10)
    np.testing.assert_allclose(er.mean_curvature_norm, e.mean_curvature_norm, rtol=1e-10)
    np.testing.assert_allclose(
        er.second_fundamental_form,
        np.einsum("in,mnab->miab", Q, e.second_fundamental_form),
        atol=1e-12,
    )
    np.testing.assert_allclose(es.principal_curvatures, e.principal_curvatures / s, rtol=1e-10)
    np.testing.assert_allclose(es.mean_curvature_norm, e.mean_curvature_norm / s, rtol=1e-10)
    R, Rs = (ng.scalar_curvature(m, POINTS) for m in (rm, scaled))
    np.testing.assert_allclose(Rs, R / s**2, rtol=1e-10)


def test_gram_route_matches_the_qr_route():
    """Every scalar from inner products alone equals the QR route (independent algebra)."""
    pts = torch.tensor([[0.3, -0.4], [0.9, 0.5], [-0.6, 0.8]], dtype=torch.float64)
    J, H = embedding_jets(lambda c: codim4(c[None])[0], pts)
    curv, ext = embedding_geometry(J, H)
    gcurv, gext = curvature_from_gram(jet_gram(J, H), 2)
    for a, b in [
        (curv.christoffel, gcurv.christoffel),
        (curv.riemann, gcurv.riemann),
        (curv.ricci, gcurv.ricci),
        (curv.scalar, gcurv.scalar),
        (ext.mean_curvature_norm, gext.mean_curvature_norm),
        (ext.principal_curvatures, gext.principal_curvatures),
    ]:
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    assert gext.second_fundamental_form is None


def test_saddle_flat_and_undefined_normals():
    pts = np.zeros((1, 2))
    saddle = _map(lambda x: torch.stack([x[:, 0], x[:, 1], x[:, 0] ** 2 - x[:, 1] ** 2], 1))
    np.testing.assert_allclose(ng.principal_curvatures(saddle, pts), [[2.0, -2.0]])
    flat = _map(lambda x: x @ torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]], dtype=x.dtype))
    np.testing.assert_array_equal(ng.principal_curvatures(flat, pts), [[0.0, 0.0]])
    # the graph of z ↦ z² in C = R²: minimal (H = 0), II spans two normals
    minimal = _map(
        lambda x: torch.stack(
            [x[:, 0], x[:, 1], x[:, 0] ** 2 - x[:, 1] ** 2, 2 * x[:, 0] * x[:, 1]], 1
        )
    )
    ext = ng.extrinsic_curvature(minimal, pts)
    assert bool(ext.normal_undefined[0]) and np.isnan(ext.principal_curvatures).all()
    assert ext.mean_curvature_norm[0] < 1e-14
    # the Gauss equation still holds there: K = −8 (det II_frame = −4 − 4)
    assert ng.scalar_curvature(minimal, pts)[0] == pytest.approx(-16.0, rel=1e-12)


class NumpySphere(ng.ResponseMap):
    """A user's map with first derivatives only: a sphere of radius ``a`` in numpy."""

    layers = ("sphere",)

    def __init__(self, a: float) -> None:
        self.a = a

    def layer_responses(self, x):
        th, ph = np.asarray(x, float).T
        r = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], 1)
        return {"sphere": self.a * r}

    def layer_jacobians(self, x, tangents=None):
        th, ph = np.asarray(x, float).T
        J = self.a * np.stack(
            [
                np.stack([np.cos(th) * np.cos(ph), -np.sin(th) * np.sin(ph)], -1),
                np.stack([np.cos(th) * np.sin(ph), np.sin(th) * np.cos(ph)], -1),
                np.stack([-np.sin(th), 0 * th], -1),
            ],
            1,
        )
        return {"sphere": J if tangents is None else J @ np.asarray(tangents).T}


def test_user_numpy_map_through_the_finite_difference_fallback():
    a = 2.0
    rm = NumpySphere(a)
    np.testing.assert_allclose(ng.scalar_curvature(rm, POINTS), 2 / a**2, rtol=1e-5)
    np.testing.assert_allclose(ng.principal_curvatures(rm, POINTS), 1 / a, rtol=1e-5)
    np.testing.assert_allclose(ng.mean_curvature(rm, POINTS, norm=True), 1 / a, rtol=1e-5)


def test_policies_layers_and_bad_input():
    with pytest.raises(InputTypeError, match="ResponseMap"):
        ng.principal_curvatures(lambda x: x, POINTS)
    line = _map(lambda x: torch.stack([x[:, 0], x[:, 0], 0 * x[:, 0]], 1))  # rank 1 metric
    with pytest.raises(SingularMetricError, match="singular"):
        ng.mean_curvature(line, POINTS)
    kappa, singular = ng.principal_curvatures(line, POINTS, on_singular="nan", return_singular=True)
    assert singular.all() and np.isnan(kappa).all()
    net = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh(), torch.nn.Linear(5, 7))
    rm = ng.TorchResponseMap(net.double(), layers=["1", "2"])
    out = ng.mean_curvature(rm, torch.zeros(2, 2, dtype=torch.float64), norm=True)
    assert set(out) == {"1", "2"} and isinstance(out["1"], torch.Tensor)


def test_extrinsic_from_embedding_singular_and_few_responses():
    J = torch.zeros(1, 1, 2, dtype=torch.float64)  # n = 1 < k = 2
    ext = extrinsic_from_embedding(
        J, torch.zeros(1, 1, 2, 2, dtype=torch.float64), on_singular="nan"
    )
    assert bool(ext.singular[0]) and torch.isnan(ext.principal_curvatures).all()
