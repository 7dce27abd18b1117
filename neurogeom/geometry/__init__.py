"""Pure math on Jacobians and metrics: pullback metric, volume element, spectrum."""

from .intervals import bootstrap_intervals
from .metric import pullback_metric
from .volume import (
    check_metric,
    log_volume_element,
    log_volume_from_spectrum,
    metric_spectrum,
    volume_element,
)

__all__ = [
    "bootstrap_intervals",
    "check_metric",
    "log_volume_element",
    "log_volume_from_spectrum",
    "metric_spectrum",
    "pullback_metric",
    "volume_element",
]
