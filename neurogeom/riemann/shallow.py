r"""Closed-form geometry of shallow networks :math:`\Phi_j(x) = \varphi(w_j \cdot x + b_j)/\sqrt n`.

With :math:`z_j = w_j \cdot x + b_j` the Jacobian is
:math:`J_{j\mu} = \varphi'(z_j) w_{j\mu}/\sqrt n`, so the metric is exact in any
dimension ``d`` at a cost of ``O(n d²)`` per point:

.. math:: g = \frac1n \sum_j \varphi'(z_j)^2\, w_j w_j^\top .

For ``d = 2``, with :math:`m_{jk} = w_{j1} w_{k2} - w_{j2} w_{k1}`, Cauchy–Binet gives

.. math:: \det g = \frac1{n^2} \sum_{j<k} \varphi'(z_j)^2 \varphi'(z_k)^2 m_{jk}^2 ,

a sum of non-negative terms evaluated here as a log-sum-exp (so log-volumes far below the
float64 range of :math:`\sqrt{\det g}` are exact), and the Ricci scalar is

.. math:: R = -\frac{\sum_{i,j,k} m_{jk}^2 m_{ij} m_{ik}\, \varphi_i'^2\,
          (\varphi_j'\varphi_j'')(\varphi_k'\varphi_k'')}{n^3 (\det g)^2}

(prefactor −1; the seed's research code used −3, three times too large). The triple sum
is evaluated in ``O(n)`` per point through third moments of the weights.

Activations: ``"sigmoid"``, ``"tanh"``, ``"erf"``, ``"gelu"`` (exact, :math:`z\,\Phi(z)`) and
``"relu"`` (:math:`\varphi'' = 0` almost everywhere, so ``R = 0`` where the metric is
regular). Every quantity is computed from :math:`\log|\varphi'|` and
:math:`\log|\varphi''|`, so saturated units do not underflow.

Arrays in, numpy out (torch ``points`` give a torch result on the same device).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch
from scipy import special

from .._arrays import check_finite, is_torch
from ..errors import InputTypeError, ParameterError, RangeError, ShapeError, SingularMetricError
from .curvature import OnSingular, check_on_singular
from .volume import relative_zero

__all__ = [
    "SHALLOW_ACTIVATIONS",
    "ShallowParameters",
    "activation_derivatives",
    "shallow_log_volume",
    "shallow_metric",
    "shallow_parameters",
    "shallow_ricci_scalar",
]

SHALLOW_ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "erf", "gelu", "relu")
_LOG_2_SQRT_PI = math.log(2.0 / math.sqrt(math.pi))
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_PAIR_BLOCK = 1 << 22  # (points x pairs) evaluated per block of the Cauchy–Binet sum


class ShallowParameters(NamedTuple):
    """Hidden-layer parameters of a shallow net: ``z = weights @ x + biases``."""

    weights: np.ndarray  # (n, d)
    biases: np.ndarray  # (n,)
    activation: str


# -- activation derivatives in log space ------------------------------------------------------
Signed = tuple[np.ndarray, np.ndarray]  # (log |f|, sign f)


def _log_abs(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.abs(x))


def _first(z: np.ndarray, activation: str) -> Signed:
    """``(log|φ′(z)|, sign φ′(z))``."""
    if activation == "sigmoid":
        return -(np.logaddexp(0.0, z) + np.logaddexp(0.0, -z)), np.ones_like(z)
    if activation == "tanh":
        a = np.abs(z)
        return 2.0 * (math.log(2.0) - a - np.log1p(np.exp(-2.0 * a))), np.ones_like(z)
    if activation == "erf":
        return _LOG_2_SQRT_PI - z**2, np.ones_like(z)
    if activation == "gelu":
        return _gelu_first(z)
    if activation == "relu":
        on = z > 0
        return np.where(on, 0.0, -np.inf), on.astype(np.float64)
    raise _unknown(activation)


def _gelu_first(z: np.ndarray) -> Signed:
    """GELU ``φ′ = Φ(z) + z ϕ(z)``; for ``z < 0`` as ``ϕ(z) (z + Φ(z)/ϕ(z))`` (Mills ratio)."""
    log_pdf = -0.5 * z**2 - _HALF_LOG_2PI
    neg = z < 0
    zn = np.where(neg, z, 0.0)
    inner = zn + math.sqrt(math.pi / 2.0) * special.erfcx(-zn / math.sqrt(2.0))
    zp = np.where(neg, 0.0, z)
    positive = special.ndtr(zp) + zp * np.exp(-0.5 * zp**2 - _HALF_LOG_2PI)
    log_abs = np.where(neg, log_pdf + _log_abs(inner), np.log(positive))
    return log_abs, np.where(neg, np.sign(inner), 1.0)


def _second(z: np.ndarray, activation: str, first: Signed) -> Signed:
    """``(log|φ″(z)|, sign φ″(z))`` given ``φ′``'s."""
    l1 = first[0]
    if activation == "sigmoid":  # φ″ = −φ′ tanh(z/2)
        return l1 + _log_abs(np.tanh(0.5 * z)), -np.sign(z)
    if activation == "tanh":  # φ″ = −2 tanh(z) φ′
        return l1 + math.log(2.0) + _log_abs(np.tanh(z)), -np.sign(z)
    if activation == "erf":  # φ″ = −2 z φ′
        return l1 + math.log(2.0) + _log_abs(z), -np.sign(z)
    if activation == "gelu":  # φ″ = ϕ(z) (2 − z²)
        return -0.5 * z**2 - _HALF_LOG_2PI + _log_abs(2.0 - z**2), np.sign(2.0 - z**2)
    if activation == "relu":
        return np.full_like(z, -np.inf), np.zeros_like(z)
    raise _unknown(activation)


