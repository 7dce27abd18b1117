"""Exact Jacobians of torch networks with ``torch.func``."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd

from .._arrays import as_points, check_cotangents, check_finite, is_torch, like, to_tensor
from ..errors import (
    InputTypeError,
    LayerError,
    ModelError,
    NeurogeomError,
    ParameterError,
    ShapeError,
)
from ..riemann.curvature import embedding_jet, metric_jet
from ..riemann.iterative import MetricOperator
from ..riemann.metric import SCALES, Scale, check_scale
from ..slices import check_tangents
from .base import ResponseMap

__all__ = ["TorchResponseMap"]

Mode = Literal["auto", "forward", "reverse"]
OUTPUT = "output"


_MEASURE_LOCK = threading.RLock()


class _StopForward(Exception):
    """Raised by a hook once every requested layer has been captured."""


class TorchResponseMap(ResponseMap):
    """Response map of a torch network, with exact Jacobians by ``torch.func``.

    Parameters
    ----------
    model : nn.Module or callable
        Takes a batch of stimuli ``(m, *stimulus_shape)`` and returns a batch of outputs.
        Samples must not interact (the module is put in eval mode while measuring, so
        batch norm uses its running statistics).
    layers : str, sequence of str, or None
        Module paths as in ``model.named_modules()`` (e.g. ``"layer3.1"``) whose outputs are
        measured, all in one forward pass that stops after the last of them. ``None``
        measures the model's output. A sequence (even of one name) makes the public
        methods return dicts keyed by layer name.
    dtype : torch.dtype, optional
        Compute in this floating dtype (e.g. ``torch.float64``) without modifying the
        model; default the model's parameter dtype. A parameter-free callable (a closure,
        a lambda) computes in the dtype of the points it is given (integer and boolean
        points become float64). Metrics and log-volumes are accumulated in float64
        whatever the dtype.
    device : torch.device or str, optional
        Where to compute; default the device of the model's parameters (CPU for callables).
    chunk_size : int
        Largest number of (point, direction) pairs pushed through the network at once.
        Memory grows with it like the batch size of a forward pass grows memory.
    mode : {"auto", "forward", "reverse"}
        Forward mode pushes one tangent per input direction (cost ~ d or k passes),
        reverse mode pulls back one cotangent per response (~ n passes); ``"auto"``
        picks the side that is smaller.
    stimulus_shape : tuple of int, optional
        The shape of one stimulus (e.g. ``(3, 32, 32)``); points of another shape are then
        refused with a :class:`~neurogeom.errors.ShapeError` before the model runs.

    Examples
    --------
    >>> import torch, numpy as np
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    >>> rm = TorchResponseMap(net, layers="1", dtype=torch.float64)
    >>> x = np.zeros((4, 2))
    >>> rm.jacobian(x).shape
    (4, 3, 2)
    >>> rm.metric(x, tangents=np.array([[1.0, 0.0]])).shape
    (4, 1, 1)
    """

    def __init__(
        self,
        model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
        layers: str | Sequence[str] | None = None,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        chunk_size: int = 4096,
        mode: Mode = "auto",
        stimulus_shape: Sequence[int] | None = None,
    ) -> None:
        if not callable(model):
            raise InputTypeError(
                f"model must be an nn.Module or a callable; got {type(model).__name__}."
            )
        if mode not in ("auto", "forward", "reverse"):
            raise ParameterError(f"mode={mode!r}; use 'auto', 'forward' or 'reverse'.")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise ParameterError(f"chunk_size={chunk_size!r} must be a positive integer.")
        if chunk_size < 1:
            raise ParameterError(f"chunk_size={chunk_size} must be a positive integer.")
        self.model = model
        self.returns_dict = layers is not None and not isinstance(layers, str)
        self._modules = self._resolve_layers(model, layers)
        self.layers = tuple(self._modules) if self._modules else (OUTPUT,)
        self.dtype: torch.dtype | None = dtype or _param_attr(model, "dtype", None)
        if self.dtype is not None and not (
            isinstance(self.dtype, torch.dtype) and self.dtype.is_floating_point
        ):
            raise InputTypeError(f"dtype must be a floating torch dtype; got {self.dtype!r}.")
        self.stimulus_shape = None if stimulus_shape is None else tuple(map(int, stimulus_shape))
        self.device = (
            torch.device(device)
            if device is not None
            else _param_attr(model, "device", torch.device("cpu"))
        )
        self.chunk_size = int(chunk_size)
        self.mode = mode

    # -- construction helpers -------------------------------------------------------------
    @staticmethod
    def _resolve_layers(model: Any, layers: str | Sequence[str] | None) -> dict[str, nn.Module]:
        if layers is None:
            return {}
        names = [layers] if isinstance(layers, str) else list(layers)
        if not isinstance(model, nn.Module):
            raise LayerError(
                f"layers={names!r} needs an nn.Module to look them up; a plain callable "
                "only exposes its output (use layers=None)."
            )
        if not names or len(set(names)) != len(names):
            raise ParameterError(f"layers must be distinct module names; got {names!r}.")
        available = dict(model.named_modules())
        missing = [n for n in names if n not in available or n == ""]
        if missing:
            valid = [n for n in available if n]
            raise LayerError(
                f"no layer named {missing[0]!r} in {type(model).__name__}. "
                f"Valid names: {', '.join(valid)}."
            )
        return {n: available[n] for n in names}

    # -- forward pass ------------------------------------------------------------------------
    def _call(self, x: torch.Tensor) -> Any:
        model = self.model
        dtype = self.dtype or x.dtype
        if isinstance(model, nn.Module) and _needs_cast(model, dtype, self.device):
            state = {
                k: v.to(device=self.device, dtype=dtype) if v.is_floating_point() else v
                for k, v in (*model.named_parameters(), *model.named_buffers())
            }
            return torch.func.functional_call(model, state, (x,))
        return model(x)

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Flattened responses ``(m, n_layer)`` of every measured layer."""
        m = x.shape[0]
        if not self._modules:
            return (_flatten_output(self._call(x), OUTPUT, m),)
        captured: dict[str, Any] = {}
        handles = [
            mod.register_forward_hook(self._hook(name, captured))
            for name, mod in self._modules.items()
        ]
        try:
            self._call(x)
        except _StopForward:
            pass
        finally:
            for h in handles:
                h.remove()
        return tuple(_flatten_output(captured[name], name, m) for name in self._modules)

    def _hook(self, name: str, captured: dict[str, Any]) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            captured.setdefault(name, output)
            if len(captured) == len(self._modules):
                raise _StopForward

        return hook

    @contextmanager
    def _measuring(self, graph: bool = False) -> Iterator[None]:
        """Eval mode and no graph (unless ``graph``), restoring the training flags afterwards.

        Measurements take turns within a process: torch.func's forward-mode levels are
        not safe across threads, and the measured module carries hooks meanwhile.
        """
        model = self.model
        with _MEASURE_LOCK, torch.enable_grad() if graph else torch.no_grad():
            if not isinstance(model, nn.Module):
                yield
                return
            flags = {mod: mod.training for mod in model.modules()}
            model.eval()
            try:
                yield
            finally:
                for mod, flag in flags.items():
                    mod.training = flag

    # -- inputs -------------------------------------------------------------------------------
    def _points(self, x: Any) -> torch.Tensor:
        """Points through the package's one intake (:func:`neurogeom._arrays.as_points`)."""
        return as_points(
            x, dtype=self.dtype, device=self.device, stimulus_shape=self.stimulus_shape
        )

    def _tangents(
        self, tangents: Any, points: torch.Tensor, *, orthonormal: bool = True
    ) -> torch.Tensor:
        """Tangents by the package's one rule (:func:`neurogeom.slices.check_tangents`)."""
        T = check_tangents(tangents, tuple(points.shape[1:]), orthonormal=orthonormal)
        return to_tensor(T, dtype=points.dtype, device=self.device)

    def _probe(self, pts: torch.Tensor) -> list[int]:
        """Widths of the measured layers, from one forward pass on the first point.

        A model that fails on these points raises a :class:`~neurogeom.errors.ShapeError`
        when the first layer's declared input disagrees with the points' shape, else a
        :class:`~neurogeom.errors.ModelError`; both name the given shape and dtype.
        """
        try:
            outs = self._forward(pts[:1])
        except (RuntimeError, ValueError, TypeError, IndexError) as err:
            if isinstance(err, NeurogeomError):
                raise
            given = f"points of stimulus shape {tuple(pts.shape[1:])} and dtype {pts.dtype}"
            expected = _expected_input(self.model)
            if expected is not None and expected[0](tuple(pts.shape[1:])):
                # the whole array fits as one stimulus: its point axis is missing
                forgot_axis = not expected[0](tuple(pts.shape))
                one = " (a single stimulus needs its point axis: x[None])" if forgot_axis else ""
                raise ShapeError(
                    f"the model cannot take {given}: {expected[1]}. Reshape the points to "
                    f"(m, *stimulus_shape) as the model expects{one}. (The model said: {err})"
                ) from err
            raise ModelError(
                f"the model raised {type(err).__name__} on {given}: {err}. Check that the "
                "points have the stimulus shape and dtype the model expects (pass dtype= "
                "to the map to compute in another dtype)."
            ) from err
        return [o.shape[1] for o in outs]

    def _probed_points(self, x: Any) -> torch.Tensor:
        """:meth:`_points`, checked by one forward pass (:meth:`_probe`) before any is used.

        For paths that differentiate the model through ``torch.func`` (curvature, metric
        fields), where a raw error of the model would otherwise surface mid-transform.
        """
        pts = self._points(x)
        with self._measuring():
            self._probe(pts)
        return pts

    # -- public per-layer API --------------------------------------------------------------------
    def layer_responses(self, x: Any) -> dict[str, Any]:
        """Responses per layer, each ``(m, n_layer)``; see :meth:`responses`."""
        pts = self._points(x)
        with self._measuring():
            self._probe(pts)
            outs = [self._forward(chunk) for chunk in pts.split(self.chunk_size)]
        per_layer = {name: torch.cat([o[i] for o in outs]) for i, name in enumerate(self.layers)}
        for name, r in per_layer.items():
            _check_model_output(r, f"responses of layer {name!r}")
        return {name: like(r, x) for name, r in per_layer.items()}

    def layer_vjp(self, x: Any) -> dict[str, tuple[Any, Callable[[Any], Any]]]:
        """Responses per layer and their vector–Jacobian products, by autograd.

        Overrides :meth:`ResponseMap.layer_vjp` (same shapes) with one forward pass that
        records the graph, in chunks of ``chunk_size`` points, and one backward pass per
        call of a pullback. Memory holds the forward pass's activations until the
        pullbacks are dropped.

        Examples
        --------
        >>> import numpy as np, torch
        >>> rm = TorchResponseMap(lambda x: x.sin(), dtype=torch.float64)
        >>> r, pullback = rm.layer_vjp(np.zeros((1, 2)))["output"]
        >>> pullback(np.array([[1.0, 2.0]]))          # cos 0 = 1
        array([[1., 2.]])
        """
        pts = self._points(x)
        chunks = []
        with self._measuring(graph=True):
            self._probe(pts)
            for chunk in pts.split(self.chunk_size):
                chunk = chunk.detach().requires_grad_(True)
                chunks.append((chunk, self._forward(chunk)))
        out: dict[str, tuple[Any, Callable[[Any], Any]]] = {}
        for i, name in enumerate(self.layers):
            r = torch.cat([outs[i] for _, outs in chunks])
            _check_model_output(r.detach(), f"responses of layer {name!r}")

            def pullback(v: Any, i: int = i, r: torch.Tensor = r) -> Any:
                v_ = check_cotangents(v, tuple(r.shape), dtype=r.dtype).to(r.device)
                grads = []
                for (chunk, outs), part in zip(chunks, v_.split(self.chunk_size), strict=True):
                    (g,) = torch.autograd.grad(
                        outs[i], chunk, part, retain_graph=True, allow_unused=True
                    )
                    grads.append(torch.zeros_like(chunk) if g is None else g)
                return like(torch.cat(grads).detach(), x)

            out[name] = (like(r.detach(), x), pullback)
        return out

    def layer_jacobians(self, x: Any, tangents: Any = None) -> dict[str, Any]:
        """Jacobians per layer, ``(m, n_layer, d)`` or ``(m, n_layer, k)``; see :meth:`jacobian`."""
        pts = self._points(x)
        T = None if tangents is None else self._tangents(tangents, pts, orthonormal=False)
        blocks = [block for _, block in self._transposed_jacobians(pts, T)]
        return {
            name: like(torch.cat([b[i] for b in blocks]).mT, x)
            for i, name in enumerate(self.layers)
        }

    def layer_metrics(
        self, x: Any, tangents: Any = None, *, scale: Scale = "none"
    ) -> dict[str, Any]:
        """Metrics ``JᵀJ`` per layer, ``(m, d, d)`` or ``(m, k, k)``; see :meth:`metric`.

        Accumulated in float64 whatever the map's dtype (so they are positive semidefinite
        to float64 rounding), block by block from the Jacobians in the layout the products
        produce: the full set of Jacobians is never held or transposed in memory.
        """
        check_scale(scale)
        pts = self._points(x)
        T = None if tangents is None else self._tangents(tangents, pts)
        metrics: list[torch.Tensor] = []
        for start, block in self._transposed_jacobians(pts, T):
            if not metrics:  # written in place: no per-block copies to concatenate
                m = pts.shape[0]
                metrics = [
                    JT.new_empty((m, JT.shape[1], JT.shape[1]), dtype=torch.float64) for JT in block
                ]
            stop = start + block[0].shape[0]
            for g, JT in zip(metrics, block):
                J64 = JT.to(torch.float64)
                torch.matmul(J64, J64.mT, out=g[start:stop])
                if scale == "width":
                    g[start:stop] /= JT.shape[-1]
        return {name: like(g, x) for name, g in zip(self.layers, metrics)}

    def _transposed_jacobians(
        self, pts: torch.Tensor, T: torch.Tensor | None
    ) -> Iterator[tuple[int, tuple[torch.Tensor, ...]]]:
        """For each block of points, its start and ``Jᵀ`` (or ``T Jᵀ``) of every layer.

        Each layer's block has shape ``(m_block, k, n)``. A block in which the model
        produced NaN or inf raises :class:`~neurogeom.errors.NonFiniteError` naming the
        point's index in ``pts``. ``T`` are validated tangents (or None).
        """
        with self._measuring():
            widths = self._probe(pts)
            k = math.prod(pts.shape[1:]) if T is None else T.shape[0]
            forward = self.mode == "forward" or (self.mode == "auto" and k <= sum(widths))
            step = max(1, self.chunk_size // (k if forward else sum(widths)))
            for start in range(0, len(pts), step):
                # own storage: forward AD sizes its zero tangents by the primal's whole base
                chunk = pts[start : start + step].clone()
                if forward:
                    block = self._jacobian_forward(chunk, T)
                else:
                    block = self._jacobian_reverse(chunk, T, widths)
                for name, JT in zip(self.layers, block):
                    _check_model_output(JT, f"the Jacobian of layer {name!r}", offset=start)
                yield start, block

    # -- the two modes -----------------------------------------------------------------------------
    def _directions_per_pass(self, total: int, m: int) -> int | None:
        per = max(1, self.chunk_size // m)
        return None if per >= total else per

    def _jacobian_forward(
        self, x: torch.Tensor, T: torch.Tensor | None
    ) -> tuple[torch.Tensor, ...]:
        """``T Jᵀ`` (or ``Jᵀ``) by one Jacobian-vector product per direction, all points at once."""
        m, stim = x.shape[0], x.shape[1:]
        if T is None:
            d = math.prod(stim)
            T = torch.eye(d, dtype=x.dtype, device=x.device).reshape(d, *stim)
        V = T.unsqueeze(1).expand(T.shape[0], *x.shape)

        def push(v: torch.Tensor) -> tuple[torch.Tensor, ...]:
            return torch.func.jvp(self._forward, (x,), (v,))[1]

        outs = torch.func.vmap(push, chunk_size=self._directions_per_pass(T.shape[0], m))(V)
        return tuple(o.permute(1, 0, 2) for o in outs)  # (k, m, n) -> (m, k, n), a view

    def _jacobian_reverse(
        self, x: torch.Tensor, T: torch.Tensor | None, widths: list[int]
    ) -> tuple[torch.Tensor, ...]:
        """``Jᵀ`` by one vector-Jacobian product per response unit, then ``T Jᵀ`` if asked."""
        m, total = x.shape[0], sum(widths)

        def concat(z: torch.Tensor) -> torch.Tensor:
            return torch.cat(self._forward(z), dim=1)

        pull = torch.func.vjp(concat, x)[1]
        eye = torch.eye(total, dtype=x.dtype, device=x.device)
        U = eye.unsqueeze(1).expand(total, m, total)
        (rows,) = torch.func.vmap(pull, chunk_size=self._directions_per_pass(total, m))(U)
        JT = rows.reshape(total, m, -1).permute(1, 2, 0)  # (m, d, n)
        if T is not None:
            JT = T.reshape(T.shape[0], -1) @ JT
        return tuple(JT.split(widths, dim=2))

    def __repr__(self) -> str:
        name = type(self.model).__name__
        return f"TorchResponseMap({name}, layers={list(self.layers)}, dtype={self.dtype}, device={self.device})"

    # -- second derivatives (the protocol's jets) and precision --------------------------------------
    def with_dtype(self, dtype: torch.dtype) -> TorchResponseMap:
        """The same map computing in ``dtype`` (the model is not modified).

        Examples
        --------
        >>> import torch
        >>> TorchResponseMap(torch.nn.Linear(2, 1)).with_dtype(torch.float64).dtype
        torch.float64
        """
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise InputTypeError(f"dtype must be a floating torch dtype; got {dtype!r}.")
        import copy

        mapper = copy.copy(self)
        mapper.dtype = dtype
        return mapper

    def layer_jets(self, x: Any, tangents: Any = None) -> dict[str, tuple[Any, Any]]:
        """Exact Jacobians and second derivatives per layer, by nested forward-mode autodiff.

        Overrides :meth:`ResponseMap.layer_jets` (same shapes: ``J`` ``(m, n, k)``, ``H``
        ``(m, n, k, k)``) with ``torch.func`` jets of each layer's responses as a function
        of the coordinates along ``tangents`` (or of the flattened stimulus), computed in
        the map's dtype, ``chunk_size`` bounding the (point, direction pair) work at once.

        Examples
        --------
        >>> import numpy as np, torch
        >>> rm = TorchResponseMap(lambda x: x**2, dtype=torch.float64)
        >>> J, H = rm.layer_jets(np.ones((1, 2)))["output"]
        >>> H[0, 1].tolist()            # ∂²(x₁²) = 2 on the diagonal
        [[0.0, 0.0], [0.0, 2.0]]
        """
        jets = self._jets(
            x,
            tangents,
            lambda m, T, origin: lambda x0: embedding_jet(m._response_field(x0, T, "none"), origin),
            power=2,
            orthonormal=False,
        )
        for layer, (J, H) in jets.items():
            _check_model_output(to_tensor(J), f"the Jacobian of layer {layer!r}")
            _check_model_output(to_tensor(H), f"the second derivatives of layer {layer!r}")
        return jets

    def _jets(
        self,
        x: Any,
        tangents: Any,
        make: Callable[[TorchResponseMap, torch.Tensor, torch.Tensor], Callable[..., Any]],
        *,
        power: int,
        orthonormal: bool,
    ) -> dict[str, Any]:
        """Per layer, ``vmap`` of the per-point jet ``make(mapper, T, origin)`` over ``x``.

        ``k**power`` is the cost of one point in (point, direction) pairs, which
        ``chunk_size`` bounds.
        """
        out: dict[str, Any] = {}
        for layer in self.layers:
            mapper = self._field_mapper(layer, None)
            pts = mapper._probed_points(x)
            T = mapper._field_tangents(tangents, pts, orthonormal=orthonormal)
            origin = torch.zeros(T.shape[0], dtype=pts.dtype, device=mapper.device)
            jet = make(mapper, T, origin)
            step = max(1, self.chunk_size // T.shape[0] ** power)
            with mapper._measuring():
                parts = [torch.func.vmap(jet)(chunk) for chunk in pts.split(step)]
            out[layer] = tuple(
                like(torch.cat([p[i] for p in parts]), x) for i in range(len(parts[0]))
            )
        return out

    def metric_jets(
        self, x: Any, tangents: Any = None, *, order: int = 2, scale: Scale = "none"
    ) -> dict[str, tuple[Any, ...]]:
        """The metric field and its exact derivatives per layer (an independent curvature route).

        Returns ``(g, ∂g, ∂²g)`` per layer (``∂²g`` only for ``order=2``), shapes
        ``(m, k, k)``, ``(m, k, k, k)``, ``(m, k, k, k, k)``: third derivatives of the network
        through :meth:`metric_field`, for
        :func:`~neurogeom.riemann.curvature_from_jets` (used by curvature with
        ``method="metric"``).

        Examples
        --------
        >>> import numpy as np, torch
        >>> rm = TorchResponseMap(lambda x: 3.0 * x, dtype=torch.float64)
        >>> g, dg = rm.metric_jets(np.zeros((1, 2)), order=1)["output"]
        >>> g[0].tolist(), float(abs(dg).max())
        ([[9.0, 0.0], [0.0, 9.0]], 0.0)
        """
        check_scale(scale)
        return self._jets(
            x,
            tangents,
            lambda m, T, origin: (
                lambda x0: metric_jet(m._metric_field(x0, T, scale), origin, order)
            ),
            power=order + 2,
            orthonormal=True,
        )

    # -- metric fields (curvature) -----------------------------------------------------------------
    def metric_field(
        self,
        x0: Any,
        tangents: Any = None,
        *,
        layer: str | None = None,
        scale: str = "none",
        dtype: torch.dtype | None = None,
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """The metric as a differentiable function of coordinates around one stimulus.

        Returns ``field(c) = g`` for the stimulus ``x0 + Σᵢ cᵢ Tᵢ``: with tangents ``T`` the
        metric induced on their span (``k`` coordinates), without them the full-space metric
        (``c`` are offsets of the flattened stimulus, ``T`` the identity). The field runs the
        model in eval mode without an autograd graph; differentiate it with forward mode
        (``torch.func.jacfwd``, as ``neurogeom.riemann.curvature`` does), nest freely,
        and ``vmap`` it over ``c``.

        Parameters
        ----------
        x0 : array, shape stimulus_shape
            One stimulus (no point axis).
        tangents : array, shape (k, *stimulus_shape), optional
            Directions spanning the slice (orthonormal for Euclidean slice coordinates).
        layer : str, optional
            Which measured layer; required when the map measures several.
        scale : {"none", "width"}
            ``"width"`` divides the metric by the layer's number of units.
        dtype : torch.dtype, optional
            Compute in this dtype (e.g. ``torch.float64`` for curvature); default the map's.

        Returns
        -------
        callable
            ``c`` (Tensor ``(k,)`` of ``dtype`` on the map's device) ``↦ g`` ``(k, k)``.

        Examples
        --------
        >>> import torch, numpy as np
        >>> rm = TorchResponseMap(lambda x: 3.0 * x)
        >>> field = rm.metric_field(np.zeros(2), dtype=torch.float64)
        >>> field(torch.zeros(2, dtype=torch.float64))
        tensor([[9., 0.],
                [0., 9.]], dtype=torch.float64)
        """

        mapper, x, T = self._field_at(x0, tangents, layer, scale, dtype)
        return mapper._metric_field(x, T, scale)

    def _field_at(
        self, x0: Any, tangents: Any, layer: str | None, scale: str, dtype: torch.dtype | None
    ) -> tuple[TorchResponseMap, torch.Tensor, torch.Tensor]:
        """The one-layer map, the checked stimulus and tangents of a field around ``x0``."""
        check_scale(scale)
        mapper = self._field_mapper(layer, dtype)
        pts = mapper._probed_points(_one_point(x0))
        return mapper, pts[0], mapper._field_tangents(tangents, pts)

    def _field_mapper(self, layer: str | None, dtype: torch.dtype | None) -> TorchResponseMap:
        """A shallow copy measuring only ``layer`` (default: the only one) in ``dtype``."""
        import copy

        if layer is None:
            if len(self.layers) > 1:
                raise LayerError(
                    f"this map measures {len(self.layers)} layers; pick one with layer=..., "
                    f"one of: {', '.join(self.layers)}."
                )
            layer = self.layers[0]
        if layer not in self.layers:
            raise LayerError(
                f"layer {layer!r} is not measured by this map; measured: {', '.join(self.layers)}."
            )
        mapper = copy.copy(self) if dtype is None else self.with_dtype(dtype)
        if self._modules:
            mapper._modules = {layer: self._modules[layer]}
            mapper.layers = (layer,)
        return mapper

    def _field_tangents(
        self, tangents: Any, pts: torch.Tensor, *, orthonormal: bool = True
    ) -> torch.Tensor:
        """Validated tangents ``(k, *stim)``, or the identity basis of the stimulus space."""
        if tangents is not None:
            return self._tangents(tangents, pts, orthonormal=orthonormal)
        d = math.prod(pts.shape[1:])
        return torch.eye(d, dtype=pts.dtype, device=self.device).reshape(d, *pts.shape[1:])

    def response_field(
        self,
        x0: Any,
        tangents: Any = None,
        *,
        layer: str | None = None,
        scale: str = "none",
        dtype: torch.dtype | None = None,
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """The responses as a differentiable function of coordinates around one stimulus.

        Returns ``r(c)``, the flattened responses ``(n,)`` of one layer to the stimulus
        ``x0 + Σᵢ cᵢ Tᵢ``; its pullback metric is :meth:`metric_field`. Same parameters and
        evaluation rules as :meth:`metric_field` (``scale="width"`` divides ``r`` by ``√n``,
        so that the metric is divided by ``n``).

        Examples
        --------
        >>> import torch, numpy as np
        >>> rm = TorchResponseMap(lambda x: 3.0 * x)
        >>> rm.response_field(np.ones(2), dtype=torch.float64)(torch.tensor([1.0, 0.0]).double())
        tensor([6., 3.], dtype=torch.float64)
        """

        mapper, x, T = self._field_at(x0, tangents, layer, scale, dtype)
        return mapper._response_field(x, T, scale)

    def _response_field(
        self, x0: torch.Tensor, T: torch.Tensor, scale: str
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """``c ↦ r(x0 + c·T)`` for the first measured layer; pure torch (vmap-safe)."""

        def responses(c: torch.Tensor) -> torch.Tensor:
            with self._measuring():
                r = self._forward((x0 + torch.tensordot(c, T, dims=1))[None])[0][0]
            return r / math.sqrt(r.shape[0]) if scale == "width" else r

        return responses

    def _metric_field(
        self, x0: torch.Tensor, T: torch.Tensor, scale: str
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """``c ↦ g`` at ``x0 + c·T`` for the first measured layer; pure torch (vmap-safe)."""
        responses = self._response_field(x0, T, scale)

        def field(c: torch.Tensor) -> torch.Tensor:
            J = torch.func.jacfwd(responses)(c)
            g = J.mT @ J
            return 0.5 * (g + g.mT)

        return field

    def metric_operator(
        self, x: Any, layer: str | None = None, *, scale: Scale = "none"
    ) -> MetricOperator:
        r"""Matrix-free products with the full-space metric :math:`g = J^\top J` at points ``x``.

        Each product :math:`v \mapsto J^\top (J v)` is one Jacobian-vector product followed
        by one vector-Jacobian product, batched over points and vectors, so the ``d × d``
        metric is never formed. Feed the result to
        :func:`~neurogeom.riemann.iterative.top_eigenvalues`,
        :func:`~neurogeom.riemann.iterative.stochastic_logdet` or
        :func:`~neurogeom.riemann.iterative.iterative_log_volume`.

        Parameters
        ----------
        x : array, shape (m, *stimulus_shape)
            Points; kept by the operator.
        layer : str, optional
            Which measured layer; required when the map measures several.
        scale : {"none", "width"}
            ``"width"`` divides the metric by the layer's number of responses.

        Returns
        -------
        MetricOperator
            Acting on float64 vectors ``(m, b, d)``, ``d`` the flattened stimulus size.

        Examples
        --------
        >>> import torch
        >>> from neurogeom.riemann.iterative import top_eigenvalues
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2))
        >>> rm = TorchResponseMap(net, dtype=torch.float64)
        >>> op = rm.metric_operator(torch.zeros(4, 3, dtype=torch.float64))
        >>> W = net[0].weight.detach().double()
        >>> eig = top_eigenvalues(op, 2).eigenvalues
        >>> bool(torch.allclose(eig[0], torch.linalg.eigvalsh(W.T @ W).flip(0)[:2]))
        True
        """
        if scale not in SCALES:
            raise ParameterError(f"scale={scale!r}; use one of {SCALES}.")
        if layer is None and len(self.layers) != 1:
            raise LayerError(f"this map measures {list(self.layers)}; pass layer= one of them.")
        name = self.layers[0] if layer is None else layer
        if name not in self.layers:
            raise LayerError(f"layer {name!r} is not measured; choose one of {list(self.layers)}.")
        idx = self.layers.index(name)
        pts = self._points(x)
        stim, d = tuple(pts.shape[1:]), math.prod(pts.shape[1:])
        with self._measuring():
            n = self._probe(pts)[idx]
        factor = 1.0 / n if scale == "width" else 1.0

        def f(z: torch.Tensor) -> torch.Tensor:
            return self._forward(z)[idx]

        def product(xs: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
            b, ms = V.shape[1], xs.shape[0]
            tangents = V.to(xs.dtype).permute(1, 0, 2).reshape(b, ms, *stim)
            pull = torch.func.vjp(f, xs)[1]

            def one(v: torch.Tensor) -> torch.Tensor:
                return pull(torch.func.jvp(f, (xs,), (v,))[1])[0]

            G = torch.func.vmap(one)(tangents)
            return G.reshape(b, ms, d).permute(1, 0, 2)

        def matvec(V: torch.Tensor) -> torch.Tensor:
            step = max(1, self.chunk_size // max(1, V.shape[1]))
            with self._measuring():
                parts = [
                    product(pts[s : s + step], V[s : s + step]) for s in range(0, len(pts), step)
                ]
            return torch.cat(parts).to(torch.float64) * factor

        return MetricOperator(matvec, pts.shape[0], d, self.device)


def _one_point(x0: Any) -> Any:
    """One stimulus (no point axis) as a batch of one."""
    x = x0 if isinstance(x0, torch.Tensor) else np.asarray(x0)
    return x[None] if x.ndim >= 1 else x.reshape(1, 1)


def _check_model_output(value: torch.Tensor, what: str, offset: int = 0) -> None:
    """NaN or inf that the model produced: an error naming the point and the dtype."""
    check_finite(
        value,
        what,
        offset=offset,
        cause="produced by the model",
        hint=f"The model overflowed or divided by zero at those points in {value.dtype}; "
        + ("" if value.dtype == torch.float64 else "try dtype=torch.float64, or ")
        + "keep the points in the model's working range.",
    )


def _expected_input(model: Any) -> tuple[Callable[[tuple[int, ...]], bool], str] | None:
    """What the model's first layer declares about its input, if it is a Linear or Conv.

    Returns a test of a stimulus shape that is True when the shape contradicts the
    declaration, and the declaration in words; None when nothing is declared.
    """
    if not isinstance(model, nn.Module):
        return None
    first = next(
        (m for m in model.modules() if isinstance(m, _ConvNd) or _in_features(m) is not None),
        None,
    )
    n = _in_features(first)
    if n is not None:

        def contradicts_linear(shape: tuple[int, ...]) -> bool:
            return shape[-1] != n

        return contradicts_linear, (
            f"its first layer is {type(first).__name__}({n}, ...), expecting a last axis of "
            f"size {n}"
        )
    if isinstance(first, _ConvNd):
        c, nd = first.in_channels, len(first.kernel_size)

        def contradicts_conv(shape: tuple[int, ...]) -> bool:
            return len(shape) != nd + 1 or shape[0] != c

        spatial = ", ".join(["..."] * nd)
        return contradicts_conv, (
            f"its first layer is {type(first).__name__} with {c} input channels, expecting "
            f"stimuli of shape ({c}, {spatial})"
        )
    return None


def _in_features(module: Any) -> int | None:
    """A linear layer's declared input width (``nn.Linear`` or any module with an int
    ``in_features``, e.g. the model zoo's scaled layers), else None."""
    n = getattr(module, "in_features", None) if isinstance(module, nn.Module) else None
    return n if isinstance(n, int) and not isinstance(module, _ConvNd) else None


def _flatten_output(out: Any, name: str, m: int) -> torch.Tensor:
    if not is_torch(out):
        raise InputTypeError(
            f"layer {name!r} returned {type(out).__name__}, not a tensor; measure a submodule "
            "that returns a single tensor."
        )
    if out.ndim < 1 or out.shape[0] != m:
        raise ShapeError(
            f"layer {name!r} returned shape {tuple(out.shape)} for a batch of {m} points; "
            "the first axis must index points."
        )
    return out.reshape(m, -1)


def _param_attr(model: Any, attr: str, default: Any) -> Any:
    if isinstance(model, nn.Module):
        for p in model.parameters():
            return getattr(p, attr)
    return default


def _needs_cast(model: nn.Module, dtype: torch.dtype, device: torch.device) -> bool:
    tensors = [*model.parameters(), *model.buffers()]
    return any((t.is_floating_point() and t.dtype != dtype) or t.device != device for t in tensors)
