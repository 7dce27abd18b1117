"""Lanczos spectra and stochastic log-determinants against exact eigendecompositions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neurogeom.errors import ShapeError, SingularMetricError
from neurogeom.riemann import log_volume_element
from neurogeom.riemann.iterative import (
    MetricOperator,
    iterative_log_volume,
    lanczos,
    stochastic_logdet,
    top_eigenvalues,
)


def metrics_with_spectrum(lam: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Metrics ``Q diag(lam) Qᵀ`` with random orthogonal ``Q``, one per row of ``lam``."""
    gen = torch.Generator().manual_seed(seed)
    m, d = lam.shape
    Q, _ = torch.linalg.qr(torch.randn(m, d, d, dtype=torch.float64, generator=gen))
    return (Q * lam[:, None, :]) @ Q.mT


def decaying(m: int = 3, d: int = 120, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    lam = torch.rand(m, d, dtype=torch.float64, generator=gen) * 0.8 ** torch.arange(d)
    return metrics_with_spectrum(lam, seed)


def test_top_eigenvalues_match_eigvalsh():
    g = decaying()
    res = top_eigenvalues(MetricOperator.from_dense(g), 6)
    exact = torch.linalg.eigvalsh(g).flip(-1)[:, :6]
    rel = ((res.eigenvalues - exact) / exact).abs().max()
    assert rel < 1e-6
    # the residuals bound the error (with rounding slack)
    assert bool(((res.eigenvalues - exact).abs() <= res.residuals + 1e-12).all())


def test_full_lanczos_recovers_whole_spectrum():
    gen = torch.Generator().manual_seed(1)
    A = torch.randn(2, 40, 25, dtype=torch.float64, generator=gen)
    g = A.mT @ A
    res = top_eigenvalues(MetricOperator.from_dense(g), 25, n_iter=25)
    torch.testing.assert_close(
        res.eigenvalues, torch.linalg.eigvalsh(g).flip(-1), rtol=1e-9, atol=1e-9
    )


def test_rank_deficient_metric_breakdown_is_handled():
    gen = torch.Generator().manual_seed(2)
    A = torch.randn(2, 5, 30, dtype=torch.float64, generator=gen)  # rank 5 in 30 dimensions
    g = A.mT @ A
    res = top_eigenvalues(MetricOperator.from_dense(g), 8, n_iter=30)
    exact = torch.linalg.eigvalsh(g).flip(-1)[:, :8]
    torch.testing.assert_close(res.eigenvalues, exact, rtol=1e-9, atol=1e-9)


def test_iterative_log_volume_equals_top_k_pseudo_determinant():
    gen = torch.Generator().manual_seed(3)
    A = torch.randn(3, 12, 50, dtype=torch.float64, generator=gen)
    g = A.mT @ A
    op = MetricOperator.from_dense(g)
    got = iterative_log_volume(op, rank=10)
    torch.testing.assert_close(
        got, torch.as_tensor(log_volume_element(g, rank=10)), rtol=1e-9, atol=0
    )
    with pytest.raises(SingularMetricError):
        iterative_log_volume(op, rank=20)


def test_slq_exact_on_diagonal_metrics():
    # Rademacher probes have z_i² = 1, so zᵀ log(D) z = Σ log d_i for every probe
    lam = torch.linspace(0.5, 3.0, 16, dtype=torch.float64)
    g = torch.diag(lam)[None]
    est = stochastic_logdet(MetricOperator.from_dense(g), n_probes=4, n_iter=16)
    torch.testing.assert_close(est.logdet, torch.log(lam).sum()[None], rtol=1e-10, atol=0)
    assert float(est.stderr[0]) < 1e-9


def test_slq_within_three_standard_errors_of_exact_logdet():
    gen = torch.Generator().manual_seed(5)
    lam = torch.exp(torch.rand(3, 100, dtype=torch.float64, generator=gen) * math.log(100.0))
    g = metrics_with_spectrum(lam, seed=6)
    exact = torch.linalg.slogdet(g)[1]
    est = stochastic_logdet(MetricOperator.from_dense(g), n_probes=50, n_iter=30, seed=0)
    assert bool(((est.logdet - exact).abs() <= 3 * est.stderr).all())
    assert bool(((est.logdet - exact).abs() <= 0.03 * exact.abs()).all())
    assert est.samples.shape == (3, 50)
    # the standard error is the spread of the probe estimates over √n_probes
    torch.testing.assert_close(est.stderr, est.samples.std(-1) / math.sqrt(50))


def test_slq_damping_and_singular_metrics():
    gen = torch.Generator().manual_seed(7)
    A = torch.randn(2, 10, 40, dtype=torch.float64, generator=gen)
    g = A.mT @ A
    op = MetricOperator.from_dense(g)
    with pytest.raises(SingularMetricError, match="damping"):
        stochastic_logdet(op, n_probes=4, n_iter=40)
    est = stochastic_logdet(op, n_probes=40, n_iter=40, damping=0.5)
    exact = torch.linalg.slogdet(g + 0.5 * torch.eye(40, dtype=torch.float64))[1]
    assert bool(((est.logdet - exact).abs() <= 3 * est.stderr).all())


def test_lanczos_tridiagonal_has_exact_eigenvalues_after_d_steps():
    g = decaying(1, 20)
    alpha, beta = lanczos(
        MetricOperator.from_dense(g), torch.ones(1, 1, 20, dtype=torch.float64), 20
    )
    T = torch.diag(alpha[0, 0]) + torch.diag(beta[0, 0, :-1], 1) + torch.diag(beta[0, 0, :-1], -1)
    torch.testing.assert_close(
        torch.linalg.eigvalsh(T), torch.linalg.eigvalsh(g[0]), rtol=1e-8, atol=1e-12
    )


def test_numpy_metrics_and_bad_inputs():
    g = np.diag([3.0, 2.0, 1.0])[None]
    op = MetricOperator.from_dense(g)
    assert top_eigenvalues(op, 1, n_iter=3).eigenvalues.item() == pytest.approx(3.0, rel=1e-12)
    with pytest.raises(ValueError, match="k="):
        top_eigenvalues(op, 4)
    with pytest.raises(ValueError, match="n_probes"):
        stochastic_logdet(op, n_probes=1)
    with pytest.raises(ShapeError):
        MetricOperator.from_dense(np.zeros((3, 3)))
    bad = MetricOperator(lambda V: V[..., :2], 1, 3)
    with pytest.raises(ShapeError, match="shape of v"):
        top_eigenvalues(bad, 1)
    with pytest.raises(ShapeError):
        lanczos(op, torch.ones(2, 1, 3, dtype=torch.float64), 2)
