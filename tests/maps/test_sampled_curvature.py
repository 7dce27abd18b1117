"""Second-order geometry estimated from trials: local quadratic jets, corrected Gram, intervals.

Ground truth: simulated populations whose mean responses lie on a scaled copy of a sphere
(κ = 1/(gain·a), R = 2/(gain·a)²), a torus and a ring (|H| = 1/(gain·a)), and a quadratic
population, which a local quadratic fits without smoothing bias (so the corrected Gram
matrix must be unbiased for the exact one).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom import simulate
from neurogeom.errors import InputTypeError, InsufficientSamplesError
from neurogeom.riemann import embedding_geometry, jet_gram

SPHERE_BOUNDS = [[0.5, 2.6], [0.0, 3.0]]
INTERIOR = (
    np.array(np.meshgrid(np.linspace(1.0, 2.1, 5), np.linspace(0.6, 2.4, 5))).reshape(2, -1).T
)


def test_affine_surfaces_have_their_closed_form_curvature():
    """The populations' exact jets give the closed forms (so they can serve as truth)."""
    a, c, gain = 1.0, 3.0, 2.0
    for surface, x in [
        ("sphere", np.array([[0.7, 0.3], [2.0, 4.0]])),
        ("torus", np.array([[0.3, 0.2], [1.0, 2.5]])),
        ("circle", np.array([[0.3], [4.0]])),
    ]:
        pop = simulate.AffineSurface(surface, 9, radius=a, center_radius=c, gain=gain)
        J, H = (torch.as_tensor(t) for t in (pop.jacobian(x), pop.hessian(x)))
        curv, ext = embedding_geometry(J, H)
        if surface == "sphere":
            np.testing.assert_allclose(ext.principal_curvatures, 1 / (gain * a), rtol=1e-12)
            np.testing.assert_allclose(curv.scalar, 2 / (gain * a) ** 2, rtol=1e-12)
        elif surface == "torus":
            v = x[:, 1]
            want = np.sort(np.stack([np.cos(v) / (c + a * np.cos(v)), np.ones(2) / a], 1), 1)
            np.testing.assert_allclose(ext.principal_curvatures, want[:, ::-1] / gain, rtol=1e-12)
        else:
            np.testing.assert_allclose(ext.mean_curvature_norm, 1 / (gain * a), rtol=1e-12)
    with pytest.raises(ng.errors.ParameterError, match="surface"):
        simulate.AffineSurface("cube")


def test_corrected_jet_gram_is_unbiased_where_the_naive_one_is_not():
    """Quadratic means: Ĵ, Ĥ unbiased, so E[corrected Gram] is the exact Gram of the jet."""
    rng = np.random.default_rng(3)
    lin, quad = rng.standard_normal((12, 2)), 0.3 * rng.standard_normal((12, 2, 2))
    pop = simulate.QuadraticPopulation(lin, quad, bounds=[[-1, 1], [-1, 1]])
    q = np.array([[0.0, 0.0], [0.3, -0.2], [-0.4, 0.4]])
    exact = jet_gram(pop.jacobian(q), np.broadcast_to(2 * pop.quadratic, (3, 12, 2, 2)))
    X = pop.uniform_stimuli(150, random_state=0)
    draws: dict[str | None, list[np.ndarray]] = {"analytic": [], None: []}
    for seed in range(40):
        R = pop.sample(X, 3, noise=2.0, random_state=seed)
        for corr, stack in draws.items():
            rm = ng.SampledResponseMap(
                X, R, "local_quadratic", correction=corr, domain=None,
                estimator_params={"bandwidth": 0.7},
            )  # fmt: skip
            stack.append(rm.layer_jet_grams(q)["responses"])
    for corr, stack in draws.items():
        G = np.array(stack)
        z = (G.mean(0) - exact) / (G.std(0, ddof=1) / np.sqrt(len(G)))
        if corr == "analytic":
            assert np.abs(z).max() < 4.5
        else:  # the noise energy Σ wᵢwᵢᵀτᵢ inflates every squared norm of the jet
            assert np.diagonal(z[:, 2:, 2:], 0, 1, 2).min() > 6


@pytest.fixture(scope="module")
def sphere_map():
    pop = simulate.AffineSurface("sphere", 24, gain=10.0, baseline=20.0, bounds=SPHERE_BOUNDS)
    X = pop.uniform_stimuli(700, random_state=0)
    R = pop.sample(X, 10, noise="poisson", random_state=1)
    rm = ng.SampledResponseMap(
        X, R, "local_quadratic", estimator_params={"bandwidth": 0.4}, n_bootstrap=40
    )
    return pop, rm


