"""Contract shared by every registered estimator (scikit-learn conventions, errors)."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from neurogeom.errors import ShapeError
from neurogeom.estimators import available_estimators, get_estimator

U = np.linspace(-1, 1, 6)
GRID2 = np.stack(np.meshgrid(U, U, indexing="ij"), -1).reshape(-1, 2)
W = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 0.0]])


def problem(name):
    """(estimator, X, R, query) for a small linear population suited to each estimator."""
    if name == "stencil":
        est = get_estimator(name, centers=[[0.0, 0.0], [0.3, 0.3]], step=0.1)
        X = est.design()
        return est, X, X @ W.T, est.centers[:1]
    if name in ("grid_differences", "spline2d"):
        return get_estimator(name), GRID2, GRID2 @ W.T, GRID2[7:8]
    if name == "spline":
        X = np.linspace(-1, 1, 30)[:, None]
        return get_estimator(name), X, X @ W[:, :1].T, np.array([[0.1]])
    X = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    return get_estimator(name), X, X @ W.T, np.zeros((1, 2))


@pytest.mark.parametrize("name", available_estimators())
def test_contract(name):
    est, X, R, q = problem(name)
    init_params = est.get_params()
    with pytest.raises(NotFittedError):
        est.jacobian(q)
    assert est.fit(X, R) is est
    assert est.get_params() == init_params or name == "stencil"  # fit leaves params alone
    learned = [k for k in vars(est) if k not in init_params]
    assert learned and all(k.endswith("_") for k in learned), learned
    J = est.jacobian(q)
    assert J.shape == (1, R.shape[1], X.shape[1])
    assert np.isfinite(J).all()
    f = est.predict(q)  # every estimator also estimates the mean responses (Poisson weights)
    assert f.shape == (1, R.shape[1])
    if name != "gaussian_process":  # exact for a linear population
        np.testing.assert_allclose(f, q @ W[:, : X.shape[1]].T, atol=1e-6)
    if est.linear:
        C = est.linear_weights(q)
        assert C.shape == (1, X.shape[1], len(X))
        S = est.noise_propagation(q)
        assert S.shape == (1, X.shape[1], X.shape[1])
        np.testing.assert_allclose(S, np.swapaxes(S, 1, 2))
        assert np.linalg.eigvalsh(S)[0, 0] >= -1e-12
    with pytest.raises(ShapeError):
        get_estimator(name).fit(X, R[:-1])
    with pytest.raises(ShapeError):
        est.jacobian(np.zeros((1, X.shape[1] + 1)))
    with pytest.raises(ValueError, match="NaN"):
        get_estimator(name).fit(np.where(np.arange(len(X))[:, None] == 0, np.nan, X), R)
    frozen = est.frozen()
    assert not hasattr(frozen, "n_features_in_")


def test_unknown_estimator_lists_choices():
    with pytest.raises(ValueError, match="local_linear"):
        get_estimator("kernel_magic")
