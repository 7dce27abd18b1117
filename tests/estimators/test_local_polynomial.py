"""Local polynomial regression: exactness, S, closed-form CV, statsmodels oracle."""

import numpy as np
import pytest

from neurogeom import simulate as sim
from neurogeom.errors import InsufficientSamplesError, ShapeError
from neurogeom.estimators import LocalPolynomial, get_estimator


def test_local_linear_exact_on_linear_population():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(7, 3))
    pop = sim.LinearPopulation(W, baseline=rng.normal(size=7))
    X = pop.uniform_stimuli(300, random_state=1)
    q = pop.uniform_stimuli(20, margin=0.2, random_state=2)
    for bw in ("cv", "gcv", [0.3, 0.5, 0.9]):
        est = get_estimator("local_linear", bandwidth=bw).fit(X, pop.mean(X))
        np.testing.assert_allclose(est.jacobian(q), pop.jacobian(q), atol=1e-8)


def test_local_quadratic_exact_on_quadratic_population_linear_is_not():
    rng = np.random.default_rng(3)
    pop = sim.QuadraticPopulation(rng.normal(size=(5, 2)), rng.normal(size=(5, 2, 2)))
    X = pop.uniform_stimuli(400, random_state=4)
    q = pop.uniform_stimuli(15, margin=0.3, random_state=5)
    quad = LocalPolynomial(degree=2, bandwidth=0.4).fit(X, pop.mean(X))
    np.testing.assert_allclose(quad.jacobian(q), pop.jacobian(q), atol=1e-8)
    lin = LocalPolynomial(degree=1, bandwidth=0.4).fit(X, pop.mean(X))
    assert np.abs(lin.jacobian(q) - pop.jacobian(q)).max() > 1e-3


def test_noise_propagation_is_sandwich_slope_block():
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, (80, 2))
    h = np.array([0.3, 0.6])
    est = LocalPolynomial(bandwidth=h).fit(X, rng.normal(size=(80, 4)))
    x0 = np.array([0.1, -0.2])
    D = np.column_stack([np.ones(80), X - x0])
    w = np.exp(-0.5 * (((X - x0) / h) ** 2).sum(1))
    A = np.linalg.inv(D.T @ (w[:, None] * D))
    sandwich = A @ D.T @ (w[:, None] ** 2 * D) @ A
    np.testing.assert_allclose(est.noise_propagation(x0[None])[0], sandwich[1:, 1:], rtol=1e-10)
    v = rng.uniform(1, 2, 80)
    hetero = A @ D.T @ ((w**2 * v)[:, None] * D) @ A
    np.testing.assert_allclose(est.noise_propagation(x0[None], v)[0], hetero[1:, 1:], rtol=1e-10)


def test_closed_form_loo_cv_equals_refits():
    rng = np.random.default_rng(7)
    X = rng.uniform(0, 1, (40, 1))
    R = np.sin(4 * X) + 0.1 * rng.normal(size=(40, 2))
    h = np.array([0.1])
    est = LocalPolynomial(bandwidth="cv", bandwidth_grid=[0.1 / X.std()], cv_max_points=40)
    est.fit(X, R)
    brute = 0.0
    for i in range(40):
        keep = np.arange(40) != i
        fit = LocalPolynomial(bandwidth=h).fit(X[keep], R[keep])
        brute += ((R[i] - fit.predict(X[i : i + 1])[0]) ** 2).sum()
    assert est.cv_scores_[0, -1] == pytest.approx(brute, rel=1e-9)


