"""Simulated populations: exact Jacobians vs finite differences, metrics vs closed forms."""

import numpy as np
import pytest

from neurogeom import simulate as sim


def central_jacobian(pop, x, h=1e-5):
    """4th-order central differences of the mean responses, (m, n, d)."""
    cols = []
    for a in range(pop.d):
        e = np.zeros(pop.d)
        e[a] = h
        f2, f1, m1, m2 = (pop.mean(x + s * e) for s in (2, 1, -1, -2))
        cols.append((-f2 + 8 * f1 - 8 * m1 + m2) / (12 * h))
    return np.stack(cols, -1)


POPULATIONS = {
    "ring": lambda: sim.VonMisesRing(16, amplitude=3.0, kappa=2.0, baseline=0.5),
    "place2": lambda: sim.PlaceFields.lattice(2, 0.25, (0.0, 1.0), 0.3, amplitude=2.0),
    "place3": lambda: sim.PlaceFields.lattice(3, 0.5, (0.0, 1.0), 0.4),
    "grid": lambda: sim.GridCells([0.5, 0.8], phases_per_side=3, baseline=2.0),
    "random": lambda: sim.RandomFeatures(3, 50, baseline=1.0, random_state=0),
    "warped": lambda: sim.Warped.sinusoidal(
        sim.PlaceFields.lattice(2, 0.25, (0.0, 1.0), 0.3), strength=0.4
    ),
    "quadratic": lambda: sim.QuadraticPopulation(
        np.arange(6.0).reshape(3, 2), np.random.default_rng(0).normal(size=(3, 2, 2))
    ),
}


@pytest.mark.parametrize("name", sorted(POPULATIONS))
def test_jacobian_matches_finite_differences(name):
    pop = POPULATIONS[name]()
    x = pop.uniform_stimuli(5, margin=0.1, random_state=1)
    if name == "random":  # keep away from the relu kinks
        x = x[np.abs(x @ pop.weights.T).min(1) > 1e-3]
    np.testing.assert_allclose(pop.jacobian(x), central_jacobian(pop, x), rtol=1e-7, atol=1e-7)


def test_von_mises_metric_closed_form():
    ring = sim.VonMisesRing(64, amplitude=5.0, kappa=2.0)
    theta = np.linspace(0, 2 * np.pi, 7)[:, None]
    np.testing.assert_allclose(
        ring.metric(theta)[:, 0, 0], sim.von_mises_metric(64, 5.0, 2.0), rtol=1e-10
    )
    np.testing.assert_allclose(
        ring.fisher_information(theta + 0.1, "poisson")[:, 0, 0],
        sim.poisson_von_mises_fisher(64, 5.0, 2.0),
        rtol=1e-10,
    )


def test_place_field_metric_closed_form_2d():
    # spacing 0.1 = sigma/3.5, evaluated 4 sigma inside the lattice edge
    pop = sim.PlaceFields.lattice(2, 0.1, (0.0, 3.0), 0.35, amplitude=2.0)
    g = pop.metric(np.array([[1.5, 1.5], [1.43, 1.61]]))
    expected = np.pi * 2.0**2 / (2 * 0.1**2) * np.eye(2)
    np.testing.assert_allclose(g, np.broadcast_to(expected, g.shape), rtol=1e-6, atol=1e-6)
    assert sim.place_field_metric(100.0, 2.0, 0.35, 2) == pytest.approx(expected[0, 0], rel=1e-12)


def test_place_field_poisson_fisher_2d():
    # f'^2/f decays like exp(-r^2/(2 sigma^2)), not exp(-r^2/sigma^2): keep 5.7 sigma from edges
    pop = sim.PlaceFields.lattice(2, 0.05, (0.0, 4.0), 0.35, amplitude=2.0, baseline=1e-300)
    fi = pop.fisher_information(np.array([[2.0, 2.0]]), "poisson")[0]
    np.testing.assert_allclose(fi, 2 * np.pi * 2.0 / 0.05**2 * np.eye(2), rtol=1e-6, atol=1e-6)


def test_grid_cell_metric_flat_and_modules_add():
    pop = sim.GridCells([0.5, 0.8], phases_per_side=3, orientation=0.3)
    g = pop.metric(np.random.default_rng(0).uniform(0, 1, (4, 2)))
    expected = sim.grid_cell_metric(9, 0.5) + sim.grid_cell_metric(9, 0.8)
    np.testing.assert_allclose(
        g, np.broadcast_to(expected * np.eye(2), g.shape), rtol=1e-10, atol=1e-9
    )


def test_warped_metric_is_pushforward_and_volume_rule():
    base = sim.GridCells([0.5], phases_per_side=3)
    pop = sim.Warped.sinusoidal(base, strength=0.5)
    x = pop.uniform_stimuli(4, random_state=2)
    D = pop.psi_jacobian(x)
    g = pop.metric(x)
    np.testing.assert_allclose(
        np.sqrt(np.linalg.det(g)),
        np.abs(np.linalg.det(D)) * sim.grid_cell_metric(9, 0.5),
        rtol=1e-9,
    )


def test_random_features_mean_metric_is_identity():
    pop = sim.RandomFeatures(4, 100_000, random_state=0)
    g = pop.metric(np.array([[0.3, -0.2, 0.5, 0.1]]))[0]
    np.testing.assert_allclose(g, np.eye(4), atol=0.03)


def test_gaussian_fisher_is_whitened_pullback():
    pop = sim.LinearPopulation(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
    A = np.random.default_rng(0).normal(size=(3, 3))
    cov = A @ A.T + np.eye(3)
    fi = pop.fisher_information(np.zeros((1, 2)), cov)[0]
    W = pop.weights
    np.testing.assert_allclose(fi, W.T @ np.linalg.solve(cov, W), rtol=1e-12)


def test_sampling_moments():
    pop = sim.VonMisesRing(8, amplitude=4.0, baseline=1.0)
    x = np.array([[0.5]])
    r = pop.sample(x, 20000, noise="poisson", random_state=0)
    assert r.shape == (1, 20000, 8)
    np.testing.assert_allclose(r[0].mean(0), pop.mean(x)[0], rtol=0.05)
    np.testing.assert_allclose(r[0].var(0), pop.mean(x)[0], rtol=0.1)
    g = pop.sample(x, 20000, noise=0.5, random_state=0)
    np.testing.assert_allclose(g[0].std(0), 0.5, rtol=0.05)
    assert pop.sample(x, noise=0.5, random_state=0).shape == (1, 8)


def test_bad_inputs():
    pop = sim.VonMisesRing(8)
    with pytest.raises(ValueError, match="shape"):
        pop.mean(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        pop.mean(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="Poisson"):
        sim.LinearPopulation(np.ones((2, 1)), baseline=-5.0).sample(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="noise"):
        pop.sample(np.zeros((1, 1)), noise="gauss")
