"""The positive noise-bias correction: closed forms, positivity, invariance, limits."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from neurogeom.errors import NonFiniteError, ShapeError
from neurogeom.riemann import positive_noise_correction, positive_resamples, resolution_weights


def scalar(x, kappa_sq_n=50):
    """ψ(x) for a 1×1 problem with N = 1 split into n equal parts (κ² = 2/n)."""
    S = np.array([[[x]]])
    terms = np.full((1, kappa_sq_n, 1, 1), 1 / kappa_sq_n)
    return float(positive_noise_correction(S, np.eye(1)[None], terms)[0, 0, 0])


def truncated_normal_mean(x, kappa):
    """E[s | x] for x ~ Normal(s, κ²) and a flat prior on s ≥ 0, by quadrature."""
    mode = max(x, 0.0)
    # the likelihood relative to its value at the mode (no underflow for x far below 0)
    lik = lambda s: np.exp(-((x - s) ** 2 - (x - mode) ** 2) / (2 * kappa**2))  # noqa: E731
    hi = mode + 40 * kappa
    num = quad(lambda s: s * lik(s), 0, hi, points=[mode], epsabs=0, epsrel=1e-12)[0]
    den = quad(lik, 0, hi, points=[mode], epsabs=0, epsrel=1e-12)[0]
    return num / den


@pytest.mark.parametrize("x", [-1.5, -0.4, -0.05, 0.0, 0.1, 0.3, 0.8, 2.0])
def test_each_eigenvalue_is_the_truncated_normal_posterior_mean(x):
    kappa = math.sqrt(2 / 50)
    assert scalar(x) == pytest.approx(truncated_normal_mean(x, kappa), rel=1e-7)


def test_far_below_zero_the_asymptotic_series_is_continuous_and_positive():
    """Across z = −30 (series switch) ψ is continuous; for z → −∞, ψ → κ²/|x|."""
    kappa = math.sqrt(2 / 50)
    below, above = scalar(-30 * kappa - 1e-9), scalar(-30 * kappa + 1e-9)
    assert below == pytest.approx(above, rel=1e-8)
    far = scalar(-1e4 * kappa)
    assert far > 0
    assert far == pytest.approx(kappa**2 / (1e4 * kappa), rel=1e-7)


def test_zero_gives_the_closed_form_kappa_sqrt_2_over_pi():
    """ψ(0) = κ φ(0)/Φ(0) = κ √(2/π)."""
    for n in (2, 10, 60):
        assert scalar(0.0, n) == pytest.approx(math.sqrt(2 / n) * math.sqrt(2 / math.pi), rel=1e-12)


def random_problem(rng, m=40, k=3, n=12):
    """Noise components Nᵢ (PSD, rank 1 each), N = Σ Nᵢ, and indefinite S."""
    e = rng.normal(size=(m, n, k))
    terms = np.einsum("mna,mnb->mnab", e, e)
    N = terms.sum(1)
    A = rng.normal(size=(m, k, k))
    S = A @ np.swapaxes(A, 1, 2) - 2.0 * N  # mostly indefinite
    return S, N, terms


def test_output_is_positive_definite_where_the_subtraction_is_indefinite():
    S, N, terms = random_problem(np.random.default_rng(0))
    assert (np.linalg.eigvalsh(S)[:, 0] < 0).mean() > 0.9
    g = positive_noise_correction(S, N, terms)
    np.testing.assert_allclose(g, np.swapaxes(g, 1, 2), atol=0)
    assert (np.linalg.eigvalsh(g)[:, 0] > 0).all()


def test_invariant_under_a_change_of_coordinates():
    """S, N, Nᵢ ↦ AᵀSA, AᵀNA, AᵀNᵢA gives AᵀgA (the generalised eigenproblem is invariant)."""
    rng = np.random.default_rng(1)
    S, N, terms = random_problem(rng)
    A = rng.normal(size=(3, 3)) + 2 * np.eye(3)
    g = positive_noise_correction(S, N, terms)
    moved = positive_noise_correction(A.T @ S @ A, A.T @ N @ A, A.T @ terms @ A)
    np.testing.assert_allclose(moved, A.T @ g @ A, rtol=1e-9, atol=1e-9 * np.abs(moved).max())


def test_strong_signal_leaves_the_unbiased_subtraction_unchanged():
    """Noise-frame eigenvalues x ≥ 10 κ: ψ(x) − x = κ φ(z)/Φ(z) < 10⁻²² κ."""
    rng = np.random.default_rng(2)
    _, N, terms = random_problem(rng)
    B = rng.normal(size=(40, 3, 3))
    S = 50.0 * N + B @ np.swapaxes(B, 1, 2)  # every noise-frame eigenvalue ≥ 50 > 10 κ
    g = positive_noise_correction(S, N, terms)
    np.testing.assert_allclose(g, S, rtol=1e-12, atol=1e-12 * np.abs(S).max())


def test_without_noise_along_a_direction_the_subtraction_is_kept():
    S = np.array([[[1.0, 0.2], [0.2, -0.5]]])
    N = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    terms = N[:, None]
    np.testing.assert_array_equal(positive_noise_correction(S, N, terms), S)


def test_bad_shapes_and_values_are_refused():
    S, N, terms = random_problem(np.random.default_rng(3), m=2, k=2, n=3)
    with pytest.raises(ShapeError, match=r"noise_terms have shape"):
        positive_noise_correction(S, N, terms[:, :, :1])
    with pytest.raises(ShapeError, match=r"expected both \(m, k, k\)"):
        positive_noise_correction(S, N[:1], terms)
    bad = S.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteError):
        positive_noise_correction(bad, N, terms)


# -- intervals: posterior quantiles -------------------------------------------------------


def test_resamples_are_the_truncated_normal_quantiles_of_the_bootstrap_probabilities():
    """s_b = the quantile, at Φ(δ_b/σ), of Normal(x, σ²) truncated to s ≥ 0 (scipy's truncnorm)."""
    from scipy.stats import norm, truncnorm

    rng = np.random.default_rng(5)
    x = np.array([-0.3, 0.0, 0.2, 1.0])  # noise-frame eigenvalues (N = 1)
    delta = rng.normal(0, 0.4, size=(50, 4))
    out = positive_resamples(x[:, None, None], np.ones((4, 1, 1)), delta[:, :, None, None])
    sigma = np.sqrt((delta**2).mean(0))
    for a in range(4):
        lo = (0 - x[a]) / sigma[a]
        want = truncnorm.ppf(norm.cdf(delta[:, a] / sigma[a]), lo, np.inf, loc=x[a], scale=sigma[a])
        np.testing.assert_allclose(out[:, a, 0, 0], want, rtol=1e-8)
    assert (out > 0).all()


def test_resamples_equal_the_additive_ones_where_the_signal_is_strong():
    rng = np.random.default_rng(6)
    _, N, _ = random_problem(rng, m=10, k=2)
    S = 1e3 * N
    D = rng.normal(size=(20, 10, 2, 2)) * 0.1 * np.abs(N).max()
    D = D + np.swapaxes(D, 2, 3)
    out = positive_resamples(S, N, D)
    np.testing.assert_allclose(out, S[None] + D, rtol=1e-9, atol=1e-9 * np.abs(S).max())


def test_resamples_are_positive_definite_and_invariant_under_coordinates():
    rng = np.random.default_rng(7)
    S, N, _ = random_problem(rng, m=20, k=2)
    D = rng.normal(size=(30, 20, 2, 2)) * np.abs(N).max()
    D = D + np.swapaxes(D, 2, 3)
    out = positive_resamples(S, N, D)
    assert (np.linalg.eigvalsh(out)[..., 0] > 0).all()
    A = rng.normal(size=(2, 2)) + 2 * np.eye(2)
    moved = positive_resamples(A.T @ S @ A, A.T @ N @ A, A.T @ D @ A)
    np.testing.assert_allclose(moved, A.T @ out @ A, rtol=1e-8, atol=1e-8 * np.abs(moved).max())
    with pytest.raises(ShapeError, match="fluctuations have shape"):
        positive_resamples(S, N, D[:, :3])


# -- which directions are resolved --------------------------------------------------------


def test_resolution_weights_closed_form_on_a_diagonal_problem():
    """N = I from n equal components (κ² = 2/n): A = diag(Φ(x_a/κ − 1.96))."""
    from scipy.stats import norm

    n, x = 8, np.array([-0.2, 0.1, 0.6, 3.0])
    kappa = np.sqrt(2 / n)
    S = np.diag(x)[None]
    terms = np.broadcast_to(np.eye(4) / n, (1, n, 4, 4))
    A = resolution_weights(S, np.eye(4)[None], terms)[0]
    np.testing.assert_allclose(A, np.diag(norm.cdf(x / kappa - 1.959963984540054)), atol=1e-12)


def test_resolution_weights_transform_as_a_linear_map_of_tangent_vectors():
    """Coordinates changed by M (S ↦ MᵀSM, …): A ↦ M⁻¹AM, so Ĵ·A is coordinate-free."""
    rng = np.random.default_rng(8)
    S, N, terms = random_problem(rng, m=15, k=3)
    S = S + 3 * N  # some directions resolved, some not
    M = rng.normal(size=(3, 3)) + 2 * np.eye(3)
    A = resolution_weights(S, N, terms)
    moved = resolution_weights(M.T @ S @ M, M.T @ N @ M, M.T @ terms @ M)
    np.testing.assert_allclose(moved, np.linalg.inv(M) @ A @ M, rtol=1e-8, atol=1e-9)
    w = np.linalg.eigvals(A).real
    assert (w > 0).all() and (w < 1).all() and (w > 0.5).any() and (w < 0.5).any()
    N0 = np.zeros_like(N)
    np.testing.assert_array_equal(
        resolution_weights(S, N0, 0 * terms), np.broadcast_to(np.eye(3), S.shape)
    )


def test_non_numeric_and_torch_inputs():
    import torch

    from neurogeom.errors import InputTypeError

    with pytest.raises(InputTypeError, match="corrected"):
        positive_noise_correction([["a"]], np.eye(1)[None], np.ones((1, 1, 1, 1)))
    S, N, terms = random_problem(np.random.default_rng(9), m=3, k=2, n=4)
    np.testing.assert_allclose(
        positive_noise_correction(torch.tensor(S), torch.tensor(N), torch.tensor(terms)),
        positive_noise_correction(S, N, terms),
        rtol=1e-12,
    )