def test_sampled_sphere_intrinsic_and_extrinsic_curvature(sphere_map):
    """24 neurons, 700 conditions x 10 Poisson trials, rates on a sphere of radius 10."""
    pop, rm = sphere_map
    R = ng.scalar_curvature(rm, INTERIOR)
    H = ng.mean_curvature(rm, INTERIOR, norm=True)
    kappa = ng.principal_curvatures(rm, INTERIOR)
    assert np.median(np.abs(R / 0.02 - 1)) < 0.25
    assert np.median(np.abs(H / 0.1 - 1)) < 0.12
    assert np.median(np.abs(kappa / 0.1 - 1)) < 0.25
    # the naive plug-in (no noise correction) is biased upward in |H|
    naive = ng.SampledResponseMap(
        rm.stimuli, rm.trials, "local_quadratic", correction=None,
        estimator_params={"bandwidth": 0.4},
    )  # fmt: skip
    assert np.median(ng.mean_curvature(naive, INTERIOR, norm=True)) > np.median(H)
    # the estimated jets themselves: J and the normal vector fields
    J, Hess = rm.layer_jets(INTERIOR)["responses"]
    err = np.linalg.norm(J - pop.jacobian(INTERIOR), axis=1) / np.linalg.norm(
        pop.jacobian(INTERIOR), axis=1
    )
    assert np.median(err) < 0.2 and Hess.shape == (25, 24, 2, 2)
    II = ng.second_fundamental_form(rm, INTERIOR)
    assert np.abs(np.einsum("mna,mnbc->mabc", J, II)).max() < 1e-9  # normal to Ĵ


def test_sampled_intervals_and_geometry_variables(sphere_map):
    _, rm = sphere_map
    ci = ng.curvature_intervals(rm, INTERIOR[:6])
    R = ng.scalar_curvature(rm, INTERIOR[:6])
    assert (ci["ricci_scalar_ci_low"] < R).all() and (R < ci["ricci_scalar_ci_high"]).all()
    assert ci["principal_curvatures_ci_low"].shape == (6, 2)
    grid = ng.Grid([(1.2, 1.9), (1.0, 2.0)], resolution=3)
    ds = ng.geometry(rm, grid, curvature=True)
    for name in (
        "ricci_scalar",
        "mean_curvature_norm",
        "principal_curvatures",
        "principal_undefined",
        "ricci_scalar_ci_low",
        "mean_curvature_norm_ci_high",
        "principal_curvatures_ci_low",
        "curvature_unidentified_fraction",
    ):
        assert name in ds, name
    assert ds.principal_curvatures.dims == ("u", "v", "principal")
    assert ds.mean_curvature_norm.attrs["units"] == "1 / response_unit"
    lo, hi = ds.mean_curvature_norm_ci_low.values, ds.mean_curvature_norm_ci_high.values
    assert (lo <= ds.mean_curvature_norm.values).all() and (
        ds.mean_curvature_norm.values <= hi
    ).all()
    with pytest.raises(InputTypeError, match="computed, not estimated"):
        ng.curvature_intervals(ng.TorchResponseMap(torch.sin), np.zeros((1, 2)))


def test_sampled_ring_mean_curvature_with_a_periodic_stimulus():
    """A head-direction-like ring: rates on a circle of radius 10, |H| = 1/10, R = 0."""
    pop = simulate.AffineSurface("circle", 16, gain=10.0, baseline=20.0)
    X = pop.uniform_stimuli(600, random_state=0)
    R = pop.sample(X, 20, random_state=2)
    rm = ng.SampledResponseMap(
        X, R, "local_quadratic", estimator_params={"bandwidth": 0.3, "period": 2 * np.pi}
    )
    q = np.linspace(0.0, 2 * np.pi, 12, endpoint=False)[:, None]
    H = ng.mean_curvature(rm, q, norm=True)
    assert np.median(np.abs(H / 0.1 - 1)) < 0.15
    np.testing.assert_array_equal(ng.scalar_curvature(rm, q), 0.0)


