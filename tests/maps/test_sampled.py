"""SampledResponseMap: exact recovery, bias removal, Kanitscheider, validation, bootstrap."""

import numpy as np
import pytest
import xarray as xr

import neurogeom as ng
from neurogeom import simulate as sim
from neurogeom.errors import (
    InsufficientSamplesError,
    NonFiniteError,
    OutOfDomainError,
    ShapeError,
)

RING = sim.VonMisesRing(24, amplitude=2.0, kappa=2.0)
RING_X = np.linspace(0, 2 * np.pi, 300, endpoint=False)[:, None]
RING_Q = np.linspace(0.1, 2 * np.pi - 0.1, 16)[:, None]
RING_EST = {"bandwidth": 0.12, "period": 2 * np.pi}


def ring_map(seed, correction, repetitions=2, **kw):
    R = RING.sample(RING_X, repetitions, noise="poisson", random_state=seed)
    return ng.SampledResponseMap(RING_X, R, estimator_params=RING_EST, correction=correction, **kw)


def smoothed_ring_target():
    """J_hᵀJ_h: the same smoother applied to the noise-free means."""
    est = ng.get_estimator("local_linear", **RING_EST).fit(RING_X, RING.mean(RING_X))
    J = est.jacobian(RING_Q)
    return np.einsum("mna,mnb->mab", J, J)[:, 0, 0].mean()


def test_exact_recovery_noise_free_linear_and_quadratic():
    rng = np.random.default_rng(0)
    lin = sim.LinearPopulation(rng.normal(size=(6, 2)))
    X = lin.uniform_stimuli(200, random_state=1)
    q = lin.uniform_stimuli(10, margin=0.3, random_state=2)
    rm = ng.SampledResponseMap(X, lin.mean(X), correction=None)
    np.testing.assert_allclose(rm.jacobian(q), lin.jacobian(q), atol=1e-8)
    np.testing.assert_allclose(rm.metric(q), lin.metric(q), atol=1e-8)
    quad = sim.QuadraticPopulation(rng.normal(size=(4, 2)), rng.normal(size=(4, 2, 2)))
    rmq = ng.SampledResponseMap(
        X, quad.mean(X), "local_quadratic", correction=None, estimator_params={"bandwidth": 0.5}
    )
    np.testing.assert_allclose(rmq.metric(q), quad.metric(q), atol=1e-8)
    np.testing.assert_allclose(rmq.responses(q), quad.mean(q), atol=1e-8)
    T = np.array([[0.6, 0.8]])
    np.testing.assert_allclose(
        rmq.metric(q, tangents=T)[:, 0, 0],
        np.einsum("a,mab,b->m", T[0], quad.metric(q), T[0]),
        atol=1e-8,
    )


def test_bias_removed_on_poisson_ring():
    """Corrected and cross-fitted means within 3 SE of J_hᵀJ_h; the naive one is biased."""
    target = smoothed_ring_target()
    seeds = range(100)
    results = {}
    for corr in (None, "analytic", "crossfit"):
        vals = np.array([ring_map(s, corr).metric(RING_Q)[:, 0, 0].mean() for s in seeds])
        results[corr] = (vals.mean(), vals.std(ddof=1) / np.sqrt(len(vals)))
    for corr in ("analytic", "crossfit"):
        mean, se = results[corr]
        assert abs(mean - target) < 3 * se, (corr, mean, target, se)
    mean, se = results[None]
    assert mean - target > 8 * se, (mean, target, se)


def test_analytic_correction_single_trial_uses_residual_variance():
    target = smoothed_ring_target()
    vals = []
    for s in range(40):
        R = RING.sample(RING_X, None, noise="poisson", random_state=100 + s)
        # the unbiased subtraction (positive=False): the positive rule is biased upward here
        rm = ng.SampledResponseMap(RING_X, R, estimator_params=RING_EST, positive=False)
        vals.append(rm.metric(RING_Q)[:, 0, 0].mean())
    vals = np.array(vals)
    se = vals.std(ddof=1) / np.sqrt(len(vals))
    assert abs(vals.mean() - target) < 3 * se + 0.02 * target


