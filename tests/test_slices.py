import numpy as np
import pytest

from neurogeom import Grid, Line, Plane, Points
from neurogeom.errors import ShapeError
from neurogeom.slices import TRIANGLE


def test_line_includes_both_endpoints_and_has_unit_tangent(rng):
    a, b = rng.normal(size=(2, 3, 4, 4))
    line = Line(a, b, steps=7)
    np.testing.assert_array_equal(line.points[0], a)
    np.testing.assert_allclose(line.points[-1], b, rtol=1e-14)
    assert line.tangents.shape == (1, 3, 4, 4)
    np.testing.assert_allclose(line.tangents[0], (b - a) / np.linalg.norm(b - a))
    np.testing.assert_allclose(line.coords["t"], np.linspace(0, 1, 7))
    assert line.dims == ("t",) and line.shape == (7,)


def test_plane_origin_is_centroid_and_stimuli_sit_on_an_equilateral_triangle(rng):
    a, b, c = rng.normal(size=(3, 2, 5))
    plane = Plane(a, b, c, resolution=9)
    for stim, corner in zip((a, b, c), TRIANGLE):
        np.testing.assert_allclose(plane.to_stimulus(corner), stim, atol=1e-12)
    np.testing.assert_allclose(plane.to_stimulus(np.zeros(2)), (a + b + c) / 3, atol=1e-12)
    # corners are equidistant in (u, v): an equilateral triangle
    sides = [np.linalg.norm(TRIANGLE[i] - TRIANGLE[j]) for i, j in ((0, 1), (1, 2), (0, 2))]
    np.testing.assert_allclose(sides, np.sqrt(3))
    T = plane.tangents.reshape(2, -1)
    np.testing.assert_allclose(T @ T.T, np.eye(2), atol=1e-12)
    # every grid point lies in the plane through a, b, c
    offsets = plane.points.reshape(len(plane), -1) - ((a + b + c) / 3).ravel()
    np.testing.assert_allclose(offsets - offsets @ T.T @ T, 0, atol=1e-12)
    assert plane.points.shape == (81, 2, 5) and plane.dims == ("u", "v")


def test_plane_barycentric_coordinates(rng):
    a, b, c = rng.normal(size=(3, 4))
    plane = Plane(a, b, c, resolution=11, extent=1.0)
    dims, bary = plane.extra_coords["barycentric"]
    assert dims == ("u", "v", "vertex") and bary.shape == (11, 11, 3)
    np.testing.assert_allclose(bary.sum(-1), 1.0)
    # barycentric weights reproduce the stimulus at every grid point
    flat = bary.reshape(-1, 3) @ np.stack([a, b, c])
    np.testing.assert_allclose(flat, plane.points, atol=1e-12)


def test_grid_spans_the_space_in_c_order():
    grid = Grid([(-1, 1), (0, 3)], resolution=(3, 4))
    assert grid.tangents is None and grid.shape == (3, 4)
    np.testing.assert_allclose(grid.points.reshape(3, 4, 2)[1, 2], [0.0, 2.0])


def test_bad_slices_raise():
    with pytest.raises(ValueError, match="not collinear"):
        Plane(np.zeros(3), np.ones(3), 2 * np.ones(3))
    with pytest.raises(ValueError, match="distinct"):
        Line(np.ones(2), np.ones(2))
    with pytest.raises(ShapeError, match="different shapes"):
        Line(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="low < high"):
        Grid([(1, 0)])
    with pytest.raises(ValueError, match="orthonormal"):
        Points(np.zeros((2, 2)), tangents=np.ones((1, 2)))
    with pytest.raises(ValueError, match="non-finite|NaN"):
        Line(np.array([0.0, np.nan]), np.ones(2))
