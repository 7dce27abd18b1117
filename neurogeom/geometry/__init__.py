"""Pure math on Jacobians and metrics: pullback metric, volume element, spectrum."""

from .metric import pullback_metric
from .volume import (
    check_metric,
    log_volume_element,
    log_volume_from_spectrum,
    metric_spectrum,
    volume_element,
)

__all__ = [
    "check_metric",
    "log_volume_element",
    "log_volume_from_spectrum",
    "metric_spectrum",
    "pullback_metric",
    "volume_element",
]

from .iterative import (
    MetricOperator,
    iterative_log_volume,
    lanczos,
    stochastic_logdet,
    top_eigenvalues,
)

__all__ += [
    "MetricOperator",
    "iterative_log_volume",
    "lanczos",
    "stochastic_logdet",
    "top_eigenvalues",
]