def kanitscheider_run(seed, correction, N=20, T=200, ds=0.1, info=13.14):
    rng = np.random.default_rng(seed)
    base = np.random.default_rng(12345)
    A = base.normal(size=(N, N))
    cov = A @ A.T / N + np.eye(N)
    fprime = base.normal(size=N)
    fprime *= np.sqrt(info / (fprime @ np.linalg.solve(cov, fprime)))
    est = ng.get_estimator("stencil", centers=[[0.0]], step=ds / 2)
    X = est.design()  # s + ds/2, s - ds/2
    means = 5.0 + X @ fprime[None]
    R = means[:, None, :] + rng.multivariate_normal(np.zeros(N), cov, size=(2, T))
    rm = ng.SampledResponseMap(
        X,
        R,
        est,
        noise="empirical",
        correction=correction,
        domain=None,
        positive=False,
        layout="condition,trial,neuron",  # 20 alike neurons: the data cannot tell the axes
    )
    return float(rm.metric([[0.0]])[0, 0, 0])


def test_kanitscheider_two_stimulus_bias_correction():
    """N = 20, T = 200, truth 13.14: naive ≈ 34.9, corrected ≈ 13.1, SD ≈ 9.95."""
    runs = 300
    naive = np.array([kanitscheider_run(s, None) for s in range(runs)])
    corrected = np.array([kanitscheider_run(s, "analytic") for s in range(runs)])
    N, T, ds, info = 20, 200, 0.1, 13.14
    nu = 2 * T - 2
    expected_naive = nu / (nu - N - 1) * (info + 2 * N / (T * ds**2))
    se_n = naive.std(ddof=1) / np.sqrt(runs)
    se_c = corrected.std(ddof=1) / np.sqrt(runs)
    assert abs(naive.mean() - expected_naive) < 3 * se_n
    assert expected_naive == pytest.approx(34.9, abs=0.15)
    assert abs(corrected.mean() - info) < 3 * se_c
    var = (
        2
        * info**2
        / (2 * T - N - 5)
        * (1 + 4 * (2 * T - 3) / (T * info * ds**2) + 4 * N * (2 * T - 3) / (T * info * ds**2) ** 2)
    )
    assert corrected.std(ddof=1) == pytest.approx(np.sqrt(var), rel=0.15)


def test_fisher_metric_with_known_covariance_unbiased():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(5, 2))
    pop = sim.LinearPopulation(W)
    A = rng.normal(size=(5, 5))
    cov = A @ A.T / 5 + 0.5 * np.eye(5)
    X = pop.uniform_stimuli(150, random_state=2)
    truth = W.T @ np.linalg.solve(cov, W)
    vals = []
    for s in range(60):
        R = pop.sample(X, 3, noise=cov, random_state=s)
        rm = ng.SampledResponseMap(X, R, noise=cov, estimator_params={"bandwidth": 0.3})
        vals.append(rm.metric([[0.0, 0.0]])[0])
    vals = np.array(vals)
    se = vals.std(0, ddof=1) / np.sqrt(len(vals))
    assert (np.abs(vals.mean(0) - truth) < 3.5 * se).all()


def test_poisson_fisher_metric_close_to_truth():
    ring = sim.VonMisesRing(24, amplitude=20.0, kappa=2.0, baseline=2.0)
    R = ring.sample(RING_X, 20, noise="poisson", random_state=0)
    params = {"degree": 2, "bandwidth": 0.2, "period": 2 * np.pi}
    rm = ng.SampledResponseMap(RING_X, R, noise="poisson", estimator_params=params)
    g = rm.metric(RING_Q)[:, 0, 0]
    # smoothed target J_hᵀ diag(f_h)⁻¹ J_h: the same smoother on the noise-free means
    est = ng.get_estimator("local_linear", **params).fit(RING_X, ring.mean(RING_X))
    J, f = est.jacobian(RING_Q)[:, :, 0], est.predict(RING_Q)
    target = (J**2 / f).sum(1)
    assert abs(g.mean() / target.mean() - 1) < 0.03
    # and the smoothing bias itself is small at this bandwidth (documented tolerance 10%)
    truth = ring.fisher_information(RING_Q, "poisson")[:, 0, 0]
    assert abs(target.mean() / truth.mean() - 1) < 0.1


def test_inputs_validated():
    X = RING_X
    R = RING.sample(X, 2, noise="poisson", random_state=0)
    with pytest.raises(ShapeError, match="presentation"):
        ng.SampledResponseMap(X[:-1], R)
    bad = R.copy()
    bad[3, 1, 2] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        ng.SampledResponseMap(X, bad)
    with pytest.raises(ValueError, match="correction"):
        ng.SampledResponseMap(X, R, correction="magic")
    with pytest.raises(ValueError, match="crossfit"):
        ng.SampledResponseMap(
            np.random.default_rng(0).uniform(size=(36, 2)).round(1) * 0
            + np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0)), -1).reshape(-1, 2),
            np.ones((36, 2)) + np.arange(36)[:, None],
            "spline2d",
            correction="analytic",
        )
    with pytest.raises(InsufficientSamplesError, match="trials"):
        ng.SampledResponseMap(X, R[:, 0], noise="empirical")


