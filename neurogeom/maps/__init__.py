"""Response maps: the common interface over networks and sampled recordings."""

from .base import Measurement, ResponseMap
from .sampled import SampledResponseMap
from .torch import TorchResponseMap

__all__ = ["Measurement", "ResponseMap", "SampledResponseMap", "TorchResponseMap"]