def _unknown(activation: str) -> ParameterError:
    return ParameterError(
        f"activation={activation!r} has no closed form here; use one of {SHALLOW_ACTIVATIONS}."
    )


def activation_derivatives(z: Any, activation: str) -> tuple[np.ndarray, np.ndarray]:
    """First and second derivatives ``φ′(z)``, ``φ″(z)`` of an activation.

    Parameters
    ----------
    z : array
        Pre-activations.
    activation : {"sigmoid", "tanh", "erf", "gelu", "relu"}

    Returns
    -------
    dphi, d2phi : ndarray, shape like ``z``

    Examples
    --------
    >>> import numpy as np
    >>> d1, d2 = activation_derivatives(np.array([0.0, 1.0]), "erf")
    >>> np.allclose(d1, 2 / np.sqrt(np.pi) * np.exp(-np.array([0.0, 1.0]) ** 2)), d2[0]
    (True, np.float64(-0.0))
    """
    _check_activation(activation)
    zz = np.asarray(z, dtype=np.float64)
    first = _first(zz, activation)
    second = _second(zz, activation, first)
    return first[1] * np.exp(first[0]), second[1] * np.exp(second[0])


# -- inputs -----------------------------------------------------------------------------------
def _check_activation(activation: str) -> None:
    if activation not in SHALLOW_ACTIVATIONS:
        raise _unknown(activation)


def _numpy(x: Any) -> np.ndarray:
    if is_torch(x):
        return x.detach().cpu().numpy().astype(np.float64)
    return np.asarray(x, dtype=np.float64)


