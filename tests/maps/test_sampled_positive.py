"""SampledResponseMap's positive analytic correction (the default): PD, bounded, unbiased."""

import numpy as np
import pytest

import neurogeom as ng
from neurogeom import simulate as sim
from neurogeom.errors import ParameterError

X = np.random.default_rng(0).uniform(0, 1, (200, 2))
Q = np.random.default_rng(4).uniform(0.2, 0.8, (30, 2))
FLAT = sim.LinearPopulation(np.zeros((10, 2)), baseline=5.0)  # no signal at all


def flat_map(noise_model=None, positive=True, **kw):
    noise = "poisson" if noise_model == "poisson" else 1.0
    R = FLAT.sample(X, 3, noise=noise, random_state=3)
    return ng.SampledResponseMap(
        X, R, noise=noise_model, estimator_params={"bandwidth": 0.15}, positive=positive, **kw
    )


@pytest.mark.parametrize("noise_model", [None, "poisson"])
def test_positive_definite_where_the_subtraction_is_indefinite(noise_model):
    """No signal: the unbiased subtraction goes negative; the default stays PD, flagged never."""
    lam_sub = np.linalg.eigvalsh(flat_map(noise_model, positive=False).metric(Q))[:, 0]
    assert (lam_sub <= 0).mean() > 0.3
    rm = flat_map(noise_model)
    g = rm.metric(Q)
    assert (np.linalg.eigvalsh(g)[:, 0] > 0).all()
    assert not rm.point_flags(Q)["indefinite"].any()
    assert np.isfinite(ng.log_volume_element(g)).all()


def test_resamples_are_positive_definite_and_intervals_bounded():
    rm = flat_map(n_bootstrap=40)
    res = rm.layer_metric_resamples(Q)["responses"]
    assert (np.linalg.eigvalsh(res)[..., 0] > 0).all()
    ci = rm.confidence_intervals(Q)
    lo, hi = ci["log_volume_element_ci_low"], ci["log_volume_element_ci_high"]
    assert np.isfinite(lo).all() and np.isfinite(hi).all() and (lo < hi).all()
    lv = ng.log_volume_element(rm.metric(Q))
    assert ((lo <= lv) & (lv <= hi)).mean() > 0.9  # the estimate lies inside its interval
    sub = flat_map(positive=False, n_bootstrap=40).confidence_intervals(Q)
    assert not np.isfinite(sub["log_volume_element_ci_low"]).all()  # what the rule fixes


def test_strong_signal_unbiased_and_equal_to_the_subtraction():
    """Linear population (no smoothing bias), JᵀJ = WᵀW: the mean over 40 data sets is within
    3.5 standard errors of it, and each estimate equals the unbiased subtraction (the rule's
    departure κφ(z)/Φ(z) vanishes for z ≫ 1)."""
    W = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.5, -0.5]])
    pop = sim.LinearPopulation(W)
    truth = W.T @ W
    q = np.array([[0.0, 0.0], [0.3, -0.2]])
    Xs = pop.uniform_stimuli(300, random_state=0)
    vals = []
    for s in range(40):
        R = pop.sample(Xs, 4, noise=0.3, random_state=s)
        kw = {"estimator_params": {"bandwidth": 0.5}}
        g = ng.SampledResponseMap(Xs, R, **kw).metric(q)
        g_sub = ng.SampledResponseMap(Xs, R, positive=False, **kw).metric(q)
        np.testing.assert_allclose(g, g_sub, rtol=1e-10)
        vals.append(g)
    vals = np.array(vals)
    se = vals.std(0, ddof=1) / np.sqrt(len(vals))
    assert (np.abs(vals.mean(0) - truth) < 3.5 * se + 1e-12).all()


def test_crossfit_and_naive_ignore_the_rule_and_bad_values_are_refused():
    R = FLAT.sample(X, 2, noise=1.0, random_state=5)
    for corr in ("crossfit", None):
        a = ng.SampledResponseMap(X, R, correction=corr, estimator_params={"bandwidth": 0.15})
        b = ng.SampledResponseMap(
            X, R, correction=corr, estimator_params={"bandwidth": 0.15}, positive=False
        )
        np.testing.assert_array_equal(a.metric(Q), b.metric(Q))
    with pytest.raises(ParameterError, match="positive='yes'; expected True or False"):
        ng.SampledResponseMap(X, R, positive="yes")


def bias_corrected(R, Xs, bias_correction=True, **kw):
    params = {"bandwidth": 0.3, "bias_correction": bias_correction}
    return ng.SampledResponseMap(Xs, R, estimator_params=params, **kw)


def test_resolved_directions_keep_the_bias_corrected_estimate():
    """Strong signal: every direction is resolved (w = 1), so the degree-3 fit is used as is."""
    W = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.5, -0.5]])
    pop = sim.LinearPopulation(W)
    Xs = pop.uniform_stimuli(400, random_state=0)
    R = pop.sample(Xs, 4, noise=0.3, random_state=1)
    q = np.array([[0.0, 0.0], [0.3, -0.2]])
    g = bias_corrected(R, Xs).metric(q)
    np.testing.assert_allclose(g, bias_corrected(R, Xs, positive=False).metric(q), rtol=1e-10)


def test_unresolved_directions_take_the_lower_variance_degree_p_fit():
    """No signal: nothing is resolved (w = Φ(z − 1.96) small), so the estimate's scale — a
    noise floor, there is no signal — is the degree-1 fit's (whose noise term is 6.5 times
    smaller than degree 3's here), not degree 3's: log-closer to the former."""
    R = FLAT.sample(X, 3, noise=1.0, random_state=3)

    def trace(g):
        return np.trace(g, axis1=1, axis2=2)

    naive = trace(bias_corrected(R, X, correction=None).metric(Q)) / trace(
        bias_corrected(R, X, False, correction=None).metric(Q)
    )
    assert np.median(naive) > 5
    ratio = trace(bias_corrected(R, X).metric(Q)) / trace(bias_corrected(R, X, False).metric(Q))
    assert 1 <= np.median(ratio) < np.sqrt(np.median(naive))


@pytest.mark.parametrize(
    ("noise_model", "trials"), [(None, 1), ("poisson", 3), ("empirical", 3), ("cov", 3)]
)
def test_every_noise_model_gives_positive_bounded_estimates(noise_model, trials):
    """A weakly tuned population (one strong, one weak direction), bias-corrected fit."""
    W = np.zeros((10, 2))
    W[:, 0], W[:5, 1] = 3.0, 0.05
    pop = sim.LinearPopulation(W, baseline=6.0)
    noise = "poisson" if noise_model == "poisson" else 1.0
    R = pop.sample(X, trials, noise=noise, random_state=7)
    model = np.eye(10) if noise_model == "cov" else noise_model
    rm = bias_corrected(R, X, noise=model, n_bootstrap=10)
    g = rm.metric(Q)
    assert (np.linalg.eigvalsh(g)[:, 0] > 0).all()
    ci = rm.confidence_intervals(Q)
    assert np.isfinite(ci["log_volume_element_ci_low"]).all()
    assert np.isfinite(ci["log_volume_element_ci_high"]).all()


def test_sampled_geometry_passes_the_setting_on():
    R = FLAT.sample(X, 3, noise=1.0, random_state=3)
    for positive in (True, False):
        est = ng.SampledGeometry(bandwidth=0.15, positive=positive).fit(X, R)
        assert est.response_map_.positive is positive
        assert est.get_params()["positive"] is positive
