"""Smoothing splines: linear weights, GCV, exact derivatives at zero smoothing."""

import numpy as np

from neurogeom.estimators import GridSpline2D, SmoothingSpline


def test_spline_weights_reproduce_scipy_spline_derivative():
    from scipy.interpolate import make_smoothing_spline

    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 3, 50))[:, None]
    R = np.column_stack([np.sin(x[:, 0]), np.cos(2 * x[:, 0])]) + 0.05 * rng.normal(size=(50, 2))
    sp = SmoothingSpline().fit(x, R)
    ref = make_smoothing_spline(x[:, 0], R, lam=sp.lam_).derivative()(np.array([0.7, 1.9]))
    np.testing.assert_allclose(sp.jacobian([[0.7], [1.9]])[:, :, 0], ref, rtol=1e-8)


def test_spline_gcv_recovers_derivative():
    rng = np.random.default_rng(1)
    x = np.linspace(0, 3, 200)[:, None]
    R = np.sin(x) + 0.02 * rng.normal(size=(200, 1))
    sp = SmoothingSpline().fit(x, R)
    q = np.array([[1.0], [2.0]])
    np.testing.assert_allclose(sp.jacobian(q)[:, 0, 0], np.cos(q[:, 0]), atol=0.03)


def test_grid_spline_exact_for_cubic_without_smoothing():
    u = np.linspace(-1, 1, 9)
    X = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    R = np.column_stack([X[:, 0] ** 3 - X[:, 1], X[:, 0] * X[:, 1]])
    est = GridSpline2D(s=0.0).fit(X, R)
    q = np.array([[0.3, -0.2]])
    expected = np.array([[[3 * 0.09, -1.0], [-0.2, 0.3]]])
    np.testing.assert_allclose(est.jacobian(q), expected, atol=1e-10)