def test_matches_statsmodels_kernelreg():
    statsmodels = pytest.importorskip("statsmodels.nonparametric.kernel_regression")
    rng = np.random.default_rng(8)
    X = rng.uniform(0, 1, (60, 2))
    y = np.sin(3 * X[:, 0]) * X[:, 1] + 0.05 * rng.normal(size=60)
    h = [0.2, 0.3]
    q = rng.uniform(0.3, 0.7, (5, 2))
    kr = statsmodels.KernelReg(y, X, var_type="cc", reg_type="ll", bw=h)
    mean, slopes = kr.fit(q)
    est = LocalPolynomial(bandwidth=h).fit(X, y[:, None])
    np.testing.assert_allclose(est.jacobian(q)[:, 0, :], slopes, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(est.predict(q)[:, 0], mean, rtol=1e-8)


def test_periodic_dimension_wraps():
    ring = sim.VonMisesRing(12, kappa=1.5)
    X = np.linspace(0, 2 * np.pi, 200, endpoint=False)[:, None]
    est = LocalPolynomial(degree=2, bandwidth=0.2, period=2 * np.pi).fit(X, ring.mean(X))
    # rotation equivariance: at the seam (0) neuron i looks as neuron i+6 does at pi
    at_seam, at_pi = est.jacobian([[0.0]])[0, :, 0], est.jacobian([[np.pi]])[0, :, 0]
    np.testing.assert_allclose(at_seam, np.roll(at_pi, -6), atol=1e-10)
    plain = LocalPolynomial(degree=2, bandwidth=0.2).fit(X, ring.mean(X))
    assert plain.effective_samples([[0.0]])[0] < 0.6 * est.effective_samples([[0.0]])[0]


def test_expected_naive_square_bias_is_noise_times_s():
    """E[ĴᵀĴ] = JᵀJ + σ² n S for a linear population (J_h = J), Monte Carlo over 2000 draws."""
    rng = np.random.default_rng(9)
    W = rng.normal(size=(3, 2))
    X = rng.uniform(-1, 1, (150, 2))
    est = LocalPolynomial(bandwidth=0.25).fit(X, X @ W.T)
    C = est.linear_weights(np.zeros((1, 2)))[0]  # (2, 150)
    sigma, draws = 0.5, 2000
    noise = sigma * rng.normal(size=(draws, 150, 3))
    J = np.einsum("aM,bMn->bna", C, X @ W.T + noise)
    g = np.einsum("bna,bnc->bac", J, J)
    expected = W.T @ W + sigma**2 * 3 * est.noise_propagation(np.zeros((1, 2)))[0]
    se = g.std(0) / np.sqrt(draws)
    assert (np.abs(g.mean(0) - expected) < 3.5 * se + 1e-12).all()
    assert (g.mean(0) - W.T @ W)[0, 0] > 10 * se[0, 0]  # the bias is real


def test_too_few_samples_under_kernel_raises():
    X = np.random.default_rng(0).uniform(0, 1, (50, 2))
    est = LocalPolynomial(bandwidth=0.05).fit(X, X)
    with pytest.raises(InsufficientSamplesError, match="effective samples"):
        est.jacobian([[3.0, 3.0]])
    with pytest.raises(InsufficientSamplesError):
        LocalPolynomial(degree=2, bandwidth=1.0).fit(X[:4], X[:4])
    with pytest.raises(ValueError, match="bandwidth"):
        LocalPolynomial(bandwidth=-1.0).fit(X, X)


def _oc_trials(seed: int = 0):
    pop = sim.OrientationContrast(40, random_state=seed)
    th = np.arange(16) * np.pi / 16
    c = np.linspace(0.05, 1.0, 16)
    X = np.array([(a, b) for a in th for b in c])
    return X, pop.sample(X, 5, noise="poisson", random_state=seed + 1)


def test_per_neuron_noise_variances_leave_the_slope_selection_unchanged():
    """(M, n) variances are summed for the slope risk: the same candidates, the same scores."""
    X, R = _oc_trials()
    v = R.var(1, ddof=1) / R.shape[1]
    per = LocalPolynomial(period=[np.pi, None]).fit(X, R.mean(1), noise_variance=v)
    summed = LocalPolynomial(period=[np.pi, None]).fit(X, R.mean(1), noise_variance=v.sum(1))
    np.testing.assert_allclose(per.cv_scores_, summed.cv_scores_, rtol=1e-12)
    np.testing.assert_array_equal(per.base_bandwidth_, summed.base_bandwidth_)
    # repeated rows instead of means: the trial spread is recovered per neuron
    rows = LocalPolynomial(period=[np.pi, None]).fit(
        np.repeat(X, R.shape[1], axis=0), R.reshape(-1, R.shape[2])
    )
    np.testing.assert_allclose(rows.base_bandwidth_, per.base_bandwidth_, rtol=1e-12)
    np.testing.assert_allclose(rows.bandwidth_, per.bandwidth_, rtol=1e-12)
    with pytest.raises(ShapeError, match=r"\(256,\) or \(256, 40\)"):
        LocalPolynomial().fit(X, R.mean(1), noise_variance=v[:, :3])


def test_bias_corrected_width_by_the_metric_risk():
    """The degree-(p+2) width: ≥ the degree-p one, on the 2^(k/8) ladder, recorded."""
    X, R = _oc_trials(1)
    v = R.var(1, ddof=1) / R.shape[1]
    est = LocalPolynomial(period=[np.pi, None]).fit(X, R.mean(1), noise_variance=v)
    assert est.degree_ == 3 and est.correction_scores_ is not None
    ratio = est.bandwidth_ / est.base_bandwidth_
    assert np.allclose(ratio, ratio[0]) and ratio[0] >= 1.0
    k = 8 * np.log2(ratio[0])
    assert abs(k - round(k)) < 1e-9
    assert "metric risk" in est.bandwidth_method_
    widths, scores = est.correction_scores_[:, :2], est.correction_scores_[:, 2]
    assert np.isfinite(scores).any()
    # the chosen width is a candidate no wider than the score's minimum
    best = widths[int(np.argmin(scores))]
    assert (est.bandwidth_ <= best + 1e-12).all()
    # a fixed bandwidth is never widened
    fixed = LocalPolynomial(bandwidth=[0.3, 0.2], bias_correction=True).fit(X, R.mean(1))
    np.testing.assert_array_equal(fixed.bandwidth_, [0.3, 0.2])
    assert fixed.correction_scores_ is None
