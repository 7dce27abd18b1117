"""Finite differences on stencils and grids: exactness, S = I/(2Th²), design checks."""

import numpy as np
import pytest

from neurogeom import simulate as sim
from neurogeom.errors import OutOfDomainError, ShapeError
from neurogeom.estimators import GridDifferences, StencilDifferences


def test_stencil_exact_on_quadratic_and_s_closed_form():
    rng = np.random.default_rng(0)
    pop = sim.QuadraticPopulation(rng.normal(size=(4, 3)), rng.normal(size=(4, 3, 3)))
    centers = rng.uniform(-0.5, 0.5, (5, 3))
    est = StencilDifferences(centers=centers, step=0.2, repeats=3)
    X = est.design()
    assert X.shape == (5 * 3 * 2 * 3, 3)
    est.fit(X, pop.mean(X))
    # central differences are exact for quadratics
    np.testing.assert_allclose(est.jacobian(centers), pop.jacobian(centers), atol=1e-10)
    S = est.noise_propagation(centers)
    np.testing.assert_allclose(S, np.broadcast_to(np.eye(3) / (2 * 3 * 0.2**2), S.shape))


def test_random_directions_least_squares_exact_on_linear():
    W = np.array([[1.0, 2.0], [-1.0, 0.5]])
    est = StencilDifferences(
        centers=np.zeros((1, 2)), step=0.1, directions="random", n_directions=5, random_state=3
    )
    X = est.design()
    est.fit(X, X @ W.T)
    np.testing.assert_allclose(est.jacobian(np.zeros((1, 2)))[0], W, atol=1e-12)


def test_stencil_rejects_foreign_design_and_queries():
    est = StencilDifferences(centers=np.zeros((1, 2)), step=0.1)
    X = est.design()
    with pytest.raises(ShapeError, match="design"):
        est.fit(X + 0.01, X)
    est.fit(X, X)
    with pytest.raises(OutOfDomainError, match="stencil centres"):
        est.jacobian([[0.5, 0.5]])


def test_grid_differences_second_order_everywhere():
    u = np.linspace(0, 1, 7)
    X = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(X))  # any row order
    pop = sim.QuadraticPopulation(rng.normal(size=(3, 2)), rng.normal(size=(3, 2, 2)))
    est = GridDifferences().fit(X[perm], pop.mean(X[perm]))
    # second-order stencils (also one-sided at edges) are exact for quadratics
    np.testing.assert_allclose(est.jacobian(X), pop.jacobian(X), atol=1e-10)
    with pytest.raises(ShapeError, match="grid"):
        GridDifferences().fit(X[:-1], pop.mean(X[:-1]))
    with pytest.raises(OutOfDomainError):
        est.jacobian([[0.05, 0.5]])