def test_sampled_curvature_refusals_and_flags():
    pop = simulate.AffineSurface("sphere", 8, gain=5.0, baseline=10.0, bounds=SPHERE_BOUNDS)
    X = pop.uniform_stimuli(200, random_state=0)
    R = pop.sample(X, 3, random_state=1)
    linear = ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.5})
    with pytest.raises(InputTypeError, match="local_quadratic"):
        ng.scalar_curvature(linear, INTERIOR[:2])
    poisson = ng.SampledResponseMap(
        X, R, "local_quadratic", noise="poisson", estimator_params={"bandwidth": 0.5}
    )
    with pytest.raises(InputTypeError, match="poisson"):
        ng.mean_curvature(poisson, INTERIOR[:2])
    single = ng.SampledResponseMap(
        X, R[:, 0], "local_quadratic", estimator_params={"bandwidth": 0.5}, n_bootstrap=5
    )
    with pytest.raises(InsufficientSamplesError, match="repeated trials"):
        ng.curvature_intervals(single, INTERIOR[:2])
    ds = ng.geometry(single, ng.Points(INTERIOR[:2]), curvature=True)  # no curvature intervals
    assert "mean_curvature_norm" in ds and "mean_curvature_norm_ci_low" not in ds
    assert "log_volume_element_ci_low" in ds  # the metric's single-trial bootstrap still runs
    flagged = ng.SampledResponseMap(
        X, R, "local_quadratic", estimator_params={"bandwidth": 0.5}, on_invalid="flag"
    )
    outside = np.array([[1.5, 1.5], [3.0, 1.0]])  # the second lies outside the stimuli
    kappa, singular = ng.principal_curvatures(
        flagged, outside, on_singular="nan", return_singular=True
    )
    assert singular.tolist() == [False, True] and np.isnan(kappa[1]).all()
    assert np.isfinite(kappa[0]).all()


def test_sampled_torus_curvature_changes_sign_between_outer_and_inner_equator():
    """Rates on a torus (a = 1, c = 2) scaled by 10: R = 2 cos v/(100 (2 + cos v))."""
    pop = simulate.AffineSurface("torus", 24, center_radius=2.0, gain=10.0, baseline=40.0)
    X = pop.uniform_stimuli(1500, random_state=0)
    R = pop.sample(X, 10, random_state=1)
    params = {"bandwidth": 0.35, "period": [2 * np.pi, 2 * np.pi]}
    rm = ng.SampledResponseMap(X, R, "local_quadratic", estimator_params=params)
    u = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    outer, inner = (np.stack([u, np.full(8, v)], 1) for v in (0.0, np.pi))
    assert np.median(ng.scalar_curvature(rm, outer)) == pytest.approx(2 / 300, rel=0.3)
    assert np.median(ng.scalar_curvature(rm, inner)) == pytest.approx(-0.02, rel=0.3)
    kappa = np.median(ng.principal_curvatures(rm, outer), 0)  # (1/10, 1/30)
    np.testing.assert_allclose(kappa, [0.1, 1 / 30], rtol=0.3)
    # intrinsic tensors too: Γᵛ_uu = (c + a cos v) sin v / a = 0 on the outer equator,
    # Γᵘ_uv = −a sin v/(c + a cos v) = 0 there; both estimated near 0 relative to |Γ| ~ 1
    gamma = ng.christoffel_symbols(rm, outer)
    assert np.abs(np.median(gamma, 0)).max() < 0.3
    ricci = ng.ricci_tensor(rm, outer)  # in two dimensions Ric = (R/2) g
    g = rm.layer_jet_grams(outer)["responses"][:, :2, :2]
    R_outer = ng.scalar_curvature(rm, outer)
    np.testing.assert_allclose(ricci, 0.5 * R_outer[:, None, None] * g, rtol=1e-8, atol=1e-12)


def test_sampled_jets_along_a_plane_of_a_3d_stimulus_space():
    """Tangents: Ĵ Tᵀ and T Ĥ Tᵀ, so the Gram matrix is that of the slice's exact jet."""
    rng = np.random.default_rng(5)
    lin, quad = rng.standard_normal((8, 3)), rng.standard_normal((8, 3, 3))
    pop = simulate.QuadraticPopulation(lin, quad, bounds=[[-1, 1]] * 3)
    X = pop.uniform_stimuli(400, random_state=0)
    R = pop.sample(X, 4, noise=0.01, random_state=1)
    rm = ng.SampledResponseMap(X, R, "local_quadratic", estimator_params={"bandwidth": 0.8})
    T = np.linalg.qr(rng.standard_normal((3, 2)))[0].T  # (2, 3) orthonormal rows
    q = np.array([[0.1, -0.2, 0.0], [0.0, 0.3, 0.2]])
    J = pop.jacobian(q) @ T.T
    H = np.einsum("ka,nab,lb->nkl", T, 2 * pop.quadratic, T)
    exact = jet_gram(J, np.broadcast_to(H, (2, 8, 2, 2)))
    G = rm.layer_jet_grams(q, T)["responses"]
    np.testing.assert_allclose(G, exact, rtol=1e-3, atol=1e-3 * np.abs(exact).max())
    plane = ng.Plane(q[0], q[1], [0.2, 0.0, -0.3], resolution=3, extent=0.5)
    ds = ng.geometry(rm, plane, curvature=True)
    assert ds.principal_curvatures.shape == (3, 3, 2) and np.isfinite(ds.ricci_scalar).all()


