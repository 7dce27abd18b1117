import inspect
import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats

import neurogeom as ng
from neurogeom.comparison import (
    affine_invariant_distance,
    compare,
    correlation_test,
    log_euclidean_distance,
    principal_agreement,
)
from neurogeom.dataset import config_of
from neurogeom.errors import NotPositiveSemidefiniteError, ShapeError, SingularMetricError

F64 = torch.float64
#: scipy's name for the bootstrap's generator (``rng`` from 1.15, ``random_state`` before)
RNG_KEYWORD = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


class Scaled(torch.nn.Module):
    """A fixed random tanh layer times ``scale`` (module-level: picklable)."""

    def __init__(self, scale: float = 1.0, seed: int = 0, d: int = 3, n: int = 8) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = torch.nn.Parameter(torch.randn(n, d, generator=g, dtype=F64))
        self.b = torch.nn.Parameter(torch.randn(n, generator=g, dtype=F64))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.tanh(x @ self.W.T + self.b)


def plane(resolution=7, seed=0):
    a, b, c = np.random.default_rng(seed).normal(size=(3, 3))
    return ng.Plane(a, b, c, resolution=resolution)


def field(scale=1.0, seed=0, where=None):
    return ng.geometry(ng.TorchResponseMap(Scaled(scale, seed)), where or plane())


def spd(rng, d, n=None):
    X = rng.normal(size=(*(() if n is None else (n,)), d, d + 2))
    return X @ np.swapaxes(X, -1, -2)


# -- distances on known matrices ------------------------------------------------------------
def test_closed_form_distances_of_non_commuting_matrices():
    A = np.array([[2.0, 1.0], [1.0, 2.0]])
    B = np.diag([3.0, 1.0])
    # det(B - lam A) = 3 lam^2 - 8 lam + 3: lam = (4 ± sqrt 7)/3, product 1
    lam = (4 + math.sqrt(7)) / 3
    assert affine_invariant_distance(A[None], B[None])[0] == pytest.approx(
        math.sqrt(2) * math.log(lam), rel=1e-13
    )
    # log A = (log 3 / 2) [[1, 1], [1, 1]], log B = diag(log 3, 0): |difference| = log 3
    assert log_euclidean_distance(A[None], B[None])[0] == pytest.approx(math.log(3), rel=1e-13)


@pytest.mark.parametrize("c", [0.1, 2.0, 37.0])
def test_rescaled_metric_distances_are_sqrt_d_log_c(rng, c):
    g = spd(rng, 4, n=5)
    expected = math.sqrt(4) * abs(math.log(c))
    np.testing.assert_allclose(affine_invariant_distance(g, c * g), expected, rtol=1e-11)
    np.testing.assert_allclose(log_euclidean_distance(g, c * g), expected, rtol=1e-11)


def test_distance_invariances_and_symmetry(rng):
    A, B = spd(rng, 3, n=6), spd(rng, 3, n=6)
    W = rng.normal(size=(3, 3))  # any invertible change of coordinates
    Q = np.linalg.qr(rng.normal(size=(3, 3)))[0]  # a rotation
    d_ai = affine_invariant_distance(A, B)
    np.testing.assert_allclose(affine_invariant_distance(W @ A @ W.T, W @ B @ W.T), d_ai, rtol=1e-8)
    np.testing.assert_allclose(affine_invariant_distance(B, A), d_ai, rtol=1e-10)
    d_le = log_euclidean_distance(A, B)
    np.testing.assert_allclose(log_euclidean_distance(Q @ A @ Q.T, Q @ B @ Q.T), d_le, rtol=1e-10)
    assert not np.allclose(log_euclidean_distance(W @ A @ W.T, W @ B @ W.T), d_le, rtol=1e-3)
    np.testing.assert_allclose(affine_invariant_distance(A, A), 0.0, atol=1e-12)


def test_singular_policy_raises_or_regularizes_explicitly():
    A, B = np.diag([1.0, 0.0])[None], np.diag([2.0, 0.0])[None]
    with pytest.raises(SingularMetricError, match="regularize=eps"):
        affine_invariant_distance(A, B)
    with pytest.raises(SingularMetricError):
        log_euclidean_distance(A, B)
    # g + eps (tr g / d) I is scale-equivariant: B' = 2 A' exactly
    for fn in (affine_invariant_distance, log_euclidean_distance):
        assert fn(A, B, regularize=1e-6)[0] == pytest.approx(math.sqrt(2) * math.log(2), rel=1e-12)
    with pytest.raises(ValueError, match="positive"):
        affine_invariant_distance(A, B, regularize=-1.0)
    with pytest.raises(NotPositiveSemidefiniteError):
        affine_invariant_distance(np.diag([1.0, -1.0])[None], np.eye(2)[None])
    with pytest.raises(ShapeError):
        affine_invariant_distance(np.eye(2)[None], np.eye(3)[None])


