"""Where to look: lines, planes and grids of stimuli.

A slice has ``points`` ``(m, *stimulus_shape)``, an orthonormal ``tangents`` basis
``(k, *stimulus_shape)`` of the subspace it spans (``None`` for a :class:`Grid`, which spans
the whole stimulus space), its own coordinates ``coords`` (1-D arrays per dimension name)
and ``dims``/``shape``: the points, in C order, fill an array of shape ``shape`` whose axes
are named ``dims``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._arrays import check_finite
from .errors import ShapeError

__all__ = ["TRIANGLE", "Grid", "Line", "Plane", "Points", "Slice"]

#: Corners of the equilateral triangle (circumradius 1, centred at 0) where a
#: :class:`Plane`'s three stimuli ``a``, ``b``, ``c`` sit, in ``(u, v)`` coordinates.
TRIANGLE = np.array([[0.0, 1.0], [-math.sqrt(3) / 2, -0.5], [math.sqrt(3) / 2, -0.5]])


@dataclass(frozen=True)
class Slice:
    """A set of stimulus points with coordinates and (optionally) a tangent basis."""

    points: np.ndarray
    tangents: np.ndarray | None
    coords: dict[str, np.ndarray]
    dims: tuple[str, ...]
    extra_coords: dict[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)
    anchors: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array the points fill, one axis per name in :attr:`dims`."""
        return tuple(len(self.coords[d]) for d in self.dims)

    @property
    def stimulus_shape(self) -> tuple[int, ...]:
        """Shape of one stimulus."""
        return tuple(self.points.shape[1:])

    @property
    def kind(self) -> str:
        """Lower-case class name (``"line"``, ``"plane"``, ``"grid"``, ``"points"``)."""
        return type(self).__name__.lower()

    def __len__(self) -> int:
        return int(self.points.shape[0])


def _stimuli(*arrays: Any) -> list[np.ndarray]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    shapes = {a.shape for a in out}
    if len(shapes) != 1:
        raise ShapeError(f"stimuli have different shapes {sorted(shapes)}; they must match.")
    for name, a in zip("abc", out):
        check_finite(a, f"stimulus {name}")
    return out


def _orthonormal(vectors: np.ndarray, what: str) -> np.ndarray:
    """Orthonormal rows spanning ``vectors`` (k, D); error if they are dependent."""
    q, r = np.linalg.qr(vectors.T)
    diag = np.abs(np.diag(r))
    if diag.min() <= 1e-12 * max(diag.max(), 1e-300):
        raise ValueError(
            f"{what} do not span a {vectors.shape[0]}-dimensional subspace; "
            "choose stimuli that are distinct and not collinear."
        )
    return (q * np.sign(np.diag(r))).T


class Points(Slice):
    """An unstructured set of points (dimension ``point``), optionally with tangents.

    Parameters
    ----------
    points : array, shape (m, *stimulus_shape)
    tangents : array, shape (k, *stimulus_shape), optional
        Orthonormal directions; the metric is then induced on their span.

    Examples
    --------
    >>> Points(np.zeros((3, 2))).shape
    (3,)
    """

    def __init__(self, points: Any, tangents: Any = None) -> None:
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim < 2:
            raise ShapeError(f"points has shape {pts.shape}; expected (m, *stimulus_shape).")
        check_finite(pts, "points")
        T = None
        if tangents is not None:
            T = np.asarray(tangents, dtype=np.float64)
            if T.ndim < 2 or T.shape[1:] != pts.shape[1:]:
                raise ShapeError(
                    f"tangents has shape {T.shape}; expected (k, {', '.join(map(str, pts.shape[1:]))})."
                )
            flat = T.reshape(T.shape[0], -1)
            if not np.allclose(flat @ flat.T, np.eye(len(flat)), atol=1e-10):
                raise ValueError("tangents must be orthonormal rows; orthonormalise them first.")
        super().__init__(pts, T, {"point": np.arange(len(pts))}, ("point",))


class Line(Slice):
    """Straight line ``x(t) = a + t (b − a)`` for ``t`` in ``[0, 1]``, both ends included.

    Parameters
    ----------
    a, b : array, shape stimulus_shape
        End points (vectors or images).
    steps : int
        Number of points (at least 2).

    Attributes
    ----------
    points : ndarray, shape (steps, *stimulus_shape)
    tangents : ndarray, shape (1, *stimulus_shape)
        Unit vector along ``b − a``.
    coords : {"t": ndarray (steps,)}

    Examples
    --------
    >>> line = Line(np.zeros(2), np.array([3.0, 4.0]), steps=5)
    >>> line.points[-1], line.tangents[0], line.coords["t"][1]
    (array([3., 4.]), array([0.6, 0.8]), np.float64(0.25))
    """

    def __init__(self, a: Any, b: Any, steps: int = 64) -> None:
        if steps < 2:
            raise ValueError(f"steps={steps}; a line needs at least 2 points.")
        a_, b_ = _stimuli(a, b)
        t = np.linspace(0.0, 1.0, steps)
        delta = (b_ - a_).reshape(1, -1)
        T = _orthonormal(delta, "the end points").reshape(1, *a_.shape)
        pts = a_[None] + t.reshape(-1, *[1] * a_.ndim) * (b_ - a_)[None]
        super().__init__(pts, T, {"t": t}, ("t",), anchors=np.stack([a_, b_]))


