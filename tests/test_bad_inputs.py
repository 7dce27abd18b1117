"""Acceptance test of issue 10: no raw exception escapes the public API on bad input.

Every case below calls one public entry point (``neurogeom.__all__``, ``neurogeom.scale``,
``neurogeom.simulate``, the ``neurogeom`` command) with a bad (or merely unusual) input.
The outcome must be either a correct result (``OK``, optionally checked) or a
:class:`~neurogeom.NeurogeomError` subclass whose message is non-empty and mentions the
offending setting. Any other exception type fails the case with its type and message.

Nothing here is skipped or marked xfail on purpose: a red case is a bug to fix in the
package, not in this file. Everything is tiny (a few points, 2-3 stimulus dimensions) so
the whole module runs in seconds.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import xarray as xr

import neurogeom as ng
from neurogeom import simulate
from neurogeom.cli import main as cli_main
from neurogeom.errors import (
    DataFormatError,
    DataNotFoundError,
    InsufficientSamplesError,
    LayerError,
    NeurogeomError,
    NonFiniteError,
    NotPositiveSemidefiniteError,
    OutOfDomainError,
    ShapeError,
    SingularMetricError,
)
from neurogeom.experiments import run_experiment
from neurogeom.scale import lazy_geometry, load_zarr, save_zarr

# --------------------------------------------------------------------------------------
# the helper
# --------------------------------------------------------------------------------------

OK = "ok"


@dataclass(frozen=True)
class OkOr:
    """Either a correct result (``check`` passes) or one of ``errors``."""

    errors: type[BaseException] | tuple[type[BaseException], ...]


def _matches(message: str, words: tuple[str, ...]) -> list[str]:
    """The patterns of ``words`` (case-insensitive regexes) that ``message`` lacks."""
    return [w for w in words if not re.search(w, message, flags=re.IGNORECASE)]


def assert_clean_outcome(
    fn: Callable[[], Any],
    expect: Any,
    *,
    words: tuple[str, ...] = (),
    check: Callable[[Any], Any] | None = None,
) -> None:
    """Run ``fn`` and assert a clean outcome.

    ``expect`` is ``OK`` (``fn`` returns; ``check(result)`` must not fail), a
    NeurogeomError subclass (or tuple of them) that must be raised with a non-empty message
    matching every regex in ``words``, or ``OkOr(errors)`` that allows either. Any other
    exception type fails with its type and message.
    """
    if isinstance(expect, OkOr):
        allowed_ok, errors = True, expect.errors
    elif expect == OK:
        allowed_ok, errors = True, ()
    else:
        allowed_ok, errors = False, expect
    errors = errors if isinstance(errors, tuple) else (errors,)
    for e in errors:
        assert issubclass(e, NeurogeomError), f"bad case: {e} is not a NeurogeomError"
    try:
        result = fn()
    except NeurogeomError as err:
        message = str(err)
        names = "/".join(e.__name__ for e in errors) or "a result"
        if not errors or not isinstance(err, errors):
            pytest.fail(f"expected {names}, got {type(err).__name__}: {message}")
        if not message.strip():
            pytest.fail(f"{type(err).__name__} with an empty message")
        missing = _matches(message, words)
        if missing:
            pytest.fail(f"{type(err).__name__} message does not mention {missing}: {message}")
        return
    except SystemExit:
        raise
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt):
            raise
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        pytest.fail(f"raw {type(err).__module__}.{type(err).__name__} escaped: {first}")
    if not allowed_ok:
        names = "/".join(e.__name__ for e in errors)
        pytest.fail(f"expected {names}, but it returned {_short(result)}")
    if check is not None:
        outcome = check(result)
        assert outcome is None or outcome, f"result failed its check: {_short(result)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


@dataclass(frozen=True)
class Case:
    id: str
    fn: Callable[[Path], Any]  # takes tmp_path
    expect: Any
    words: tuple[str, ...] = ()
    check: Callable[[Any], Any] | None = None


CASES: list[Case] = []


def case(
    id: str,
    fn: Callable[..., Any],
    expect: Any,
    *words: str,
    check: Callable[[Any], Any] | None = None,
    tmp: bool = False,
) -> None:
    call = fn if tmp else (lambda _tmp, fn=fn: fn())
    CASES.append(Case(id, call, expect, tuple(words), check))


# --------------------------------------------------------------------------------------
# tiny fixtures (built lazily and cached: collecting the module must stay cheap)
# --------------------------------------------------------------------------------------

_CACHE: dict[str, Any] = {}


def cached(fn: Callable[[], Any]) -> Callable[[], Any]:
    def get() -> Any:
        if fn.__name__ not in _CACHE:
            _CACHE[fn.__name__] = fn()
        return _CACHE[fn.__name__]

    return get


@cached
def net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 4))


@cached
def rm() -> ng.TorchResponseMap:
    return ng.TorchResponseMap(net(), layers="1", dtype=torch.float64)


@cached
def conv_rm() -> ng.TorchResponseMap:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Tanh(), torch.nn.Flatten())
    return ng.TorchResponseMap(model, dtype=torch.float64)


def X3() -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, (5, 3))


def spd(m: int = 3, d: int = 2) -> np.ndarray:
    A = np.random.default_rng(1).normal(size=(m, d, d))
    return A @ A.transpose(0, 2, 1) + 0.1 * np.eye(d)


@cached
def sampled_data() -> tuple[np.ndarray, np.ndarray]:
    pop = simulate.LinearPopulation(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    X = pop.uniform_stimuli(200, random_state=0)
    R = pop.sample(X, 3, noise=0.1, random_state=1)
    return X, R


def sampled_2d() -> tuple[np.ndarray, np.ndarray]:
    X, R = sampled_data()
    return X, R.mean(axis=1)


@cached
def srm() -> ng.SampledResponseMap:
    X, R = sampled_data()
    return ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.5})


@cached
def srm_boot() -> ng.SampledResponseMap:
    X, R = sampled_data()
    return ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.5}, n_bootstrap=4)


def SRM(**kw: Any) -> ng.SampledResponseMap:
    X, R = sampled_data()
    kw.setdefault("estimator_params", {"bandwidth": 0.5})
    return ng.SampledResponseMap(X, R, **kw)


@cached
def grid_ds() -> xr.Dataset:
    return ng.geometry(rm(), ng.Grid([(-1, 1)] * 3, resolution=2))


def small_grid() -> ng.Grid:
    return ng.Grid([(-1, 1)] * 3, resolution=2)


def same_as(reference: Callable[[], Any], **kw: Any) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        r = result.detach().numpy() if isinstance(result, torch.Tensor) else np.asarray(result)
        np.testing.assert_allclose(r, np.asarray(reference()), rtol=1e-10, atol=1e-12, **kw)

    return check


def is_empty(result: Any) -> bool:
    return int(np.asarray(result).size) == 0


def all_nan(result: Any) -> bool:
    value = result[0] if isinstance(result, tuple) else result
    return bool(np.isnan(np.asarray(value, dtype=float)).all())


HUGE = 10**13  # steps / resolution far beyond memory: must be refused, not allocated


# --------------------------------------------------------------------------------------
# arrays in: the response map's intake
# --------------------------------------------------------------------------------------


def _metric_ref() -> np.ndarray:
    return rm().metric(X3())


for name, make in {
    "list": lambda: X3().tolist(),
    "negative-stride": lambda: X3()[::-1].copy()[::-1],
    "non-contiguous": lambda: np.repeat(X3(), 2, axis=1)[:, ::2],
    "fortran-order": lambda: np.asfortranarray(X3()),
    "tensor-requires-grad": lambda: torch.tensor(X3(), requires_grad=True),
    "readonly": lambda: (lambda a: (a.setflags(write=False), a)[1])(X3()),
}.items():
    case(
        f"arrays/metric/{name}",
        lambda make=make: rm().metric(make()),
        OK,
        check=same_as(_metric_ref),
    )


def _int_ref() -> np.ndarray:
    return rm().metric(np.arange(15.0).reshape(5, 3) % 3 - 1)


case(
    "arrays/metric/float32",
    lambda: rm().metric(X3().astype(np.float32)),
    OK,
    check=same_as(lambda: rm().metric(X3().astype(np.float32).astype(np.float64))),
)
case(
    "arrays/metric/int",
    lambda: rm().metric((np.arange(15).reshape(5, 3) % 3 - 1).astype(np.int64)),
    OK,
    check=same_as(_int_ref),
)
case(
    "arrays/metric/bool",
    lambda: rm().metric(np.eye(3, dtype=bool)),
    OK,
    check=same_as(lambda: rm().metric(np.eye(3))),
)
case(
    "arrays/jacobian/negative-stride",
    lambda: rm().jacobian(X3()[::-1]),
    OK,
    check=same_as(lambda: rm().jacobian(np.ascontiguousarray(X3()[::-1]))),
)
case(
    "arrays/responses/tensor-requires-grad",
    lambda: rm().responses(torch.tensor(X3(), requires_grad=True)),
    OK,
    check=same_as(lambda: rm().responses(X3())),
)
case(
    "arrays/geometry/list-points",
    lambda: ng.geometry(rm(), X3().tolist()).log_volume_element.values,
    OK,
    check=same_as(lambda: ng.geometry(rm(), X3()).log_volume_element.values),
)
case(
    "arrays/geometry/tensor-requires-grad",
    lambda: ng.geometry(rm(), torch.tensor(X3(), requires_grad=True)).log_volume_element.values,
    OK,
    check=same_as(lambda: ng.geometry(rm(), X3()).log_volume_element.values),
)
case("arrays/metric/empty", lambda: rm().metric(np.zeros((0, 3))), OkOr(ShapeError), check=is_empty)
case(
    "arrays/jacobian/empty",
    lambda: rm().jacobian(np.zeros((0, 3))),
    OkOr(ShapeError),
    check=is_empty,
)
case(
    "arrays/geometry/empty-points",
    lambda: ng.geometry(rm(), np.zeros((0, 3))).log_volume_element.values,
    OkOr(ShapeError),
    check=is_empty,
)
case(
    "arrays/metric/single-stimulus-no-batch",
    lambda: rm().metric(np.zeros(3)),
    ShapeError,
    r"\(3,\)",
)
case("arrays/metric/scalar", lambda: rm().metric(np.float64(1.0)), ShapeError, "shape")
case(
    "arrays/metric/wrong-stimulus-size",
    lambda: rm().metric(np.zeros((2, 4))),
    ShapeError,
    r"\(2, 4\)|\b4\b",
    r"\b3\b",
)
case(
    "arrays/jacobian/wrong-stimulus-size",
    lambda: rm().jacobian(np.zeros((2, 2))),
    ShapeError,
    r"\(2, 2\)|\b2\b",
    r"\b3\b",
)
case(
    "arrays/geometry/wrong-stimulus-size",
    lambda: ng.geometry(rm(), np.zeros((2, 5))),
    ShapeError,
    r"\b5\b",
)
case(
    "arrays/conv/wrong-channel-count",
    lambda: conv_rm().jacobian(np.zeros((2, 3, 5, 5))),
    ShapeError,
    r"\(2, 3, 5, 5\)|\b3\b",
)
case(
    "arrays/conv/missing-channel-axis",
    lambda: conv_rm().jacobian(np.zeros((2, 5, 5))),
    ShapeError,
    "shape",
)
case(
    "arrays/conv/single-image-no-batch",
    lambda: conv_rm().metric(np.zeros((1, 5, 5))),
    ShapeError,
    "shape",
)
case("arrays/metric/complex", lambda: rm().metric(X3() + 1j), NeurogeomError, "complex")
case(
    "arrays/jacobian/complex-tensor",
    lambda: rm().jacobian(torch.tensor(X3() + 1j)),
    NeurogeomError,
    "complex",
)
case(
    "arrays/metric/object-array",
    lambda: rm().metric(np.array([["a", "b", "c"]], dtype=object)),
    NeurogeomError,
)
case("arrays/metric/nan", lambda: rm().metric(np.array([[0.0, np.nan, 0.0]])), NonFiniteError)
case("arrays/metric/inf", lambda: rm().metric(np.array([[0.0, np.inf, 0.0]])), NonFiniteError)
case(
    "arrays/geometry/nan-points",
    lambda: ng.geometry(rm(), np.array([[0.0, np.nan, 0.0]])),
    NonFiniteError,
)
case(
    "arrays/metric/tangents-wrong-size",
    lambda: rm().metric(X3(), tangents=np.ones((1, 2))),
    ShapeError,
    "tangent",
)
case(
    "arrays/metric/tangents-nan",
    lambda: rm().metric(X3(), tangents=np.array([[np.nan, 0.0, 0.0]])),
    NonFiniteError,
)


def _exp_map() -> ng.TorchResponseMap:
    return ng.TorchResponseMap(lambda x: torch.exp(1000 * x), dtype=torch.float64)


_overflow_x = np.array([[0.0], [0.1], [-0.5], [1.0], [0.0]])  # point 3 overflows
case(
    "arrays/overflow/metric",
    lambda: _exp_map().metric(_overflow_x),
    NonFiniteError,
    r"\b3\b",
    "float64",
)
case(
    "arrays/overflow/geometry-blocked",  # point 3 is in the second block: index in caller's array
    lambda: ng.geometry(_exp_map(), _overflow_x, block_size=2),
    NonFiniteError,
    r"\b3\b",
    "float64",
)
case(
    "arrays/overflow/float32-model",
    lambda: ng.TorchResponseMap(lambda x: torch.exp(100 * x), dtype=torch.float32).jacobian(
        _overflow_x
    ),
    NonFiniteError,
    r"\b3\b",
    "float32",
)
case(
    "arrays/model-returns-nan",
    lambda: ng.TorchResponseMap(lambda x: x * float("nan"), dtype=torch.float64).metric(X3()),
    NonFiniteError,
)

# TorchResponseMap construction
case("torchmap/not-callable", lambda: ng.TorchResponseMap(42), NeurogeomError, "callable")
case(
    "torchmap/bad-mode", lambda: ng.TorchResponseMap(net(), mode="sideways"), NeurogeomError, "mode"
)
case(
    "torchmap/chunk-size-0",
    lambda: ng.TorchResponseMap(net(), chunk_size=0),
    NeurogeomError,
    "chunk_size",
)
case(
    "torchmap/int-dtype",
    lambda: ng.TorchResponseMap(net(), dtype=torch.int32),
    NeurogeomError,
    "dtype",
)
case(
    "torchmap/missing-layer", lambda: ng.TorchResponseMap(net(), layers="nope"), LayerError, "nope"
)
case(
    "torchmap/empty-layer-list",
    lambda: ng.TorchResponseMap(net(), layers=[]),
    NeurogeomError,
    "layer",
)
case(
    "torchmap/duplicate-layers",
    lambda: ng.TorchResponseMap(net(), layers=["1", "1"]),
    NeurogeomError,
    "layer",
)

# --------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------

_lve_ref = lambda: ng.log_volume_element(spd())  # noqa: E731
for name, make in {
    "list": lambda: spd().tolist(),
    "negative-stride": lambda: spd()[::-1].copy()[::-1],
    "non-contiguous": lambda: np.repeat(spd(), 2, axis=0)[::2],
    "tensor-requires-grad": lambda: torch.tensor(spd(), requires_grad=True),
}.items():
    case(
        f"metrics/log_volume_element/{name}",
        lambda make=make: ng.log_volume_element(make()),
        OK,
        check=same_as(_lve_ref),
    )
case(
    "metrics/log_volume_element/int",
    lambda: ng.log_volume_element(np.array([[[2, 1], [1, 3]]])),
    OK,
    check=same_as(lambda: ng.log_volume_element(np.array([[[2.0, 1.0], [1.0, 3.0]]]))),
)
case(
    "metrics/log_volume_element/bool-identity",
    lambda: ng.log_volume_element(np.eye(2, dtype=bool)[None]),
    OK,
    check=same_as(lambda: np.zeros(1)),
)
case(
    "metrics/metric_spectrum/tensor-requires-grad",
    lambda: ng.metric_spectrum(torch.tensor(spd(), requires_grad=True)),
    OK,
    check=same_as(lambda: ng.metric_spectrum(spd())),
)

_BAD_METRICS: dict[str, tuple[Callable[[], Any], Any, tuple[str, ...]]] = {
    "1d": (lambda: np.ones(4), ShapeError, ("shape",)),
    "0d": (lambda: np.float64(2.0), ShapeError, ("shape",)),
    "non-square": (lambda: np.ones((3, 2, 3)), ShapeError, (r"\(3, 2, 3\)|square",)),
    "non-symmetric": (
        lambda: np.array([[[2.0, 1.0], [0.0, 2.0]]]),
        NotPositiveSemidefiniteError,
        ("symmetric",),
    ),
    "indefinite": (lambda: np.array([[[1.0, 0.0], [0.0, -1.0]]]), NotPositiveSemidefiniteError, ()),
    "nan": (lambda: np.array([[[1.0, np.nan], [np.nan, 1.0]]]), NonFiniteError, ()),
    "inf": (lambda: np.array([[[np.inf, 0.0], [0.0, 1.0]]]), NonFiniteError, ()),
    "complex": (lambda: spd() + 0j, NeurogeomError, ("complex",)),
    "complex-hermitian": (
        lambda: np.array([[[2.0, 1j], [-1j, 2.0]]]),
        NeurogeomError,
        ("complex",),
    ),
    "strings": (lambda: np.array([[["a", "b"], ["b", "a"]]]), NeurogeomError, ()),
}
for fname, f in {
    "log_volume_element": ng.log_volume_element,
    "metric_spectrum": ng.metric_spectrum,
    "check_metric": ng.check_metric,
    "volume_element": ng.volume_element,
}.items():
    for name, (make, err, words) in _BAD_METRICS.items():
        case(f"metrics/{fname}/{name}", lambda f=f, make=make: f(make()), err, *words)
    case(
        f"metrics/{fname}/empty",
        lambda f=f: f(np.zeros((0, 2, 2))),
        OkOr(ShapeError),
        check=lambda r: r is None or is_empty(r),
    )

case("metrics/check_metric/valid", lambda: ng.check_metric(spd()), OK)

_zero = lambda: np.zeros((2, 2, 2))  # noqa: E731  rank-0 metrics
case(
    "metrics/log_volume_element/rank0-auto",
    lambda: ng.log_volume_element(_zero(), rank="auto"),
    OkOr(SingularMetricError),
    check=all_nan,
)
case(
    "metrics/log_volume_element/rank0-auto-return-rank",
    lambda: ng.log_volume_element(_zero(), rank="auto", return_rank=True),
    OkOr(SingularMetricError),
    check=all_nan,
)
case(
    "metrics/volume_element/rank0-auto",
    lambda: ng.volume_element(_zero(), rank="auto"),
    OkOr(SingularMetricError),
    check=all_nan,
)
case(
    "metrics/log_volume_element/singular-full-rank",
    lambda: ng.log_volume_element(_zero()),
    SingularMetricError,
)
case(
    "metrics/log_volume_element/singular-rank1-of-2",
    lambda: ng.log_volume_element(np.array([[[1.0, 0.0], [0.0, 0.0]]])),
    SingularMetricError,
)
case(
    "metrics/log_volume_element/rank-exceeds-numerical-rank",
    lambda: ng.log_volume_element(np.array([[[1.0, 0.0], [0.0, 0.0]]]), rank=2),
    SingularMetricError,
)
for bad in (0, -1, 3, 1.5, "x", float("nan"), True):
    for fname, f in {
        "log_volume_element": ng.log_volume_element,
        "volume_element": ng.volume_element,
    }.items():
        case(
            f"metrics/{fname}/rank={bad!r}",
            lambda f=f, bad=bad: f(spd(), rank=bad),
            NeurogeomError,
            "rank",
        )

_J = lambda: np.random.default_rng(2).normal(size=(3, 4, 2))  # noqa: E731
case(
    "metrics/pullback_metric/tensor-requires-grad",
    lambda: ng.pullback_metric(torch.tensor(_J(), requires_grad=True)),
    OK,
    check=same_as(lambda: ng.pullback_metric(_J())),
)
case(
    "metrics/pullback_metric/list",
    lambda: ng.pullback_metric(_J().tolist()),
    OK,
    check=same_as(lambda: ng.pullback_metric(_J())),
)
case(
    "metrics/pullback_metric/bad-scale",
    lambda: ng.pullback_metric(_J(), scale="huge"),
    NeurogeomError,
    "scale",
)
case(
    "metrics/pullback_metric/scale-None",
    lambda: ng.pullback_metric(_J(), scale=None),
    NeurogeomError,
    "scale",
)
case("metrics/pullback_metric/1d", lambda: ng.pullback_metric(np.ones(4)), ShapeError)
case(
    "metrics/pullback_metric/2d-no-batch",  # (..., n, d): leading axes are optional
    lambda: ng.pullback_metric(np.ones((4, 2))),
    OK,
    check=same_as(lambda: np.full((2, 2), 4.0)),
)
case(
    "metrics/pullback_metric/nan",
    lambda: ng.pullback_metric(np.full((1, 4, 2), np.nan)),
    NonFiniteError,
)
case(
    "metrics/pullback_metric/complex",
    lambda: ng.pullback_metric(_J() + 1j),
    NeurogeomError,
    "complex",
)
case(
    "metrics/pullback_metric/empty",
    lambda: ng.pullback_metric(np.zeros((0, 4, 2))),
    OkOr(ShapeError),
    check=is_empty,
)
case(
    "metrics/pullback_metric/noise-cov-wrong-shape",
    lambda: ng.pullback_metric(_J(), noise_covariance=np.eye(3)),
    ShapeError,
    r"\b4\b",
)
case(
    "metrics/pullback_metric/noise-cov-indefinite",
    lambda: ng.pullback_metric(_J(), noise_covariance=-np.eye(4)),
    NotPositiveSemidefiniteError,
)
case(
    "metrics/pullback_metric/noise-cov-singular",
    lambda: ng.pullback_metric(_J(), noise_covariance=np.zeros((4, 4))),
    (SingularMetricError, NotPositiveSemidefiniteError),
)
case(
    "metrics/pullback_metric/noise-cov-nan",
    lambda: ng.pullback_metric(_J(), noise_covariance=np.full((4, 4), np.nan)),
    NonFiniteError,
)
case(
    "metrics/rm.metric/bad-scale", lambda: rm().metric(X3(), scale="huge"), NeurogeomError, "scale"
)

# iterative
_op = lambda: rm().metric_operator(X3())  # noqa: E731
for k in (0, -1, 4, 1.5):
    case(
        f"iterative/top_eigenvalues/k={k!r}",
        lambda k=k: ng.top_eigenvalues(_op(), k),
        NeurogeomError,
        r"\bk\b|rank|eigen",
    )
    case(
        f"iterative/iterative_log_volume/rank={k!r}",
        lambda k=k: ng.iterative_log_volume(_op(), k),
        NeurogeomError,
        "rank",
    )
case(
    "iterative/stochastic_logdet/n_probes=0",
    lambda: ng.stochastic_logdet(_op(), n_probes=0),
    NeurogeomError,
    "n_probes",
)
case(
    "iterative/stochastic_logdet/n_iter=0",
    lambda: ng.stochastic_logdet(_op(), n_iter=0),
    NeurogeomError,
    "n_iter",
)
case(
    "iterative/stochastic_logdet/damping-nan",
    lambda: ng.stochastic_logdet(_op(), damping=float("nan")),
    NeurogeomError,
    "damping",
)

# --------------------------------------------------------------------------------------
# slices
# --------------------------------------------------------------------------------------

_a, _b, _c = np.zeros(3), np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
case(
    "slices/Line/list-endpoints",
    lambda: ng.Line([0, 0, 0], [1, 0, 0], steps=3).points,
    OK,
    check=same_as(lambda: ng.Line(_a, _b, steps=3).points),
)
case("slices/Line/a==b", lambda: ng.Line(_b, _b, steps=4), NeurogeomError)
case(
    "slices/Line/shape-mismatch",
    lambda: ng.Line(np.zeros(2), np.ones(3)),
    ShapeError,
    r"\b2\b",
    r"\b3\b",
)
case("slices/Line/nan-endpoint", lambda: ng.Line(np.array([0.0, np.nan, 0.0]), _b), NonFiniteError)
case("slices/Line/complex-endpoint", lambda: ng.Line(_a + 1j, _b), NeurogeomError, "complex")
case("slices/Line/empty-endpoints", lambda: ng.Line(np.zeros(0), np.zeros(0)), ShapeError)
for bad in (0, -3, 1.5, float("nan"), HUGE, "ten", None):
    case(
        f"slices/Line/steps={bad!r}",
        lambda bad=bad: ng.Line(_a, _b, steps=bad),
        NeurogeomError,
        "steps",
    )
    case(
        f"slices/Plane/resolution={bad!r}",
        lambda bad=bad: ng.Plane(_a, _b, _c, resolution=bad),
        NeurogeomError,
        "resolution",
    )
    case(
        f"slices/Grid/resolution={bad!r}",
        lambda bad=bad: ng.Grid([(-1, 1)] * 2, resolution=bad),
        NeurogeomError,
        "resolution",
    )
case("slices/Plane/collinear", lambda: ng.Plane(_a, _b, 2 * _b), NeurogeomError)
case("slices/Plane/all-equal", lambda: ng.Plane(_b, _b, _b), NeurogeomError)
case("slices/Plane/shape-mismatch", lambda: ng.Plane(_a, _b, np.zeros(2)), ShapeError)
case(
    "slices/Plane/nan-point", lambda: ng.Plane(_a, _b, np.array([np.nan, 1.0, 0.0])), NonFiniteError
)
case(
    "slices/Plane/1d-stimuli",
    lambda: ng.Plane(np.zeros(1), np.ones(1), 2 * np.ones(1)),
    NeurogeomError,
)
for bad in (0.0, -1.0, float("nan"), float("inf")):
    case(
        f"slices/Plane/extent={bad!r}",
        lambda bad=bad: ng.Plane(_a, _b, _c, resolution=3, extent=bad),
        NeurogeomError,
        "extent",
    )
case(
    "slices/Grid/reversed-bounds",
    lambda: ng.Grid([(1, -1), (-1, 1)], resolution=3),
    NeurogeomError,
    "bound",
)
case(
    "slices/Grid/equal-bounds",
    lambda: ng.Grid([(1, 1), (-1, 1)], resolution=3),
    NeurogeomError,
    "bound",
)
case(
    "slices/Grid/nan-bounds", lambda: ng.Grid([(np.nan, 1), (-1, 1)], resolution=3), NonFiniteError
)
case(
    "slices/Grid/inf-bounds", lambda: ng.Grid([(-np.inf, 1), (-1, 1)], resolution=3), NonFiniteError
)
case(
    "slices/Grid/bounds-not-pairs",
    lambda: ng.Grid([(0, 1, 2), (0, 1, 2)], resolution=3),
    ShapeError,
    "bound",
)
case("slices/Grid/bounds-scalar", lambda: ng.Grid(1.0, resolution=3), ShapeError, "bound")
case("slices/Grid/empty-bounds", lambda: ng.Grid([], resolution=3), ShapeError, "bound")
case(
    "slices/Grid/resolution-list-wrong-length",
    lambda: ng.Grid([(-1, 1)] * 2, resolution=[3, 3, 3]),
    ShapeError,
    "resolution",
)
case(
    "slices/Grid/resolution-list-with-zero",
    lambda: ng.Grid([(-1, 1)] * 2, resolution=[3, 0]),
    NeurogeomError,
    "resolution",
)
case(
    "slices/Grid/dims-wrong-length",
    lambda: ng.Grid([(-1, 1)] * 2, resolution=3, dims=["x"]),
    ShapeError,
    "dims",
)
case(
    "slices/Grid/dims-duplicate",
    lambda: ng.Grid([(-1, 1)] * 2, resolution=3, dims=["x", "x"]),
    NeurogeomError,
    "dims",
)
case(
    "slices/Points/empty",
    lambda: len(ng.Points(np.zeros((0, 3)))),
    OkOr(ShapeError),
    check=lambda n: n == 0,
)
case("slices/Points/1d", lambda: ng.Points(np.zeros(3)), ShapeError, r"\(3,\)")
case("slices/Points/nan", lambda: ng.Points(np.array([[np.nan, 0.0]])), NonFiniteError)
case("slices/Points/complex", lambda: ng.Points(np.zeros((2, 3)) + 1j), NeurogeomError, "complex")
case(
    "slices/Points/list",
    lambda: ng.Points([[0.0, 1.0]]).points,
    OK,
    check=same_as(lambda: [[0.0, 1.0]]),
)
case(
    "slices/Points/tangents-wrong-size",
    lambda: ng.Points(np.zeros((2, 3)), tangents=np.ones((1, 2))),
    ShapeError,
    "tangent",
)
case(
    "slices/Points/tangents-nan",
    lambda: ng.Points(np.zeros((2, 3)), tangents=np.array([[np.nan, 0, 0]])),
    NonFiniteError,
)
case(
    "slices/Points/tangents-dependent",
    lambda: ng.Points(np.zeros((2, 3)), tangents=np.array([[1.0, 0, 0], [2.0, 0, 0]])),
    NeurogeomError,
    "tangent",
)
case(
    "slices/Points/tangents-zero",
    lambda: ng.Points(np.zeros((2, 3)), tangents=np.zeros((1, 3))),
    NeurogeomError,
    "tangent",
)

# --------------------------------------------------------------------------------------
# ng.geometry
# --------------------------------------------------------------------------------------

case(
    "geometry/ok-grid",
    lambda: ng.geometry(rm(), small_grid()).log_volume_element.shape,
    OK,
    check=lambda s: s == (2, 2, 2),
)
for bad in ("bogus", "", None, 3):
    case(
        f"geometry/space={bad!r}",
        lambda bad=bad: ng.geometry(rm(), small_grid(), space=bad),
        NeurogeomError,
        "space",
    )
case(
    "geometry/space=slice-without-tangents",
    lambda: ng.geometry(rm(), X3(), space="slice"),
    NeurogeomError,
    "tangent|slice",
)
for bad in (0, -1, 4, 1.5, "x", float("nan")):
    case(
        f"geometry/rank={bad!r}",
        lambda bad=bad: ng.geometry(rm(), X3(), space="full", rank=bad),
        NeurogeomError,
        "rank",
    )
for bad in (0, -1, 1.5, float("nan"), "8"):
    case(
        f"geometry/block_size={bad!r}",
        lambda bad=bad: ng.geometry(rm(), X3(), block_size=bad),
        NeurogeomError,
        "block_size",
    )
for bad in (0, 1, 1.5, -0.5, float("nan")):
    case(
        f"geometry/level={bad!r}/sampled",
        lambda bad=bad: ng.geometry(srm_boot(), np.full((2, 2), 0.5), level=bad),
        NeurogeomError,
        "level",
    )
case(
    "geometry/scale=bogus", lambda: ng.geometry(rm(), X3(), scale="bogus"), NeurogeomError, "scale"
)
case(
    "geometry/keep_metric=bogus",
    lambda: ng.geometry(rm(), X3(), keep_metric="sometimes"),
    NeurogeomError,
    "keep_metric",
)
case(
    "geometry/classifier-probabilities",
    lambda: ng.geometry(rm(), X3(), classifier=lambda x: torch.softmax(net()(x.float()), dim=1)),
    NeurogeomError,
    "probabilit|logit",
)
case(
    "geometry/classifier-1d-output",
    lambda: ng.geometry(rm(), X3(), classifier=lambda x: torch.zeros(len(x))),
    ShapeError,
    "classifier|logit",
)
case(
    "geometry/classifier-wrong-batch",
    lambda: ng.geometry(rm(), X3(), classifier=lambda x: torch.zeros(len(x) + 1, 3)),
    ShapeError,
    r"classifier|logit|\(6, 3\)",
)
case(
    "geometry/classifier-wrong-input-size",
    lambda: ng.geometry(rm(), X3(), classifier=torch.nn.Linear(7, 2)),
    ShapeError,
    "classifier|shape",
)
case(
    "geometry/classifier-nan",
    lambda: ng.geometry(rm(), X3(), classifier=lambda x: torch.full((len(x), 2), float("nan"))),
    NonFiniteError,
    "classifier|logit",
)
case(
    "geometry/classifier-not-callable",
    lambda: ng.geometry(rm(), X3(), classifier=3),
    NeurogeomError,
    "classifier",
)
case(
    "geometry/not-a-response-map",
    lambda: ng.geometry(net(), X3()),
    NeurogeomError,
    "ResponseMap|response_map",
)
case(
    "geometry/curvature-on-sampled-map",
    lambda: ng.geometry(srm(), np.full((2, 2), 0.5), curvature=True),
    NeurogeomError,
    "curvature",
)
case(
    "geometry/curvature-too-many-dims",
    lambda: ng.geometry(
        ng.TorchResponseMap(torch.tanh, dtype=torch.float64), np.zeros((1, 17)), curvature=True
    ),
    NeurogeomError,
    "16|dimension|coordinate",
)
case(
    "geometry/slice-wrong-dimension",
    lambda: ng.geometry(rm(), ng.Grid([(-1, 1)] * 2, resolution=2)),
    ShapeError,
    r"\b2\b",
    r"\b3\b",
)

# curvature
case(
    "curvature/scalar/bad-on_singular",
    lambda: ng.scalar_curvature(rm(), X3(), on_singular="ignore-it"),
    NeurogeomError,
    "on_singular",
)
case(
    "curvature/scalar/bad-method",
    lambda: ng.scalar_curvature(rm(), X3(), method="magic"),
    NeurogeomError,
    "method",
)
case(
    "curvature/scalar/wrong-stimulus-size",
    lambda: ng.scalar_curvature(rm(), np.zeros((2, 4))),
    ShapeError,
)
case(
    "curvature/scalar/nan",
    lambda: ng.scalar_curvature(rm(), np.full((1, 3), np.nan)),
    NonFiniteError,
)
case(
    "curvature/scalar/sampled-map",
    lambda: ng.scalar_curvature(srm(), np.full((1, 2), 0.5)),
    NeurogeomError,
)

# --------------------------------------------------------------------------------------
# sampled data
# --------------------------------------------------------------------------------------

case(
    "sampled/ok",
    lambda: srm().metric(np.full((1, 2), 0.5)).shape,
    OK,
    check=lambda s: s == (1, 2, 2),
)
case(
    "sampled/length-mismatch",
    lambda: ng.SampledResponseMap(sampled_data()[0][:-1], sampled_data()[1]),
    ShapeError,
)
case(
    "sampled/nan-responses",
    lambda: ng.SampledResponseMap(
        sampled_data()[0],
        np.where(np.eye(200, 3, dtype=bool)[:, None, :], np.nan, sampled_data()[1]),
    ),
    NonFiniteError,
    "responses",
)
case(
    "sampled/nan-stimuli",
    lambda: ng.SampledResponseMap(
        np.vstack([[np.nan, 0.0], sampled_data()[0][1:]]), sampled_data()[1]
    ),
    NonFiniteError,
    "stimuli",
)
case(
    "sampled/complex-responses",
    lambda: ng.SampledResponseMap(sampled_data()[0], sampled_data()[1] + 1j),
    NeurogeomError,
    "complex",
)
case(
    "sampled/responses-1d",
    lambda: ng.SampledResponseMap(sampled_data()[0], np.ones(200)),
    ShapeError,
)
case(
    "sampled/responses-4d",
    lambda: ng.SampledResponseMap(sampled_data()[0], np.ones((200, 2, 2, 2))),
    ShapeError,
)
case(
    "sampled/stimuli-3d",
    lambda: ng.SampledResponseMap(np.ones((200, 2, 1)), sampled_data()[1]),
    ShapeError,
)
case(
    "sampled/empty",
    lambda: ng.SampledResponseMap(np.zeros((0, 2)), np.zeros((0, 3, 3))),
    (ShapeError, InsufficientSamplesError),
)
case(
    "sampled/too-few-samples",
    lambda: ng.SampledResponseMap(
        np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), np.ones((3, 2, 3))
    ).metric(np.full((1, 2), 0.2)),
    InsufficientSamplesError,
)
case("sampled/query-outside", lambda: srm().metric(np.array([[5.0, 5.0]])), OutOfDomainError)
case(
    "sampled/query-outside-box",
    lambda: SRM(domain="box").metric(np.array([[5.0, 5.0]])),
    OutOfDomainError,
)
case(
    "sampled/query-outside-flag",
    lambda: SRM(on_invalid="flag").metric(np.array([[5.0, 5.0]])),
    OK,
    check=all_nan,
)
case("sampled/query-wrong-dim", lambda: srm().metric(np.zeros((1, 3))), ShapeError, r"\b2\b")
case("sampled/query-nan", lambda: srm().metric(np.array([[np.nan, 0.5]])), NonFiniteError)
case("sampled/query-no-batch", lambda: srm().metric(np.array([0.5, 0.5])), ShapeError)
case(
    "sampled/query-empty", lambda: srm().metric(np.zeros((0, 2))), OkOr(ShapeError), check=is_empty
)
case(
    "sampled/query-list",
    lambda: srm().metric([[0.5, 0.5]]),
    OK,
    check=same_as(lambda: srm().metric(np.array([[0.5, 0.5]]))),
)
case(
    "sampled/estimator-unknown",
    lambda: ng.SampledResponseMap(*sampled_data(), estimator="local_quintic"),
    NeurogeomError,
    "local_quintic",
)
case(
    "sampled/estimator-not-a-string",
    lambda: ng.SampledResponseMap(*sampled_data(), estimator=3),
    NeurogeomError,
    "estimator",
)
case(
    "sampled/estimator-bad-param",
    lambda: ng.SampledResponseMap(*sampled_data(), estimator_params={"bandwith": 0.5}),
    NeurogeomError,
    "bandwith",
)
for bad in (0.0, -0.5, float("nan"), float("inf"), "wide", [0.5, 0.5, 0.5]):
    case(
        f"sampled/bandwidth={bad!r}",
        lambda bad=bad: ng.SampledResponseMap(
            *sampled_data(), estimator_params={"bandwidth": bad}
        ).metric(np.full((1, 2), 0.5)),
        NeurogeomError,
        "bandwidth",
    )
case("sampled/correction-bogus", lambda: SRM(correction="magic"), NeurogeomError, "correction")
case("sampled/domain-bogus", lambda: SRM(domain="sphere"), NeurogeomError, "domain")
case("sampled/on_invalid-bogus", lambda: SRM(on_invalid="ignore"), NeurogeomError, "on_invalid")
case("sampled/noise-bogus", lambda: SRM(noise="gaussian"), NeurogeomError, "noise")
case("sampled/noise-cov-wrong-shape", lambda: SRM(noise=np.eye(2)), ShapeError, "noise|covariance")
case("sampled/noise-cov-indefinite", lambda: SRM(noise=-np.eye(3)), NotPositiveSemidefiniteError)
case(
    "sampled/noise-empirical-one-trial",
    lambda: ng.SampledResponseMap(sampled_data()[0], sampled_data()[1][:, 0], noise="empirical"),
    InsufficientSamplesError,
)
case("sampled/n_bootstrap=-1", lambda: SRM(n_bootstrap=-1), NeurogeomError, "n_bootstrap")
case("sampled/n_bootstrap=1.5", lambda: SRM(n_bootstrap=1.5), NeurogeomError, "n_bootstrap")
case(
    "sampled/min_rate-nan",
    lambda: SRM(noise="poisson", min_rate=float("nan")),
    NeurogeomError,
    "min_rate",
)
case(
    "sampled/spline2d-analytic",
    lambda: SRM(estimator="spline2d", estimator_params={}),
    NeurogeomError,
)
case(
    "sampled/poisson-negative-rates",
    lambda: ng.SampledResponseMap(
        sampled_data()[0], sampled_data()[1] - 100, noise="poisson"
    ).metric(np.full((1, 2), 0.5)),
    OkOr(NeurogeomError),
    check=lambda g: not np.isfinite(g).all() or True,
)
case("estimators/get_estimator-unknown", lambda: ng.get_estimator("nope"), NeurogeomError, "nope")
case(
    "estimators/get_estimator-bad-param",
    lambda: ng.get_estimator("local_linear", wiggle=3),
    NeurogeomError,
    "wiggle",
)
case(
    "estimators/available",
    lambda: ng.available_estimators(),
    OK,
    check=lambda names: "local_linear" in names,
)

# simulate
case(
    "simulate/VonMisesRing-0-neurons", lambda: simulate.VonMisesRing(0), NeurogeomError, "n_neurons"
)
case(
    "simulate/VonMisesRing-negative-neurons",
    lambda: simulate.VonMisesRing(-3),
    NeurogeomError,
    "n_neurons",
)
case(
    "simulate/VonMisesRing-nan-kappa",
    lambda: simulate.VonMisesRing(8, kappa=float("nan")),
    NeurogeomError,
    "kappa",
)
case(
    "simulate/PlaceFields-1d-centers",
    lambda: simulate.PlaceFields(np.zeros(3), 0.1),
    ShapeError,
    "centers",
)
case(
    "simulate/PlaceFields-width-0",
    lambda: simulate.PlaceFields(np.zeros((3, 2)), 0.0),
    NeurogeomError,
    "width",
)
case(
    "simulate/PlaceFields-width-negative",
    lambda: simulate.PlaceFields(np.zeros((3, 2)), -0.1),
    NeurogeomError,
    "width",
)
case(
    "simulate/PlaceFields-bad-bounds",
    lambda: simulate.PlaceFields(np.zeros((3, 2)), 0.1, bounds=[0, 1, 2]),
    ShapeError,
    "bounds",
)
case(
    "simulate/PlaceFields-lattice-spacing-0",
    lambda: simulate.PlaceFields.lattice(2, 0.0, (0.0, 1.0), 0.1),
    NeurogeomError,
    "spacing",
)
case(
    "simulate/GridCells-phases-2",
    lambda: simulate.GridCells(phases_per_side=2),
    NeurogeomError,
    "phases_per_side",
)
case(
    "simulate/GridCells-spacing-0",
    lambda: simulate.GridCells(spacings=(0.0,)),
    NeurogeomError,
    "spacing",
)
case(
    "simulate/RandomFeatures-d-0", lambda: simulate.RandomFeatures(0, 10), NeurogeomError, r"\bd\b"
)
case(
    "simulate/LinearPopulation-1d-weights",
    lambda: simulate.LinearPopulation(np.ones(3)),
    ShapeError,
    "weights",
)
case(
    "simulate/mean-wrong-shape", lambda: simulate.VonMisesRing(8).mean(np.zeros((2, 2))), ShapeError
)
case(
    "simulate/mean-nan", lambda: simulate.VonMisesRing(8).mean(np.array([[np.nan]])), NonFiniteError
)
case(
    "simulate/sample-repetitions-0",
    lambda: simulate.VonMisesRing(8).sample(np.zeros((2, 1)), 0),
    NeurogeomError,
    "repetitions",
)
case(
    "simulate/sample-bad-noise-name",
    lambda: simulate.VonMisesRing(8).sample(np.zeros((2, 1)), 2, noise="gauss"),
    NeurogeomError,
    "noise",
)
case(
    "simulate/sample-negative-sd",
    lambda: simulate.VonMisesRing(8).sample(np.zeros((2, 1)), 2, noise=-1.0),
    NeurogeomError,
    "noise|sd",
)
case(
    "simulate/sample-nan-sd",
    lambda: simulate.VonMisesRing(8).sample(np.zeros((2, 1)), 2, noise=float("nan")),
    NeurogeomError,
    "noise|sd",
)
case(
    "simulate/sample-cov-wrong-shape",
    lambda: simulate.VonMisesRing(8).sample(np.zeros((2, 1)), 2, noise=np.eye(3)),
    ShapeError,
)
case(
    "simulate/sample-cov-indefinite",
    lambda: simulate.VonMisesRing(8).sample(np.zeros((2, 1)), 2, noise=-np.eye(8)),
    NotPositiveSemidefiniteError,
)
case(
    "simulate/sample-poisson-negative-rates",
    lambda: simulate.LinearPopulation(np.ones((2, 1))).sample(np.array([[-1.0]]), 2),
    NeurogeomError,
    "rate|baseline",
)
case(
    "simulate/uniform-margin-too-large",
    lambda: simulate.VonMisesRing(8).uniform_stimuli(5, margin=10.0),
    NeurogeomError,
    "margin",
)
case(
    "simulate/uniform-negative-m",
    lambda: simulate.VonMisesRing(8).uniform_stimuli(-1),
    NeurogeomError,
)
case(
    "simulate/fisher-bad-noise",
    lambda: simulate.VonMisesRing(8).fisher_information(np.zeros((1, 1)), noise="gauss"),
    NeurogeomError,
    "noise",
)
case(
    "simulate/von_mises_metric-negative-n",
    lambda: simulate.von_mises_metric(-4, 1.0, 2.0),
    NeurogeomError,
    "n_neurons",
)
case(
    "simulate/place_field_metric-d-0",
    lambda: simulate.place_field_metric(1.0, 1.0, 0.1, 0),
    NeurogeomError,
    r"\bd\b",
)

# --------------------------------------------------------------------------------------
# readers of recordings
# --------------------------------------------------------------------------------------


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


def _npz(tmp: Path, **arrays: Any) -> Path:
    p = tmp / "rec.npz"
    np.savez(p, **arrays)
    return p


def _nc(tmp: Path, ds: xr.Dataset, name: str = "rec.nc") -> Path:
    p = tmp / name
    ds.to_netcdf(p)
    return p


def _truncated(p: Path) -> Path:
    data = p.read_bytes()
    return _write(p, data[: len(data) // 2])


def _rec_ds():
    return xr.Dataset(
        {
            "stimuli": ("presentation", np.arange(3.0)),
            "responses": (("presentation", "neuroid"), np.ones((3, 2))),
        }
    )


case(
    "read_arrays/ok",
    lambda t: (
        ng.read_arrays(_npz(t, stimuli=np.arange(4.0), responses=np.ones((4, 3)))).responses.shape
    ),
    OK,
    check=lambda s: s == (4, 3),
    tmp=True,
)
case(
    "read_arrays/missing",
    lambda t: ng.read_arrays(t / "nope.npz"),
    DataNotFoundError,
    "nope",
    tmp=True,
)
case(
    "read_arrays/empty-file",
    lambda t: ng.read_arrays(_write(t / "e.npz", b"")),
    DataFormatError,
    tmp=True,
)
case(
    "read_arrays/corrupt",
    lambda t: ng.read_arrays(_write(t / "c.npz", b"PK\x03\x04garbage" * 10)),
    DataFormatError,
    tmp=True,
)
case(
    "read_arrays/text-file",
    lambda t: ng.read_arrays(_write(t / "c.txt", b"stimuli,responses\n1,2\n")),
    DataFormatError,
    tmp=True,
)
case(
    "read_arrays/truncated",
    lambda t: ng.read_arrays(
        _truncated(_npz(t, stimuli=np.arange(400.0), responses=np.ones((400, 30))))
    ),
    DataFormatError,
    tmp=True,
)
case(
    "read_arrays/wrong-keys",
    lambda t: ng.read_arrays(_npz(t, x=np.ones(3), y=np.ones(3))),
    DataFormatError,
    "stimuli",
    tmp=True,
)
case(
    "read_arrays/netcdf-file",
    lambda t: ng.read_arrays(_nc(t, _rec_ds())),
    DataFormatError,
    tmp=True,
)
case(
    "read_arrays/length-mismatch",
    lambda t: ng.read_arrays(_npz(t, stimuli=np.arange(4.0), responses=np.ones((5, 3)))),
    ShapeError,
    tmp=True,
)
case(
    "read_arrays/responses-0d",
    lambda t: ng.read_arrays(_npz(t, stimuli=np.arange(4.0), responses=np.float64(1.0))),
    ShapeError,
    "responses",
    tmp=True,
)
case(
    "read_arrays/object-dtype",
    lambda t: ng.read_arrays(
        _npz(t, stimuli=np.array([{}, {}], dtype=object), responses=np.ones((2, 3)))
    ),
    DataFormatError,
    tmp=True,
)
case(
    "read_arrays/string-stimuli",
    lambda t: ng.read_arrays(_npz(t, stimuli=np.array(["a", "b"]), responses=np.ones((2, 3)))),
    DataFormatError,
    tmp=True,
)
case(
    "read_arrays/folder-missing-files",
    lambda t: ng.read_arrays(t),
    DataNotFoundError,
    "stimuli",
    tmp=True,
)
case(
    "read_arrays/folder-corrupt-npy",
    lambda t: (
        _write(t / "stimuli.npy", b"junk"),
        _write(t / "responses.npy", b"junk"),
        ng.read_arrays(t),
    )[-1],
    DataFormatError,
    tmp=True,
)

case(
    "read_netcdf/ok",
    lambda t: ng.read_netcdf(_nc(t, _rec_ds())).responses.shape,
    OK,
    check=lambda s: s == (3, 2),
    tmp=True,
)
case(
    "read_netcdf/missing",
    lambda t: ng.read_netcdf(t / "nope.nc"),
    DataNotFoundError,
    "nope",
    tmp=True,
)
case(
    "read_netcdf/empty-file",
    lambda t: ng.read_netcdf(_write(t / "e.nc", b"")),
    DataFormatError,
    tmp=True,
)
case(
    "read_netcdf/corrupt",
    lambda t: ng.read_netcdf(_write(t / "c.nc", b"\x89HDF\r\n\x1a\n" + b"\x00garbage" * 50)),
    DataFormatError,
    tmp=True,
)
case(
    "read_netcdf/truncated",
    lambda t: ng.read_netcdf(_truncated(_nc(t, _rec_ds()))),
    DataFormatError,
    tmp=True,
)
case(
    "read_netcdf/npz-file",
    lambda t: ng.read_netcdf(_npz(t, stimuli=np.arange(4.0), responses=np.ones((4, 3)))),
    DataFormatError,
    tmp=True,
)
case("read_netcdf/a-directory", lambda t: ng.read_netcdf(t), DataFormatError, tmp=True)
case(
    "read_netcdf/no-such-variable",
    lambda t: ng.read_netcdf(_nc(t, _rec_ds()), responses="rates"),
    DataFormatError,
    "rates",
    tmp=True,
)
case(
    "read_netcdf/wrong-dims",
    lambda t: ng.read_netcdf(
        _nc(
            t,
            xr.Dataset(
                {
                    "stimuli": ("presentation", np.arange(3.0)),
                    "responses": (("time", "cell"), np.ones((3, 2))),
                }
            ),
        )
    ),
    (DataFormatError, ShapeError),
    "dim|presentation",
    tmp=True,
)
case(
    "read_netcdf/length-mismatch",
    lambda t: ng.read_netcdf(
        _nc(
            t,
            xr.Dataset(
                {
                    "stimuli": ("trial", np.arange(4.0)),
                    "responses": (("presentation", "neuroid"), np.ones((3, 2))),
                }
            ),
        )
    ),
    (DataFormatError, ShapeError),
    tmp=True,
)

case(
    "read_nwb/missing",
    lambda t: ng.read_nwb(t / "nope.nwb", "orientation"),
    DataNotFoundError,
    "nope",
    tmp=True,
)
case(
    "read_nwb/empty-file",
    lambda t: ng.read_nwb(_write(t / "e.nwb", b""), "orientation"),
    DataFormatError,
    tmp=True,
)
case(
    "read_nwb/corrupt",
    lambda t: ng.read_nwb(
        _write(t / "c.nwb", b"\x89HDF\r\n\x1a\n" + b"\x00garbage" * 50), "orientation"
    ),
    DataFormatError,
    tmp=True,
)
case(
    "read_nwb/netcdf-not-nwb",
    lambda t: ng.read_nwb(_nc(t, _rec_ds(), "r.nwb"), "orientation"),
    DataFormatError,
    tmp=True,
)
case(
    "read_nwb/npz-file",
    lambda t: ng.read_nwb(
        _npz(t, stimuli=np.arange(4.0), responses=np.ones((4, 3))), "orientation"
    ),
    DataFormatError,
    tmp=True,
)
case(
    "read_nwb/bad-window",
    lambda t: ng.read_nwb(t / "nope.nwb", "orientation", window=(1.0, 0.0)),
    (DataNotFoundError, NeurogeomError),
    tmp=True,
)
case(
    "recording/mismatched",
    lambda: ng.Recording(np.zeros((3, 1)), np.zeros((4, 2)), ("s",), np.arange(2)),
    ShapeError,
)

# --------------------------------------------------------------------------------------
# files: save / load, zarr
# --------------------------------------------------------------------------------------


def _readonly_dir(tmp: Path) -> Path:
    d = tmp / "ro"
    d.mkdir()
    d.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return d


def _file_as_parent(tmp: Path) -> Path:
    f = tmp / "plain-file"
    f.write_text("x")
    return f / "sub" / "out.nc"


def _saved(tmp: Path) -> Path:
    return ng.save(grid_ds(), tmp / "g.nc")


case(
    "save/ok-roundtrip",
    lambda t: ng.load(_saved(t)).log_volume_element.values,
    OK,
    check=same_as(lambda: grid_ds().log_volume_element.values),
    tmp=True,
)
case("save/to-a-directory", lambda t: ng.save(grid_ds(), t), NeurogeomError, tmp=True)
case(
    "save/parent-is-a-file",
    lambda t: ng.save(grid_ds(), _file_as_parent(t)),
    NeurogeomError,
    tmp=True,
)
# as root the folder stays writable, and a written file is a correct result
case(
    "save/read-only-folder",
    lambda t: ng.save(grid_ds(), _readonly_dir(t) / "g.nc"),
    OK if os.geteuid() == 0 else NeurogeomError,
    tmp=True,
)
case(
    "save/unsavable-variable",
    lambda t: ng.save(xr.Dataset({"x": ("t", np.array([{}, {"a": 1}], dtype=object))}), t / "u.nc"),
    NeurogeomError,
    r"\bx\b",
    tmp=True,
)
case(
    "save/unsavable-attr",
    lambda t: ng.save(
        xr.Dataset({"x": ("t", np.arange(2.0))}, attrs={"cfg": {"a": 1}}), t / "u.nc"
    ),
    NeurogeomError,
    "cfg",
    tmp=True,
)
case(
    "save/not-a-dataset",
    lambda t: ng.save(np.zeros(3), t / "a.nc"),
    NeurogeomError,
    "Dataset",
    tmp=True,
)
case("load/missing", lambda t: ng.load(t / "nope.nc"), DataNotFoundError, "nope", tmp=True)
case("load/truncated", lambda t: ng.load(_truncated(_saved(t))), DataFormatError, tmp=True)
case("load/empty-file", lambda t: ng.load(_write(t / "e.nc", b"")), DataFormatError, tmp=True)
case(
    "load/not-netcdf",
    lambda t: ng.load(_write(t / "t.nc", b"hello, world\n" * 20)),
    DataFormatError,
    tmp=True,
)
case("load/a-directory", lambda t: ng.load(t), DataFormatError, tmp=True)
case(
    "load/non-neurogeom-netcdf",
    lambda t: ng.load(_nc(t, _rec_ds())),
    OkOr(DataFormatError),
    tmp=True,
)


def _zarr_store(tmp: Path) -> Path:
    lazy = lazy_geometry(rm(), small_grid(), block_size=4)
    return save_zarr(lazy, tmp / "g.zarr")


def _delete_chunk(store: Path) -> Path:
    chunks = sorted(
        p for p in (store / "log_volume_element").iterdir() if not p.name.startswith(".")
    )
    chunks[0].unlink()
    return store


case(
    "zarr/ok-roundtrip",
    lambda t: load_zarr(_zarr_store(t)).log_volume_element.values,
    OK,
    check=same_as(lambda: grid_ds().log_volume_element.values),
    tmp=True,
)
case(
    "zarr/save-existing",
    lambda t: save_zarr(grid_ds(), _zarr_store(t)),
    NeurogeomError,
    "exist",
    tmp=True,
)
case(
    "zarr/save-bad-mode",
    lambda t: save_zarr(grid_ds(), t / "m.zarr", mode="a"),
    NeurogeomError,
    "mode",
    tmp=True,
)
case(
    "zarr/save-parent-is-file",
    lambda t: save_zarr(grid_ds(), _file_as_parent(t).with_suffix(".zarr")),
    NeurogeomError,
    tmp=True,
)
case(
    "zarr/save-not-a-dataset",
    lambda t: save_zarr(np.zeros(3), t / "a.zarr"),
    NeurogeomError,
    "Dataset",
    tmp=True,
)
case("zarr/load-missing", lambda t: load_zarr(t / "nope.zarr"), DataNotFoundError, "nope", tmp=True)
case("zarr/load-empty-folder", lambda t: load_zarr(t), DataFormatError, tmp=True)
case(
    "zarr/load-a-file",
    lambda t: load_zarr(_write(t / "f.zarr", b"not a store")),
    DataFormatError,
    tmp=True,
)
case("zarr/load-netcdf", lambda t: load_zarr(_saved(t)), DataFormatError, tmp=True)
case(
    "zarr/deleted-chunk",
    lambda t: load_zarr(_delete_chunk(_zarr_store(t))).log_volume_element.values,
    DataFormatError,
    "chunk|missing",
    tmp=True,
)
case(
    "scale/lazy-block_size-0",
    lambda: lazy_geometry(rm(), small_grid(), block_size=0),
    NeurogeomError,
    "block_size",
)

# --------------------------------------------------------------------------------------
# compare and pipelines
# --------------------------------------------------------------------------------------


@cached
def line_ds() -> xr.Dataset:
    return ng.geometry(rm(), ng.Line(_a, _b, steps=4))


@cached
def grid3_ds() -> xr.Dataset:
    return ng.geometry(rm(), ng.Grid([(-1, 1)] * 3, resolution=3))


case("compare/ok", lambda: ng.compare(grid_ds(), grid_ds(), n_permutations=9, n_bootstrap=9), OK)
case(
    "compare/grid-vs-line",
    lambda: ng.compare(grid_ds(), line_ds(), n_permutations=9, n_bootstrap=9),
    ShapeError,
    "dim",
)
case(
    "compare/different-resolution",
    lambda: ng.compare(grid_ds(), grid3_ds(), n_permutations=9, n_bootstrap=9),
    ShapeError,
)
case("compare/not-a-dataset", lambda: ng.compare(grid_ds(), np.zeros(3)), NeurogeomError, "Dataset")
case(
    "compare/level=1.5",
    lambda: ng.compare(grid_ds(), grid_ds(), level=1.5, n_permutations=9, n_bootstrap=9),
    NeurogeomError,
    "level",
)
case(
    "compare/n_permutations=-1",
    lambda: ng.compare(grid_ds(), grid_ds(), n_permutations=-1, n_bootstrap=9),
    NeurogeomError,
    "n_permutations",
)
case(
    "compare/missing-variable",
    lambda: ng.compare(
        grid_ds().drop_vars("log_volume_element"), grid_ds(), n_permutations=9, n_bootstrap=9
    ),
    NeurogeomError,
    "log_volume_element",
)
case(
    "compare/unknown-layer",
    lambda: ng.compare(grid_ds(), grid_ds(), layer_a="nope", n_permutations=9, n_bootstrap=9),
    (LayerError, NeurogeomError),
    "nope",
)
case(
    "correlation_test/length-mismatch",
    lambda: ng.correlation_test(np.arange(5.0), np.arange(6.0), n_permutations=9, n_bootstrap=9),
    ShapeError,
)
case(
    "correlation_test/nan",
    lambda: ng.correlation_test(
        np.array([1.0, np.nan, 3.0, 4.0]), np.arange(4.0), n_permutations=9, n_bootstrap=9
    ),
    OkOr(NonFiniteError),
)
case(
    "correlation_test/bad-method",
    lambda: ng.correlation_test(np.arange(5.0), np.arange(5.0), method="kendall-ish"),
    NeurogeomError,
    "method",
)
case(
    "correlation_test/constant",
    lambda: ng.correlation_test(np.ones(5), np.arange(5.0), n_permutations=9, n_bootstrap=9),
    OkOr(NeurogeomError),
)
case(
    "correlation_test/two-points",
    lambda: ng.correlation_test(np.arange(2.0), np.arange(2.0), n_permutations=9, n_bootstrap=9),
    OkOr((InsufficientSamplesError, ShapeError)),
)
case(
    "affine_invariant_distance/shape-mismatch",
    lambda: ng.affine_invariant_distance(spd(3, 2), spd(3, 3)),
    ShapeError,
)
case(
    "affine_invariant_distance/singular",
    lambda: ng.affine_invariant_distance(np.zeros((1, 2, 2)), spd(1, 2)),
    (SingularMetricError, NotPositiveSemidefiniteError),
)
case(
    "affine_invariant_distance/nan",
    lambda: ng.affine_invariant_distance(np.full((1, 2, 2), np.nan), spd(1, 2)),
    NonFiniteError,
)
case(
    "affine_invariant_distance/regularize-negative",
    lambda: ng.affine_invariant_distance(spd(), spd(), regularize=-1.0),
    NeurogeomError,
    "regularize",
)
case(
    "log_euclidean_distance/non-symmetric",
    lambda: ng.log_euclidean_distance(np.array([[[2.0, 1.0], [0.0, 2.0]]]), spd(1, 2)),
    NotPositiveSemidefiniteError,
)
case(
    "principal_agreement/n_directions=0",
    lambda: ng.principal_agreement(spd(), spd(), n_directions=0),
    NeurogeomError,
    "n_directions",
)
case(
    "principal_agreement/n_directions>d",
    lambda: ng.principal_agreement(spd(), spd(), n_directions=3),
    NeurogeomError,
    "n_directions",
)

case(
    "NetworkGeometry/ok",
    lambda: ng.NetworkGeometry(net(), layers="1").fit(X3()).transform(X3()).shape,
    OK,
    check=lambda s: s[0] == 5,
)
case(
    "NetworkGeometry/no-model",
    lambda: ng.NetworkGeometry().fit(X3()).transform(X3()),
    NeurogeomError,
    "model",
)
case(
    "NetworkGeometry/bad-feature",
    lambda: ng.NetworkGeometry(net(), features=("bogus",)).fit(X3()).transform(X3()),
    NeurogeomError,
    "bogus",
)
case(
    "NetworkGeometry/rank=-1",
    lambda: ng.NetworkGeometry(net(), rank=-1).fit(X3()).transform(X3()),
    NeurogeomError,
    "rank",
)
case(
    "NetworkGeometry/scale=bogus",
    lambda: ng.NetworkGeometry(net(), scale="bogus").fit(X3()).transform(X3()),
    NeurogeomError,
    "scale",
)
case(
    "NetworkGeometry/dtype=int8",
    lambda: ng.NetworkGeometry(net(), dtype="int8").fit(X3()).transform(X3()),
    NeurogeomError,
    "dtype",
)
case(
    "NetworkGeometry/dtype=bogus",
    lambda: ng.NetworkGeometry(net(), dtype="float99").fit(X3()).transform(X3()),
    NeurogeomError,
    "dtype",
)
case(
    "NetworkGeometry/missing-layer",
    lambda: ng.NetworkGeometry(net(), layers="nope").fit(X3()).transform(X3()),
    LayerError,
    "nope",
)
case(
    "NetworkGeometry/wrong-X-shape",
    lambda: ng.NetworkGeometry(net()).fit(X3()).transform(np.zeros((2, 4))),
    ShapeError,
)
case(
    "NetworkGeometry/stimulus_shape-mismatch",
    lambda: ng.NetworkGeometry(net(), stimulus_shape=(2, 2)).fit(X3()).transform(X3()),
    ShapeError,
    "stimulus_shape",
)
case(
    "NetworkGeometry/nan-X",
    lambda: ng.NetworkGeometry(net()).fit(X3()).transform(np.full((1, 3), np.nan)),
    NonFiniteError,
)
case(
    "SampledGeometry/ok",
    lambda: (
        ng.SampledGeometry(bandwidth=0.5).fit(*sampled_2d()).transform(np.full((2, 2), 0.5)).shape
    ),
    OK,
    check=lambda s: s[0] == 2,
)
case(
    "SampledGeometry/responses-3d",
    lambda: ng.SampledGeometry(bandwidth=0.5).fit(*sampled_data()),
    OkOr(ShapeError),
)
case(
    "SampledGeometry/bad-estimator",
    lambda: ng.SampledGeometry(estimator="nope").fit(*sampled_2d()),
    NeurogeomError,
    "nope",
)
case(
    "SampledGeometry/bandwidth=-1",
    lambda: ng.SampledGeometry(bandwidth=-1.0).fit(*sampled_2d()),
    NeurogeomError,
    "bandwidth",
)
case(
    "SampledGeometry/bandwidth=nan",
    lambda: ng.SampledGeometry(bandwidth=float("nan")).fit(*sampled_2d()),
    NeurogeomError,
    "bandwidth",
)
case(
    "SampledGeometry/correction=bogus",
    lambda: ng.SampledGeometry(correction="bogus").fit(*sampled_2d()),
    NeurogeomError,
    "correction",
)
case(
    "SampledGeometry/on_invalid=bogus",
    lambda: ng.SampledGeometry(on_invalid="bogus").fit(*sampled_2d()),
    NeurogeomError,
    "on_invalid",
)
case(
    "SampledGeometry/n_bootstrap=-1",
    lambda: ng.SampledGeometry(n_bootstrap=-1).fit(*sampled_2d()),
    NeurogeomError,
    "n_bootstrap",
)
case(
    "SampledGeometry/length-mismatch",
    lambda: ng.SampledGeometry(bandwidth=0.5).fit(sampled_2d()[0][:10], sampled_2d()[1]),
    ShapeError,
)
case(
    "SampledGeometry/transform-before-fit",
    lambda: ng.SampledGeometry().transform(np.zeros((1, 2))),
    NeurogeomError,
    "fit",
)
case(
    "SampledGeometry/transform-outside",
    lambda: ng.SampledGeometry(bandwidth=0.5).fit(*sampled_2d()).transform(np.full((1, 2), 9.0)),
    OutOfDomainError,
)

case(
    "run_experiment/unknown",
    lambda t: run_experiment("nope", out=t),
    NeurogeomError,
    "nope",
    tmp=True,
)
case(
    "run_experiment/unknown-setting",
    lambda t: run_experiment("toy", config={"epochz": 1}, out=t),
    NeurogeomError,
    "epochz",
    tmp=True,
)

# --------------------------------------------------------------------------------------
# the parametrised test
# --------------------------------------------------------------------------------------

_ids = [c.id for c in CASES]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})


@pytest.mark.parametrize("c", CASES, ids=_ids)
def test_api_bad_input(c: Case, tmp_path: Path) -> None:
    try:
        assert_clean_outcome(lambda: c.fn(tmp_path), c.expect, words=c.words, check=c.check)
    finally:
        for p in tmp_path.rglob("*"):  # let pytest clean up read-only folders
            if p.is_dir():
                p.chmod(stat.S_IRWXU)


# --------------------------------------------------------------------------------------
# the command line: exit code 2, one line on stderr naming the setting, no traceback
# --------------------------------------------------------------------------------------

_FAST_DEMO = ["--width", "3", "--resolution", "4", "--epochs", "1"]
_TINY_TOY = 'epochs = 1\nseeds = [0]\nwidths = [3]\nn_points = 20\ngrid_resolution = 4\nstages = ["start", "end"]\nprogress = false\n'


def _cfg(tmp: Path, text: str) -> str:
    p = tmp / "cfg.toml"
    p.write_text(text)
    return str(p)


def _override(base: str, key: str, value: str) -> str:
    lines = [ln for ln in base.splitlines() if not ln.startswith(f"{key} ")]
    return "\n".join([*lines, f"{key} = {value}", ""])


CLI_CASES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    (
        "demo/epochs=0",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--epochs", "0"],
        "epochs",
    ),
    (
        "demo/epochs=-5",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--epochs", "-5"],
        "epochs",
    ),
    (
        "demo/epochs=nan",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--epochs", "nan"],
        "epochs",
    ),
    (
        "demo/epochs=1.5",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--epochs", "1.5"],
        "epochs",
    ),
    (
        "demo/width=-1",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--width", "-1"],
        "width",
    ),
    (
        "demo/width=0",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--width", "0"],
        "width",
    ),
    (
        "demo/resolution=0",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--resolution", "0"],
        "resolution",
    ),
    (
        "demo/resolution=-3",
        lambda t: ["demo", "--out", str(t / "o"), *_FAST_DEMO, "--resolution", "-3"],
        "resolution",
    ),
    (
        "demo/out-under-a-file",
        lambda t: ["demo", "--out", str(_file_as_parent(t).parent), *_FAST_DEMO],
        "out|plain-file",
    ),
    ("demo/unknown-flag", lambda t: ["demo", "--epok", "3"], "epok"),
    ("run/unknown-experiment", lambda t: ["run", "nope"], "nope"),
    ("run/no-experiment", lambda t: ["run"], "experiment"),
    ("unknown-command", lambda t: ["frobnicate"], "frobnicate"),
    (
        "run/config-missing",
        lambda t: ["run", "toy", "--config", str(t / "nope.toml"), "--out", str(t)],
        "nope.toml|config",
    ),
    (
        "run/config-is-a-directory",
        lambda t: ["run", "toy", "--config", str(t), "--out", str(t)],
        "config",
    ),
    (
        "run/config-invalid-toml",
        lambda t: ["run", "toy", "--config", _cfg(t, "epochs = = 3\n[[["), "--out", str(t)],
        "config|toml",
    ),
    (
        "run/config-binary",
        lambda t: [
            "run",
            "toy",
            "--config",
            str(_write(t / "b.toml", b"\xff\xfe\x00\x01")),
            "--out",
            str(t),
        ],
        "config|toml",
    ),
    (
        "run/config-unknown-key",
        lambda t: ["run", "toy", "--config", _cfg(t, _TINY_TOY + "epochz = 3\n"), "--out", str(t)],
        "epochz",
    ),
    (
        "run/config-epochs-string",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "epochs", '"ten"')),
            "--out",
            str(t),
        ],
        "epochs",
    ),
    (
        "run/config-epochs-negative",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "epochs", "-1")),
            "--out",
            str(t),
        ],
        "epochs",
    ),
    (
        "run/config-epochs-nan",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "epochs", "nan")),
            "--out",
            str(t),
        ],
        "epochs",
    ),
    (
        "run/config-widths-empty",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "widths", "[]")),
            "--out",
            str(t),
        ],
        "widths",
    ),
    (
        "run/config-widths-not-list",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "widths", '"wide"')),
            "--out",
            str(t),
        ],
        "widths",
    ),
    (
        "run/config-widths-strings",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "widths", '["a"]')),
            "--out",
            str(t),
        ],
        "widths",
    ),
    (
        "run/config-seeds-empty",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "seeds", "[]")),
            "--out",
            str(t),
        ],
        "seeds",
    ),
    (
        "run/config-stages-bogus",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "stages", '["sometime"]')),
            "--out",
            str(t),
        ],
        "stages|sometime",
    ),
    (
        "run/config-grid_resolution-0",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "grid_resolution", "0")),
            "--out",
            str(t),
        ],
        "grid_resolution",
    ),
    (
        "run/config-task-bogus",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "task", '"spiral"')),
            "--out",
            str(t),
        ],
        "task|spiral",
    ),
    (
        "run/config-lr-bool",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _override(_TINY_TOY, "lr", "true")),
            "--out",
            str(t),
        ],
        r"\blr\b",
    ),
    (
        "run/out-under-a-file",
        lambda t: [
            "run",
            "toy",
            "--config",
            _cfg(t, _TINY_TOY),
            "--out",
            str(_file_as_parent(t).parent),
        ],
        "out|plain-file",
    ),
    (
        "run/mnist-line-bad-data-dir",
        lambda t: ["run", "mnist-line", "--data", str(t / "no-mnist"), "--out", str(t)],
        "data|no-mnist|mnist",
    ),
]


@pytest.mark.parametrize(
    "argv_for, setting", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_cli_bad_settings(
    argv_for: Callable[[Path], list[str]],
    setting: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = argv_for(tmp_path)
    try:
        code = cli_main(argv)
    except SystemExit as exc:  # argparse's refusals
        code = exc.code
    except BaseException as err:
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        pytest.fail(f"raw {type(err).__module__}.{type(err).__name__} escaped the CLI: {first}")
    err_text = capsys.readouterr().err
    assert code == 2, f"exit code {code!r}, expected 2; stderr: {err_text[-300:]!r}"
    assert "Traceback" not in err_text, err_text[-500:]
    lines = [ln for ln in err_text.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    assert len(errors) == 1, f"expected one error line on stderr, got: {err_text[-500:]!r}"
    assert re.search(setting, errors[0], flags=re.IGNORECASE), (
        f"stderr does not name {setting!r}: {errors[0]!r}"
    )


def test_case_count() -> None:
    assert 150 <= len(CASES) + len(CLI_CASES) <= 450, len(CASES) + len(CLI_CASES)
