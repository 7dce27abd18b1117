"""Gaussian-process posterior-mean gradient vs finite differences of sklearn's predict."""

import numpy as np

from neurogeom.estimators import GaussianProcess


def test_gradient_matches_predict_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 2))
    R = np.column_stack([np.sin(2 * X[:, 0]) * X[:, 1], X[:, 0] ** 2]) + 0.05 * rng.normal(
        size=(60, 2)
    )
    gp = GaussianProcess().fit(X, R)
    q = rng.uniform(-0.5, 0.5, (4, 2))
    h = 1e-5
    fd = np.stack(
        [(gp.predict(q + h * e) - gp.predict(q - h * e)) / (2 * h) for e in np.eye(2)], -1
    )
    np.testing.assert_allclose(gp.jacobian(q), fd, rtol=1e-6, atol=1e-7)


def test_frozen_reproduces_fit_without_optimising():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (40, 1))
    R = np.sin(3 * X) + 0.1 * rng.normal(size=(40, 1))
    gp = GaussianProcess().fit(X, R)
    again = gp.frozen().fit(X, R)
    np.testing.assert_allclose(again.jacobian([[0.2]]), gp.jacobian([[0.2]]), rtol=1e-10)
    assert again.kernel_ == gp.kernel_
