"""The :class:`ResponseMap` interface shared by networks and sampled recordings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from .._arrays import as_array
from ..geometry.metric import Scale, pullback_metric
from ..slices import check_tangents

__all__ = ["ResponseMap"]


class ResponseMap(ABC):
    """A map from stimuli to population responses whose Jacobians can be measured.

    Subclasses implement :meth:`layer_responses` and :meth:`layer_jacobians`, which always
    return one entry per measured layer; the public :meth:`responses`, :meth:`jacobian`
    and :meth:`metric` return a plain array when the map measures a single layer and a
    dict keyed by layer name when it measures several.

    Points are arrays whose first axis indexes points and whose remaining axes have the
    stimulus shape (a vector, or an image ``C x H x W``). Tangents have shape
    ``(k, *stimulus_shape)``. Arrays in, same kind out: numpy gives numpy, torch gives
    torch on the same device.
    """

    #: Names of the measured layers, in order.
    layers: tuple[str, ...]
    #: Whether the public methods return dicts (several layers were asked for).
    returns_dict: bool = False
    #: Whether :meth:`layer_metrics` is exactly ``JᵀJ`` of :meth:`layer_jacobians`, so that
    #: spectra may be taken from the smaller Gram matrix ``JJᵀ``. Maps that correct or
    #: whiten their metric set this to False.
    metric_is_pullback: bool = True

    @abstractmethod
    def layer_responses(self, x: Any) -> dict[str, Any]:
        """Responses per layer, each of shape ``(m, n_layer)``."""

    @abstractmethod
    def layer_jacobians(self, x: Any, tangents: Any = None) -> dict[str, Any]:
        """Jacobians per layer, each ``(m, n_layer, d)``, or ``(m, n_layer, k)`` with tangents."""

    def layer_metrics(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, Any]:
        """Metrics per layer, each ``(m, d, d)``, or ``(m, k, k)`` with tangents."""
        jac = self.layer_jacobians(x, tangents)
        return {name: pullback_metric(J, scale=scale) for name, J in jac.items()}

    def layer_metric_resamples(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, Any] | None:
        """Resampled metric estimates per layer, each ``(B, m, d, d)`` or ``(B, m, k, k)``.

        Maps that estimate geometry from data (e.g. a bootstrap over trials) return them so
        that :func:`~neurogeom.geometry` can add confidence intervals; exact maps return None.
        """
        return None

    def point_flags(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, Any] | None:
        """Per-point diagnostics of an estimated map (name → ``(m,)`` array), or None.

        Estimated maps report e.g. ``indefinite`` (a bias-corrected metric that is not
        positive definite) and ``outside`` (extrapolation); exact maps return None, and
        their metrics are then required to be positive semidefinite.
        """
        return None

    def _unwrap(self, per_layer: dict[str, Any]) -> Any:
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
        return self._unwrap(self.layer_responses(x))

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
        return self._unwrap(self.layer_jacobians(x, tangents))

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
        return self._unwrap(self.layer_metrics(x, tangents, scale=scale))