def test_principal_agreement_angles_and_subspaces(rng):
    theta = 0.3
    R = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    A = np.diag([3.0, 1.0])
    assert principal_agreement(A[None], (R @ A @ R.T)[None])[0] == pytest.approx(
        math.cos(theta) ** 2, rel=1e-12
    )
    # 3-D: top-2 subspace span(e0, e1) vs span(e0, e2): overlap (1 + 0) / 2
    a3, b3 = np.diag([3.0, 2.0, 1.0]), np.diag([3.0, 1.0, 2.0])
    assert principal_agreement(a3[None], b3[None], n_directions=2)[0] == pytest.approx(0.5)
    # an isotropic metric has no principal direction: NaN, not an arbitrary number
    assert np.isnan(principal_agreement(np.eye(2)[None], A[None])[0])
    with pytest.raises(ValueError, match="n_directions"):
        principal_agreement(A[None], A[None], n_directions=2)


# -- correlations ------------------------------------------------------------------------------
def test_correlations_match_scipy(rng):
    x = rng.normal(size=40)
    y = x + rng.normal(size=40)
    res = correlation_test(x, y, n_permutations=0, n_bootstrap=0)
    assert res.r == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-12)
    assert np.isnan(res.p_value) and np.isnan(res.ci_low)
    sp = correlation_test(np.exp(x), y, method="spearman", n_permutations=0, n_bootstrap=0)
    assert sp.r == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)
    # a monotone transform keeps Spearman at 1 but not Pearson
    mono = correlation_test(x, np.exp(3 * x), method="spearman", n_bootstrap=0)
    assert mono.r == pytest.approx(1.0) and mono.p_value == pytest.approx(1 / 1000)
    assert correlation_test(x, np.exp(3 * x), n_bootstrap=0).r < 0.9


def test_permutation_test_of_independent_fields_rejects_at_nominal_rate():
    rejections = [
        correlation_test(
            np.random.default_rng(s).normal(size=25),
            np.random.default_rng(s + 10_000).normal(size=25),
            n_permutations=199,
            n_bootstrap=0,
            random_state=s,
        ).p_value
        <= 0.05
        for s in range(400)
    ]
    # binomial(400, 0.05): mean 20, sd 4.4 -> 3 sd band
    assert 7 <= sum(rejections) <= 33


def test_bootstrap_interval_of_pearson_covers_the_true_correlation():
    rho, cov = 0.5, np.array([[1.0, 0.5], [0.5, 1.0]])
    covered = []
    for s in range(100):
        xy = np.random.default_rng(s).multivariate_normal([0, 0], cov, size=60)
        res = correlation_test(*xy.T, n_permutations=0, n_bootstrap=300, random_state=s)
        covered.append(res.ci_low <= rho <= res.ci_high)
    assert np.mean(covered) >= 0.85


def test_perfect_correlation_has_the_smallest_p_value_a_permutation_test_can_give():
    x = np.arange(10.0)
    # random re-pairings: no re-pairing of 10 points reaches |r| = 1 (2 in 10! do), so 1/(1 + N)
    for method in ("pearson", "spearman"):
        res = correlation_test(x, 2 * x + 1, method=method, n_permutations=199, n_bootstrap=0)
        assert res.p_value == pytest.approx(1 / 200, rel=1e-12)
    # N >= 5! = 120: every pairing is enumerated; the identity and the reversal reach |r| = 1
    exact = correlation_test(x[:5], -np.exp(x[:5]), method="spearman", n_bootstrap=0)
    assert exact.r == pytest.approx(-1.0) and exact.p_value == pytest.approx(2 / 120, rel=1e-12)


def test_exact_permutation_p_value_is_the_share_of_all_pairings(rng):
    x, y = rng.normal(size=(2, 7))
    y += x
    r = stats.pearsonr(x, y).statistic
    null = np.array(
        [stats.pearsonr(x, y[list(i)]).statistic for i in itertools.permutations(range(7))]
    )
    expected = np.mean(np.abs(null) >= abs(r) - 1e-12)
    res = correlation_test(x, y, n_permutations=5040, n_bootstrap=0)
    assert 0.0 < expected < 0.5 and res.p_value == pytest.approx(expected, rel=1e-12)


