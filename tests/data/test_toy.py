"""Toy 2-D tasks: XOR variants and the distance to the sinusoid boundary."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from neurogeom.data import (
    sinusoid_boundary,
    sinusoid_boundary_distance,
    xor_boundary_distance,
    xor_points,
    xor_task,
)


def test_xor_points():
    X, y = xor_points()
    assert sorted(map(tuple, X.tolist())) == [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    np.testing.assert_array_equal(y, (X[:, 0] != X[:, 1]).astype(int))


def test_xor_task_statistics_and_seed():
    X, y = xor_task(4000, seed=3)
    centres = np.where(X > 0, 1.0, -1.0)  # nearest centre for most points
    which = np.arange(4000) * 4 // 4000
    c, _ = xor_points()
    resid = X - c[which]
    # per-coordinate variance 0.15, zero mean, uncorrelated (4000 samples: SE ≈ 0.0034)
    np.testing.assert_allclose(resid.var(axis=0), 0.15, atol=0.015)
    np.testing.assert_allclose(resid.mean(axis=0), 0.0, atol=0.03)
    assert abs(np.corrcoef(resid.T)[0, 1]) < 0.05
    assert np.bincount(y).tolist() == [2000, 2000]
    agree = (centres[:, 0] * centres[:, 1] < 0) == y.astype(bool)
    assert 0.95 < agree.mean() < 1.0  # a few points cross the boundary
    np.testing.assert_array_equal(xor_task(50, seed=1)[0], xor_task(50, seed=1)[0])
    assert not np.array_equal(xor_task(50, seed=1)[0], xor_task(50, seed=2)[0])
    with pytest.raises(ValueError):
        xor_task(0)
    with pytest.raises(ValueError):
        xor_task(10, variance=0)


def test_xor_distance():
    np.testing.assert_array_equal(
        xor_boundary_distance(np.array([[0.2, -0.7], [-3.0, 2.0]])), [0.2, 2.0]
    )


def test_sinusoid_distance_against_dense_brute_force():
    rng = np.random.default_rng(0)
    P = rng.uniform(-1.5, 1.5, (100, 2))
    s = np.linspace(-4, 4, 1_600_001)  # spacing 5e-6
    d_brute, _ = cKDTree(np.stack([s, sinusoid_boundary(s)], 1)).query(P)
    # brute force overestimates by at most (arc step)² / (2 d) + arc step/2 ~ 1.1e-5
    np.testing.assert_allclose(sinusoid_boundary_distance(P), d_brute, atol=2e-5)
    assert np.all(sinusoid_boundary_distance(P) <= d_brute + 1e-12)


def test_sinusoid_distance_exact_cases():
    peak = (np.pi / 2 + 1) / 7
    trough = (3 * np.pi / 2 + 1) / 7
    x = np.linspace(-1, 1, 7)
    d = sinusoid_boundary_distance(
        np.vstack([[peak, 1.3], [trough, -0.9], np.stack([x, sinusoid_boundary(x)], 1)])
    )
    np.testing.assert_allclose(d[:2], [0.7, 0.3], atol=1e-12)
    np.testing.assert_allclose(d[2:], 0.0, atol=1e-12)
