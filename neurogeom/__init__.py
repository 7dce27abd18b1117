"""neurogeom: Riemannian geometry of neural representations."""

from . import errors
from ._version import __version__
from .curvature import christoffel_symbols, curvature_tensors, ricci_tensor, scalar_curvature
from .errors import NeurogeomError
from .geometry import (
    check_metric,
    log_volume_element,
    metric_spectrum,
    pullback_metric,
    volume_element,
)
from .maps import ResponseMap, TorchResponseMap

__all__ = [
    "NeurogeomError",
    "ResponseMap",
    "TorchResponseMap",
    "__version__",
    "check_metric",
    "errors",
    "log_volume_element",
    "metric_spectrum",
    "pullback_metric",
    "volume_element",
]
__all__ += ["christoffel_symbols", "curvature_tensors", "ricci_tensor", "scalar_curvature"]