def _inputs(
    points: Any, weights: Any, biases: Any, activation: str | None, d: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Validated float64 ``(points, W, b, activation)``; ``weights`` may be a ShallowNet."""
    if hasattr(weights, "hidden0"):
        if biases is not None or activation is not None:
            raise ParameterError(
                "a ShallowNet carries its own biases and activation; pass it alone, "
                "e.g. shallow_metric(x, net)."
            )
        weights, biases, activation = shallow_parameters(weights)
    if biases is None:
        raise InputTypeError("biases are required with a weight array (or pass a ShallowNet).")
    activation = "sigmoid" if activation is None else activation
    _check_activation(activation)
    x, W, b = _numpy(points), _numpy(weights), _numpy(biases)
    if W.ndim != 2:
        raise ShapeError(f"weights has shape {W.shape}; expected (n, d).")
    n, dim = W.shape
    if b.shape != (n,):
        raise ShapeError(f"biases has shape {b.shape}; expected ({n},) to match weights {W.shape}.")
    if x.ndim != 2 or x.shape[1] != dim:
        raise ShapeError(f"points has shape {x.shape}; expected (m, {dim}) to match weights.")
    if d is not None and dim != d:
        raise ShapeError(
            f"this closed form holds for d = {d} input dimensions; the weights have d = {dim}. "
            "Use shallow_metric (any d) or the generic autograd path (neurogeom.scalar_curvature)."
        )
    for name, arr in (("points", x), ("weights", W), ("biases", b)):
        check_finite(arr, name)
    return x, W, b, activation


def _out(result: np.ndarray, points: Any) -> Any:
    if is_torch(points):
        return torch.from_numpy(result).to(points.device)
    return result


# -- closed forms -----------------------------------------------------------------------------
def shallow_metric(
    points: Any, weights: Any, biases: Any = None, activation: str | None = None
) -> Any:
    r"""Metric :math:`g = \frac1n \sum_j \varphi'(z_j)^2 w_j w_j^\top` of a shallow net's features.

    Parameters
    ----------
    points : array, shape (m, d)
    weights : array, shape (n, d), or ShallowNet
        Hidden weights :math:`w_j` (rows), or a one-hidden-layer
        :class:`~neurogeom.models.ShallowNet` (then omit ``biases`` and ``activation``).
    biases : array, shape (n,)
    activation : {"sigmoid", "tanh", "erf", "gelu", "relu"}
        Default ``"sigmoid"``.

    Returns
    -------
    array, shape (m, d, d)
        float64.

    Examples
    --------
    >>> import numpy as np
    >>> W, b = np.array([[1.0, 0.0], [0.0, 2.0]]), np.zeros(2)
    >>> shallow_metric(np.zeros((1, 2)), W, b, "erf")[0] * np.pi   # φ′(0)² = 4/π
    array([[2., 0.],
           [0., 8.]])
    """
    x, W, b, activation = _inputs(points, weights, biases, activation)
    l1, s1 = _first(x @ W.T + b, activation)
    coef = (s1 * np.exp(l1)) ** 2 / W.shape[0]
    g = np.einsum("mj,ja,jb->mab", coef, W, W)
    return _out(g, points)


def _log_pair_sum(l1: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``log Σ_{j<k} exp(2 l1_j + 2 l1_k) m_jk²`` per point, blockwise (Cauchy–Binet)."""
    j, k = np.triu_indices(W.shape[0], 1)
    log_m2 = 2.0 * _log_abs(W[j, 0] * W[k, 1] - W[j, 1] * W[k, 0])
    block = max(1, _PAIR_BLOCK // max(1, len(j)))
    out = np.empty(l1.shape[0])
    for start in range(0, l1.shape[0], block):
        rows = l1[start : start + block]
        terms = 2.0 * rows[:, j] + 2.0 * rows[:, k] + log_m2
        if terms.shape[1] == 0:
            out[start : start + block] = -np.inf
            continue
        top = terms.max(axis=1, keepdims=True)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            out[start : start + block] = safe[:, 0] + np.log(np.exp(terms - safe).sum(axis=1))
    return out


def _singular_error(where: int, total: int) -> SingularMetricError:
    return SingularMetricError(
        f"the shallow-net metric at point {where} (of {total}) is singular: too few units with "
        "non-parallel weights are active there (det g = 0, or for the Ricci scalar "
        "λ_min ≤ 10·2·ε·λ_max as in the generic path). Drop that point, or (for curvature) "
        "pass on_singular='nan'."
    )


def shallow_log_volume(
    points: Any, weights: Any, biases: Any = None, activation: str | None = None
) -> Any:
    r"""Log volume element :math:`\tfrac12\log\det g` of a shallow net on ``d = 2`` inputs.

    Cauchy–Binet in log space: every term of the pair sum is non-negative, so there is no
    cancellation, and values like ``-4000`` come out exact.

    Parameters
    ----------
    points : array, shape (m, 2)
    weights : array, shape (n, 2), or ShallowNet
        Hidden weights, or a one-hidden-layer :class:`~neurogeom.models.ShallowNet` (then
        omit ``biases`` and ``activation``).
    biases : array, shape (n,)
    activation : {"sigmoid", "tanh", "erf", "gelu", "relu"}
        Default ``"sigmoid"``.

    Returns
    -------
    array, shape (m,)

    Raises
    ------
    SingularMetricError
        Where ``det g = 0`` (the log-volume would be ``-inf``).

    Examples
    --------
    >>> import numpy as np
    >>> W, b = np.array([[1.0, 0.0], [0.0, 2.0]]), np.zeros(2)
    >>> g = shallow_metric(np.zeros((1, 2)), W, b, "tanh")
    >>> bool(np.isclose(shallow_log_volume(np.zeros((1, 2)), W, b, "tanh")[0],
    ...                 0.5 * np.log(np.linalg.det(g[0]))))
    True
    """
    x, W, b, activation = _inputs(points, weights, biases, activation, d=2)
    l1, _ = _first(x @ W.T + b, activation)
    log_det = _log_pair_sum(l1, W) - 2.0 * math.log(W.shape[0])
    bad = ~np.isfinite(log_det)
    if bad.any():
        raise _singular_error(int(np.flatnonzero(bad)[0]), len(x))
    return _out(0.5 * log_det, points)


def shallow_ricci_scalar(
    points: Any,
    weights: Any,
    biases: Any = None,
    activation: str | None = None,
    *,
    on_singular: OnSingular = "raise",
) -> Any:
    r"""Ricci scalar of a shallow net's feature metric on ``d = 2`` inputs, in closed form.

    Evaluates the formula in the module docstring with :math:`\varphi'` and
    :math:`\varphi''` rescaled by :math:`s = \max_j |\varphi'(z_j)|` per point, and the
    determinant in log space, so that uniformly saturated points (far from the data, where
    :math:`\sqrt{\det g}` underflows) still give the exact curvature.

    Parameters
    ----------
    points : array, shape (m, 2)
    weights : array, shape (n, 2), or ShallowNet
        Hidden weights, or a one-hidden-layer :class:`~neurogeom.models.ShallowNet` (then
        omit ``biases`` and ``activation``).
    biases : array, shape (n,)
    activation : {"sigmoid", "tanh", "erf", "gelu", "relu"}
        Default ``"sigmoid"``.
    on_singular : {"raise", "nan"}
        Where the metric is numerically singular (``λ_min ≤ 10·2·ε·λ_max``, the criterion of
        the generic path, evaluated from the exact log-space determinant): raise
        :class:`~neurogeom.errors.SingularMetricError`, or return NaN there (the same policy
        as :func:`neurogeom.scalar_curvature`).

    Returns
    -------
    array, shape (m,)

    Raises
    ------
    OverflowError
        If ``|R|`` exceeds the float64 range at a point.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> W, b = rng.normal(size=(50, 2)), rng.normal(size=50)
    >>> shallow_ricci_scalar(np.zeros((1, 2)), W, b, "sigmoid").shape
    (1,)
    >>> from neurogeom.models import ShallowNet
    >>> shallow_ricci_scalar(np.zeros((3, 2)), ShallowNet(2, 25, activation="tanh")).shape
    (3,)
    """
    check_on_singular(on_singular)
    x, W, b, activation = _inputs(points, weights, biases, activation, d=2)
    z = x @ W.T + b
    l1, s1 = _first(z, activation)
    l2, s2 = _second(z, activation, (l1, s1))
    log_s = l1.max(axis=1, keepdims=True)
    dead = ~np.isfinite(log_s[:, 0])
    log_s = np.where(dead[:, None], 0.0, log_s)
    a = np.exp(2.0 * (l1 - log_s))  # (φ′/s)²
    log_t = _log_pair_sum(l1 - log_s, W)  # log det G, G = Σ a_j w_j w_jᵀ = n g / s²
    singular = dead | _ill_conditioned(a, W, log_t)
    if singular.any() and on_singular == "raise":
        raise _singular_error(int(np.flatnonzero(singular)[0]), len(x))
    bb = s1 * s2 * np.exp(l1 + l2 - 2.0 * log_s)  # φ′φ″/s²
    numerator = _triple_sum(a, bb, W)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        log_r = _log_abs(numerator) - 2.0 * log_t - 2.0 * log_s[:, 0]
        ricci = -W.shape[0] * np.sign(numerator) * np.exp(log_r)
    ricci = np.where(singular, np.nan, ricci)
    if np.isinf(ricci).any():
        raise RangeError(
            "the Ricci scalar exceeds the float64 range at "
            f"{int(np.isinf(ricci).sum())} point(s) (the metric is nearly degenerate there)."
        )
    return _out(ricci, points)


def _ill_conditioned(a: np.ndarray, W: np.ndarray, log_det: np.ndarray) -> np.ndarray:
    """Whether ``G = Σ a_j w_j w_jᵀ`` has ``λ_min ≤ 10 k ε λ_max`` (as the generic path tests).

    ``det G`` comes exactly from the log-space Cauchy–Binet sum, the trace is a sum of
    non-negative terms, so the test is reliable however small ``λ_min`` is.
    """
    trace = a @ (W**2).sum(axis=1)
    half = 0.5 * trace
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        lam_max = half + np.sqrt(np.maximum(half**2 - np.exp(log_det), 0.0))
        tol = math.log(relative_zero(2))
        return ~np.isfinite(log_det) | (log_det <= tol + 2.0 * np.log(lam_max))


def _triple_sum(a: np.ndarray, bb: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``Σ_{i,j,k} m_jk² m_ij m_ik a_i b_j b_k`` per point in O(n) (third weight moments)."""
    w1, w2 = W[:, 0], W[:, 1]
    mu30, mu21, mu12, mu03 = (bb @ (w1**p * w2 ** (3 - p)) for p in (3, 2, 1, 0))
    # with c_ij = m_ij b_j: P_i = Σ_j c_ij w_j1², Q_i = Σ_j c_ij w_j2², S_i = Σ_j c_ij w_j1 w_j2
    P = np.outer(mu21, w1) - np.outer(mu30, w2)
    Q = np.outer(mu03, w1) - np.outer(mu12, w2)
    S = np.outer(mu12, w1) - np.outer(mu21, w2)
    return 2.0 * np.einsum("mi,mi->m", a, P * Q - S**2)


def shallow_parameters(net: Any) -> ShallowParameters:
    """Weights, biases and activation of a one-hidden-layer :class:`~neurogeom.models.ShallowNet`.

    The closed forms apply to its feature layer ``hidden0``:
    ``shallow_metric(x, *shallow_parameters(net))``, or simply ``shallow_metric(x, net)``.

    Parameters
    ----------
    net : ShallowNet
        With a single hidden layer.

    Returns
    -------
    ShallowParameters
        ``(weights (n, d), biases (n,), activation)`` as float64 numpy arrays, with the
        layer's fixed scale folded in.

    Examples
    --------
    >>> from neurogeom.models import ShallowNet
    >>> W, b, act = shallow_parameters(ShallowNet(2, 25))
    >>> W.shape, b.shape, act
    ((25, 2), (25,), 'sigmoid')
    """
    widths = getattr(net, "widths", None)
    if widths is None or not hasattr(net, "hidden0"):
        raise InputTypeError(
            f"expected a neurogeom.models.ShallowNet; got {type(net).__name__}. For other "
            "models pass weights, biases and activation explicitly."
        )
    if len(widths) != 1:
        raise ParameterError(
            f"the closed forms hold for one hidden layer; this net has {len(widths)} "
            f"(widths {tuple(widths)}). Use neurogeom.scalar_curvature on a TorchResponseMap."
        )
    linear = net.hidden0.linear
    scale = float(getattr(linear, "scale", 1.0))
    W = linear.weight.detach().cpu().double().numpy() * scale
    bias = linear.bias
    b = np.zeros(W.shape[0]) if bias is None else bias.detach().cpu().double().numpy() * scale
    _check_activation(net.activation)
    return ShallowParameters(W, b, str(net.activation))
