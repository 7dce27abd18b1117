"""Issue 12, item 3: ``period=`` honoured by every estimator that can, refused by the rest.

Truths: the von Mises ring's closed-form Jacobian ``−κ sin(θ − φᵢ) fᵢ(θ)``
(:class:`neurogeom.simulate.VonMisesRing`), and for cosine tuning ``cos(θ − φ)`` the
central difference with step h, which is exactly ``−sin(θ − φ)·sin(h)/h``
(``[cos(θ + h − φ) − cos(θ − h − φ)]/(2h)``).
"""

from __future__ import annotations

import numpy as np
import pytest

import neurogeom as ng
from neurogeom import simulate
from neurogeom.errors import ParameterError

TWO_PI = 2 * np.pi


def _ring(n: int = 30):
    pop = simulate.VonMisesRing(12, amplitude=3.0, kappa=1.0)
    X = (np.arange(n) * TWO_PI / n)[:, None]
    return pop, X, pop.mean(X)


def test_gaussian_process_period_is_exact_across_the_wrap():
    """Queries next to 0 and to 2π (beyond the last sample): the wrap decides there."""
    pop, X, R = _ring()
    q = np.array([[0.02], [TWO_PI - 0.02], [np.pi]])
    gp = ng.get_estimator("gaussian_process", period=TWO_PI).fit(X, R)
    J, truth = gp.jacobian(q), pop.jacobian(q)
    np.testing.assert_allclose(J, truth, atol=1e-3 * np.abs(truth).max())
    g = np.einsum("qna,qnb->qab", J, J)
    np.testing.assert_allclose(g, pop.metric(q), rtol=1e-3)
    # periodic: θ and θ + 2π are one stimulus (noise-free data: K⁻¹ amplifies rounding)
    np.testing.assert_allclose(gp.jacobian(q + TWO_PI), J, atol=1e-3 * np.abs(J).max())
    plain = ng.get_estimator("gaussian_process").fit(X, R)
    shift = np.abs(plain.jacobian(q + TWO_PI) - plain.jacobian(q)).max()
    assert shift > 0.1 * np.abs(J).max()  # without the period the wrap is lost


def test_gaussian_process_period_map_flags_no_query_at_the_wrap():
    pop, X, R = _ring(24)
    trials = np.stack([R, R], axis=1)  # noise-free: two identical trials
    rm = ng.SampledResponseMap(
        X,
        trials,
        "gaussian_process",
        correction=None,
        on_invalid="flag",
        estimator_params={"period": TWO_PI},
    )
    q = np.array([[TWO_PI - 0.05], [TWO_PI + 0.05]])
    assert not rm.point_flags(q)["outside"].any()
    np.testing.assert_allclose(rm.layer_metrics(q)["responses"], pop.metric(q), rtol=1e-2)


def test_grid_differences_wrap_across_the_period():
    n = 30
    h = TWO_PI / n
    X = (np.arange(n) * h)[:, None]
    phi = np.linspace(0.0, 6.0, 5)
    R = np.cos(X - phi)
    q = np.array([[0.0], [(n - 1) * h], [TWO_PI], [-h]])
    J = ng.get_estimator("grid_differences", period=TWO_PI).fit(X, R).jacobian(q)[:, :, 0]
    expected = -np.sin(np.array([0.0, (n - 1) * h, 0.0, (n - 1) * h])[:, None] - phi)
    np.testing.assert_allclose(J, expected * np.sin(h) / h, atol=1e-12)
    one_sided = ng.get_estimator("grid_differences").fit(X, R).jacobian(q[:1])[:, :, 0]
    assert np.abs(one_sided - J[:1]).max() > 1e-3  # the wrap changes the edge nodes


def test_grid_differences_refuse_a_grid_that_is_not_one_period():
    X = np.linspace(0, TWO_PI, 31)[:, None]  # repeats the end node
    with pytest.raises(ParameterError, match="one period"):
        ng.get_estimator("grid_differences", period=TWO_PI).fit(X, np.cos(X))


@pytest.mark.parametrize("name", ["spline", "spline2d", "stencil"])
def test_estimators_without_periods_refuse_them_by_name(name):
    with pytest.raises(ParameterError, match=rf"'{name}'.*does not take period="):
        ng.get_estimator(name, period=TWO_PI)
    _, X, R = _ring()
    with pytest.raises(ParameterError, match="gaussian_process"):
        ng.SampledResponseMap(X, np.stack([R, R], 1), name, estimator_params={"period": TWO_PI})


def test_periods_are_validated():
    _, X, R = _ring()
    with pytest.raises(ParameterError, match="positive"):
        ng.get_estimator("gaussian_process", period=-1.0).fit(X, R)
    with pytest.raises(ParameterError, match="span"):
        ng.get_estimator("gaussian_process", period=4 * np.pi).fit(X[:15] / 2, R[:15])