def test_dataarray_inputs_any_dim_order():
    R = RING.sample(RING_X, 3, noise="poisson", random_state=0)
    da = xr.DataArray(R.transpose(2, 0, 1), dims=("neuroid", "presentation", "repetition"))
    stim = xr.DataArray(RING_X, dims=("presentation", "stimulus_dim"))
    a = ng.SampledResponseMap(stim, da, estimator_params=RING_EST).metric(RING_Q)
    b = ng.SampledResponseMap(RING_X, R, estimator_params=RING_EST).metric(RING_Q)
    np.testing.assert_array_equal(a, b)


def test_outside_region_and_sparse_points_raise_or_flag():
    X = np.random.default_rng(0).uniform(0, 1, (300, 2))
    pop = sim.LinearPopulation(np.eye(2))
    R = pop.sample(X, 2, noise=0.1, random_state=0)
    rm = ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.1})
    with pytest.raises(OutOfDomainError, match="outside"):
        rm.metric([[1.5, 0.5]])
    hull_only = np.array([[0.999, 0.001]])  # inside the box, possibly outside the hull
    from scipy.spatial import Delaunay

    if Delaunay(X).find_simplex(hull_only)[0] < 0:
        with pytest.raises(OutOfDomainError):
            rm.metric(hull_only)
    dense = np.random.default_rng(5).uniform(0, 1, (2000, 2))
    sparse_X = np.vstack([dense[dense[:, 0] < 0.5], [[0.99, 0.5], [0.99, 0.45], [0.98, 0.55]]])
    rs = ng.SampledResponseMap(
        sparse_X,
        pop.sample(sparse_X, 2, noise=0.1, random_state=1),
        estimator_params={"bandwidth": 0.03},
        domain="box",
    )
    with pytest.raises(InsufficientSamplesError, match="effective samples"):
        rs.metric([[0.8, 0.5]])
    flagged = ng.SampledResponseMap(
        sparse_X,
        pop.sample(sparse_X, 2, noise=0.1, random_state=1),
        estimator_params={"bandwidth": 0.03},
        on_invalid="flag",
    )
    q = np.array([[0.25, 0.5], [0.8, 0.5], [1.5, 0.5]])
    g = flagged.metric(q)
    flags = flagged.point_flags(q)
    assert np.isfinite(g[0]).all() and np.isnan(g[1:]).all()
    assert flags["outside"].tolist() == [False, False, True]
    assert flags["sparse"][1] and not flags["sparse"][0]


def test_indefinite_corrected_metric_is_flagged_not_clipped():
    X = np.random.default_rng(0).uniform(0, 1, (200, 2))
    flat = sim.LinearPopulation(np.zeros((10, 2)), baseline=1.0)  # no signal at all
    R = flat.sample(X, 2, noise=1.0, random_state=3)
    rm = ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.15}, positive=False)
    q = np.random.default_rng(4).uniform(0.2, 0.8, (30, 2))
    g = rm.metric(q)
    lam_min = np.linalg.eigvalsh(g)[:, 0]
    assert (lam_min < 0).any()  # unbiased for zero: must go negative somewhere
    np.testing.assert_array_equal(rm.point_flags(q)["indefinite"], lam_min <= 0)


def test_bootstrap_resamples_shapes_and_intervals():
    rm = ring_map(0, "analytic", repetitions=4, n_bootstrap=50)
    res = rm.layer_metric_resamples(RING_Q[:3])
    assert res["responses"].shape == (50, 3, 1, 1)
    ci = rm.confidence_intervals(RING_Q[:3])
    assert (ci["log_volume_element_ci_low"] < ci["log_volume_element_ci_high"]).all()
    point = ng.log_volume_element(rm.metric(RING_Q[:3]))
    assert (
        (ci["log_volume_element_ci_low"] <= point) & (point <= ci["log_volume_element_ci_high"])
    ).all()
    single = ng.SampledResponseMap(
        RING_X, RING.sample(RING_X, None, random_state=0), estimator_params=RING_EST, n_bootstrap=5
    )
    assert single.layer_metric_resamples(RING_Q[:2])["responses"].shape == (5, 2, 1, 1)
    assert ng.SampledResponseMap(RING_X, RING.mean(RING_X)).layer_metric_resamples(RING_Q) is None


