"""Pure math on Jacobians and metrics: pullback metric, volume element, spectrum."""

from .curvature import (
    Curvature,
    Extrinsic,
    curvature_from_embedding,
    curvature_from_gram,
    curvature_from_jets,
    embedding_curvature,
    embedding_geometry,
    embedding_jet,
    embedding_jets,
    extrinsic_from_embedding,
    field_curvature,
    jet_gram,
    metric_jet,
    metric_jets,
)
from .debias import positive_noise_correction, positive_resamples, resolution_weights
from .intervals import bootstrap_intervals
from .metric import pullback_metric
from .shallow import (
    ShallowParameters,
    activation_derivatives,
    shallow_log_volume,
    shallow_metric,
    shallow_parameters,
    shallow_ricci_scalar,
)
from .volume import (
    check_metric,
    check_rank,
    jacobian_spectrum,
    log_volume_element,
    log_volume_from_spectrum,
    metric_spectrum,
    relative_zero,
    spectrum_tolerance,
    volume_element,
)

__all__ = [
    "bootstrap_intervals",
    "check_metric",
    "check_rank",
    "jacobian_spectrum",
    "log_volume_element",
    "log_volume_from_spectrum",
    "metric_spectrum",
    "positive_noise_correction",
    "positive_resamples",
    "pullback_metric",
    "relative_zero",
    "resolution_weights",
    "spectrum_tolerance",
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
__all__ += [
    "Curvature",
    "Extrinsic",
    "ShallowParameters",
    "activation_derivatives",
    "curvature_from_embedding",
    "curvature_from_gram",
    "curvature_from_jets",
    "embedding_curvature",
    "embedding_geometry",
    "embedding_jet",
    "embedding_jets",
    "extrinsic_from_embedding",
    "field_curvature",
    "jet_gram",
    "metric_jet",
    "metric_jets",
    "shallow_log_volume",
    "shallow_metric",
    "shallow_parameters",
    "shallow_ricci_scalar",
]