def test_bootstrap_intervals_are_scipys(rng):
    x = rng.normal(size=30)
    y = x + rng.normal(size=30)
    res = correlation_test(x, y, n_permutations=0, n_bootstrap=499, random_state=7)
    _, boot_rng = np.random.default_rng(7).spawn(2)  # the p-value and interval streams

    def pearson(a, b, axis=-1):
        return stats.pearsonr(a, b, axis=axis).statistic

    ref = stats.bootstrap(
        (x, y),
        pearson,
        paired=True,
        n_resamples=499,
        method="percentile",
        **{RNG_KEYWORD: boot_rng},
    ).confidence_interval
    assert (res.ci_low, res.ci_high) == pytest.approx((ref.low, ref.high), rel=1e-10)
    # the mean of a per-point field in compare(): a known sample, scipy's own call
    a, b = field(), field(scale=2.0, seed=1)
    out = compare(a, b, tensors=False, n_permutations=0, n_bootstrap=299, random_state=3)
    diff = (b.log_volume_element - a.log_volume_element).values.ravel()
    mean_rng = np.random.default_rng(3).spawn(6)[2]  # one child stream per statistic
    ref = stats.bootstrap(
        (diff,), np.mean, n_resamples=299, method="percentile", **{RNG_KEYWORD: mean_rng}
    ).confidence_interval
    low, high = (float(out[f"log_volume_difference_mean_ci_{e}"]) for e in ("low", "high"))
    assert (low, high) == pytest.approx((ref.low, ref.high), rel=1e-12)
    assert low < float(out.log_volume_difference_mean) < high


def test_bootstrap_of_few_points_leaves_out_constant_resamples():
    # 4 points: 4 in 64 resamples of x repeat one point, where r is undefined
    res = correlation_test([0.0, 1.0, 2.0, 4.0], [0.0, 2.0, 1.0, 5.0], n_permutations=0)
    assert -1.0 - 1e-12 <= res.ci_low < res.r < res.ci_high <= 1.0 + 1e-12


def test_constant_field_has_undefined_correlation():
    res = correlation_test(np.ones(10), np.arange(10.0), n_bootstrap=10, n_permutations=10)
    assert np.isnan(res.r) and np.isnan(res.p_value)


# -- Datasets ----------------------------------------------------------------------------------
def test_identical_fields():
    ds = field()
    res = compare(ds, ds, n_permutations=99, n_bootstrap=99)
    assert float(res.pearson_r) == pytest.approx(1.0, abs=1e-12)
    assert float(res.spearman_r) == pytest.approx(1.0, abs=1e-12)
    assert float(res.pearson_p_value) == pytest.approx(1 / 100)
    np.testing.assert_array_equal(res.log_volume_difference, 0.0)
    np.testing.assert_allclose(res.affine_invariant_distance, 0.0, atol=1e-12)
    np.testing.assert_allclose(res.log_euclidean_distance, 0.0, atol=1e-12)
    np.testing.assert_allclose(res.direction_agreement, 1.0, rtol=1e-12)
    assert int(res.n_compared) == 49 and bool(res.compared.all())
    assert res.affine_invariant_distance.dims == ("u", "v")


def test_field_and_its_rescaling():
    s = 3.0  # responses times s: metric times s^2, log-volume + 2 log s on a plane
    res = compare(field(), field(scale=s), n_permutations=99, n_bootstrap=99)
    assert float(res.pearson_r) == pytest.approx(1.0, abs=1e-12)
    assert float(res.spearman_r) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(res.log_volume_difference, 2 * math.log(s), rtol=1e-12)
    expected = math.sqrt(2) * math.log(s**2)
    np.testing.assert_allclose(res.affine_invariant_distance, expected, rtol=1e-9)
    np.testing.assert_allclose(res.log_euclidean_distance, expected, rtol=1e-9)
    np.testing.assert_allclose(res.direction_agreement, 1.0, rtol=1e-9)
    lo, hi = (
        float(res.affine_invariant_distance_mean_ci_low),
        float(res.affine_invariant_distance_mean_ci_high),
    )
    assert lo == pytest.approx(expected, rel=1e-9) and hi == pytest.approx(expected, rel=1e-9)


