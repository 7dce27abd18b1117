"""The claim metric on constructed fields with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurogeom.experiments.claims import claim_table, spearman


def test_monotone_function_of_entropy_gives_one():
    rng = np.random.default_rng(0)
    entropy = rng.uniform(0, 1, size=(20, 20))
    assert spearman(np.log(entropy) * 3 - 7, entropy) == pytest.approx(1.0, abs=1e-12)
    assert spearman(-np.exp(entropy), entropy) == pytest.approx(-1.0, abs=1e-12)


def test_against_rank_formula_without_ties():
    a = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6])
    b = np.array([2.0, 7.0, 1.0, 8.0, 2.5, 3.0])
    ra, rb = a.argsort().argsort(), b.argsort().argsort()
    n = len(a)
    expected = 1 - 6 * np.sum((ra - rb) ** 2) / (n * (n**2 - 1))
    assert spearman(a, b) == pytest.approx(expected, abs=1e-15)


def test_volume_peaked_on_boundary_correlates_negatively_with_distance():
    u = np.linspace(-1, 1, 41)
    X, Y = np.meshgrid(u, u, indexing="ij")
    distance = np.abs(Y - 0.3 * np.sin(3 * X))
    logvol = -(distance**2)  # strictly decreasing in distance
    assert spearman(logvol, distance) == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize(
    "a, b, match",
    [
        (np.ones(5), np.arange(5.0), "constant"),
        (np.arange(5.0), np.arange(4.0), "must match"),
        (np.arange(2.0), np.arange(2.0), "at least 3"),
        (np.array([1.0, np.nan, 2.0]), np.arange(3.0), "NaN"),
    ],
)
def test_bad_inputs(a, b, match):
    with pytest.raises(ValueError, match=match):
        spearman(a, b)


def test_claim_table_mean_and_sd_over_seeds():
    ds = xr.Dataset(
        {
            "spearman_entropy": (("width", "epoch", "seed"), [[[0.2, 0.4], [0.6, 1.0]]]),
            "spearman_distance": (("width", "epoch", "seed"), [[[-0.1, -0.3], [-0.5, -0.5]]]),
        },
        coords={"width": [5], "epoch": [0, 10], "seed": [0, 1]},
    )
    lines = claim_table(ds).splitlines()
    assert lines[0].split() == [
        "width",
        "epoch",
        "rho(logvol,",
        "entropy)",
        "rho(logvol,",
        "distance)",
        "n_seeds",
    ]
    assert lines[1].split() == ["5", "0", "+0.300", "±", "0.141", "-0.200", "±", "0.141", "2"]
    assert lines[2].split() == ["5", "10", "+0.800", "±", "0.283", "-0.500", "±", "0.000", "2"]


def test_claim_table_reports_accuracy_and_entropy_range():
    ds = xr.Dataset(
        {
            "spearman_entropy": (("epoch", "seed"), [[0.2, 0.4], [0.6, 1.0]]),
            "accuracy": (("epoch", "seed"), [[0.1, 0.1], [0.99, 0.97]]),
            "entropy": (("epoch", "seed", "t"), [[[1.0, 1.0, 1.0]] * 2, [[0.01, 0.5, 0.8]] * 2]),
        },
        coords={"epoch": [0, 30], "seed": [0, 1]},
    )
    lines = claim_table(ds, by=("epoch",)).splitlines()
    assert "accuracy" in lines[0] and "entropy range" in lines[0]
    assert lines[2].split() == [
        "30",
        "+0.800",
        "±",
        "0.283",
        "0.980",
        "±",
        "0.014",
        "0.010-0.800",
        "2",
    ]
