"""Every path classifies the same near-singular batch the same way (one numerical-zero rule).

Metrics g = diag(1, v²) from r(u, v) = (u, v²/2), whose Jacobian is diag(1, v); with
λ_max = 1 and k = 2 the rule puts the threshold at τ = 10·2·ε = 4.44e-15, so smallest
eigenvalues 1e-16 and 4.0e-15 are zero and 4.9e-15 and 1e-12 are not.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.errors import SingularMetricError
from neurogeom.riemann import relative_zero

LAMBDA = np.array([1e-16, 4.0e-15, 4.9e-15, 1e-12])
SINGULAR = LAMBDA <= relative_zero(2)  # [True, True, False, False]
POINTS = np.stack([np.full(4, 0.3), np.sqrt(LAMBDA)], axis=1)


def _torch_map() -> ng.TorchResponseMap:
    return ng.TorchResponseMap(
        lambda x: torch.stack([x[:, 0], 0.5 * x[:, 1] ** 2], 1), dtype=torch.float64
    )


class _NumpyMap(ng.ResponseMap):
    layers = ("r",)

    def layer_responses(self, x):
        return {"r": np.stack([x[:, 0], 0.5 * x[:, 1] ** 2], 1)}

    def layer_jacobians(self, x, tangents=None):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 0], J[:, 1, 1] = 1.0, x[:, 1]
        return {"r": J if tangents is None else J @ np.asarray(tangents).T}


def _metrics() -> np.ndarray:
    return np.stack([np.diag([1.0, lam]) for lam in LAMBDA])


def _pointwise(fn) -> np.ndarray:
    """Singular where ``fn(i)`` raises SingularMetricError."""
    out = []
    for i in range(len(LAMBDA)):
        try:
            fn(i)
            out.append(False)
        except SingularMetricError:
            out.append(True)
    return np.array(out)


PATHS = {
    "log_volume_element": lambda: (
        ng.log_volume_element(_metrics(), "auto", return_rank=True)[1] < 2
    ),
    "geometry, torch map": lambda: (
        ng.geometry(_torch_map(), POINTS, rank="auto").metric_rank.values < 2
    ),
    "geometry, numpy map": lambda: (
        ng.geometry(_NumpyMap(), POINTS, rank="auto").metric_rank.values < 2
    ),
    "transformer": lambda: (
        ng.NetworkGeometry(
            lambda x: torch.stack([x[:, 0], 0.5 * x[:, 1] ** 2], 1), rank="auto", dtype="float64"
        )
        .fit(POINTS)
        .to_dataset(POINTS)
        .metric_rank.values
        < 2
    ),
    "curvature": lambda: ng.scalar_curvature(
        _torch_map(), POINTS, on_singular="nan", return_singular=True
    )[1],
    "compare": lambda: _pointwise(
        lambda i: ng.affine_invariant_distance(_metrics()[i : i + 1], np.eye(2)[None])
    ),
    "full determinant": lambda: _pointwise(lambda i: ng.log_volume_element(_metrics()[i : i + 1])),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_path_finds_the_same_singular_points(path):
    np.testing.assert_array_equal(np.asarray(PATHS[path]()), SINGULAR)