def test_different_networks_differ_and_result_is_labelled(tmp_path):
    res = compare(
        field(seed=0), field(seed=1), n_permutations=49, n_bootstrap=49, labels=("x", "y")
    )
    assert float(res.affine_invariant_distance_mean) > 0.1
    assert float(res.pearson_r_ci_low) <= float(res.pearson_r) <= float(res.pearson_r_ci_high)
    for name, var in res.variables.items():
        if name not in res.dims and name not in res.coords:
            assert var.attrs["long_name"] and "units" in var.attrs, name
    cfg = config_of(res)
    assert cfg["n_permutations"] == 49 and cfg["random_state"] == 0 and cfg["regularize"] is None
    assert res.attrs["label_b"] == "y"
    again = compare(field(seed=0), field(seed=1), n_permutations=49, n_bootstrap=49)
    assert float(again.pearson_r_ci_low) == float(res.pearson_r_ci_low)  # seeded
    back = ng.load(ng.save(res, tmp_path / "cmp.nc"))
    for name in res.data_vars:
        np.testing.assert_array_equal(back[name].values, res[name].values)


def test_counts_zero_leave_out_tests():
    ds = field()
    res = compare(ds, ds, n_permutations=0, n_bootstrap=0)
    assert "pearson_p_value" not in res and "pearson_r_ci_low" not in res
    assert "pearson_r" in res


def test_flagged_and_nan_points_are_left_out():
    a, b = field(), field(scale=2.0)
    b["log_volume_element"][0, 0] = np.nan
    b["indefinite"] = (("u", "v"), np.zeros((7, 7), bool))
    b["indefinite"][1, 1] = True
    res = compare(a, b, n_permutations=0, n_bootstrap=0)
    assert int(res.n_compared) == 47
    assert not bool(res.compared[0, 0]) and not bool(res.compared[1, 1])
    assert np.isnan(res.affine_invariant_distance[1, 1])
    assert np.isfinite(res.affine_invariant_distance[2, 2])


def test_mismatched_datasets_get_clear_errors():
    a = field()
    with pytest.raises(ShapeError, match="anchors"):
        compare(a, field(where=plane(seed=5)), n_bootstrap=0, n_permutations=0)
    with pytest.raises(ShapeError, match="coordinate"):
        compare(a, field(where=plane(resolution=5)), n_bootstrap=0, n_permutations=0)
    grid = ng.Grid([(-1, 1), (-1, 1), (-1, 1)], resolution=3)
    with pytest.raises(ShapeError, match="point dims"):
        compare(a, field(where=grid), n_bootstrap=0, n_permutations=0)
    with pytest.raises(KeyError, match="keep_metric"):
        compare(a, a.drop_vars("metric"))
    full = ng.geometry(ng.TorchResponseMap(Scaled()), plane(), space="full")
    with pytest.raises(ValueError, match="spaces differ"):
        compare(a, full)
    old = a.assign_attrs(space="slice-induced")  # a file written before the space= values
    compare(a, old, n_bootstrap=0, n_permutations=0)
    with pytest.raises(ValueError, match="spaces differ"):
        compare(old, full)


def test_layers_must_be_chosen():
    net = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 5))
    rm = ng.TorchResponseMap(net.double(), ["1", "2"])
    ds = ng.geometry(rm, plane())
    with pytest.raises(ValueError, match=r"layers \['1', '2'\]"):
        compare(ds, ds)
    res = compare(ds, ds, layer_a="1", layer_b="2", n_permutations=0, n_bootstrap=0)
    assert "layer" not in res.dims and float(res.affine_invariant_distance_mean) > 0
    with pytest.raises(KeyError, match="valid"):
        compare(ds, ds, layer_a="9", layer_b="2")


def test_line_fields_with_one_dimensional_metrics():
    line = ng.Line(np.zeros(3), np.ones(3), steps=20)
    a = ng.geometry(ng.TorchResponseMap(Scaled()), line)
    b = ng.geometry(ng.TorchResponseMap(Scaled(scale=0.5)), line)
    res = compare(a, b, n_permutations=0, n_bootstrap=0)
    assert "direction_agreement" not in res  # no principal direction in one dimension
    # 1 x 1 metrics times 1/4: both distances |log 4|
    np.testing.assert_allclose(res.affine_invariant_distance, math.log(4), rtol=1e-10)
    np.testing.assert_allclose(res.log_euclidean_distance, math.log(4), rtol=1e-10)
    assert res.affine_invariant_distance.dims == ("t",)