def test_error_decreases_with_sample_size_loglog():
    """Relative RMSE of Ĵ ~ M^(-2/7) (d = 1); assert a loose slope with fixed seeds."""
    ring = sim.VonMisesRing(16, amplitude=10.0, kappa=2.0)
    q = np.linspace(0.2, 6.0, 30)[:, None]
    J = ring.jacobian(q)
    sizes = [250, 1000, 4000]
    errors = []
    for M in sizes:
        errs = []
        for seed in range(2):
            X = ring.uniform_stimuli(M, random_state=seed)
            R = ring.sample(X, None, noise="poisson", random_state=seed + 10)
            est = ng.get_estimator("local_linear", period=2 * np.pi, cv_max_points=300).fit(X, R)
            errs.append(np.sqrt(((est.jacobian(q) - J) ** 2).mean() / (J**2).mean()))
        errors.append(np.mean(errs))
    slope = np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    assert -0.6 < slope < -0.15, (slope, errors)


@pytest.mark.slow
def test_bootstrap_coverage_of_smoothed_target():
    """Nominal 95% intervals of log-volume cover log sqrt(J_hᵀJ_h) in >= 85% of seeds."""
    target = 0.5 * np.log(smoothed_ring_target_at(RING_Q[:4]))
    hits = []
    for seed in range(150):
        rm = ring_map(1000 + seed, "analytic", repetitions=4, n_bootstrap=300)
        ci = rm.confidence_intervals(RING_Q[:4])
        hits.append(
            (ci["log_volume_element_ci_low"] <= target)
            & (target <= ci["log_volume_element_ci_high"])
        )
    coverage = np.mean(hits)
    assert coverage >= 0.85, coverage


def smoothed_ring_target_at(q):
    est = ng.get_estimator("local_linear", **RING_EST).fit(RING_X, RING.mean(RING_X))
    J = est.jacobian(q)
    return np.einsum("mna,mnb->mab", J, J)[:, 0, 0]


def test_geometry_dataset_has_intervals_and_flags(tmp_path):
    pop = sim.PlaceFields.lattice(2, 0.2, (0.0, 1.0), 0.25, amplitude=5.0, baseline=0.5)
    X = pop.uniform_stimuli(400, random_state=0)
    R = pop.sample(X, 3, noise="poisson", random_state=1)
    rm = ng.SampledResponseMap(
        X, R, estimator_params={"bandwidth": 0.1}, n_bootstrap=20, on_invalid="flag"
    )
    ds = ng.geometry(rm, ng.Line([0.0, 0.5], [1.3, 0.5], steps=6), keep_resamples=True)
    for name in (
        "log_volume_element_ci_low",
        "log_volume_element_ci_high",
        "eigenvalues_ci_low",
        "eigenvalues_ci_high",
        "indefinite",
        "outside",
    ):
        assert name in ds and "long_name" in ds[name].attrs
    assert ds.log_volume_element_bootstrap.dims == ("t", "bootstrap")
    out = ds.outside.values
    assert out[-1] and not out[2]
    assert np.isnan(ds.log_volume_element.values[out]).all()
    inside = ~out & ~ds.indefinite.values
    lv = ds.log_volume_element.values[inside]
    assert (ds.log_volume_element_ci_low.values[inside] <= lv).all()
    assert (lv <= ds.log_volume_element_ci_high.values[inside]).all()
    g = rm.metric(
        ng.Line([0.0, 0.5], [1.3, 0.5], steps=6).points[2:3], tangents=np.array([[1.0, 0.0]])
    )
    assert ds.log_volume_element.values[2] == pytest.approx(0.5 * np.log(g[0, 0, 0]), rel=1e-12)
    xr.testing.assert_identical(ng.load(ng.save(ds, tmp_path / "sampled.nc")), ds)


def test_crossfit_with_nonlinear_grid_spline_is_unbiased_for_linear_population():
    u = np.linspace(0, 1, 8)
    X = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    W = np.array([[1.0, 0.5], [-0.5, 2.0], [0.0, 1.0]])
    pop = sim.LinearPopulation(W)
    vals = []
    for s in range(30):
        R = pop.sample(X, 4, noise=0.05, random_state=s)
        rm = ng.SampledResponseMap(X, R, "spline2d", correction="crossfit", random_state=s)
        vals.append(rm.metric([[0.5, 0.5]])[0])
    vals = np.array(vals)
    se = vals.std(0, ddof=1) / np.sqrt(len(vals))
    assert (np.abs(vals.mean(0) - W.T @ W) < 3.5 * se + 1e-3).all()
    with pytest.raises(ValueError, match="crossfit"):
        ng.SampledResponseMap(X, R, "spline2d")


