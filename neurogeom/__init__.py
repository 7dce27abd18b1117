"""neurogeom: Riemannian geometry of neural representations."""

from . import errors
from ._version import __version__
from .curvature import christoffel_symbols, curvature_tensors, ricci_tensor, scalar_curvature
from .dataset import load, save
from .errors import NeurogeomError
from .geometry import (
    check_metric,
    log_volume_element,
    metric_spectrum,
    pullback_metric,
    volume_element,
)
from .maps import ResponseMap, TorchResponseMap
from .measure import geometry
from .slices import Grid, Line, Plane, Points, Slice

__all__ = [
    "Grid",
    "Line",
    "NeurogeomError",
    "Plane",
    "Points",
    "ResponseMap",
    "Slice",
    "TorchResponseMap",
    "__version__",
    "check_metric",
    "errors",
    "geometry",
    "load",
    "log_volume_element",
    "metric_spectrum",
    "pullback_metric",
    "save",
    "volume_element",
]

from . import estimators, simulate
from .estimators import available_estimators, get_estimator
from .geometry import MetricOperator, iterative_log_volume, stochastic_logdet, top_eigenvalues
from .maps import SampledResponseMap

__all__ += ["MetricOperator", "iterative_log_volume", "stochastic_logdet", "top_eigenvalues"]
__all__ += ["christoffel_symbols", "curvature_tensors", "ricci_tensor", "scalar_curvature"]
__all__ += [
    "SampledResponseMap",
    "available_estimators",
    "estimators",
    "get_estimator",
    "simulate",
]

from .experiments import run_experiment  # noqa: E402

__all__ += ["run_experiment"]

from . import compare as comparison  # noqa: E402
from .compare import (  # noqa: E402
    affine_invariant_distance,
    compare,
    correlation_test,
    log_euclidean_distance,
    principal_agreement,
)

__all__ += [
    "affine_invariant_distance",
    "compare",
    "comparison",
    "correlation_test",
    "log_euclidean_distance",
    "principal_agreement",
]

from . import scale  # noqa: E402

__all__ += ["scale"]

from .pipeline import NetworkGeometry, SampledGeometry  # noqa: E402

__all__ += ["NetworkGeometry", "SampledGeometry"]

from .data.neural import Recording, read_arrays, read_netcdf, read_nwb  # noqa: E402

__all__ += ["Recording", "read_arrays", "read_netcdf", "read_nwb"]