@pytest.mark.parametrize("estimator", ["local_quadratic", "local_cubic", "local_quartic"])
def test_every_local_fit_of_degree_two_or_more_gives_exact_jets_of_quadratic_means(estimator):
    """Noise-free quadratic means: any local fit of degree >= 2 reproduces J and H exactly."""
    rng = np.random.default_rng(5)
    lin, quad = rng.standard_normal((6, 2)), rng.standard_normal((6, 2, 2))
    pop = simulate.QuadraticPopulation(lin, quad, bounds=[[-1, 1], [-1, 1]])
    X = pop.uniform_stimuli(120, random_state=1)
    q = np.array([[0.1, -0.3], [-0.5, 0.2]])
    rm = ng.SampledResponseMap(
        X, pop.mean(X), estimator, correction=None, domain=None,
        estimator_params={"bandwidth": 0.8, "bias_correction": False},
    )  # fmt: skip
    J, H = rm.layer_jets(q)["responses"]
    np.testing.assert_allclose(J, pop.jacobian(q), atol=1e-9)
    Hq = np.broadcast_to(2 * pop.quadratic, H.shape)
    np.testing.assert_allclose(H, Hq, atol=1e-8)


def test_local_quartic_chooses_its_own_bandwidth_and_meets_the_sphere_accuracy():
    """The curvature estimator with its defaults (degree 4, bandwidth by CV of that fit).

    24 neurons on a sphere of radius 10 (R = 0.02, |H| = 0.1), 700 conditions x 10 Poisson
    trials: the issue's target, median relative error <= 15% for R and |H|.
    """
    pop = simulate.AffineSurface("sphere", 24, gain=10.0, baseline=20.0, bounds=SPHERE_BOUNDS)
    X = pop.uniform_stimuli(700, random_state=2)
    rm = ng.SampledResponseMap(
        X, pop.sample(X, 10, noise="poisson", random_state=1002), "local_quartic"
    )
    assert rm.estimator.degree_ == 4 and "cross-validation" in rm.estimator.bandwidth_method_
    R = ng.scalar_curvature(rm, INTERIOR)
    H = ng.mean_curvature(rm, INTERIOR, norm=True)
    assert np.median(np.abs(R / 0.02 - 1)) <= 0.15
    assert np.median(np.abs(H / 0.1 - 1)) <= 0.15


def test_intrinsic_and_extrinsic_curvature_of_a_sampled_map_take_one_jet_solve(monkeypatch):
    """``ng.extrinsic_curvature`` needs the jets and their corrected Grams: one weight solve."""
    pop = simulate.AffineSurface("sphere", 8, gain=5.0, baseline=10.0, bounds=SPHERE_BOUNDS)
    X = pop.uniform_stimuli(200, random_state=0)
    rm = ng.SampledResponseMap(
        X, pop.sample(X, 3, random_state=1), "local_quadratic",
        estimator_params={"bandwidth": 0.5},
    )  # fmt: skip
    solves = {"n": 0}
    real = type(rm.estimator).jet_weights

    def counted(self, Xq):
        solves["n"] += 1
        return real(self, Xq)

    monkeypatch.setattr(type(rm.estimator), "jet_weights", counted)
    ext = ng.extrinsic_curvature(rm, INTERIOR[:4])
    assert solves["n"] == 1
    J, H, G = rm.layer_jet_estimates(INTERIOR[:4])["responses"]
    J2, H2 = rm.layer_jets(INTERIOR[:4])["responses"]
    np.testing.assert_array_equal(J, J2)
    np.testing.assert_array_equal(H, H2)
    np.testing.assert_array_equal(G, rm.layer_jet_grams(INTERIOR[:4])["responses"])
    assert np.isfinite(np.asarray(ext.mean_curvature_norm)).all()