def test_empirical_noise_ledoit_wolf_when_trials_are_few():
    pop = sim.LinearPopulation(np.random.default_rng(0).normal(size=(40, 2)))
    X = pop.uniform_stimuli(10, random_state=1)
    R = pop.sample(X, 2, noise=0.3, random_state=2)  # nu = 10 < n + 5 = 45
    rm = ng.SampledResponseMap(
        X,
        R,
        "local_linear",
        noise="empirical",
        correction="crossfit",
        estimator_params={"bandwidth": 2.0},
        domain=None,
    )
    assert rm.noise_dof_ == 10 and rm.wishart_factor_ == 1.0
    assert np.linalg.eigvalsh(rm.noise_covariance_)[0] > 0
    assert np.isfinite(rm.metric(np.zeros((1, 2)))).all()


def test_gaussian_process_map_recovers_smooth_metric():
    ring = sim.VonMisesRing(8, amplitude=5.0, kappa=1.0)
    X = np.linspace(0.5, 5.5, 120)[:, None]
    R = ring.sample(X, 4, noise=0.05, random_state=0)
    rm = ng.SampledResponseMap(X, R, "gaussian_process")
    q = np.array([[2.0], [3.0]])
    np.testing.assert_allclose(rm.metric(q)[:, 0, 0], ring.metric(q)[:, 0, 0], rtol=0.05)


def test_poisson_fisher_two_stimuli_stencil_corrected():
    """Two stimuli s ± δs/2, Poisson counts: corrected mean ≈ Σ fᵢ'²/fᵢ, naive biased up."""
    rng = np.random.default_rng(0)
    N, T, ds = 15, 100, 0.2
    base, slope = rng.uniform(5, 15, N), rng.normal(0, 3, N)
    truth = float((slope**2 / base).sum())
    est = ng.get_estimator("stencil", centers=[[0.0]], step=ds / 2)
    X = est.design()
    rates = base + X @ slope[None]
    out = {None: [], "analytic": []}
    for s in range(200):
        R = np.random.default_rng(s).poisson(rates[:, None, :], size=(2, T, N)).astype(float)
        for corr in out:
            rm = ng.SampledResponseMap(X, R, est, noise="poisson", correction=corr, domain=None)
            out[corr].append(rm.metric([[0.0]])[0, 0, 0])
    corrected, naive = np.array(out["analytic"]), np.array(out[None])
    se = corrected.std(ddof=1) / np.sqrt(len(corrected))
    assert abs(corrected.mean() - truth) < 3 * se
    assert naive.mean() - truth > 10 * se  # bias ≈ 2N/(T δs²) = 7.5


def test_torch_queries_give_torch_and_ring_line_geometry():
    import torch

    rm = ring_map(0, "analytic", repetitions=4)
    x = torch.tensor(RING_Q[:3])
    g = rm.metric(x)
    assert isinstance(g, torch.Tensor)
    np.testing.assert_allclose(g.numpy(), rm.metric(RING_Q[:3]))
    ds = ng.geometry(rm, ng.Line([0.5], [5.5], steps=5))
    assert ds.log_volume_element.dims == ("t",)
    assert np.isfinite(ds.log_volume_element.values).all()
    assert rm.metric(RING_Q[:2], scale="width")[0, 0, 0] == pytest.approx(
        rm.metric(RING_Q[:1])[0, 0, 0] / 24
    )


def _single_trial_ring_queries():
    """64 queries on one single-trial map: point metrics, flags and bootstrap resamples."""
    R = RING.sample(RING_X, None, noise="poisson", random_state=3)
    rm = ng.SampledResponseMap(RING_X, R, estimator_params=RING_EST, n_bootstrap=4)
    points = np.linspace(0.2, 2 * np.pi - 0.2, 64)[:, None]
    kinds = ("metric", "resamples", "flags", "intervals")

    def query(i):
        x, kind = points[i : i + 1], kinds[i % len(kinds)]
        if kind == "metric":
            return rm.metric(x)
        if kind == "flags":
            return rm.point_flags(x)["indefinite"]
        if kind == "intervals":
            return rm.confidence_intervals(x)["log_volume_element_ci_low"]
        return rm.layer_metric_resamples(x)["responses"]

    return query


def test_threads_give_exactly_the_serial_results():
    """No method swaps state on the map: 64 queries from 8 threads equal the serial ones."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    query = _single_trial_ring_queries()
    serial = [query(i) for i in range(64)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that any shared state shows
    try:
        with ThreadPoolExecutor(8) as pool:
            threaded = list(pool.map(query, range(64)))
    finally:
        sys.setswitchinterval(interval)
    differ = [i for i in range(64) if not np.array_equal(serial[i], threaded[i])]
    assert not differ, f"{len(differ)} of 64 differ from the serial results: {differ}"
