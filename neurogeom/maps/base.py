"""The :class:`ResponseMap` interface shared by networks and sampled recordings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._arrays import as_array, as_points, check_cotangents, like, to_tensor
from ..riemann.metric import Scale, check_scale
from ..slices import check_tangents

__all__ = ["Measurement", "ResponseMap"]


def _gram(J: np.ndarray) -> np.ndarray:
    """``JᵀJ`` per point, float64, exactly symmetric."""
    g = np.einsum("...na,...nb->...ab", J, J)
    return 0.5 * (g + np.swapaxes(g, -1, -2))


@dataclass(frozen=True)
class Measurement:
    """What a response map measures on one block of points, computed once.

    The one value that :func:`~neurogeom.geometry` (and every other consumer) takes from
    a map: produced by :meth:`ResponseMap.measure`, never by mutating the map.

    Attributes
    ----------
    metrics : dict of str to ndarray, each (m, k, k)
        The metric per layer, float64 (``k = d``, or the number of tangents).
    jacobians : dict of str to ndarray, each (m, n, k), or None
        For exact maps, the Jacobians whose Gram matrices ``JᵀJ`` the metrics are (already
        divided by √n under ``scale="width"``), so that spectra come from the smaller Gram
        matrix and are positive semidefinite by construction. None for estimated maps.
    flags : dict of str to ndarray, each (m,)
        Per-point diagnostics of an estimate (e.g. ``outside``, ``indefinite``); empty for
        exact maps.
    resamples : dict of str to ndarray, each (B, m, k, k), or None
        Bootstrap resamples of the metric per layer, for intervals; None without.
    estimated : bool
        Whether the metrics are estimates (may be indefinite, may be NaN where flagged).
    precision : torch.dtype
        The dtype the derivatives were computed in (float32 for a float32 network), which
        sets the numerical-zero tolerance of their spectra.
    """

    metrics: dict[str, np.ndarray]
    jacobians: dict[str, np.ndarray] | None = None
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    resamples: dict[str, np.ndarray] | None = None
    estimated: bool = False
    precision: torch.dtype = torch.float64


class ResponseMap(ABC):
    """A map from stimuli to population responses whose Jacobians can be measured.

    **Write your own map kind** by implementing the two required methods,
    :meth:`layer_responses` and :meth:`layer_jacobians`, which always return one entry per
    measured layer (set ``layers``, the layer names, on the instance or the class). Every
    consumer — :func:`~neurogeom.geometry`, curvature, comparison — then works, through:

    - :meth:`measure`: one block's :class:`Measurement` (metric per layer, and for
      estimated maps their flags and resamples), computed once. The default is the exact
      pullback ``JᵀJ`` of :meth:`layer_jacobians`; estimated maps override it.
    - :meth:`layer_jets`: Jacobians and second derivatives together, for curvature. The
      default takes central differences of :meth:`layer_jacobians` (accurate to ~1e-10
      relative for smooth float64 maps); exact maps override it.
    - :meth:`layer_vjp`: responses and their vector–Jacobian products, for path energies
      through many stimulus dimensions. The default contracts :meth:`layer_jacobians`;
      maps with reverse-mode derivatives override it.

    The public :meth:`responses`, :meth:`jacobian` and :meth:`metric` return a plain array
    when the map measures a single layer and a dict keyed by layer name when it measures
    several. Points are arrays whose first axis indexes points and whose remaining axes
    have the stimulus shape (a vector, or an image ``C x H x W``). Tangents have shape
    ``(k, *stimulus_shape)``. Arrays in, same kind out: numpy gives numpy, torch gives
    torch on the same device.

    Examples
    --------
    A map of one's own, in numpy: the unit sphere in the chart (θ, φ).

    >>> import numpy as np, neurogeom as ng
    >>> class Sphere(ng.ResponseMap):
    ...     layers = ("sphere",)
    ...     def layer_responses(self, x):
    ...         x = np.asarray(x, dtype=float)
    ...         th, ph = x[:, 0], x[:, 1]
    ...         r = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], 1)
    ...         return {"sphere": r}
    ...     def layer_jacobians(self, x, tangents=None):
    ...         x = np.asarray(x, dtype=float)
    ...         th, ph = x[:, 0], x[:, 1]
    ...         J = np.stack([
    ...             np.stack([np.cos(th) * np.cos(ph), -np.sin(th) * np.sin(ph)], -1),
    ...             np.stack([np.cos(th) * np.sin(ph), np.sin(th) * np.cos(ph)], -1),
    ...             np.stack([-np.sin(th), 0 * th], -1)], 1)
    ...         return {"sphere": J if tangents is None else J @ np.asarray(tangents).T}
    >>> x = np.array([[1.0, 0.3]])
    >>> np.round(Sphere().metric(x)[0], 6)           # diag(1, sin² θ)
    array([[1.      , 0.      ],
           [0.      , 0.708073]])
    >>> round(float(ng.scalar_curvature(Sphere(), x)[0]), 6)   # 2 / r²
    2.0
    """

    #: Names of the measured layers, in order.
    layers: tuple[str, ...]
    #: Whether the public methods return dicts (several layers were asked for).
    returns_dict: bool = False

    @abstractmethod
    def layer_responses(self, x: Any) -> dict[str, Any]:
        """Responses per layer, each of shape ``(m, n_layer)``."""

    @abstractmethod
    def layer_jacobians(self, x: Any, tangents: Any = None) -> dict[str, Any]:
        """Jacobians per layer, each ``(m, n_layer, d)``, or ``(m, n_layer, k)`` with tangents."""

    def measure(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none", resamples: bool = True
    ) -> Measurement:
        """Everything one block of points gives: metrics per layer (and flags, resamples).

        Parameters
        ----------
        x : array, shape (m, *stimulus_shape)
        tangents : array, shape (k, *stimulus_shape), optional
            Orthonormal directions of a slice.
        scale : {"none", "width"}
            ``"width"`` divides each layer's metric by its width.
        resamples : bool
            Whether estimated maps should also draw their bootstrap resamples.

        Returns
        -------
        Measurement
            Exact maps (this default): ``metrics = JᵀJ`` in float64 and ``jacobians = J``.

        Examples
        --------
        >>> import numpy as np, torch, neurogeom as ng
        >>> rm = ng.TorchResponseMap(lambda x: 2.0 * x, dtype=torch.float64)
        >>> rm.measure(np.zeros((1, 2))).metrics["output"][0]
        array([[4., 0.],
               [0., 4.]])
        """
        check_scale(scale)
        raw = {name: to_tensor(J) for name, J in self.layer_jacobians(x, tangents).items()}
        precision = next(iter(raw.values())).dtype
        jac = {name: J.to(torch.float64).cpu().numpy() for name, J in raw.items()}
        if scale == "width":
            jac = {name: J / np.sqrt(J.shape[-2]) for name, J in jac.items()}
        metrics = {name: _gram(J) for name, J in jac.items()}
        return Measurement(metrics=metrics, jacobians=jac, precision=precision)

    def layer_metrics(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, Any]:
        """Metrics per layer, each ``(m, d, d)``, or ``(m, k, k)`` with tangents.

        The metrics of :meth:`measure`, as numpy or torch like ``x``.
        """
        metrics = self.measure(x, tangents, scale=scale, resamples=False).metrics
        if isinstance(x, torch.Tensor):
            return {name: torch.as_tensor(g, device=x.device) for name, g in metrics.items()}
        return dict(metrics)

    def layer_jets(self, x: Any, tangents: Any = None) -> dict[str, tuple[Any, Any]]:
        r"""First and second derivatives of the responses per layer, for curvature.

        Returns ``(J, H)`` per layer with ``J[m, n, a] = ∂_a r_n`` and
        ``H[m, n, a, b] = ∂_a ∂_b r_n`` (``a, b`` over the stimulus dimensions, or over the
        tangents' coordinates). This default takes central differences of
        :meth:`layer_jacobians` along each direction, with step
        :math:`h = \varepsilon^{1/3} \max(1, \|x\|_\infty)` (error ~ :math:`h^2`), and
        symmetrises ``H``. Maps with exact second derivatives override it.

        Parameters
        ----------
        x : array, shape (m, *stimulus_shape)
        tangents : array, shape (k, *stimulus_shape), optional

        Returns
        -------
        dict of str to (ndarray (m, n, k), ndarray (m, n, k, k)), float64
        """
        pts = as_points(x, dtype=torch.float64).cpu().numpy()
        stim = pts.shape[1:]
        d = int(np.prod(stim))
        T = (
            np.eye(d).reshape(d, *stim)
            if tangents is None
            else check_tangents(tangents, tuple(stim), orthonormal=False)
        )
        m, k = len(pts), len(T)
        h = np.cbrt(np.finfo(np.float64).eps) * np.maximum(
            1.0, np.abs(pts.reshape(m, -1)).max(axis=1)
        )
        shift = h.reshape(m, *[1] * len(stim)) * T[:, None]  # (k, m, *stim)
        steps = np.concatenate([pts[None] + shift, pts[None] - shift]).reshape(2 * k * m, *stim)
        at = self._float64_jacobians(pts, T)
        around = self._float64_jacobians(steps, T)
        jets = {}
        for name, J in at.items():
            n = J.shape[1]
            plus, minus = around[name].reshape(2, k, m, n, k)
            H = np.moveaxis((plus - minus) / (2 * h[None, :, None, None]), 0, -1)
            jets[name] = (J, 0.5 * (H + np.swapaxes(H, -1, -2)))
        return jets

    def layer_vjp(self, x: Any) -> dict[str, tuple[Any, Callable[[Any], Any]]]:
        r"""Responses per layer and their vector–Jacobian products (reverse mode).

        Returns ``(r, pullback)`` per layer: the responses ``r`` ``(m, n)`` at ``x`` and a
        function taking cotangents ``v`` ``(m, n)`` to ``Jᵀv`` ``(m, *stimulus_shape)``,
        the gradient of ``Σᵢ vᵢ · r(xᵢ)`` with respect to each point. Functions of paths
        through many stimulus dimensions (the path energy of
        :func:`~neurogeom.geodesic` through image space) need only these: one forward and
        one backward pass, whatever ``d``. This default contracts :meth:`layer_jacobians`
        (``d`` Jacobian columns per point, so keep ``d`` small); maps with reverse-mode
        derivatives override it (:class:`~neurogeom.TorchResponseMap` by autograd).

        Parameters
        ----------
        x : array, shape (m, *stimulus_shape)

        Returns
        -------
        dict of str to (array (m, n), callable)
            The pullback may be called more than once; it returns the kind of array ``x``
            is (numpy in, numpy out).

        Examples
        --------
        >>> import numpy as np, torch, neurogeom as ng
        >>> rm = ng.TorchResponseMap(lambda x: x**2, dtype=torch.float64)
        >>> r, pullback = rm.layer_vjp(np.array([[1.0, 2.0]]))["output"]
        >>> pullback(np.array([[1.0, 1.0]]))          # ∇ Σ x² = 2x
        array([[2., 4.]])
        """
        pts = as_points(x, dtype=torch.float64)
        stim = tuple(pts.shape[1:])
        responses = self.layer_responses(x)
        jacobians = self.layer_jacobians(x)
        out: dict[str, tuple[Any, Callable[[Any], Any]]] = {}
        for name, r in responses.items():
            J = to_tensor(jacobians[name]).to(torch.float64)

            def pullback(v: Any, J: torch.Tensor = J) -> Any:
                v_ = check_cotangents(v, tuple(J.shape[:2]))
                return like(torch.einsum("mnd,mn->md", J, v_).reshape(-1, *stim), x)

            out[name] = (r, pullback)
        return out

    def _float64_jacobians(self, pts: np.ndarray, T: np.ndarray) -> dict[str, np.ndarray]:
        return {
            name: np.asarray(to_tensor(J).to(torch.float64).cpu().numpy())
            for name, J in self.layer_jacobians(pts, T).items()
        }

    def unwrap_layers(self, per_layer: dict[str, Any]) -> Any:
        """``per_layer`` as the public methods return it: the dict, or its one value.

        The dict when :attr:`returns_dict` (several layers were asked for), else the value
        of the only layer. Functions that compute per layer (curvature, say) return through
        this, as :meth:`responses`, :meth:`jacobian` and :meth:`metric` do.

        Parameters
        ----------
        per_layer : dict
            Layer name -> a value.

        Returns
        -------
        dict or value

        Examples
        --------
        >>> import torch, neurogeom as ng
        >>> ng.TorchResponseMap(torch.tanh).unwrap_layers({"out": 1.0})
        1.0
        """
        return per_layer if self.returns_dict else next(iter(per_layer.values()))

    def responses(self, x: Any) -> Any:
        """Responses at points ``x``.

        Parameters
        ----------
        x : array, shape (m, *stimulus_shape)

        Returns
        -------
        array, shape (m, n), or dict of them by layer name
        """
        return self.unwrap_layers(self.layer_responses(x))

    def jacobian(self, x: Any, tangents: Any = None) -> Any:
        """Jacobians of the responses at points ``x``.

        Parameters
        ----------
        x : array, shape (m, *stimulus_shape)
        tangents : array, shape (k, *stimulus_shape), optional
            Directions in stimulus space; the result is then ``J @ tangents.T``, computed
            without forming the full Jacobian where the map allows.

        Returns
        -------
        array, shape (m, n, d) or (m, n, k), or dict of them by layer name
            ``d`` is the flattened stimulus size.
        """
        return self.unwrap_layers(self.layer_jacobians(x, tangents))

    def metric(self, x: Any, tangents: Any = None, *, scale: Scale = "none") -> Any:
        """Pullback metric at points ``x``, or the metric induced on ``span(tangents)``.

        Parameters
        ----------
        x : array, shape (m, *stimulus_shape)
        tangents : array, shape (k, *stimulus_shape), optional
            Orthonormal rows (others raise ParameterError, see
            :func:`~neurogeom.slices.check_tangents`); the result is ``T g Tᵀ``, the metric induced on
            the slice they span, computed from ``k`` Jacobian-vector products.
        scale : {"none", "width"}
            ``"width"`` divides by the number of responses (the seed's convention).

        Returns
        -------
        array, shape (m, d, d) or (m, k, k), or dict of them by layer name
        """
        if tangents is not None:  # the one tangent rule, for every map kind
            check_tangents(tangents, tuple(np.shape(as_array(x, "points"))[1:]))
        return self.unwrap_layers(self.layer_metrics(x, tangents, scale=scale))
