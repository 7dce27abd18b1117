"""Where to look: lines, planes and grids of stimuli.

A slice has ``points`` ``(m, *stimulus_shape)``, an orthonormal ``tangents`` basis
``(k, *stimulus_shape)`` of the subspace it spans (``None`` for a :class:`Grid`, which spans
the whole stimulus space), its own coordinates ``coords`` (1-D arrays per dimension name)
and ``dims``/``shape``: the points, in C order, fill an array of shape ``shape`` whose axes
are named ``dims``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ._arrays import as_array, as_bounds, as_points, check_count, check_finite, check_fits
from .errors import ParameterError, ShapeError

__all__ = ["TRIANGLE", "Grid", "Line", "Plane", "Points", "Slice", "check_count", "check_tangents"]

#: Corners of the equilateral triangle (circumradius 1, centred at 0) where a
#: :class:`Plane`'s three stimuli ``a``, ``b``, ``c`` sit, in ``(u, v)`` coordinates.
TRIANGLE = np.array([[0.0, 1.0], [-math.sqrt(3) / 2, -0.5], [math.sqrt(3) / 2, -0.5]])


class Slice:
    """A set of stimulus points with coordinates and (optionally) a tangent basis.

    Points are generated block by block on demand (:meth:`block`), so a slice through
    image space with millions of points is held as its origin and axes only; ``points``
    materialises them all.

    Attributes
    ----------
    tangents : ndarray (k, *stimulus_shape) or None
        Orthonormal basis of the slice's span; None when it spans the whole space.
    coords : dict of str to ndarray
        One 1-D coordinate array per name in ``dims``.
    dims : tuple of str
        Names of the axes that the points fill, in C order.
    anchors : ndarray or None
        The stimuli that define the slice (a line's ends, a plane's three stimuli).
    coord_attrs : dict of str to dict
        Attributes (``units``) per coordinate, copied into Datasets.
    """

    tangents: np.ndarray | None
    coords: dict[str, np.ndarray]
    dims: tuple[str, ...]
    anchors: np.ndarray | None = None
    coord_attrs: dict[str, dict[str, str]]

    def __init__(
        self,
        stimulus_shape: tuple[int, ...],
        tangents: np.ndarray | None,
        coords: dict[str, np.ndarray],
        dims: tuple[str, ...],
        anchors: np.ndarray | None = None,
    ) -> None:
        self._stimulus_shape = tuple(stimulus_shape)
        self.tangents = tangents
        self.coords = coords
        self.dims = dims
        self.anchors = anchors
        self.coord_attrs = {}

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array the points fill, one axis per name in ``dims``."""
        return tuple(len(self.coords[d]) for d in self.dims)

    @property
    def stimulus_shape(self) -> tuple[int, ...]:
        """Shape of one stimulus."""
        return self._stimulus_shape

    @property
    def kind(self) -> str:
        """Lower-case class name (``"line"``, ``"plane"``, ``"grid"``, ``"points"``)."""
        return type(self).__name__.lower()

    @property
    def extra_coords(self) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """Further coordinates over ``dims`` (e.g. a plane's barycentric ones)."""
        return {}

    def __len__(self) -> int:
        return math.prod(self.shape)

    def block(self, start: int, stop: int) -> np.ndarray:
        """Points ``start:stop`` (C order over ``dims``), ``(stop - start, *stimulus_shape)``."""
        raise NotImplementedError

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, points)`` for consecutive blocks of at most ``size`` points."""
        for start in range(0, len(self), size):
            yield start, self.block(start, min(start + size, len(self)))

    @property
    def points(self) -> np.ndarray:
        """All points, ``(len(self), *stimulus_shape)`` (materialised: prefer :meth:`block`)."""
        return self.block(0, len(self))


def _coordinates(counts: Sequence[int], names: Sequence[str]) -> None:
    """Refuse counts whose float64 coordinate arrays alone would not fit in memory.

    Points are generated block by block, but each axis keeps its coordinates (they label
    the result), so a count beyond the memory is an error before anything is allocated.
    """
    settings = ", ".join(f"{n}={c}" for n, c in zip(names, counts))
    check_fits(
        8 * sum(counts),
        f"the coordinates of a slice with {settings} ({sum(counts)} float64 values)",
        f"Pass a smaller {names[0]}; a slice's results also hold a value per point, so "
        "a count this size could not be measured either.",
    )


def _stimuli(*arrays: Any) -> list[np.ndarray]:
    out = [
        np.asarray(as_array(a, f"stimulus {n}"), dtype=np.float64) for a, n in zip(arrays, "abc")
    ]
    shapes = {a.shape for a in out}
    if len(shapes) != 1:
        raise ShapeError(f"stimuli have different shapes {sorted(shapes)}; they must match.")
    for name, a in zip("abc", out):
        check_finite(a, f"stimulus {name}")
    return out


def _orthonormal(vectors: np.ndarray, what: str) -> np.ndarray:
    """Orthonormal rows spanning ``vectors`` (k, D); error if they are dependent."""
    k, dim = vectors.shape
    if dim < k:
        raise ShapeError(
            f"{what} have {dim} entries each, so they cannot span a {k}-dimensional "
            f"subspace; use stimuli with at least {k} entries."
        )
    q, r = np.linalg.qr(vectors.T)
    diag = np.abs(np.diag(r))
    if diag.min() <= 1e-12 * max(diag.max(), 1e-300):
        raise ParameterError(
            f"{what} do not span a {vectors.shape[0]}-dimensional subspace; "
            "choose stimuli that are distinct and not collinear."
        )
    return (q * np.sign(np.diag(r))).T


#: Largest deviation of ``T Tᵀ`` from the identity accepted for "orthonormal" tangents.
ORTHONORMAL_TOLERANCE = 1e-6


def check_tangents(
    tangents: Any, stimulus_shape: tuple[int, ...], *, orthonormal: bool = True
) -> np.ndarray:
    """Validate tangents: ``(k, *stimulus_shape)``, finite, and (by default) orthonormal rows.

    The one rule for every place that takes tangents. Where they span a slice whose metric
    is measured (:class:`Points`, :meth:`~neurogeom.ResponseMap.metric`,
    :func:`~neurogeom.geometry`, curvature), the induced metric ``T g Tᵀ`` is the metric of
    the slice in Euclidean coordinates only when the rows are orthonormal, so others are
    refused rather than giving volume elements in a skewed chart. Directional derivatives
    (:meth:`~neurogeom.ResponseMap.jacobian` with tangents, ``J Tᵀ``) take any directions:
    ``orthonormal=False``.

    Parameters
    ----------
    tangents : array-like, shape (k, *stimulus_shape)
    stimulus_shape : tuple of int
    orthonormal : bool
        Require ``T Tᵀ = I`` (to ``neurogeom.slices.ORTHONORMAL_TOLERANCE``).

    Returns
    -------
    ndarray, float64, shape (k, *stimulus_shape)

    Examples
    --------
    >>> check_tangents(np.eye(2)[:1], (2,))
    array([[1., 0.]])
    """
    T = np.asarray(as_array(tangents, "tangents"), dtype=np.float64)
    stim = tuple(stimulus_shape)
    if T.ndim < 2 or tuple(T.shape[1:]) != stim or T.shape[0] < 1:
        single = " Use tangents[None] for a single direction." if T.ndim == len(stim) else ""
        raise ShapeError(
            f"tangents has shape {tuple(T.shape)}; expected (k, {', '.join(map(str, stim))}): "
            f"k >= 1 directions, each of the stimulus shape {stim}.{single}"
        )
    check_finite(T, "tangents")
    flat = T.reshape(T.shape[0], -1)
    error = float(np.abs(flat @ flat.T - np.eye(len(flat))).max()) if orthonormal else 0.0
    if error > ORTHONORMAL_TOLERANCE:
        raise ParameterError(
            f"tangents are not orthonormal rows (max |T Tᵀ - I| = {error:.3g} > "
            f"{ORTHONORMAL_TOLERANCE:g}); orthonormalise them first, e.g. "
            "T = np.linalg.qr(T.reshape(k, -1).T)[0].T.reshape(T.shape)."
        )
    return T


class Points(Slice):
    """An unstructured set of points (dimension ``point``), optionally with tangents.

    Parameters
    ----------
    points : array, shape (m, *stimulus_shape)
    tangents : array, shape (k, *stimulus_shape), optional
        Orthonormal directions (see :func:`check_tangents`); the metric is then induced on
        their span.

    Examples
    --------
    >>> Points(np.zeros((3, 2))).shape
    (3,)
    """

    def __init__(self, points: Any, tangents: Any = None) -> None:
        pts = as_points(points, dtype=torch.float64).numpy()
        T = None if tangents is None else check_tangents(tangents, pts.shape[1:])
        super().__init__(pts.shape[1:], T, {"point": np.arange(len(pts))}, ("point",))
        self._points = pts

    def block(self, start: int, stop: int) -> np.ndarray:
        """Points ``start:stop``."""
        return self._points[start:stop]


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
        steps = check_count(steps, "steps", 2)
        _coordinates([steps], ["steps"])
        a_, b_ = _stimuli(a, b)
        delta = (b_ - a_).reshape(1, -1)
        T = _orthonormal(delta, "the end points").reshape(1, *a_.shape)
        t = np.linspace(0.0, 1.0, steps)
        super().__init__(a_.shape, T, {"t": t}, ("t",), anchors=np.stack([a_, b_]))

    def block(self, start: int, stop: int) -> np.ndarray:
        """Points ``start:stop`` along the line."""
        a, b = self.anchors  # type: ignore[misc]
        t = self.coords["t"][start:stop].reshape(-1, *[1] * a.ndim)
        return a[None] + t * (b - a)[None]


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
        resolution = check_count(resolution, "resolution", 2)
        _coordinates([resolution, resolution], ["resolution", "resolution"])
        if not isinstance(extent, (int, float, np.number)) or not (
            math.isfinite(extent) and extent > 0
        ):
            raise ParameterError(f"extent={extent!r}; expected a finite positive number.")
        a_, b_, c_ = _stimuli(a, b, c)
        shape = a_.shape
        origin = (a_ + b_ + c_) / 3
        offsets = np.stack([a_ - origin, b_ - origin]).reshape(2, -1)
        tangents = _orthonormal(offsets, "the three stimuli")
        # affine axes E (D x 2) with E @ TRIANGLE[i] = stimulus_i - origin
        axes = offsets.T @ np.linalg.inv(TRIANGLE[:2].T)
        u = np.linspace(-extent, extent, resolution)
        super().__init__(
            shape,
            tangents.reshape(2, *shape),
            {"u": u, "v": u.copy()},
            ("u", "v"),
            anchors=np.stack([a_, b_, c_]),
        )
        self._frame = (origin, axes)

    def _uv(self, start: int, stop: int) -> np.ndarray:
        """Triangle coordinates ``(stop - start, 2)`` of points ``start:stop``."""
        i, j = np.divmod(np.arange(start, stop), len(self.coords["v"]))
        return np.stack([self.coords["u"][i], self.coords["v"][j]], axis=1)

    def block(self, start: int, stop: int) -> np.ndarray:
        """Points ``start:stop`` in C order over ``(u, v)``."""
        return self.to_stimulus(self._uv(start, stop))

    @property
    def extra_coords(self) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """``barycentric``: ``(u, v, vertex)`` coordinates w.r.t. ``a``, ``b``, ``c``."""
        bary = _barycentric(self._uv(0, len(self))).reshape(*self.shape, 3)
        return {"barycentric": (("u", "v", "vertex"), bary)}

    def to_stimulus(self, uv: Any) -> np.ndarray:
        """Stimulus at triangle coordinates ``uv`` (shape ``(..., 2)``)."""
        origin, axes = self._frame
        uv_ = np.asarray(as_array(uv, "uv"), dtype=np.float64)
        uv2 = uv_.reshape(-1, 2)  # elementwise, not BLAS: the same bits whatever the block
        flat = origin.reshape(1, -1) + uv2[:, :1] * axes[:, 0] + uv2[:, 1:] * axes[:, 1]
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
    units : sequence of str, optional
        Units per axis (e.g. ``("rad", "")``); the ``units`` attribute of the coordinates
        in a Dataset (and so of plot axes). Empty strings record none.

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
        units: Sequence[str] | None = None,
    ) -> None:
        b = as_bounds(bounds)
        d = len(b)
        if isinstance(resolution, (int, np.integer)) and not isinstance(resolution, bool):
            res = [check_count(resolution, "resolution", 2)] * d
        elif isinstance(resolution, (str, bytes)) or not isinstance(resolution, Sequence):
            res = [check_count(resolution, "resolution", 2)]
        else:
            res = [check_count(r, "resolution", 2) for r in resolution]
        if len(res) != d:
            raise ShapeError(
                f"resolution={resolution!r} has {len(res)} entries; expected one integer "
                f">= 2 for each of the {d} dimensions (or a single integer for all)."
            )
        _coordinates(res, ["resolution"] * d)
        if dims is None:
            if d > 3:
                raise ParameterError(f"name the axes of a {d}-dimensional grid with dims=[...].")
            dims = ("u", "v", "w")[:d]
        names = tuple(dims)
        if len(names) != d:
            raise ShapeError(f"dims={names!r} has {len(names)} names; expected {d}, one per axis.")
        if len(set(names)) != d or not all(isinstance(n, str) for n in names):
            raise ParameterError(f"dims={names!r}; need {d} distinct names (strings).")
        axes = [np.linspace(lo, hi, r) for (lo, hi), r in zip(b, res)]
        super().__init__((d,), None, dict(zip(names, axes)), names)
        if units is not None:
            u = (units,) if isinstance(units, str) else tuple(units)
            if len(u) != d or not all(isinstance(x, str) for x in u):
                raise ParameterError(f"units={units!r}; expected {d} strings, one per axis.")
            self.coord_attrs = {n: {"units": x} for n, x in zip(names, u) if x}

    def block(self, start: int, stop: int) -> np.ndarray:
        """Points ``start:stop`` in C order over the grid axes, ``(stop - start, d)``."""
        index = np.unravel_index(np.arange(start, stop), self.shape)
        return np.stack([self.coords[n][i] for n, i in zip(self.dims, index)], axis=1)