class Plane(Slice):
    """Plane through three stimuli, centred on their centroid.

    Coordinates ``(u, v)`` are affine: the stimuli ``a``, ``b``, ``c`` sit at the corners
    :data:`TRIANGLE` of an equilateral triangle (circumradius 1) around the centroid at
    ``(0, 0)``, whatever their Euclidean distances. The grid covers ``[-extent, extent]²``.
    The tangents are an orthonormal basis of the plane (so the induced metric measures
    area relative to Euclidean stimulus area), not the ``u``/``v`` axes.

    Parameters
    ----------
    a, b, c : array, shape stimulus_shape
        Three stimuli that are not collinear.
    resolution : int
        Grid points along each of ``u`` and ``v``.
    extent : float
        Half-width of the grid in triangle coordinates (1.2 leaves a margin round the
        triangle, whose corners lie at radius 1).

    Attributes
    ----------
    points : ndarray, shape (resolution**2, *stimulus_shape)
        In C order over ``(u, v)``.
    tangents : ndarray, shape (2, *stimulus_shape)
    coords : {"u": ndarray, "v": ndarray}
    extra_coords : {"barycentric": (("u", "v", "vertex"), ndarray)}
        Barycentric coordinates of each grid point with respect to ``a``, ``b``, ``c``
        (all three non-negative inside the triangle), for a ternary view.

    Examples
    --------
    >>> a, b, c = np.eye(3)
    >>> plane = Plane(a, b, c, resolution=5)
    >>> plane.points.shape, plane.tangents.shape
    ((25, 3), (2, 3))
    >>> np.allclose(plane.to_stimulus(TRIANGLE[0]), a)
    True
    """

    def __init__(self, a: Any, b: Any, c: Any, resolution: int = 80, extent: float = 1.2) -> None:
        if resolution < 2:
            raise ValueError(f"resolution={resolution}; a plane needs at least 2 points a side.")
        if extent <= 0:
            raise ValueError(f"extent={extent} must be positive.")
        a_, b_, c_ = _stimuli(a, b, c)
        shape = a_.shape
        origin = (a_ + b_ + c_) / 3
        offsets = np.stack([a_ - origin, b_ - origin]).reshape(2, -1)
        tangents = _orthonormal(offsets, "the three stimuli")
        # affine axes E (D x 2) with E @ TRIANGLE[i] = stimulus_i - origin
        axes = offsets.T @ np.linalg.inv(TRIANGLE[:2].T)
        u = np.linspace(-extent, extent, resolution)
        uu, vv = np.meshgrid(u, u, indexing="ij")
        uv = np.stack([uu.ravel(), vv.ravel()], axis=1)
        pts = (origin.reshape(1, -1) + uv @ axes.T).reshape(-1, *shape)
        bary = _barycentric(uv).reshape(resolution, resolution, 3)
        super().__init__(
            pts,
            tangents.reshape(2, *shape),
            {"u": u, "v": u.copy()},
            ("u", "v"),
            extra_coords={"barycentric": (("u", "v", "vertex"), bary)},
            anchors=np.stack([a_, b_, c_]),
        )
        object.__setattr__(self, "_frame", (origin, axes))

    def to_stimulus(self, uv: Any) -> np.ndarray:
        """Stimulus at triangle coordinates ``uv`` (shape ``(..., 2)``)."""
        origin, axes = self._frame  # type: ignore[attr-defined]
        uv_ = np.asarray(uv, dtype=np.float64)
        flat = origin.reshape(1, -1) + uv_.reshape(-1, 2) @ axes.T
        return flat.reshape(*uv_.shape[:-1], *origin.shape)


def _barycentric(uv: np.ndarray) -> np.ndarray:
    """Barycentric coordinates of points ``uv`` (m, 2) in :data:`TRIANGLE`."""
    A = np.vstack([TRIANGLE.T, np.ones(3)])
    rhs = np.vstack([uv.T, np.ones(len(uv))])
    return np.linalg.solve(A, rhs).T


class Grid(Slice):
    """Regular grid over a low-dimensional stimulus space (spans the whole space).

    Parameters
    ----------
    bounds : sequence of (low, high)
        One interval per stimulus dimension.
    resolution : int or sequence of int
        Points per dimension (both bounds included).
    dims : sequence of str, optional
        Names of the grid axes; default ``("u", "v", "w")[:d]`` for ``d ≤ 3``.

    Attributes
    ----------
    points : ndarray, shape (prod(resolution), d)
        In C order over the grid axes.
    tangents : None
        The metric on a grid is the full-space metric.

    Examples
    --------
    >>> grid = Grid([(-1, 1), (0, 2)], resolution=3)
    >>> grid.points.shape, grid.dims, grid.coords["v"]
    ((9, 2), ('u', 'v'), array([0., 1., 2.]))
    """

    def __init__(
        self,
        bounds: Sequence[tuple[float, float]],
        resolution: int | Sequence[int] = 80,
        dims: Sequence[str] | None = None,
    ) -> None:
        b = np.asarray(bounds, dtype=np.float64)
        if b.ndim != 2 or b.shape[1] != 2 or not np.all(b[:, 1] > b[:, 0]):
            raise ValueError(
                f"bounds={bounds!r}; expected one (low, high) with low < high per dimension."
            )
        d = len(b)
        res = (
            [int(resolution)] * d
            if isinstance(resolution, (int, np.integer))
            else [int(r) for r in resolution]
        )
        if len(res) != d or min(res) < 2:
            raise ValueError(f"resolution={resolution!r}; need an int >= 2 per dimension ({d}).")
        if dims is None:
            if d > 3:
                raise ValueError(f"name the axes of a {d}-dimensional grid with dims=[...].")
            dims = ("u", "v", "w")[:d]
        names = tuple(dims)
        if len(names) != d or len(set(names)) != d:
            raise ValueError(f"dims={names!r}; need {d} distinct names.")
        axes = [np.linspace(lo, hi, r) for (lo, hi), r in zip(b, res)]
        mesh = np.meshgrid(*axes, indexing="ij")
        pts = np.stack([m.ravel() for m in mesh], axis=1)
        super().__init__(pts, None, dict(zip(names, axes)), names)
